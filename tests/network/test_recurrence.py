"""The LSTM as the network runs it (sklstm.network.recurrence.Recurrence)."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from sklstm import LSTMClassifier
from sklstm.network.recurrence import Recurrence
from sklstm.resources.concurrency import fits_in_threads
from sklstm.search import concurrent_fits

from ..settings import TINY, requires_cuda, skip_without_bf16

LENGTHS = torch.tensor([7, 3, 5, 2])
X = np.random.default_rng(0).normal(size=(32, 6, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)


def _run(run, inp, seed):
    torch.manual_seed(seed)
    out, (h_n, c_n) = run(inp)
    loss = (out.data if isinstance(out, nn.utils.rnn.PackedSequence) else out).sum()
    grads = torch.autograd.grad(loss + h_n.sum() + c_n.sum(), list(run.lstm.parameters()))
    return [out.data if hasattr(out, "data") else out, h_n, c_n, *grads]


@pytest.mark.parametrize("packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["forward", "bidirectional"])
def test_stacked_layers_with_dropout_run_one_at_a_time_as_nn_lstm_runs_them(bidirectional,
                                                                           packed):
    # Off the CPU, a training pass of stacked layers with dropout runs them one at a
    # time, the masks drawn by F.dropout from the device's generator (which a checkpoint
    # carries) instead of cuDNN's own dropout state. On the CPU, where nn.LSTM draws its
    # masks the same way, the two are the very same computation, masks included.
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=3, dropout=0.4, batch_first=True,
                   bidirectional=bidirectional)
    x = torch.randn(4, 7, 3)
    inp = pack_padded_sequence(x, LENGTHS, batch_first=True, enforce_sorted=False) if packed \
        else x
    stacked = Recurrence(lstm, "cuda")  # the path a device other than the CPU takes
    own = _run(Recurrence(lstm, "cpu"), inp, seed=1)  # nn.LSTM itself
    for got, expected in zip(_run(stacked, inp, seed=1), own, strict=True):
        assert torch.equal(got, expected)
    # the comparison can fail: other masks give other outputs
    assert not torch.equal(_run(stacked, inp, seed=2)[0], own[0])


def test_evaluation_and_a_single_layer_keep_nn_lstm_s_own_call(monkeypatch):
    def stacked(self, inp):
        raise AssertionError("ran the layers one at a time")

    monkeypatch.setattr(Recurrence, "_stacked", stacked)
    x = torch.randn(4, 7, 3)
    for lstm in (nn.LSTM(3, 5, num_layers=2, dropout=0.4, batch_first=True).eval(),
                 nn.LSTM(3, 5, batch_first=True)):  # no dropout between layers to draw
        assert torch.equal(Recurrence(lstm, "cuda")(x)[0], lstm(x)[0])
    with pytest.raises(AssertionError, match="one at a time"):  # (the check can fail)
        Recurrence(nn.LSTM(3, 5, num_layers=2, dropout=0.4, batch_first=True), "cuda")(x)


def _cudnn_s_note():
    # (torch's WEIGHT_FORMAT_WARN, raised by cuDNN for a layer's or a cast's weights)
    warnings.warn("RNN module weights are not part of single contiguous chunk of memory. "
                  "This means they need to be compacted at every call", UserWarning,
                  stacklevel=1)


def test_cudnn_s_note_on_weights_of_the_network_s_own_is_left_unsaid(recwarn):
    with Recurrence(nn.LSTM(3, 5), "cuda")._own_dtype():
        _cudnn_s_note()
    warnings.warn("another warning", UserWarning, stacklevel=1)
    assert [str(w.message) for w in recwarn] == ["another warning"]
    filters = warnings.filters  # on the CPU, which has no such note, they are left alone
    with Recurrence(nn.LSTM(3, 5), "cpu")._own_dtype():
        assert warnings.filters is filters


def test_fits_in_threads_leave_the_warning_filters_to_the_search_s_block(recwarn):
    # the filters are the process's: a fit in a thread that swapped them at every LSTM
    # call would restore another thread's (lost records, a filter left behind)
    with fits_in_threads():
        filters = warnings.filters
        with Recurrence(nn.LSTM(3, 5), "cuda")._own_dtype():
            assert warnings.filters is filters
    with concurrent_fits():  # the block leaves the note unsaid, once for all its fits
        filters = warnings.filters
        with Recurrence(nn.LSTM(3, 5), "cuda")._own_dtype():
            assert warnings.filters is filters
            _cudnn_s_note()
    _cudnn_s_note()  # (after the block it is said again)
    assert len(recwarn) == 1 and "contiguous chunk" in str(recwarn[0].message)


@requires_cuda
@pytest.mark.parametrize("precision", ["32", "bf16"])
def test_on_cuda_stacked_layers_with_dropout_train_without_cudnn_s_weight_note(
        precision):
    if precision == "bf16":
        skip_without_bf16("cuda")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*not part of single contiguous chunk")
        est = LSTMClassifier(**TINY, num_layers=2, dropout=0.3, device="cuda",
                             precision=precision).fit(X, Y)
    assert np.isfinite(est.predict_proba(X)).all()
