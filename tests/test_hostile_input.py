"""Issue 12, the input side: hostile and unlucky input never stops a run, never
blocks later runs and never corrupts silently.

Most tests call the ingest functions directly (scan, read_units, plan); the
fuzz test writes folders of hostile files beside good ones, many examples on
the functions and a few real ``ketl run``s end to end.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import tracemalloc
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ketl.settings import ConfigError, Settings, load_settings
from ketl.run.incremental import plan
from ketl.run.processed import load_processed, save_processed
from ketl.ingest.read import read_units
from ketl.ingest.scan import display_path, scan
from conftest import REPO, SEEDS, lane_result, start_once_in_lane

LIMIT = 1 << 20
SEED_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
# Real sentences in many scripts, as a scraper's JSONL would hold them.
SENTENCES = [
    "“We will not give up an inch of our land,” the minister said on Sunday.",
    "«Мы не отступим ни на шаг», — заявил министр обороны в воскресенье.",
    "Η κυβέρνηση ανακοίνωσε νέα μέτρα για τους πρόσφυγες από το Καραμπάχ.",
    "停戦は日曜日の正午に発効したと外務省が発表した。",
    "أعلنت الحكومة وقف إطلاق النار في منتصف الليل.",
    "Հայաստանի կառավարությունը հայտարարեց հրադադարի մասին։",
    "Azərbaycan Müdafiə Nazirliyi atəşkəsin pozulduğunu bildirib.",
    "राष्ट्रपति ने कहा कि बातचीत जारी रहेगी।",
    "정부는 일요일 휴전이 발효되었다고 밝혔다.",
    "שר החוץ אמר כי השיחות יימשכו בשבוע הבא.",
]


def _read(raw: Path, limit: int = LIMIT, **kw):
    return read_units(raw, scan(raw, **kw), limit)


def _arrow_safe(result) -> None:
    """Every string ketl would write must be valid Unicode (Arrow raises otherwise)."""
    strings = [r.source_path for r in result.rejects] + [r.detail for r in result.rejects]
    strings += [f[0] for f in result.files]
    for d in result.docs:
        strings += [d.source_path, d.text, d.source_encoding, *[v for v in d.meta.values() if isinstance(v, str)]]
        strings += [s for e in d.edits for s in (e.before, e.after)]
    pa.array(strings, pa.string())  # raises on a lone surrogate


# --- point 2: one bad input fails every run ----------------------------------------

def test_lone_surrogates_become_u_fffd_with_a_recorded_edit(tmp_path):
    line = '{"id": "a\\udfffb", "title": "T\\ud800", "url": {"x": "\\udc00"}, "text": "Baku \\udfff said it: ok."}'
    good = json.dumps({"text": SENTENCES[1]}, ensure_ascii=False)
    (tmp_path / "feed.jsonl").write_text(line + "\n" + good + "\n", encoding="utf-8")
    result = _read(tmp_path)
    _arrow_safe(result)
    assert not result.rejects
    doc, other = result.docs
    assert doc.text == "Baku \ufffd said it: ok."
    assert doc.meta["id"] == "a\ufffdb" and doc.meta["title"] == "T\ufffd" and doc.meta["url"] == '{"x": "\ufffd"}'
    (edit,) = doc.edits
    assert (edit.stage, edit.rule, edit.before, edit.after) == ("repair.encoding", "json.lone_surrogate", "\\udfff", "\ufffd")
    assert doc.source[edit.source_start:edit.source_end] == edit.before  # the edit replays on its source
    assert other.text == SENTENCES[1] and not other.edits


def test_a_file_name_that_is_not_utf8_is_read_and_written_escaped(tmp_path):
    root = os.fsencode(tmp_path)
    with open(os.path.join(root, b"caf\xe9 \xff.txt"), "wb") as fh:
        fh.write(SENTENCES[0].encode())
    os.mkdir(os.path.join(root, b"d\xfe"))
    with open(os.path.join(root, b"d\xfe", b"x.jsonl"), "wb") as fh:
        fh.write(json.dumps({"text": SENTENCES[2]}).encode())
    result = _read(tmp_path)
    _arrow_safe(result)
    assert {d.source_path: d.text for d in result.docs} == {
        "caf\\xe9 \\xff.txt": SENTENCES[0], "d\\xfe/x.jsonl#1": SENTENCES[2]}
    # the incremental state takes the escaped names and skips them next time
    state = tmp_path.parent / "state"
    state.mkdir()
    save_processed(state, {}, "run-1", result.files)
    again = plan(tmp_path, scan(tmp_path), load_processed(state))
    assert again.to_read == [] and again.skipped == 2


def test_json_nested_100000_deep_is_a_malformed_line(tmp_path):
    deep = "[" * 100_000 + "]" * 100_000
    obj = '{"text": ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "}"
    big_int = '{"text": "x", "id": ' + "9" * 5000 + "}"
    good = json.dumps({"text": SENTENCES[3]}, ensure_ascii=False)
    (tmp_path / "deep.jsonl").write_text("\n".join([deep, obj, big_int, good]), encoding="utf-8")
    result = _read(tmp_path)
    assert {r.source_path: r.reason for r in result.rejects} == {
        "deep.jsonl#1": "malformed_jsonl", "deep.jsonl#2": "malformed_jsonl", "deep.jsonl#3": "malformed_jsonl"}
    assert "nested too deeply" in result.rejects[0].detail
    assert [(d.source_path, d.text) for d in result.docs] == [("deep.jsonl#4", SENTENCES[3])]


# --- point 3: one latin-1 line turned a whole JSONL file into mojibake --------------

def test_jsonl_is_decoded_line_by_line(tmp_path):
    french = "Les propriétaires de cafés à Gjøvik ont déclaré que le cessez-le-feu tenait toujours, selon le maire."
    lines = [json.dumps({"text": s}, ensure_ascii=False).encode() for s in SENTENCES]
    lines.insert(3, json.dumps({"text": french}, ensure_ascii=False).encode("latin-1"))
    lines.insert(5, b'{"text": "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f"}')  # raw controls: not JSON
    (tmp_path / "mixed.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = _read(tmp_path)
    _arrow_safe(result)
    docs = {d.source_path: d for d in result.docs}
    utf8 = [docs[f"mixed.jsonl#{n}"] for n in (1, 2, 3, 5, 7, 8, 9, 10, 11, 12)]
    assert [d.text for d in utf8] == SENTENCES
    assert {d.source_encoding for d in utf8} == {"utf-8"}
    latin = docs["mixed.jsonl#4"]
    assert latin.text == french and latin.source_encoding in ("cp1252", "latin_1", "iso8859_15")
    assert [(r.source_path, r.reason) for r in result.rejects] == [("mixed.jsonl#6", "malformed_jsonl")]


def test_utf16_jsonl_still_decodes_as_a_whole_and_u2028_is_no_line_break(tmp_path):
    body = "\n".join(json.dumps({"text": s + "\u2028" + s}, ensure_ascii=False) for s in SENTENCES[:4])
    (tmp_path / "bom.jsonl").write_bytes(body.encode("utf-16"))
    (tmp_path / "nobom.jsonl").write_bytes(body.encode("utf-16-le"))
    (tmp_path / "crlf.jsonl").write_bytes(body.replace("\n", "\r\n").encode("utf-8"))
    result = _read(tmp_path)
    assert not result.rejects
    by_file: dict[str, list[str]] = {}
    for d in result.docs:
        by_file.setdefault(d.source_path.split("#")[0], []).append(d.text)
    want = [s + "\u2028" + s for s in SENTENCES[:4]]
    assert by_file == {"bom.jsonl": want, "nobom.jsonl": want, "crlf.jsonl": want}


def test_aeb_bodies_come_out_whole_beside_a_latin1_line_and_gzipped(tmp_path):
    from conftest import SHARED

    truth = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    bodies = [v["articleBody"] for v in truth.values() if v.get("articleBody", "").strip()]
    lines = [json.dumps({"text": b}, ensure_ascii=k % 2 == 0).encode() for k, b in enumerate(bodies)]
    lines.insert(90, json.dumps({"text": "Ålesund: kafé åpnet igjen."}, ensure_ascii=False).encode("latin-1"))
    data = b"\n".join(lines)
    (tmp_path / "aeb.jsonl").write_bytes(data)
    (tmp_path / "aeb.jsonl.gz").write_bytes(gzip.compress(data))
    result = _read(tmp_path, limit=64 << 20)
    assert not result.rejects
    want = [b.replace("\r\n", "\n").replace("\r", "\n") for b in bodies]
    for name in ("aeb.jsonl", "aeb.jsonl.gz"):
        docs = [d for d in result.docs if d.source_path.startswith(name + "#")]
        assert [d.text for d in docs[:90] + docs[91:]] == want
        assert docs[90].text == "Ålesund: kafé åpnet igjen." and docs[90].source_encoding != "utf-8"


def test_jsonl_files_concatenated_with_their_boms_lose_no_line(tmp_path):
    part = "\n".join(json.dumps({"text": s}, ensure_ascii=False) for s in SENTENCES[:3]) + "\n"
    (tmp_path / "cat.jsonl").write_bytes(part.encode("utf-8-sig") * 2)  # cat a.jsonl b.jsonl
    result = _read(tmp_path)
    assert not result.rejects
    assert [d.text for d in result.docs] == SENTENCES[:3] * 2


def test_binary_jsonl_is_one_reject_not_one_per_line(tmp_path):
    (tmp_path / "noise.jsonl").write_bytes(random.Random(7).randbytes(200_000))
    result = _read(tmp_path)
    assert [(r.source_path, r.reason) for r in result.rejects] == [("noise.jsonl", "binary")]
    assert [f[0] for f in result.files] == ["noise.jsonl"]


# --- point 4 (gzip): a bomb is rejected while inflating, not after ------------------

def test_gzip_bomb_is_rejected_with_bounded_memory(tmp_path):
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress(b"\n" * (100 << 20), 9))  # 100 MiB from ~100 KB
    (tmp_path / "ok.jsonl.gz").write_bytes(gzip.compress(json.dumps({"text": SENTENCES[4]}).encode()))
    tracemalloc.start()
    try:
        result = _read(tmp_path, limit=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(r.source_path, r.reason) for r in result.rejects] == [("bomb.jsonl.gz", "too_large")]
    assert [d.text for d in result.docs] == [SENTENCES[4]]
    assert peak < 8 << 20, f"peak {peak >> 20} MiB: the bomb was inflated whole"


@pytest.fixture(scope="module")
def gzip_bomb_run():
    """The gzip-bomb benchmark in a fresh process, started with the module's first test:
    its seconds of inflating overlap this module's other tests. Waits for it, returns it."""
    proc = subprocess.Popen([sys.executable, str(REPO / "benchmarks" / "bench_hostile.py"), "--only", "gzip"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})

    def result() -> subprocess.CompletedProcess:
        out, err = proc.communicate(timeout=600)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    yield result
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


