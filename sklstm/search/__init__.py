"""Hyperparameter search for sklstm estimators: scikit-learn searches and Optuna studies.

* :func:`concurrent_fits` runs a search's fits as threads of one process, each on a CUDA
  stream of its own, with the results of ``n_jobs=1`` (for many small fits on one GPU).
* :func:`fit_stats_scorers` puts every fit's ``fit_time_``, ``peak_memory_`` and
  ``n_updates_`` into a scikit-learn search's ``cv_results_`` (no Optuna needed).
* :func:`suggest_params` / :func:`default_space` define and sample the Optuna search space
  over batch size, accumulation steps, sequence length and the network.
* :func:`make_objective` is a cross-validated Optuna objective that reports per-epoch
  validation scores so pruners stop bad trials mid-fold.
* :func:`tune` (and the ``sklstm tune`` command) creates or joins a resumable study on any
  Optuna storage (:func:`resolve_storage`), with an optional score-vs-cost Pareto search;
  :func:`selected_trial` picks its result (the estimator's own configuration unless
  beaten by more than noise) and :func:`selected_params` gives it for the refit.

The Optuna parts need the ``optuna`` extra: ``pip install 'sklstm[optuna]'``. They are
imported on first use, so :func:`fit_stats_scorers` works without it.
"""

from __future__ import annotations

import importlib
import warnings

from .metrics import FIT_STATS, FitStatScorer, fit_stats, fit_stats_scorers

# name -> submodule, imported on first access: these need torch (imported, ``sklstm tune
# --help`` took seconds), ...
_LAZY_TORCH = {
    "concurrent_fits": "parallel",
    "final_estimator": "pipeline",
    "final_prefix": "pipeline",
}

# ... and these need optuna.
_LAZY = {
    "default_space": "space",
    "suggest_params": "space",
    "resolve_space": "space",
    "as_distributions": "space",
    "load_space": "space_file",
    "CVObjective": "objective",
    "EpochScoreReporter": "epoch_reporter",
    "make_objective": "objective",
    "resolve_storage": "storage",
    "create_or_load_study": "study",
    "make_pruner": "pruners",
    "run_study": "study_run",
    "selected_trial": "selection",
    "selected_params": "selection",
    "TrialBudget": "trial_budget",
    "HeartbeatRDBStorage": "heartbeat",
    "tune": "study",
    "results_table": "report",
    "summary": "report",
}

__all__ = [
    "FIT_STATS",
    "FitStatScorer",
    "concurrent_fits",
    "final_estimator",
    "final_prefix",
    "fit_stats",
    "fit_stats_scorers",
    *_LAZY,
]


def __getattr__(name):
    if name == "load_dataset":  # its one home is sklstm.datasets; `sklstm tune` users met it here
        warnings.warn("sklstm.search.load_dataset moved to sklstm.datasets.load_dataset; the "
                      "old path stops working in sklstm 0.3.", FutureWarning, stacklevel=2)
        from ..datasets import load_dataset

        return load_dataset
    if name in _LAZY_TORCH:
        return getattr(importlib.import_module(f".{_LAZY_TORCH[name]}", __name__), name)
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
    except ImportError as exc:
        raise ImportError(
            f"sklstm.search.{name} needs optuna: pip install 'sklstm[optuna]' ({exc})"
        ) from exc
    return getattr(module, name)


def __dir__():
    return sorted(__all__)
