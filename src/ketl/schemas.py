"""Arrow schemas of the output tables: the one place the output contract is written in code.

Every field carries its description in the field metadata (key ``description``),
so ``pq.read_schema(...)`` tells a downstream user what a column means. The
README documents the same columns; ``tests/test_readme.py`` keeps the two in step.
"""

from __future__ import annotations

import pyarrow as pa

_TS = pa.timestamp("us", tz="UTC")


def _f(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def _schema(table: str, description: str, *fields: pa.Field) -> pa.Schema:
    return pa.schema(list(fields), metadata={"table": table, "description": description})


ARTICLES = _schema(
    "articles", "One row per input article: the curated text and where it came from.",
    _f("doc_id", pa.string(), "Stable id: blake2b-128 of source_path and source_sha256; same bytes at the same path give the same id in every run", False),
    _f("source_path", pa.string(), "POSIX path relative to the raw root; `path#line` for a JSONL line", False),
    _f("source_sha256", pa.string(), "Hex sha256 of the source file's bytes", False),
    _f("source_encoding", pa.string(), "Encoding the bytes were decoded with (BOM, utf-8, utf-16/32, or the legacy code page whose text reads most plausibly)", False),
    _f("source_id", pa.string(), "The JSONL `id` field, as given"),
    _f("url", pa.string(), "The JSONL `url` field, as given"),
    _f("published", _TS, "Publication time (UTC): the JSONL `published` field, else a full date (day, month, year) printed in the first lines of a plain-text article (byline, dateline); null when neither gives one (no date is guessed); a date without a time zone is read as UTC"),
    _f("published_raw", pa.string(), "The publication date as written: the JSONL `published` field as given (also when it does not read as a date), or the date found in the header"),
    _f("title", pa.string(), "Headline (site suffix removed); the JSONL `title` when given"),
    _f("site", pa.string(), "Publishing site: JSONL `site`, title suffix, or the first folder under raw/"),
    _f("dateline", pa.string(), "Place(s) of the dateline, e.g. `Baku` or `Yerevan / Baku`"),
    _f("reprinted_from", pa.string(), "Original publisher named by a reprint notice"),
    _f("text", pa.string(), "The curated article body", False),
    _f("language", pa.string(), "ISO 639-1 code of the curated text (py3langid)"),
    _f("n_chars", pa.int32(), "Characters in `text`", False),
    _f("source_chars", pa.int32(), "Characters of the decoded source: `1 - n_chars / source_chars` "
       "is the share the stages removed (title and metadata lines included); null in rows written by "
       "an older ketl"),
    _f("n_edits", pa.int32(), "Rows of this article in the edits table", False),
    _f("n_replacement_chars", pa.int32(), "U+FFFD replacement characters: bytes lost before ketl saw the article (in `text`, plus any `[repair] drop_replacement_chars` removed); null in rows written by an older ketl"),
    _f("near_duplicate_of", pa.string(), "doc_id of the earliest near-duplicate article (MinHash), null if none"),
    _f("run_id", pa.string(), "Prefect flow run id of the run that wrote the row", False),
    _f("pipeline_version", pa.string(), "ketl version that wrote the row", False),
    _f("config_hash", pa.string(), "sha256 of the canonical settings used", False),
    _f("processed_at", _TS, "When the row was produced (UTC)", False),
    _f("first_seen", _TS, "When ketl first processed this doc_id (UTC): kept across re-reads and re-curation; null in rows written by an older ketl"),
)

# edits.stage values written by ketl 0.2 -> their names since (the stage's name,
# then the sub-stage): readers map old rows through this so both read alike.
EDIT_STAGE_RENAMES = {"encoding": "repair.encoding", "normalize": "repair.normalize",
                      "metadata": "boilerplate.metadata", "entity": "entities"}


EDITS = _schema(
    "edits", "One row per change made to an article's text: replay them by `seq` to audit the curation.",
    _f("doc_id", pa.string(), "Article the edit belongs to", False),
    _f("source_path", pa.string(), "As in articles", False),
    _f("seq", pa.int32(), "Order of the edit within its article (replay order)", False),
    _f("stage", pa.string(), "Stage that made it, named as in `--skip` and ketl.toml, with a sub-stage after a dot: repair.encoding, repair.normalize, boilerplate, boilerplate.metadata, entities; quotes only for `quotes.work_cap`, an empty edit where the quote search of a hostile text stopped. Datasets written by ketl 0.2 hold the old names encoding, normalize, metadata, entity, which readers map to these (ketl.schemas.EDIT_STAGE_RENAMES)", False),
    _f("rule", pa.string(), "Stable rule id, e.g. `ftfy.fix_encoding`, `ad.slot`", False),
    _f("before", pa.string(), "Text replaced (at the time of the edit)", False),
    _f("after", pa.string(), "Replacement; empty for a removal", False),
    _f("source_line", pa.int32(), "1-based line of the decoded source where the edit starts", False),
    _f("source_start", pa.int64(), "Start offset (characters) in the decoded source", False),
    _f("source_end", pa.int64(), "End offset (exclusive) in the decoded source", False),
    _f("run_id", pa.string(), "Run that made the edit", False),
)

QUOTES = _schema(
    "quotes", "One row per quoted span of a curated article, with its speaker and near-duplicate cluster.",
    _f("quote_id", pa.string(), "Stable id of the quote: doc_id and offsets", False),
    _f("doc_id", pa.string(), "Article holding the quote", False),
    _f("source_path", pa.string(), "As in articles", False),
    _f("text", pa.string(), "The quoted words, without the quote marks", False),
    _f("speaker", pa.string(), "Who said it, when attributed (titles stripped, a surname expanded to the full name the article uses)"),
    _f("speaker_id", pa.string(), "Stable id of `speaker_name` (blake2b of the casefolded name): one person, one id, in every article"),
    _f("speaker_name", pa.string(), "Canonical speaker: the gazetteer's name when the entity stage resolved it (`Pashinian` -> `Nikol Pashinyan`), or the one person of that surname the article names"),
    _f("kind", pa.string(), "`statement`; `term` for a scare quote or quoted term (\"dogs\", a lone \"We\": a few words, no verb, no sentence end); `name` for a quoted name (every word capitalised); null in rows written by an older ketl"),
    _f("start", pa.int32(), "Start offset in articles.text", False),
    _f("end", pa.int32(), "End offset (exclusive) in articles.text", False),
    _f("cluster_id", pa.string(), "quote_id of the earliest member of its near-duplicate cluster still stored; changes only when that member's file was re-read"),
    _f("cluster_size", pa.int32(), "Members of the cluster at the latest run"),
    _f("is_canonical", pa.bool_(), "True for the earliest member (cluster_id == quote_id)"),
    _f("similarity", pa.float32(), "Estimated similarity to the cluster's first member (1.0 for the canonical one); when that member's file was re-read, to its replaced version"),
    _f("run_id", pa.string(), "Run that extracted the quote", False),
)

REJECTS = _schema(
    "rejects", "One row per input that could not be used, with the reason.",
    _f("source_path", pa.string(), "File (or `file#line`) rejected", False),
    _f("source_sha256", pa.string(), "sha256 of the file's bytes; empty when they could not be read", False),
    _f("reason", pa.string(), "Stable reason: empty, binary, undecodable, too_large, unreadable, broken_link, external_link, unsupported_type, bad_gzip, malformed_jsonl, stage_error", False),
    _f("detail", pa.string(), "Human-readable detail", False),
    _f("run_id", pa.string(), "Run that saw it", False),
)

RUNS = _schema(
    "runs", "One row per run that committed.",
    _f("run_id", pa.string(), "Prefect flow run id", False),
    _f("started_at", _TS, "Start (UTC)", False),
    _f("finished_at", _TS, "Commit time (UTC)", False),
    _f("pipeline_version", pa.string(), "ketl version", False),
    _f("config_hash", pa.string(), "sha256 of the canonical settings", False),
    _f("raw_root", pa.string(), "The raw folder as given", False),
    _f("full", pa.bool_(), "True when the run rebuilt the dataset (--full)", False),
    _f("files_seen", pa.int64(), "Entries found under raw", False),
    _f("files_new", pa.int64(), "Files read in this run (new, changed, or re-curated: settings changed)", False),
    _f("files_skipped", pa.int64(), "Files skipped as already processed (same path and sha256)", False),
    _f("rejected", pa.int64(), "Rows added to rejects", False),
    _f("articles", pa.int64(), "Rows added to articles", False),
    _f("edits", pa.int64(), "Rows added to edits", False),
    _f("quotes", pa.int64(), "Rows added to quotes", False),
    _f("seconds", pa.float64(), "Wall time of the run", False),
    _f("status", pa.string(), "`ok`; `partial` when some inputs were rejected; `nothing_new` when an incremental run found no new or changed file", False),
    _f("user_files", pa.list_(pa.string()), "Rule and gazetteer files the run loaded besides ketl's own (absolute paths, in load order; the dataset's gazetteer.user.toml included); null before ketl 0.3"),
    _f("recurated", pa.int64(), "Articles read again because their stored rows were curated with another config_hash (settings, rules or gazetteer changed); null before ketl 0.3"),
)

ENTITIES = _schema(
    "entities", "One row per gazetteer name found in a curated article.",
    _f("doc_id", pa.string(), "Article", False),
    _f("start", pa.int32(), "Start offset in articles.text", False),
    _f("end", pa.int32(), "End offset (exclusive) in articles.text", False),
    _f("surface", pa.string(), "The name as written", False),
    _f("canonical", pa.string(), "Canonical name from the gazetteer", False),
    _f("type", pa.string(), "place, person, organisation or media", False),
    _f("run_id", pa.string(), "Run", False),
)

SUGGESTIONS = _schema(
    "suggestions", "Entity corrections below the confidence threshold, for `ketl review`.",
    _f("doc_id", pa.string(), "Article", False),
    _f("source_path", pa.string(), "As in articles", False),
    _f("span", pa.string(), "The text that may be a mangled name", False),
    _f("candidate", pa.string(), "Gazetteer name it may stand for", False),
    _f("canonical", pa.string(), "Canonical name of the candidate's entity"),
    _f("type", pa.string(), "Type of the candidate's entity"),
    _f("score", pa.float32(), "Context-adjusted Jaro-Winkler score, below the correction threshold", False),
    _f("context", pa.string(), "The sentence around the span", False),
    _f("source_line", pa.int32(), "1-based line in the decoded source", False),
    _f("source_start", pa.int64(), "Start offset in the decoded source", False),
    _f("source_end", pa.int64(), "End offset in the decoded source", False),
    _f("run_id", pa.string(), "Run", False),
    _f("status", pa.string(), "`pending`; `ketl review` records decisions in the user gazetteer, not here"),
)

QUOTE_CLUSTERS = _schema(
    "quote_clusters", "One row per statement quoted by more than one article or quoted more than once: who said it, "
    "which outlet ran it first, who followed and how fast. Rebuilt by every run from the quotes table; terms, "
    "scare quotes and names (`kind != 'statement'`) are left out.",
    _f("cluster_id", pa.string(), "quotes.cluster_id", False),
    _f("canonical_text", pa.string(), "Text of the cluster's canonical member (the earliest quote stored)", False),
    _f("speaker_id", pa.string(), "Main speaker: the speaker_id most members are attributed to"),
    _f("speaker_name", pa.string(), "Main speaker's canonical name"),
    _f("attributed", pa.int32(), "Members with a speaker", False),
    _f("speaker_disagree", pa.int32(), "Members attributed to someone other than the main speaker", False),
    _f("members", pa.int32(), "Statement quotes in the cluster", False),
    _f("articles", pa.int32(), "Distinct articles quoting it", False),
    _f("outlets", pa.list_(pa.string()), "Distinct outlets in order of first appearance: `site`, or the article's `source_path` when its site is unknown", False),
    _f("n_outlets", pa.int32(), "Length of `outlets`", False),
    _f("first_at", _TS, "Earliest time: the article's `published`, or its `first_seen` when undated", False),
    _f("first_dated", pa.bool_(), "True when `first_at` is a publication date, false when it is a `first_seen`", False),
    _f("first_outlet", pa.string(), "Outlet of the earliest article (ties: the smaller doc_id)", False),
    _f("first_doc_id", pa.string(), "Earliest article", False),
    _f("last_at", _TS, "Latest time", False),
    _f("last_outlet", pa.string(), "Outlet of the latest article", False),
    _f("last_doc_id", pa.string(), "Latest article", False),
    _f("spread_hours", pa.float64(), "Hours from `first_at` to `last_at`", False),
    _f("wordings", pa.int32(), "Distinct wordings (case, spacing and edge punctuation ignored)", False),
    _f("min_similarity", pa.float32(), "Lowest estimated similarity of a member to the canonical text"),
    _f("run_id", pa.string(), "Run that built the table", False),
)

ARTICLE_CLUSTERS = _schema(
    "article_clusters", "One row per group of near-duplicate articles (`articles.near_duplicate_of`): the first "
    "outlet, the reprints and their delays. Rebuilt by every run from the articles table.",
    _f("cluster_id", pa.string(), "doc_id of the group's earliest indexed article (the `near_duplicate_of` target)", False),
    _f("title", pa.string(), "Title of the first article (by time)"),
    _f("members", pa.int32(), "Articles in the group", False),
    _f("outlets", pa.list_(pa.string()), "Distinct outlets in order of first appearance (`site`, else `source_path`)", False),
    _f("n_outlets", pa.int32(), "Length of `outlets`", False),
    _f("doc_ids", pa.list_(pa.string()), "Members in time order, first article first", False),
    _f("delays_hours", pa.list_(pa.float64()), "Hours from `first_at` to each member of `doc_ids` (0 for the first)", False),
    _f("first_at", _TS, "Earliest time: `published`, or `first_seen` when undated", False),
    _f("first_dated", pa.bool_(), "True when `first_at` is a publication date", False),
    _f("first_outlet", pa.string(), "Outlet of the first article", False),
    _f("first_doc_id", pa.string(), "The first article", False),
    _f("last_at", _TS, "Latest time", False),
    _f("last_outlet", pa.string(), "Outlet of the latest reprint", False),
    _f("spread_hours", pa.float64(), "Hours from the first article to the latest reprint", False),
    _f("run_id", pa.string(), "Run that built the table", False),
)

TABLES: dict[str, pa.Schema] = {
    "articles": ARTICLES,
    "edits": EDITS,
    "quotes": QUOTES,
    "rejects": REJECTS,
    "runs": RUNS,
    "entities": ENTITIES,
    "suggestions": SUGGESTIONS,
    "quote_clusters": QUOTE_CLUSTERS,
    "article_clusters": ARTICLE_CLUSTERS,
}


def items_table(docs, attr: str, schema: pa.Schema, **constants) -> pa.Table:
    """Rows of ``schema`` from the items (edits, entities, suggestions) of ``docs``.

    ``doc_id`` and ``source_path`` come from the document, ``constants`` (such as
    ``run_id``) are the same on every row, and every other column is the item's
    attribute of that name: the dataclasses in ``document.py`` are named to match.
    """
    per_doc = [n for n in ("doc_id", "source_path") if n in schema.names]
    per_item = [n for n in schema.names if n not in per_doc and n not in constants]
    cols: dict[str, list] = {n: [] for n in (*per_doc, *per_item)}
    for doc in docs:
        items = getattr(doc, attr)
        if not items:
            continue
        for n in per_doc:
            cols[n].extend([getattr(doc, n)] * len(items))
        for n in per_item:
            cols[n].extend([getattr(i, n) for i in items])
    rows = len(cols[schema.names[0]]) if schema.names[0] in cols else 0
    for name, value in constants.items():
        cols[name] = [value] * rows
    return pa.table({n: pa.array(cols[n], schema.field(n).type) for n in schema.names}, schema=schema)
