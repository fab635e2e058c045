"""PNG charts for ``ketl report``, drawn with matplotlib's Agg renderer.

matplotlib is a core dependency but is imported only here and only when a
chart is drawn (it is slow to import). Figures are built with ``matplotlib.figure.Figure``
rather than pyplot: no global backend switch, no figure registry to leak, and
safe to call from a worker thread. The PNG metadata that would carry the
matplotlib version is dropped, so the same data gives the same bytes.
"""

from __future__ import annotations

import io
from typing import Sequence

MISSING = "charts left out: matplotlib does not import (pip install matplotlib)"

# One calm palette; the accent marks "other" buckets so they are not read as a site.
_BAR = "#3b6ea5"
_ACCENT = "#9aa5b1"
_LINE = "#c0392b"
_SITES = ("#3b6ea5", "#e08e2b", "#3a9d5d", "#8e5ea2", "#c0392b", "#17a2b8", "#7f6a3b", "#d4a017")
_GROUPS = ("#3b6ea5", "#e08e2b", "#3a9d5d", "#8e5ea2", "#c0392b", "#17a2b8", "#7f6a3b")
# A stage keeps its colour in every report: fixed by name (ketl 0.2's names map to the same
# colour through EDIT_STAGE_RENAMES); a stage not listed gets one picked from its name's hash.
STAGE_COLOURS = {
    "repair.encoding": "#3b6ea5", "repair.normalize": "#17a2b8", "repair": "#3b6ea5",
    "boilerplate": "#e08e2b", "boilerplate.metadata": "#b5651d", "entities": "#3a9d5d",
    "quotes": "#8e5ea2", "quotes.work_cap": "#8e5ea2", "dates": "#7f6a3b",
}


def stage_colour(stage: str) -> str:
    from ..schemas import EDIT_STAGE_RENAMES

    stage = EDIT_STAGE_RENAMES.get(stage, stage)
    if stage in STAGE_COLOURS:
        return STAGE_COLOURS[stage]
    import hashlib

    return _GROUPS[hashlib.blake2b(stage.encode("utf-8"), digest_size=2).digest()[0] % len(_GROUPS)]


_STYLE = {
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "svg.hashsalt": "ketl",
}


def _mpl():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:  # the optional extra is not installed
        raise RuntimeError(MISSING) from None
    return matplotlib, Figure


def available() -> bool:
    try:
        _mpl()
    except RuntimeError:
        return False
    return True


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def _plain(text: str) -> str:
    """``text`` shown as written: matplotlib reads ``$...$`` as mathtext, and a site
    named ``$\\frac{1}{$`` would fail the whole report."""
    return str(text).replace("$", r"\$")


def _short(label: str, width: int = 38) -> str:
    label = " ".join(label.split()) or "(empty)"
    return _plain(label if len(label) <= width else label[: width - 1] + "…")


def hbar(title: str, labels: Sequence[str], values: Sequence[int | float], xlabel: str,
         accent: Sequence[bool] | None = None, groups: Sequence[str] | None = None,
         colours: Sequence[str] | None = None) -> bytes:
    """Horizontal bars, largest on top, each labelled with its value.

    ``accent`` greys out buckets such as "other"; ``groups`` colours bars by a
    category (the stage of a rule) with a legend.
    """
    matplotlib, Figure = _mpl()
    n = max(len(labels), 1)
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(8, max(1.9, 0.9 + 0.28 * n)), layout="constrained")
        ax = fig.add_subplot()
        ys = list(range(len(labels)))[::-1]
        colors = [(_ACCENT if accent and accent[i] else _BAR) for i in range(len(labels))]
        legend = {}
        if groups:  # groups are stages: their colours are fixed across reports
            legend = {g: stage_colour(g) for g in sorted(set(groups))}
            colors = [legend[g] for g in groups]
        elif colours:
            colors = list(colours)
        ax.barh(ys, values, color=colors, height=0.7)
        positive = [v for v in values if v > 0]
        # one huge rule would squash the rest into hairlines: switch to a log axis then
        log = len(positive) > 1 and max(positive) > 100 * min(positive)
        if legend:
            from matplotlib.patches import Patch
            ax.legend(handles=[Patch(color=c, label=_plain(g)) for g, c in legend.items()], loc="lower right",
                      frameon=False)
        ax.set_yticks(ys, [_short(str(x)) for x in labels])
        top = max(values, default=0) or 1
        for y, v in zip(ys, values):
            ax.text(v * 1.08 if log else v + top * 0.01, y, f"{v:,}", va="center", fontsize=8)
        if log:
            ax.set_xscale("log")
            ax.set_xlim(min(positive) * 0.7, top * 2.5)
            xlabel += " (log scale)"
        else:
            from matplotlib.ticker import MaxNLocator
            ax.set_xlim(0, top * 1.12)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(_plain(xlabel))
        ax.set_title(_plain(title), loc="left")
        ax.tick_params(axis="y", length=0)
        if not labels:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        return _png(fig)


