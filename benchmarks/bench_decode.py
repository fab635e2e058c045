"""Decoding legacy code pages: ketl.ingest.decode against charset-normalizer alone, same run.

Prints, for the test matrix (French/German/Norwegian in cp1252 and latin-1,
Polish/Czech in ISO-8859-2, Russian/Ukrainian/Bulgarian in cp1251, Russian/
Bulgarian in KOI8-R, Japanese in Shift_JIS, Chinese in GB18030, Korean in
EUC-KR; each cut to 50, 200 and 2,000 bytes), how many cells come back as the
original text and the time per document (best of N runs, CPU time), for

* charset-normalizer as ketl 0.2 used it (its best match, cp1252 when that
  decodes to the same text or ties);
* ketl.ingest.decode.decode_bytes now.

Then the same on 40 random fragments (20 to 300 characters, starting
anywhere) of every (code page, language) pair, the harder case of text cut
mid-word, and on 13 more code pages (cp1250, latin-9, DOS, Mac, cp866,
ISO-8859-5, KOI8-U, EUC-JP, cp932, cp949, GBK, GB2312); then chunks of the
AEB pages (real web text) saved in cp1252 and latin-1; then runs of frequent
words of 34 languages (wordfreq's lists) in their code pages. UTF-8 input never reaches either (strict UTF-8 decodes first); the
last line times that path for comparison.

Usage: python benchmarks/bench_decode.py [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from charset_normalizer import from_bytes

from ketl.ingest.decode import DecodeError, decode_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import decode_samples as samples  # noqa: E402
from decode_samples import BY_ENCODING, LENGTHS, cut, typeable  # noqa: E402

# Code pages beyond the matrix, each with languages written in it.
MORE = {
    "cp1250": (samples.POLISH, samples.CZECH), "iso8859_15": (samples.FRENCH, samples.GERMAN),
    "cp850": (samples.FRENCH, samples.GERMAN, samples.NORWEGIAN), "mac_roman": (samples.FRENCH, samples.GERMAN),
    "cp866": (samples.RUSSIAN, samples.BULGARIAN), "iso8859_5": (samples.RUSSIAN, samples.BULGARIAN),
    "mac_cyrillic": (samples.RUSSIAN,), "koi8_u": (samples.UKRAINIAN,), "euc_jp": (samples.JAPANESE,),
    "cp932": (samples.JAPANESE,), "cp949": (samples.KOREAN,), "gbk": (samples.CHINESE,),
    "gb2312": (samples.CHINESE,),
}
# DOS and Mac code pages lack the typographic quotes and the euro too.
_ASCII_TYPOGRAPHY = str.maketrans({"’": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"',
                                   "–": "-", "—": "-", "€": "EUR"})

_TIE = ("cp1252", "latin_1", "iso8859_15")


def charset_normalizer_alone(data: bytes) -> str | None:
    """ketl 0.2's legacy path."""
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    text = str(best)
    for encoding in _TIE:
        try:
            if data.decode(encoding) == text:
                return text
        except UnicodeDecodeError:
            continue
    for m in matches:
        if m.encoding in _TIE and abs(m.chaos - best.chaos) < 0.01 and abs(m.coherence - best.coherence) < 0.01:
            return str(m)
    return text


def ketl_decode(data: bytes) -> str | None:
    try:
        return decode_bytes(data).text
    except DecodeError:
        return None


def random_fragments(pairs: dict, per_pair: int = 40, seed: int = 11) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for encoding, texts in pairs.items():
        for text in texts:
            text = typeable(text.translate(_ASCII_TYPOGRAPHY), encoding)
            for _ in range(per_pair):
                size = rng.choice((20, 30, 40, 60, 100, 300))
                start = rng.randrange(max(1, len(text) - size))
                fragment = text[start:start + size]
                data = fragment.encode(encoding)
                if not data.isascii():
                    out.append((fragment, data))
    return out


def aeb_chunks(seed: int = 3) -> list[tuple[str, bytes]]:
    """Real web text (the AEB pages) saved in cp1252 and latin-1, cut anywhere."""
    aeb = Path(__file__).resolve().parents[2] / "shared" / "bench" / "aeb"
    return [(chunk.decode(encoding), chunk) for encoding, _, chunk in samples.aeb_chunks(aeb, seed)]


