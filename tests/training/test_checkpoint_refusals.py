"""A checkpoint that is not this fit's, is not whole, or is not where a directory can be
is refused before training, naming it; one whose files were tampered with runs no code."""

import errno
import json
import os
import pickle
import re
from contextlib import nullcontext

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from safetensors import SafetensorError
from sklearn.model_selection import cross_val_score
from skorch.callbacks import Callback, EarlyStopping

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.resources.device import OUT_OF_MEMORY
from sklstm.training import checkpoint_callbacks

from .checkpoint_fits import COMMON, X, Y, state_directory
from .faults import InterruptAt, assert_took_the_epochs, written_durations


def test_a_directory_of_files_no_fit_wrote_is_refused_before_training(tmp_path):
    (tmp_path / "history.json").write_text("[]")  # a skorch Checkpoint's, say
    est = LSTMClassifier(**COMMON, checkpoint=tmp_path)
    with pytest.raises(ValueError, match=r"holds history\.json but no sklstm_fit\.json: "
                                         r"files that no sklstm fit wrote"):
        est.fit(X, Y)
    assert (tmp_path / "history.json").read_text() == "[]" and not hasattr(est, "net_")


@pytest.mark.parametrize(("change", "named"), [
    ({"lr": 0.05}, "lr=0.001 there, 0.05 here"),
    ({"accumulation_steps": np.int64(2)}, "accumulation_steps=1 there, 2 here"),
    ({"data": True}, "other data")])
def test_a_checkpoint_of_another_fit_is_refused(change, named, tmp_path):
    LSTMClassifier(**COMMON, checkpoint=tmp_path).fit(X, Y)
    est = LSTMClassifier(**{**COMMON, **{k: v for k, v in change.items() if k != "data"}},
                         checkpoint=tmp_path)
    with pytest.raises(ValueError, match=rf"holds the state of another fit \({named}\)"):
        est.fit(X[::-1] if "data" in change else X, Y[::-1] if "data" in change else Y)
    assert not hasattr(est, "net_")


def test_a_checkpoint_of_another_estimator_is_refused_naming_it(tmp_path):
    LSTMClassifier(**{**COMMON, "max_epochs": 2}, checkpoint=tmp_path).fit(X, Y)
    with pytest.raises(ValueError, match=r"another fit \(written by LSTMClassifier, not "
                                         r"LSTMRegressor; "):
        LSTMRegressor(**{**COMMON, "max_epochs": 2}, checkpoint=tmp_path).fit(X, Y * 1.0)