@pytest.fixture(autouse=True)
def _gzip_bomb_from_the_start(request):
    if any(item.name == "test_gzip_bomb_of_1_gb_runs_in_little_memory" for item in request.session.items):
        request.getfixturevalue("gzip_bomb_run")


# --- point 7: links leading outside raw/ ------------------------------------------

def _links(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    (outside / "ssl").mkdir(parents=True)
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    for i in range(5):
        (outside / "ssl" / f"cert{i}.txt").write_text("-----BEGIN CERTIFICATE-----\n")
    raw = tmp_path / "raw"
    (raw / "links").mkdir(parents=True)
    (raw / "a.txt").write_text(SENTENCES[0])
    os.symlink(outside / "passwd", raw / "links" / "passwd.txt")
    os.symlink(outside / "ssl", raw / "links" / "ssl")
    os.symlink(raw / "a.txt", raw / "links" / "inside.txt")  # inside the root: followed
    os.symlink("../a.txt", raw / "links" / "relative.txt")
    return raw


def test_links_outside_raw_are_rejects_unless_allowed(tmp_path):
    raw = _links(tmp_path)
    result = _read(raw)
    assert {r.source_path: r.reason for r in result.rejects} == {
        "links/passwd.txt": "external_link", "links/ssl": "external_link"}
    assert all("outside the raw folder" in r.detail for r in result.rejects)
    assert sorted(d.source_path for d in result.docs) == ["a.txt", "links/inside.txt", "links/relative.txt"]
    assert not any("root:x" in d.text for d in result.docs)
    allowed = _read(raw, follow_external_links=True)
    assert not allowed.rejects
    assert "links/passwd.txt" in {d.source_path for d in allowed.docs}
    assert len(allowed.docs) == 3 + 1 + 5


def test_follow_external_links_is_a_checked_setting(tmp_path):
    cfg = tmp_path / "ketl.toml"
    cfg.write_text("[ketl]\nfollow_external_links = true\n")
    assert load_settings(cfg).follow_external_links is True
    cfg.write_text('[ketl]\nfollow_external_links = "no"\n')
    with pytest.raises(ConfigError, match="follow_external_links must be true or false"):
        load_settings(cfg)
    # it changes what a run reads, so it is hashed; the default keeps earlier hashes
    assert Settings().config_hash() != Settings(follow_external_links=True).config_hash()
    s = Settings()
    before_the_key = {k: v for k, v in asdict(s).items() if k not in s._NOT_HASHED and k != "follow_external_links"}
    before_the_key["file_contents"] = {}
    blob = json.dumps(before_the_key, sort_keys=True, separators=(",", ":"), default=list)
    assert s.config_hash() == hashlib.sha256(blob.encode()).hexdigest()


# --- point 9: long paths and remembered rejects -----------------------------------

def _deep_folder(root: Path, levels: int = 20) -> None:
    """A file under a path of over 4,096 bytes (made with dir fds: open() cannot)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(levels):
            os.mkdir("d" * 250, dir_fd=fd)
            nfd = os.open("d" * 250, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        out = os.open("deep.txt", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd)
        os.write(out, SENTENCES[0].encode())
        os.close(out)
    finally:
        os.close(fd)


def test_a_path_over_4096_bytes_is_a_reject_not_a_gap(tmp_path):
    _deep_folder(tmp_path)
    (tmp_path / "z.txt").write_text(SENTENCES[1])
    files = scan(tmp_path)
    deep = [f for f in files if f.path.startswith("d" * 250)]
    assert len(deep) == 1 and deep[0].problem == "unreadable"
    result = read_units(tmp_path, files, LIMIT)
    (reject,) = result.rejects
    assert reject.source_path == deep[0].path and "File name too long" in reject.detail
    assert [d.source_path for d in result.docs] == ["z.txt"]


def _state_cycle(raw: Path, state: Path, limit: int = 2000):
    """One run's worth of ingest: plan against the state, read, save the state."""
    processed = load_processed(state)
    p = plan(raw, scan(raw), processed)
    result = read_units(raw, p.to_read, limit)
    save_processed(state, processed, "run", [*p.restat, *result.files])
    return p, result


def test_an_unchanged_rejected_file_is_skipped_and_a_changed_one_tried_again(tmp_path):
    raw, state = tmp_path / "raw", tmp_path / "state"
    raw.mkdir()
    state.mkdir()
    (raw / "big.txt").write_text("word " * 1000)  # too_large at 2000 bytes
    (raw / "noise.txt").write_bytes(bytes(range(256)) * 4)
    (raw / "good.txt").write_text(SENTENCES[0])
    p, result = _state_cycle(raw, state)
    assert {r.source_path: r.reason for r in result.rejects} == {"big.txt": "too_large", "noise.txt": "binary"}
    big_sha = hashlib.sha256((raw / "big.txt").read_bytes()).hexdigest()
    assert [r.source_sha256 for r in result.rejects if r.source_path == "big.txt"] == [big_sha]
    # touched, not changed (a copy tool, a re-download of the same bytes): skipped
    for name in ("big.txt", "noise.txt"):
        os.utime(raw / name, ns=(1, 1))
    p, result = _state_cycle(raw, state)
    assert p.to_read == [] and p.skipped == 3 and not result.rejects
    # changed: tried again
    (raw / "big.txt").write_text("word " * 10)
    p, result = _state_cycle(raw, state)
    assert [f.path for f in p.to_read] == ["big.txt"] and result.docs[0].text == "word " * 10


def test_an_unreadable_file_is_skipped_until_it_can_be_read(tmp_path, monkeypatch):
    raw, state = tmp_path / "raw", tmp_path / "state"
    raw.mkdir()
    state.mkdir()
    locked = raw / "locked.txt"
    locked.write_text(SENTENCES[5])
    real_open = os.open

    def refuse(path, flags, *args, **kw):  # root reads any file: stand in for chmod 000
        if Path(path).name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kw)

    import builtins
    real_builtin_open = builtins.open

    def refuse_builtin(path, *args, **kw):
        if not isinstance(path, int) and Path(os.fsdecode(path)).name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_builtin_open(path, *args, **kw)

    monkeypatch.setattr(os, "open", refuse)
    monkeypatch.setattr(builtins, "open", refuse_builtin)
    monkeypatch.setattr(io, "open", refuse_builtin)  # pathlib opens through io.open
    _, result = _state_cycle(raw, state)
    assert [(r.source_path, r.reason) for r in result.rejects] == [("locked.txt", "unreadable")]
    for _ in range(2):  # still unreadable: skipped and counted, not rejected again
        p, result = _state_cycle(raw, state)
        assert p.to_read == [] and p.skipped == 1 and not result.rejects
    monkeypatch.undo()  # permissions fixed (chmod changes no mtime)
    p, result = _state_cycle(raw, state)
    assert [d.text for d in result.docs] == [SENTENCES[5]]


