"""HTML of the research sections (see :mod:`ketl.report.research`): they lead the report."""

from __future__ import annotations

import html
from typing import Any

from .charts import stage_colour
from .research import CUT_BINS, Research

__all__ = ["research_sections", "table", "e"]


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), cls: str = "") -> str:
    """Numbers sit right-aligned under right-aligned headers."""
    th = "".join(f'<th class="n">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(r)) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def anchor(doc_id: str) -> str:
    return f"doc-{e(doc_id)}"


def _at(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else '<span class="muted">undated</span>'


def _hours(h: float | None, first: bool) -> str:
    """"first" marks the first row only: a same-hour reprint reads +0.0 h."""
    if first:
        return "first"
    return "" if h is None else f"+{h:,.1f} h"


def _diff(ops: list[tuple[str, str]]) -> str:
    tag = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    return "".join(tag[op].format(e(words)) for op, words in ops)


def _missing(r: Research, key: str) -> list[str]:
    return [f'<p class="missing">{e(r.missing[key])}</p>'] if key in r.missing else []


_NAV = (("timelines", "statements"), ("speakers", "speakers"), ("over-time", "over time"),
        ("reprints", "reprints"), ("cuts", "text removed"), ("before-after", "before/after"))


def research_sections(r: Research, charts: dict[str, bytes], img) -> list[str]:
    links = [f'<a href="#{k}">{name}</a>' for k, name in _NAV if k != "before-after" or r.chosen is not None]
    parts: list[str] = ['<nav class="sub">' + " · ".join(links) + "</nav>"]
    for section in (_timelines, _speakers, _over_time, _reprints, _cuts, _chosen):
        parts.extend(section(r, charts, img))
    return parts


def _timelines(r: Research, charts, img) -> list[str]:
    parts = ['<h2 id="timelines">Statements followed across outlets</h2>',
             '<p class="muted">The statements quoted by the most articles (terms, scare quotes and names are left '
             "out), outlet by outlet from first to last. Each row is compared word by word with the canonical "
             "text: <del>struck</del> words are missing from that outlet's wording, <ins>green</ins> words were "
             "added. Times are publication dates, or when ketl first saw an undated article.</p>"]
    parts += _missing(r, "timelines")
    if not r.timelines and "timelines" not in r.missing:
        parts.append("<p>No statement is quoted by more than one article.</p>")
    for n, c in enumerate(r.timelines, 1):
        who = e(c["speaker_name"]) if c["speaker_name"] else '<span class="muted">unattributed</span>'
        if c["speaker_disagree"]:
            who += f' <span class="warn">({c["speaker_disagree"]:,} attributions disagree)</span>'
        sim = f"{c['min_similarity']:.2f}" if c["min_similarity"] is not None else "n/a"
        parts.append(f'<h3 id="cluster-{e(c["cluster_id"])}">{n}. {who}</h3>'
                     f'<blockquote>{e(c["canonical_text"])}</blockquote>'
                     f'<p class="muted">{c["articles"]:,} articles, {c["n_outlets"]:,} outlets, '
                     f'{c["wordings"]:,} wordings (lowest similarity {sim}), first by {e(c["first_outlet"])}, '
                     f'spread {c["spread_hours"]:,.1f} h.</p>')
        rows = [[_at(m["at"]) + ("" if m["dated"] else ' <span class="muted">(first seen)</span>'),
                 _hours(m["hours"], i == 0), e(m["outlet"]), e(m["speaker"] or ""), f'<q>{_diff(m["diff"])}</q>']
                for i, m in enumerate(c["rows"])]
        parts.append(table(["time (UTC)", "after first", "outlet", "speaker", "wording"], rows, {1},
                           cls="timeline"))
        if c["hidden"]:
            parts.append(f'<p class="muted">and {c["hidden"]:,} later members.</p>')
    return parts


def _speakers(r: Research, charts, img) -> list[str]:
    parts = ['<h2 id="speakers">Top speakers</h2>']
    if not r.speakers:
        return parts + ["<p>No statement is attributed to a speaker.</p>"]
    if not r.speakers_canonical:
        parts.append('<p class="missing">Canonical speakers (speaker_name) are not in this dataset (written by an '
                     "older ketl): speakers are grouped as written.</p>")
    rows = [[e(s["name"]), f'{s["quotes"]:,}', f'{s["articles"]:,}', f'{s["spellings"]:,}'] for s in r.speakers]
    return parts + [table(["speaker", "statements", "articles", "spellings"], rows, {1, 2, 3})]


def _over_time(r: Research, charts, img) -> list[str]:
    parts = ['<h2 id="over-time">Articles over time by site</h2>']
    parts += _missing(r, "over_time")
    t = r.over_time
    if t:
        parts.append(img(charts, "articles_over_time.png", "articles over time by site"))
        by = "publication date" if t["by"] == "published" else "when ketl first saw them (no article is dated)"
        parts.append(f'<p class="muted">{t["drawn"]:,} articles per {t["unit"]} by {by}'
                     + (f'; {t["left_out"]:,} undated articles are left out' if t["left_out"] else "") + ".</p>")
    return parts


def _reprints(r: Research, charts, img) -> list[str]:
    parts = ['<h2 id="reprints">Reprinted articles</h2>',
             '<p class="muted">Groups of near-duplicate articles (article_clusters): the first outlet and '
             "who reprinted it, how many hours later.</p>"]
    parts += _missing(r, "reprints")
    if not r.reprints:
        return parts + ([] if "reprints" in r.missing else ["<p>No article was reprinted.</p>"])
    rows = [[e(g["title"] or ""), e(g["first_outlet"]), _at(g["first_at"]),
             ", ".join(f'<span class="nw">{e(o)} <span class="muted">+{h:,.1f} h</span></span>'
                       for o, h in g["copies"]),
             f'{g["members"]:,}', f'{g["spread_hours"]:,.1f}'] for g in r.reprints]
    return parts + [table(["title", "first outlet", "first (UTC)", "reprinted by", "articles", "spread (h)"],
                          rows, {4, 5})]


def _cuts(r: Research, charts, img) -> list[str]:
    parts = ['<h2 id="cuts">Text removed per article</h2>']
    parts += _missing(r, "cuts")
    if not r.most_cut:
        return parts
    parts.append(img(charts, "removed_share.png", "share of each article's text removed"))
    parts.append(f'<p class="muted">1 − n_chars / source_chars of {r.cut_measured:,} articles, in '
                 f"{100 // CUT_BINS} % bins (title and metadata lines count as removed). The most cut:</p>")
    rows = []
    for m in r.most_cut:
        name = f'<a href="#{anchor(m["doc_id"])}">{e(m["source_path"])}</a>' if m["edits"] is not None \
            else f"<code>{e(m['source_path'])}</code>"
        rows.append([name, e(m["outlet"]), f'{m["share"]:.1%}', f'{m["source_chars"]:,}', f'{m["n_chars"]:,}',
                     f'{m["n_edits"]:,}'])
    parts.append(table(["article", "outlet", "removed", "source chars", "curated chars", "edits"], rows,
                       {2, 3, 4, 5}))
    for m in (m for m in r.most_cut if m["edits"] is not None):
        parts.append(f'<h3 id="{anchor(m["doc_id"])}">Edits of <code>{e(m["source_path"])}</code> '
                     f'<span class="muted">({m["share"]:.1%} removed)</span></h3>')
        rows = [[f'{x["seq"]:,}', _chip(x["stage"]), f'<code class="nw">{e(x["rule"])}</code>',
                 f'<code><del>{visible(x["before"])}</del></code>',
                 f'<code><ins>{visible(x["after"])}</ins></code>' if x["after"] else
                 '<span class="muted">(removed)</span>'] for x in m["edits"]]
        parts.append(table(["seq", "stage", "rule", "before", "after"], rows, {0}))
        if m["n_edits"] > len(m["edits"]):
            parts.append(f'<p class="muted">and {m["n_edits"] - len(m["edits"]):,} more edits.</p>')
    return parts


def visible(text: str, n: int = 240) -> str:
    """Escaped snippet with line breaks and odd spaces shown, since many edits touch only those."""
    text = text if len(text) <= n else text[: n - 1] + "…"
    return e(text).replace("\n", "⏎").replace("\t", "⇥").replace("\u00a0", "⍽")


def _chip(stage: str) -> str:
    return f'<span class="stage" style="border-color:{stage_colour(stage)}">{e(stage)}</span>'


def _chosen(r: Research, charts, img) -> list[str]:
    c = r.chosen
    if c is None:
        return []
    which = "The article asked for" if c["asked"] else "The most cut article (<code>ketl report --article</code> "\
        "picks another)"
    parts = [f'<h2 id="before-after">Before and after: <code>{e(c["source_path"])}</code></h2>', *_missing(r, "chosen"),
             f'<p class="muted">{which} ({c["share"]:.1%} removed). Left, the decoded source with '
             "each edit's span marked in its stage's colour (removed text struck); right, the curated text.</p>"]
    if c["source"] is None:
        parts.append('<p class="missing">The source is not shown: the article is a JSONL line, or its file is no '
                     "longer where the latest run read it (or has changed); its edits are listed above.</p>")
        left = ""
    else:
        left = _marked(c["source"], c["spans"])
    right = e(c["curated"]) + ("…" if c["curated_cut"] else "")
    parts.append('<div class="ba"><div><h4>source</h4><pre>' + left + '</pre></div><div><h4>curated</h4><pre>'
                 + right + "</pre></div></div>")
    return parts


def _marked(source: str, spans: list[tuple]) -> str:
    """``source`` with each edit's [start, end) wrapped; overlapping later spans are folded into the first."""
    out, pos = [], 0
    for stage, rule, before, after, start, end in spans:
        if start < pos or start > len(source):
            continue
        end = min(end, len(source))
        out.append(e(source[pos:start]))
        title = e(f"{stage} {rule}" + (f" → {after!r}" if after else " (removed)"))
        style = f"background:{stage_colour(stage)}33;border-bottom:2px solid {stage_colour(stage)}"
        inner = e(source[start:end]) or "⎀"
        out.append(f'<del title="{title}" style="{style}">{inner}</del>' if not after else
                   f'<mark title="{title}" style="{style}">{inner}</mark>')
        pos = end
    out.append(e(source[pos:]))
    return "".join(out)
