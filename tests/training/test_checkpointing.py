"""checkpoint=DIR: a stopped fit continues where it stopped, with the same result."""

import json
import pickle
import signal
import textwrap
import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from torch.optim.lr_scheduler import CosineAnnealingLR, OneCycleLR, ReduceLROnPlateau, StepLR

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.resources.concurrency import fits_in_threads

from ..search.helpers import python
from .checkpoint_fits import COMMON, RAGGED, Y_RAGGED, X, Y, state_directory
from .faults import InterruptAt, assert_took_the_epochs, written_durations

CASES = {
    "classifier": (LSTMClassifier, COMMON, X, Y, "predict_proba"),
    # dropout between stacked layers: on CUDA cuDNN would draw it from a state of its own
    # that no checkpoint holds (the network draws it from the device's generator)
    "stacked_layers": (LSTMClassifier, {**COMMON, "num_layers": 2}, X, Y, "predict_proba"),
    # batch norm's running statistics are state too
    "classifier_conv_branch": (LSTMClassifier, {**COMMON, "conv_channels": (4, 8, 4),
                                                "conv_kernel_sizes": (3, 3, 3)},
                               X, Y, "predict_proba"),
    # lr_schedule="adaptive": the rate falls where the rule would stop (tol=0.05 on
    # this loss: a fall every 2 epochs once it has left chance), before and after the cut
    "classifier_adaptive_rate": (LSTMClassifier, {**COMMON, "tol": 0.05, "n_iter_no_change": 2,
                                                  "max_epochs": 60}, X, Y, "predict_proba"),
    # the linear highway's weights, on ragged windows relative to their last value
    "ragged_relative_regressor_ar_window": (LSTMRegressor, {
        **COMMON, "ar_window": 3, "relative": "last"}, RAGGED, Y_RAGGED, "predict"),
    "ragged_regressor_early_stopping": (LSTMRegressor, {
        **COMMON, "early_stopping": True, "tol": 1e-3, "n_iter_no_change": 3,
        "max_epochs": 30}, RAGGED, Y_RAGGED, "predict"),
}


def test_a_resumed_fit_interrupted_again_names_the_fits_max_epochs(tmp_path):
    # the net of a resumed fit trains the epochs left: "of at most 8" after 2 of 10
    params = {**COMMON, "device": "cpu", "batch_size": 16}
    with pytest.warns(UserWarning, match="after epoch 2 of at most 10"):
        LSTMClassifier(**params, checkpoint=tmp_path,
                       callbacks=[InterruptAt(at_batch=10)]).fit(X, Y)
    with pytest.warns(UserWarning, match="after epoch 4 of at most 10 "):
        again = LSTMClassifier(**params, checkpoint=tmp_path,
                               callbacks=[InterruptAt(at_batch=10)]).fit(X, Y)
    assert again.interrupted_ and again.n_epochs_ == 4


@pytest.mark.parametrize("case", list(CASES))
def test_a_resumed_fit_equals_an_uninterrupted_one(case, tmp_path):
    Estimator, params, X_, y_, method = CASES[case]
    whole = Estimator(**params).fit(X_, y_)
    with pytest.warns(UserWarning, match="interrupted"):
        cut = Estimator(**params, checkpoint=tmp_path,
                        callbacks=[InterruptAt(at_batch=9)]).fit(X_, y_)
    assert cut.interrupted_ and 0 < cut.n_epochs_ < whole.n_epochs_
    resumed = Estimator(**params, checkpoint=tmp_path).fit(X_, y_)
    assert_took_the_epochs(resumed, cut.history_[:, "dur"])
    assert resumed.n_epochs_ == whole.n_epochs_ and not resumed.interrupted_
    assert resumed.converged_ == whole.converged_
    assert_array_equal(getattr(resumed, method)(X_), getattr(whole, method)(X_))
    assert [r["train_loss"] for r in resumed.history_] == [
        r["train_loss"] for r in whole.history_]
    rate = resumed.net_.optimizer_.param_groups[0]["lr"]
    assert rate == whole.net_.optimizer_.param_groups[0]["lr"]
    if case == "classifier_adaptive_rate":  # the case tests what it means to
        assert rate < 1e-6 and resumed.converged_


