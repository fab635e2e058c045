"""Article language with py3langid (its model ships inside the package).

py3langid walks its byte n-gram automaton one byte at a time in Python (about
1 µs a byte, the largest cost of the repair stage). :class:`_VectorScorer`
gives the same answer with a handful of numpy gathers: in an Aho-Corasick
automaton the state after byte ``i`` is the trie node of the longest suffix of
the text that is in the trie, and the trie node of every suffix of length
``k`` follows from the one of length ``k - 1`` ending a byte earlier. It checks
itself against py3langid when built and falls back to py3langid's own walk if
the model's internals ever differ from what it expects. Only trie edges are
kept (fallback transitions never count) and the nodes are renumbered by depth,
so each level is two gathers and a running maximum.

Building those tables (and loading py3langid's model to build them from) took
1.6 s of CPU in every fresh worker process, more than a thousand articles'
identification. They are kept on disk (:func:`ketl.text.cache.cache_root`, one folder per
py3langid version and model file) and memory-mapped: a worker loads them in a
few milliseconds and the workers of a machine share one copy of the 57 MB
probability table in the page cache. A cache that is missing, stale or does
not reproduce py3langid's answers on the self-check texts is rebuilt.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..atomic import atomic_path
from .cache import cache_root

__all__ = ["detect_language", "first_sample", "first_sample_after_trim", "language_sample",
           "sample_answers", "UNDETERMINED"]

UNDETERMINED = "und"  # ISO 639-2 code for "undetermined"
_SAMPLE_CHARS = 2000  # the language shows in a few paragraphs; keeps the cost per article flat
_QUICK_SAMPLE_CHARS = 350  # usually enough: see detect_language
_QUICK_CONFIDENCE = 0.995
_MIN_LETTERS = 12
# What detect_language reads first: the sample to classify first, and the text's
# lines longest first when it may go on to the full sample (else None).
FirstSample = tuple[str | None, list[str] | None]
# At least _MIN_LETTERS letters: matched from the start, it stops at the 12th.
_ENOUGH_LETTERS = re.compile(r"(?:[\W\d_]*[^\W\d_]){%d}" % _MIN_LETTERS)
_SELF_CHECK = [
    "The war in the region goes on, the minister said on Sunday evening.",
    "Der Krieg in der Region geht weiter, sagte der Minister am Sonntag.",
    "Это статья о войне и мире в регионе, написанная журналистом.",
    "هذه جملة عربية حقيقية طويلة في المقال",
    "戦争は続いていると大臣は日曜日に述べた。",
    "LA GUERRE CONTINUE DANS LA RÉGION, A DIT LE MINISTRE.",
    "x\ud800y café e\u0301",
]


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    # norm_probs: a probability in [0, 1] rather than a raw log score.
    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def _distinct_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of sorted ``keys`` and how often each occurs.

    np.unique(keys, return_counts=True) without its Python overhead (nor
    np.diff's prepend/append, which cost more than the gathers here)."""
    if not len(keys):
        return keys, keys
    change = np.empty(len(keys), dtype=bool)
    change[0] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:])
    first = np.flatnonzero(change)
    counts = np.empty(len(first), dtype=first.dtype)
    counts[:-1] = first[1:] - first[:-1]
    counts[-1] = len(keys) - first[-1]
    return keys[first], counts


