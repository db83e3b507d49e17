"""pandas' missing value in an array of dtype object (what ``DataFrame.to_numpy()`` of a
nullable column gives) is a missing value, as None is."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm import LSTMRegressor
from sklstm._nullable import as_array, nullable_as_numpy, object_numbers, pandas_na_as_nan
from sklstm.preprocessing import SequencePadder, SequenceScaler

# (3 timesteps, 2 features), pd.NA at timestep 1 of feature 0
TABLE = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"),
                      "b": pd.array([4, 5, 6], dtype="Int64")}).to_numpy()


def _refused_as_missing_at(Est, X, where):
    est = Est(device="cpu") if Est is LSTMRegressor else Est()
    with pytest.raises(ValueError, match=f"Input X contains NaN at {where}: fill missing"):
        est.fit(X, np.zeros(len(X)))


@pytest.mark.parametrize(("X", "where"), [
    (TABLE, "sample 1, timestep 0"),  # 2D: 3 univariate sequences of 2 steps
    (TABLE[None], "sample 0, timestep 1, feature 0"),
    ([TABLE[:2], TABLE], "sequence 0, timestep 1, feature 0"),
    (TABLE.tolist(), "sample 1, timestep 0"),  # a nested list of the cells
], ids=["2d", "3d", "list", "nested list"])
@pytest.mark.parametrize("Est", [SequenceScaler, LSTMRegressor])
def test_pd_na_in_an_object_array_is_refused_as_a_missing_value_it_places(X, where, Est):
    # float()'s bare "argument must be a string or a real number, not 'NAType'" (2D, 3D),
    # or "non-numeric dtype object; encode categories first" (the sequences of a list)
    _refused_as_missing_at(Est, X, where)


def test_the_padder_passes_pd_na_through_as_nan():
    out = SequencePadder(length=4).fit_transform([TABLE, TABLE[:1]])
    assert out.dtype == np.float64 and np.isnan(out[0, 1, 0])
    assert_array_equal(np.isnan(out).sum(), 1)
    assert_array_equal(SequencePadder().fit_transform(TABLE)[1], [np.nan, 5.0])


def test_only_pd_na_is_replaced():
    values = np.array([1, pd.NA, None, "a", np.array([1.0])], dtype=object)
    out = pandas_na_as_nan(values)
    assert out[1] is not pd.NA and np.isnan(out[1])
    assert out[2] is None and out[3] == "a" and out[4] is values[4]
    assert values[1] is pd.NA  # a copy: the caller's array is left as it was
    plain = np.array([1, None], dtype=object)
    assert pandas_na_as_nan(plain) is plain
    assert_array_equal(object_numbers(np.array([[1, pd.NA]], dtype=object)), [[1.0, np.nan]])


FRAME = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"),
                      "b": pd.array([4, 5, 6], dtype="Int64")})


@pytest.mark.parametrize("X", [
    FRAME.astype(object),
    FRAME.astype({"b": object}),  # a nullable column beside one of objects
    FRAME.astype(object).assign(b=[4, 5, pd.NA]),  # pd.NA among objects elsewhere too
    # numbers as text, which scikit-learn converts, in pandas' "string" dtype
    FRAME.astype(str).astype("string").mask(FRAME.isna()),
], ids=["objects", "nullable beside objects", "objects beside objects", "text"])
@pytest.mark.parametrize("Est", [SequenceScaler, LSTMRegressor])
def test_pd_na_in_a_dataframe_of_objects_is_refused_as_a_missing_value_it_places(X, Est):
    # numpy's bare "float() argument must be a string or a real number, not 'NAType'",
    # raised from within scikit-learn's check_array (or from the message that places it)
    est = Est(device="cpu") if Est is LSTMRegressor else Est()
    with pytest.raises(ValueError, match="Input X contains NaN at sample 1, timestep 0: fill"):
        est.fit(X, np.zeros(len(X)))


def test_a_dataframe_keeps_its_columns_and_is_left_as_it_was():
    objects = FRAME.astype(object)
    out = pandas_na_as_nan(objects)
    assert list(out.columns) == ["a", "b"] and np.isnan(out.iloc[1, 0])
    assert objects.iloc[1, 0] is pd.NA  # the caller's frame is left as it was
    complete = FRAME.fillna(0).astype(object)
    assert pandas_na_as_nan(complete) is complete
    plain = FRAME.fillna(0).astype(np.int64)
    assert pandas_na_as_nan(plain) is plain
    converted = pandas_na_as_nan(FRAME)  # nullable columns as numpy ones, NaN for pd.NA
    assert list(converted.dtypes) == [np.float64] * 2 and np.isnan(converted.iloc[1, 0])
    assert list(converted.columns) == ["a", "b"]
    beside = pandas_na_as_nan(FRAME.assign(c=np.float32(1.5)))  # beside a numpy column
    assert list(beside.dtypes) == [np.float64, np.int64, np.float32]
    assert_array_equal(beside.iloc[:, 1], [4, 5, 6])
    assert FRAME.dtypes.iloc[0] == "Int64"  # the caller's frame is left as it was


@pytest.mark.parametrize("missing", [False, True], ids=["complete", "with pd.NA"])
@pytest.mark.parametrize("shape", ["DataFrame", "Series"])
def test_nullable_float32_stays_float32_as_float32_does(missing, shape):
    # a 2D DataFrame of Float32 columns became float64 (scikit-learn converts nullable
    # columns to the first dtype it is given), a Series with pd.NA too, where the same
    # numbers as float32 stay float32
    values = np.arange(12, dtype=np.float32).reshape(3, 4) / 3
    frame = pd.DataFrame(values, columns=list("abcd")).astype("Float32")
    if missing:
        frame.iloc[1, 0] = pd.NA
    X = frame if shape == "DataFrame" else frame["a"]
    plain = X.astype(np.float32)
    assert as_array(X).dtype == as_array(plain).dtype == np.float32
    assert_array_equal(as_array(X), as_array(plain))
    if shape == "DataFrame" and not missing:
        scaler = SequenceScaler().fit(X)
        out = scaler.transform(X)
        assert out.dtype == SequenceScaler().fit(plain).transform(plain).dtype == np.float32
        assert list(scaler.feature_names_in_) == list("abcd")


MASKED = np.ma.masked_array(np.arange(12.0).reshape(3, 4), mask=np.arange(12).reshape(3, 4) == 6)


@pytest.mark.parametrize(("X", "where"), [
    (MASKED, "sample 1, timestep 2"),
    (MASKED[:, :, None], "sample 1, timestep 2, feature 0"),
    ([MASKED[0, :, None], MASKED[1, :3, None]], "sequence 1, timestep 2, feature 0"),
    (MASKED.astype(np.int64), "sample 1, timestep 2"),
], ids=["2d", "3d", "list", "integers"])
@pytest.mark.parametrize("Est", [SequenceScaler, LSTMRegressor])
def test_masked_values_are_missing_values(X, where, Est):
    # np.asarray read the values under the mask, silently: the masked 6.0 was trained on
    _refused_as_missing_at(Est, X, where)


def test_a_masked_array_without_masked_values_is_its_data():
    out = SequencePadder().fit_transform(np.ma.masked_array(MASKED.data.astype(np.float32)))
    assert out.dtype == np.float32 and not isinstance(out, np.ma.MaskedArray)
    assert_array_equal(out, MASKED.data)
    padded = SequencePadder().fit_transform(MASKED)  # the padder passes NaN through
    assert np.isnan(padded[1, 2]) and np.isnan(padded).sum() == 1


@pytest.mark.parametrize(("values", "expected"), [
    (pd.Series([True, False], dtype="boolean"), np.array([True, False])),
    (pd.Series([3, 4], dtype="Int8"), np.array([3, 4], dtype=np.int8)),
    (pd.Series([3, None], dtype="UInt16"), np.array([3.0, np.nan])),
    (pd.DataFrame({"a": [1, 2]}, dtype="Int64").assign(b=[0.5, 1.0]),
     np.array([[1.0, 0.5], [2.0, 1.0]])),
], ids=["boolean", "Int8", "with pd.NA", "DataFrame"])
def test_nullable_numbers_become_numpys_of_their_dtype(values, expected):
    # targets: scikit-learn's checks made every one float64 (classes_ [0., 1.] of a
    # boolean y), and read pd.NA among objects
    out = nullable_as_numpy(values)
    assert isinstance(out, np.ndarray) and out.dtype == expected.dtype
    assert_array_equal(out, expected)


@pytest.mark.parametrize("values", [
    pd.Series(["a", None], dtype="string"), pd.Series([1.0, 2.0]),
    pd.Series(["a", "b"], dtype="category"), np.array([1, 2]), [1, 2]],
    ids=["text", "numpy dtype", "categories", "ndarray", "list"])
def test_anything_but_nullable_numbers_is_left_as_it_is(values):
    assert nullable_as_numpy(values) is values
