"""Publication dates: a JSONL ``published`` value, or a date printed in an article's header (pure).

Only a date with a day, a month and a year is taken: a dateline's ``Oct 27``
has no year, and guessing one would invent a date. Plain text is searched in
its first lines only (headline, byline, dateline), where a publication date is
printed; a date in the body is an event's. ISO, RFC 2822 and English month
names are parsed here; other languages' month names go to dateparser, imported
on first need only (it takes a second to load) and held once per process.
A date without a time zone is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import regex

__all__ = ["parse_published", "header_date", "article_date", "HEADER_LINES"]

HEADER_LINES = 8  # non-blank lines at the top of a text where a byline date is looked for
_SHORT_LINE = 160  # a longer line is body text: only a date at its start counts (a dateline)
_LINE_START = 80

_YEAR = r"(?:19|20)\d{2}"
_TIME = (r"(?:,?\s*(?:at\s+|à\s+|um\s+|в\s+)?\d{1,2}[:.h]\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?"
         r"(?:\s*(?:UTC|GMT|Z|[+-]\d{2}:?\d{2}))?)?")
_DATE = regex.compile(
    rf"(?<![\d\p{{L}}])(?:"
    rf"{_YEAR}-\d{{1,2}}-\d{{1,2}}(?:[T ]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)?"
    rf"|\d{{1,2}}[./-]\d{{1,2}}[./-]{_YEAR}{_TIME}"
    rf"|{_YEAR}[./]\d{{1,2}}[./]\d{{1,2}}{_TIME}"
    rf"|\p{{L}}{{3,}}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_YEAR}{_TIME}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\.?\s+(?:de\s+)?\p{{L}}{{3,}}\.?,?\s+(?:de\s+)?{_YEAR}(?:\s*(?:г\.|года|yılı))?{_TIME}"
    rf")(?![\d])")
_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
    ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
    ("oct", "october"), ("nov", "november"), ("dec", "december")), start=1) for m in names}
_EN = re.compile(r"(?:(?P<m1>[A-Za-z]+)\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\.?\s+"
                 r"(?P<m2>[A-Za-z]+)\.?,?)\s+(?P<y>\d{4})(?:,?\s*(?:at\s+)?(?P<h>\d{1,2})[:.](?P<mi>\d{2})"
                 r"(?:\s*(?P<ap>[ap])\.?m\.?)?)?\s*(?P<tz>UTC|GMT)?$", re.I)
_HAS_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_EPOCH = re.compile(r"\d{9,10}(?:\.\d+)?|\d{13}")
_parser = None  # dateparser's parse, loaded on first need


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _english(text: str) -> datetime | None:
    m = _EN.match(text)
    if not m:
        return None
    month = _MONTHS.get((m.group("m1") or m.group("m2")).lower())
    if month is None:
        return None
    hour, minute = int(m.group("h") or 0), int(m.group("mi") or 0)
    if m.group("ap"):
        hour = hour % 12 + (12 if m.group("ap").lower() == "p" else 0)
    try:
        return datetime(int(m.group("y")), month, int(m.group("d1") or m.group("d2")), hour, minute,
                        tzinfo=timezone.utc)
    except ValueError:
        return None


_NUMERIC = re.compile(r"(?:(?P<y1>\d{4})[./](?P<m1>\d{1,2})[./](?P<d1>\d{1,2})|(?P<d2>\d{1,2})[./-](?P<m2>\d{1,2})"
                      r"[./-](?P<y2>\d{4}))(?:,?\s*(?P<h>\d{1,2})[:.h](?P<mi>\d{2}))?")


def _numeric(text: str) -> datetime | None:
    """2018.04.05, 2015/03/30, 20/11/2019 14:05: year first, else day first (as DATE_ORDER below;
    a month-first 11/20/2019 reads too, its 20 being no month)."""
    m = _NUMERIC.fullmatch(text)
    if not m:
        return None
    y, mo, d = (m.group("y1"), m.group("m1"), m.group("d1")) if m.group("y1") else \
        (m.group("y2"), m.group("m2"), m.group("d2"))
    y, mo, d = int(y), int(mo), int(d)
    if not m.group("y1") and mo > 12 >= d:
        mo, d = d, mo
    try:
        return datetime(y, mo, d, int(m.group("h") or 0), int(m.group("mi") or 0), tzinfo=timezone.utc)
    except ValueError:
        return None


def _dateparser(text: str) -> datetime | None:
    global _parser
    if _parser is None:
        import dateparser  # slow to import: only for a date no fast path reads

        _parser = dateparser.parse
    try:
        dt = _parser(text, settings={"STRICT_PARSING": True, "TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True,
                                     "DATE_ORDER": "DMY"})
    except Exception:  # dateparser raises on some odd inputs: no date, not a failed article
        return None
    return _utc(dt) if dt else None


def parse_published(value: str | None) -> datetime | None:
    """A publication date as given (ISO 8601, RFC 2822, epoch seconds, a written date) in UTC; None if unreadable."""
    if not value or not (value := value.strip()) or len(value) > 100:
        return None
    try:
        return _utc(datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value))
    except ValueError:
        pass
    if _EPOCH.fullmatch(value):
        seconds = float(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, timezone.utc)
    try:
        return _utc(parsedate_to_datetime(value))
    except (TypeError, ValueError, IndexError):
        pass
    # A relative date ("yesterday", "3 hours ago") has no reference point here: no year, no date.
    dt = _numeric(value) or _english(value) or (_dateparser(value) if _HAS_YEAR.search(value) else None)
    return dt if dt and 1900 <= dt.year <= 2100 else None


def _header_lines(text: str) -> list[str]:
    lines: list[str] = []
    for line in text[:4000].splitlines():
        if line.strip():
            lines.append(line if len(line) <= _SHORT_LINE else line[:_LINE_START])
            if len(lines) == HEADER_LINES:
                break
    return lines


def header_date(text: str) -> tuple[datetime, str] | None:
    """The first full date (day, month, year) printed in the first lines of ``text``, and as written."""
    for line in _header_lines(text):
        if not _HAS_YEAR.search(line):  # most lines: one cheap search, not the date pattern
            continue
        for m in _DATE.finditer(line):
            raw = m.group().strip()
            dt = parse_published(raw)
            if dt is not None and str(dt.year) in raw:  # the year is printed, not assumed
                return dt, raw
    return None


def article_date(published: str | None, text: str) -> tuple[datetime | None, str | None]:
    """(published in UTC, as written): the given value when it reads as a date, else a header date.

    A given value that does not read is still returned as written (with no timestamp)."""
    if published:
        dt = parse_published(published)
        if dt is not None:
            return dt, published
    found = header_date(text)
    if found is not None:
        return found
    return None, published
