import gzip
import hashlib
import json
import os
from pathlib import Path

from ketl.document import apply_changes, Change
from ketl.ingest.read import doc_id_for, read_units
from ketl.ingest.scan import scan
from conftest import SEEDS

LIMIT = 1 << 20


def _read(raw: Path, limit: int = LIMIT):
    return read_units(raw, scan(raw), limit)


def test_seeds_become_documents_with_hash_and_stable_id(raw_copy):
    result = _read(raw_copy)
    assert [d.source_path for d in result.docs] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert not result.rejects
    for doc in result.docs:
        data = (raw_copy / doc.source_path).read_bytes()
        assert doc.source_sha256 == hashlib.sha256(data).hexdigest()
        assert doc.source_encoding == "utf-8"
        assert doc.text == data.decode("utf-8")
        assert doc.doc_id == doc_id_for(doc.source_path, doc.source_sha256)
    again = _read(raw_copy)
    assert [d.doc_id for d in again.docs] == [d.doc_id for d in result.docs]


def test_walk_is_recursive_sorted_and_skips_hidden(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    (tmp_path / ".git").mkdir()
    (tmp_path / "b" / "x.txt").write_text("second article text")
    (tmp_path / "a" / "y.txt").write_text("first article text")
    (tmp_path / ".git" / "z.txt").write_text("not input")
    (tmp_path / ".hidden.txt").write_text("not input")
    assert [f.path for f in scan(tmp_path)] == ["a/y.txt", "b/x.txt"]


def test_every_bad_input_kind_is_a_reject_with_a_reason(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\t\n")
    (tmp_path / "binary.txt").write_bytes(os.urandom(1500))
    (tmp_path / "big.txt").write_bytes(b"word " * 1000)
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "bad.jsonl.gz").write_bytes(b"not gzip at all")
    os.symlink(tmp_path / "missing.txt", tmp_path / "link.txt")
    os.mkfifo(tmp_path / "pipe.txt")  # reading it would block forever
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    result = _read(tmp_path, limit=2000)
    reasons = {r.source_path: r.reason for r in result.rejects}
    expected = {"empty.txt": "empty", "blank.txt": "empty", "binary.txt": "binary",
                "big.txt": "too_large", "notes.pdf": "unsupported_type",
                "bad.jsonl.gz": "bad_gzip", "link.txt": "broken_link", "pipe.txt": "unreadable"}
    if os.geteuid() != 0:  # root reads any file
        expected["locked.txt"] = "unreadable"
    for path, reason in expected.items():
        assert reasons.get(path) == reason, (path, reasons)
    assert all(r.detail for r in result.rejects)
    # nothing lost: every entry is either a document or a reject
    assert len(result.docs) + len(result.rejects) == len(scan(tmp_path))


def test_jsonl_lines_become_articles_and_bad_lines_rejects(tmp_path):
    lines = [
        json.dumps({"id": 7, "url": "https://x.test/a", "title": "T", "site": "x.test",
                    "published": "2020-10-27", "text": "First article.\nSecond line."}),
        "{not json",
        json.dumps({"text": 42}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"text": ""}),
        json.dumps({"text": "Третья статья."}),
    ]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines), encoding="utf-8")
    (tmp_path / "feed2.jsonl.gz").write_bytes(gzip.compress("\n".join(lines[:1]).encode()))
    result = _read(tmp_path)
    by_path = {d.source_path: d for d in result.docs}
    assert set(by_path) == {"feed.jsonl#1", "feed.jsonl#7", "feed2.jsonl.gz#1"}
    first = by_path["feed.jsonl#1"]
    assert first.text == "First article.\nSecond line."
    assert first.meta == {"id": "7", "url": "https://x.test/a", "title": "T", "site": "x.test",
                          "published": "2020-10-27"}
    assert by_path["feed.jsonl#7"].text == "Третья статья."
    rejects = {r.source_path: r.reason for r in result.rejects}
    assert rejects == {"feed.jsonl#2": "malformed_jsonl", "feed.jsonl#3": "malformed_jsonl",
                       "feed.jsonl#4": "malformed_jsonl", "feed.jsonl#6": "empty"}
    assert first.doc_id != by_path["feed2.jsonl.gz#1"].doc_id


def test_crlf_is_normalised_but_edits_point_into_the_decoded_source(tmp_path):
    seed = (SEEDS / "001_6fb742abf75a8ac6.txt").read_text(encoding="utf-8")
    (tmp_path / "crlf.txt").write_bytes(seed.replace("\n", "\r\n").encode("utf-16"))
    doc = _read(tmp_path).docs[0]
    assert doc.source_encoding == "utf-16-le"
    assert "\r" not in doc.text and doc.text == seed
    start = doc.text.index("wasagreed")
    apply_changes(doc, [Change(start, start + len("wasagreed"), "was agreed", "words.glued")], "normalize")
    edit = doc.edits[0]
    assert doc.source[edit.source_start:edit.source_end] == "wasagreed"
    assert edit.source_line == 8
    assert "was agreed" in doc.text


def test_cp1252_file(tmp_path):
    text = "Sarkissian said the “humanitarian truce” had failed – again.\n"
    (tmp_path / "w.txt").write_bytes(text.encode("cp1252") * 3)
    doc = _read(tmp_path).docs[0]
    assert doc.source_encoding == "cp1252"
    assert doc.text == text * 3


def test_linked_folders_are_followed_once(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.txt").write_text("An article kept in another folder.")
    raw = tmp_path / "raw"
    raw.mkdir()
    os.symlink(elsewhere, raw / "linked")
    os.symlink(raw, raw / "loop")  # a link back up must not loop forever
    (raw / "b.txt").write_text("An article in raw.")
    # a folder outside raw/ is followed only when asked (follow_external_links)
    paths = [f.path for f in scan(raw, follow_external_links=True)]
    assert paths == ["b.txt", "linked/a.txt"]
    assert [(f.path, f.problem) for f in scan(raw)] == [("b.txt", None), ("linked", "external_link")]


def test_read_capped_reads_what_the_walk_saw_what_grew_up_to_the_limit_and_no_swapped_link(tmp_path):
    import pytest

    from ketl.ingest.read import _read_capped

    f = tmp_path / "a.txt"
    body = "Ваша статья. ".encode() * 500
    f.write_bytes(body)
    n = len(body)
    assert _read_capped(f, n, 10 * n) == body
    assert _read_capped(f, 10, 10 * n) == body  # grew since the walk: read on to its end
    assert _read_capped(f, 10, 100) == body[:101]  # ... but never past the limit + 1
    assert _read_capped(f, n + 50, 10 * n) == body  # shrank
    (tmp_path / "empty.txt").write_bytes(b"")
    assert _read_capped(tmp_path / "empty.txt", 0, 10) == b""
    link = tmp_path / "link.txt"
    os.symlink(f, link)
    with pytest.raises(OSError):
        _read_capped(link, n, 10 * n)  # not a link at the walk: not followed now
    assert _read_capped(link, n, 10 * n, follow=True) == body
