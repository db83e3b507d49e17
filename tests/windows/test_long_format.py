"""from_long_format: long (id, time, features...) tables to ragged per-id sequences."""

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm.windows import from_long_format


@pytest.mark.parametrize(
    ("target_agg", "expected"),
    [("last", [5.0, 0.0, 7.0]), ("mean", [3.0, 1.0, 7.0]), (lambda s: s.iloc[0], [1.0, 2.0, 7.0])],
)
def test_from_long_format_sorts_by_id_and_time(long_df, target_agg, expected):
    X, y, ids = from_long_format(long_df, "id", "t", target_col="label", target_agg=target_agg)
    assert_array_equal(ids, ["a", "b", "c"])
    assert_array_equal(X[0], [[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    assert_array_equal(X[1], [[10.0, 1.0], [11.0, 1.0]])
    assert_array_equal(X[2], [[20.0, 3.0]])
    assert_array_equal(y, expected)


def test_from_long_format_feature_selection_without_target(long_df):
    X, y, _ = from_long_format(long_df, "id", "t", feature_cols=["x2", "label"])
    assert y is None
    assert_array_equal(X[1], [[1.0, 2.0], [1.0, 0.0]])


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"feature_cols": ["x1", "x9"]}, r"Columns \['x9'\] not found"),
        (None, {"target_col": "y"}, r"Columns \['y'\] not found"),
        ({"t": [1, 2, 0, 2, 1, 5]}, {}, r"same \(id, t\) pair, e.g. \[\['a', 2\]\]; drop rows "
                                        r"repeated whole, df\.drop_duplicates\(\), or .* "
                                        r"df\.groupby\(\['id', 't'\], as_index=False\)\.mean"),
        ({"x2": list("pqrstu")}, {}, r"Feature columns \['x2'\] are not numeric"),
        # numbers with pd.NA, decimals (a database's NUMERIC), numbers as text: "not
        # numeric; encode or drop them" alone
        ({"x2": pd.Series([1.0, pd.NA, 2.0, 3.0, 4.0, 5.0], dtype=object)}, {},
         r"not numeric; .* Column 'x2' holds numbers as Python objects .*: convert it, "
         r"pd\.to_numeric\(df\['x2'\]\)\.$"),
        ({"x2": [Decimal("1.5")] * 3 + ["x"] * 3}, {}, r"Column 'x2' holds str values "
                                                       r"\('x' at row 3\)"),
        # decimals are numbers (below), with the rules of numbers: their NaN, signaling
        # too (numpy's bare "cannot convert"), is missing, and whole ones float64 would
        # round are refused, shown short
        ({"x2": [Decimal(1)] * 5 + [Decimal("sNaN")]}, {}, r"columns \['x2'\] contain missing"),
        ({"x2": [Decimal(1)] * 5 + [Decimal("-Inf")]}, {}, r"columns \['x2'\] contain infinite"),
        ({"x2": [Decimal(1)] * 5 + [Decimal("1E+400")]}, {},
         r"^feature column 'x2' holds the whole number 1E\+400, beyond 2\*\*53, .*astype"),
        ({"x2": list("123456")}, {}, r"Column 'x2' holds str values \('1' at row 0\) .*"
                                     r"pd\.to_numeric\(df\['x2'\]\)"),
        # one column's name where a list is taken: scikit-learn's "must be an array-like"
        # alone
        (None, {"feature_cols": "x1"}, r"Got 'x1' instead\. 'x1' is a single value; "
                                       r"feature_cols takes .* e\.g\. feature_cols=\['x1'\]\.$"),
        ({"x1": [1.0, np.nan, 1, 1, 1, 1]}, {}, r"feature columns \['x1'\] contain missing"),
        ({"id": ["a", None, "b", "a", "a", "c"]}, {}, r"id/time columns \['id'\] contain"),
        # the per-id target is taken from the rows X holds: "last" was X's last value
        (None, {"feature_cols": ["x1", "label"], "target_col": "label"},
         r"target_col 'label' is also in feature_cols: .* Drop it from feature_cols"),
        # a target_agg with no target column was ignored in silence (y=None)
        (None, {"target_agg": "mean"}, r"target_agg='mean' needs target_col"),
        # categories and times: "not numeric; encode or drop them" with no way named, or
        # pd.to_numeric for the text of categories, which cannot read it
        ({"x2": pd.Categorical(list("pqpqpq"))}, {},
         r"Column 'x2' is categorical: encode its categories as numbers, "
         r"df\['x2'\]\.cat\.codes .*astype\(float\) where they are numbers\.$"),
        ({"x2": pd.date_range("2024", periods=6)}, {},
         r"Column 'x2' holds times: encode them as numbers, .*df\['x2'\]\.min\(\)\) / "
         r"pd\.Timedelta\('1s'\), .*or drop them\.$"),
    ],
)
def test_from_long_format_errors(long_df, change, kwargs, match):
    df = long_df.assign(**(change or {}))
    with pytest.raises(ValueError, match=match):
        from_long_format(df, "id", "t", **kwargs)


