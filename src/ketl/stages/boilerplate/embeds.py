"""Embedded posts in plain text: an embedded tweet flattens to its text and a
signature line ("— Rep. Ilhan Omar (@Ilhan) November 19, 2019"). The
signature is the article's own (the AEB annotators keep every one of the 17
on their pages), and so is the text right above it, short or full of links.

Pure functions over stripped non-blank lines, used by the classifier.
"""

from __future__ import annotations

import re
from typing import Sequence

__all__ = ["tweet_signature", "clear_tweet_text"]

# "— Name (@handle) Month D, YYYY" (Twitter's blockquote signature), the name
# free (emoji, titles), the date in Twitter's English form or day-first.
_TWEET_SIGNATURE = re.compile(
    r"[—–-]{1,2}\s?[^\n]{1,80}?\(@\w{1,15}\)\s+"
    r"(?:[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}|\d{1,2} [A-Z][a-z]{2,8}\.? \d{4})")

# How far above its signature an embedded tweet's text may reach.
_TEXT_MAX_LINES = 3


def tweet_signature(line: str) -> bool:
    """Is ``line`` (stripped) an embedded tweet's signature?"""
    return "(@" in line and line[0] in "—–-" and _TWEET_SIGNATURE.fullmatch(line) is not None


def clear_tweet_text(lines: Sequence[str], hard: list[bool], penalties: Sequence[int]) -> None:
    """A tweet's text above its signature is often a few words and a link
    ("we’re. on. it. https://t.co/HO1ZRs9T1P"), which link density alone
    condemns (no rule, no repetition: ``penalties`` 0). Up to
    ``_TEXT_MAX_LINES`` such lines in a row right above a signature are the
    tweet's text, no evidence of furniture."""
    if "(@" not in "\n".join(lines):  # most pages embed no tweet: one C scan, no loop
        return
    for q, line in enumerate(lines):
        if "(@" not in line or not tweet_signature(line):
            continue
        for r in range(q - 1, max(-1, q - 1 - _TEXT_MAX_LINES), -1):
            if not hard[r] or penalties[r] > 0:
                break
            hard[r] = False