class _VectorScorer:
    """py3langid's ``classify`` with the automaton walk done by numpy."""

    _ARRAYS = ("_first", "_edges", "_rowbase", "_output", "_ptc", "_pc")

    def __init__(self, ident=None) -> None:
        if ident is None:  # filled by load()
            return
        self._pc = np.asarray(ident.nb_pc, dtype=np.float32)
        self._classes = [str(c) for c in ident.nb_classes]
        self._alias_pairs = [tuple(int(x) for x in pair) for pair in ident._alias_pairs]
        nextmove = np.frombuffer(ident.tk_nextmove, dtype=f"u{ident.tk_nextmove.itemsize}")
        rowbase = np.asarray(ident.tk_row, dtype=np.int64) << 8
        # Trie depth of every state: breadth-first from the root, the first
        # visit of a state is by its own trie string (nothing shorter ends in it).
        depth = np.full(len(rowbase), -1, dtype=np.int64)
        depth[0] = 0
        frontier = np.zeros(1, dtype=np.int64)
        level = 0
        byte_values = np.arange(256, dtype=np.int64)
        while len(frontier):
            targets = nextmove[rowbase[frontier][:, None] + byte_values[None, :]].ravel()
            fresh = np.unique(targets[depth[targets] == -1]).astype(np.int64)
            level += 1
            depth[fresh] = level
            frontier = fresh
        self._max_depth = level - 1
        self._build_trie(nextmove, rowbase, depth)
        self._output = np.asarray(ident.tk_output, dtype=np.int32)[self._old_of_new]
        # float32 rows gather and multiply several times faster than float16
        # (about 57 MB, once per process); the products are the same numbers.
        self._ptc = np.asarray(ident.nb_ptc, dtype=np.float32)

    def _build_trie(self, nextmove: np.ndarray, rowbase: np.ndarray, depth: np.ndarray) -> None:
        """The trie alone, its nodes renumbered by depth.

        The walk needs only trie edges, so every fallback transition becomes 0
        (the root, which has no feature and from which no byte goes deeper):
        no depth test per level. Numbered breadth-first, a deeper node has a
        larger number, so the longest suffix found so far is a running maximum.
        """
        n = len(depth)
        old_of_new = np.argsort(depth, kind="stable")
        new_id = np.empty(n, dtype=np.int64)
        new_id[old_of_new] = np.arange(n)
        if old_of_new[0] != 0:  # a state unreachable from the root: not the model we know
            raise ValueError("unexpected py3langid automaton")
        self._old_of_new = old_of_new
        byte_values = np.arange(256, dtype=np.int64)
        parents, edge_bytes, children = [], [], []
        for d in range(self._max_depth):
            ps = np.flatnonzero(depth == d)
            targets = nextmove[rowbase[ps][:, None] + byte_values[None, :]]
            pi, bi = np.nonzero(depth[targets] == d + 1)
            parents.append(new_id[ps[pi]])
            edge_bytes.append(bi)
            children.append(new_id[targets[pi, bi]])
        parent, edge_byte, child = map(np.concatenate, (parents, edge_bytes, children))
        from_root = parent == 0
        self._first = np.zeros(256, dtype=np.uint32)  # node of each 1-byte string, or 0
        self._first[edge_byte[from_root]] = child[from_root]
        inner = np.unique(parent[~from_root])
        row = np.zeros(n, dtype=np.int64)  # row 0 (all zeros) for leaves and the root
        row[inner] = np.arange(1, len(inner) + 1)
        # 32-bit entries: half the memory traffic of numpy's default.
        self._edges = np.zeros((len(inner) + 1) * 256, dtype=np.uint32)
        self._edges[row[parent[~from_root]] * 256 + edge_byte[~from_root]] = child[~from_root]
        self._rowbase = (row << 8).astype(np.uint32)

    def _feature_counts(self, data: bytes) -> tuple[np.ndarray, np.ndarray]:
        b = np.frombuffer(data, dtype=np.uint8)
        edges, rowbase = self._edges, self._rowbase
        node = self._first.take(b)  # trie node of the 1-byte suffix ending at each byte
        state = node.copy()  # automaton state: the node of the longest suffix found so far
        for k in range(2, self._max_depth + 1):
            # node of the k-byte suffix ending at byte k-1+j, from the (k-1)-byte one a byte earlier
            node = edges.take(rowbase.take(node[:-1]) + b[k - 1:])
            tail = state[k - 1:]
            np.maximum(tail, node, out=tail)
        feats = self._output.take(state)
        return _distinct_counts(np.sort(feats[feats >= 0]))

    def save(self, folder: Path, checks: list[tuple[str, float]]) -> None:
        """The tables as .npy files (memory-mappable) plus what classify needs besides."""
        for name in self._ARRAYS:
            np.save(folder / f"{name[1:]}.npy", getattr(self, name), allow_pickle=False)
        meta = {"max_depth": self._max_depth, "classes": self._classes,
                "alias_pairs": self._alias_pairs, "checks": checks}
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "tuple[_VectorScorer, list[tuple[str, float]]]":
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        self = cls()
        for name in cls._ARRAYS:
            # a plain ndarray view of the mapping: no memmap subclass overhead per gather
            setattr(self, name, np.asarray(np.load(folder / f"{name[1:]}.npy", mmap_mode="r", allow_pickle=False)))
        self._max_depth = int(meta["max_depth"])
        self._classes = list(meta["classes"])
        self._alias_pairs = [tuple(pair) for pair in meta["alias_pairs"]]
        return self, [tuple(c) for c in meta["checks"]]

    def _batch_feature_counts(self, datas: list[bytes]) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`_feature_counts` of each of ``datas``, the walk done once over all of them.

        The texts are laid end to end; a suffix that reaches back over the start of
        its text must count nothing. Such a suffix is born at a text's first byte
        (extended from the previous text's last node), and a node set to the root
        stays the root at every deeper level (row 0 has no edges): zeroing the
        nodes at the texts' first bytes, level by level, is enough.
        """
        lengths = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
        offsets = np.zeros(len(datas) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        b = np.frombuffer(b"".join(datas), dtype=np.uint8)
        edges, rowbase = self._edges, self._rowbase
        node = self._first.take(b)
        state = node.copy()
        firsts = offsets[1:-1][lengths[1:] > 0]  # first bytes of every text but the first
        for k in range(2, self._max_depth + 1):
            node = edges.take(rowbase.take(node[:-1]) + b[k - 1:])
            at = firsts - (k - 1)  # index j of node holds the suffix ending at byte j + k - 1
            node[at[at >= 0]] = 0
            tail = state[k - 1:]
            np.maximum(tail, node, out=tail)
        feats = self._output.take(state).astype(np.int64)
        keep = feats >= 0
        owner = np.repeat(np.arange(len(datas), dtype=np.int64), lengths)[keep]
        width = np.int64(len(self._ptc))
        keys = np.sort(owner * width + feats[keep])
        if not len(keys):
            empty = np.zeros(0, dtype=np.int64)
            return [(empty, empty)] * len(datas)
        distinct, counts = _distinct_counts(keys)
        bounds = np.searchsorted(distinct, np.arange(len(datas) + 1, dtype=np.int64) * width).tolist()
        feat_ids = distinct % width
        return [(feat_ids[lo:hi], counts[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]

    @staticmethod
    def _data(text: str) -> bytes:
        if text.isupper():
            text = text.lower()
        return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")

    def classify_many(self, texts: list[str]) -> list[tuple[str, float]]:
        """``[classify(t) for t in texts]``, with one automaton walk for all the texts."""
        datas = [self._data(t) for t in texts]
        return self._scores(self._batch_feature_counts(datas), [len(data) for data in datas])

    def classify(self, text: str) -> tuple[str, float]:
        data = self._data(text)
        idx, counts = self._feature_counts(data)
        return self._score_one(idx, counts, len(data))

    def _score_one(self, idx: np.ndarray, counts: np.ndarray, n_bytes: int) -> tuple[str, float]:
        """:meth:`_scores` of one text, on 1-D arrays (fewer, cheaper numpy calls for
        a lone text): the same operations on the same numbers, so the same answer
        (test_language checks classify against classify_many bit for bit)."""
        if len(idx):
            scores = np.log1p(counts.astype(np.float32)) @ self._ptc.take(idx, axis=0) + self._pc
        else:
            scores = np.zeros(len(self._classes), dtype=np.float32)
        scores = scores.astype(np.float32) * np.float32(1.0 / math.sqrt(n_bytes or 1))
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        for i, j in self._alias_pairs:
            scores[i] += scores[j]
            scores[j] = 0.0
        i = int(scores.argmax())
        return self._classes[i], float(scores[i])

    def _scores(self, features: list[tuple[np.ndarray, np.ndarray]], n_bytes: list[int]) -> list[tuple[str, float]]:
        """(language, probability) of each text from its feature counts.

        The dot product is taken one text at a time (the same products and sums
        as before, so the same numbers); the rest (scale, softmax, aliases,
        argmax) is elementwise or per row, done for all the rows at once rather
        than a dozen numpy calls per text; each row gets the operations
        :meth:`_score_one` applies to a lone text.
        """
        if not features:
            return []
        ptc, pc = self._ptc, self._pc
        scores = np.zeros((len(features), len(self._classes)), dtype=np.float32)
        for row, (idx, counts) in zip(scores, features):
            if len(idx):
                np.add(np.log1p(counts.astype(np.float32)) @ ptc.take(idx, axis=0), pc, out=row)
        scores *= np.array([1.0 / math.sqrt(n or 1) for n in n_bytes], dtype=np.float32)[:, None]
        np.exp(scores - scores.max(axis=1, keepdims=True), out=scores)
        scores /= scores.sum(axis=1, keepdims=True)
        for i, j in self._alias_pairs:
            scores[:, i] += scores[:, j]
            scores[:, j] = 0.0
        best = scores.argmax(axis=1)
        probs = scores[np.arange(len(best)), best].tolist()
        classes = self._classes
        return [(classes[b], p) for b, p in zip(best.tolist(), probs)]


_TABLES_FORMAT = 1  # bump when _VectorScorer's tables change meaning


def _cache_dir() -> Path | None:
    """This model's tables: under ``$KETL_CACHE_DIR`` or the user's cache dir (None if unknown)."""
    try:
        from importlib.metadata import version

        from py3langid.langid import MODEL_DIR, MODEL_FILE

        st = (MODEL_DIR / MODEL_FILE).stat()
        key = f"py3langid-{version('py3langid')}-{st.st_size}-{st.st_mtime_ns}-np{np.__version__}-v{_TABLES_FORMAT}"
    except Exception:  # noqa: BLE001 - no cache rather than no language
        return None
    return cache_root() / "language" / key


def _agrees(classify, checks: list[tuple[str, float]]) -> bool:
    return len(checks) == len(_SELF_CHECK) and all(
        got[0] == lang and abs(got[1] - prob) <= 1e-3
        for got, (lang, prob) in zip(map(classify, _SELF_CHECK), checks))


def _cached_scorer(folder: Path | None):
    """The tables from the disk cache, when there and still giving py3langid's answers."""
    if folder is None:
        return None
    try:
        fast, checks = _VectorScorer.load(folder)
        return fast if _agrees(fast.classify, checks) else None
    except Exception:  # noqa: BLE001 - missing, truncated, another version: rebuild
        return None


def _store(fast: _VectorScorer, folder: Path, checks: list[tuple[str, float]]) -> None:
    """Written to a private folder renamed into place: readers never see half a cache."""
    try:
        shutil.rmtree(folder, ignore_errors=True)  # a stale or damaged copy
        with atomic_path(folder) as tmp:
            tmp.mkdir(parents=True, exist_ok=True)
            fast.save(tmp, checks)
    except OSError:
        pass  # a cache that cannot be written only costs time


@lru_cache(maxsize=1)
def _classifier():
    folder = _cache_dir()
    fast = _cached_scorer(folder)
    if fast is not None:
        return fast.classify
    ident = _identifier()
    try:
        fast = _VectorScorer(ident)
        checks = [ident.classify(text) for text in _SELF_CHECK]
        if not _agrees(fast.classify, [(str(lang), float(prob)) for lang, prob in checks]):
            raise ValueError("vectorised scorer disagrees with py3langid")
        if folder is not None:
            _store(fast, folder, [(str(lang), float(prob)) for lang, prob in checks])
        return fast.classify
    except Exception:  # noqa: BLE001 - a model layout we do not know: use py3langid's walk
        return ident.classify


@lru_cache(maxsize=16)
def _classify(sample: str) -> tuple[str, float]:
    """The classifier's answer for ``sample``, remembered for the last few samples.

    The repair stage asks again after each round that changed the text, and
    most changes (a trailing newline, a double space) leave the sample, the
    longest lines, as it was: the answer is then the same, without the gathers.
    """
    lang, prob = _classifier()(sample)
    return str(lang), float(prob)


def _pick(lines: list[str], size: int) -> str:
    picked: list[str] = []
    total = 0
    for line in lines:
        if total >= size:
            break
        picked.append(line[: size - total])
        total += len(picked[-1]) + 1
    return "\n".join(picked)


def language_sample(text: str, size: int = _SAMPLE_CHARS) -> str:
    """The longest lines up to ``size`` characters: the article body, not its menus."""
    if len(text) <= size:
        return text
    return _pick(sorted(text.split("\n"), key=len, reverse=True), size)


def detect_language(text: str, known: Mapping[str, tuple[str, float]] | None = None,
                    first: FirstSample | None = None) -> tuple[str, float]:
    """ISO 639-1 code and probability; ``("und", 0.0)`` when there is too little text.

    The identifier first sees the longest 350 characters; only when it is less
    than 99.5 % sure does it read the full 2,000-character sample. On the 181
    AEB pages, the seeds and the AEB pages with mojibake added this gives the
    language of the earlier 600-character first look every time (0 of 367
    differ), and the full sample's on the AEB pages (see the benchmark), with
    a fallback on about one text in ten. The probability is that of the sample
    that decided. ``known`` holds answers for samples classified beforehand
    (:func:`sample_answers`); the others are classified here. ``first`` is
    :func:`first_sample` of ``text`` when the caller has it already.
    """
    def classify(sample: str) -> tuple[str, float]:
        hit = known.get(sample) if known else None
        return hit if hit is not None else _classify(sample)

    first, lines = first if first is not None else _first_sample(text)
    if first is None:
        return UNDETERMINED, 0.0
    lang, prob = classify(first)
    if lines is None or prob >= _QUICK_CONFIDENCE:
        return lang, prob
    return classify(_full_sample(text, lines))


def first_sample(text: str) -> FirstSample:
    """What :func:`detect_language` reads of ``text`` first (see ``first`` there)."""
    return _first_sample(text)


def first_sample_after_trim(text: str, original: str, first: FirstSample) -> FirstSample | None:
    """:func:`first_sample` of ``text`` from ``first``, the original's, when ``text`` is
    ``original`` without some of its trailing newlines (most repaired articles: the
    final newline is cut) and that provably changes nothing but the list of lines;
    None otherwise.

    The cut newlines end empty lines, which sort last (stable sort, shortest
    last), so the text's lines are the original's minus that many final entries.
    The quick sample picks the longest lines until it holds 350 characters; a
    text longer than that reaches them before its lines run out (all its lines
    with their newlines make ``len(text) + 1``), so it never reaches the empty
    lines and is the original's. A short text (its sample is the text itself)
    and an original whose quick sample had too few letters are not shortcut.
    """
    sample, lines = first
    n = len(text)
    cut = len(original) - n
    if lines is None or n <= _QUICK_SAMPLE_CHARS or cut <= 0 \
            or not original.startswith(text) or original.count("\n", n) != cut:
        return None
    return sample, lines[:len(lines) - cut]


def _first_sample(text: str) -> FirstSample:
    """The sample to classify first (None: too few letters), and the text's lines,
    longest first, when a low confidence sends the text on to its full sample."""
    if len(text) <= _QUICK_SAMPLE_CHARS:
        return (text if _ENOUGH_LETTERS.match(text) else None), None
    # One sort in C (key=len calls no Python code) is cheaper than heapq.nlargest,
    # whose loop runs in Python; its order is the same, ties included (stable).
    lines = sorted(text.split("\n"), key=len, reverse=True)
    quick = _pick(lines, _QUICK_SAMPLE_CHARS)
    # The quick sample is a prefix of the full one (the same lines, the last
    # one cut shorter), so letters found in it are letters of the full sample:
    # the full sample is built only when needed.
    if _ENOUGH_LETTERS.match(quick):
        return quick, lines
    sample = _full_sample(text, lines)
    return (sample if _ENOUGH_LETTERS.match(sample) else None), None


def _full_sample(text: str, lines: list[str]) -> str:
    return text if len(text) <= _SAMPLE_CHARS else _pick(lines, _SAMPLE_CHARS)


def sample_answers(texts: Sequence[str], firsts: Sequence[FirstSample] | None = None
                   ) -> dict[str, tuple[str, float]]:
    """The classifier's answers for the samples :func:`detect_language` reads of ``texts``.

    Given as ``known`` they make ``detect_language`` answer as it would alone; the
    automaton walk is done once for all the samples (its numpy calls cost a text of
    a few hundred characters more than its bytes do). A batch stage classifies its
    documents this way, and a text its rules changed only where the sample does not
    reach (spacing, a fixed line that is not among the longest) still hits.
    ``firsts``: :func:`first_sample` of each text, when the caller has them.
    """
    answers: dict[str, tuple[str, float]] = {}
    if firsts is None:
        firsts = [_first_sample(t) for t in texts]
    asked = [(t, s, lines) for t, (s, lines) in zip(texts, firsts) if s is not None]
    fulls = []
    for (text, sample, lines), answer in zip(asked, _classify_many([s for _, s, _ in asked])):
        answers[sample] = answer
        if lines is not None and answer[1] < _QUICK_CONFIDENCE:
            fulls.append(_full_sample(text, lines))
    answers.update(zip(fulls, _classify_many(fulls)))
    return answers


def _classify_many(samples: list[str]) -> list[tuple[str, float]]:
    clf = _classifier()
    many = getattr(getattr(clf, "__self__", None), "classify_many", None)
    if many is None:  # py3langid's own walk
        return [(str(lang), float(prob)) for lang, prob in map(clf, samples)]
    return many(samples) if samples else []