@pytest.mark.parametrize("interrupted", [False, True], ids=["finished", "interrupted"])
def test_a_checkpoint_of_more_epochs_than_max_epochs_is_refused_before_training(
        interrupted, tmp_path):
    # loaded as it was (the state keeps only its last epoch: the third cannot be had
    # from it), it gave n_epochs_=4 for max_epochs=3 with no word of it
    params = {**COMMON, "device": "cpu", "batch_size": 16, "checkpoint": tmp_path}
    callbacks = [InterruptAt(at_batch=18)] if interrupted else []  # (4 batches an epoch)
    with pytest.warns(UserWarning, match="after epoch 4") if interrupted else nullcontext():
        first = LSTMClassifier(**{**params, "max_epochs": 10 if interrupted else 4},
                               callbacks=callbacks).fit(X, Y)
    assert first.n_epochs_ == 4
    est = LSTMClassifier(**{**params, "max_epochs": 3})
    with pytest.raises(ValueError, match=r"holds a fit of 4 epochs, more than max_epochs=3, "
                                         r"and keeps only its last epoch: set max_epochs to "
                                         r"4 or more to load it, or give checkpoint another "
                                         r"directory to train 3 epochs"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")
    again = est.set_params(max_epochs=4).fit(X, Y)  # the state is left as it was
    assert_took_the_epochs(again, first.history_[:, "dur"])
    assert_array_equal(again.predict_proba(X), first.predict_proba(X))


@pytest.mark.parametrize("below", [False, True], ids=["a file", "below a file"])
def test_a_checkpoint_path_of_a_file_is_refused_before_training(below, tmp_path, monkeypatch):
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    path = file / "run-1" if below else file

    def train(*args, **kwargs):
        raise AssertionError("the fit reached training")

    monkeypatch.setattr("sklstm.estimators._base.train", train)
    est = LSTMClassifier(**COMMON, checkpoint=path)
    # os.makedirs raised a bare FileExistsError, after the warm-up step
    with pytest.raises(ValueError, match=f"checkpoint={re.escape(repr(str(path)))} must "
                       "name a directory .*; give checkpoint a directory path"):
        est.fit(X, Y)
    assert not hasattr(est, "net_") and file.read_text() == "mine"


def _unwritable(kind, tmp_path):
    """A directory where no directory can be made, and the checkpoint path below it."""
    if kind == "virtual file system":  # mkdir fails there even for root (ENOENT)
        if not os.path.isdir("/proc/self"):
            pytest.skip("needs Linux's /proc")
        return "/proc", "/proc/sklstm-run-1/a"
    if os.name != "posix" or os.geteuid() == 0:  # (root writes anywhere)
        pytest.skip("needs a POSIX user that file permissions bind")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return str(locked), str(locked / "run-1")


@pytest.mark.parametrize("kind", ["virtual file system", "no permission"])
def test_a_checkpoint_where_no_directory_can_be_made_is_refused_before_training(
        kind, tmp_path, monkeypatch):
    # os.makedirs raised a bare FileNotFoundError or PermissionError once the data
    # were converted, as the fit took the directory
    parent, path = _unwritable(kind, tmp_path)

    def train(*args, **kwargs):
        raise AssertionError("the fit reached training")

    monkeypatch.setattr("sklstm.estimators._base.train", train)
    est = LSTMClassifier(**COMMON, checkpoint=path)
    with pytest.raises(ValueError, match=f"checkpoint={re.escape(repr(path))} cannot be "
                       f"written: no directory can be made in {re.escape(repr(parent))} "
                       r"\((FileNotFound|Permission)Error: .*where this process can write"):
        est.fit(X, Y)
    assert not hasattr(est, "net_") and not os.path.exists(path)
    assert not [name for name in os.listdir(parent) if name.startswith(".sklstm-probe")]


def test_a_checkpoint_under_the_home_directory_is_there(tmp_path, monkeypatch):
    # "~/runs/clf-1" was a directory named "~" in the working directory: a fit started
    # from another directory trained afresh (and "rm -r ~" would have removed home)
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir(), work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))  # (Windows' home)
    monkeypatch.chdir(work)
    params = {**COMMON, "max_epochs": 1, "checkpoint": "~/runs/clf-1"}
    LSTMClassifier(**params).fit(X, Y)
    assert (home / "runs" / "clf-1" / "sklstm_fit.json").is_file()
    assert list(work.iterdir()) == []
    (home / "notes.txt").write_text("mine")  # checked where the fit would write
    with pytest.raises(ValueError, match=f"checkpoint={re.escape(repr(str(home / 'notes.txt')))}"
                                         " must name a directory"):
        LSTMClassifier(**{**params, "checkpoint": "~/notes.txt"}).fit(X, Y)


def test_an_empty_checkpoint_path_is_refused_before_training(tmp_path, monkeypatch):
    # os.makedirs("") raised a bare FileNotFoundError, after the warm-up step
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sklstm.estimators._base.train", lambda *args, **kwargs: pytest.fail(
        "the fit reached training"))
    est = LSTMClassifier(**COMMON, checkpoint="")
    with pytest.raises(ValueError, match="checkpoint='' names no directory; give checkpoint "
                                         "a directory path"):
        est.fit(X, Y)
    assert not hasattr(est, "net_") and not os.listdir(tmp_path)


