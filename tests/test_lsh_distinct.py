"""lsh.distinct_sorted stands in for np.unique on the band step's packed pair codes."""

import numpy as np
import pytest

from ketl.dedup.lsh import _unique_pairs, distinct_sorted


@pytest.mark.parametrize("n", [0, 1, 2, 3, 1000, 200_000])
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint64])
def test_distinct_sorted_equals_np_unique(n, dtype):
    rng = np.random.default_rng(n)
    high = max(n // 3, 2)  # many repeats
    x = rng.integers(0, high, n).astype(dtype)
    got = distinct_sorted(x)
    want = np.unique(x)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_distinct_sorted_keeps_negative_and_extreme_values_and_leaves_its_input_alone():
    x = np.array([5, -3, np.iinfo(np.int64).max, -3, np.iinfo(np.int64).min, 5, 0], dtype=np.int64)
    before = x.copy()
    np.testing.assert_array_equal(distinct_sorted(x), np.unique(x))
    np.testing.assert_array_equal(x, before)


def test_unique_pairs_are_the_distinct_rows_in_order():
    rng = np.random.default_rng(7)
    a = rng.integers(0, 50, 5000)
    b = rng.integers(0, 80, 5000)
    want = np.unique(np.stack((a, b), axis=1), axis=0)
    np.testing.assert_array_equal(_unique_pairs(a, b), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_pairs_of_several_bands_equal_the_unique_pairs_of_their_raw_pairs(seed):
    """BandTable.add_band_links + unique_row_pairs (the band tasks' way) give exactly the
    distinct raw pairs of add_band over the same bands, block after block: keys repeated
    within a band and across bands (an item repeated whole), stored groups from earlier
    blocks, and empty signatures (key 0)."""
    from ketl.dedup.lsh import BandTable, unique_row_pairs

    rng = np.random.default_rng(seed)
    bands, n, blocks = 4, 300, 3
    by_raw, by_rows = BandTable(bands), BandTable(bands)
    lo = 0
    for _ in range(blocks):
        keys = rng.integers(1, 40, (n, bands)).astype(np.uint64)  # few keys: big groups
        whole = rng.random(n) < 0.3
        keys[whole] = keys[whole][:, :1]  # repeated in every band: the same pairs four times
        keys[rng.random(n) < 0.05] = 0
        raw = [by_raw.add_band(b, keys[:, b], lo) for b in range(bands)]
        want = _unique_pairs(np.concatenate([a for a, _ in raw]), np.concatenate([c for _, c in raw]))
        got = unique_row_pairs([x for b in range(bands) for x in by_rows.add_band_links(b, keys[:, b], lo)], lo)
        assert len(want) > n and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
        lo += n
    for b in range(bands):  # the stored bands too
        assert by_raw.band_to_table(b).equals(by_rows.band_to_table(b))
    empty = [np.full(5, -1, np.int64)] * 2
    assert unique_row_pairs(empty, 10).shape == (0, 2)
