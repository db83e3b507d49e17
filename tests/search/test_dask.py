"""Scale-out on a real engine: GridSearchCV on a Dask cluster of two worker processes
(127.0.0.1) through joblib's "dask" backend gives the results of ``n_jobs=1``, also when a
worker process is killed in the middle of a fit (Dask reruns its tasks elsewhere)."""

import concurrent.futures
import logging
import os
import signal

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from sklstm import LSTMClassifier

from ..settings import TINY

distributed = pytest.importorskip("distributed")

GRID = {"batch_size": [8, 16], "accumulation_steps": [1, 2]}
#: Seconds a search on the cluster may take before the test fails (it takes a few).
SEARCH_TIMEOUT = 240
RESULTS = ["params", "split0_test_score", "split1_test_score", "mean_test_score",
           "rank_test_score"]


def _in_dask_worker():
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


class DaskProbe(Callback):
    """At the start of every fit on a Dask worker, leave a file named by the worker's pid
    in ``directory``; with ``kill``, the first such fit of the search kills its own
    worker process (SIGKILL, mid-task: no clean shutdown, no sleep, no race)."""

    def __init__(self, directory=None, kill=False):
        self.directory = directory
        self.kill = kill

    def on_train_begin(self, net, **kwargs):
        if self.directory is None or not _in_dask_worker():
            return
        open(os.path.join(self.directory, f"pid-{os.getpid()}"), "w").close()
        if not self.kill:
            return
        try:  # exactly once per search, whichever worker gets there first
            os.close(os.open(os.path.join(self.directory, "killed"),
                             os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os.kill(os.getpid(), signal.SIGKILL)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.CRITICAL,
    )
    with cluster, distributed.Client(cluster, timeout="60s") as dask_client:
        dask_client.wait_for_workers(2, timeout=120)
        yield dask_client


def _data():
    rng = np.random.default_rng(0)
    y = np.arange(40) % 2
    X = rng.normal(size=(40, 8, 2)).astype(np.float32)
    X[:, :, 0] += 0.8 * (2 * y - 1)[:, None]
    return X, y


def _search(directory=None, kill=False):
    estimator = LSTMClassifier(**TINY, callbacks=[("probe", DaskProbe(directory, kill))])
    return GridSearchCV(estimator, GRID, cv=2, refit=False)


@pytest.fixture(scope="module")
def reference():
    """The search with n_jobs=1 in this process."""
    return _search().fit(*_data()).cv_results_


def _on_dask(search):
    X, y = _data()

    def fit():  # joblib's backend setting belongs to the thread that runs the search
        # scatter: a copy of the data on every worker. Without it joblib sends X to one
        # worker only, and killing that one loses the data every task needs (the search
        # then fails with FutureCancelledError: "already forgotten").
        with joblib.parallel_config(backend="dask", scatter=[X, y]):
            return search.set_params(n_jobs=-1).fit(X, y)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fit).result(timeout=SEARCH_TIMEOUT)


def _assert_same_results(results, reference):
    for key in RESULTS:
        assert_array_equal(results[key], reference[key], err_msg=key)


def test_grid_search_on_a_dask_cluster_equals_n_jobs_1(client, reference, tmp_path):
    results = _on_dask(_search(str(tmp_path))).cv_results_
    _assert_same_results(results, reference)
    ran_on = {p.name for p in tmp_path.iterdir()}
    assert ran_on and f"pid-{os.getpid()}" not in ran_on  # the fits ran on the workers


def test_a_worker_killed_mid_search_loses_nothing(client, reference, tmp_path):
    workers_before = set(client.scheduler_info()["workers"])
    # The data on both workers before one is killed, as ``scatter=[X, y]`` means them to
    # be: the same values give the same keys as the search's own scatter, and holding
    # them keeps them there. A CI run under load once lost the tasks' data with the
    # killed worker ("FutureCancelledError: ... already forgotten"): this test is about
    # Dask rerunning the lost fits elsewhere, not about how fast it copies the data.
    held = client.scatter(list(_data()), broadcast=True)
    distributed.wait(held)
    client.replicate(held)
    assert all(len(where) == 2 for where in client.who_has(held).values())
    results = _on_dask(_search(str(tmp_path), kill=True)).cv_results_
    del held
    assert (tmp_path / "killed").exists()  # a worker did die in the middle of a fit
    assert set(client.scheduler_info()["workers"]) != workers_before
    _assert_same_results(results, reference)