@pytest.mark.parametrize(("file", "text", "problem"), [
    ("history.json", '[{"epoch": 1,', "Expecting property name"),  # was a JSONDecodeError
    ("history.json", '{"epoch": 1}', "a JSON dict, not a list of epochs"),
    # edits of the rows, read as the fit resumes: a KeyError, torch's TypeError in the
    # batch split, a stopping rule resumed without its losses
    ("history.json", '[{"batches": [], "train_loss": 0.5}]', "entry 1 is not the record of "
                                                             "epoch 1"),
    ("history.json", '[{"epoch": 1, "batches": [], "train_loss": "x"}]',
     "epoch 1 has no finite train_loss"),
    ("history.json", '[{"epoch": 1, "batches": []}]', "epoch 1 has no finite train_loss"),
    ("history.json", '[{"epoch": 1, "batches": [], "train_loss": 0.5, '
                     '"effective_batch_size": "x"}]',
     "epoch 1 has effective_batch_size='x', not a positive int"),
    ("sklstm_fit.json", "[]", "a JSON list, not an object"),  # was an AttributeError
    ("sklstm_fit.json", {"files": 5}, "files=5 names no epoch-. directory"),  # a TypeError
    # (the seed a resumed fit draws its batches and validation split with)
    ("sklstm_fit.json", {"seed": "x"}, "seed='x' is no seed"),
])
def test_a_damaged_state_or_history_file_is_refused_naming_it(file, text, problem, tmp_path):
    LSTMClassifier(**{**COMMON, "max_epochs": 2}, checkpoint=tmp_path).fit(X, Y)
    path = (tmp_path if file == "sklstm_fit.json" else state_directory(tmp_path)) / file
    if isinstance(text, dict):  # edited entries (the directory of the state, the seed)
        text = json.dumps({**json.loads(path.read_text()), **text})
    path.write_text(text)
    with pytest.raises(ValueError, match=rf"checkpoint '.*{file}' cannot be read \({problem}"
                                         r".*remove the directory"):
        LSTMClassifier(**{**COMMON, "max_epochs": 2}, checkpoint=tmp_path).fit(X, Y)


@pytest.mark.parametrize("error", [MemoryError(), OUT_OF_MEMORY("CUDA out of memory.")],
                         ids=["host", "device"])
def test_out_of_memory_while_resuming_is_no_damaged_checkpoint(error, tmp_path, monkeypatch):
    # it was "cannot be loaded ...; remove the directory to start the fit afresh": on a
    # device with less room than the fit's (device may change on resume), the advice
    # threw away every epoch the checkpoint held
    params = {**COMMON, "max_epochs": 2, "checkpoint": tmp_path}
    LSTMClassifier(**{**params, "max_epochs": 1}).fit(X, Y)

    def no_room(*args, **kwargs):
        raise error

    monkeypatch.setattr("sklstm.training.checkpointing.set_rng_state", no_room)
    with pytest.raises(type(error)) as raised:
        LSTMClassifier(**params).fit(X, Y)
    assert raised.value is error
    monkeypatch.undo()  # the state is whole: the fit resumes from it
    assert LSTMClassifier(**params).fit(X, Y).n_epochs_ == 2


@pytest.mark.parametrize("max_epochs", [4, 6], ids=["loaded", "resumed"])
def test_a_damaged_best_weights_file_is_refused_naming_the_checkpoint(max_epochs, tmp_path):
    # read outside the restore's checks (by the stopper, by restore_best), a truncated
    # best_params.pt was torch's bare RuntimeError ("PytorchStreamReader failed ...")
    params = {**COMMON, "max_epochs": 4, "early_stopping": True, "checkpoint": tmp_path}
    LSTMClassifier(**params).fit(X, Y)
    best = state_directory(tmp_path) / "best_params.pt"
    best.write_bytes(best.read_bytes()[:50])
    with pytest.raises(ValueError, match=r"checkpoint '.*' cannot be loaded \(RuntimeError: "
                                         r".*remove the directory"):
        LSTMClassifier(**{**params, "max_epochs": max_epochs}).fit(X, Y)