class RecordLR(Callback):
    """Records the learning rate an epoch trains with, and the one its end leaves (what
    a callback records at an epoch's end belongs to that epoch's state)."""

    def on_epoch_begin(self, net, **kwargs):
        net.history.record("lr_used", net.optimizer_.param_groups[0]["lr"])

    def on_epoch_end(self, net, **kwargs):
        net.history.record("lr_after", net.optimizer_.param_groups[0]["lr"])


#: torch's schedulers differ in what skorch's remade scheduler does to the rate on resume
SCHEDULES = {
    "step_after_warmup": ({"warmup_epochs": 2}, LRScheduler(StepLR, step_size=1, gamma=0.5)),
    "cosine": ({}, LRScheduler(CosineAnnealingLR, T_max=6)),
    "plateau": ({}, LRScheduler(ReduceLROnPlateau, monitor="train_loss", patience=0,
                                threshold=0.3, factor=0.5)),
    "one_cycle_every_batch": ({}, LRScheduler(OneCycleLR, max_lr=0.01, total_steps=30,
                                              step_every="batch")),
}


@pytest.mark.parametrize("case", list(SCHEDULES))
def test_a_resumed_fit_keeps_the_lr_schedule_and_what_callbacks_recorded(case, tmp_path):
    extra, schedule = SCHEDULES[case]
    params = {**COMMON, "device": "cpu", "batch_size": 16, "max_epochs": 6, **extra}
    whole = LSTMClassifier(**params, callbacks=[schedule, RecordLR()]).fit(X, Y)
    assert len(set(whole.history_[:, "lr_used"])) > 2  # the case tests what it means to
    # 4 batches an epoch: batch 10 is in epoch 3
    with pytest.warns(UserWarning, match="interrupted"):
        cut = LSTMClassifier(**params, checkpoint=tmp_path, callbacks=[
            schedule, RecordLR(), InterruptAt(at_batch=10)]).fit(X, Y)
    resumed = LSTMClassifier(**params, checkpoint=tmp_path,
                             callbacks=[schedule, RecordLR()]).fit(X, Y)
    assert_took_the_epochs(resumed, cut.history_[:, "dur"])
    for key in ("lr_used", "lr_after", "train_loss"):
        assert resumed.history_[:, key] == whole.history_[:, key], key
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


def test_a_resumed_fit_keeps_a_fall_of_the_adaptive_rate_at_its_last_written_epoch(tmp_path):
    # the stopper lowers the rate at an epoch's end: the state written must hold it
    params = {**COMMON, "device": "cpu", "batch_size": 16, "tol": 0.05, "n_iter_no_change": 2,
              "max_epochs": 60}
    whole = LSTMClassifier(**params, callbacks=[RecordLR()]).fit(X, Y)
    used = whole.history_[:, "lr_used"]
    fell_after = next(epoch for epoch in range(1, len(used)) if used[epoch] < used[epoch - 1])
    with pytest.warns(UserWarning, match=f"after epoch {fell_after} "):
        cut = LSTMClassifier(**params, checkpoint=tmp_path, callbacks=[
            InterruptAt(at_batch=4 * fell_after + 1)]).fit(X, Y)
    resumed = LSTMClassifier(**params, checkpoint=tmp_path, callbacks=[RecordLR()]).fit(X, Y)
    assert_took_the_epochs(resumed, cut.history_[:, "dur"])
    assert resumed.history_[fell_after:, "lr_used"] == used[fell_after:]
    assert resumed.n_epochs_ == whole.n_epochs_ and resumed.converged_ == whole.converged_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


class _FailingWrite:
    """``torch.save`` that fails once, in the write of the epoch ``at`` (its third
    file), as a full disk or a killed process would cut a write short."""

    def __init__(self, save, at):
        self.save, self.at, self.calls = save, at, 0

    def __call__(self, obj, f, *args, **kwargs):
        if f"epoch-{self.at:06d}" in str(f):
            self.calls += 1
            if self.calls == 3:
                raise OSError(28, "No space left on device")
        return self.save(obj, f, *args, **kwargs)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_write_cut_short_leaves_the_epoch_before_whole(early_stopping, tmp_path,
                                                         monkeypatch):
    # skorch writes the weights, optimizer and history in place, one after the other: a
    # write cut short left files of two epochs (resumed from the wrong weights) or a
    # truncated one (refused: every epoch lost). Each state has a directory of its own.
    import torch

    params = {**COMMON, "device": "cpu", "early_stopping": early_stopping,
              "tol": 1e-3 if early_stopping else None}
    whole = LSTMClassifier(**params).fit(X, Y)
    monkeypatch.setattr(torch, "save", _FailingWrite(torch.save, 3))
    with pytest.raises(OSError, match="No space left"):
        LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    monkeypatch.undo()
    assert state_directory(tmp_path).name == "epoch-000002"
    written = written_durations(tmp_path)
    resumed = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert len(written) == 2
    assert_took_the_epochs(resumed, written)
    assert resumed.n_epochs_ == whole.n_epochs_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    # one state is kept: the last one
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [state_directory(tmp_path).name]


