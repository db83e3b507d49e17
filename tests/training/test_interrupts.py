"""Ctrl-C during fit: the estimator keeps its last complete epoch, and says so."""

import json
import pickle
import signal
import textwrap
import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, LRScheduler
from torch.optim.lr_scheduler import StepLR

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.exceptions import FitInterruptedWarning
from sklstm.training import BatchSizeSchedule
from sklstm.training.interrupts import CtrlCGuard, ctrl_c_pending, press

from ..search.helpers import python
from .faults import (
    CtrlCAtEpochEnd,
    InterruptAt,
    RaisesAt,
    ReplacedCtrlCAt,
    SwallowedCtrlCAt,
    SwallowedCtrlCAtEpochEnd,
    assert_took_the_epochs,
)

#: A child process fits for many epochs, recording a fingerprint of the weights after
#: every epoch; the parent sends it a real SIGINT in the middle of a later epoch.
CHILD = textwrap.dedent("""
    import json, sys, time, warnings
    import numpy as np
    from skorch.callbacks import Callback
    from sklstm import LSTMRegressor

    class Fingerprint(Callback):
        pending = None

        def on_epoch_begin(self, net, **kwargs):
            self.batch = 0

        def on_batch_end(self, net, **kwargs):
            # an epoch's fingerprint is printed once the next epoch has trained a batch:
            # printed in its own end hooks, the parent's SIGINT could arrive while the
            # hooks after it ran (a CI run kept epoch 3 instead of 2); then epoch 3
            # waits for the SIGINT mid-way
            self.batch += 1
            if self.batch == 1 and self.pending is not None:
                print(json.dumps(self.pending), flush=True)
                self.pending = None
            if len(net.history) == 3 and self.batch == 5:
                time.sleep(60)

        def on_epoch_end(self, net, **kwargs):
            total = float(sum(p.double().sum() for p in net.module_.parameters()))
            self.pending = {"epoch": len(net.history), "weights": total}

    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 30, 3)).astype(np.float32)
    y = X[:, -3:, 0].sum(axis=1)
    est = LSTMRegressor(max_epochs=500, tol=None, batch_size=16, random_state=0, n_threads=1,
                        callbacks=[("fingerprint", Fingerprint())])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    total = float(sum(p.double().sum() for p in est.net_.module_.parameters()))
    print(json.dumps({"done": True, "n_epochs": est.n_epochs_, "interrupted": est.interrupted_,
                      "weights": total, "history": len(est.history_),
                      "finite": bool(np.isfinite(est.predict(X[:50])).all()),
                      "warnings": [str(w.message) for w in caught]}), flush=True)
""")


def test_a_real_sigint_keeps_the_last_complete_epoch():
    child = python(CHILD)  # (with the suite's PYTHONPATH, SIGINT's default action)
    epochs = []
    for line in child.stdout:
        record = json.loads(line)
        if "epoch" in record:
            epochs.append(record)
            # the next epoch is under way: interrupt it, once (a press that CPython
            # lost on its way is delivered again by sklstm: CtrlCGuard)
            if record["epoch"] == 2:
                child.send_signal(signal.SIGINT)
        else:
            result = record
            break
    child.wait(timeout=60)
    assert child.returncode == 0, child.stderr.read()
    assert result["interrupted"] and result["finite"]
    kept = result["n_epochs"]
    assert kept == result["history"] == 2  # Ctrl-C came in the middle of epoch 3
    # the weights are those printed at the end of the last complete epoch, not the
    # half-trained ones of the epoch Ctrl-C hit
    assert result["weights"] == pytest.approx(epochs[kept - 1]["weights"], abs=0, rel=0)
    assert any(f"keeps the model after epoch {kept}" in w for w in result["warnings"])


