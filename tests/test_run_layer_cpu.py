"""The run layer's cheaper paths give what the plain ones gave: the per-site line
counts of a batch (counted in bulk instead of through SiteLineStats), and the
work folder's plain Parquet files (read back equal)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SEEDS
from ketl.ingest.read import read_units
from ketl.ingest.scan import scan
from ketl.run import batch
from ketl.settings import Settings
from ketl.stages.boilerplate.site_stats import SiteLineStats, site_and_line_keys

MULTILINGUAL = Path(__file__).resolve().parent / "data" / "multilingual"


def _site_lines_before(found) -> object:
    """What prepare_batch wrote before (SiteLineStats.add per document, then its
    row-by-row to_arrow), built here a row at a time: each site sorted, its
    document count with a null key, then its keys in the order first counted."""
    docs: dict[str, int] = {}
    lines: dict[str, dict[int, int]] = {}
    for site, keys in found:
        if site:
            docs[site] = docs.get(site, 0) + 1
            counts = lines.setdefault(site, {})
            for k in set(keys):
                counts[int(k)] = counts.get(int(k), 0) + 1
    rows = []
    for site in sorted(docs):
        rows.append((site, None, docs[site]))
        rows += [(site, k, c) for k, c in lines[site].items()]
    return pa.table({"site": [r[0] for r in rows], "line_key": [r[1] for r in rows],
                     "n_docs": [r[2] for r in rows]}, schema=SiteLineStats.SCHEMA)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Repaired documents of several sites, languages and scripts (a site per folder)."""
    raw = tmp_path_factory.mktemp("sitelines") / "raw"
    for i, p in enumerate(sorted(SEEDS.glob("*.txt"))):
        (raw / f"site-{i % 2}").mkdir(parents=True, exist_ok=True)
        (raw / f"site-{i % 2}" / p.name).write_bytes(p.read_bytes())
    for sub in ("dressed", "clean"):
        (raw / sub).mkdir(parents=True, exist_ok=True)
        for p in sorted((MULTILINGUAL / sub).glob("*.txt")):
            (raw / sub / p.name).write_bytes(p.read_bytes())
    docs = read_units(raw, scan(raw, False), 1 << 26).docs
    res = batch.resources(Settings(raw=str(raw)))
    from ketl.stages.repair.stage import run as repair

    return repair(docs, res)


def test_site_lines_table_is_what_site_line_stats_wrote(prepared):
    found = [site_and_line_keys(d) for d in prepared]
    sites = {s for s, _ in found}
    assert len(sites) >= 3 and sum(len(k) for _, k in found) > 200  # several sites, many lines
    # the same rows in the same order, a site's repeated lines counted once per document
    twice = found + found[:3]
    for given in (found, twice, found[::-1], found[:1], []):
        assert batch.site_lines_table(given).equals(_site_lines_before(given))
    assert batch.site_lines_table([("", {1, 2})]).num_rows == 0  # no site: not counted


def test_site_line_stats_add_all_is_add_per_document(prepared):
    """The bulk count is the per-document one, as a table and as what the stage asks."""
    found = [site_and_line_keys(d) for d in prepared]
    found += found[:4]  # documents seen twice: their keys count twice
    one, bulk = SiteLineStats(), SiteLineStats().add_all(found)
    for site, keys in found:
        one.add(site, keys)
    assert bulk.to_arrow().equals(one.to_arrow()) and bulk.to_arrow().equals(_site_lines_before(found))
    assert len(bulk) == len(one) > 200
    for site, keys in found:
        assert bulk.n_docs(site) == one.n_docs(site) > 0
        assert [bulk.count(site, k) for k in keys] == [one.count(site, k) for k in keys]
    back = SiteLineStats.from_arrow(bulk.to_arrow())
    assert back.to_arrow().equals(bulk.to_arrow())
    assert SiteLineStats().add_all([]).to_arrow().num_rows == 0


def test_work_files_read_back_equal(tmp_path, prepared):
    from ketl.stages.boilerplate.site_stats import site_and_line_keys  # noqa: F401 - imported above too

    table = batch.site_lines_table([site_and_line_keys(d) for d in prepared])
    texts = batch.pa.table({"doc_id": [d.doc_id for d in prepared], "text": [d.text for d in prepared]})
    for t in (table, texts):
        batch._work_file(t, tmp_path / "x.parquet")
        assert pq.read_table(tmp_path / "x.parquet").equals(t)
