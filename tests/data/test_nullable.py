"""pandas' missing value in an array of dtype object (what ``DataFrame.to_numpy()`` of a
nullable column gives) is a missing value, as None is."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal

from sklstm import LSTMRegressor
from sklstm.data.nullable import object_numbers, pandas_na_as_nan
from sklstm.preprocessing import SequencePadder, SequenceScaler

# (3 timesteps, 2 features), pd.NA at timestep 1 of feature 0
TABLE = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"),
                      "b": pd.array([4, 5, 6], dtype="Int64")}).to_numpy()


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
    est = Est(device="cpu") if Est is LSTMRegressor else Est()
    with pytest.raises(ValueError, match=f"Input X contains NaN at {where}: fill missing"):
        est.fit(X, np.zeros(len(X)))


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
], ids=["objects", "nullable beside objects", "objects beside objects"])
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
    assert pandas_na_as_nan(complete) is complete and pandas_na_as_nan(FRAME) is FRAME