X = np.random.default_rng(0).normal(size=(64, 6, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)
COMMON = dict(hidden_size=4, batch_size=16, max_epochs=20, tol=None, random_state=0,
              n_threads=1)


def test_an_interrupt_in_the_first_epoch_leaves_nothing_fitted():
    est = LSTMClassifier(**COMMON, callbacks=[InterruptAt(at_batch=2)])
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_an_interrupt_later_warns_and_equals_a_shorter_fit():
    with pytest.warns(FitInterruptedWarning, match="keeps the model after epoch 2 of at "
                                                   "most 20"):
        cut = LSTMClassifier(**COMMON, callbacks=[InterruptAt(at_batch=10)]).fit(X, Y)
    # 4 batches an epoch: batch 10 is in epoch 3, so the model is that of epoch 2
    assert cut.interrupted_ and cut.n_epochs_ == 2 and cut.n_updates_ == 8
    two = LSTMClassifier(**{**COMMON, "max_epochs": 2}).fit(X, Y)
    assert not two.interrupted_
    for a, b in zip(cut.net_.module_.parameters(), two.net_.module_.parameters(),
                    strict=True):
        assert torch.equal(a, b)


def test_an_interrupt_with_early_stopping_keeps_the_best_epoch_as_a_shorter_fit_does():
    # the best validation epoch is restored from the last complete epoch, not before the
    # fit went back to it (which kept the last epoch's weights instead)
    rng = np.random.default_rng(1)
    X_, y_ = rng.normal(size=(60, 6, 2)).astype(np.float32), rng.normal(size=60)
    params = {**COMMON, "device": "cpu", "early_stopping": True, "max_epochs": 10}
    # 4 training batches and 1 validation batch an epoch: batch 17 is in epoch 4
    with pytest.warns(FitInterruptedWarning, match="after epoch 3 of at most 10"):
        cut = LSTMRegressor(**params, callbacks=[InterruptAt(at_batch=17)]).fit(X_, y_)
    three = LSTMRegressor(**{**params, "max_epochs": 3}).fit(X_, y_)
    assert dict(three.net_.callbacks_)["convergence"].best_epoch_ < 3  # the case tested
    assert cut.n_epochs_ == 3
    assert_array_equal(cut.predict(X_), three.predict(X_))


def test_an_interrupt_after_a_batch_size_schedule_grew_the_batch_keeps_the_epochs_batch():
    # every epoch after the first is a plateau (threshold 10): epoch 3 trains with a
    # batch of 32, grown as it began; the model kept is epoch 2's, of a batch of 16, and
    # effective_batch_size_ said 32 (accumulation_steps_ 2), unlike a fit of 2 epochs
    grow = BatchSizeSchedule(patience=1, threshold=10, threshold_mode="abs")
    # 4 batches in each of epochs 1 and 2: batch 10 is in epoch 3
    with pytest.warns(FitInterruptedWarning, match="after epoch 2 of at most 20"):
        cut = LSTMClassifier(**COMMON, callbacks=[grow, InterruptAt(at_batch=10)]).fit(X, Y)
    two = LSTMClassifier(**{**COMMON, "max_epochs": 2}, callbacks=[grow]).fit(X, Y)
    assert two.history_[:, "effective_batch_size"] == [16, 16]
    for attribute in ("n_epochs_", "n_updates_", "effective_batch_size_", "batch_size_",
                      "accumulation_steps_"):
        assert getattr(cut, attribute) == getattr(two, attribute), attribute


@pytest.mark.parametrize(("max_epochs", "at_batch"), [(1, 2), (3, 10)])
def test_an_interrupt_in_the_last_epoch_is_no_end_of_max_epochs(max_epochs, at_batch):
    # the rule does not judge a fit cut short: no "did not learn" from a history whose
    # only epoch has no loss yet (it failed with min() of nothing), no "max_epochs was
    # reached" for a fit that did not reach it
    est = LSTMClassifier(**{**COMMON, "device": "cpu", "tol": 1e-4, "max_epochs": max_epochs},
                         callbacks=[InterruptAt(at_batch=at_batch)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if max_epochs == 1:  # nothing complete to keep
            with pytest.raises(KeyboardInterrupt):
                est.fit(X, Y)
        else:
            assert est.fit(X, Y).interrupted_ and est.n_epochs_ == max_epochs - 1
    assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize("sigint", ["default", "users", "ignored"])
def test_a_callback_that_ends_the_fit_is_no_interrupt(sigint, default_ctrl_c, tmp_path):
    # skorch's EarlyStopping ends a fit with a KeyboardInterrupt at an epoch's end. It was
    # taken for a Ctrl-C: interrupted_, a FitInterruptedWarning, and tune's objective
    # stopped the whole search at it. Where every press is noted, none was: it is the
    # callback's stop (under a handler of the user's a press cannot be told from it;
    # where SIGINT is ignored, ``python fit.py &`` in a script, it was taken for one)
    users_handler = sigint == "users"
    if sigint != "default":
        signal.signal(signal.SIGINT, (lambda *_: None) if users_handler else signal.SIG_IGN)
    stop = EarlyStopping(monitor="train_loss", patience=1, threshold=0.05,
                         threshold_mode="abs")
    params = {**COMMON, "device": "cpu", "max_epochs": 50, "callbacks": [stop]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert 1 < est.n_epochs_ < 50 and not est.converged_
    warned = [w for w in caught if issubclass(w.category, FitInterruptedWarning)]
    assert est.interrupted_ == bool(warned) == users_handler
    if not users_handler:  # the checkpoint of a fit that ended: loaded, not trained on
        again = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
        assert_took_the_epochs(again, est.history_[:, "dur"])
        assert again.n_epochs_ == est.n_epochs_ and not again.interrupted_


class StopsAsEpochBegins(Callback):
    """Ends the fit (KeyboardInterrupt, no Ctrl-C) as epoch ``epoch`` begins: a budget."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt


def test_a_callbacks_stop_as_an_epoch_begins_is_no_interrupt(default_ctrl_c, tmp_path):
    # no batch of epoch 3 ran, nothing was lost: the callback's stop, as at epoch 2's end
    # (taken for a Ctrl-C: interrupted_, a warning, and tune stopped the whole search)
    params = {**COMMON, "device": "cpu", "max_epochs": 5, "checkpoint": tmp_path,
              "callbacks": [StopsAsEpochBegins(epoch=3)]}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = LSTMClassifier(**params).fit(X, Y)
    assert not [w for w in caught if issubclass(w.category, FitInterruptedWarning)]
    assert not est.interrupted_ and not est.converged_ and est.n_updates_ == 8
    assert est.n_epochs_ == len(est.history_) == 2
    # its checkpoint is that of a fit that ended: loaded, not trained on
    assert_took_the_epochs(LSTMClassifier(**params).fit(X, Y), est.history_[:, "dur"])
    with pytest.raises(KeyboardInterrupt):  # as epoch 1 begins: nothing to keep
        LSTMClassifier(**COMMON, device="cpu", callbacks=[StopsAsEpochBegins(epoch=1)]).fit(X, Y)


def test_a_finished_or_converged_fit_is_not_interrupted():
    assert not LSTMRegressor(**{**COMMON, "max_epochs": 3}).fit(X, X[:, -1, 0]).interrupted_
    # (a tol small against the chance level, 1 on the standardized targets: a larger one
    # stops a fit blind to its loss's fall, which is no convergence)
    converged = LSTMRegressor(**{**COMMON, "tol": 0.05, "n_iter_no_change": 1,
                                 "lr_schedule": "constant", "max_epochs": 60}).fit(
        X, X[:, -1, 0])
    assert converged.converged_ and not converged.interrupted_
    assert converged.n_epochs_ < 60  # (the rule did stop it)


def test_a_ctrl_c_in_the_last_epochs_end_marks_the_fit_interrupted(default_ctrl_c):
    # every epoch is complete, so nothing but the guard saw the press: the fit said
    # interrupted_=False, and a search scored it and went on to its next fold
    with pytest.warns(FitInterruptedWarning, match="after epoch 3 of at most 3"):
        est = LSTMClassifier(**{**COMMON, "max_epochs": 3},
                             callbacks=[CtrlCAtEpochEnd(epoch=3)]).fit(X, Y)
    assert est.interrupted_ and not est.converged_ and est.n_epochs_ == 3


def test_a_ctrl_c_in_an_epochs_end_leaves_the_checkpoint_at_the_epoch_before(
        default_ctrl_c, tmp_path):
    # the scheduler after the press had not stepped: the state written for epoch 2 made
    # the resumed fit train on at the rate of epoch 2, unlike the uninterrupted fit
    def fit(*first, checkpoint=tmp_path):
        return LSTMRegressor(**{**COMMON, "max_epochs": 4}, device="cpu", checkpoint=checkpoint,
                             callbacks=[*first, ("rate", LRScheduler(StepLR, step_size=1))]
                             ).fit(X, X[:, -1, 0])

    whole = fit(checkpoint=None)
    with pytest.warns(FitInterruptedWarning, match="after epoch 2 of at most 4"):
        fit(("cut", CtrlCAtEpochEnd(epoch=2)))
    resumed = fit()
    assert resumed.history_[:, "train_loss"] == whole.history_[:, "train_loss"]
    assert_array_equal(resumed.predict(X), whole.predict(X))


def test_a_ctrl_c_as_an_epoch_begins_before_the_snapshot_s_hook_keeps_the_epoch_before(
        default_ctrl_c, monkeypatch):
    # skorch opens the epoch's history row, then runs its own EpochTimer's hook before
    # the snapshot's: a press there kept that empty row (n_epochs_ 3, history_ with no
    # train_loss in it) while the warning said "after epoch 2"
    timer = EpochTimer.on_epoch_begin

    def pressed_as_epoch_3_begins(self, net, **kwargs):
        if len(net.history) == 3:
            signal.raise_signal(signal.SIGINT)
        timer(self, net, **kwargs)

    monkeypatch.setattr(EpochTimer, "on_epoch_begin", pressed_as_epoch_3_begins)
    with pytest.warns(FitInterruptedWarning, match="after epoch 2 of at most 20"):
        cut = LSTMClassifier(**COMMON, device="cpu").fit(X, Y)
    monkeypatch.undo()
    two = LSTMClassifier(**{**COMMON, "max_epochs": 2}, device="cpu").fit(X, Y)
    assert cut.interrupted_ and cut.n_epochs_ == len(cut.history_) == 2
    assert cut.history_[:, "train_loss"] == two.history_[:, "train_loss"]
    assert_array_equal(cut.predict_proba(X), two.predict_proba(X))


class CtrlCAtTrainEnd(Callback):
    """Presses Ctrl-C ``presses`` times as the training ends, then notes that its hook
    went on (a second press is the user insisting)."""

    def __init__(self, presses=1):
        self.presses = presses

    def on_train_end(self, net, **kwargs):
        for _ in range(self.presses):
            signal.raise_signal(signal.SIGINT)
        self.went_on_ = True


@pytest.mark.parametrize("presses", [1, 2])
def test_a_ctrl_c_as_the_training_ends_keeps_every_epoch(default_ctrl_c, presses):
    # the training had ended, but the press's KeyboardInterrupt came out of skorch's
    # on_train_end hooks, which partial_fit does not catch: the fit kept nothing (and a
    # press while the snapshot put its weights back could leave them half put back).
    # The hooks run to their end, and the fit keeps its epochs; a second press stops
    # them (a hook that hangs)
    est = LSTMClassifier(**{**COMMON, "device": "cpu", "max_epochs": 3},
                         callbacks=[("press", CtrlCAtTrainEnd(presses))])
    if presses == 2:
        with pytest.raises(KeyboardInterrupt):
            est.fit(X, Y)
        with pytest.raises(NotFittedError):
            est.predict(X)
        return
    with pytest.warns(FitInterruptedWarning, match="after epoch 3 of at most 3"):
        try:
            est.fit(X, Y)
        except KeyboardInterrupt:  # (a failure, not the end of the test session)
            pytest.fail("a Ctrl-C as the training ended lost the fit")
    assert est.interrupted_ and est.n_epochs_ == 3 and dict(est.net_.callbacks_)["press"].went_on_
    three = LSTMClassifier(**{**COMMON, "device": "cpu", "max_epochs": 3}).fit(X, Y)
    assert_array_equal(est.predict_proba(X), three.predict_proba(X))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


@pytest.mark.parametrize("at_batch", [None, 10])
def test_a_fitted_estimator_keeps_no_copy_of_its_weights_from_the_training(at_batch):
    # the snapshot's copy of the last complete epoch's weights stayed in net_.callbacks_
    # after the fit: twice the weights in memory (on the GPU for a CUDA fit) and in
    # every pickle of the estimator
    callbacks = [] if at_batch is None else [InterruptAt(at_batch=at_batch)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitInterruptedWarning)
        est = LSTMRegressor(**{**COMMON, "device": "cpu", "max_epochs": 3, "hidden_size": 64},
                            callbacks=callbacks).fit(X, X[:, -1, 0])
    snapshot = dict(est.net_.callbacks_)["epoch_snapshot"]
    weights = sum(p.numel() * p.element_size() for p in est.net_.module_.parameters())
    assert snapshot.state_ is None and len(pickle.dumps(snapshot)) < weights / 10
    assert est.n_epochs_ == (3 if at_batch is None else 2)


def test_a_lost_ctrl_c_still_stops_the_fit_at_the_next_batch(default_ctrl_c):
    # batch 10 is in epoch 3 (4 batches an epoch): its exception is swallowed, and the
    # fit must stop all the same, with the model of epoch 2
    with pytest.warns(FitInterruptedWarning, match="after epoch 2 of at most 20"):
        est = LSTMClassifier(**COMMON, callbacks=[SwallowedCtrlCAt(at_batch=10)]).fit(X, Y)
    assert est.interrupted_ and est.n_epochs_ == 2 and est.n_updates_ == 8
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # given back


def test_a_ctrl_c_lost_at_an_epochs_end_stops_the_fit_as_the_next_epoch_begins(
        default_ctrl_c):
    # delivered again as epoch 4 began, after skorch opened its history row: that row
    # stayed (n_epochs_ 4, not 3) and the fit was taken for one a callback ended
    with pytest.warns(FitInterruptedWarning, match="after epoch 3 of at most 20"):
        est = LSTMClassifier(**COMMON, callbacks=[SwallowedCtrlCAtEpochEnd(epoch=3)]).fit(X, Y)
    assert est.interrupted_ and est.n_epochs_ == len(est.history_) == 3
    assert est.n_updates_ == 12


def test_a_ctrl_c_replaced_by_another_exception_still_interrupts_the_fit(default_ctrl_c):
    # code that raises its own exception while handling the press's KeyboardInterrupt
    # (Optuna's journal lock) must not turn a Ctrl-C into a failed fit: the fit ends as
    # interrupted, with the model of epoch 2
    with pytest.warns(FitInterruptedWarning, match="after epoch 2 of at most 20"):
        est = LSTMClassifier(**COMMON, callbacks=[ReplacedCtrlCAt(at_batch=10)]).fit(X, Y)
    assert est.interrupted_ and est.n_epochs_ == 2 and est.n_updates_ == 8
    assert est.net_.ctrl_c is None  # (the fit's guard is not kept, nor pickled)
    # without a press the exception is the fit's error, as it was
    with pytest.raises(FileNotFoundError, match="lock file is gone"):
        LSTMClassifier(**COMMON, callbacks=[RaisesAt(at_batch=10)]).fit(X, Y)


def test_a_guard_inside_a_guard_notes_the_press_on_both_and_gives_the_handler_back(
        default_ctrl_c):
    with CtrlCGuard() as outer:  # (a search)
        handler = signal.getsignal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt), CtrlCGuard() as inner:  # (a fit in it)
            signal.raise_signal(signal.SIGINT)
        assert inner.pressed and outer.pressed
        assert signal.getsignal(signal.SIGINT) == handler  # the outer guard's again
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("pressed", [True, False])
def test_a_block_ended_by_another_exception_after_a_press_ends_with_the_interrupt(
        default_ctrl_c, pressed):
    fault = ReplacedCtrlCAt(at_batch=1) if pressed else RaisesAt(at_batch=1)
    expected = KeyboardInterrupt if pressed else FileNotFoundError
    with pytest.raises(expected) as raised, CtrlCGuard():
        fault.initialize().on_batch_end(None)
    if pressed:  # (what replaced the interrupt is its cause)
        assert isinstance(raised.value.__cause__, FileNotFoundError)


def test_a_handler_of_the_users_is_left_alone(default_ctrl_c):
    presses = []
    signal.signal(signal.SIGINT, lambda *_: presses.append(1))
    est = LSTMClassifier(**{**COMMON, "max_epochs": 4},
                         callbacks=[SwallowedCtrlCAt(at_batch=3)]).fit(X, Y)
    assert presses == [1] and not est.interrupted_ and est.n_epochs_ == 4


def test_a_press_held_is_raised_as_the_guard_resumes_and_one_after_at_once(default_ctrl_c):
    with CtrlCGuard() as ctrl_c:
        ctrl_c.hold()
        signal.raise_signal(signal.SIGINT)  # noted only
        assert ctrl_c.pressed
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.resume()
        assert not ctrl_c.holding and not ctrl_c.pressed
        with pytest.raises(KeyboardInterrupt):  # not held any more
            signal.raise_signal(signal.SIGINT)


def test_where_ctrl_c_is_ignored_it_stays_so_and_a_press_is_noted_by_every_guard(
        default_ctrl_c):
    # a process started by ``cmd &`` from a script ignores SIGINT: no guard was in
    # force, so sklstm tune's SIGTERM (its press) was neither held while Optuna
    # recorded a trial nor raised again once lost
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with pytest.raises(KeyboardInterrupt):  # no guard: as Python's handler would
        press()
    with CtrlCGuard() as outer, CtrlCGuard() as inner:  # (a search, a fit in it)
        signal.raise_signal(signal.SIGINT)  # still ignored
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert inner.watching and not ctrl_c_pending()
        inner.hold()
        press()  # noted by both, held
        assert inner.pressed and outer.pressed
        with pytest.raises(KeyboardInterrupt):
            inner.resume()
        assert ctrl_c_pending()  # (the search's, not yet delivered)
        with pytest.raises(KeyboardInterrupt):
            outer.check()
    assert not ctrl_c_pending() and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # (Ctrl-C ends the process): the same
    with pytest.raises(KeyboardInterrupt), CtrlCGuard() as ctrl_c:
        press()
    assert ctrl_c.noted and signal.getsignal(signal.SIGINT) is signal.SIG_DFL
