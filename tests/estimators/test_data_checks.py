"""The checks of the data before training (_data_checks) on a SequenceStore: what the same
data in memory is told, with the store read once."""

import datetime
import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data.store import SequenceStore
from sklstm.estimators._data_checks import (
    check_finite_targets,
    check_fit_data,
    check_sample_counts,
)
from sklstm.exceptions import UnscaledInputWarning
from sklstm.preprocessing import SequenceScaler

from ..data.store_reads import count_reads
from ..data.test_validation import nested_sequences
from ..settings import TINY

CPU = dict(TINY, device="cpu")


def _unscaled(tmp_path):
    """``(X, the same X as a store, y)``: ragged sequences of features of scales 1e4 and 1."""
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)) * [1e4, 1.0] for n in rng.integers(3, 9, size=30)]
    return X, SequenceStore.write(tmp_path / "s", X), rng.normal(size=30)


def test_an_unscaled_store_is_warned_about_as_in_memory_reading_it_once(monkeypatch,
                                                                         tmp_path):
    # the root mean squares the warning reads were a second pass over the whole store
    X, store, y = _unscaled(tmp_path)
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 256)  # several chunks
    read = count_reads(monkeypatch)
    with pytest.warns(UserWarning, match="root mean squares from") as from_store:
        check_fit_data(LSTMRegressor(device="cpu"), store, y)
    assert sorted(read) == list(range(len(X)))
    with pytest.warns(UserWarning, match="root mean squares from") as in_memory:
        check_fit_data(LSTMRegressor(device="cpu"), X, y)
    assert [str(w.message) for w in from_store] == [str(w.message) for w in in_memory]


