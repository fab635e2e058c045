"""The glued-word candidates found for a whole batch in numpy (repair.tokens) must
be the rule's own (words.candidate_tokens, itself the regex \\b[a-z]{3,}\\b minus
the listed words), whatever the batch and its texts' scripts, and a batch must
repair as each document alone."""

from __future__ import annotations

import random
import re

import pytest

from ketl.document import Document
from ketl.repair import repair_document, repair_documents
from ketl.stages.repair.scan import MARKS, scan_text, scan_texts
from ketl.stages.repair.tokens import batch_candidate_tokens
from ketl.stages.repair.words import _lexicon, candidate_tokens

from conftest import texts_in_many_scripts


def _expected(text: str) -> set[str]:
    lex = _lexicon()
    min_len = lex.cfg["min_token_length"]
    return set(re.findall(r"\b[a-z]{%d,}\b" % min_len, text, re.ASCII)) - lex.safe


def _listed_and_near(rng: random.Random) -> list[str]:
    """Listed words of every length around the table's 8- and 16-byte keys, and
    each with one letter changed (mostly unlisted): a wrong key shows either way."""
    by_len: dict[int, list[str]] = {}
    for w in sorted(_lexicon().safe):
        if w.isascii() and w.isalpha() and w.islower():
            by_len.setdefault(len(w), []).append(w)
    out = []
    for n in range(1, 22):
        for w in rng.sample(by_len.get(n, []), min(20, len(by_len.get(n, [])))):
            i = rng.randrange(n)
            out += [w, w[:i] + rng.choice("qxz") + w[i + 1:], w + "s", w[:-1]]
    return out


def test_the_batch_candidates_are_the_rules_on_real_text_in_many_scripts():
    texts = texts_in_many_scripts()
    rng = random.Random(15)
    words = _listed_and_near(rng)
    texts += [" ".join(rng.sample(words, 40)) + "." for _ in range(200)]
    texts += ["", "abc", "x" * 17, "Wasagreed wasagreed_x x_wasagreed 3abc abc3 abc\x00def abc\ud800def ab",
              "café caféteria naïveté e\u0301tude ｆｕｌｌ ｗｉｄｔｈ\tfoo\x1cbar\x0bbaz quux"]
    expected = [_expected(t) for t in texts]
    assert sum(map(len, expected)) > 2000  # listed words dropped, unlisted ones kept: both exercised
    for size in (1, 2, 7, 256, len(texts)):
        order = list(range(len(texts)))
        rng.shuffle(order)
        for i in range(0, len(order), size):
            part = order[i:i + size]
            assert batch_candidate_tokens([texts[j] for j in part]) == [expected[j] for j in part]
    lex = _lexicon()
    assert [candidate_tokens(t, lex.cfg["min_token_length"], lex.safe, lex.common) for t in texts] == expected


def test_the_batch_candidates_on_random_characters():
    rng = random.Random(8)
    alphabet = "abcdefghxyzABZ019_ -'.,\n\t\x00\x1f\x7féßЖ中\u200b\ud800😀"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    expected = [_expected(t) for t in texts]
    assert batch_candidate_tokens(texts) == expected
    assert batch_candidate_tokens(texts, [t.encode("utf-8", "surrogatepass") for t in texts]) == expected
    assert batch_candidate_tokens([]) == []


def _doc(i: int, text: str) -> Document:
    return Document.from_source(doc_id=str(i), source_path=f"{i}.txt", source_sha256="",
                                source_encoding="utf-8", source=text)


def test_a_batch_with_glued_words_repairs_as_each_document_alone(monkeypatch):
    # A batch scans the texts, then the windows of their first look rounds, all
    # at once (stage._repair_chunk); a lone document is scanned by the rules.
    from ketl.stages.repair import stage

    looks = {"given": 0, "alone": 0}
    look = stage._look

    def counted(window, s, protected, language, given):
        looks["given" if given is not None else "alone"] += 1
        return look(window, s, protected, language, given)

    monkeypatch.setattr(stage, "_look", counted)
    rng = random.Random(4)
    texts = texts_in_many_scripts(aeb_limit=120)
    glued = []
    for t in texts:  # glue a few word pairs of each text (the rule splits only English ones)
        words = t.split(" ")
        for _ in range(3):
            i = rng.randrange(max(1, len(words) - 1))
            words[i:i + 2] = ["".join(words[i:i + 2])]
        glued.append(" ".join(words))
    texts += glued
    batch = list(repair_documents([_doc(i, t) for i, t in enumerate(texts)]))
    alone = [repair_document(_doc(i, t)) for i, t in enumerate(texts)]
    assert [(d.text, d.edits, d.meta) for d in batch] == [(d.text, d.edits, d.meta) for d in alone]
    assert sum(e.rule == "words.glued" for d in batch for e in d.edits) > 20
    assert looks["given"] > 20 and looks["alone"] > 20  # both ways of the look rounds exercised


