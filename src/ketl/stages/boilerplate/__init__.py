"""Stage "boilerplate": site headers, footers and clutter out, metadata lifted.

``stage`` runs per batch; ``site_stats`` counts lines repeated across a site's
articles; ``rules`` compiles the rule files; ``classifier`` judges single lines;
``metadata`` (with ``reprint``) lifts title, site, dateline and reprint source.
"""

from .stage import warm_up  # noqa: E402  (the package's one-time loads, for a worker's start)

__all__ = ["warm_up"]
