"""ketl.toml: one typed settings class per stage, one-line errors, the stage registry, config_hash."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ketl.dedup.index import ARTICLE_SETTINGS, QUOTE_SETTINGS
from ketl.document import Document
from ketl.run import batch
from ketl.settings import STAGES, ConfigError, Settings, load_settings
from ketl.stages import STAGE_NAMES
from ketl.stages import STAGES as REGISTRY

from conftest import SEEDS

# Settings().config_hash() and the hash of PINNED_TOML, computed by ketl at 1c60d71
# (before the settings became typed): stored datasets keep their hash after upgrading.
DEFAULT_HASH = "54fa3414bf710c44cded544616883bf2bf66193ec6418f7f9aa998e8aa809170"
PINNED_HASH = "72478d94771260b8c070bb3d2a6bd7a903149835d41e78ec79ec42c10630f2bf"
PINNED_TOML = """\
[ketl]
raw = "in"
out = "out"
batch_size = 50
workers = 3
skip = ["quotes"]
follow_external_links = true
max_file_bytes = 1000000

[repair]
uncurl_quotes = true
stray_script_max_share = 0.1

[boilerplate]
repeated_min_docs = 5
repeated_min_share = 0.3

[entities]
threshold = 1
canonicalize_variants = true
"""


def _config(tmp_path: Path, body: str) -> Path:
    cfg = tmp_path / "ketl.toml"
    cfg.write_text(body, encoding="utf-8")
    return cfg


def _error(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(_config(tmp_path, body))
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(tmp_path)), message
    return message


# -- config_hash ------------------------------------------------------------------------------

def test_config_hash_is_the_one_0_2_computed(tmp_path):
    assert Settings().config_hash() == DEFAULT_HASH
    s = load_settings(_config(tmp_path, PINNED_TOML))
    assert s.config_hash() == PINNED_HASH
    # the typed view converts (threshold = 1 is the float 1.0), the hash keeps what was written
    assert s.stage("entities").threshold == 1.0 and s.stages["entities"]["threshold"] == 1
    assert Settings(stages={"entities": {"threshold": 0.95}}).config_hash() != DEFAULT_HASH


# -- one-line errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("section", ["ketl", *STAGE_NAMES])
def test_an_unknown_key_in_any_table_names_table_key_and_known_keys(tmp_path, section):
    message = _error(tmp_path, f"[{section}]\nno_such_key = 1\n")
    assert "no_such_key" in message
    if section == "ketl":
        assert "batch_size" in message and "follow_external_links" in message
    else:
        assert f"[{section}]" in message
        known = [f.name for f in dataclasses.fields(Settings().stage(section).__class__)]
        assert all(name in message for name in known if name not in ("rule_files", "gazetteers"))


def test_an_unknown_key_of_a_dedup_index_names_its_sub_table(tmp_path):
    message = _error(tmp_path, "[dedup.articles]\nthreshhold = 0.5\n")
    assert "[dedup.articles]: threshhold" in message and "num_perm" in message and "threshold" in message


@pytest.mark.parametrize("body,expected", [
    ('[ketl]\nfollow_external_links = "false"\n', "[ketl] follow_external_links must be true or false, not 'false'"),
    ('[ketl]\nbatch_size = "50"\n', "[ketl] batch_size must be a whole number, not '50'"),
    ('[ketl]\nskip = "entities"\n', "[ketl] skip must be a list of strings, not 'entities'"),
    ('[ketl]\nrule_files = "mine.toml"\n', "[ketl] rule_files must be a list of strings"),
    ('[repair]\nfix_spacing = "false"\n', "[repair] fix_spacing must be true or false, not 'false'"),
    ("[repair]\nmax_rounds = 2.5\n", "[repair] max_rounds must be a whole number, not 2.5"),
    ("[boilerplate]\nclassifier = 0\n", "[boilerplate] classifier must be true or false, not 0"),
    ("[boilerplate]\nrepeated_min_docs = true\n", "[boilerplate] repeated_min_docs must be a whole number, not True"),
    ('[entities]\nthreshold = "high"\n', "[entities] threshold must be a number, not 'high'"),
    ("[quotes]\nmax_chars = 1e3\n", "[quotes] max_chars must be a whole number, not 1000.0"),
    ("[dedup.quotes]\nunit = 5\n", "[dedup.quotes] unit must be a string, not 5"),
    ("[repair]\n[repair.fix_spacing]\n", "[repair] fix_spacing must be true or false, not {}"),
    ("dedup = 3\n", "unknown setting(s) dedup"),
    ("ketl = 3\n", "[ketl] must be a table of settings, not 3"),
    ("[dedupe]\nbands = 3\n", "unknown settings table [dedupe]: use [ketl], [repair], [boilerplate], [entities], "
                              "[quotes], [dedup]"),
    ('[ketl]\nskip = ["entity"]\n', "unknown stage(s) to skip: entity (stages: repair, boilerplate, entities, "
                                    "quotes, dedup)"),
])
def test_a_wrong_type_or_name_is_one_line(tmp_path, body, expected):
    assert expected in _error(tmp_path, body)


@pytest.mark.parametrize("body,setting", [
    ('[boilerplate]\nrule_files = ["mine.toml"]\n', "rule_files"),
    ('[entities]\ngazetteers = ["names.toml"]\n', "gazetteer_files"),
])
def test_files_are_set_once_under_ketl(tmp_path, body, setting):
    # written in the stage table they were silently ignored before: now an error saying where they go
    assert f"set {setting} under [ketl] instead" in _error(tmp_path, body)


def test_settings_built_in_code_are_checked_before_the_run_too():
    with pytest.raises(ConfigError, match=r"^\[quotes\] max_paragraphs must be a whole number, not '3'$"):
        batch.check_resources(Settings(stages={"quotes": {"max_paragraphs": "3"}}))
    with pytest.raises(ConfigError, match=r"unknown settings table \[quote\]"):
        Settings(stages={"quote": {}}).validate()


# -- typed sections -----------------------------------------------------------------------------

def test_each_table_is_read_into_its_stage_settings(tmp_path):
    rules = tmp_path / "mine.toml"
    rules.write_text('[[rule]]\nid = "cta.mine"\ncategory = "cta"\npattern = "subscribe to the daily brief"\n'
                     'description = "our newsletter"\n', encoding="utf-8")
    s = load_settings(_config(tmp_path, '[ketl]\nrule_files = ["mine.toml"]\n[repair]\nuncurl_quotes = true\n'
                                        "[boilerplate]\nrepeated_min_docs = 5\n[entities]\nthreshold = 0.9\n"
                                        "[quotes]\nmax_chars = 400\n"))
    assert s.stage("repair").uncurl_quotes is True and s.stage("repair").fix_spacing is True
    assert s.stage("boilerplate").repeated_min_docs == 5
    assert s.stage("boilerplate").rule_files == (str(rules),)  # from [ketl]: one place for the files
    assert s.stage("entities").threshold == 0.9 and s.stage("quotes").max_chars == 400
    res = batch.check_resources(s)
    assert res.settings["quotes"].max_chars == 400 and res.boilerplate.repeated_min_docs == 5
    assert res.rules.match("Subscribe to the daily brief") is not None


def test_dedup_table_is_accepted_with_the_indexes_settings(tmp_path):
    s = load_settings(_config(tmp_path, "[dedup.articles]\nthreshold = 0.5\nnum_perm = 128\n"
                                        "[dedup.quotes]\nunit = \"char\"\n"))
    assert s.stage("dedup").articles == ARTICLE_SETTINGS and s.stage("dedup").quotes == QUOTE_SETTINGS
    assert Settings().stage("dedup").articles == ARTICLE_SETTINGS
    # fixed in this version: another value is refused rather than ignored
    message = _error(tmp_path, "[dedup.articles]\nthreshold = 0.7\n")
    assert "[dedup] articles.threshold = 0.7" in message and "0.5" in message


def test_every_stage_settings_class_is_frozen_with_defaults():
    for entry in REGISTRY:
        cls = entry.settings_class
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, entry.name
        defaults = cls()  # every field has a default
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(defaults, dataclasses.fields(cls)[0].name, None)


def test_classifier_settings_take_every_knob_the_boilerplate_table_shares():
    from ketl.stages.boilerplate.classifier import ClassifierSettings

    bp = Settings(stages={"boilerplate": {"length_low": 50, "bridge_max_gap": 9, "edge_run_max": 2}}).stage(
        "boilerplate")
    cfg = bp.classifier_settings()
    shared = {f.name for f in dataclasses.fields(ClassifierSettings)} & {f.name for f in dataclasses.fields(bp)}
    assert len(shared) >= 12
    assert all(getattr(cfg, name) == getattr(bp, name) for name in shared)
    assert (cfg.length_low, cfg.bridge_max_gap, cfg.edge_run_max) == (50, 9, 2)


# -- overrides ----------------------------------------------------------------------------------

def test_the_command_line_adds_files_and_skips_and_replaces_the_rest():
    s = Settings(rule_files=("a.toml",), gazetteer_files=("g.toml",), skip=("quotes",), batch_size=10)
    merged = s.with_cli(rule_files=[Path("b.toml")], gazetteer_files=[], skip=["dedup"], batch_size=None,
                        out="elsewhere", workers=2)
    assert merged.rule_files == ("a.toml", "b.toml") and merged.gazetteer_files == ("g.toml",)
    assert merged.skip == ("quotes", "dedup")
    assert (merged.batch_size, merged.out, merged.workers) == (10, "elsewhere", 2)
    assert s.with_cli(rule_files=None, skip=None) == s


# -- the registry -------------------------------------------------------------------------------

def test_one_name_per_stage_for_skip_tables_and_registry(tmp_path):
    from typer.main import get_command

    from ketl.cli.app import app

    assert STAGE_NAMES == STAGES == ("repair", "boilerplate", "entities", "quotes", "dedup")
    assert [e.step for e in REGISTRY] == ["prepare", "finish", "finish", "finish", "dedup"]
    run = get_command(app).commands["run"]
    skip_help = next(p for p in run.params if p.name == "skip").help
    assert [n for n in STAGE_NAMES if n in skip_help] == list(STAGE_NAMES)
    assert sorted(STAGE_NAMES, key=skip_help.index) == list(STAGE_NAMES)  # listed in run order
    for name in STAGE_NAMES:  # each name is a table ...
        assert load_settings(_config(tmp_path, f"[{name}]\n")).stages == {name: {}}
        Settings(skip=(name,)).validate()  # ... and a --skip value
    # ... and the prefix of the edits.stage values the stage writes
    assert all(v.split(".")[0] == e.name for e in REGISTRY for v in e.edit_stages)


def test_every_text_stage_runs_through_the_one_call_shape():
    doc = Document.from_source(doc_id="d", source_path="a.txt", source_sha256="0" * 64, source_encoding="utf-8",
                               source="Talks in Baku\n\nThe minister said: \u201c" + "word " * 30 + "\u201d\n")
    short = batch.check_resources(Settings(stages={"quotes": {"max_chars": 40}}))
    long = batch.check_resources(Settings())
    quotes = next(e for e in REGISTRY if e.name == "quotes")
    assert quotes.run([doc], long)[0].quotes  # the quote of 150 characters is found ...
    assert quotes.run([doc], short)[0].quotes == []  # ... and [quotes] reaches the stage
    for entry in REGISTRY:
        if entry.run is not None:
            assert all(isinstance(d, Document) for d in entry.run([doc], long)), entry.name


def _batch_run(tmp_path: Path, settings: Settings) -> tuple[dict, batch.BatchCounts]:
    """The Prefect-free batch steps over the seed articles; the staging tables' rows."""
    from ketl.ingest.scan import scan

    ctx = batch.RunContext(run_id="r" * 32, raw=str(SEEDS), staging=str(tmp_path / "staging"), settings=settings,
                           config_hash=settings.config_hash(), started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    Path(ctx.staging).mkdir(parents=True)
    batch.check_resources(settings)
    units = [u for u in scan(SEEDS) if u.path.endswith(".txt")]
    batch.prepare_batch(ctx, 0, units)
    pq.write_table(batch.merge_site_lines(ctx, None, [0]), ctx.work / "sitelines-active.parquet")
    counts = batch.finish_batch(ctx, 0)
    tables = {}
    for table in ("edits", "rejects"):
        files = sorted((Path(ctx.staging) / table).rglob("*.parquet"))
        tables[table] = [r for f in files for r in pq.read_table(f).to_pylist()]
    # entities wait in the work folder for the run's one part (written by the cluster + write step)
    tables["entities"] = pq.read_table(ctx.files.merged_rows("entities", 0)).to_pylist()
    tables["articles"] = pq.read_table(ctx.work / "articles-00000.parquet").to_pylist()
    return tables, counts


def test_a_run_without_the_entity_stage(tmp_path):
    full, full_counts = _batch_run(tmp_path / "full", Settings())
    skipped, counts = _batch_run(tmp_path / "skip", Settings(skip=("entities",)))
    assert any(e["stage"] == "entities" for e in full["edits"]) and full["entities"]  # the seeds need it
    assert not any(e["stage"] == "entities" for e in skipped["edits"]) and skipped["entities"] == []
    assert "entities" not in counts.stage_seconds and "entities" in full_counts.stage_seconds
    assert {"boilerplate", "quotes"} <= set(counts.stage_seconds)  # the finish step's
    assert skipped["rejects"] == [] and len(skipped["articles"]) == len(full["articles"]) == 5

    def before_entities(rows):  # repair and boilerplate run before the entity stage: unchanged
        return sorted(json.dumps({k: r[k] for k in ("doc_id", "seq", "stage", "rule", "before", "after")})
                      for r in rows if r["stage"].split(".")[0] in ("repair", "boilerplate"))
    assert before_entities(skipped["edits"]) == before_entities(full["edits"])
    assert counts.edits_by_stage == {k: v for k, v in full_counts.edits_by_stage.items() if k != "entities"}


def test_config_hash_covers_output_settings_and_file_contents(tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text("# none yet\n")
    a = Settings(rule_files=(str(rules),))
    # paths, workers and batch size do not change what is written
    assert a.config_hash() == Settings(rule_files=(str(rules),), raw="x", out="y", workers=9,
                                       batch_size=3).config_hash()
    before = a.config_hash()
    rules.write_text("# changed\n")
    assert a.config_hash() != before


def test_a_missing_or_broken_file_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(Path("/nonexistent/ketl.toml"))
    assert "invalid TOML" in _error(tmp_path, "[ketl\n")


# -- edits.stage: the names of 0.2 and the current ones read alike ------------------------------

def test_a_dataset_written_before_and_after_the_rename_reports_as_one(tmp_path):
    import pyarrow as pa

    from ketl.report.build import summarize
    from ketl.schemas import EDIT_STAGE_RENAMES, TABLES
    from ketl.store import Store, write_part

    text = next(iter(sorted(SEEDS.glob("*.txt")))).read_text(encoding="utf-8")
    out = tmp_path / "curated"
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    for run, names in (("old", ("normalize", "entity", "metadata")),
                       ("new", ("repair.normalize", "entities", "boilerplate.metadata"))):
        doc = dict(doc_id=f"d-{run}", source_path=f"{run}.txt", source_sha256="0" * 64, source_encoding="utf-8",
                   source_id=None, url=None, published=None, title=None, site=None, dateline=None,
                   reprinted_from=None, text=text, language="en", n_chars=len(text), n_edits=3,
                   near_duplicate_of=None, run_id=run, pipeline_version="0.2.0", config_hash="c" * 64,
                   processed_at=t0)
        edits = [dict(doc_id=doc["doc_id"], source_path=doc["source_path"], seq=i, stage=stage, rule=rule,
                      before=before, after=after, source_line=1, source_start=0, source_end=len(before), run_id=run)
                 for i, (stage, rule, before, after) in enumerate(zip(
                     names, ("unicode.nbsp", "entity.fuzzy", "metadata.title"),
                     ("\u00a0", "Askelan", "Title"), (" ", "Askeran", "")))]
        with Store(out) as store:
            staging = store.begin(run, full=False)
            for table, rows in (("articles", [doc]), ("edits", edits)):
                write_part(staging, table, pa.Table.from_pylist(rows, schema=TABLES[table]), f"part-{run}",
                           "2024-05-01")
            store.commit(staging)
    s = summarize(out)
    assert dict(s.stages) == {"repair.normalize": 2, "entities": 2, "boilerplate.metadata": 2}
    assert s.entity_fixes == [("Askelan", "Askeran", 2)]  # the fixes of both runs
    assert sorted(r[:2] for r in s.rules) == [("entity.fuzzy", "entities"), ("metadata.title", "boilerplate.metadata"),
                                              ("unicode.nbsp", "repair.normalize")]  # rule ids unchanged
    assert set(EDIT_STAGE_RENAMES.values()) <= {v for e in REGISTRY for v in e.edit_stages}


def test_boilerplate_and_classifier_defaults_agree():
    from ketl.stages.boilerplate.classifier import ClassifierSettings
    from ketl.stages.boilerplate.stage import BoilerplateSettings

    # the knobs both classes declare pass from one to the other; their defaults must be one
    assert BoilerplateSettings().classifier_settings() == ClassifierSettings()


def test_the_readme_lists_every_table_key_and_default():
    import importlib.util

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("settings_reference", REPO / "tools" / "settings_reference.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = tool.reference().splitlines()[2:]
    assert len(rows) > 90 and any(r.startswith("| `[dedup.articles]` | `unit` | `\"word\"` |") for r in rows)
    missing = [r.rsplit(" | ", 1)[0] for r in rows if r.rsplit(" | ", 1)[0] + " | " not in readme]
    assert missing == [], "README out of date: python tools/settings_reference.py prints the table"
    for entry in REGISTRY:
        assert f"| `{entry.name}` |" in readme  # the stage-name table
