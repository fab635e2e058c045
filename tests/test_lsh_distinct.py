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
