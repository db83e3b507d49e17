"""checkpoint=DIR: a fit that a stop ended, whose end was not recorded, ends there again."""

import errno
import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, EarlyStopping

from sklstm import LSTMClassifier
from sklstm.training.checkpointing import FitCheckpoint
from sklstm.training.convergence import ENDED

from .checkpoint_fits import COMMON, X, Y, state_directory
from .faults import assert_took_the_epochs, written_durations

#: a rule that stops these fits well before max_epochs (tol=0.05 on this loss)
STOPS = {**COMMON, "device": "cpu", "dropout": 0.0, "tol": 0.05, "n_iter_no_change": 2,
         "max_epochs": 40}


class FailsAtTrainEnd(Callback):
    """A user's callback whose ``on_train_end`` raises: the fit stopped, its end unrecorded."""

    def on_train_end(self, net, **kwargs):
        raise RuntimeError("failed at the end of the training")


def _fail_once_at_finish(monkeypatch):
    """The disk fills as the fit is marked finished (once)."""
    finish = FitCheckpoint.finish

    def full_disk(self, *args, **kwargs):
        monkeypatch.setattr(FitCheckpoint, "finish", finish)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(FitCheckpoint, "finish", full_disk)


def _cut_after_the_stop(params, directory, monkeypatch, fails_at):
    """Fit ``params`` in ``directory`` and fail after its stop, before its end is recorded."""
    if fails_at == "finish":
        _fail_once_at_finish(monkeypatch)
        callbacks = []
    else:
        callbacks = [("fails", FailsAtTrainEnd())]
    with pytest.raises((RuntimeError, OSError)):
        LSTMClassifier(**params, checkpoint=directory, callbacks=callbacks).fit(X, Y)
    state = json.loads((directory / "sklstm_fit.json").read_text())
    assert not state["finished"]


@pytest.mark.parametrize("early_stopping", [False, True], ids=["train_loss", "early_stopping"])
@pytest.mark.parametrize("lr_schedule", ["adaptive", "constant"])
def test_a_stopped_fit_whose_end_was_not_recorded_resumes_to_the_same_end(
        lr_schedule, early_stopping, tmp_path, monkeypatch):
    # the adaptive replay took the stop for a fall of the rate, and skorch's rule stops
    # only at misses_ == patience: the resumed fit trained on (21 epochs became 23, 10 13)
    params = {**STOPS, "lr_schedule": lr_schedule, "early_stopping": early_stopping,
              **({"validation_fraction": 0.3} if early_stopping else {})}
    whole = LSTMClassifier(**params).fit(X, Y)
    assert whole.converged_ and whole.n_epochs_ < 40
    assert all(ENDED not in row for row in whole.history_)
    _cut_after_the_stop(params, tmp_path, monkeypatch, "train_end")
    resumed = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert_took_the_epochs(resumed, written_durations(tmp_path))
    assert resumed.n_epochs_ == whole.n_epochs_ and not resumed.interrupted_
    assert resumed.converged_ == whole.converged_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    assert all(ENDED not in row for row in resumed.history_)  # (the state's mark only)
    assert json.loads((tmp_path / "sklstm_fit.json").read_text())["finished"]


def test_a_stop_at_max_epochs_whose_end_was_not_recorded_is_judged_not_loaded(
        tmp_path, monkeypatch):
    # rerun with max_epochs at its epochs, the unfinished state was only loaded: "it
    # did not converge (its first run warned why)", of a fit that converged unjudged
    params = {**STOPS, "lr_schedule": "constant"}
    _cut_after_the_stop(params, tmp_path, monkeypatch, "train_end")
    epochs = len(written_durations(tmp_path))
    whole = LSTMClassifier(**{**params, "max_epochs": epochs}).fit(X, Y)
    assert whole.converged_
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        again = LSTMClassifier(**{**params, "max_epochs": epochs}, checkpoint=tmp_path).fit(X, Y)
    assert again.converged_ and again.n_epochs_ == epochs
    assert_array_equal(again.predict_proba(X), whole.predict_proba(X))