def test_from_long_format_reads_decimals_as_float64(long_df):
    # "not numeric" before, where make_windows and the estimators read them as float64
    decimals = long_df.assign(x1=[Decimal(str(v)) for v in long_df["x1"]],
                              x2=pd.Series([Decimal(v) for v in long_df["x2"]], dtype=object))
    expected, _, _ = from_long_format(long_df, "id", "t")
    X, _, _ = from_long_format(decimals, "id", "t")
    assert all(x.dtype == np.float64 for x in X) and all(map(np.array_equal, X, expected))
    assert isinstance(decimals["x1"][0], Decimal)  # (the user's table kept as it was)


class _PolarsLikeFrame:
    """A table with a list of column names and ``to_pandas``, as a polars DataFrame has."""

    columns = ["id", "t", "x1"]

    def to_pandas(self):
        return None


@pytest.mark.parametrize(("table", "fix"), [
    (np.ones((3, 3)), r"pd\.DataFrame\(df\)"),
    # a polars DataFrame's list of columns met pandas' columns.duplicated(): "'list' object
    # has no attribute 'duplicated'"
    (_PolarsLikeFrame(), r"df\.to_pandas\(\)"),
])
def test_from_long_format_requires_a_dataframe(table, fix):
    with pytest.raises(TypeError, match=rf"must be a pandas DataFrame, got .*; convert it, "
                                        rf"{fix}\.$"):
        from_long_format(table, "id", "t")


@pytest.mark.parametrize(
    ("change", "kwargs", "match"),
    [
        (None, {"id_col": "t"}, "id_col and time_col are both 't'"),
        ("empty", {}, "df has no rows"),
        ("duplicate", {}, r"df has several columns named \['x1'\]"),
        # "last" skipped a missing last label and took an earlier row's silently
        ({"label": [0.0, np.nan, 2.0, 1.0, 3.0, 7.0]}, {"target_col": "label"},
         r"target columns \['label'\] contain missing values"),
        # "fill or drop them": a label on the last row of each id only, its other rows
        # dropped, left sequences of one row
        ({"label": [np.nan, 5.0, np.nan, np.nan, np.nan, 7.0]}, {"target_col": "label"},
         r"fill it per id, df\['label'\] = df.groupby\('id'\)\['label'\]"
         r"\.transform\('last'\); dropping those rows would drop their features"),
        ({"x1": [1.0, np.inf, 1, 1, 1, 1]}, {}, r"feature columns \['x1'\] contain infinite"),
        (None, {"target_col": "label", "target_agg": "average"},
         "target_agg='average' is not a pandas aggregation"),
        # sorted as text, id a's steps "2", "0", "10" came out as 0, 10, 2, silently
        ({"t": ["1", "2", "0", "0", "10", "5"]}, {},
         r"time column 't' holds text \(e.g. '1'\), which sorts as text: '10' before '2'. "
         r"Convert it"),
        ({"t": [1, 2, 0, 0, "1", 5]}, {}, r"time column 't' holds text \(e.g. '1'\)"),
        # a transform gave a target per row, out of step with X and the ids, silently
        (None, {"target_col": "label", "target_agg": "cumsum"},
         r"target_agg='cumsum' gave targets of shape \(6,\), not one per id \(3\)"),
        # pandas' "'values' is not ordered, please ... specify the categories order"
        ({"t": [pd.Timestamp(0, tz="UTC"), *pd.to_datetime(range(1, 6))]}, {},
         r"columns \['t'\] hold values of several kinds that cannot be ordered"),
        (None, {"target_col": ["label"]}, "'target_col' parameter"),  # "unhashable type"
    ],
)
def test_from_long_format_refuses_unreadable_tables(long_df, change, kwargs, match):
    if change == "empty":
        df = long_df.iloc[:0]
    elif change == "duplicate":
        df = pd.concat([long_df, long_df[["x1"]]], axis=1)
    else:
        df = long_df.assign(**(change or {}))
    kwargs = {"id_col": "id", "time_col": "t", **kwargs}
    with pytest.raises(ValueError, match=match):
        from_long_format(df, **kwargs)