def test_the_batch_scan_is_the_scan_of_each_text_on_real_text_in_many_scripts():
    rng = random.Random(5)
    texts = texts_in_many_scripts()
    # Every mark, at a text's start and end, next to non-ASCII and control characters.
    texts += [m + t[:rng.randrange(200)] + rng.choice(MARKS) + "é\x01\t" + rng.choice(MARKS)
              for m, t in zip(MARKS * 40, texts)]
    texts += [m for m in MARKS] + ["", ".", ". ", "\n\n", ". x", ".\t\t", "\té", "é\t", "\ud800\t\n\n\n"]
    expected = [scan_text(t) for t in texts]
    assert len({m for f in expected for m in f.marks}) == len(MARKS)  # every mark found somewhere
    for size in (1, 3, 256, len(texts)):
        for i in range(0, len(texts), size):
            assert scan_texts(texts[i:i + size]) == expected[i:i + size]


def test_the_batch_scan_on_random_characters():
    rng = random.Random(9)
    alphabet = " \n\t.,;!?0123456789aZé中\x00\x01\x7f\u200b\ud800😀"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(5000)]
    expected = [scan_text(t) for t in texts]
    assert scan_texts(texts) == expected
    assert scan_texts(texts, [t.encode("utf-8", "surrogatepass") for t in texts]) == expected
    assert scan_texts([]) == []


def test_the_word_table_read_from_the_disk_cache_is_the_one_built(tmp_path, monkeypatch):
    import numpy as np

    from ketl.stages.repair import tokens

    monkeypatch.setenv("KETL_CACHE_DIR", str(tmp_path))
    tokens._table.cache_clear()
    try:
        built = tokens._table()
        assert list((tmp_path / "glued-table").glob("*.pickle"))  # written for the next worker
        tokens._table.cache_clear()
        read = tokens._table()
        assert read is not built
        assert np.array_equal(read.lo, built.lo) and np.array_equal(read.hi, built.hi)
        assert np.array_equal(read.common, built.common)
        words = [w for w in _lexicon().safe if w.isascii() and len(w) <= 16]
        assert np.count_nonzero(built.lo) == len(words)  # every listed word has its slot
        # The small table holds listed words only (a hit there is a hit), the commonest among them.
        held = built.common[built.common[:, 0] != 0]
        assert len(held) > tokens._COMMON_WORDS // 2
        big = set(zip(built.lo.tolist(), built.hi.tolist()))
        assert all(key in big for key in zip(held[:, 0].tolist(), held[:, 1].tolist()))
        the, = tokens._keys([b"the"])[0]
        assert the in held[:, 0]
    finally:
        tokens._table.cache_clear()


@pytest.mark.parametrize("damage", ["short", "no small table", "dtype", "not a tuple"])
def test_a_damaged_cached_word_table_is_built_anew_not_used(tmp_path, monkeypatch, damage):
    """A cache file under the right key whose table is not the layout this code reads (a
    bad copy, another build) is ignored: the table is built and repair gives its answer."""
    import numpy as np

    from ketl.stages.repair import tokens
    from ketl.text.cache import read_pickle, write_pickle

    monkeypatch.setenv("KETL_CACHE_DIR", str(tmp_path))
    tokens._table.cache_clear()
    try:
        built = tokens._table()
        key = (tokens._lists_key(tokens.repair_rules()["words"]), tokens._TABLE_FORMAT, tokens._SLOT_BITS,
               tokens._KEY_BYTES)
        assert read_pickle("glued-table", key) is not None
        bad = {"short": (built.lo[:10], built.hi[:10], built.common),
               "no small table": (built.lo, built.hi),
               "dtype": (built.lo.astype(np.int64), built.hi.astype(np.int64)),
               "not a tuple": [built.lo, built.hi]}[damage]
        write_pickle("glued-table", key, bad)
        tokens._table.cache_clear()
        again = tokens._table()
        assert np.array_equal(again.lo, built.lo) and np.array_equal(again.hi, built.hi)
        assert np.array_equal(again.common, built.common)
        texts = ["The councilvoted on Tuesday to approve the budget.", "Сегодня Главная новость дня."]
        lex = _lexicon()
        assert tokens.batch_candidate_tokens(texts) == [candidate_tokens(t, lex.cfg["min_token_length"], lex.safe, lex.common) for t in texts]
    finally:
        tokens._table.cache_clear()
