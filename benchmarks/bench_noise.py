"""Benchmark of the noise catalogue: clean bodies dressed in page noise, cleaned by ketl.

Dresses the 181 AEB ground-truth bodies and the multilingual articles
(``benchmarks/noise_corpus.py``: headlines, site furniture repeated across
each site's pages, ad markers, share rows, calls to subscribe, captions and
credits, cookie and paywall lines, related links, comment furniture, bios,
HTML remnants, stray foreign-script lines, reprint notices at the top or the
bottom, all from templates broader than the rules), counts the site lines
the way the pipeline does (phase A, a ``SiteLineStats`` over every page),
runs the boilerplate stage (metadata + boilerplate) and prints:

* content kept: share of content lines that come out whole, and word 4-gram recall;
  twice: strict (every line of a gold body is content) and with the gold
  bodies' catalogue furniture set aside (below);
* noise removed: share of noise lines that do not come out, per kind too;
* reprint source: share of pages with a reprint notice whose ``reprinted_from``
  equals the truth, and pages without one that got a ``reprinted_from`` anyway;
* content kept per language; docs/s.

The truth of the content lines is the AEB gold bodies, and the annotators kept
lines there of the very kinds issue #11's noise catalogue says to remove.
``noise_gold_furniture.tsv`` lists them, reviewed by hand, each with its kind
and why; a line is listed only when, read as a whole line and without looking
at what ketl does with it, it is one of:

* reprint: a syndication notice naming where the article came from;
* copyright: a copyright notice ("Copyright 2019 X. All rights reserved.");
* credit: a photo or image credit with no caption text ("© Reuters",
  "Main image credit: Getty", "Фото:");
* bio: a byline or contributor credit, or the author's contact/tip line
  ("Contributing: X", "칼럼니스트 X x@y.kr", "(Reporting by X; Editing by Y)");
* affiliate: an affiliate, sponsorship or legal disclosure, a shop button
  ("FTC: We use income earning auto affiliate links. More.", "Buy Now");
* follow: a call to follow, subscribe, click or download;
* related: a related-stories box, its heading and the headlines it lists ("Story Timeline");
* separator: a line with no letters at all (rule lines, a lone zero-width space).

Article prose stays content even where ketl removes it (an embedded tweet's
attribution, a reference, a phone number of an event listing, a product
list's items, "Thanks Junior!"). The listed lines count neither as content nor
as noise in the second figure; their own fate is printed apart. The strict
figure, like the clean-bodies benchmark (``shared/bench/clean_in.py``), keeps
counting them as content.

    python benchmarks/bench_noise.py [--seed N] [--no-stats] [--show K]
    python benchmarks/bench_noise.py --seeds 1,3,5,7,11,13   # one line of figures per dressing
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from noise_corpus import Dressed, build_corpus, furniture_kind, gold_furniture, gram_recall, line_fates  # noqa: E402

from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents, load_rules  # noqa: E402
from ketl.stages.boilerplate.site_stats import SiteLineStats, site_and_line_keys  # noqa: E402
from ketl.document import Document  # noqa: E402


def to_doc(d: Dressed) -> Document:
    return Document.from_source(doc_id=d.key, source_path=d.source_path,
                                source_sha256=hashlib.sha256(d.text.encode()).hexdigest(),
                                source_encoding="utf-8", source=d.text)


def run(corpus: list[Dressed], use_stats: bool = True) -> tuple[list[Document], float]:
    """The boilerplate stage over the corpus as the pipeline runs it: site line
    counts first (phase A), then metadata + boilerplate (phase B)."""
    rules = load_rules()
    settings = BoilerplateSettings()
    docs = [to_doc(d) for d in corpus]
    t0 = time.perf_counter()
    stats = None
    if use_stats:
        stats = SiteLineStats(settings.repetition_settings())
        for doc in docs:
            stats.add(*site_and_line_keys(doc))
    out = list(clean_documents(docs, rules, stats, settings))
    return out, time.perf_counter() - t0


class Score:
    """The figures of one cleaned corpus."""

    def __init__(self, furniture: dict[tuple[str, str], str] | None = None) -> None:
        self.furniture = gold_furniture() if furniture is None else furniture
        self.content = [0, 0]  # kept, total (strict: every gold line)
        self.content_cat = [0, 0]  # kept, total: the gold bodies' catalogue furniture set aside
        self.furn = [0, 0]  # gold furniture lines removed, total
        self.furn_left: list[tuple[str, str, str]] = []
        self.noise = [0, 0]  # removed, total
        self.kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.langs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        self.recalls: list[float] = []
        self.reprint = [0, 0]  # right, docs with a notice
        self.reprint_false = [0, 0]  # set without a notice, docs without one
        self.lost: list[tuple[str, str]] = []
        self.lost_by: dict[str, int] = defaultdict(int)  # rule (edit) that removed a content line
        self.left: list[tuple[str, str, str]] = []
        self.wrong_reprint: list[tuple[str, str | None, object]] = []

    def add(self, d: Dressed, doc: Document) -> None:
        fates = line_fates(d, doc.text, doc.meta.get("dateline"))
        for line, label, kept in zip(d.lines, d.labels, fates):
            if kept is None or label == "title":
                continue
            if label == "content":
                self.content[0] += kept
                self.content[1] += 1
                furn = furniture_kind(self.furniture, d.key, line)
                if furn is not None:
                    self.furn[0] += not kept
                    self.furn[1] += 1
                    if kept:
                        self.furn_left.append((d.key, furn, line))
                else:
                    self.content_cat[0] += kept
                    self.content_cat[1] += 1
                if not kept:
                    self.lost.append((d.key, line if furn is None else f"[{furn}] {line}"))
                    self.lost_by[_culprit(doc, line) + (" (gold furniture)" if furn else "")] += 1
                self.langs[d.lang][0] += kept
                self.langs[d.lang][1] += 1
            else:
                kind = label.split(":", 1)[1]
                self.noise[0] += not kept
                self.noise[1] += 1
                self.kinds[kind][0] += not kept
                self.kinds[kind][1] += 1
                if kept:
                    self.left.append((d.key, kind, line))
        r = gram_recall(d, doc.text)
        if r is not None:
            self.recalls.append(r)
        got = doc.meta.get("reprinted_from")
        if d.reprinted_from:
            self.reprint[1] += 1
            self.reprint[0] += got == d.reprinted_from
            if got != d.reprinted_from:
                self.wrong_reprint.append((d.key, d.reprinted_from, got))
        else:
            self.reprint_false[1] += 1
            self.reprint_false[0] += got is not None
            if got is not None:
                self.wrong_reprint.append((d.key, None, got))


def _culprit(doc: Document, line: str) -> str:
    """The rule of the edit that took (part of) ``line`` out."""
    s = line.strip()
    whole = [e.rule for e in doc.edits if s and s in e.before]
    part = [e.rule for e in doc.edits if e.before.strip() and e.before.strip() in s]
    return (whole or part or ["?"])[0]


def _share(pair) -> str:
    return f"{pair[0] / pair[1]:.4f} ({pair[0]}/{pair[1]})" if pair[1] else "n/a"


def report(score: Score, n_docs: int, seconds: float, show: int) -> None:
    print(f"pages: {n_docs}   {n_docs / seconds:.0f} docs/s (stats + clean, {seconds:.2f} s)")
    print(f"content kept      {_share(score.content)}   4-gram recall "
          f"{sum(score.recalls) / len(score.recalls):.4f} (min {min(score.recalls):.3f})   strict")
    print(f"content kept      {_share(score.content_cat)}   gold furniture set aside "
          f"(noise_gold_furniture.tsv: {_share(score.furn)} of its lines removed)")
    print(f"noise removed     {_share(score.noise)}")
    print(f"reprint source    {_share(score.reprint)}   set without a notice {_share(score.reprint_false)}")
    print("noise removed per kind:")
    for kind, pair in sorted(score.kinds.items()):
        print(f"  {kind:13s} {_share(pair)}")
    print("content lines lost, by the rule that removed them:")
    for rule, n in sorted(score.lost_by.items(), key=lambda kv: -kv[1]):
        print(f"  {rule:28s} {n}")
    print("content kept per language:")
    for lang, pair in sorted(score.langs.items()):
        print(f"  {lang:3s} {_share(pair)}")
    if show:
        from rich.console import Console
        from rich.markup import escape

        con = Console(highlight=False, soft_wrap=True)
        con.print(f"[bold]content lost[/] ({len(score.lost)}):")
        for key, line in score.lost[:show]:
            con.print(f"  {escape(key[:10])}  {escape(line[:150])}")
        con.print(f"[bold]noise left[/] ({len(score.left)}):")
        for key, kind, line in score.left[:show]:
            con.print(f"  {escape(key[:10])}  {kind:12s} {escape(line[:150])}")
        con.print(f"[bold]gold furniture left[/] ({len(score.furn_left)}):")
        for key, kind, line in score.furn_left[:show]:
            con.print(f"  {escape(key[:10])}  {kind:12s} {escape(line[:150])}")
        con.print(f"[bold]reprint source wrong[/] ({len(score.wrong_reprint)}):")
        for key, want, got in score.wrong_reprint[:show]:
            con.print(f"  {escape(key[:10])}  want {escape(str(want))}  got {escape(str(got))}")


def seeds_table(seeds: list[int], use_stats: bool = True) -> None:
    """The headline figures of several dressings of the same bodies, one line each:
    a change that helps one dressing only shows here."""
    print(f"{'seed':>4}  {'content strict':>24}  {'furniture aside':>24}  {'noise removed':>24}  reprint")
    for seed in seeds:
        corpus = build_corpus(seed=seed)
        out, _ = run(corpus, use_stats=use_stats)
        score = Score()
        for d, doc in zip(corpus, out):
            score.add(d, doc)
        print(f"{seed:>4}  {_share(score.content):>24}  {_share(score.content_cat):>24}  "
              f"{_share(score.noise):>24}  {_share(score.reprint)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7, help="seed of the noise (default 7)")
    ap.add_argument("--no-stats", action="store_true", help="no per-site line counts (each page alone)")
    ap.add_argument("--show", type=int, default=0, help="print up to K lost content / left noise lines")
    ap.add_argument("--seeds", default="", help="comma-separated seeds: one summary line each (strict, "
                    "furniture aside, noise removed, reprint source)")
    args = ap.parse_args()
    if args.seeds:
        seeds_table([int(s) for s in args.seeds.split(",")], use_stats=not args.no_stats)
        return
    corpus = build_corpus(seed=args.seed)
    out, seconds = run(corpus, use_stats=not args.no_stats)
    score = Score()
    for d, doc in zip(corpus, out):
        score.add(d, doc)
    report(score, len(corpus), seconds, args.show)


if __name__ == "__main__":
    main()