@pytest.mark.parametrize(
    ("dtype", "x1", "match"),
    [
        # the cast turned 1e6 into inf, wrapped 1000 to -24 and cut 2.5 to 2, silently
        (np.float16, 1e6, r"feature columns \['x1'\] hold values that dtype=float16 cannot "
                          r"hold \(beyond its range\); pass a wider dtype"),
        (np.int8, 1000.0, r"\['x1'\] hold values that dtype=int8 cannot hold \(fractions"),
        (np.int64, 2.5, r"\['x1'\] hold values that dtype=int64 cannot hold"),
        # integers the float rounds: 2**53 + 1 came out as 2**53, silently
        (np.float32, 2**24 + 1, r"\['x1'\] hold values that dtype=float32 cannot hold "
                                r"\(beyond its range, or integers it would round\); pass a "
                                r"wider dtype"),
        # which no float holds: "pass a wider dtype (e.g. np.float64)" of float64 itself
        (np.float64, 2**53 + 1, r"column 'x1' holds the integer 9007199254740993, beyond "
                                r"2\*\*53, which no float dtype holds exactly.*astype"),
        (np.float32, 2**53 + 1, r"column 'x1' holds the integer 9007199254740993"),
    ],
)
def test_from_long_format_refuses_a_dtype_that_loses_values(long_df, dtype, x1, match):
    df = long_df.assign(x1=[1, 2, 3, 4, 5, x1])  # (ints where x1 is one)
    with pytest.raises(ValueError, match=match):
        from_long_format(df, "id", "t", dtype=dtype)
    X, _, _ = from_long_format(long_df, "id", "t", feature_cols=["x2"], dtype=np.int8)
    assert X[0].dtype == np.int8 and X[0].ravel().tolist() == [0, 0, 1]


@pytest.mark.parametrize("dtype", ["floot32", object, "U5"])
def test_from_long_format_dtype_must_be_one_of_numbers(long_df, dtype):
    # numpy's "data type 'floot32' not understood" named no parameter; object arrays
    # came back, for the estimators to refuse later
    with pytest.raises(TypeError, match=r"^dtype=.* is not a dtype of numbers; pass a float"):
        from_long_format(long_df, "id", "t", dtype=dtype)


def test_from_long_format_names_ids_and_times_in_the_index(long_df):
    indexed = long_df.set_index(["id", "t"])
    with pytest.raises(ValueError, match=r"\['id', 't'\] are levels of its index: pass "
                                         r"df.reset_index\(\)"):
        from_long_format(indexed, "id", "t")
    X, _, ids = from_long_format(indexed.reset_index(), "id", "t")
    assert ids.tolist() == ["a", "b", "c"] and len(X) == 3


def test_from_long_format_passes_on_errors_of_a_target_function(long_df):
    def broken(values):
        return values.no_such_method()

    with pytest.raises(AttributeError, match="no_such_method"):
        from_long_format(long_df, "id", "t", target_col="label", target_agg=broken)


