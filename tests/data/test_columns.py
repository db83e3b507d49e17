"""A list of DataFrame sequences: its columns are feature_names_in_, and checked."""

import warnings

import numpy as np
import pandas as pd
import pytest

from sklstm import LSTMRegressor
from sklstm.data import SequenceStore
from sklstm.preprocessing import SequenceScaler

from ..settings import TINY

X = np.random.default_rng(0).normal(size=(12, 5, 2)).astype(np.float32)
Y = X[:, -1, 0]
FRAMES = [pd.DataFrame(seq, columns=["a", "b"]) for seq in X]


def _swapped(frames, at=None):
    return [f[["b", "a"]] if at is None or i == at else f for i, f in enumerate(frames)]


@pytest.mark.parametrize("Estimator", [lambda: LSTMRegressor(**TINY), SequenceScaler])
def test_the_columns_are_the_feature_names(Estimator):
    fitted = Estimator().fit(FRAMES, Y)
    assert list(fitted.feature_names_in_) == ["a", "b"]
    # a refit on arrays forgets them
    assert not hasattr(fitted.fit(list(X), Y), "feature_names_in_")


def test_columns_in_another_order_are_refused_not_read_in_the_wrong_places():
    est = LSTMRegressor(**TINY).fit(FRAMES, Y)
    np.testing.assert_array_equal(est.predict(FRAMES), est.predict(list(X)))
    with pytest.raises(ValueError, match=r"\['b', 'a'\], are not those LSTMRegressor was "
                                         r"fitted with, \['a', 'b'\]"):
        est.predict(_swapped(FRAMES))


@pytest.mark.parametrize("method", ["fit", "predict"])
def test_sequences_with_columns_in_different_orders_are_refused(method):
    est = LSTMRegressor(**TINY)
    if method == "predict":
        est.fit(FRAMES, Y)
    with pytest.raises(ValueError, match=r"^Sequence 3 of X has the columns \['b', 'a'\], "
                                         r"sequence 0 \['a', 'b'\]"):
        getattr(est, method)(_swapped(FRAMES, at=3), *([Y] if method == "fit" else []))


def test_columns_that_are_not_text_are_checked_but_not_recorded():
    frames = [pd.DataFrame(seq) for seq in X]  # columns 0 and 1
    assert not hasattr(LSTMRegressor(**TINY).fit(frames, Y), "feature_names_in_")


def test_a_store_is_written_only_from_frames_with_the_same_columns(tmp_path):
    # a store keeps values only: a file's columns in another order were stored as
    # features in the wrong places, where the same list in memory is refused
    with pytest.raises(ValueError, match=r"^Sequence 3 of the sequences written has the "
                                         r"columns \['b', 'a'\], sequence 0 \['a', 'b'\]"):
        SequenceStore.write(tmp_path / "s", iter(_swapped(FRAMES, at=3)))
    assert not list(tmp_path.iterdir())
    store = SequenceStore.write(tmp_path / "s", iter(FRAMES))
    np.testing.assert_array_equal(store.load(), list(X))


def test_sequences_after_a_fit_on_a_2d_frame_are_not_checked_against_its_timesteps():
    # a 2D DataFrame's columns name timesteps: a univariate DataFrame sequence was refused
    # as "not the columns fitted with" (whose advice, seq[list(feature_names_in_)], fails)
    table = pd.DataFrame(X[:, :, 0], columns=[f"t{i}" for i in range(5)])
    scaler = SequenceScaler().fit(table)
    out = scaler.transform([pd.DataFrame({"x": seq}) for seq in X[:2, :, 0]])
    np.testing.assert_allclose(out[0], scaler.transform(X[:1, :, :1])[0])


@pytest.mark.parametrize("index", [["a", "b", "c"], [10, 11, 12]])
def test_a_series_of_sequences_indexed_by_id_is_read_by_position(index):
    # what df.groupby("id").apply(...) gives: X[0] was a KeyError where no label is 0
    series = pd.Series([X[0], X[1, :3], X[2]], index=index)
    for got, expected in zip(SequenceScaler().fit_transform(series),
                             SequenceScaler().fit_transform(list(series)), strict=True):
        np.testing.assert_array_equal(got, expected)
    assert LSTMRegressor(**TINY).fit(series, Y[:3]).predict(series).shape == (3,)


@pytest.mark.parametrize(("first", "where"), [
    ("frame", "Sequence 0 of X is a DataFrame and sequence 2 is not"),
    ("array", "Sequence 2 of X is a DataFrame and sequence 0 is not"),
])
@pytest.mark.parametrize("Estimator", [lambda: LSTMRegressor(**TINY), SequenceScaler])
def test_a_mix_of_frames_and_arrays_is_refused_as_a_mix(first, where, Estimator):
    # a DataFrame first was refused as "sequence 2 has the columns []" (an array's columns,
    # which it has none of); an array first took the DataFrames' values, columns unchecked
    mixed = (FRAMES[:2] + list(X[2:]) if first == "frame"
             else list(X[:2]) + FRAMES[2:])
    with pytest.raises(ValueError, match=f"^{where}: a mix of DataFrames and arrays. Pass "
                                         "every sequence as a DataFrame with the same columns, "
                                         "or every one as an array"):
        Estimator().fit(mixed, Y)


@pytest.mark.parametrize(("first", "where"), [("frame", "0 of the sequences written is a "
                                                         "DataFrame and sequence 1"),
                                               ("array", "1 of the sequences written is a "
                                                         "DataFrame and sequence 0")])
def test_a_store_is_not_written_from_a_mix_of_frames_and_arrays(first, where, tmp_path):
    mixed = FRAMES[:1] + list(X[1:]) if first == "frame" else list(X[:1]) + FRAMES[1:]
    with pytest.raises(ValueError, match=f"^Sequence {where} is not: a mix"):
        SequenceStore.write(tmp_path / "s", iter(mixed))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("fitted_on", ["frames", "arrays"])
@pytest.mark.parametrize("given", ["frames", "arrays", "3d"])
def test_feature_names_warn_as_scikit_learn_warns_of_a_2d_frame(fitted_on, given):
    # a fit on DataFrame sequences then arrays (and the reverse) predicted silently,
    # where scikit-learn warns of a 2D DataFrame's names in both cases
    est = LSTMRegressor(**TINY).fit(FRAMES if fitted_on == "frames" else list(X), Y)
    X_given = {"frames": FRAMES, "arrays": list(X), "3d": X}[given]
    named = given == "frames"
    if named == (fitted_on == "frames"):
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="X (does not have valid|has) feature")
            est.predict(X_given)
        return
    message = (r"^X has feature names, but LSTMRegressor was fitted without" if named
               else r"^X does not have valid feature names, but LSTMRegressor was fitted with")
    with pytest.warns(UserWarning, match=message):
        est.predict(X_given)


@pytest.mark.parametrize("method", ["fit", "predict"])
def test_columns_of_mixed_types_are_a_type_error_as_in_scikit_learn(method):
    # columns ["a", 1] were taken as no names at all, where scikit-learn refuses them
    est = LSTMRegressor(**TINY)
    if method == "predict":
        est.fit(FRAMES, Y)
    mixed = [f.set_axis(["a", 1], axis="columns") for f in FRAMES]
    with pytest.raises(TypeError, match=r"Feature names are only supported if all input "
                                        r"features have string names.*astype\(str\)"):
        getattr(est, method)(mixed, *([Y] if method == "fit" else []))
