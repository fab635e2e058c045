"""`ketl review`'s options on the suggestions of a real seed article: comma-separated ids,
--accept-above, and the usage errors (through the main app, as a user types them)."""

from __future__ import annotations

from typer.testing import CliRunner

from ketl.cli import app
from ketl.stages.entities.gazetteer import Gazetteer
from ketl.stages.entities.review import pending, read_suggestions

from test_review import _run, _write_out

runner = CliRunner()


def _dataset(tmp_path):
    out = _write_out(tmp_path, _run(Gazetteer.load()))
    items = pending(read_suggestions(out), Gazetteer.load())
    assert len(items) >= 4
    return out, items


def _user_entries(out) -> Gazetteer:
    return Gazetteer.load([out / "gazetteer.user.toml"])


def test_ids_may_be_comma_separated_and_repeated(tmp_path):
    out, items = _dataset(tmp_path)
    a, b, c = items[0], items[1], items[2]
    res = runner.invoke(app, ["review", "--out", str(out), "--accept", f"{a.id},{b.id}", "--accept", a.id,
                              "-r", c.id])
    assert res.exit_code == 0, res.output
    assert "recorded 2 accepted and 1 rejected" in " ".join(res.output.split())  # a once, however often named
    gaz = _user_entries(out)
    assert a.span in gaz.find(a.canonical).corruptions and b.span in gaz.find(b.canonical).corruptions
    assert c.span in gaz.find(c.canonical).rejected


def test_accept_above_takes_every_score_at_or_over_it_except_the_rejected(tmp_path):
    out, items = _dataset(tmp_path)
    cut = sorted(it.score for it in items)[len(items) // 2]
    high = [it for it in items if it.score >= cut]
    no = high[0]
    res = runner.invoke(app, ["review", "--out", str(out), "--accept-above", str(cut), "--reject", no.id])
    assert res.exit_code == 0, res.output
    assert f"recorded {len(high) - 1} accepted and 1 rejected" in " ".join(res.output.split())
    left = {it.id for it in pending(read_suggestions(out), _user_entries(out))}
    assert left == {it.id for it in items if it.score < cut}


def test_an_id_both_accepted_and_rejected_is_a_usage_error_and_records_nothing(tmp_path):
    out, items = _dataset(tmp_path)
    res = runner.invoke(app, ["review", "--out", str(out), "--accept", items[0].id, "--reject", items[0].id])
    assert res.exit_code == 2
    assert f"error: both accepted and rejected: {items[0].id}" in res.output
    assert not (out / "gazetteer.user.toml").exists()


def test_the_listing_shows_every_pending_suggestion_up_to_the_limit(tmp_path):
    out, items = _dataset(tmp_path)
    res = runner.invoke(app, ["review", "--out", str(out), "--limit", "2"], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert f"{len(items)} pending suggestions" in res.output
    shown = [it for it in items if it.id in res.output]
    assert shown == items[:2]