def test_from_long_format_categorical_ids_with_unused_categories(long_df):
    # grouped by id, pandas 2 gave the unused category a target of its own: y longer than X
    ids = pd.Categorical(long_df["id"], categories=["z", "c", "b", "a"])
    X, y, found = from_long_format(long_df.assign(id=ids), "id", "t", target_col="label")
    assert_array_equal(found, ["c", "b", "a"])
    assert_array_equal(y, [7.0, 0.0, 5.0])
    assert [len(seq) for seq in X] == [1, 2, 3]


@pytest.mark.parametrize(
    ("change", "target_agg", "match"),
    [
        # id c has one row: its 'std' is NaN, which y held silently
        (None, "std", r"target_agg='std' gave NaN or infinite targets for ids \['c'\] "
                      r"\(1 of 3\)"),
        ({"label": [1.0, np.inf, 9.0, 0.0, 0.0, 7.0]}, "last", r"for ids \['a'\] \(1 of 3\)"),
        # (a nullable column's aggregate holds pd.NA, not NaN)
        ({"label": pd.array([1.0, 9.0, 5.0, 0.0, 0.0, 7.0], dtype="Float64")}, "std",
         r"for ids \['c'\]"),
    ],
)
def test_from_long_format_refuses_targets_that_are_no_values(long_df, change, target_agg,
                                                             match):
    df = long_df.assign(**(change or {}))
    with pytest.raises(ValueError, match=match):
        from_long_format(df, "id", "t", target_col="label", target_agg=target_agg)


def test_time_categories_of_text_need_their_order_declared():
    # month names as categories (of read_csv(dtype="category"), say) were sorted as text,
    # Apr, Feb, Jan, Mar, each sequence's steps out of order, silently
    months = ["Jan", "Feb", "Mar", "Apr"]
    df = pd.DataFrame({"id": ["a"] * 4, "t": pd.Categorical(months), "x": [1.0, 2, 3, 4]})
    with pytest.raises(ValueError, match=r"^time column 't' is categorical of text with no "
                                         r"order: .*\(\['Apr', 'Feb', 'Jan'\]\.\.\.\), as "
                                         r"text.* df\['t'\]\.cat\.reorder_categories\(\[\.\.\.\], "
                                         r"ordered=True\)"):
        from_long_format(df, "id", "t")
    in_order = df["t"].cat.reorder_categories(months, ordered=True)
    X, _, _ = from_long_format(df.assign(t=in_order), "id", "t")
    assert X[0].ravel().tolist() == [1.0, 2.0, 3.0, 4.0]
    # categories of numbers are in their order already
    X, _, _ = from_long_format(df.assign(t=pd.Categorical([3, 1, 10, 2])), "id", "t")
    assert X[0].ravel().tolist() == [2.0, 4.0, 1.0, 3.0]


def test_feature_categories_of_numbers_are_read_as_those_numbers(long_df,
                                                                 categories_of_numbers):
    # read as make_windows and the estimators read them; they were refused as labels
    column, plain = categories_of_numbers(long_df["x2"])
    X, _, _ = from_long_format(long_df.assign(x2=column), "id", "t")
    for got, expected in zip(X, from_long_format(long_df.assign(x2=plain), "id", "t")[0],
                             strict=True):
        assert got.dtype == expected.dtype
        assert_array_equal(got, expected)
    with pytest.raises(ValueError, match=r"^feature columns \['x2'\] contain missing"):
        from_long_format(long_df.assign(x2=column.where(long_df["x2"] != 3)), "id", "t")


def test_time_categories_among_the_features_keep_their_declared_order():
    # the features read as numbers, the rows sorted in the categories' order, not theirs
    t = pd.Categorical([1, 3, 2], categories=[3, 2, 1], ordered=True)
    df = pd.DataFrame({"id": ["a"] * 3, "t": t, "x": [1.0, 3.0, 2.0]})
    X, _, _ = from_long_format(df, "id", "t", feature_cols=["t", "x"])
    assert_array_equal(X[0], [[3.0, 3.0], [2.0, 2.0], [1.0, 1.0]])

