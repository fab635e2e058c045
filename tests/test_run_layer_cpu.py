"""The run layer's cheaper paths give what the plain ones gave: the per-site line
counts of a batch (counted in bulk instead of through SiteLineStats), and the
work folder's plain Parquet files (read back equal)."""

from __future__ import annotations

from pathlib import Path

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
    """What prepare_batch wrote before: SiteLineStats.add per document, then to_arrow."""
    stats = SiteLineStats()
    for site, keys in found:
        stats.add(site, keys)
    return stats.to_arrow()


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


def test_work_files_read_back_equal(tmp_path, prepared):
    from ketl.stages.boilerplate.site_stats import site_and_line_keys  # noqa: F401 - imported above too

    table = batch.site_lines_table([site_and_line_keys(d) for d in prepared])
    texts = batch.pa.table({"doc_id": [d.doc_id for d in prepared], "text": [d.text for d in prepared]})
    for t in (table, texts):
        batch._work_file(t, tmp_path / "x.parquet")
        assert pq.read_table(tmp_path / "x.parquet").equals(t)
