"""Progress: a bar per epoch at verbose=1, and a log line a minute at any verbose."""

import logging
import os
import re
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, ProgressBar
from skorch.history import History
from tqdm import tqdm

import sklstm.training.progress as progress
from sklstm import LSTMClassifier
from sklstm.training import BatchSizeSchedule

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 5, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)
BASE = dict(hidden_size=4, max_epochs=3, tol=None, batch_size=8, random_state=0, n_threads=1)


def test_verbose_shows_a_progress_bar_and_quiet_fits_print_nothing(capsys):
    quiet = LSTMClassifier(**BASE).fit(X, Y)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert "progress_bar" not in dict(quiet.net_.callbacks_)
    loud = LSTMClassifier(**BASE, verbose=1).fit(X, Y)
    out = capsys.readouterr()
    assert "progress_bar" in dict(loud.net_.callbacks_)
    assert "train_loss" in out.out  # skorch's epoch table
    assert "0/5 [" in out.err  # tqdm's bar over the 5 batches of each epoch


def test_a_long_fit_logs_how_far_it_is(caplog, monkeypatch):
    monkeypatch.setattr(progress.ProgressLog.__init__, "__defaults__", (0.0,))  # every epoch
    with caplog.at_level(logging.INFO, logger="sklstm"):
        LSTMClassifier(**BASE).fit(X, Y)
    logged = [r.getMessage() for r in caplog.records if r.name == "sklstm"]
    lines = [line for line in logged if "train_loss" in line]  # (the epochs' lines)
    assert len(lines) == 3
    assert lines[0].startswith("LSTMClassifier: epoch 1 of at most 3 after 0 s, train_loss ")
    # the default interval: nothing in a fit shorter than a minute
    monkeypatch.undo()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklstm"):
        LSTMClassifier(**BASE).fit(X, Y)
    assert not [r for r in caplog.records if r.name == "sklstm"]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_an_epoch_longer_than_the_interval_is_followed_within_it(caplog, monkeypatch,
                                                                 early_stopping):
    # a fit's epoch of 5 batches of 30 s each (a clock of the test's): a line a minute,
    # where the only line came at the epoch's end, after 150 s (ten minutes of silence
    # for a ten-minute epoch on large data)
    clock = [0.0]
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: clock[0]))

    class SlowBatches(Callback):
        def on_batch_begin(self, net, **kwargs):
            clock[0] += 30.0

    with caplog.at_level(logging.INFO, logger="sklstm"):
        LSTMClassifier(**{**BASE, "max_epochs": 1}, device="cpu", early_stopping=early_stopping,
                       callbacks=[SlowBatches()]).fit(X, Y)
    # (early_stopping: 36 samples train in 5 batches, 4 validate in 1)
    assert [r.getMessage() for r in caplog.records if r.name == "sklstm"] == [
        "LSTMClassifier: epoch 1 of at most 1, batch 2 of 5, after 60 s",
        "LSTMClassifier: epoch 1 of at most 1, batch 4 of 5, after 120 s",
        *["LSTMClassifier: epoch 1 of at most 1, validation batch 1, after 180 s"][
            :early_stopping]]


def test_a_progress_bar_of_the_user_s_stands_for_ours(capsys):
    # both were added: two bars redrew over each other every batch
    fitted = LSTMClassifier(**BASE, verbose=1, callbacks=[ProgressBar(batches_per_epoch=5)]
                            ).fit(X, Y)
    assert [type(cb) for _, cb in fitted.net_.callbacks_].count(ProgressBar) == 1
    assert "0/5 [" in capsys.readouterr().err


def test_the_epoch_table_keeps_its_columns_under_their_headers(capsys):
    # the validation set's chance level, recorded in the first epoch only, made a column
    # of that row: from the second row on, valid_loss stood under "valid_chance"
    fitted = LSTMClassifier(**BASE, early_stopping=True, verbose=1).fit(X, Y)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    header, rule, *rows = lines
    assert header.split() == ["epoch", "train_loss", "valid_loss", "dur"]
    assert len(rows) == 3 and all(len(row.split()) == len(rule.split()) for row in rows)
    assert fitted.net_.history[0, "valid_chance"] > 0  # (still recorded)


