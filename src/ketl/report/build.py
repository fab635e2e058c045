"""``ketl report``: one self-contained HTML page that shows what the dataset holds and what the runs did.

The page is written beside the dataset (``out/report.html``) with its charts
embedded as base64 PNGs, so the single file can be mailed; the same PNGs are
also written to ``out/report_files/``. Everything is read from one committed
snapshot (``out/.ketl/current`` resolved once), so a run committing meanwhile
cannot mix two datasets into one report. The output depends only on the data:
no "generated at" clock, sorted ties, PNGs without version metadata, so the
same dataset gives the same bytes.

Reading and summarising use pyarrow only; matplotlib (a core dependency) draws
the charts and is imported lazily by :mod:`ketl.report.charts`; without it the
page is written without charts.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.compute as pc

from ..schemas import EDIT_STAGE_RENAMES, TABLES
from ..atomic import atomic_write
from ..store import INTERNAL, PLACEHOLDER
from .research import Research, ResearchSettings, research
from .research_html import research_sections, table as _research_table, visible

__all__ = ["ReportSettings", "Summary", "summarize", "render_html", "write_report"]

# Table folders a ketl dataset always has (the store writes placeholders for empty ones).
_REQUIRED = ("articles", "runs")
UNKNOWN = "(unknown)"
CHARTS = frozenset({"articles_over_time.png", "removed_share.png", "articles_per_site.png", "languages.png", "edits_per_stage.png", "edits_per_rule.png",
                    "rejects_by_reason.png", "runs.png"})


@dataclass(frozen=True)
class ReportSettings:
    top_sites: int = 20
    top_languages: int = 12
    top_rules: int = 25
    example_rules: int = 10       # rules that get before/after examples
    examples_per_rule: int = 3
    top_reject_paths: int = 3
    top_clusters: int = 10
    top_entity_fixes: int = 25
    top_entities: int = 15
    top_suggestions: int = 15
    snippet_chars: int = 160      # before/after and quote text are cut here
    run_rows: int = 30            # newest runs listed in the table (the chart shows all)
    runs_per_bar_max: int = 60    # more runs than this are charted per day
    research: ResearchSettings = ResearchSettings()


# -- reading ---------------------------------------------------------------------------------------

def _snapshot(out: Path) -> Path:
    """The folder holding the table folders: the committed snapshot, or ``out`` itself."""
    if not out.exists():
        raise FileNotFoundError(f"no dataset at {out}: run `ketl run --out {out}` first")
    if not out.is_dir():
        raise ValueError(f"{out} is not a folder, so not a ketl dataset")
    current = out / INTERNAL / "current"
    root = current.resolve() if current.exists() else out
    for table in _REQUIRED:
        if not (root / table).is_dir():
            raise ValueError(f"{out} is not a ketl dataset (it has no {table}/ table folder)")
    return root


def _read(root: Path, table: str, columns: list[str], where: pc.Expression | None = None) -> pa.Table:
    """``columns`` of the rows of ``table`` matching ``where``; empty (with the schema) when there are none."""
    import pyarrow.dataset as ds

    schema = TABLES[table]
    folder = root / table
    files = [p for p in folder.rglob("*.parquet")] if folder.is_dir() else []
    if not any(p.name != PLACEHOLDER for p in files):
        return schema.empty_table().select(columns)
    # partitioning is named so the run_date folders don't clash with the explicit schema
    try:
        dataset = ds.dataset(folder, format="parquet", schema=schema,
                             partitioning=ds.partitioning(pa.schema([("run_date", pa.string())]),
                                                          flavor="hive"))
        return dataset.to_table(columns=columns, filter=where)
    except (pa.ArrowException, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"cannot read the {table} table of the dataset: {first}") from None


ENTITY_STAGE = "entities"  # the entity stage's edits (name corrections)
_ENTITY_STAGES = [ENTITY_STAGE, *(old for old, new in EDIT_STAGE_RENAMES.items() if new == ENTITY_STAGE)]


def _current_stages(edits: pa.Table) -> pa.Table:
    """``edits`` with the stage names of ketl 0.2 (``entity``, ``normalize``...) under
    their current names, so a dataset written before and after the rename reads as one."""
    i = edits.schema.get_field_index("stage")
    column = edits.column(i)
    for old, new in EDIT_STAGE_RENAMES.items():
        column = pc.if_else(pc.equal(column, old), new, column)
    return edits.set_column(i, "stage", column)


# -- summarising -----------------------------------------------------------------------------------

@dataclass
class Summary:
    """Everything the page shows, as plain Python values (also handy for tests and artifacts)."""

    out: str
    headline: dict[str, int]
    latest_run: dict[str, Any] | None
    sites: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    stages: list[tuple[str, int]]
    rules: list[tuple[str, str, int]]                       # (rule, stage, count)
    n_rules: int
    examples: dict[str, list[tuple[str, str, str]]]         # rule -> (before, after, source_path)
    rejects: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    entity_fixes: list[tuple[str, str, int]]                # (before, after, count)
    entities: list[tuple[str, str, int, int]]               # (canonical, type, mentions, articles)
    suggestions_pending: int
    suggestions: list[tuple[str, str, float, int]]          # (span, candidate, best score, count)
    runs: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    research: Research = field(default_factory=Research)


def _counts(values: Iterable[Any], none: str = UNKNOWN) -> list[tuple[str, int]]:
    """(value, count) sorted by count then value; None becomes ``none``."""
    tally: dict[str, int] = {}
    for v in values:
        key = none if v is None or v == "" else str(v)
        tally[key] = tally.get(key, 0) + 1
    return sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))


def _value_counts(column: pa.ChunkedArray, none: str = UNKNOWN) -> list[tuple[str, int]]:
    """Like :func:`_counts` but computed in Arrow (columns can have millions of rows)."""
    if len(column) == 0:
        return []
    tally: dict[str, int] = {}
    for item in pc.value_counts(column).to_pylist():
        v = item["values"]
        key = none if v is None or v == "" else str(v)
        tally[key] = tally.get(key, 0) + item["counts"]
    return sorted(tally.items(), key=lambda kv: (-kv[1], kv[0]))


def _top(pairs: list[tuple[str, int]], n: int, other: str = "other") -> list[tuple[str, int]]:
    if len(pairs) <= n:
        return pairs
    rest = pairs[n:]
    return pairs[:n] + [(f"{other} ({len(rest)})", sum(c for _, c in rest))]


def summarize(out: Path | str, settings: ReportSettings = ReportSettings()) -> Summary:
    """Read the dataset at ``out`` and compute what the report shows.

    Raises FileNotFoundError when ``out`` does not exist and ValueError when it
    is not a readable ketl dataset (one-line messages, for the CLI).
    """
    out = Path(out)
    root = _snapshot(out)
    s = settings
    articles = _read(root, "articles", ["doc_id", "source_path", "site", "language", "near_duplicate_of", "title",
                                        "published", "first_seen", "n_chars", "source_chars", "n_edits"])
    # the edit texts can be large: counts use the small columns, texts are read for the shown rules only
    edits = _current_stages(_read(root, "edits", ["stage", "rule", "seq"]))
    rules = _rules(edits, s.top_rules)
    shown = [r for r, _, _ in rules[: s.example_rules]]
    texts = _current_stages(_read(root, "edits", ["doc_id", "source_path", "seq", "stage", "rule", "before",
                                                  "after"],
                                  where=pc.field("rule").isin(shown) | pc.field("stage").isin(_ENTITY_STAGES)))
    quotes = _read(root, "quotes", ["quote_id", "doc_id", "source_path", "text", "speaker",
                                    "cluster_id", "is_canonical", "kind"])
    # terms, scare quotes and names are not statements: they stay out of the cluster list
    # (rows of an older ketl have no kind and are kept)
    quotes = quotes.filter(pc.fill_null(pc.equal(quotes.column("kind"), "statement"), True))
    rejects = _read(root, "rejects", ["source_path", "reason", "detail"])
    runs = _read(root, "runs", ["run_id", "started_at", "finished_at", "pipeline_version", "config_hash",
                                "full", "files_seen", "files_new", "files_skipped", "rejected",
                                "articles", "edits", "quotes", "seconds", "status"])
    entities = _read(root, "entities", ["doc_id", "canonical", "type"])
    suggestions = _read(root, "suggestions", ["span", "candidate", "score", "status"])

    sites = _value_counts(articles.column("site"))
    multi = _multi_clusters(quotes)
    headline = {
        "articles": articles.num_rows,
        "sites": sum(1 for name, _ in sites if name != UNKNOWN),
        "runs": runs.num_rows,
        "edits": edits.num_rows,
        "rejects": rejects.num_rows,
        "quotes": quotes.num_rows,
        "quote clusters": len(multi),
        "near-duplicate articles": articles.num_rows - articles.column("near_duplicate_of").null_count,
    }

    run_rows = sorted(runs.to_pylist(), key=lambda r: (r["finished_at"], r["run_id"]))
    pending = suggestions.filter(pc.fill_null(pc.equal(suggestions.column("status"), "pending"), True))

    return Summary(
        out=str(out),
        headline=headline,
        latest_run=run_rows[-1] if run_rows else None,
        sites=sites,
        languages=_value_counts(articles.column("language")),
        stages=_value_counts(edits.column("stage")),
        rules=rules,
        n_rules=len(pc.unique(edits.column("rule"))) if edits.num_rows else 0,
        examples=_examples(texts, shown, s),
        rejects=_rejects(rejects, s.top_reject_paths),
        clusters=_clusters(quotes, articles, multi[: s.top_clusters], s.snippet_chars),
        entity_fixes=_entity_fixes(texts, s.top_entity_fixes),
        entities=_entities(entities, s.top_entities),
        suggestions_pending=pending.num_rows,
        suggestions=_suggestions(pending, s.top_suggestions),
        runs=run_rows,
        research=research(root, lambda table, columns, where=None: _read(root, table, columns, where),
                          articles, s.research),
    )


def _rules(edits: pa.Table, n: int) -> list[tuple[str, str, int]]:
    if edits.num_rows == 0:
        return []
    grouped = edits.group_by(["rule", "stage"]).aggregate([("seq", "count")]).to_pylist()
    rows = sorted(((g["rule"], g["stage"], g["seq_count"]) for g in grouped), key=lambda r: (-r[2], r[0], r[1]))
    return rows[:n]


def _examples(edits: pa.Table, rules: list[str], s: ReportSettings) -> dict[str, list[tuple[str, str, str]]]:
    """Up to ``examples_per_rule`` distinct before/after pairs for the most frequent rules.

    Picked in (source_path, seq) order, preferring different articles, so they
    are the same in every report of the same data.
    """
    out: dict[str, list[tuple[str, str, str]]] = {}
    for rule in rules:
        rows = edits.filter(pc.equal(edits.column("rule"), rule))
        rows = rows.sort_by([("source_path", "ascending"), ("seq", "ascending")])
        seen: set[tuple[str, str]] = set()
        docs: set[str] = set()
        picked: list[tuple[str, str, str]] = []
        later: list[tuple[str, str, str]] = []
        # a rule that always makes the same change would otherwise be scanned to its end
        for r in _iter_rows(rows.select(["doc_id", "source_path", "before", "after"]).slice(0, 20_000)):
            pair = (r["before"], r["after"])
            if pair in seen:
                continue
            seen.add(pair)
            (later if r["doc_id"] in docs else picked).append((r["before"], r["after"], r["source_path"]))
            docs.add(r["doc_id"])
            if len(picked) >= s.examples_per_rule:
                break
        out[rule] = (picked + later)[: s.examples_per_rule]
    return out


def _iter_rows(table: pa.Table, chunk: int = 512) -> Iterable[dict[str, Any]]:
    """Rows as dicts, converted a slice at a time: the caller usually stops after a few."""
    for start in range(0, table.num_rows, chunk):
        yield from table.slice(start, chunk).to_pylist()


def _rejects(rejects: pa.Table, n_paths: int) -> list[dict[str, Any]]:
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(rejects.to_pylist(), key=lambda r: (r["reason"], r["source_path"])):
        by_reason.setdefault(r["reason"], []).append(r)
    rows = [{"reason": reason, "count": len(items),
             "examples": [(i["source_path"], i["detail"]) for i in items[:n_paths]]}
            for reason, items in by_reason.items()]
    return sorted(rows, key=lambda r: (-r["count"], r["reason"]))


def _multi_clusters(quotes: pa.Table) -> list[tuple[str, int, int]]:
    """(cluster_id, members, articles) of clusters with more than one member.

    Largest first by the articles that carry the quote, then by members: a quote
    repeated twelve times on one page matters less than one carried by five outlets.
    """
    rows = quotes.filter(pc.is_valid(quotes.column("cluster_id")))
    if rows.num_rows == 0:
        return []
    grouped = rows.group_by("cluster_id").aggregate([("doc_id", "count"), ("doc_id", "count_distinct")]).to_pylist()
    multi = [(g["cluster_id"], g["doc_id_count"], g["doc_id_count_distinct"]) for g in grouped
             if g["doc_id_count"] > 1]
    return sorted(multi, key=lambda c: (-c[2], -c[1], c[0]))


def _clusters(quotes: pa.Table, articles: pa.Table, top: list[tuple[str, int, int]], cut: int) -> list[dict[str, Any]]:
    if not top:
        return []
    ids = pa.array([c for c, _, _ in top], pa.string())
    members = quotes.filter(pc.is_in(quotes.column("cluster_id"), value_set=ids)).to_pylist()
    doc_ids = pa.array(sorted({m["doc_id"] for m in members}), pa.string())
    site_of = {a["doc_id"]: a["site"] for a in
               articles.filter(pc.is_in(articles.column("doc_id"), value_set=doc_ids)).to_pylist()}
    result = []
    for cid, size, n_articles in top:
        rows = sorted((m for m in members if m["cluster_id"] == cid), key=lambda m: m["quote_id"])
        canonical = next((m for m in rows if m["quote_id"] == cid), None) \
            or next((m for m in rows if m["is_canonical"]), rows[0])
        result.append({
            "cluster_id": cid,
            "size": size,
            "articles": n_articles,
            "text": _cut(canonical["text"], cut * 2),
            "speakers": [(name, n) for name, n in _counts(m["speaker"] for m in rows) if name != UNKNOWN],
            "unattributed": sum(1 for m in rows if not m["speaker"]),
            # outlets count articles, not quotes: one article can repeat a quote
            "outlets": _counts(site_of.get(d) or p for d, p in sorted({(m["doc_id"], m["source_path"]) for m in rows})),
        })
    return result


def _entity_fixes(edits: pa.Table, n: int) -> list[tuple[str, str, int]]:
    fixes = edits.filter(pc.equal(edits.column("stage"), ENTITY_STAGE))
    if fixes.num_rows == 0:
        return []
    grouped = fixes.group_by(["before", "after"]).aggregate([("seq", "count")]).to_pylist()
    return sorted(((g["before"], g["after"], g["seq_count"]) for g in grouped),
                  key=lambda r: (-r[2], r[0], r[1]))[:n]


def _entities(entities: pa.Table, n: int) -> list[tuple[str, str, int, int]]:
    if entities.num_rows == 0:
        return []
    grouped = entities.group_by(["canonical", "type"]).aggregate(
        [("doc_id", "count"), ("doc_id", "count_distinct")]).to_pylist()
    return sorted(((g["canonical"], g["type"], g["doc_id_count"], g["doc_id_count_distinct"]) for g in grouped),
                  key=lambda r: (-r[2], r[0], r[1]))[:n]


def _suggestions(pending: pa.Table, n: int) -> list[tuple[str, str, float, int]]:
    if pending.num_rows == 0:
        return []
    grouped = pending.group_by(["span", "candidate"]).aggregate(
        [("score", "max"), ("score", "count")]).to_pylist()
    return sorted(((g["span"], g["candidate"], round(float(g["score_max"]), 3), g["score_count"]) for g in grouped),
                  key=lambda r: (-r[3], -r[2], r[0], r[1]))[:n]


# -- charts ----------------------------------------------------------------------------------------

def _charts(summary: Summary, s: ReportSettings) -> dict[str, bytes]:
    """The PNGs, by file name; a chart is left out when it would show nothing."""
    from . import charts as rc

    charts: dict[str, bytes] = {}
    if summary.sites:
        top = _top(summary.sites, s.top_sites)
        charts["articles_per_site.png"] = rc.hbar(
            "Articles per site", [k for k, _ in top], [v for _, v in top], "articles",
            accent=[k == UNKNOWN or (i == len(top) - 1 and len(top) < len(summary.sites))
                    for i, (k, _) in enumerate(top)])
    if summary.languages:
        top = _top(summary.languages, s.top_languages)
        charts["languages.png"] = rc.hbar("Languages of the curated text", [k for k, _ in top],
                                          [v for _, v in top], "articles")
    if summary.stages:
        charts["edits_per_stage.png"] = rc.hbar("Edits per stage", [k for k, _ in summary.stages],
                                                [v for _, v in summary.stages], "edits",
                                                colours=[rc.stage_colour(k) for k, _ in summary.stages])
    if summary.rules:
        shown = f" (top {len(summary.rules)} of {summary.n_rules})" if len(summary.rules) < summary.n_rules else ""
        charts["edits_per_rule.png"] = rc.hbar(
            f"Edits per rule{shown}", [rule for rule, _, _ in summary.rules], [n for *_, n in summary.rules],
            "edits", groups=[stage for _, stage, _ in summary.rules])
    if summary.rejects:
        charts["rejects_by_reason.png"] = rc.hbar("Rejected inputs by reason", [r["reason"] for r in summary.rejects],
                                                  [r["count"] for r in summary.rejects], "inputs")
    charts.update(_research_charts(summary.research))
    if summary.runs:
        charts["runs.png"] = rc.runs(*_run_series(summary.runs, s.runs_per_bar_max))
    return charts


def _research_charts(r: Research) -> dict[str, bytes]:
    from . import charts as rc

    charts: dict[str, bytes] = {}
    t = r.over_time
    if t:
        fmt = "%Y-%m" if t["unit"] == "month" else "%Y-%m-%d"
        by = "publication date" if t["by"] == "published" else "first seen"
        charts["articles_over_time.png"] = rc.stacked(f"Articles per {t['unit']} by site ({by})",
                                                      [b.strftime(fmt) for b in t["bins"]], t["series"], "articles")
    if r.cut_measured:
        charts["removed_share.png"] = rc.histogram("Share of each article's text removed", r.cut_hist,
                                                   "removed (% of the source's characters)", "articles")
    return charts


def _run_series(runs: list[dict[str, Any]], most: int) -> tuple:
    """Title, labels, articles, seconds and partial flags: one bar per run, or per day when there are many."""
    if len(runs) <= most:
        labels = [r["finished_at"].strftime("%Y-%m-%d %H:%M") for r in runs]
        if len(set(labels)) < len(labels):  # several runs a minute (tests, retries): show seconds
            labels = [r["finished_at"].strftime("%m-%d %H:%M:%S") for r in runs]
        return ("Runs: articles added (bars) and wall time (line)", labels, [r["articles"] for r in runs],
                [r["seconds"] for r in runs], [r["status"] != "ok" for r in runs])
    # an hourly schedule makes thousands of runs: bars per day stay readable
    days: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        days.setdefault(r["finished_at"].strftime("%Y-%m-%d"), []).append(r)
    return (f"Runs per day ({len(runs):,} runs): articles added (bars) and total wall time (line)", list(days),
            [sum(r["articles"] for r in d) for d in days.values()],
            [sum(r["seconds"] for r in d) for d in days.values()],
            [any(r["status"] != "ok" for r in d) for d in days.values()])


# -- HTML ------------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2733;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:1px solid #d5dbe1;padding-bottom:.2em}
.sub{color:#5b6875}.cards{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
.card{border:1px solid #d5dbe1;border-radius:6px;padding:.5em .9em;min-width:8em}
.card b{display:block;font-size:1.5em}.card span{color:#5b6875;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;width:100%}th,td{border-bottom:1px solid #e5e9ed;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
code{background:#f3f5f7;padding:0 .2em;white-space:pre-wrap;word-break:break-word}
del{background:#fde2e1;text-decoration:none}ins{background:#dcf5e0;text-decoration:none}
.muted{color:#7b8794}.warn{color:#b45309;font-weight:600}img{max-width:100%;height:auto;display:block;margin:.6em 0}
blockquote{margin:.2em 0;padding-left:.8em;border-left:3px solid #3b6ea5}
th.n{text-align:right}.nw{white-space:nowrap}.missing{color:#5b6875;font-style:italic}
table.timeline td:first-child{white-space:nowrap}q{quotes:none}q del{margin-right:.25em}
.stage{border-left:4px solid;padding-left:.3em;white-space:nowrap}
.ba{display:grid;grid-template-columns:1fr 1fr;gap:1em}.ba pre{white-space:pre-wrap;word-break:break-word;
background:#f8f9fa;padding:.6em;max-height:40em;overflow:auto;font-size:12px}
.ba del{text-decoration:line-through}.ba mark{color:inherit}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _cut(text: str | None, n: int) -> str:
    text = text or ""
    return text if len(text) <= n else text[: n - 1] + "…"


def _visible(text: str, n: int) -> str:
    return visible(text, n)


_table = _research_table  # one table writer: numbers right-aligned under right-aligned headers


def _img(charts: dict[str, bytes], name: str, alt: str) -> str:
    if name not in charts:
        return ""
    data = base64.b64encode(charts[name]).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def render_html(summary: Summary, charts: dict[str, bytes], settings: ReportSettings = ReportSettings(),
                note: str = "") -> str:
    parts = _html_head(summary, note)
    parts.extend(research_sections(summary.research, charts, _img))
    for section in (_html_articles, _html_edits, _html_rejects, _html_quotes, _html_entities, _html_runs):
        parts.extend(section(summary, charts, settings))
    parts.append("</body></html>\n")
    return "".join(parts)


def _html_head(summary: Summary, note: str) -> list[str]:
    h = summary.headline
    parts: list[str] = []
    add = parts.append
    add(f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>ketl report: {_e(Path(summary.out).name or summary.out)}</title><style>{_CSS}</style></head><body>")
    add("<h1>ketl report</h1>" + (f"<p class=\"sub\">{_e(note)}</p>" if note else ""))
    add(f"<p class=\"sub\">Dataset <code>{_e(summary.out)}</code>")
    last = summary.latest_run
    if last:
        add(f", as of the run finished {_e(last['finished_at'].strftime('%Y-%m-%d %H:%M:%S UTC'))}"
            f" (<code>{_e(last['run_id'][:8])}</code>, ketl {_e(last['pipeline_version'])},"
            f" config <code>{_e(last['config_hash'][:12])}</code>, status {_status(last['status'])})")
    else:
        add(": no run has committed yet")
    add(".</p>")

    add('<div class="cards">' + "".join(f"<div class=\"card\"><b>{v:,}</b><span>{_e(k)}</span></div>"
                                        for k, v in h.items()) + "</div>")
    add('<p class="muted">Quote clusters counts clusters with more than one member; near-duplicate articles are '
        "articles whose near_duplicate_of points at an earlier article.</p>")
    return parts


def _html_articles(summary: Summary, charts: dict[str, bytes], settings: ReportSettings) -> list[str]:
    parts: list[str] = []
    add = parts.append
    add("<h2>Articles</h2>")
    if summary.sites:
        add(_img(charts, "articles_per_site.png", "articles per site"))
        add(_img(charts, "languages.png", "languages"))
        unknown = dict(summary.sites).get(UNKNOWN, 0)
        if unknown:
            add(f'<p class="muted">{unknown:,} articles have no site: no JSONL <code>site</code>, '
                "no title suffix and no folder under raw/ named one.</p>")
    else:
        add("<p>No articles yet.</p>")
    return parts


def _html_edits(summary: Summary, charts: dict[str, bytes], settings: ReportSettings) -> list[str]:
    parts: list[str] = []
    add = parts.append
    s = settings
    add("<h2>Edits</h2><p class=\"muted\">Every change ketl made to a text is a row of the edits table, "
        "located in the decoded source; replay them by <code>seq</code> to audit an article.</p>")
    if summary.rules:
        add(_img(charts, "edits_per_stage.png", "edits per stage"))
        add(_img(charts, "edits_per_rule.png", "edits per rule"))
        add(f"<h3>Examples of the {len(summary.examples)} most frequent rules</h3>"
            '<p class="muted">⏎ marks a line break, ⍽ a no-break space; red was removed, green inserted.</p>')
        rows = []
        for rule, stage, n in summary.rules:
            for before, after, path in summary.examples.get(rule, []):
                rows.append([f"<code>{_e(rule)}</code>", f"<code><del>{_visible(before, s.snippet_chars)}</del></code>",
                             f"<code><ins>{_visible(after, s.snippet_chars)}</ins></code>" if after
                             else '<span class="muted">(removed)</span>', f"<code>{_e(path)}</code>"])
        add(_table(["rule", "before", "after", "article"], rows))
    else:
        add("<p>No edits.</p>")
    return parts


def _html_rejects(summary: Summary, charts: dict[str, bytes], settings: ReportSettings) -> list[str]:
    parts: list[str] = []
    add = parts.append
    add("<h2>Rejected inputs</h2>")
    if summary.rejects:
        add(_img(charts, "rejects_by_reason.png", "rejects by reason"))
        rows = [[f"<code>{_e(r['reason'])}</code>", f"{r['count']:,}",
                 "<br>".join(f"<code>{_e(p)}</code> <span class=\"muted\">{_e(_cut(d, 120))}</span>"
                             for p, d in r["examples"])] for r in summary.rejects]
        add(_table(["reason", "inputs", "examples"], rows, numeric={1}))
    else:
        add("<p>No input was rejected.</p>")
    return parts


def _html_quotes(summary: Summary, charts: dict[str, bytes], settings: ReportSettings) -> list[str]:
    parts: list[str] = []
    add = parts.append
    h = summary.headline
    add("<h2>Largest quote clusters</h2><p class=\"muted\">A cluster is the same quote (near-duplicates "
        "included) said more than once; the ones carried by the most articles come first. The text is the "
        "earliest member's; an outlet is the article's site, or its source file when the site is unknown.</p>")
    if summary.clusters:
        rows = []
        for c in summary.clusters:
            speakers = ", ".join(f"{_e(k)}{f' ×{n}' if n > 1 else ''}" for k, n in c["speakers"]) \
                or '<span class="muted">unattributed</span>'
            if c["speakers"] and c["unattributed"]:
                speakers += f' <span class="muted">+{c["unattributed"]} unattributed</span>'
            outlets = ", ".join(f"{_e(k)}{f' ×{n}' if n > 1 else ''}" for k, n in c["outlets"])
            rows.append([f"<blockquote>{_e(c['text'])}</blockquote>", f"{c['size']:,}", f"{c['articles']:,}",
                         speakers, outlets])
        add(_table(["quote", "members", "articles", "speakers", "outlets (articles)"], rows, numeric={1, 2}))
    else:
        add(f"<p>No quote appears more than once ({h['quotes']:,} quotes in all).</p>")
    return parts


def _html_entities(summary: Summary, charts: dict[str, bytes], settings: ReportSettings) -> list[str]:
    parts: list[str] = []
    add = parts.append
    s = settings
    add("<h2>Entities</h2>")
    if summary.entity_fixes:
        add("<h3>Corrected names</h3><p class=\"muted\">Mangled names the entity stage replaced "
            f"(edits of stage <code>{ENTITY_STAGE}</code>).</p>")
        add(_table(["as written", "corrected to", "times"],
                   [[f"<code><del>{_visible(b, s.snippet_chars)}</del></code>",
                     f"<code><ins>{_visible(a, s.snippet_chars)}</ins></code>", f"{n:,}"]
                    for b, a, n in summary.entity_fixes], numeric={2}))
    else:
        add("<p>No name was corrected.</p>")
    pending = summary.suggestions_pending
    add(f"<p><b>{pending:,}</b> suggestion{'s' if pending != 1 else ''} pending review"
        + (" (run <code>ketl review</code>)." if pending else ".") + "</p>")
    if summary.suggestions:
        add(_table(["span", "may be", "best score", "times"],
                   [[f"<code>{_e(sp)}</code>", _e(c), f"{sc:.3f}", f"{n:,}"] for sp, c, sc, n in summary.suggestions],
                   numeric={2, 3}))
    if summary.entities:
        add("<h3>Most mentioned</h3>")
        add(_table(["entity", "type", "mentions", "articles"],
                   [[_e(c), _e(t), f"{m:,}", f"{d:,}"] for c, t, m, d in summary.entities], numeric={2, 3}))
    return parts


def _html_runs(summary: Summary, charts: dict[str, bytes], settings: ReportSettings) -> list[str]:
    parts: list[str] = []
    add = parts.append
    s = settings
    add("<h2>Runs</h2>")
    if summary.runs:
        add(_img(charts, "runs.png", "runs over time"))
        newest = summary.runs[::-1][: s.run_rows]
        if len(summary.runs) > len(newest):
            add(f'<p class="muted">The newest {len(newest)} of {len(summary.runs):,} runs.</p>')
        rows = [[_e(r["finished_at"].strftime("%Y-%m-%d %H:%M:%S")), f"<code>{_e(r['run_id'][:8])}</code>",
                 _status(r["status"]) + (" <span class=\"muted\">full</span>" if r["full"] else ""),
                 f"{r['files_new']:,} / {r['files_seen']:,}", f"{r['articles']:,}", f"{r['edits']:,}",
                 f"{r['quotes']:,}", f"{r['rejected']:,}", f"{r['seconds']:,.1f}"] for r in newest]
        add(_table(["finished (UTC)", "run", "status", "files new / seen", "articles", "edits", "quotes",
                    "rejected", "seconds"], rows, numeric={3, 4, 5, 6, 7, 8}))
    else:
        add("<p>No run has committed.</p>")
    return parts

def _status(status: str) -> str:
    return _e(status) if status == "ok" else f'<span class="warn">{_e(status)}</span>'


# -- writing ---------------------------------------------------------------------------------------

def write_report(out: Path, dest: Path | None = None, settings: ReportSettings = ReportSettings()) -> Path:
    """Write the report of the dataset at ``out``; return the HTML file's path.

    ``dest`` defaults to ``out/report.html`` (a folder means ``folder/report.html``);
    the PNGs also go to ``<dest stem>_files/`` beside it. Raises FileNotFoundError
    or ValueError (one line) for a missing or unreadable dataset. Without
    matplotlib the page is written without its charts and says so.
    """
    from . import charts as report_charts

    out = Path(out)
    summary = summarize(out, settings)
    # matplotlib is a core dependency; should it still fail to import, the
    # figures and tables are worth having without their charts.
    drawn = report_charts.available()
    charts = _charts(summary, settings) if drawn else {}
    page = render_html(summary, charts, settings, note="" if drawn else report_charts.MISSING)

    dest = out / "report.html" if dest is None else Path(dest)
    if dest.is_dir():
        dest = dest / "report.html"
    dest.parent.mkdir(parents=True, exist_ok=True)
    files = dest.with_name(f"{dest.stem}_files")
    files.mkdir(exist_ok=True)
    for name, png in charts.items():
        _atomic_write(files / name, png)
    for name in CHARTS - charts.keys():  # a chart an earlier report had and this one has not
        (files / name).unlink(missing_ok=True)
    _atomic_write(dest, page.encode("utf-8"))
    return dest


def _atomic_write(path: Path, data: bytes) -> None:
    """Readers (a browser, a mail job) never see a half-written file."""
    atomic_write(path, data)
