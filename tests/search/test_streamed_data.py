"""Searches over a store: folds are views of the file, the scores those of the array."""

import numpy as np
import optuna
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingGridSearchCV, cross_validate

from sklstm.data.store import SequenceStore
from sklstm.estimators._base import BaseLSTM
from sklstm.search import tune


@pytest.fixture
def stored(tmp_path, data):
    """The ``data`` fixture's X as a memory-mapped array wrapped in a store."""
    np.save(tmp_path / "X.npy", data[0])
    return SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"))


@pytest.fixture
def fold_inputs(monkeypatch):
    """The type of X every fit of the test receives."""
    seen = []
    fit = BaseLSTM.fit

    def recording_fit(self, X, y):
        seen.append(type(X))
        return fit(self, X, y)

    monkeypatch.setattr(BaseLSTM, "fit", recording_fit)
    return seen


SEARCHES = {
    "grid": lambda pipe, X, y: GridSearchCV(
        pipe, {"lstm__batch_size": [8, 16]}, cv=2).fit(X, y).cv_results_["mean_test_score"],
    "halving": lambda pipe, X, y: HalvingGridSearchCV(
        pipe, {"lstm__batch_size": [8, 16]}, cv=2, min_resources=20, random_state=0,
    ).fit(X, y).cv_results_["mean_test_score"],
    "cross_validate": lambda pipe, X, y: cross_validate(pipe, X, y, cv=3)["test_score"],
}


@pytest.mark.parametrize("search", SEARCHES)
def test_a_search_over_a_store_scores_as_over_the_array(search, pipeline, data, stored,
                                                        fold_inputs):
    # exactly, at device="auto": on CUDA too, where the array's folds go to the device
    # whole and the store's are copied batch by batch, the same batches of the same
    # values reach the same kernels (as tests/estimators/test_streamed_data.py checks
    # for one fit on each device)
    X, y = data
    expected = SEARCHES[search](pipeline, X, y)
    fold_inputs.clear()
    np.testing.assert_array_equal(SEARCHES[search](pipeline, stored, y), expected)
    # every fold (and the refit) was a view of the file: the scaler maps it, the
    # network reads it by the batch
    assert fold_inputs and set(fold_inputs) == {SequenceStore}


def test_tune_over_a_store_scores_as_over_the_array(pipeline, data, stored, tmp_path):
    X, y = data
    def search(X, storage):  # a sampler each: it holds the random state it draws
        return tune(pipeline, X, y, n_trials=3, cv=2, space={"lstm__batch_size": [8, 16]},
                    sampler=optuna.samplers.RandomSampler(seed=0), storage=str(storage))

    in_memory, on_disk = search(X, tmp_path / "a.log"), search(stored, tmp_path / "b.log")
    assert [t.values for t in on_disk.trials] == [t.values for t in in_memory.trials]
    assert [t.params for t in on_disk.trials] == [t.params for t in in_memory.trials]