def test_a_checkpoint_of_an_earlier_layout_resumes_and_moves_on(tmp_path):
    # an earlier sklstm wrote its files in the checkpoint directory itself
    params = {**COMMON, "device": "cpu", "early_stopping": True, "tol": 1e-3}
    with pytest.warns(UserWarning, match="interrupted"):
        LSTMClassifier(**params, checkpoint=tmp_path,
                       callbacks=[InterruptAt(at_batch=9)]).fit(X, Y)
    state_dir = state_directory(tmp_path)
    for file in state_dir.iterdir():
        file.rename(tmp_path / file.name)
    state_dir.rmdir()
    state = json.loads((tmp_path / "sklstm_fit.json").read_text())
    del state["files"]
    (tmp_path / "sklstm_fit.json").write_text(json.dumps(state))
    written = written_durations(tmp_path)
    resumed = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert_took_the_epochs(resumed, written)
    assert_array_equal(resumed.predict_proba(X), LSTMClassifier(**params).fit(X, Y)
                       .predict_proba(X))
    assert not (tmp_path / "params.pt").exists()
    assert (state_directory(tmp_path) / "params.pt").exists()


def test_a_checkpoint_from_before_lr_schedule_resumes_with_the_constant_rate(tmp_path):
    # an earlier sklstm trained with a constant rate: its state matches "constant", which
    # trains as it did, and not the default "adaptive", which would (with a stopping rule)
    common = {**COMMON, "device": "cpu", "tol": 1e-4, "lr_schedule": "constant"}
    with pytest.warns(UserWarning, match="interrupted"):
        LSTMClassifier(**common, checkpoint=tmp_path,
                       callbacks=[InterruptAt(at_batch=9)]).fit(X, Y)
    state_file = tmp_path / "sklstm_fit.json"
    state = json.loads(state_file.read_text())
    del state["fingerprint"]["params"]["lr_schedule"]
    state_file.write_text(json.dumps(state))
    with pytest.raises(ValueError, match="holds the state of another fit"):
        LSTMClassifier(**{**common, "lr_schedule": "adaptive"}, checkpoint=tmp_path).fit(X, Y)
    written = written_durations(tmp_path)
    resumed = LSTMClassifier(**common, checkpoint=tmp_path).fit(X, Y)
    assert_took_the_epochs(resumed, written)
    assert_array_equal(resumed.predict_proba(X), LSTMClassifier(**common).fit(X, Y)
                       .predict_proba(X))


def test_a_finished_fit_is_loaded_not_trained_and_max_epochs_extends_it(tmp_path):
    first = LSTMClassifier(**COMMON, checkpoint=tmp_path).fit(X, Y)
    again = LSTMClassifier(**COMMON, checkpoint=tmp_path).fit(X, Y)
    assert again.n_epochs_ == first.n_epochs_ == 10
    assert [r["dur"] for r in again.history_] == [r["dur"] for r in first.history_]
    assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    longer = LSTMClassifier(**{**COMMON, "max_epochs": 14}, checkpoint=tmp_path).fit(X, Y)
    straight = LSTMClassifier(**{**COMMON, "max_epochs": 14}).fit(X, Y)
    assert longer.n_epochs_ == 14
    assert_array_equal(longer.predict_proba(X), straight.predict_proba(X))


@pytest.mark.parametrize("stop", [{"tol": 1e-2, "n_iter_no_change": 2, "max_epochs": 40},
                                  # (validation samples enough to tell learning from
                                  # luck: 7 of the default 0.1 cannot)
                                  {"early_stopping": True, "tol": 1e-2,
                                   "validation_fraction": 0.3, "n_iter_no_change": 2,
                                   "max_epochs": 40}],
                         ids=["train_loss", "early_stopping"])
