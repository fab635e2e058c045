"""ftfy's own test cases through ketl.stages.repair.stage, and the U+FFFD that marks lost bytes."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from types import SimpleNamespace

import ftfy
import pyarrow as pa
import pytest

from conftest import SHARED, shared_path
from ketl.settings import load_settings
from ketl.document import Document
from ketl.run.batch import articles_table, check_resources
from ketl.stages.repair.stage import RepairSettings, repair, repair_document, replacement_char_count
from ketl.schemas import ARTICLES

FTFY_CASES = SHARED / "bench" / "ftfy-cases"
FFFD = "\ufffd"


def _pass_cases() -> list[tuple[str, dict]]:
    cases = []
    for path in sorted(shared_path(FTFY_CASES).glob("*.json")):
        cases += [(path.name, c) for c in json.loads(path.read_text(encoding="utf-8")) if c["expect"] == "pass"]
    return cases


def _declared_hygiene(text: str) -> str:
    """What the repair stage does on purpose beyond ftfy, and nothing more: C0/C1
    controls out, odd spaces to a space, runs of spaces to one, lines trimmed.
    U+FFFD is not touched."""
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)
    text = re.sub(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]", " ", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _same(got: str, fixed: str) -> bool:
    # Curly quotes are kept on purpose (ftfy's `fixed` uncurls them).
    unquote = ftfy.fixes.uncurl_quotes
    return unquote(got) == unquote(_declared_hygiene(fixed))


def test_every_ftfy_pass_case_gives_ftfys_fixed_text():
    cases = _pass_cases()
    files = {name for name, _ in cases}
    # every file with pass cases is read: in-the-wild, language-names, negative, synthetic
    assert len(cases) == 151 and len(files) == 4, (len(cases), files)
    failures = [f"{name}: {c['label']}" for name, c in cases if not _same(repair(c["original"]).text, c["fixed"])]
    assert failures == [], "\n".join(failures)


def test_replacement_chars_of_ftfy_cases_survive_one_for_one():
    """The 14 cases whose fixed text holds U+FFFD keep every one, in place."""
    lossy = [c for _, c in _pass_cases() if FFFD in c["fixed"]]
    assert len(lossy) == 14
    for c in lossy:
        got = repair(c["original"]).text
        assert got.count(FFFD) == c["fixed"].count(FFFD), c["label"]
        # the neighbours are not glued: each U+FFFD sits between the same letters as in ftfy's text
        assert {m.group() for m in re.finditer(rf"\w?{FFFD}+\w?", got)} == \
            {m.group() for m in re.finditer(rf"\w?{FFFD}+\w?", _declared_hygiene(c["fixed"]))}, c["label"]


@pytest.mark.parametrize("original,fixed", [
    ("SlovenÄ\ufffdina", "Sloven\ufffdina"),
    ("Ð ÑƒÑ\ufffdÑ\ufffdÐºÐ¸Ð¹", "Ру\ufffd\ufffdкий"),
    ("à¤¹à¤¿à¤¨à¥\ufffdà¤¦à¥€", "हिन\ufffdदी"),
    ("Le ministre a dit qu\ufffdil partirait.", "Le ministre a dit qu\ufffdil partirait."),
    ("第二次世界大戦\ufffd後の日本", "第二次世界大戦\ufffd後の日本"),
])
def test_replacement_char_is_kept_and_repair_is_idempotent(original, fixed):
    r = repair(original)
    assert r.text == fixed
    assert repair(r.text).text == r.text
    assert not [e for e in r.edits if FFFD in e.before and FFFD not in e.after]


def test_drop_replacement_chars_removes_them_as_recorded_edits():
    src = "Line one.\nThe word Sloven\ufffdina and Ру\ufffd\ufffdкий.\n"
    doc = Document.from_source(doc_id="d", source_path="p", source_sha256="", source_encoding="utf-8", source=src)
    repair_document(doc, RepairSettings(drop_replacement_chars=True))
    assert doc.text == "Line one.\nThe word Slovenina and Рукий."
    removed = [e for e in doc.edits if e.rule == "unicode.replacement"]
    assert len(removed) == 3 and all(e.before == FFFD and e.after == "" for e in removed)
    assert all(src[e.source_start:e.source_end] == FFFD and e.source_line == 2 for e in removed)
    assert replacement_char_count(doc) == 3  # still flagged as damaged


def test_replacement_chars_are_counted_per_article():
    texts = ["Clean text, nothing lost.", "Ру\ufffd\ufffdкий and the newspaper \ufffd email.", "ItÃ¢â‚¬â„¢s ok"]
    docs = []
    for i, t in enumerate(texts):
        d = Document.from_source(doc_id=str(i), source_path=f"{i}.txt", source_sha256="0" * 64,
                                 source_encoding="utf-8", source=t)
        docs.append(repair_document(d))
    ctx = SimpleNamespace(run_id="r", pipeline_version="0", config_hash="c",
                          started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    table = articles_table(docs, ctx, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert table.column("n_replacement_chars").to_pylist() == [0, 3, 0]
    # the pipeline's column is what the schema (and the README) describe
    assert table.select(ARTICLES.names).cast(ARTICLES).schema.field("n_replacement_chars").type == pa.int32()


def test_drop_option_is_read_from_ketl_toml(tmp_path):
    cfg = tmp_path / "ketl.toml"
    cfg.write_text("[repair]\ndrop_replacement_chars = true\n", encoding="utf-8")
    assert check_resources(load_settings(cfg)).repair.drop_replacement_chars is True
    assert RepairSettings().drop_replacement_chars is False


def test_raw_files_to_articles_rows_without_prefect(tmp_path):
    """Read, decode and repair as a batch does, then the articles rows: the issue's
    latin-1 file, Cyrillic in cp1251, UTF-8 with a stray byte, UTF-32 without a BOM."""
    from pathlib import Path

    from ketl.ingest.read import read_units
    from ketl.ingest.scan import scan
    from ketl.stages.repair.stage import repair_documents

    raw = tmp_path / "raw"
    raw.mkdir()
    latin = "Café owners in Gjøvik said the ceasefire held.\nThe owners of two cafés agreed.\n"
    russian = "Президент заявил во вторник, что перемирие соблюдается.\nЖители провели ночь в подвалах.\n"
    (raw / "latin1.txt").write_bytes(latin.encode("latin-1"))
    (raw / "cp1251.txt").write_bytes(russian.encode("cp1251"))
    (raw / "stray.txt").write_bytes("Slovenščina je jezik.\nNovi".encode() + b"\xe8" + " vrstici.\n".encode())
    (raw / "utf32.txt").write_bytes(russian.encode("utf-32-le"))
    result = read_units(Path(raw), scan(Path(raw)), 1 << 20)
    assert result.rejects == []
    docs = list(repair_documents(result.docs))
    ctx = SimpleNamespace(run_id="r", pipeline_version="0", config_hash="c",
                          started_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    rows = {r["source_path"]: r for r in articles_table(docs, ctx, datetime(2026, 1, 1, tzinfo=timezone.utc))
            .select(["source_path", "source_encoding", "text", "n_replacement_chars"]).to_pylist()}
    assert rows["latin1.txt"]["text"] == latin.strip() and rows["latin1.txt"]["source_encoding"] == "cp1252"
    assert rows["cp1251.txt"]["text"] == russian.strip() and rows["cp1251.txt"]["source_encoding"] == "cp1251"
    assert rows["utf32.txt"]["text"] == russian.strip() and rows["utf32.txt"]["source_encoding"] == "utf-32-le"
    assert rows["stray.txt"]["text"] == "Slovenščina je jezik.\nNovi\ufffd vrstici."
    assert [rows[p]["n_replacement_chars"] for p in sorted(rows)] == [0, 0, 1, 0]
