"""A checkpoint is written durably: the state file names only files already on disk, and
is itself on disk before it replaces the one before (the helpers that write so, shared
with model files and stores: tests/test_durable_files.py)."""

import errno
import json
import os

import numpy as np
import pytest
import torch
from skorch.callbacks import EarlyStopping

from sklstm import LSTMClassifier

from ..test_durable_files import POSIX
from ..test_durable_files import file_identity as _identity
from .checkpoint_fits import COMMON, X, Y, state_directory
from .faults import InterruptAt, assert_took_the_epochs, written_durations

PARAMS = {**COMMON, "max_epochs": 3, "device": "cpu"}


class _Disk:
    """``os.fsync`` and ``os.replace`` watched: what was flushed, and what each new state
    file named when it replaced the one before."""

    def __init__(self, monkeypatch, fail=None):
        self.synced, self.states, self.failed, self.fail = set(), [], 0, fail
        self._fsync, self._replace = os.fsync, os.replace
        monkeypatch.setattr(os, "fsync", self.fsync)
        monkeypatch.setattr(os, "replace", self.replace)

    def fsync(self, fd):
        if self.fail is not None and _identity(fd) in map(_identity, self.fail()):
            self.failed += 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        self._fsync(fd)
        self.synced.add(_identity(fd))

    def replace(self, src, dst):
        if str(dst).endswith("sklstm_fit.json"):
            files = json.loads(open(src, encoding="utf-8").read()).get("files")
            directory = os.path.join(os.path.dirname(dst), files) if files else None
            named = [] if directory is None else [
                os.path.join(directory, name) for name in os.listdir(directory)]
            # what a crash of the system right after the rename keeps on disk
            self.states.append({
                "files": files, "state on disk": _identity(src) in self.synced,
                "files on disk": all(_identity(p) in self.synced for p in named),
                "directory on disk": directory is None or not POSIX
                or _identity(directory) in self.synced})
        return self._replace(src, dst)


def test_the_state_file_names_only_files_already_on_disk(tmp_path, monkeypatch):
    # the epoch's files (torch.save, safetensors, skorch's history) and the state file
    # were never fsynced: after a power cut the renamed state file could name files
    # that read back empty, with the state before already removed
    disk = _Disk(monkeypatch)
    LSTMClassifier(**PARAMS, checkpoint=tmp_path).fit(X, Y)
    assert [s["files"] for s in disk.states] == [
        None, "epoch-000001", "epoch-000002", "epoch-000003", "epoch-000003"]
    assert all(s["state on disk"] and s["files on disk"] and s["directory on disk"]
               for s in disk.states), disk.states
    if POSIX:  # the renames themselves (the entries of the directory) were flushed
        assert _identity(tmp_path) in disk.synced


def _epoch_2_files(directory):
    epoch = directory / "epoch-000002"
    return list(epoch.iterdir()) if epoch.exists() else []


def _state_naming_epoch_2(directory):
    state = directory / "sklstm_fit.json.tmp"
    return [state] if state.exists() and "epoch-000002" in state.read_text() else []


@pytest.mark.parametrize("fail", [_epoch_2_files, _state_naming_epoch_2],
                         ids=["an epoch's file", "the state file"])
def test_a_failed_flush_leaves_the_state_before_whole(fail, tmp_path, monkeypatch):
    # a file of epoch 2 or the state file naming it cannot be flushed (an I/O error)
    disk = _Disk(monkeypatch, fail=lambda: fail(tmp_path))
    with pytest.raises(OSError, match=r"the state of epoch 2 could not be written .*"
                                      r"the directory keeps the state of epoch 1"):
        LSTMClassifier(**PARAMS, checkpoint=tmp_path).fit(X, Y)
    monkeypatch.undo()
    assert disk.failed == 1
    assert state_directory(tmp_path).name == "epoch-000001"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-000001", "sklstm_fit.json"]
    durations = written_durations(tmp_path)
    again = LSTMClassifier(**PARAMS, checkpoint=tmp_path).fit(X, Y)  # resumes from it
    assert again.n_epochs_ == 3
    assert_took_the_epochs(again, durations)


def _directory_once_it_names_epoch_2(directory, seen):
    """The checkpoint directory at its first flush after the state file named epoch 2."""
    state = directory / "sklstm_fit.json"
    renamed = (state.exists() and not (directory / "sklstm_fit.json.tmp").exists()
               and "epoch-000002" in state.read_text() and not seen)
    seen += [directory] if renamed else []
    return [directory] if renamed else []