# --- the fuzz: hostile folders beside good ones ------------------------------------

_ODD_NAMES = ["a b", "[bold]x", "[link=f]z[", "new\nline", "tab\there", "статья", "#1", "%s", "\x1b[31mred", "caf\u00e9"]
_ODD_BYTES = [b"\xff\xfe", b"caf\xe9", b"\xc3", b"\xed\xa0\x80", b"ok"]
_SUFFIXES = [".txt", ".jsonl", ".jsonl.gz", ".pdf", ""]


def _name(rng: random.Random, i: int, suffix: str) -> bytes:
    stem = rng.choice(_ODD_NAMES).encode() if rng.random() < 0.6 else rng.choice(_ODD_BYTES)
    return f"{i:03d}".encode() + stem + suffix.encode()


def _json_line(rng: random.Random) -> bytes:
    """One hostile JSONL line."""
    kind = rng.randrange(11)
    text = "".join(rng.choice(["a", " ", "é", "ж", "字", "\\n", '\\"', "\\u00e9", "\\ud83d\\ude00",
                               f"\\u{rng.randrange(0xd800, 0xe000):04x}", "\u2028", "\\\\"])
                   for _ in range(rng.randrange(0, 40)))
    if kind == 0:
        return ('{"text": "' + text + '", "id": "' + text[:10] + '"}').encode()
    if kind == 1:
        depth = rng.choice([1, 10, 999, 1001, 5000, 100_000])
        return ("[" * depth + "]" * depth).encode()
    if kind == 2:
        return ('{"text": "' + text).encode()  # truncated
    if kind == 3:
        return json.dumps({"text": rng.choice(SENTENCES)}, ensure_ascii=False).encode(rng.choice(["cp1251", "utf-16"]),
                                                                                      "replace")
    if kind == 4:
        return rng.randbytes(rng.randrange(1, 200))
    if kind == 5:
        return rng.choice([b"[1, 2]", b'"text"', b"null", b'{"text": 5}', b'{"text": ""}', b"   "])
    if kind == 6:
        return b'{"text": "x", "id": ' + b"9" * 5000 + b"}"
    if kind == 7:
        return b'{"text": "nul \x00 inside"}'
    if kind == 8:
        return json.dumps({"text": "caf\u00e9 " + text}, ensure_ascii=False).encode("latin-1", "replace")
    if kind == 9:
        return b'{"text": "a", "title": ' + b'{"a": ' * 990 + b"1" + b"}" * 990 + b"}"
    return json.dumps({"text": rng.choice(SENTENCES), "site": "[bold]x"}, ensure_ascii=False).encode()


