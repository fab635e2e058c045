from pathlib import Path

import pytest

from ketl.settings import ConfigError, Settings, load_settings
from ketl.run.batch import check_resources


def test_toml_sections_and_overrides(tmp_path):
    rules = tmp_path / "my_rules.toml"
    rules.write_text('[[rule]]\nid = "cta.my_site"\ncategory = "cta"\npattern = "subscribe to the daily brief"\n'
                     'description = "our newsletter"\n')
    cfg = tmp_path / "ketl.toml"
    cfg.write_text('[ketl]\nraw = "in"\nbatch_size = 50\nrule_files = ["my_rules.toml"]\n'
                   '[boilerplate]\nrepeated_min_docs = 5\n[entities]\nthreshold = 0.9\n')
    s = load_settings(cfg)
    assert s.raw == "in" and s.batch_size == 50
    assert s.rule_files == (str(tmp_path / "my_rules.toml"),)
    assert s.stages == {"boilerplate": {"repeated_min_docs": 5}, "entities": {"threshold": 0.9}}
    res = check_resources(s)
    assert res.boilerplate.repeated_min_docs == 5 and res.entities.threshold == 0.9
    assert res.rules.match("Subscribe to the daily brief") is not None
    assert s.with_overrides(batch_size=7, raw=None).batch_size == 7


def test_config_hash_covers_output_settings_and_file_contents(tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text("# none yet\n")
    a = Settings(rule_files=(str(rules),))
    # paths, workers and batch size do not change what is written
    assert a.config_hash() == Settings(rule_files=(str(rules),), raw="x", out="y", workers=9,
                                       batch_size=3).config_hash()
    assert a.config_hash() != Settings(rule_files=(str(rules),), stages={"entities": {"threshold": 0.95}}).config_hash()
    before = a.config_hash()
    rules.write_text("# changed\n")
    assert a.config_hash() != before


@pytest.mark.parametrize("body,message", [
    ("[ketl]\nbatchsize = 3\n", "unknown setting"),
    ("[ketl\n", "invalid TOML"),
    ("[repair]\nsplit_glued = true\n", "unknown setting(s) in [repair]"),
    ("[dedupe]\nbands = 3\n", "unknown settings table [dedupe]"),
])
def test_bad_config_is_a_clear_error(tmp_path, body, message):
    cfg = tmp_path / "ketl.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        check_resources(load_settings(cfg))


def test_missing_config_file():
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(Path("/nonexistent/ketl.toml"))