@pytest.mark.parametrize("fails_at", ["train_end", "finish"])
def test_a_stop_at_chance_whose_end_was_not_recorded_warns_when_resumed(
        fails_at, tmp_path, monkeypatch):
    # the stop at chance was judged by no run: the resumed fit judges it (a fit only
    # loaded said "its first run warned why", which it had not)
    y = np.random.default_rng(1).integers(0, 2, len(X))  # labels X says nothing about
    params = {**COMMON, "device": "cpu", "batch_size": 16, "dropout": 0.0, "lr": 0.05,
              "early_stopping": True, "tol": 1e-3, "n_iter_no_change": 2, "max_epochs": 30,
              "lr_schedule": "constant"}
    with pytest.warns(ConvergenceWarning, match="did not learn"):
        whole = LSTMClassifier(**params).fit(X, y)
    assert not whole.converged_ and whole.n_epochs_ < 30
    if fails_at == "finish":
        _fail_once_at_finish(monkeypatch)
    callbacks = [("fails", FailsAtTrainEnd())] if fails_at == "train_end" else []
    with pytest.raises((RuntimeError, OSError)), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (what it said before it failed, if anything)
        LSTMClassifier(**params, checkpoint=tmp_path, callbacks=callbacks).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="did not learn") as record:
        resumed = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, y)
    assert not any("its first run warned" in str(w.message) for w in record)
    assert resumed.n_epochs_ == whole.n_epochs_ and not resumed.converged_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


def test_a_fit_the_users_early_stopping_stopped_resumes_to_its_stop(tmp_path, monkeypatch):
    # skorch's rule replayed to one miss short of its patience: the resumed fit trained
    # another epoch past the stop
    stop = ("stop", EarlyStopping("train_loss", patience=2, threshold=0.5, load_best=True))
    params = {**COMMON, "device": "cpu"}
    whole = LSTMClassifier(**params, callbacks=[stop]).fit(X, Y)
    assert whole.n_epochs_ == 3
    with pytest.raises(RuntimeError):
        LSTMClassifier(**params, checkpoint=tmp_path,
                       callbacks=[stop, ("fails", FailsAtTrainEnd())]).fit(X, Y)
    resumed = LSTMClassifier(**params, checkpoint=tmp_path, callbacks=[stop]).fit(X, Y)
    assert resumed.n_epochs_ == whole.n_epochs_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


def test_a_stopped_state_written_before_the_mark_still_resumes(tmp_path, monkeypatch):
    # a state of an earlier sklstm has no mark: it resumes and trains on, as it did
    params = {**STOPS, "lr_schedule": "constant"}
    _cut_after_the_stop(params, tmp_path, monkeypatch, "train_end")
    history = state_directory(tmp_path) / "history.json"
    rows = json.loads(history.read_text())
    assert rows[-1].pop(ENDED) == "rule"
    history.write_text(json.dumps(rows))
    resumed = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert_took_the_epochs(resumed, [row["dur"] for row in rows])
    assert resumed.n_epochs_ >= len(rows)


@pytest.mark.parametrize("ending", [
    {"tol": None, "max_epochs": 3},  # no rule: tol=None runs max_epochs, silently
    {"callbacks": [("stop", EarlyStopping("train_loss", patience=2, threshold=0.5))]},
], ids=["tol_none", "users_early_stopping"])
def test_a_fit_no_rule_judged_is_loaded_as_silently_as_it_ran(ending, tmp_path):
    # loaded, it said "it did not converge (its first run warned why)": that run had
    # said nothing, as the rule did not judge it
    params = {**COMMON, "device": "cpu", **ending}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        first = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
        again = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert first.n_epochs_ < COMMON["max_epochs"] and not first.converged_
    assert_took_the_epochs(again, first.history_[:, "dur"])
    assert again.n_epochs_ == first.n_epochs_ and not again.converged_


def test_a_fit_the_rule_judged_is_loaded_with_its_warning_every_time(tmp_path):
    # (a load marks the directory finished again: it must keep the first fit's "judged")
    params = {**COMMON, "device": "cpu", "tol": 1e-4, "max_epochs": 3}
    with pytest.warns(ConvergenceWarning, match="did not converge: max_epochs=3"):
        LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    for _ in range(2):
        with pytest.warns(ConvergenceWarning, match="was loaded, not trained; it did not "
                                                    "converge"):
            LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