def _hostile_bytes(rng: random.Random, suffix: str) -> bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randbytes(rng.randrange(0, 3000))
    if kind == 1:
        return b""
    body = b"\n".join(_json_line(rng) for _ in range(rng.randrange(1, 8)))
    if suffix == ".jsonl.gz":
        packed = gzip.compress(body if kind != 2 else b"\n" * (3 << 20))  # kind 2: a small bomb
        return packed[: rng.randrange(1, len(packed))] if kind == 3 else packed
    return body


def build_hostile_folder(root: Path, seed: int, outside: Path) -> dict[str, str]:
    """Write good and hostile files under ``root``; return the good articles {source_path: text}."""
    rng = random.Random(seed)
    broot = os.fsencode(root)
    good: dict[str, str] = {}
    n = rng.randrange(3, 14)
    for i in range(n):
        if rng.random() < 0.3:  # a good file, under an odd name
            kind = rng.choice(["seed", "jsonl"])
            if kind == "seed":
                name = _name(rng, i, ".txt")
                seed_name = rng.choice(sorted(SEED_TEXTS))
                data = SEED_TEXTS[seed_name].encode()
                good[display_path(os.fsdecode(name))] = SEED_TEXTS[seed_name]
            else:
                name = _name(rng, i, ".jsonl")
                picked = rng.sample(SENTENCES, 3)
                data = "\n".join(json.dumps({"text": s}, ensure_ascii=False) for s in picked).encode()
                for k, s in enumerate(picked, start=1):
                    good[f"{display_path(os.fsdecode(name))}#{k}"] = s
        else:
            suffix = rng.choice(_SUFFIXES)
            name = _name(rng, i, suffix)
            data = _hostile_bytes(rng, suffix)
        with open(os.path.join(broot, name), "wb") as fh:
            fh.write(data)
    extras = rng.sample(["passwd", "ssl", "broken", "fifo", "loop"], rng.randrange(0, 4))
    if "passwd" in extras:
        os.symlink(outside / "passwd", root / "passwd.txt")
    if "ssl" in extras:
        os.symlink(outside, root / "ssl")
    if "broken" in extras:
        os.symlink(root / "gone.txt", root / "broken.txt")
    if "fifo" in extras:
        os.mkfifo(root / "pipe.jsonl")
    if "loop" in extras:
        os.symlink(root, root / "loop")
    return good


