"""Stage "boilerplate": site headers, footers and clutter out, metadata lifted.

``stage`` runs per batch; ``site_stats`` counts lines repeated across a site's
articles; ``rules`` compiles the rule files; ``classifier`` judges single lines;
``metadata`` (with ``reprint``) lifts title, site, dateline and reprint source.
"""


def warm_up() -> None:
    """Load the tables the stage loads lazily (the place names of datelines, the common
    words, the stop-word lists), so that a worker process pays for them before its
    first batch (``ketl.run.warm``). Changes no result."""
    from .classifier import _stop_index
    from .metadata import _common_words, _core_places, _place_names
    from .stage import _stop_en

    _core_places()
    _place_names()
    _common_words()
    _stop_index()
    _stop_en()
