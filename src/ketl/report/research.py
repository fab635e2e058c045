"""What a researcher looks at first: statement timelines, speakers, articles over time, reprints, cuts.

Pure pyarrow over the committed snapshot; every list is capped so a report of
20,000 articles stays fast. A section whose table or column an older ketl did
not write becomes one line in ``Research.missing`` instead of an error.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ResearchSettings", "Research", "research", "word_diff", "CUT_BINS"]

CUT_BINS = 20  # histogram bars of the removed share, 5 % each
OLDER = "not in this dataset (written by an older ketl): run `ketl run --full` with this version to add it"


@dataclass(frozen=True)
class ResearchSettings:
    timelines: int = 8            # statement clusters drawn as timelines
    timeline_rows: int = 12       # members listed per timeline
    speakers: int = 15
    over_time_sites: int = 8      # sites drawn; the rest is "other"
    reprints: int = 15
    most_cut: int = 15
    cut_edits: int = 5            # most-cut articles whose edits are listed
    edits_per_article: int = 12
    text_chars: int = 6000        # before/after texts are cut here
    article: str | None = None    # doc_id or source_path shown before/after; None: the most cut


@dataclass
class Research:
    timelines: list[dict[str, Any]] = field(default_factory=list)
    speakers: list[dict[str, Any]] = field(default_factory=list)
    speakers_canonical: bool = True
    over_time: dict[str, Any] | None = None     # {"bins": [...], "unit": str, "series": {site: [counts]}}
    reprints: list[dict[str, Any]] = field(default_factory=list)
    cut_hist: list[int] = field(default_factory=list)
    cut_measured: int = 0
    most_cut: list[dict[str, Any]] = field(default_factory=list)
    chosen: dict[str, Any] | None = None        # before/after of one article
    missing: dict[str, str] = field(default_factory=dict)  # section -> one line


def _has(root: Path, table: str) -> bool:
    """True when the table folder exists (an older dataset has no folder for a newer table)."""
    return (root / table).is_dir()


def research(root: Path, read: Callable[..., pa.Table], articles: pa.Table,
             s: ResearchSettings = ResearchSettings()) -> Research:
    """``articles`` holds doc_id, source_path, site, title, published, first_seen, n_chars, source_chars,
    n_edits; ``read(table, columns, where=None)`` reads the snapshot."""
    r = Research()
    if articles.num_rows == 0:  # an empty dataset: each section says "none", not "older ketl"
        return r
    when = pc.coalesce(articles.column("published"), articles.column("first_seen"))
    outlet = pc.coalesce(articles.column("site"), articles.column("source_path"))
    meta = articles.append_column("at", when).append_column("outlet", outlet)
    _timelines(r, root, read, meta, s)
    _speakers(r, read, s)
    _over_time(r, meta, s)
    _reprints(r, root, read, meta, s)
    _cuts(r, read, meta, s)
    return r


# -- statement timelines ---------------------------------------------------------------------------

def _timelines(r: Research, root: Path, read, meta: pa.Table, s: ResearchSettings) -> None:
    if not _has(root, "quote_clusters"):
        r.missing["timelines"] = f"Statement timelines: the quote_clusters table is {OLDER}."
        return
    clusters = read("quote_clusters", ["cluster_id", "canonical_text", "speaker_name", "speaker_disagree",
                                       "members", "articles", "n_outlets", "first_outlet", "spread_hours",
                                       "wordings", "min_similarity"])
    clusters = clusters.filter(pc.greater(clusters.column("articles"), 1))
    if clusters.num_rows == 0:
        return
    top = clusters.sort_by([("articles", "descending"), ("members", "descending"),
                            ("cluster_id", "ascending")]).slice(0, s.timelines).to_pylist()
    ids = pa.array([c["cluster_id"] for c in top], pa.string())
    quotes = read("quotes", ["quote_id", "doc_id", "text", "speaker_name", "speaker", "kind", "cluster_id"],
                  where=pc.field("cluster_id").isin(ids))
    quotes = quotes.filter(pc.fill_null(pc.equal(quotes.column("kind"), "statement"), True))
    docs = meta.filter(pc.is_in(meta.column("doc_id"), value_set=pc.unique(quotes.column("doc_id"))))
    joined = quotes.join(docs.select(["doc_id", "at", "outlet", "published"]), "doc_id")
    for c in top:
        rows = joined.filter(pc.equal(joined.column("cluster_id"), c["cluster_id"]))
        rows = rows.sort_by([("at", "ascending"), ("doc_id", "ascending"), ("quote_id", "ascending")])
        members = rows.slice(0, s.timeline_rows).to_pylist()
        first = members[0]["at"] if members and members[0]["at"] else None
        c["rows"] = [{"at": m["at"], "dated": m["published"] is not None, "outlet": m["outlet"],
                      "doc_id": m["doc_id"], "speaker": m["speaker_name"] or m["speaker"],
                      "hours": _hours(first, m["at"]),
                      "diff": word_diff(_head(c["canonical_text"]), _head(m["text"]))} for m in members]
        c["hidden"] = max(0, rows.num_rows - len(members))
        r.timelines.append(c)


def _hours(first: datetime | None, at: datetime | None) -> float | None:
    if first is None or at is None:
        return None
    return (at - first).total_seconds() / 3600


def _head(text: str, n: int = 1500) -> str:
    """A quote as long as an article would make difflib quadratic: its head is compared (and shown, with …)."""
    return text if len(text) <= n else text[:n] + "…"


_TOKEN = re.compile(r"\s+|[^\s]+")


def word_diff(canonical: str, text: str) -> list[tuple[str, str]]:
    """``text`` against ``canonical`` word by word: (op, words) with op ``=``, ``-`` (only in the
    canonical text) or ``+`` (only in this member). Spaces ride with the words they follow."""
    a, b = _TOKEN.findall(canonical or ""), _TOKEN.findall(text or "")
    ops: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(("=", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            ops.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            ops.append(("+", "".join(b[j1:j2])))
    return ops


# -- speakers --------------------------------------------------------------------------------------

def _speakers(r: Research, read, s: ResearchSettings) -> None:
    quotes = read("quotes", ["doc_id", "speaker", "speaker_id", "speaker_name", "kind"])
    if quotes.num_rows == 0:
        return
    quotes = quotes.filter(pc.fill_null(pc.equal(quotes.column("kind"), "statement"), True))
    if quotes.column("speaker_name").null_count == quotes.num_rows:
        # an older ketl wrote the speaker as written only: group that, and say so
        r.speakers_canonical = False
        key = "speaker"
    else:
        key = "speaker_name"
    named = quotes.filter(pc.is_valid(quotes.column(key)))
    if named.num_rows == 0:
        return
    grouped = named.group_by(key).aggregate([("doc_id", "count"), ("doc_id", "count_distinct"),
                                             ("speaker", "count_distinct")])
    grouped = grouped.sort_by([("doc_id_count", "descending"), (key, "ascending")]).slice(0, s.speakers)
    r.speakers = [{"name": g[key], "quotes": g["doc_id_count"], "articles": g["doc_id_count_distinct"],
                   "spellings": g["speaker_count_distinct"]} for g in grouped.to_pylist()]


# -- articles over time ----------------------------------------------------------------------------

def _over_time(r: Research, meta: pa.Table, s: ResearchSettings) -> None:
    """Publication dates only: mixing in when ketl first saw undated articles would put them years
    after the news; only a dataset without any publication date is drawn by first_seen."""
    by = "published"
    dated = meta.filter(pc.is_valid(meta.column(by)))
    if dated.num_rows == 0:
        by = "first_seen"
        dated = meta.filter(pc.is_valid(meta.column(by)))
    if dated.num_rows == 0:
        r.missing["over_time"] = ("Articles over time: no article has a publication date or a first_seen "
                                  "(a dataset written by an older ketl).")
        return
    at = dated.column(by)
    lo, hi = pc.min(at).as_py(), pc.max(at).as_py()
    days = (hi - lo).total_seconds() / 86400
    unit = "day" if days <= 120 else "week" if days <= 800 else "month"
    bins = pc.floor_temporal(at, 1, unit, week_starts_monday=True)
    sites = pc.fill_null(dated.column("site"), "(unknown)")
    top = [v["values"] for v in sorted(pc.value_counts(sites).to_pylist(),
                                       key=lambda v: (-v["counts"], v["values"]))[: s.over_time_sites]]
    label = pc.if_else(pc.is_in(sites, value_set=pa.array(top, pa.string())), sites, "other")
    counts = pa.table({"bin": bins, "site": label}).group_by(["bin", "site"]).aggregate([("site", "count")])
    order = _every_bin(sorted(set(counts.column("bin").to_pylist())), unit)
    index = {b: i for i, b in enumerate(order)}
    series: dict[str, list[int]] = {name: [0] * len(order) for name in [*top, "other"]}
    for row in counts.to_pylist():
        series[row["site"]][index[row["bin"]]] = row["site_count"]
    if not any(series["other"]):
        del series["other"]
    r.over_time = {"bins": order, "unit": unit, "series": series, "by": by, "drawn": dated.num_rows,
                   "left_out": meta.num_rows - dated.num_rows}


def _every_bin(seen: list[datetime], unit: str) -> list[datetime]:
    """The bins from first to last with the empty ones too, so a quiet week shows as a gap."""
    if unit == "month" or len(seen) < 2:
        return seen
    from datetime import timedelta

    step = timedelta(days=1 if unit == "day" else 7)
    out, t = [], seen[0]
    while t <= seen[-1]:
        out.append(t)
        t += step
    return out


# -- reprinted articles ----------------------------------------------------------------------------

def _reprints(r: Research, root: Path, read, meta: pa.Table, s: ResearchSettings) -> None:
    if not _has(root, "article_clusters"):
        r.missing["reprints"] = f"Reprinted articles: the article_clusters table is {OLDER}."
        return
    groups = read("article_clusters", ["cluster_id", "title", "members", "n_outlets", "doc_ids", "delays_hours",
                                       "first_at", "first_dated", "first_outlet", "spread_hours"])
    if groups.num_rows == 0:
        return
    top = groups.sort_by([("members", "descending"), ("n_outlets", "descending"),
                          ("cluster_id", "ascending")]).slice(0, s.reprints).to_pylist()
    wanted = pa.array(sorted({d for g in top for d in g["doc_ids"]}), pa.string())
    who = meta.filter(pc.is_in(meta.column("doc_id"), value_set=wanted)).select(["doc_id", "outlet"]).to_pylist()
    outlet_of = {w["doc_id"]: w["outlet"] for w in who}
    for g in top:
        g["copies"] = [(outlet_of.get(d, d), h) for d, h in zip(g["doc_ids"][1:], g["delays_hours"][1:])]
        r.reprints.append(g)


# -- the share of each article removed -------------------------------------------------------------

def _cuts(r: Research, read, meta: pa.Table, s: ResearchSettings) -> None:
    has = meta.filter(pc.fill_null(pc.greater(meta.column("source_chars"), 0), False))
    if has.num_rows == 0:
        r.missing["cuts"] = ("Text removed per article: no article has source_chars "
                             "(a dataset written by an older ketl).")
        return
    share = pc.subtract(1.0, pc.divide(pc.cast(has.column("n_chars"), pa.float64()),
                                       pc.cast(has.column("source_chars"), pa.float64())))
    share = pc.max_element_wise(share, 0.0)
    bins = pc.min_element_wise(pc.cast(pc.floor(pc.multiply(share, CUT_BINS)), pa.int64()), CUT_BINS - 1)
    hist = [0] * CUT_BINS
    for v in pc.value_counts(bins).to_pylist():
        hist[v["values"]] = v["counts"]
    r.cut_hist, r.cut_measured = hist, has.num_rows
    ranked = has.append_column("share", share).sort_by([("share", "descending"), ("doc_id", "ascending")])
    ranked = ranked.select(["doc_id", "source_path", "outlet", "title", "share", "n_chars", "source_chars",
                            "n_edits"])
    r.most_cut = ranked.slice(0, s.most_cut).to_pylist()
    shown = pa.array([m["doc_id"] for m in r.most_cut[: s.cut_edits]], pa.string())
    edits = read("edits", _EDIT_COLUMNS, where=pc.field("doc_id").isin(shown))
    for m in r.most_cut:
        rows = edits.filter(pc.equal(edits.column("doc_id"), m["doc_id"])).sort_by("seq")
        m["edits"] = rows.slice(0, s.edits_per_article).to_pylist() if m["doc_id"] in shown.to_pylist() else None
    _choose(r, read, ranked, edits, s)


_EDIT_COLUMNS = ["doc_id", "seq", "stage", "rule", "before", "after", "source_start", "source_end"]


def _choose(r: Research, read, ranked: pa.Table, edits: pa.Table, s: ResearchSettings) -> None:
    """The article asked for (its doc_id or source_path), else the most cut one."""
    if s.article:
        hit = ranked.filter(pc.or_(pc.equal(ranked.column("doc_id"), s.article),
                                   pc.equal(ranked.column("source_path"), s.article)))
        if hit.num_rows:
            article = hit.slice(0, 1).to_pylist()[0]
            rows = read("edits", _EDIT_COLUMNS, where=pc.field("doc_id") == article["doc_id"])
            r.chosen = {**_before_after(article, read, rows, s), "asked": True}
            return
        r.missing["chosen"] = (f"No article {s.article!r} (doc_id or source_path) with source_chars in this "
                               "dataset: the most cut article is shown instead.")
    if r.most_cut:
        r.chosen = {**_before_after(r.most_cut[0], read, edits, s), "asked": False}


def _before_after(article: dict[str, Any], read, edits: pa.Table, s: ResearchSettings) -> dict[str, Any]:
    """The chosen article: its decoded source with every edit's span marked (when the raw file is
    still where the latest run read it and its bytes are unchanged), and its curated text."""
    text = read("articles", ["doc_id", "text", "source_sha256"], where=pc.field("doc_id") == article["doc_id"])
    rows = edits.filter(pc.equal(edits.column("doc_id"), article["doc_id"]))
    rows = rows.sort_by([("source_start", "ascending"), ("seq", "ascending")]).to_pylist()
    curated = text.column("text")[0].as_py() if text.num_rows else ""
    sha = text.column("source_sha256")[0].as_py() if text.num_rows else ""
    source = _source(read, article["source_path"], sha)
    return {**article, "curated": curated[: s.text_chars], "curated_cut": len(curated) > s.text_chars,
            "source": source[: s.text_chars] if source is not None else None,
            "spans": [(e["stage"], e["rule"], e["before"], e["after"], e["source_start"], e["source_end"])
                      for e in rows]}


def _source(read, source_path: str, sha256: str) -> str | None:
    """The decoded source of a plain-text article, or None (a JSONL line, a moved or changed file)."""
    import hashlib

    from ..ingest.decode import DecodeError, decode_bytes

    if "#" in source_path:
        return None
    runs = read("runs", ["raw_root", "finished_at"]).sort_by([("finished_at", "descending")])
    for raw_root in dict.fromkeys(runs.column("raw_root").to_pylist()):
        path = Path(raw_root) / source_path
        try:
            data = path.read_bytes() if path.is_file() and path.stat().st_size < 8_000_000 else None
        except OSError:
            data = None
        if data is not None and hashlib.sha256(data).hexdigest() == sha256:
            try:
                return decode_bytes(data).text
            except DecodeError:
                return None
    return None