def _outside(base: Path) -> Path:
    outside = base / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    return outside


def _check_ingest(raw: Path, good: dict[str, str], state: Path) -> None:
    files = scan(raw)
    result = read_units(raw, files, LIMIT)
    _arrow_safe(result)
    # nothing lost: every file seen is an article, a reject or both (JSONL lines)
    rows = [d.source_path for d in result.docs] + [r.source_path for r in result.rejects]
    owners = {row.rsplit("#", 1)[0] if row not in {f.path for f in files} else row for row in rows}
    assert {f.path for f in files} == owners
    assert sorted(f[0] for f in result.files) == sorted(f.path for f in files)
    # the good files are all articles, whole
    texts = {d.source_path: d.text for d in result.docs}
    for path, text in good.items():
        assert texts.get(path) == text, (path, sorted(texts))
    # the state takes every name, and the next run skips every file
    save_processed(state, {}, "run", result.files)
    again = plan(raw, scan(raw), load_processed(state))
    assert again.to_read == [] and again.skipped == len(files)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_fuzz_ingest_on_hostile_folders(seed):
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        raw, state = base / "raw", base / "state"
        raw.mkdir()
        state.mkdir()
        good = build_hostile_folder(raw, seed, _outside(base))
        _check_ingest(raw, good, state)


