"""Numbers that numpy reads as objects: pandas' nullable dtypes (``Float64``, ``Int64``,
``boolean``: what ``convert_dtypes`` and ``read_csv(dtype_backend="numpy_nullable")``
give) and arrays of dtype object hold numbers; ``pd.NA`` and None are missing values."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone

from sklstm import LSTMClassifier, LSTMRegressor

rng = np.random.default_rng(0)
X3 = np.round(rng.normal(size=(20, 5, 2)) * 4)  # whole numbers: Int64 holds them too
Y = np.arange(20) % 2


@pytest.mark.parametrize("dtype", ["Float64", "Int64"])
def test_sequences_of_a_nullable_dtype_are_read_as_their_numbers(dtype, tiny):
    # numpy reads such a DataFrame as objects: "Sequence 0 of X has non-numeric dtype
    # object" before
    frames = [pd.DataFrame(x, columns=["a", "b"]).astype(dtype) for x in X3]
    plain = [frame.astype(float) for frame in frames]
    est = LSTMRegressor(**tiny, device="cpu")
    assert_allclose(clone(est).fit(frames, Y).predict(frames),
                    clone(est).fit(plain, Y).predict(plain), rtol=1e-6)


def test_sequences_of_dtype_object_holding_numbers_are_read_as_floats(tiny):
    # a 3D X of dtype object is converted (scikit-learn's check_array); its sequences in a
    # list were refused as "non-numeric dtype object"
    est = LSTMRegressor(**tiny, device="cpu")
    ref = clone(est).fit(list(X3), Y).predict(list(X3))
    for X in ([x.astype(object) for x in X3], [pd.DataFrame(x).astype(object) for x in X3]):
        assert_allclose(clone(est).fit(X, Y).predict(X), ref, rtol=1e-6)


def test_token_ids_of_a_nullable_dtype_are_ids(tiny):
    ids = rng.integers(1, 9, size=(20, 6))
    est = LSTMClassifier(**tiny, embedding_dim=3, device="cpu")
    ref = clone(est).fit(ids, Y).predict_proba(ids)
    for X in (pd.DataFrame(ids).astype("Int64"), [pd.Series(row, dtype="Int64") for row in ids]):
        assert_allclose(clone(est).fit(X, Y).predict_proba(X), ref, rtol=1e-6)


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "boolean"])
def test_pd_na_is_refused_as_a_missing_value_it_places(dtype):
    values = X3 > 0 if dtype == "boolean" else X3
    table = pd.DataFrame(values[:, :, 0]).astype(dtype)
    table.iloc[4, 3] = pd.NA
    frames = [pd.DataFrame(x).astype(dtype) for x in values]
    frames[3].iloc[2, 1] = pd.NA
    # scikit-learn's "Input X contains NaN" of the table became float()'s bare TypeError
    # about pd.NA; the frames were refused as "non-numeric"
    for X, where in [(table, "sample 4, timestep 3"),
                     (frames, "sequence 3, timestep 2, feature 1")]:
        _refused_as_missing(X, where)


def test_none_in_a_sequence_of_dtype_object_is_a_missing_value():
    objects = [x.astype(object) for x in X3]
    objects[3][2, 1] = None  # "non-numeric dtype object; encode categories first" before
    _refused_as_missing(objects, "sequence 3, timestep 2, feature 1")


def _refused_as_missing(X, where):
    est = LSTMClassifier(max_epochs=1)
    with pytest.raises(ValueError, match=f"^Input X contains NaN at {where}: fill missing"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


def test_a_long_table_of_sequences_is_told_how_to_group_its_rows(tiny):
    # rows (sample, time) of a MultiIndex were told only "pass one target per sequence",
    # which y already was: X's rows are its timesteps
    index = pd.MultiIndex.from_product([range(20), range(5)], names=["sample", "time"])
    long = pd.DataFrame(X3.reshape(100, 2), index=index, columns=["a", "b"])
    est = LSTMRegressor(**tiny, device="cpu")
    with pytest.raises(ValueError, match=r"X has 100 samples but y has 20.* index levels "
                                         r"\['sample', 'time'\].*long format.*"
                                         r"X.groupby\(level='sample', sort=False\)"):
        est.fit(long, Y)
    # the fix as given: the sequences of the 3D array, in y's order
    sequences = [seq for _, seq in long.groupby(level="sample", sort=False)]
    assert_allclose(np.stack(sequences), X3)
    assert list(est.fit(sequences, Y).feature_names_in_) == ["a", "b"]