def test_a_damaged_file_of_the_users_stoppers_best_weights_is_refused(tmp_path):
    # read as the fit resumes, by the user's EarlyStopping(load_best=True): checked with
    # the restore, as best_params.pt is
    stop = EarlyStopping("train_loss", patience=2, threshold=0.5, load_best=True)
    params = {**COMMON, "device": "cpu", "checkpoint": tmp_path}
    with pytest.warns(UserWarning, match="interrupted"):  # (after epoch 2, its best 1)
        LSTMClassifier(**params, callbacks=[("stop", stop), InterruptAt(at_batch=10)]).fit(X, Y)
    best = state_directory(tmp_path) / "stoppers_best_params.pt"
    best.write_bytes(best.read_bytes()[:50])
    with pytest.raises(ValueError, match=r"checkpoint '.*' cannot be loaded \(RuntimeError: "
                                         r".*remove the directory"):
        LSTMClassifier(**params, callbacks=[("stop", stop)]).fit(X, Y)


class _Exploit:
    def __reduce__(self):
        return (open, (os.path.join(os.environ["EXPLOIT_DIR"], "pwned"), "w"))


@pytest.mark.parametrize("file", ["params.pt", "lr_schedulers.pt"])
def test_a_tampered_checkpoint_is_refused_and_runs_no_code(file, tmp_path, monkeypatch):
    cut = LSTMClassifier(**COMMON, checkpoint=tmp_path, callbacks=[InterruptAt(at_batch=9)])
    with pytest.warns(UserWarning):
        cut.fit(X, Y)
    monkeypatch.setenv("EXPLOIT_DIR", str(tmp_path))
    assert (state_directory(tmp_path) / file).exists()
    (state_directory(tmp_path) / file).write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(ValueError, match="cannot be loaded"):
        LSTMClassifier(**COMMON, checkpoint=tmp_path).fit(X, Y)
    assert not (tmp_path / "pwned").exists()


class _FitBeside(Callback):
    """Runs ``fit`` (another fit on the same checkpoint directory) as the first epoch
    ends, and keeps what it raised."""

    def __init__(self, fit):
        self.fit = fit

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 1:
            try:
                self.fit()
                self.error_ = None
            except ValueError as error:
                self.error_ = str(error)


class _DiskFullAt:
    """A writer (``torch.save``, safetensors' ``save_file``) on a disk that fills up in the
    write of the epoch ``at``: the file is left part-written and the writer's own error
    for it (``error``) is raised."""

    def __init__(self, save, at, error):
        self.save, self.at, self.error = save, at, error

    def __call__(self, obj, f, *args, **kwargs):
        if f"epoch-{self.at:06d}" in str(f):
            with open(f, "wb") as part:
                part.write(b"PK\x03\x04" + bytes(100))
            raise self.error
        return self.save(obj, f, *args, **kwargs)


#: The writers of a state and their errors for a full disk (as seen on a full tmpfs).
_WRITERS = {
    "torch": (torch, "save", RuntimeError(
        "[enforce fail at inline_container.cc:672] . unexpected pos 159808 vs 159700")),
    "safetensors": (checkpoint_callbacks, "save_file", SafetensorError(
        "Error while serializing: I/O error: No space left on device (os error 28)")),
}


@pytest.mark.parametrize("writer", list(_WRITERS))
def test_a_full_disk_names_the_checkpoint_and_leaves_no_part_written_state(writer, tmp_path,
                                                                           monkeypatch):
    # torch's RuntimeError ("unexpected pos") named neither the directory nor the disk,
    # and the part-written epoch stayed: on a full disk it held the room the next fit
    # needed, which then failed at once with a bare "No space left on device"; the
    # random state's write (safetensors) raised its bare SafetensorError
    params = {**COMMON, "device": "cpu"}
    module, name, error = _WRITERS[writer]
    monkeypatch.setattr(module, name, _DiskFullAt(getattr(module, name), 3, error))
    with pytest.raises(OSError, match=re.escape(f"checkpoint {str(tmp_path)!r}: the state "
                                                "of epoch 3 could not be written "
                                                f"({type(error).__name__}")
                       + r".* MiB free on its disk\); the directory keeps the state of "
                       "epoch 2. Free some space"):
        LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["epoch-000002"]
    assert LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y).n_epochs_ == 10


