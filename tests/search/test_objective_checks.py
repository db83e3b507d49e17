"""Checks of the objective's estimator and space made before any trial."""

import os

import pytest

from sklstm.search import tune
from sklstm.search.objective import checked_objective


@pytest.fixture
def unmeasured_memory(monkeypatch, tmp_path):
    """A machine where a CPU fit's peak memory is not measured (``peak_memory_`` None),
    as without Linux's /proc: the file that restarts the peak cannot be written."""
    monkeypatch.setattr("sklstm.resources.memory._CLEAR_REFS", str(tmp_path))  # a directory


def test_peak_memory_that_cannot_be_measured_is_refused_before_any_study(
        unmeasured_memory, pipeline, data, tmp_path):
    # every trial fitted all its folds, then failed: "peak_memory_ is not measured on
    # this platform"
    pipeline.set_params(lstm__device="cpu")
    storage = str(tmp_path / "s.journal")
    with pytest.raises(ValueError, match=r"multi_objective='peak_memory' needs the peak memory "
                       r"of every fit, but that of a fit on lstm__device='cpu' cannot be "
                       r"measured here .* Minimize 'fit_time' or 'n_updates' instead"):
        tune(pipeline, *data, n_trials=1, cv=2, multi_objective="peak_memory",
             space={"batch_size": [8, 16]}, storage=storage)
    assert not os.path.exists(storage)  # no study was made
    # the costs measured everywhere are still searched
    objective = checked_objective(pipeline, *data, cv=2, multi_objective="n_updates",
                                  space={"batch_size": [8, 16]})
    assert objective.multi_objective == "n_updates"


def test_a_searched_device_is_checked_in_every_choice(unmeasured_memory, pipeline, data):
    with pytest.raises(ValueError, match=r"lstm__device='cpu' cannot be measured"):
        checked_objective(pipeline.set_params(lstm__device="auto"), *data, cv=2,
                          multi_objective="peak_memory", space={"device": ["cpu"]})


def test_peak_memory_where_it_is_measured_is_searched(pipeline, data):
    objective = checked_objective(pipeline.set_params(lstm__device="cpu"), *data, cv=2,
                                  multi_objective="peak_memory", space={"batch_size": [8]})
    assert objective.multi_objective == "peak_memory"