@pytest.mark.parametrize("stream", ["missing", "closed"])
def test_a_fit_without_a_standard_error_to_draw_the_bar_on_still_fits(capsys, monkeypatch,
                                                                      stream):
    # pythonw and daemons have sys.stderr None, or closed: tqdm's bar raised at the first
    # epoch ("'NoneType' object has no attribute 'write'", "I/O operation on closed
    # file") and the fit was lost; the epoch table (on sys.stdout) is still printed
    closed = None
    if stream == "closed":
        closed = open(os.devnull, "w")
        closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    fitted = LSTMClassifier(**BASE, verbose=1, device="cpu").fit(X, Y)
    assert "progress_bar" not in dict(fitted.net_.callbacks_)
    assert "train_loss" in capsys.readouterr().out


def test_each_epochs_bar_counts_the_batches_it_runs_after_the_batch_grew(capsys):
    # the bar was sized as the epoch began, before a BatchSizeSchedule placed after it
    # grew the batch: the epoch of 4 batches showed 0/8 and ended at 4/8
    fitted = LSTMClassifier(**{**BASE, "max_epochs": 4}, verbose=1, device="cpu", callbacks=[
        BatchSizeSchedule(patience=1, threshold_mode="abs", threshold=100)]).fit(X, Y)
    ran = [len(row["batches"]) for row in fitted.history_]
    assert ran == [5, 5, 3, 2]  # 40 samples in batches of 8, 8, 16, 32
    totals = re.findall(r" 0/(\d+) \[", capsys.readouterr().err.replace("\r", "\n"))
    assert [int(total) for total in totals] == ran


class BarPostfix(Callback):
    """Records the postfix of the net's bar (the user's, placed before this) each batch."""

    def initialize(self):
        self.postfixes_ = []
        return self

    def on_batch_end(self, net, **kwargs):
        bar = next(cb for _, cb in net.callbacks_ if isinstance(cb, ProgressBar))
        self.postfixes_.append(bar.pbar_.postfix)


def test_a_progress_bar_of_the_user_s_shows_each_batchs_loss():
    # skorch's bar shows the row's losses: it showed none (the row had no loss until the
    # epoch's end), and a row's loss on the device would show as "tensor(0.6931)"
    fitted = LSTMClassifier(**BASE, device="cpu", early_stopping=True, callbacks=[
        ProgressBar(), ("postfix", BarPostfix())]).fit(X, Y)
    postfixes = dict(fitted.net_.callbacks_)["postfix"].postfixes_
    rows = [row for epoch in fitted.history_ for row in epoch["batches"]]
    assert len(postfixes) == len(rows)
    for postfix, row in zip(postfixes, rows, strict=True):
        key = "train_loss" if "train_loss" in row else "valid_loss"
        assert postfix == f"{key}={tqdm.format_num(row[key])}"


class Pbar:
    """What EpochBar hands tqdm's bar."""

    def __init__(self):
        self.postfixes, self.updates = [], 0

    def set_postfix(self, postfix, refresh=True):
        self.postfixes.append(postfix)

    def update(self):
        self.updates += 1


def test_sklstms_bar_shows_no_loss_still_on_the_device():
    # showing it waits for the device at every batch (sklstm.training.loop keeps the
    # batch losses there until the epoch ends); a value on the host is shown as skorch does
    history = History()
    history.new_epoch()
    bar = progress.EpochBar()
    bar.pbar_ = Pbar()
    net = SimpleNamespace(history=history)
    for loss in (torch.tensor(0.5), 0.25):
        history.new_batch()
        history.record_batch("train_loss", loss)
        history.record_batch("train_batch_size", 8)
        bar.on_batch_end(net)
    assert bar.pbar_.postfixes == [{}, {"train_loss": 0.25}] and bar.pbar_.updates == 2
