"""Bytes to text: BOM, then strict UTF-8, then UTF-32/16 without a BOM, then the most
plausible legacy code page.

Kept apart from ingest so the decision is testable on bytes alone.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

from .guess import CANDIDATES, SAMPLE_BYTES, guess_legacy

# UTF-32 first: its little-endian BOM begins with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Bytes that never occur in text of the single-byte encodings we accept. A NUL
# in non-UTF-16/32 data is the classic sign of a binary file.
_BINARY_CONTROL = bytes(range(0, 9)) + bytes(range(14, 27)) + bytes(range(28, 32))


# Beyond this cost every usual code page reads oddly: a foreign name costs a
# right reading up to about 4, EBCDIC read as cp1256 about 0.65 per byte.
_ODD_BASE = 4.0
_ODD_PER_BYTE = 0.3
_NORMALIZER_BYTES = 65536
_NORMALIZER_PRIOR = 2.0
_KNOWN = frozenset(codecs.lookup(c).name for c, _ in CANDIDATES)
_PRIORS = dict(CANDIDATES)  # a rare code page read right is not odd
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
_ASCII_BYTES = bytes(range(128))


class DecodeError(ValueError):
    """The bytes are not text we can decode; ``reason`` is a stable rejects reason."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str


def decode_bytes(data: bytes) -> Decoded:
    """Decode ``data``; raise :class:`DecodeError` with reason ``binary`` or ``undecodable``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(encoding.removesuffix("-sig"))
            except UnicodeDecodeError as exc:
                raise DecodeError("undecodable", f"{encoding} BOM but invalid bytes at {exc.start}") from None
            return Decoded(text, encoding)
    if b"\x00" in data:
        guessed = _wide_without_bom(data)
        if guessed is not None:
            return guessed
        raise DecodeError("binary", "NUL bytes and no UTF-16/32 byte order mark")
    try:
        return Decoded(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    mostly = _mostly_utf8(data)
    if mostly is not None:
        return mostly
    sample = data[:65536]
    control = sum(sample.count(b) for b in _BINARY_CONTROL)
    if control > max(8, len(sample) // 100):
        # UTF-16 of a text without ASCII (Cyrillic: a 0x04 in every other byte)
        guessed = _utf16_by_diversity(data)
        if guessed is not None:
            return guessed
        raise DecodeError("binary", f"{control} control bytes in the first {len(sample)} bytes")
    return _legacy(data)


# One invalid byte, plus one per this many well-formed multi-byte characters:
# legacy text seldom forms even two well-formed UTF-8 sequences by chance.
_UTF8_ERRORS_PER_CHAR = 20


def _mostly_utf8(data: bytes) -> Decoded | None:
    """UTF-8 with a few invalid bytes (a stray byte of another encoding, a
    character cut at the end): each becomes U+FFFD, which the repair keeps
    and ``articles.n_replacement_chars`` counts, instead of the whole article
    being rejected or read in a code page that garbles all the rest."""
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - data.count("\ufffd".encode("utf-8"))
    ascii_bytes = len(data) - len(data.translate(None, _ASCII_BYTES))
    multibyte = len(text) - ascii_bytes - invalid  # well-formed non-ASCII characters
    if multibyte >= 2 and invalid <= 1 + multibyte // _UTF8_ERRORS_PER_CHAR:
        return Decoded(text, "utf-8")
    return None


def _legacy(data: bytes) -> Decoded:
    """A legacy code page: the candidate whose text reads most plausibly
    (:mod:`ketl.ingest.guess`). charset-normalizer's guess is weak on short
    text, so it is asked only when every usual code page reads oddly (an
    exotic one such as mac_roman or EBCDIC), and its answer must read better."""
    guess = guess_legacy(data)
    high = len(_HIGH_BYTE.findall(data[:SAMPLE_BYTES]))
    if guess is not None and guess[2] - _PRIORS.get(guess[1], 0.0) <= _ODD_BASE + _ODD_PER_BYTE * high:
        return Decoded(guess[0], guess[1])
    best = from_bytes(data[:_NORMALIZER_BYTES]).best()
    if best is None or guess is None:
        # neither finds text: random bytes, a fragment of a binary format
        raise DecodeError("undecodable", "not UTF-8, and no code page reads as text")
    if codecs.lookup(best.encoding).name not in _KNOWN:
        guess = guess_legacy(data, extra=((best.encoding, _NORMALIZER_PRIOR),)) or guess
    return Decoded(guess[0], guess[1])


def _wide_without_bom(data: bytes) -> Decoded | None:
    """UTF-32 or UTF-16 without a BOM (the data holds NUL bytes)."""
    if len(data) % 4 == 0 and len(data) >= 8:
        # UTF-32: every code point is below 0x110000, so one byte of four is always 0
        for encoding, zero in (("utf-32-le", 3), ("utf-32-be", 0)):
            if not data[zero::4].strip(b"\x00"):
                decoded = _readable(data, encoding)
                if decoded is not None:
                    return decoded
    return _utf16_without_bom(data) or _utf16_by_diversity(data)


def _utf16_without_bom(data: bytes) -> Decoded | None:
    """UTF-16 text without a BOM: mostly-Latin text has a NUL in every other byte."""
    if len(data) % 2 or len(data) < 4:
        return None
    sample = data[:4096]
    even_nul = sample[0::2].count(0) / (len(sample) / 2)
    odd_nul = sample[1::2].count(0) / (len(sample) / 2)
    for share, other, encoding in ((odd_nul, even_nul, "utf-16-le"), (even_nul, odd_nul, "utf-16-be")):
        if share > 0.3 and other < 0.05:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return Decoded(text, encoding)
    return None


def _utf16_by_diversity(data: bytes) -> Decoded | None:
    """UTF-16 text in any script: the high byte of each unit names a Unicode
    block (0x04 for Cyrillic, 0x00 for ASCII, 0xAC-0xD7 for Hangul), so it
    takes far fewer values than the low byte; the text must then read as text."""
    if len(data) % 2 or len(data) < 16:
        return None
    sample = data[:4096]
    even, odd = len(set(sample[0::2])), len(set(sample[1::2]))
    if 2 * odd <= even:
        return _readable(data, "utf-16-le")
    if 2 * even <= odd:
        return _readable(data, "utf-16-be")
    return None


# Categories no text is made of: controls, unassigned, private use, surrogates.
_NOT_TEXT = frozenset(("Cc", "Cn", "Co", "Cs"))


def _readable(data: bytes, encoding: str) -> Decoded | None:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    sample = text[:2000]
    odd = sum(1 for c in sample if unicodedata.category(c) in _NOT_TEXT and c not in "\t\n\r\x0c")
    return Decoded(text, encoding) if odd * 100 <= len(sample) else None