@pytest.mark.parametrize("dtype", ["str", object, "category"])
@pytest.mark.parametrize("target_agg", ["mean", "std"])
def test_numbers_aggregated_over_text_labels_are_refused_with_the_column(long_df, dtype,
                                                                        target_agg):
    # pandas' "agg function failed [how->mean,dtype->str]", "could not convert string to
    # float: 'q'" and the like, naming neither the column nor a fix
    df = long_df.assign(label=pd.Series(list("pqpqqr"), dtype=dtype))
    with pytest.raises(ValueError, match=rf"^target_agg='{target_agg}' cannot aggregate "
                                         r"target column 'label' of dtype .*; pass 'last'"):
        from_long_format(df, "id", "t", target_col="label", target_agg=target_agg)


@pytest.mark.parametrize("last_two", [lambda s: s.to_numpy()[-2:], lambda s: tuple(s[-2:]),
                                      lambda s: s.tolist()[-2:]])
def test_a_target_function_giving_several_values_per_id_is_refused(long_df, last_two):
    # y came back an array of arrays (tuples, lists), one per id, silently
    with pytest.raises(ValueError, match=r"gave a sequence \((ndarray|tuple|list)\) for id 'a', "
                                         r"not one value; .* lambda s: s\.iloc\[-1\]"):
        from_long_format(long_df, "id", "t", target_col="label", target_agg=last_two)


@pytest.mark.parametrize(("number", "text"), [(1, "1"), (1.0, "1"), (2.5, "2.5")])
def test_ids_of_a_number_and_a_text_written_alike_are_refused(long_df, number, text):
    # pd.concat of a table read with integer ids and one with text ids: id 1's rows were
    # split into two sequences, 1 and "1", silently
    df = long_df.assign(id=pd.Series([number, number, text, text, number, "c"], dtype=object))
    with pytest.raises(ValueError, match=rf"^id column 'id' holds {number!r} and '{text}', "
                                         r"a number and a text written alike: two ids"):
        from_long_format(df, "id", "t")
    # ids of several types written apart are ids as before
    _, _, ids = from_long_format(long_df.assign(id=[1, 2.5, 1, 2.5, 2.5, "c"]), "id", "t")
    assert ids.tolist() == [1, 2.5, "c"]


def test_from_long_format_reads_the_columns_a_bounded_number_of_times(monkeypatch):
    # the check for repeated names listed df's columns once per column read: 17 s for a
    # table of 5000 feature columns (counted, not timed: a scan of the columns each)
    df = pd.DataFrame(np.ones((4, 300)), columns=[f"f{i}" for i in range(300)])
    df = df.assign(id=[0, 0, 1, 1], t=[0, 1, 0, 1])
    scans = []
    iterate = pd.Index.__iter__

    def counted(index):
        scans.append(index is df.columns)
        return iterate(index)

    monkeypatch.setattr(pd.Index, "__iter__", counted)
    X, _, _ = from_long_format(df, "id", "t")
    assert X[0].shape == (2, 300)
    assert sum(scans) < 10


def test_from_long_format_does_not_send_a_column_named_none_to_the_index(long_df):
    # an unnamed index's name is None: "[None] are levels of its index: pass
    # df.reset_index()", which makes a column named "index", not None
    with pytest.raises(ValueError, match=r"Columns \[None\] not found in df") as info:
        from_long_format(long_df, None, "t")
    assert "levels of its index" not in str(info.value)


def test_from_long_format_returns_writable_arrays_of_their_own(long_df):
    # pandas 3 hands out read-only views: X[0][0, 0] = v and y[0] = v raised
    # "assignment destination is read-only"
    X, y, _ = from_long_format(long_df, "id", "t", target_col="label")
    assert all(seq.flags.writeable for seq in X) and y.flags.writeable
    for seq in X:
        seq[:] = -1.0
    y[:] = -1.0
    assert (long_df[["x1", "x2", "label"]].to_numpy() >= 0).all()  # (df untouched)


@pytest.mark.parametrize("ids", [pd.Categorical(["b", "a", None, "a", "a", "c"]),
                                 pd.array([2, 1, None, 1, 1, 3], dtype="Int64")])
def test_from_long_format_refuses_missing_ids_of_any_dtype(long_df, ids):
    with pytest.raises(ValueError, match=r"^id/time columns \['id'\] contain missing"):
        from_long_format(long_df.assign(id=ids), "id", "t")