@pytest.mark.skipif(not POSIX, reason="a directory is opened and fsynced on POSIX only")
def test_a_failed_flush_after_the_rename_keeps_the_state_it_names(tmp_path, monkeypatch):
    # the state file already named epoch 2 when the flush of its directory failed: the
    # write was reported failed, and the files of epoch 2 were removed under the state
    # file that named them (a resume refused the checkpoint)
    seen = []
    disk = _Disk(monkeypatch, fail=lambda: _directory_once_it_names_epoch_2(tmp_path, seen))
    est = LSTMClassifier(**PARAMS, checkpoint=tmp_path).fit(X, Y)
    monkeypatch.undo()
    assert disk.failed == 1 and est.n_epochs_ == 3 and state_directory(tmp_path).is_dir()
    durations = written_durations(tmp_path)
    assert_took_the_epochs(LSTMClassifier(**PARAMS, checkpoint=tmp_path).fit(X, Y), durations)


@pytest.mark.parametrize("numpy_params, python_params", [
    ({"conv_channels": (np.int64(4),), "conv_kernel_sizes": (np.int64(3),)},
     {"conv_channels": (4,), "conv_kernel_sizes": (3,)}),
    ({"optimizer_params": {"weight_decay": np.float32(0.5)}},
     {"optimizer_params": {"weight_decay": 0.5}}),
])
def test_numpy_values_inside_parameters_resume_as_their_python_numbers(
        numpy_params, python_params, tmp_path):
    # a tuple or dict holding numpy scalars (a grid's np.arange) was recorded as its
    # repr: the same fit with Python numbers was refused as "another fit"
    params = {**COMMON, "max_epochs": 3, "device": "cpu", "checkpoint": tmp_path}
    first = LSTMClassifier(**params, **numpy_params,
                           callbacks=[InterruptAt(at_batch=6)]).fit(X, Y)
    resumed = LSTMClassifier(**params, **python_params).fit(X, Y)
    assert_took_the_epochs(resumed, first.history_[:, "dur"])
    assert resumed.n_epochs_ == 3


@pytest.mark.parametrize("optimizer", ["Adam", torch.optim.Adam])
def test_a_fit_resumes_with_the_optimizer_named_another_way(optimizer, tmp_path):
    # "adam", "Adam" and torch.optim.Adam train alike: the fit was refused as another's
    params = {**COMMON, "max_epochs": 3, "device": "cpu", "checkpoint": tmp_path}
    first = LSTMClassifier(**params, optimizer="adam",
                           callbacks=[InterruptAt(at_batch=6)]).fit(X, Y)
    resumed = LSTMClassifier(**params, optimizer=optimizer).fit(X, Y)
    assert_took_the_epochs(resumed, first.history_[:, "dur"])
    with pytest.raises(ValueError, match=r"another fit \(optimizer='torch.optim.adam.Adam' "
                                         r"there, 'torch.optim.sgd.SGD' here\)"):
        LSTMClassifier(**params, optimizer="sgd").fit(X, Y)


def test_a_state_recording_numpy_values_and_the_optimizer_as_given_still_resumes(tmp_path):
    # (how an earlier sklstm wrote them: its fits must find their checkpoints)
    params = {**COMMON, "max_epochs": 3, "device": "cpu", "checkpoint": tmp_path,
              "conv_channels": (np.int64(4),), "conv_kernel_sizes": (np.int64(3),)}
    first = LSTMClassifier(**params, callbacks=[InterruptAt(at_batch=6)]).fit(X, Y)
    state = json.loads((tmp_path / "sklstm_fit.json").read_text())
    for key in ("conv_channels", "conv_kernel_sizes"):
        state["fingerprint"]["params"][key] = repr(params[key])
    state["fingerprint"]["params"]["optimizer"] = "adam"  # (as given)
    (tmp_path / "sklstm_fit.json").write_text(json.dumps(state))
    resumed = LSTMClassifier(**params).fit(X, Y)
    assert_took_the_epochs(resumed, first.history_[:, "dur"])


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_fit_only_loaded_ends_with_the_users_stoppers_best_weights(early_stopping, tmp_path):
    # a finished fit loaded again trains none: no on_train_end put the user's
    # EarlyStopping(load_best=True)'s best epoch back, and it ended with the last one's
    def fit(checkpoint=None):
        return LSTMClassifier(**COMMON, device="cpu", checkpoint=checkpoint, callbacks=[
            ("stop", EarlyStopping("train_loss", patience=2, threshold=0.5, load_best=True)),
            ("watch", EarlyStopping("train_loss", patience=50))],  # (no load_best)
            early_stopping=early_stopping).fit(X, Y)
    whole = fit()
    assert dict(whole.net_.callbacks_)["stop"].best_epoch_ == 1 < 3 == whole.n_epochs_
    fit(tmp_path)
    loaded = fit(tmp_path)
    assert loaded.n_epochs_ == whole.n_epochs_
    np.testing.assert_array_equal(loaded.predict_proba(X), whole.predict_proba(X))
    assert dict(loaded.net_.callbacks_)["stop"].best_epoch_ == 1  # (the rule, replayed)