def _rows(out: Path, name: str) -> list[dict]:
    import pyarrow.dataset as ds

    if not (out / name).exists():
        return []
    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table().to_pylist()


# The real runs below go in the session's background lane (conftest.in_background) from
# the moment the session's server is up, beside the tests before theirs (seconds of runs
# with pool workers that pytest only waited for). Each run is the CLI in-process in one
# Python of its own (CliRunner, as the test ran them here), on the session's server;
# after the first run of a folder that is run twice, its dataset is copied, so the test
# checks the first run's output as it was.
_FUZZ_RUNS = """
import json, shutil, sys
from typer.testing import CliRunner
from ketl.cli import app
found = []
for raw, out, workers, again in json.loads(sys.argv[1]):
    res = CliRunner().invoke(app, ["run", "--raw", raw, "--out", out, "--workers", workers])
    done = {"exit_code": res.exit_code, "output": res.output}
    if again:
        shutil.copytree(out, out + "-first", symlinks=True)
        res = CliRunner().invoke(app, ["run", "--raw", raw, "--out", out, "--workers", "1"])
        done["again"] = {"exit_code": res.exit_code, "output": res.output}
    found.append(done)
print(json.dumps(found))
"""
_FUZZ_SEEDS = ((196, "2"), (285, "1"))  # seeds with the most kinds of hostile file; the first is run twice
_FUZZ: list = []  # the runs' Future and folder, once started
_FUZZ_TEST = "test_fuzz_end_to_end_ketl_runs"