# Language -> code pages written in it, for runs of the language's 2,000 most
# frequent words (wordfreq ships the lists): real words of 34 languages.
WORD_PAIRS = {
    "fr": ("cp1252", "latin-1"), "de": ("cp1252",), "es": ("cp1252",), "pt": ("cp1252",), "it": ("cp1252",),
    "nl": ("cp1252",), "sv": ("cp1252",), "da": ("cp1252",), "nb": ("cp1252",), "fi": ("cp1252",),
    "is": ("cp1252",), "ca": ("cp1252",), "pl": ("iso8859_2", "cp1250"), "cs": ("iso8859_2", "cp1250"),
    "sk": ("cp1250",), "hu": ("iso8859_2", "cp1250"), "ro": ("cp1250",), "hr": ("cp1250",), "sl": ("cp1250",),
    "tr": ("cp1254",), "lt": ("cp1257",), "lv": ("cp1257",), "ru": ("cp1251", "koi8_r", "cp866"),
    "uk": ("cp1251", "koi8_u"), "bg": ("cp1251",), "sr": ("cp1251",), "mk": ("cp1251",),
    "el": ("cp1253", "iso8859_7"), "he": ("cp1255",), "ar": ("cp1256",), "fa": ("cp1256",),
    "ja": ("shift_jis", "euc_jp"), "zh": ("gb18030", "big5"), "ko": ("euc_kr",),
}


def word_runs(per_pair: int = 20, seed: int = 5) -> list[tuple[str, bytes]]:
    import logging

    from wordfreq import top_n_list

    logging.getLogger("wordfreq").setLevel(logging.ERROR)  # 'sr' -> 'sh' notices
    rng = random.Random(seed)
    out = []
    for lang, encodings in WORD_PAIRS.items():
        words = top_n_list(lang, 2000)
        for encoding in encodings:
            usable = [w for w in words if _encodes(w, encoding)]
            for _ in range(per_pair):
                sep = "" if lang in ("ja", "zh") else " "
                text = sep.join(rng.choice(usable) for _ in range(rng.choice((4, 8, 15, 40))))
                data = text.encode(encoding)
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    out.append((text, data))
    return out


def _encodes(word: str, encoding: str) -> bool:
    try:
        word.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cells = {size: [cut(text, enc, size) for enc, langs in BY_ENCODING.items() for text in langs.values()]
             for size in LENGTHS}
    runners = {"charset-normalizer alone": charset_normalizer_alone, "ketl.ingest.decode": ketl_decode}
    print(f"{sum(map(len, cells.values()))} cells: {len(BY_ENCODING)} code pages, "
          f"{sum(map(len, BY_ENCODING.values()))} (code page, language) pairs, sizes {LENGTHS}")
    for label, fn in runners.items():
        right = {size: sum(fn(data) == want for want, data in cs) for size, cs in cells.items()}
        times = {}
        for size, cs in cells.items():
            best = float("inf")
            for _ in range(args.repeat):
                t0 = time.process_time()
                for _, data in cs:
                    fn(data)
                best = min(best, time.process_time() - t0)
            times[size] = best / len(cs) * 1000
        print(f"  {label:26s} right: " + ", ".join(f"{right[s]}/{len(cells[s])} at {s} B" for s in LENGTHS)
              + " | ms/doc: " + ", ".join(f"{times[s]:.2f} at {s} B" for s in LENGTHS))
    for title, pairs in (("the matrix's code pages", {e: tuple(ls.values()) for e, ls in BY_ENCODING.items()}),
                         ("13 more code pages", MORE)):
        fragments = random_fragments(pairs)
        print(f"{len(fragments)} random fragments of 20-300 characters, {title}:")
        for label, fn in runners.items():
            right = sum(fn(data) == want for want, data in fragments)
            print(f"  {label:26s} right: {right}/{len(fragments)}")
    chunks = aeb_chunks()
    print(f"{len(chunks)} chunks of real page text (AEB) in cp1252 and latin-1, 50-2,000 bytes:")
    for label, fn in runners.items():
        right = sum(fn(data) == want for want, data in chunks)
        print(f"  {label:26s} right: {right}/{len(chunks)}")
    runs = word_runs()
    print(f"{len(runs)} runs of 4-40 frequent words (wordfreq) of {len(WORD_PAIRS)} languages in "
          f"{len({e for es in WORD_PAIRS.values() for e in es})} code pages:")
    for label, fn in runners.items():
        right = sum(fn(data) == want for want, data in runs)
        print(f"  {label:26s} right: {right}/{len(runs)}")
    utf8 = [want.encode("utf-8") for want, _ in cells[2000]]
    t0 = time.process_time()
    for _ in range(args.repeat):
        for data in utf8:
            decode_bytes(data)
    print(f"  UTF-8 input (the usual case): {(time.process_time() - t0) / args.repeat / len(utf8) * 1000:.3f} ms/doc "
          "at 2,000 B, unchanged: strict UTF-8 decodes before any guess")


if __name__ == "__main__":
    main()