def runs(title: str, labels: Sequence[str], articles: Sequence[int], seconds: Sequence[float],
         failed: Sequence[bool]) -> bytes:
    """Articles per run as bars (grey when the run was partial), seconds as a line on a second axis.

    Runs are placed by order, not by time: an hourly schedule with a gap of a
    week would otherwise squeeze every bar into a hair.
    """
    matplotlib, Figure = _mpl()
    with matplotlib.rc_context({**_STYLE, "axes.spines.right": True}):
        fig = Figure(figsize=(9, 3.6), layout="constrained")
        ax = fig.add_subplot()
        xs = list(range(len(labels)))
        ax.bar(xs, articles, color=[_ACCENT if f else _BAR for f in failed], width=0.8,
               label="articles added")
        ax.set_ylabel("articles added", color=_BAR)
        if any(failed):
            from matplotlib.patches import Patch
            fig.legend(handles=[Patch(color=_BAR, label="ok"), Patch(color=_ACCENT, label="partial (rejects)")],
                       loc="outside upper right", ncols=2, frameon=False)
        ax.set_title(title, loc="left")
        ax2 = ax.twinx()
        ax2.plot(xs, seconds, color=_LINE, marker="o" if len(xs) <= 60 else None, markersize=3,
                 linewidth=1.2)
        ax2.set_ylabel("seconds", color=_LINE)
        ax2.set_ylim(0, (max(seconds, default=0) or 1) * 1.15)
        ax.set_ylim(0, (max(articles, default=0) or 1) * 1.15)
        from matplotlib.ticker import MaxNLocator
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        step = max(1, len(xs) // 12)  # at most ~12 readable tick labels
        ticks = xs[::step]
        ax.set_xticks(ticks, [_plain(labels[i]) for i in ticks], rotation=30, ha="right")
        ax.set_xlim(-0.6, max(len(xs), 1) - 0.4)
        if not xs:
            ax.text(0.5, 0.5, "no runs", ha="center", va="center", transform=ax.transAxes)
        return _png(fig)


def stacked(title: str, labels: Sequence[str], series: dict[str, Sequence[int]], ylabel: str) -> bytes:
    """Columns per time bin, one colour per site stacked; "other" is grey."""
    matplotlib, Figure = _mpl()
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(9, 3.8), layout="constrained")
        ax = fig.add_subplot()
        xs = list(range(len(labels)))
        bottom = [0] * len(labels)
        for i, (name, values) in enumerate(series.items()):
            colour = _ACCENT if name == "other" else _SITES[i % len(_SITES)]
            ax.bar(xs, values, bottom=bottom, color=colour, width=0.85, label=_short(name, 28))
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_title(_plain(title), loc="left")
        ax.set_ylabel(_plain(ylabel))
        step = max(1, len(xs) // 14)
        ax.set_xticks(xs[::step], [_plain(labels[i]) for i in xs[::step]], rotation=30, ha="right")
        from matplotlib.ticker import MaxNLocator
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8)
        return _png(fig)


def histogram(title: str, counts: Sequence[int], xlabel: str, ylabel: str) -> bytes:
    """Equal bins over 0-100 %; the count is printed above each non-empty bar."""
    matplotlib, Figure = _mpl()
    with matplotlib.rc_context(_STYLE):
        fig = Figure(figsize=(9, 3.2), layout="constrained")
        ax = fig.add_subplot()
        width = 100 / max(len(counts), 1)
        xs = [i * width for i in range(len(counts))]
        ax.bar(xs, counts, width=width * 0.92, align="edge", color=_BAR)
        for x, c in zip(xs, counts):
            if c:
                ax.text(x + width / 2, c, f"{c:,}", ha="center", va="bottom", fontsize=7)
        ax.set_xlim(0, 100)
        ax.set_ylim(0, (max(counts, default=0) or 1) * 1.15)
        ax.set_xlabel(_plain(xlabel))
        ax.set_ylabel(_plain(ylabel))
        ax.set_title(_plain(title), loc="left")
        return _png(fig)