def test_a_converged_fit_is_loaded_with_its_last_epoch(stop, tmp_path):
    # the stopper ends a converged fit at its last epoch's end: that epoch is written too
    params = {**COMMON, **stop}
    first = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert first.converged_ and first.n_epochs_ < 40
    again = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    assert_took_the_epochs(again, first.history_[:, "dur"])
    assert again.converged_ and again.n_epochs_ == first.n_epochs_
    assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_a_fit_that_stopped_at_chance_is_loaded_not_trained_further(tmp_path):
    # early_stopping ends a fit whose validation loss stays at chance: not converged,
    # but ended by the rule, so a later fit of the directory trains no further
    y = np.random.default_rng(1).integers(0, 2, len(X))  # labels X says nothing about
    params = {**COMMON, "device": "cpu", "batch_size": 16, "dropout": 0.0, "lr": 0.05,
              "early_stopping": True, "tol": 1e-3, "n_iter_no_change": 2, "max_epochs": 30,
              "lr_schedule": "constant"}
    with pytest.warns(ConvergenceWarning, match="did not learn"):
        first = LSTMClassifier(**params, checkpoint=tmp_path).fit(X, y)
    assert not first.converged_ and not first.interrupted_ and first.n_epochs_ < 30
    # (only the first fit warned: a rerun loading it said nothing of it)
    with pytest.warns(ConvergenceWarning, match=r"the fit in checkpoint .* was loaded, not "
                                                r"trained; it did not converge"):
        again = LSTMClassifier(**{**params, "max_epochs": 40}, checkpoint=tmp_path).fit(X, y)
    assert_took_the_epochs(again, first.history_[:, "dur"])
    assert again.n_epochs_ == first.n_epochs_ and not again.converged_
    assert_array_equal(again.predict_proba(X), first.predict_proba(X))


@pytest.mark.parametrize("at_batch", [6, 10])  # (in epoch 2, and in 3: after a worse one)
def test_a_resumed_fit_stops_where_the_users_early_stopping_stopped(at_batch, tmp_path):
    # skorch's EarlyStopping began afresh (trained past the stop; load_best: the last weights)
    def fit(checkpoint=None, *more):
        return LSTMClassifier(**COMMON, device="cpu", checkpoint=checkpoint, callbacks=[(
            "stop", EarlyStopping("train_loss", patience=2, threshold=0.5, load_best=True)), *more])
    whole = fit().fit(X, Y)
    assert dict(whole.net_.callbacks_)["stop"].best_epoch_ == 1 < 3 == whole.n_epochs_
    fit(tmp_path, ("cut", InterruptAt(at_batch=at_batch))).fit(X, Y)
    resumed = fit(tmp_path).fit(X, Y)
    assert resumed.n_epochs_ == whole.n_epochs_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from skorch.callbacks import Callback
    from sklstm import LSTMRegressor

    class Tell(Callback):  # the epochs complete, and written (after every epoch end)
        def on_epoch_begin(self, net, **kwargs):
            print(len(net.history) - 1, flush=True)

    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, 20, 3)).astype(np.float32)
    y = X[:, -3:, 0].sum(axis=1)
    LSTMRegressor(max_epochs=40, tol=None, batch_size=16, random_state=0, n_threads=1,
                  checkpoint=sys.argv[1], callbacks=[("tell", Tell())]).fit(X, y)
