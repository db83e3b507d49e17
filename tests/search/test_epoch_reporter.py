"""The per-epoch reporting callback and the held ConvergenceWarnings of a fold's fit
(sklstm/search/epoch_reporter.py)."""

import copy
import threading
import warnings

import optuna
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from skorch.callbacks import EarlyStopping

from sklstm import LSTMClassifier
from sklstm.search.epoch_reporter import EpochScoreReporter, convergence_warnings_held

from ..settings import TINY


def test_an_estimator_holding_a_reporter_is_refused_by_clone_with_the_fix(data):
    # clone built the reporter from its get_params alone: "EpochScoreReporter.__init__()
    # missing 5 required positional arguments", naming neither the cause nor the fix
    X, y = data
    trial = optuna.create_study(direction="maximize").ask()
    clf = LSTMClassifier(**TINY, device="cpu")
    reporter = EpochScoreReporter(trial, clf, X[40:], y[40:], check_scoring(clf))
    clf.set_params(callbacks=[("report", reporter)])
    with pytest.raises(TypeError, match=r"cannot be cloned.*after cloning"):
        clone(clf)
    clf.fit(X[:40], y[:40])  # the reporter itself works as before
    assert sorted(trial.study.trials[0].intermediate_values) == [0, 1]


@pytest.mark.parametrize("stop", [
    dict(tol=0.5, n_iter_no_change=2),  # sklstm's rule on the training loss
    dict(early_stopping=True, tol=0.5, n_iter_no_change=2),  # on held-out data
    dict(tol=None, callbacks=[("stop", EarlyStopping(monitor="train_loss", patience=2,
                                                     threshold=0.5))]),  # a user's
])
def test_the_epoch_a_stopping_rule_ends_a_fit_at_is_reported(data, stop):
    # the rule raises in its on_epoch_end, which skorch runs before the reporter's
    # (callbacks of the estimator run after sklstm's): the last epoch of every fold
    # that stopped early went unreported, and had no "cv_score" in its history
    X, y = data
    trial = optuna.create_study(direction="maximize").ask()
    clf = LSTMClassifier(**{**TINY, "max_epochs": 30, **stop}, device="cpu")
    scorer = check_scoring(clf)
    reporter = EpochScoreReporter(trial, clf, X[40:], y[40:], scorer, step_offset=30)
    clf.set_params(callbacks=[*(clf.callbacks or []), ("report", reporter)])
    clf.fit(X[:40], y[:40])
    assert clf.n_epochs_ < 30  # (the rule did stop it)
    reported = trial.study.trials[0].intermediate_values
    assert sorted(reported) == list(range(30, 30 + clf.n_epochs_))
    assert "cv_score" in clf.net_.history[-1]
    # the last report is the score of the model the fit ends with
    assert reported[max(reported)] == scorer(clf, X[40:], y[40:])


def test_reporter_survives_the_estimators_deepcopy(pipeline, data):
    reporter = EpochScoreReporter(None, pipeline, *data, scorer=None, step_offset=3)
    clone = copy.deepcopy(reporter)
    assert clone is not reporter
    assert clone.estimator is pipeline and clone.X_val is reporter.X_val
    assert clone.get_params() == {"step_offset": 3}


def test_held_convergence_warnings_are_the_holding_threads_only():
    # tune workers in threads of one process: a catch_warnings per fold would swap the
    # process's filters under the other threads' fits, and hold their warnings
    inside, outside = threading.Event(), threading.Event()

    def other_thread():
        inside.wait()
        warnings.warn("another fit's", ConvergenceWarning, stacklevel=1)
        outside.set()

    before = warnings.showwarning
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        thread = threading.Thread(target=other_thread)
        thread.start()
        with convergence_warnings_held() as held:
            with convergence_warnings_held() as nested:
                warnings.warn("nested", ConvergenceWarning, stacklevel=1)
            warnings.warn("this fit's", ConvergenceWarning, stacklevel=1)
            warnings.warn("no convergence", UserWarning, stacklevel=1)
            inside.set()
            outside.wait()
        thread.join()
    assert (held, nested) == (["this fit's"], ["nested"])
    assert [str(w.message) for w in shown] == ["no convergence", "another fit's"]
    assert warnings.showwarning is before