class _StateFileDiskFullAt:
    """``json.dump`` on a disk that fills up in the ``at``-th write of the state file
    (1: before the first epoch; 2 to 4: naming epochs 1 to 3; 5: the fit's end): part
    of it is written, then the system's ``ENOSPC`` error is raised."""

    def __init__(self, dump, at):
        self.dump, self.at, self.seen = dump, at, 0

    def __call__(self, obj, f, *args, **kwargs):
        if str(getattr(f, "name", "")).endswith("sklstm_fit.json.tmp"):
            self.seen += 1
            if self.seen == self.at:
                f.write('{"fingerprint": {"par')
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.dump(obj, f, *args, **kwargs)


@pytest.mark.parametrize(("at", "what", "kept"), [
    (1, "its state file sklstm_fit.json", "no epoch yet"),
    (3, "the state of epoch 2", "the state of epoch 1"),
    (5, "the end of the fit in its state file sklstm_fit.json", "the state of epoch 3")])
def test_a_full_disk_while_the_state_file_is_written_names_the_checkpoint(at, what, kept,
                                                                          tmp_path,
                                                                          monkeypatch):
    # a bare "OSError: [Errno 28] No space left on device" named no checkpoint, and left
    # the part-written state file and epoch directory holding the room
    params = {**COMMON, "max_epochs": 3, "device": "cpu", "checkpoint": tmp_path}
    monkeypatch.setattr(json, "dump", _StateFileDiskFullAt(json.dump, at))
    with pytest.raises(OSError, match=re.escape(f"checkpoint {str(tmp_path)!r}: {what} could "
                                                "not be written (OSError: [Errno 28] No space")
                       + rf".* MiB free on its disk\); the directory keeps {kept}\. Free some "
                       "space") as caught:
        LSTMClassifier(**params).fit(X, Y)
    monkeypatch.undo()
    assert caught.value.errno == errno.ENOSPC
    epochs = [p.name for p in tmp_path.iterdir() if p.name != "sklstm_fit.json"]
    assert epochs == ([] if at == 1 else [f"epoch-{at - 2:06d}"])  # no part-written file
    durations = written_durations(tmp_path) if at > 1 else None
    again = LSTMClassifier(**params).fit(X, Y)  # resumes from the state before
    assert again.n_epochs_ == 3
    if durations is not None:
        assert_took_the_epochs(again, durations)


@pytest.mark.skipif(os.name != "posix", reason="the lock is flock's, POSIX only")
def test_a_second_fit_on_a_directory_in_use_is_refused(tmp_path):
    # two fits writing one directory at once removed each other's epochs (torch's bare
    # "Parent directory ... does not exist") or mixed their states
    params = {**COMMON, "max_epochs": 3, "checkpoint": tmp_path}
    beside = _FitBeside(lambda: LSTMClassifier(**params).fit(X, Y))
    first = LSTMClassifier(**params, callbacks=[("beside", beside)]).fit(X, Y)
    assert re.search(r"checkpoint directory '.*' is in use by another fit running now; give "
                     r"each fit a checkpoint directory of its own",
                     dict(first.net_.callbacks_)["beside"].error_ or "(no error)")
    # the first fit's directory is its own again, and a fit of it afterwards loads it
    again = LSTMClassifier(**params).fit(X, Y)
    assert_took_the_epochs(again, first.history_[:, "dur"])
    assert again.n_epochs_ == first.n_epochs_ == 3
    assert_array_equal(again.predict_proba(X), first.predict_proba(X))


def test_cross_validation_with_a_checkpoint_is_told_to_leave_it_to_the_final_fit(tmp_path):
    # every fold's clone shares the directory: the second fold was refused as "another
    # fit" (cross_val_score: [0.43, nan, nan]) with no word of why or what to do
    est = LSTMClassifier(**COMMON, checkpoint=tmp_path)
    with pytest.raises(ValueError, match=r"holds the state of another fit .*the clones "
                                         r"that cross-validation and searches fit all share "
                                         r"it: set checkpoint for the final fit only"):
        cross_val_score(est, X, Y, cv=2, error_score="raise")