def test_the_warning_has_a_class_of_its_own(tmp_path):
    # a UserWarning still (filters of those catch it), filtered by class, not wording
    X, _, y = _unscaled(tmp_path)
    assert issubclass(UnscaledInputWarning, UserWarning)
    with pytest.warns(UnscaledInputWarning, match="Scale X first"):
        check_fit_data(LSTMRegressor(device="cpu"), X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", UnscaledInputWarning)
        check_fit_data(LSTMRegressor(device="cpu"), X, y)


def test_a_scaled_store_trains_without_the_warning(tmp_path):
    _, store, y = _unscaled(tmp_path)
    with pytest.warns(UserWarning, match="root mean squares"):
        LSTMRegressor(**CPU).fit(store, y)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*root mean squares")
        make_pipeline(SequenceScaler(), LSTMRegressor(**CPU)).fit(store, y)


@pytest.mark.parametrize(("Estimator", "balanced"), [(LSTMClassifier, True),
                                                     (LSTMRegressor, False)])
def test_sample_weight_is_refused_naming_class_weight_for_a_classifier(Estimator, balanced):
    # weights that balance the classes were sent to resampling, past class_weight="balanced"
    X, y = np.ones((4, 3, 1)), np.array([0, 1, 0, 1])
    with pytest.raises(TypeError, match="resample the training data") as info:
        Estimator(**CPU).fit(X, y, sample_weight=np.ones(4))
    assert ("set class_weight='balanced'" in str(info.value)) is balanced


@pytest.mark.parametrize("layout", ["strided", "jagged"])
def test_a_nested_tensor_is_counted_by_its_sequences(layout):
    # counting it raised torch's "NestedTensorImpl doesn't support sizes" (strided),
    # before validation, which reads it as the list of its sequences, was reached
    import torch

    X = nested_sequences([torch.zeros(5, 2), torch.zeros(3, 2)], layout)
    check_sample_counts(X, np.zeros(2), "LSTMRegressor")
    with pytest.raises(ValueError, match="X has 2 samples but y has 3"):
        check_sample_counts(X, np.zeros(3), "LSTMRegressor")
    if layout == "strided":  # (torch builds no empty jagged one)
        with pytest.raises(ValueError, match="0 sample"):
            check_sample_counts(nested_sequences([]), np.zeros(0), "LSTMRegressor")


X3 = np.random.default_rng(0).normal(size=(20, 5, 2)).astype(np.float32)
Y = np.arange(20) % 2


@pytest.mark.parametrize(("dtype", "labels"), [
    ("boolean", [False, True]), ("Int8", [2, 3]), ("Int64", [-1, 7]), ("UInt16", [2, 3])])
def test_nullable_labels_keep_their_values_in_classes_and_predictions(dtype, labels):
    # scikit-learn's checks convert pandas' nullable columns to float64: classes_ was
    # [0., 1.] for a "boolean" y and predict gave 1.0 for True (3.0 for 3)
    y = pd.Series(np.array(labels)[Y], dtype=dtype)
    plain = y.to_numpy(dtype=y.dtype.numpy_dtype)  # the same labels, of numpy's dtype
    clf = LSTMClassifier(**CPU).fit(X3, y)
    assert clf.classes_.dtype == plain.dtype
    assert_array_equal(clf.classes_, labels)
    pred = clf.predict(X3)
    assert pred.dtype == plain.dtype and set(pred.tolist()) <= set(labels)
    assert_array_equal(pred, LSTMClassifier(**CPU).fit(X3, plain).predict(X3))


@pytest.mark.parametrize("dtype", ["boolean", "Int64", "Float64"])
@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_pd_na_in_nullable_targets_is_refused_placed_with_a_fix_that_works(dtype, Estimator):
    # a "boolean" y was told scikit-learn's bare "Input y contains NaN." (no sample, no
    # fix); an Int64 one keep = numpy.isfinite(y), a mask holding pd.NA that indexes
    # nothing (IndexError)
    y = pd.Series(Y.astype(bool) if dtype == "boolean" else Y, dtype=dtype)
    y[4] = pd.NA
    est = Estimator(max_epochs=1, device="cpu")
    with pytest.raises(ValueError, match=r"^Input y contains NaN at sample 4 \(1 of 20 "
                       r"targets .*\(keep = y\.notna\(\), then X\[keep\], y\[keep\]\)"):
        est.fit(X3, y)
    assert not hasattr(est, "net_")
    keep = y.notna()
    check_fit_data(est, X3[keep], y[keep])  # the fix named: no error


def test_pd_na_in_a_nullable_target_table_is_placed():
    y = pd.DataFrame({"a": Y, "b": Y * 2}, dtype="Int64")
    y.iloc[6, 1] = pd.NA
    with pytest.raises(ValueError, match=r"^Input y contains NaN at sample 6 .*keep = "
                       r"y\.notna\(\)\.all\(axis=1\)"):
        LSTMRegressor(max_epochs=1, device="cpu").fit(X3, y)
    # sklstm tune checks y alone, before it opens a study
    with pytest.raises(ValueError, match="NaN at sample 6"):
        check_finite_targets(y)


@pytest.mark.parametrize(("shape", "keep"), [
    ("list", r"numpy\.isfinite\(numpy\.asarray\(y, dtype=float\)\)"),
    ("Series", r"y\.notna\(\)")], ids=["list", "Series"])
def test_missing_regression_targets_among_objects_are_placed(shape, keep):
    # numbers beside None: scikit-learn's bare "Input y contains NaN." (no sample, no fix)
    values = [*(Y / 2)[:3], None, *(Y / 2)[4:]]
    y = values if shape == "list" else pd.Series(values, dtype=object)
    est = LSTMRegressor(max_epochs=1, device="cpu")
    with pytest.raises(ValueError, match=rf"^Input y contains NaN at sample 3 \(1 of 20 "
                       rf"targets .*\(keep = {keep}, then"):
        est.fit(X3, y)
    assert not hasattr(est, "net_")
    if shape == "Series":
        check_fit_data(est, X3[y.notna()], y[y.notna()])  # the fix named: no error


_PERIODS = pd.period_range("2020-01", periods=20, freq="M")
_INTERVALS = pd.interval_range(0, 20)


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
@pytest.mark.parametrize(("kind", "y", "fix", "numbers"), [
    ("periods", pd.Series(_PERIODS), r"pd\.Series\(y\)\.astype\('int64'\)",
     lambda y: pd.Series(y).astype("int64")),
    ("periods", np.asarray(_PERIODS), r"pd\.Series\(y\)\.astype\('int64'\)",
     lambda y: pd.Series(y).astype("int64")),
    ("intervals", pd.Series(_INTERVALS), r"pd\.IntervalIndex\(y\)\.mid",
     lambda y: pd.IntervalIndex(y).mid),
    ("intervals", np.asarray(_INTERVALS), r"pd\.IntervalIndex\(y\)\.mid",
     lambda y: pd.IntervalIndex(y).mid),
    ("dates", [datetime.date(2024, 1, 1 + i) for i in range(20)], r"pd\.Timedelta\(hours=1\)",
     lambda y: (pd.to_datetime(y) - pd.Timestamp("2024-01-01")) / pd.Timedelta(hours=1)),
    ("durations", [pd.Timedelta(minutes=i) for i in range(20)], r"pd\.Timedelta\(hours=1\)",
     lambda y: pd.to_timedelta(y) / pd.Timedelta(hours=1)),
], ids=["periods-Series", "periods-objects", "intervals-Series", "intervals-objects", "dates",
        "durations"])
def test_targets_of_times_or_spans_are_refused_naming_the_numbers_to_pass(
        Estimator, kind, y, fix, numbers):
    # a regressor's were float()'s bare TypeError ("not 'Period'", "not 'datetime.date'"),
    # a classifier's "Unknown label type: unknown" with LSTMRegressor as the fix
    if Estimator is LSTMClassifier and kind in ("dates", "durations"):  # (as labels:
        fix = r"np\.asarray\(y, dtype='(datetime|timedelta)64'\)"  # test_time_labels.py)
    est = Estimator(max_epochs=1, device="cpu")
    with pytest.raises(ValueError, match=rf"^y holds {kind} .*{fix}.*pd\.Series\(y\)"
                       r"\.astype\(str\)\.$"):
        est.fit(X3, y)
    assert not hasattr(est, "net_")
    check_fit_data(est, X3, numbers(y) if Estimator is LSTMRegressor
                   else pd.Series(y).astype(str))  # the fixes named: no error