def _fuzz_runs(root: Path, api: str, env: dict) -> tuple[dict, list | None, str]:
    """The hostile folders (their good files by folder) and what each run found."""
    outside, plan, good = _outside(root), [], {}
    for k, (seed, workers) in enumerate(_FUZZ_SEEDS):
        raw, out = root / f"raw{seed}", root / f"out{seed}"
        raw.mkdir()
        good[seed] = build_hostile_folder(raw, seed, outside)
        (raw / "000 seed [bold].txt").write_text(SEED_TEXTS["001_6fb742abf75a8ac6.txt"], encoding="utf-8")
        plan.append((str(raw), str(out), workers, k == 0))
    done = subprocess.run([sys.executable, "-c", _FUZZ_RUNS, json.dumps(plan)], env={**env, "PREFECT_API_URL": api},
                          cwd=root, capture_output=True, text=True, timeout=600)
    found = json.loads(done.stdout.splitlines()[-1]) if done.returncode == 0 and done.stdout.strip() else None
    return good, found, done.stderr[-3000:]


def start_with_server(items, server: tuple[str, Path]) -> None:
    """Called by conftest.py once the session's server is up: the runs, in the background lane."""
    start_once_in_lane(_FUZZ, items, _FUZZ_TEST, _fuzz_runs, "ketl-hostile-runs-", server[0])


@pytest.fixture
def fuzz_runs(request, _prefect_server):
    start_with_server([request.node], _prefect_server)
    root = _FUZZ[0][1]
    for result in lane_result(_FUZZ, timeout=900):
        yield root, result


@pytest.mark.slow
def test_fuzz_end_to_end_ketl_runs(fuzz_runs):
    """Three real `ketl run`s on hostile folders: exit 0 or 1, nothing lost, the next run succeeds."""
    root, (good_by_seed, found, stderr) = fuzz_runs
    assert found is not None, stderr
    for (seed, _), res in zip(_FUZZ_SEEDS, found, strict=True):
        raw, out = root / f"raw{seed}", root / f"out{seed}"
        first = out.with_name(out.name + "-first") if "again" in res else out  # the first run's dataset
        good = good_by_seed[seed]
        assert res["exit_code"] in (0, 1), res["output"]
        assert "Traceback" not in res["output"]
        (run,) = _rows(first, "runs")
        seen = {f.path for f in scan(raw)}
        assert run["files_seen"] == len(seen) == run["files_new"] + run["files_skipped"]
        articles, rejects = _rows(first, "articles"), _rows(first, "rejects")
        assert run["articles"] == len(articles) and run["rejected"] == len(rejects)
        owners = {r["source_path"] if r["source_path"] in seen else r["source_path"].rsplit("#", 1)[0]
                  for r in articles + rejects}
        assert owners == seen
        assert set(good) | {"000 seed [bold].txt"} <= {a["source_path"] for a in articles}
        if "again" not in res:
            continue
        again = res["again"]
        assert again["exit_code"] == 0, again["output"]
        assert len(_rows(out, "articles")) == len(articles) and len(_rows(out, "rejects")) == len(rejects)


def test_a_file_swapped_for_an_outside_link_after_the_walk_is_not_read(tmp_path):
    raw = _links(tmp_path)
    files = scan(raw)
    os.replace(raw / "a.txt", tmp_path / "a.txt")
    os.symlink(tmp_path / "outside" / "passwd", raw / "a.txt")  # the race: between walk and read
    result = read_units(raw, [f for f in files if f.path == "a.txt"], LIMIT)
    assert not result.docs
    assert [(r.source_path, r.reason) for r in result.rejects] == [("a.txt", "unreadable")]


# last in the module: the benchmark it reads ran beside the tests above (gzip_bomb_run)
@pytest.mark.slow
def test_gzip_bomb_of_1_gb_runs_in_little_memory(gzip_bomb_run):
    """The 1 MB file that inflates to 1 GB, in a fresh process: time and peak RSS printed."""
    proc = gzip_bomb_run()
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    rss = [float(line.split("peak RSS")[1].split("MiB")[0]) for line in proc.stdout.splitlines()
           if "gzip bomb" in line and "peak RSS" in line]
    assert rss and rss[0] < 400, proc.stdout
