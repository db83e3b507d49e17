"""from_long_format's order of rows (that of ``sort_values`` by id and time, whatever
the index) and its naming of repeated (id, time) pairs."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm.windows import from_long_format


def _as_sort_values_orders(df):
    """X and ids in the order of df.sort_values(["id", "t"], kind="mergesort"), which
    from_long_format sorted with before it sorted its own keys (and ``!=`` of the ids)."""
    rows = df.reset_index(drop=True).sort_values(["id", "t"], kind="mergesort")
    ids = rows["id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    return np.split(rows[["x1", "x2"]].to_numpy(dtype=float), starts[1:]), ids[starts]


TIMES = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-01", "2024-01-01", "2024-01-02",
                        "2024-01-06"])


@pytest.mark.parametrize("change", [
    {"id": pd.Categorical(list("babaac"), categories=["z", "c", "b", "a"])},  # (not sorted)
    {"t": pd.Categorical(list("qrppqs"), categories=list("srqp"), ordered=True)},
    {"id": pd.array([2, 1, 2, 1, 1, 3], dtype="Int64"),
     "t": pd.array([1.5, 2, 0, 0, 1.5, 5], dtype="Float64")},
    {"id": pd.array(list("babaac"), dtype="string")},
    {"id": pd.Series([1, "a", 1, "a", "a", 2], dtype=object)},  # (ints before text)
    {"id": pd.Series([1, 2.0, 1.0, 2, 2, 3], dtype=object)},  # (1 and 1.0: one id)
    {"id": [b"b", b"a", b"b", b"a", b"a", b"c"], "t": TIMES.tz_localize("Europe/Paris")},
    {"id": [0.0, 1.0, -0.0, 1.0, 1.0, 2.0], "t": [1.0, 2.0, -0.0, 0.0, 1.0, 5.0]},
    {"t": [True, True, False, False, False, True], "id": list("babacd")},
])
@pytest.mark.parametrize("index", [None, [0, 0, 1, 1, 2, 2]])
def test_from_long_format_orders_rows_as_sort_values(long_df, change, index):
    df = long_df.assign(**change).set_axis(index or long_df.index)
    X, _, ids = from_long_format(df, "id", "t", feature_cols=["x1", "x2"])
    expected_X, expected_ids = _as_sort_values_orders(df)
    assert_array_equal(ids, expected_ids)
    assert ids.dtype == expected_ids.dtype
    assert len(X) == len(expected_X)
    for seq, expected in zip(X, expected_X, strict=True):
        assert_array_equal(seq, expected)


@pytest.mark.parametrize(("change", "examples"), [
    # pairs named in df's row order, each once, three at most (as pandas' duplicated)
    ({"t": [0, 1, 0, 1, 1, 5]}, r"\[\['b', 0\], \['a', 1\]\]"),
    ({"id": list("aaaaaa"), "t": [3, 2, 1, 3, 2, 1]}, r"\[\['a', 3\], \['a', 2\], \['a', 1\]\]"),
    ({"id": pd.Categorical(list("babaac"), categories=["c", "b", "a"]),
      "t": pd.array([0, 1, 0, 1, 1, 5], dtype="Int64")}, r"\[\['b', 0\], \['a', 1\]\]"),
    # times of no order (with and without a time zone) repeated: the repeats named first
    ({"t": pd.Series([TIMES[0].tz_localize("UTC"), *TIMES[1:3], TIMES[1], *TIMES[4:]],
                     dtype=object)}, r"\[\['a', Timestamp\('2024-01-03 00:00:00'\)\]\]"),
])
def test_from_long_format_names_repeated_pairs(long_df, change, examples):
    with pytest.raises(ValueError, match=r"^df has several rows for the same \(id, t\) pair, "
                                         rf"e\.g\. {examples}; drop rows repeated whole"):
        from_long_format(long_df.assign(**change), "id", "t")
