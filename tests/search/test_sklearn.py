"""scikit-learn searches over batch size, accumulation and sequence length in a Pipeline."""

import math
import os

import numpy as np
import pytest
import torch
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    cross_validate,
)

from sklstm.search import FitStatScorer, fit_stats_scorers

# pytest fixtures shared by the search tests


GRID = {"lstm__batch_size": [8, 16], "lstm__accumulation_steps": [1, 2], "lstm__seq_len": [None, 4]}


def _torch_threads(estimator, X, y):
    # A "scorer" that reports how many threads torch uses in the process that scores.
    return torch.get_num_threads()


SEARCHES = {
    "grid": lambda p: GridSearchCV(p, GRID, cv=2, scoring=fit_stats_scorers("accuracy"),
                                   refit="score"),
    "random": lambda p: RandomizedSearchCV(p, GRID, n_iter=3, cv=2, random_state=0,
                                           scoring=fit_stats_scorers(), refit="score"),
    "halving-grid-epochs": lambda p: HalvingGridSearchCV(
        p, {k: v for k, v in GRID.items() if k != "lstm__seq_len"}, cv=2, factor=2,
        resource="lstm__max_epochs", min_resources=1, max_resources=4, scoring="accuracy"),
    "halving-random-samples": lambda p: HalvingRandomSearchCV(
        p, GRID, n_candidates=4, cv=2, factor=2, resource="n_samples", min_resources=20,
        random_state=0),
}


@pytest.mark.parametrize("make_search", SEARCHES.values(), ids=SEARCHES.keys())
def test_search_selects_batching_params(make_search, pipeline, data):
    X, y = data
    search = make_search(pipeline).fit(X, y)
    results = search.cv_results_
    searched = {k for k in GRID if f"param_{k}" in results}
    assert searched >= {"lstm__batch_size", "lstm__accumulation_steps"}
    assert set(search.best_params_) >= searched
    assert search.predict(X).shape == y.shape
    if hasattr(search, "n_resources_"):  # halving: later rounds get more epochs / samples
        assert search.n_resources_ == sorted(search.n_resources_)
        assert search.n_resources_[-1] > search.n_resources_[0]
        assert len(set(results["iter"])) == len(search.n_resources_)
    if isinstance(search.scoring, dict):
        assert np.all(results["mean_test_fit_time"] > 0)
        assert np.all(results["mean_test_n_updates"] > 0)
        assert np.all(np.isfinite(results["mean_test_score"]))


def test_fit_stats_match_the_batching(pipeline, data):
    X, y = data
    grid = {k: v for k, v in GRID.items() if k != "lstm__seq_len"}
    search = GridSearchCV(pipeline, grid, cv=2, scoring=fit_stats_scorers("accuracy"),
                          refit="score").fit(X, y)
    n_train = len(X) // 2
    epochs = pipeline.get_params()["lstm__max_epochs"]
    for params, n_updates, fit_time in zip(search.cv_results_["params"],
                                           search.cv_results_["mean_test_n_updates"],
                                           search.cv_results_["mean_test_fit_time"], strict=True):
        effective = params["lstm__batch_size"] * params["lstm__accumulation_steps"]
        assert n_updates == epochs * math.ceil(n_train / effective)
        # the estimator's own training time is part of sklearn's wall time for the fit
        assert 0 < fit_time
    assert np.all(search.cv_results_["mean_test_fit_time"] <= search.cv_results_["mean_fit_time"])


def test_cost_ranks_put_the_costliest_first_and_a_callable_refit_selects_by_cost(
        pipeline, data):
    # what the docs of fit_stats_scorers say: scikit-learn ranks the costs as scores
    # (refit="fit_time" would refit the slowest), and a callable refit reads them
    def fewest_updates(results):
        return int(np.argmin(results["mean_test_n_updates"]))

    grid = {"lstm__batch_size": [8, 16, 32]}
    search = GridSearchCV(pipeline, grid, cv=2, refit=fewest_updates,
                          scoring=fit_stats_scorers("accuracy")).fit(*data)
    results = search.cv_results_
    for stat in ("fit_time", "peak_memory", "n_updates"):
        means = results[f"mean_test_{stat}"]
        if np.isfinite(means).all():  # (peak_memory is NaN where it is not measured)
            assert results[f"rank_test_{stat}"][np.argmax(means)] == 1
    assert results["rank_test_n_updates"].tolist() == [1, 2, 3]
    assert search.best_params_ == {"lstm__batch_size": 32}


def test_loky_workers_do_not_oversubscribe(pipeline, data):
    # loky sets OMP_NUM_THREADS=cpu_count // n_jobs in its workers (unless the parent
    # already set it), and torch reads it at start-up: no explicit n_threads needed.
    # (CPU threads: on the CPU, as on a CUDA machine each worker would start CUDA for nothing)
    pipeline.set_params(lstm__n_threads=None, lstm__device="cpu")
    n_jobs = 2
    scores = cross_validate(pipeline, *data, cv=2, n_jobs=n_jobs,
                            scoring={"threads": _torch_threads})["test_threads"]
    expected = int(os.environ.get("OMP_NUM_THREADS", max(os.cpu_count() // n_jobs, 1)))
    assert set(scores) == {expected}


@pytest.mark.parametrize(("scoring", "match"), [({"fit_time": "accuracy"}, "already has"),
                                                ([1, 2], "scorer names"), (3.5, "scoring must"),
                                                # (no score left; the second dropped)
                                                ([], "distinct scorer names, got \\[\\]"),
                                                (["f1", "f1"], "distinct scorer names")])
def test_fit_stats_scorers_rejects(scoring, match):
    with pytest.raises(ValueError, match=match):
        fit_stats_scorers(scoring)


def test_fit_stats_scorers_names_a_repeated_stat():
    # it said "scoring already has a metric named 'fit_time'; rename it"
    with pytest.raises(ValueError, match="stats names 'fit_time' twice"):
        fit_stats_scorers("accuracy", stats=["fit_time", "fit_time"])
    names = list(fit_stats_scorers(None, stats=np.array(["n_updates"])))
    assert names == ["score", "n_updates"] and type(names[1]) is str


def test_fit_stat_scorer_reads_pipeline_final_step(pipeline, data):
    fitted = pipeline.fit(*data)
    assert FitStatScorer("n_updates")(fitted) == fitted[-1].n_updates_
    with pytest.raises(ValueError, match="stat must be"):
        FitStatScorer("fit_seconds")
