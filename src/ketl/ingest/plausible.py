"""How oddly a text reads: the cost :mod:`ketl.ingest.guess` charges each
candidate decoding of a legacy file's bytes.

A reader tells a wrong code page at a glance by what it produces, so each
decoding is charged for exactly that:

* a symbol, punctuation or a control inside a word (``Gj°vik``, ``Rz±d``);
* letters of two scripts in one word, a capital after a small letter (KOI8-R
  read as cp1251 turns ``Президент`` into ``рТЕЪЙДЕОФ``), mostly capitals;
* letters that no single language writes together (Polish ``ą`` beside Czech
  ``ř``; alphabets in ``resources/alphabets.toml``), or that the language of
  the ASCII words around them does not write (py3langid reads ``wiksz`` as
  Polish: ``ę`` fits, ``ê`` does not), long words without any ASCII letter in
  a Latin script, Cyrillic or Greek without vowels or full of rare letters;
* symbols no text uses (``¤``), a low quote after a word, ``¿`` with no ``?``;
* in CJK text: halfwidth katakana, Han characters outside GB2312 (or from
  the rare level of their code page), Hangul outside KS X 1001, Han characters
  between spaces or glued to Hangul (Korean read as GBK), endless Hangul runs,
  a few CJK characters among many Latin letters (French read as cp949).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable

__all__ = ["Context", "implausibility", "latin_alphabet", "rarity_key"]


LETTER, MARK, DIGIT, SPACE, PUNCT, SYMBOL, FORMAT, CONTROL = range(8)
_LOWER, _UPPER = 1, 2
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# Punctuation at home between two letters: apostrophes, hyphens, dashes glued
# to words (logic—that), an ellipsis (the Catalan middle dot only in l·l, see
# _other_cost).
_WORD_INTERNAL = frozenset("’‘ʼ‐‑‒–—―…/\u00ad")
# Punctuation that reads as a symbol when glued to a word (¶ is punctuation to Unicode).
_SYMBOL_LIKE = frozenset("¶§¦¤")
_CJK_FAMILY = frozenset(("HAN", "HIRAGANA", "KATAKANA"))

# Costs of what a wrong code page produces.
_C_CONTROL = 8.0
_C_IN_WORD = 4.0  # symbol or punctuation between two letters
_C_GLUED_SYMBOL = 2.0
_C_SCRIPT_MIX = 4.0
_C_CASE = 2.0  # a capital right after a small letter
_C_CAPITALS = 0.5  # per capital beyond the small letters
_C_ALPHABET = 2.0  # per letter outside the best language's alphabet
_C_NO_ASCII_WORD = 1.0  # per letter beyond 3 in a Latin run without ASCII
_C_HALFWIDTH_KANA = 1.5
_C_RARE = 1.5  # Han outside GB2312 in a GB decoding, Hangul outside KS X 1001
_C_RARE_LEVEL = 1.0  # Han from the rare level of its code page, Hanja in Korean
_C_KANA_HAN = 1.5  # Han that Japanese code pages lack, in a text with kana
_C_VOWELS = 1.0  # per letter, scaled by how far vowels fall short of a third
_C_SPACED_HAN = 2.0
_C_HAN_HANGUL = 2.0
_C_HANGUL_RUN = 0.5  # per syllable beyond 10 without a space
_C_STRAY_MARK = 2.0
_C_SYMBOL_RUN = 1.0  # per non-ASCII symbol right after another
_C_CONTEXT = 2.0  # per Latin letter outside the alphabet of the language of the ASCII words
# Italian ì and ù end words (così, più); inside one they are Czech ě, ů read as cp1252.
_WORD_FINAL = frozenset("ìùÌÙ")
_C_WORD_FINAL = 1.0


@lru_cache(maxsize=1)
def _letter_tables() -> tuple[dict[str, tuple[frozenset[str], ...]], dict[str, frozenset[str]],
                              dict[str, frozenset[str]]]:
    """(alphabets of the languages of each script, rare letters of each script,
    the Latin alphabet of each language code)."""
    data = resources.files("ketl").joinpath("resources/alphabets.toml").read_bytes()
    table = tomllib.loads(data.decode("utf-8"))
    rare = {script.upper(): frozenset(v) for script, v in table.pop("rare").items()}
    by_language = {lang: frozenset(v) for lang, v in table["latin"].items()}
    return ({script.upper(): tuple(map(frozenset, langs.values())) for script, langs in table.items()},
            rare, by_language)


@dataclass(frozen=True, slots=True)
class Context:
    """The language of a text's ASCII words: its accented letters should be that language's."""
    alphabet: frozenset[str]
    weight: float  # the language identifier's confidence


_CHARS: dict[str, tuple[int, str, int]] = {}  # filled with ASCII below, the rest on first use


def _char(c: str) -> tuple[int, str, int]:
    """(kind, script, case) of one character (a dict lookup after the first time:
    the scoring loop asks three times per character)."""
    info = _CHARS.get(c)
    if info is None:
        info = _classify(c)
        if len(_CHARS) < 65536:  # bounded: random input must not grow it without end
            _CHARS[c] = info
    return info


def _classify(c: str) -> tuple[int, str, int]:
    cat = unicodedata.category(c)
    if "\u02c2" <= c <= "\u02df":  # spacing diacritics (ˇ ˘ ˙ ˛ ˝): symbols, not letters
        return SYMBOL, "", 0
    case = _LOWER if cat == "Ll" else _UPPER if cat in ("Lu", "Lt") else 0
    if cat[0] == "L":
        name = unicodedata.name(c, "")
        if name.startswith("CJK"):
            script = "HAN"
        elif name.startswith("HALFWIDTH KATAKANA"):
            script = "HALFKANA"
        elif name.startswith(("KATAKANA-HIRAGANA", "FULLWIDTH")):
            script = "KATAKANA"  # the prolonged sound mark; fullwidth Latin in Japanese text
        elif cat == "Lm" or name.startswith(("FEMININE", "MASCULINE")):
            script = ""  # modifier letters (ʼ), ordinal indicators (nº): at home in any script
        else:
            script = name.split(" ", 1)[0]
        return LETTER, script, case
    if c in _SYMBOL_LIKE:
        return SYMBOL, "", 0
    if cat[0] == "M":  # the script of a mark: ARABIC SHADDA; COMBINING ACUTE ACCENT is any script's
        script = unicodedata.name(c, "").split(" ", 1)[0]
        return MARK, "" if script in ("COMBINING", "") else script, 0
    kind = {"M": MARK, "N": DIGIT if cat == "Nd" else SYMBOL, "Z": SPACE, "P": PUNCT,
            "S": SYMBOL}.get(cat[0])
    if kind is None:
        kind = FORMAT if cat == "Cf" else CONTROL
    if c in "\t\n\r ":
        kind = SPACE
    return kind, "", 0


# Scripts that sit next to Latin letters without a space in real text ("GDP增长", "AI를").
_BESIDE_LATIN = _CJK_FAMILY | {"HANGUL"}


_CHARS.update((chr(b), _classify(chr(b))) for b in range(128))


def _compatible(a: str, b: str) -> bool:
    """May letters of scripts ``a`` and ``b`` touch in one word?"""
    if a == b or not a or not b:
        return True
    if a in _CJK_FAMILY and b in _CJK_FAMILY:
        return True
    return (a == "LATIN" and b in _BESIDE_LATIN) or (b == "LATIN" and a in _BESIDE_LATIN)


def _rarity(codec: str) -> Callable[[str], float] | None:
    """Cost of a Han or Hangul character in a text decoded with ``codec``: the
    code pages list their common characters first (GB2312 level 1 covers about
    99.7 % of modern Chinese text), so a wrong decoding draws from the rare end."""
    if codec in ("gb18030", "gbk"):
        return _by_position("gb2312", 0xD8, missing=_C_RARE)
    if codec == "big5":
        return _by_position("big5", 0xC9)
    if codec in ("shift_jis", "cp932"):
        return _by_position("cp932", 0x98, missing=_C_RARE, hangul=_C_RARE)
    if codec == "euc_jp":
        return _by_position("euc_jp", 0xD0, missing=_C_RARE, hangul=_C_RARE)
    if codec in ("euc_kr", "cp949"):
        return _korean
    return None


def _by_position(codec: str, rare_lead: int, missing: float = _C_RARE, hangul: float = 0.0):
    @lru_cache(maxsize=8192)
    def cost(c: str) -> float:
        if _char(c)[1] == "HANGUL":
            return hangul
        try:
            lead = c.encode(codec)[0]
        except UnicodeEncodeError:
            return missing
        return _C_RARE_LEVEL if lead >= rare_lead else 0.0
    return cost


@lru_cache(maxsize=8192)
def _korean(c: str) -> float:
    """Modern Korean is Hangul from KS X 1001; Hanja are few, extended Hangul rarer."""
    if _char(c)[1] == "HAN":
        return _C_RARE_LEVEL
    try:
        c.encode("euc_kr")
    except UnicodeEncodeError:
        return _C_RARE
    return 0.0


# The codecs whose Han and Hangul have a rarity (see _rarity); others have none.
_CJK_CODECS = ("gb18030", "gbk", "big5", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949")
_RARITY = {codec: _rarity(codec) for codec in _CJK_CODECS}


def rarity_key(codec: str) -> str:
    """Two decodings to the same text cost the same unless their codecs judge
    Han and Hangul differently: the part of a cache key that says which."""
    return codec if codec in _RARITY else ""


def latin_alphabet(lang: str) -> frozenset[str] | None:
    """The non-ASCII letters of language ``lang`` (ISO 639-1), if listed."""
    return _letter_tables()[2].get(lang)


@lru_cache(maxsize=8192)
def _not_japanese(c: str) -> bool:
    try:
        c.encode("cp932")
    except UnicodeEncodeError:
        return True
    return False


# Every Cyrillic or Greek text has vowels; random letters (Hebrew read as cp1251) lack them.
_VOWELS = {"CYRILLIC": frozenset("аеёиоуыэюяіїєў"), "GREEK": frozenset("αεηιουωάέήίόύώϊϋΐΰ")}
_MIN_VOWEL_SHARE = 0.3
_MAX_RARE_SHARE = 0.05
_C_RARE_LETTER = 1.0


def _alphabet_cost(letters: dict[str, Counter], context: Context | None = None) -> float:
    """Letters outside the best-fitting language's alphabet, or outside the
    alphabet of the language of the ASCII words; missing vowels; rare letters."""
    cost = 0.0
    tables, rare_letters, _ = _letter_tables()
    for script, counts in letters.items():
        vowels = _VOWELS.get(script)
        if vowels is not None:
            total = sum(counts.values())
            short = _MIN_VOWEL_SHARE * total - sum(n for ch, n in counts.items() if ch in vowels)
            cost += _C_VOWELS * max(0.0, short)
        rare = rare_letters.get(script)
        if rare is not None:
            total = sum(counts.values())
            excess = sum(n for ch, n in counts.items() if ch in rare) - _MAX_RARE_SHARE * total
            cost += _C_RARE_LETTER * max(0.0, excess)
        alphabets = tables.get(script)
        if not alphabets:
            continue
        total = sum(counts.values())
        covered = max(sum(n for ch, n in counts.items() if ch in a) for a in alphabets)
        outside = _C_ALPHABET * (total - covered)
        if context is not None and script == "LATIN":
            # The language of the words around decides, as far as it is sure; a
            # foreign name (Gjøvik in a Spanish sentence) is foreign in every reading.
            foreign = sum(n for ch, n in counts.items() if ch not in context.alphabet)
            outside = max(_C_CONTEXT * context.weight * foreign, (1.0 - context.weight) * outside)
        cost += outside
    return cost


# Symbols almost no text uses: where they appear, a code page put them there
# (latin-9's € read as latin-1).
_UNUSED_SYMBOLS = frozenset("¤")
# Low quotes open a quotation; glued to the end of a word they are letters of
# another code page (cp850's é read as cp1252 is ‚).
_LOW_QUOTES = frozenset("‚„")
# Spanish opens a question or exclamation with the mark that closes it later
# (Polish ż read as cp1252 is ¿, with no ? to follow).
_INVERTED = {"¿": "?", "¡": "!"}
_INVERTED_REACH = 300
# Signs written right after a name: Brand®, iPhone™.
_MARKS_AFTER_NAMES = frozenset("®™©")


def _other_cost(text: str, i: int, c: str, kind: int, pk: int, ps: str, qk: int, qs: str) -> float:
    """What a character other than a letter costs where it stands."""
    if kind == MARK:
        if pk != LETTER and pk != MARK:
            return _C_STRAY_MARK
        # an Arabic shadda on a Latin letter: cp1256 reading latin-1's ø
        script = _char(c)[1]
        if pk == LETTER and not _compatible(ps, script):
            return _C_SCRIPT_MIX
        # an accent on a letter that takes none (cp1258 reads martedì as marted + U+0301)
        if pk == LETTER and ps == "LATIN" and len(unicodedata.normalize("NFC", text[i - 1:i + 1])) > 1:
            return _C_STRAY_MARK
        return 0.0
    if kind == CONTROL:
        return _C_CONTROL
    if kind == SPACE:
        return 0.0  # a no-break space between two words is ordinary web text
    if pk == LETTER and qk == LETTER and ps not in _CJK_FAMILY and qs not in _CJK_FAMILY:
        if c in _WORD_INTERNAL or (c == "·" and text[i - 1] in "lL" and text[i + 1] in "lL"):
            return 0.0
        return _C_IN_WORD
    if c in _UNUSED_SYMBOLS or (c in _LOW_QUOTES and pk == LETTER):
        return _C_GLUED_SYMBOL
    closing = _INVERTED.get(c)
    if closing is not None and text.find(closing, i, i + _INVERTED_REACH) < 0:
        return _C_GLUED_SYMBOL
    if kind == SYMBOL and (qk == LETTER or (pk == LETTER and c not in _MARKS_AFTER_NAMES)):
        return _C_GLUED_SYMBOL
    if kind == SYMBOL and pk == SYMBOL and not text[i - 1].isascii() and not _is_cjk_block(c):
        return _C_SYMBOL_RUN  # ±±¾©: GB18030's 北京 read as cp1252
    return 0.0


_ASCII_LETTER = re.compile(r"[A-Za-z]")


def _is_cjk_block(c: str) -> bool:
    """CJK punctuation, symbols and compatibility forms (﹌, 〉, ，)."""
    return "\u2e80" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" or "\ufe30" <= c <= "\ufe4f" \
        or "\uff00" <= c <= "\uffef"


def _minority_cjk_cost(text: str, cjk: int) -> float:
    """A few CJK or Hangul characters among many Latin letters: a Western text's
    accented letters read as a CJK code page (``d郭 la semaine``). Real CJK text
    holding Latin words (GDP, iPhone) is mostly CJK."""
    latin = len(_ASCII_LETTER.findall(text))
    return _C_SCRIPT_MIX * cjk if cjk * 10 < latin + cjk else 0.0


# Code pages made for one script: a reading without a single letter of it
# (German ö read as KOI8-R's no-break space) is no text of theirs.
_PAGE_SCRIPTS = {
    **dict.fromkeys(("cp1251", "koi8_r", "koi8_u", "cp866", "iso8859_5", "mac_cyrillic"), "[\u0400-\u04ff]"),
    **dict.fromkeys(("cp1253", "iso8859_7"), "[\u0370-\u03ff]"),
    "cp1255": "[\u0590-\u05ff]", "cp1256": "[\u0600-\u06ff]", "cp874": "[\u0e00-\u0e7f]",
    **dict.fromkeys(("gb18030", "gbk", "big5", "shift_jis", "cp932", "euc_jp", "euc_kr", "cp949"),
                    "[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff66-\uff9f]"),
}
_PAGE_SCRIPT_RE = {codec: re.compile(pattern) for codec, pattern in _PAGE_SCRIPTS.items()}
_C_FOREIGN_PAGE = 3.0


def _page_script_cost(text: str, codec: str) -> float:
    pattern = _PAGE_SCRIPT_RE.get(codec)
    if pattern is None or pattern.search(text):
        return 0.0
    return _C_FOREIGN_PAGE


def _neighbour_cost(script: str, case: int, p: str, pk: int, ps: str, pcase: int,
                    q: str, qk: int, qcase: int) -> float:
    """A letter beside another letter: two scripts in one word, a capital after a
    small letter. A non-ASCII neighbour is judged when its own turn comes."""
    cost = 0.0
    if pk == LETTER and not _compatible(ps, script):
        cost += _C_HAN_HANGUL if "HANGUL" in (ps, script) else _C_SCRIPT_MIX
    if qk == LETTER and q.isascii() and not _compatible("LATIN", script):
        cost += _C_SCRIPT_MIX
    if (pcase == _LOWER and case == _UPPER) or (case == _LOWER and qcase == _UPPER and q.isascii()):
        cost += _C_CASE
    if script in _BESIDE_LATIN and pk == qk == LETTER and p.isascii() and q.isascii():
        cost += _C_SCRIPT_MIX  # one CJK or Hangul character inside a Latin word
    return cost


def implausibility(text: str, codec: str = "", limit: float = float("inf"),
                   context: Context | None = None) -> float:
    """How oddly ``text`` reads (0 = nothing odd); stops counting beyond ``limit``."""
    rarity = _RARITY.get(codec)
    info = _CHARS.get  # the scoring loop's hot lookup, three times per character
    cost = 0.0
    alphabetic: dict[str, list[str]] = {"LATIN": [], "CYRILLIC": [], "GREEK": []}
    upper = lower = kana = hangul = cjk_marks = 0
    han: list[str] = []
    latin_run = hangul_run = 0
    last = -2
    n = len(text)
    for m in _NON_ASCII.finditer(text):
        i = m.start()
        c = text[i]
        kind, script, case = info(c) or _char(c)
        p = text[i - 1] if i else " "
        q = text[i + 1] if i + 1 < n else " "
        pk, ps, pcase = info(p) or _char(p)
        qk, qs, qcase = info(q) or _char(q)
        if i != last + 1:
            latin_run = hangul_run = 0
        last = i
        if kind == LETTER:
            if case == _UPPER:
                upper += 1
            elif case == _LOWER:
                lower += 1
            same = alphabetic.get(script)
            if same is not None:
                same.append(c)
            # most letters sit between letters of their own script, in their own case
            if (pk == LETTER and (ps != script or (pcase == _LOWER and case == _UPPER))) or \
                    (qk == LETTER and (qs != script or (case == _LOWER and qcase == _UPPER))):
                cost += _neighbour_cost(script, case, p, pk, ps, pcase, q, qk, qcase)
            if script == "LATIN":
                latin_run += 1
                if latin_run > 3:
                    cost += _C_NO_ASCII_WORD
                if c in _WORD_FINAL and qk == LETTER and pk == LETTER:
                    cost += _C_WORD_FINAL
            elif script in ("HIRAGANA", "KATAKANA"):
                kana += 1
            elif script == "HALFKANA":
                cost += _C_HALFWIDTH_KANA
            elif script == "HANGUL":
                hangul += 1
                hangul_run += 1
                if hangul_run > 10:
                    cost += _C_HANGUL_RUN
                if rarity is not None:
                    cost += rarity(c)
            elif script == "HAN":
                hangul_run += 1
                han.append(c)
                if rarity is not None:
                    cost += rarity(c)
                if q == " " and i + 2 < n and _char(text[i + 2])[1] == "HAN":
                    cost += _C_SPACED_HAN
        else:
            cost += _other_cost(text, i, c, kind, pk, ps, qk, qs)
            if _is_cjk_block(c):
                cjk_marks += 1
        if cost > limit:
            return cost
    cost += _C_CAPITALS * max(0, upper - lower)
    if cost > limit:
        return cost
    if han or kana or hangul or cjk_marks:
        cost += _minority_cjk_cost(text, len(han) + kana + hangul + cjk_marks)
    if kana > 1:
        cost += _C_KANA_HAN * sum(map(_not_japanese, han))
    letters = {script: Counter("".join(chars).lower()) for script, chars in alphabetic.items() if chars}
    return cost + _alphabet_cost(letters, context) + _page_script_cost(text, codec)
