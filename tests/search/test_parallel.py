"""Searches whose fits run as threads (sklstm/search/parallel.py): the results of
``n_jobs=1``, torch's process-wide settings as they were."""

import threading
import warnings

import numpy as np
import optuna
import pytest
import torch
from sklearn.model_selection import GridSearchCV

from sklstm import LSTMClassifier
from sklstm.search import concurrent_fits, tune

#: Every kind of draw a fit makes: initialization, the head's dropout, and the dropout
#: between stacked LSTM layers (torch's fused CPU kernel draws it; on CUDA sklstm's
#: F.dropout between layers run one at a time, from the device's generator).
GRID = {"batch_size": [8, 16], "dropout": [0.0, 0.4], "num_layers": [1, 2]}
#: (n_threads=None: the fits run with the process's thread count either way, so that
#: the comparison is of the same arithmetic)
BASE = dict(hidden_size=4, max_epochs=2, tol=None, lr=0.03, random_state=0, n_threads=None)


def _search(data, Estimator=LSTMClassifier, **fit_kwargs):
    search = GridSearchCV(Estimator(**BASE), GRID, cv=2, scoring="neg_log_loss",
                          **fit_kwargs)
    return search.fit(*data)


def _in_workers(data, **fit_kwargs):
    """:func:`_search`, and the threads other than this one its fits ran in."""
    seen = set()

    class Recording(LSTMClassifier):
        def fit(self, X, y):
            seen.add(threading.get_ident())
            return super().fit(X, y)

    search = _search(data, Recording, **fit_kwargs)
    return search, seen - {threading.get_ident()}


def test_a_grid_search_in_threads_is_the_one_in_sequence(data):
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    alone = _search(data, n_jobs=1)
    with concurrent_fits(2):
        beside, workers = _in_workers(data)
    assert len(workers) == 2  # two worker threads
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(beside.cv_results_[key], alone.cv_results_[key])
    assert beside.best_params_ == alone.best_params_
    assert beside.best_score_ == alone.best_score_
    X = data[0]
    np.testing.assert_array_equal(beside.predict_proba(X), alone.predict_proba(X))
    # torch's process-wide settings are as they were
    assert torch.get_num_threads() == threads and torch.equal(torch.get_rng_state(), rng)


def test_a_search_on_joblib_s_threading_backend_is_the_one_in_sequence(data):
    # without concurrent_fits: each fit seeded torch's global generators for itself, so
    # fits overlapping in threads drew from each other's streams (other scores)
    from joblib import parallel_backend

    rng = torch.get_rng_state()
    alone = _search(data, n_jobs=1)
    with parallel_backend("threading", n_jobs=2):
        beside = _search(data, n_jobs=2)
    np.testing.assert_array_equal(beside.cv_results_["mean_test_score"],
                                  alone.cv_results_["mean_test_score"])
    assert torch.equal(torch.get_rng_state(), rng)


def test_a_search_s_own_n_jobs_wins(data):
    with concurrent_fits(1):
        beside, workers = _in_workers(data, n_jobs=2)
    # (the scores alone cannot tell: one thread gives the same, as the tests above show)
    assert len(workers) == 2
    np.testing.assert_array_equal(beside.cv_results_["mean_test_score"],
                                  _search(data).cv_results_["mean_test_score"])


def _values(study):
    return {tuple(sorted(t.params.items())): t.value for t in study.trials
            if t.state == optuna.trial.TrialState.COMPLETE}


def test_tune_workers_in_threads_score_a_point_as_one_worker_does(data):
    space = {"batch_size": [8, 16], "dropout": [0.0, 0.4]}
    grid = {name: values for name, values in space.items()}

    def run(storage, n_trials):
        return tune(LSTMClassifier(**BASE), *data, n_trials=n_trials, cv=2, space=space,
                    storage=storage, baseline=False, heartbeat_interval=None,
                    sampler=optuna.samplers.GridSampler(grid, seed=0))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    alone = _values(run(optuna.storages.InMemoryStorage(), 4))
    storage = optuna.storages.InMemoryStorage()
    errors = []

    def worker():
        try:
            run(storage, 4)
        except Exception as exc:  # (reported below, in the test's thread)
            errors.append(exc)

    with concurrent_fits():
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
    assert not errors
    beside = _values(optuna.load_study(study_name="sklstm", storage=storage))
    assert len(alone) == 4 and beside and set(beside) <= set(alone)
    assert all(beside[point] == pytest.approx(alone[point], abs=0) for point in beside)


@pytest.mark.parametrize("memory", [dict(max_memory="1GiB"), dict(batch_size="auto")])
def test_a_fit_that_measures_memory_beside_other_fits_warns(data, memory):
    est = LSTMClassifier(**{**BASE, "max_epochs": 1, **memory})
    with concurrent_fits(), pytest.warns(UserWarning, match="memory of the whole process"):
        est.fit(*data)


def test_blocks_of_several_threads_leave_the_warning_filters_as_they_were():
    # each block saved the filters it found and put them back: a block that ended
    # before the other took the note's filter from it, and the last one to end put
    # it back for the rest of the process
    before = list(warnings.filters)
    note = "RNN module weights are not part of single contiguous chunk"
    first_in, second_in, first_out = (threading.Event() for _ in range(3))
    seen = []

    def first():
        with concurrent_fits():
            first_in.set()
            second_in.wait()
        first_out.set()

    def second():
        first_in.wait()
        with concurrent_fits():
            second_in.set()
            first_out.wait()
            seen.append(any(f[1] is not None and f[1].search(note) for f in warnings.filters))

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [True]  # still unsaid in the block that was still open
    assert warnings.filters == before


@pytest.mark.parametrize(("n_jobs", "error", "message"), [
    ("2", TypeError, "n_jobs must be an int or None, got '2'"),
    (2.0, TypeError, "n_jobs must be an int or None, got 2.0"),
    (True, TypeError, "n_jobs must be an int or None, got True"),
    (0, ValueError, "n_jobs must not be 0"),
], ids=["str", "float", "bool", "zero"])
def test_a_bad_n_jobs_is_refused_as_the_block_opens(n_jobs, error, message):
    # joblib took "2", 2.0 and True as given, and refused 0 only as the search ran
    with pytest.raises(error, match=message), concurrent_fits(n_jobs):
        pass


def test_n_jobs_takes_a_numpy_int():
    from joblib.parallel import get_active_backend

    with concurrent_fits(np.int64(2)):
        assert get_active_backend()[1] == 2
