"""The checks of the data before training (_data_checks) on a SequenceStore: what the same
data in memory is told, with the store read once."""

import warnings

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data.store import SequenceStore
from sklstm.estimators._data_checks import check_fit_data, check_sample_counts
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
