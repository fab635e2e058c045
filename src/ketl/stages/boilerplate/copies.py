"""Copies of the article inside its own page: the structured data a page
carries for search engines and social cards (the whole article again in one
line, its lead cut short with "..."), flattened into the text by the scraper.

A page may repeat a line of its article on purpose (an interview's recurring
question, a product's "Buy now"), so exact repetition proves nothing. What
does: a long line that *begins with* another, earlier paragraph and goes on
(paragraphs glued into one line), or a line that is an earlier paragraph cut
short with an ellipsis. The first occurrence stays; only the later copy goes.

Pure function over non-blank stripped lines.
"""

from __future__ import annotations

from typing import Sequence

__all__ = ["copied_lines"]

_KEY = 40  # characters of a paragraph's start that identify it
_MIN_PARAGRAPH = 60  # a paragraph this long, glued to others in a later line ...
_MIN_GLUED = 200  # ... in a line this long, is a copy of the article
_MIN_STEM = 30  # an ellipsis copy keeps at least this much of its paragraph
_ELLIPSES = ("...", "…")


def copied_lines(lines: Sequence[str]) -> list[bool]:
    """Later lines that copy earlier paragraphs: a glued copy (a line of
    ``_MIN_GLUED`` characters or more starting with an earlier paragraph and
    going on past it) or a copy cut short (an earlier paragraph's start
    followed by an ellipsis)."""
    out = [False] * len(lines)
    keys = [line[:_KEY] for line in lines if len(line) >= _KEY]
    if len(set(keys)) == len(keys):
        # No two lines open alike (most pages): no line copies a paragraph but
        # an ellipsis copy shorter than the key.
        for q, line in enumerate(lines):
            if _MIN_STEM <= len(line) < _KEY and line.endswith(_ELLIPSES):
                out[q] = _cut_copy_of_short_key(line, lines, q)
        return out
    starts: dict[str, list[str]] = {}  # first _KEY characters -> paragraphs seen
    for q, line in enumerate(lines):
        n = len(line)
        if n < _MIN_STEM:
            continue
        if n < _KEY:
            if line.endswith(_ELLIPSES):
                out[q] = _cut_copy_of_short_key(line, lines, q)
            continue
        key = line[:_KEY]
        seen = starts.get(key)
        if seen is not None and any(_copies(line, p, starts) for p in seen):
            out[q] = True
        elif n >= _MIN_PARAGRAPH:
            if seen is None:
                starts[key] = [line]
            else:
                seen.append(line)
    return out


def _copies(line: str, paragraph: str, starts: dict[str, list[str]]) -> bool:
    if len(line) >= _MIN_GLUED and len(line) > len(paragraph) and line.startswith(paragraph):
        # Glued: the next paragraph follows in the line too. (A page may print
        # a paragraph's first sentence above it as a pull quote: the longer,
        # later line is then the article's paragraph.) A glued copy may be cut short.
        rest = line[len(paragraph):].lstrip()
        return len(rest) >= _KEY and rest[:_KEY] in starts
    if line.endswith(_ELLIPSES):
        stem = line.rstrip(".… ")
        return len(stem) >= _MIN_STEM and len(stem) < len(paragraph.rstrip(".… ")) and paragraph.startswith(stem)
    return False


def _cut_copy_of_short_key(line: str, lines: Sequence[str], q: int) -> bool:
    """An ellipsis copy shorter than the key (rare): compare with every earlier paragraph."""
    stem = line.rstrip(".… ")
    return len(stem) >= _MIN_STEM and any(
        len(p) >= _MIN_PARAGRAPH and p.startswith(stem) for p in lines[:q])