""")


def test_a_killed_process_resumes_from_its_checkpoint(tmp_path):
    # (python() keeps the PYTHONPATH the suite runs with: packages installed there, as on
    # an offline GPU machine, must import in the child too)
    child = python(CHILD, tmp_path)
    for line in child.stdout:
        if int(line) == 2:
            child.send_signal(signal.SIGKILL)  # no Python code runs any more
            break
    child.wait(timeout=60)
    written = written_durations(tmp_path)
    assert len(written) >= 2
    data = np.random.default_rng(1).normal(size=(3000, 20, 3)).astype(np.float32)
    y = data[:, -3:, 0].sum(axis=1)
    params = dict(max_epochs=4, tol=None, batch_size=16, random_state=0, n_threads=1)
    resumed = LSTMRegressor(**{**params, "max_epochs": 40}, checkpoint=tmp_path)
    # fewer epochs than the killed fit's 40 keep it short: max_epochs may differ
    resumed.set_params(max_epochs=4).fit(data, y)
    assert_took_the_epochs(resumed, written[:4])
    whole = LSTMRegressor(**params).fit(data, y)
    assert resumed.n_epochs_ == 4
    assert_array_equal(resumed.predict(data[:100]), whole.predict(data[:100]))


def test_a_checkpoint_of_an_earlier_sklstm_resumes_while_its_missing_parameters_are_default(
        tmp_path):
    # on the CPU: this is about the state file's fingerprint (a resumed CUDA fit is issue 16);
    # without the convolutional branch, as an earlier sklstm trained
    common = {**COMMON, "device": "cpu", "conv_channels": None}
    with pytest.warns(UserWarning, match="interrupted"):
        LSTMClassifier(**common, checkpoint=tmp_path,
                       callbacks=[InterruptAt(at_batch=9)]).fit(X, Y)
    state_file = tmp_path / "sklstm_fit.json"
    state = json.loads(state_file.read_text())
    # an earlier sklstm's state
    for added_later in ("conv_channels", "conv_kernel_sizes", "ar_window"):
        del state["fingerprint"]["params"][added_later]
    state_file.write_text(json.dumps(state))
    with pytest.raises(ValueError, match="holds the state of another fit"):  # not default
        LSTMClassifier(**{**common, "conv_channels": 4}, checkpoint=tmp_path,
                       conv_kernel_sizes=(3, 3, 3)).fit(X, Y)
    with pytest.raises(ValueError, match="holds the state of another fit"):
        LSTMClassifier(**common, checkpoint=tmp_path, ar_window=2).fit(X, Y)
    with pytest.raises(ValueError, match="holds the state of another fit"):  # today's default
        LSTMClassifier(**{**common, "conv_channels": "auto"}, checkpoint=tmp_path).fit(X, Y)
    written = written_durations(tmp_path)
    resumed = LSTMClassifier(**common, checkpoint=tmp_path).fit(X, Y)
    assert_took_the_epochs(resumed, written)
    assert_array_equal(resumed.predict_proba(X), LSTMClassifier(**common).fit(X, Y)
                       .predict_proba(X))


def test_beside_other_fits_a_resumed_fit_equals_an_uninterrupted_one_alone(tmp_path):
    """The random state a checkpoint saves and restores is the fit's own, also while fits
    run concurrently in threads (sklstm/training/randomness.py): another fit with
    dropout trains in a thread meanwhile."""
    whole = LSTMClassifier(**COMMON).fit(X, Y)
    other = threading.Thread(target=lambda: LSTMClassifier(
        **{**COMMON, "random_state": 1, "max_epochs": 30}).fit(X, Y))
    with fits_in_threads():
        other.start()
        # (its "interrupted" warning is not caught here: pytest.warns and the other
        # thread's scikit-learn input checks, which enter warnings.catch_warnings, swap
        # the same process-wide warning state, so the record could miss it)
        interrupted = LSTMClassifier(**COMMON, checkpoint=tmp_path,
                                     callbacks=[InterruptAt(at_batch=9)]).fit(X, Y)
        assert interrupted.interrupted_
        resumed = LSTMClassifier(**COMMON, checkpoint=tmp_path).fit(X, Y)
        other.join()
    assert_took_the_epochs(resumed, interrupted.history_[:, "dur"])
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))
    assert [r["train_loss"] for r in resumed.history_] == [
        r["train_loss"] for r in whole.history_]


def test_skorchs_checkpoint_pickles_the_net_during_a_fit(tmp_path):
    # skorch's Checkpoint(f_pickle=...) pickles the net as every epoch ends: the fit's
    # random state (torch's forked generators) made it "TypeError: cannot pickle
    # 'generator' object", which ended the fit
    from skorch.callbacks import Checkpoint

    est = LSTMClassifier(**{**COMMON, "max_epochs": 2}, callbacks=[Checkpoint(
        monitor=None, dirname=str(tmp_path), f_pickle="net.pkl")]).fit(X, Y)
    with open(tmp_path / "net.pkl", "rb") as f:
        net = pickle.load(f)
    assert net.randomness is None
    for saved, fitted in zip(net.module_.state_dict().values(),
                             est.net_.module_.state_dict().values(), strict=True):
        assert_array_equal(saved.cpu().numpy(), fitted.cpu().numpy())
