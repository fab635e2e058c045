"""JSONL bytes to records, line by line, so that one bad line spoils only itself.

A JSONL file gathers articles from many pages; one page's stray latin-1 byte
must not decide the encoding of the whole file (charset-normalizer would then
turn every UTF-8 line into mojibake). So:

* a file with a BOM, or UTF-16/32 without one (NUL bytes in most characters),
  is decoded as a whole, as ``.txt`` files are;
* otherwise valid UTF-8 lines are UTF-8, and each line that is not is decoded
  on its own by :func:`ketl.ingest.decode.decode_bytes`, its encoding recorded, or
  rejected with the decoder's reason;
* a file that is binary as a whole (control bytes everywhere) is one reject,
  not one reject per "line" of noise.

Lines are separated by ``\\n`` only (JSON Lines): a raw U+2028 or form feed
inside a JSON string is text, not a line break.

JSON's ``\\udXXX`` escapes can encode lone surrogates, which no UTF encoding
(and so no Arrow string) can hold: they become U+FFFD, in ``text`` as a
recorded edit (:func:`surrogate_changes`), in the carried fields in place.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Iterator

from .decode import DecodeError, decode_bytes

# JSONL fields carried into the output as they are (articles columns).
CARRIED_FIELDS = ("id", "url", "title", "site", "published")

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32's begin with UTF-16's
# Bytes that never occur in text (ingest/decode.py rejects single-byte text holding many).
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 27)) + bytes(range(28, 32))
_JSON = json.JSONDecoder()  # json.loads' own checks cost a tenth of this hot loop
_SURROGATE = re.compile("[\ud800-\udfff]")
# A regex, not `in`: bytes.find is 5x slower on JSON's many backslashes.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
SURROGATE_RULE = "json.lone_surrogate"


@dataclass(slots=True)  # not frozen: a frozen __init__ costs a tenth of the parse here
class Record:
    """A line that is a JSON object with a string ``text``."""

    lineno: int
    text: str  # lone surrogates written as their JSON escape: see surrogate_changes
    encoding: str
    meta: dict[str, str | None] = field(default_factory=dict)
    surrogates: tuple[int, ...] = ()  # offsets in ``text`` of the escapes standing for them


@dataclass(frozen=True, slots=True)
class BadLine:
    lineno: int
    reason: str
    detail: str


def parse_jsonl(data: bytes) -> list[Record | BadLine]:
    """Every non-blank line of ``data`` as a Record or a BadLine, in order.

    Raises :class:`DecodeError` when the file as a whole is not text.
    """
    whole = _decode_whole(data)
    if whole is None:
        return list(_per_line(data))
    encoding, text = whole
    # A lone surrogate can only come from a \\udXXX escape. In UTF-8 the escape
    # is plain ASCII bytes, so one search of the file spares one per line.
    escapes = encoding != "utf-8" or _SURROGATE_ESCAPE.search(data) is not None
    # One comprehension, no generator chain: this loop is the JSONL hot path.
    return [_parse_line(lineno, line, encoding, escapes)
            for lineno, line in enumerate(text.split("\n"), start=1) if line and not line.isspace()]


def _decode_whole(data: bytes) -> tuple[str, str] | None:
    """(encoding, text) when the file decodes as a whole, else None (decode line by line)."""
    if data.startswith(_BOMS) or (b"\x00" in data and data.count(b"\x00") > len(data) // 8):
        decoded = decode_bytes(data)  # UTF-16/32: only decodable as a whole
        return decoded.encoding, decoded.text
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    sample = data[:65536]
    control = sum(sample.count(b) for b in _CONTROL)
    if control > max(8, len(sample) // 100):
        raise DecodeError("binary", f"{control} control bytes in the first {len(sample)} bytes")
    return None


def _per_line(data: bytes) -> Iterator[Record | BadLine]:
    """UTF-8 lines as UTF-8; each other line decoded on its own, its encoding recorded."""
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            line, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                decoded = decode_bytes(raw)
            except DecodeError as exc:
                yield BadLine(lineno, exc.reason, f"line not UTF-8 and not decodable on its own: {exc.detail}")
                continue
            line, encoding = decoded.text, decoded.encoding
        if line and not line.isspace():
            yield _parse_line(lineno, line, encoding)


def _parse_line(lineno: int, line: str, encoding: str, escapes: bool = True) -> Record | BadLine:
    if line[0] == "\ufeff":  # a BOM inside the file: files concatenated with cat
        line = line[1:]
    try:
        record = _JSON.decode(line)
    except json.JSONDecodeError as exc:
        return BadLine(lineno, "malformed_jsonl", f"invalid JSON: {exc.msg} at column {exc.colno}")
    except RecursionError:
        return BadLine(lineno, "malformed_jsonl", "JSON nested too deeply to parse")
    except ValueError as exc:  # e.g. an integer over Python's 4,300-digit limit
        return BadLine(lineno, "malformed_jsonl", f"invalid JSON value: {str(exc)[:200]}")
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        kind = type(record).__name__ if not isinstance(record, dict) else "object without a string `text`"
        return BadLine(lineno, "malformed_jsonl", f"expected an object with a string `text`, got {kind}")
    text = record["text"]
    if not text.strip():
        return BadLine(lineno, "empty", "the `text` field is empty")
    try:
        meta = {k: _as_str(record.get(k)) for k in CARRIED_FIELDS}
    except (RecursionError, ValueError) as exc:
        return BadLine(lineno, "malformed_jsonl", f"a carried field cannot be written: {type(exc).__name__}")
    if not escapes or not _may_hold_surrogates(line):
        return Record(lineno, text, encoding, meta)
    meta = {k: _clean(v) if v else v for k, v in meta.items()}
    text, offsets = _escape_surrogates(text)
    return Record(lineno, text, encoding, meta, offsets)


def _may_hold_surrogates(line: str) -> bool:
    """Decoded lines hold no surrogates: only a ``\\uD800``-``\\uDFFF`` escape makes one."""
    return "\\ud" in line or "\\uD" in line


def _as_str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _clean(value: str) -> str:
    """Lone surrogates (from ``\\udXXX`` escapes) as U+FFFD: Arrow strings must be UTF-8."""
    return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value


def _escape_surrogates(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` with each lone surrogate written as its 6-character JSON escape, and where."""
    if not _SURROGATE.search(text):
        return text, ()
    pieces: list[str] = []
    offsets: list[int] = []
    prev = 0
    length = 0
    for m in _SURROGATE.finditer(text):
        pieces.append(text[prev:m.start()])
        length += m.start() - prev
        offsets.append(length)
        escape = f"\\u{ord(m.group()):04x}"
        pieces.append(escape)
        length += len(escape)
        prev = m.end()
    pieces.append(text[prev:])
    return "".join(pieces), tuple(offsets)


def surrogate_changes(record: Record) -> list[tuple[int, int, str]]:
    """(start, end, replacement) turning each escaped lone surrogate into U+FFFD."""
    return [(start, start + 6, "\ufffd") for start in record.surrogates]
