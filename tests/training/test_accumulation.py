"""Gradient accumulation: k micro-batches of B equal one batch of B*k."""

import functools
import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.network import LSTMNetwork
from sklstm.training import SequenceNet

from ..settings import NO_BATCH_NORM, ON_CUDA
from .faults import ForwardSizes

N = 53  # not divisible by any B or B*k below: every epoch ends with a short batch
B = 4
#: Relative tolerance of accumulated micro-batches against the large batch. On the CPU
#: they are within 1.2e-5 (the regressor, whose autoregressive highway amplifies the
#: last bits most: a relative change of 1e-6 in the input moves its predictions by
#: 3e-5, the LSTM alone by 6e-6). On CUDA cuDNN's kernels round with the batch's shape
#: (9.4e-6 measured on an H200), so 1e-3 there: an estimate, not yet run on a GPU.
RTOL = 1e-3 if ON_CUDA else 1e-4


def _problem(kind):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, 6, 2)).astype(np.float32)
    if kind.startswith("classifier"):
        y = (X[:, -1, 0] > 0).astype(int) + (X[:, -1, 1] > 0.5)  # 3 classes, unequal
        # class weights: a micro-batch's loss must not be normalised by its own
        # summed weights, or its share of the effective batch would change
        weight = {"class_weight": "balanced"} if kind.endswith("balanced") else {}
        return functools.partial(LSTMClassifier, **weight), X, y, "predict_proba"
    return LSTMRegressor, X, np.c_[X[:, -2:, 0].sum(1), X[:, -1, 1]], "predict"


@pytest.fixture(params=["classifier", "classifier_balanced", "regressor"])
def problem(request):
    return _problem(request.param)


@pytest.fixture(params=["classifier", "regressor"])
def unweighted_problem(request):
    """For LBFGS at lr=0.5, which the class weights' larger steps make blow up in the
    third epoch (loss 1.1 -> 3.5), where its rounding grows past any tolerance: the two
    fits' losses agree to 3e-5 before it."""
    return _problem(request.param)


def _fit(Estimator, X, y, **params):
    # fixed epochs and the last-state readout: what is compared is the training loop
    base = dict(hidden_size=6, max_epochs=3, tol=None, optimizer="sgd", lr=0.3, dropout=0.0,
                pooling="last", downsample=1, random_state=0, **NO_BATCH_NORM)
    return Estimator(**{**base, **params}).fit(X, y)


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("gradient_clip", [None, 0.05])
def test_accumulation_equals_large_batch(problem, k, gradient_clip):
    Estimator, X, y, method = problem
    big = _fit(Estimator, X, y, batch_size=B * k, gradient_clip=gradient_clip)
    acc = _fit(Estimator, X, y, batch_size=B, accumulation_steps=k,
               gradient_clip=gradient_clip, callbacks=[("sizes", ForwardSizes())])
    assert_allclose(getattr(acc, method)(X), getattr(big, method)(X), rtol=RTOL, atol=1e-6)
    # the loss recorded is the effective batch's (a class-weighted mean included)
    assert_allclose(acc.history_[:, "train_loss"], big.history_[:, "train_loss"], rtol=RTOL)
    # in micro-batches of B: one pass over the whole batch would pass the comparison too
    assert max(dict(acc.net_.callbacks_)["sizes"].sizes) == B
    expected_updates = 3 * math.ceil(N / (B * k))
    assert acc.n_updates_ == big.n_updates_ == expected_updates
    assert acc.effective_batch_size_ == big.effective_batch_size_ == B * k


def test_equivalence_test_is_sensitive(problem):
    """Without accumulation the small batch trains differently: the test above can fail."""
    Estimator, X, y, method = problem
    small = _fit(Estimator, X, y, batch_size=B)
    big = _fit(Estimator, X, y, batch_size=B * 2)
    assert not np.allclose(getattr(small, method)(X), getattr(big, method)(X), rtol=RTOL,
                           atol=1e-4)



@pytest.mark.parametrize("bucketing", [False, True])
def test_accumulation_equals_large_batch_on_ragged_sequences(bucketing):
    """A padded effective batch (bucketed or not) is cut into micro-batches, each trimmed
    to its own longest sequence: still the update of the large batch."""
    rng = np.random.default_rng(2)
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in rng.integers(2, 20, size=N)]
    y = np.array([int(x[-1, 0] > 0) for x in X])
    fit = functools.partial(_fit, LSTMClassifier, X, y, bucketing=bucketing)
    big = fit(batch_size=B * 3)
    acc = fit(batch_size=B, accumulation_steps=3, callbacks=[("sizes", ForwardSizes())])
    assert_allclose(acc.predict_proba(X), big.predict_proba(X), rtol=RTOL, atol=1e-6)
    assert_allclose(acc.history_[:, "train_loss"], big.history_[:, "train_loss"], rtol=RTOL)
    assert max(dict(acc.net_.callbacks_)["sizes"].sizes) == B
    # control: without accumulation the small batch trains differently (~0.2 apart)
    small = fit(batch_size=B)
    assert np.abs(small.predict_proba(X) - big.predict_proba(X)).max() > 0.02


@pytest.mark.parametrize("options", [
    {"weight_decay": 0.1},  # (SGD's penalty: once per step, not once per micro-batch)
    {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.1},
    {"lr_scaling": "sqrt", "base_batch_size": B},  # (by the effective batch)
    {"early_stopping": True},  # (the hold-out is in no batch: 47 samples train)
])
def test_step_options_act_once_per_effective_batch(options):
    Estimator, X, y, method = _problem("classifier")
    big = _fit(Estimator, X, y, batch_size=B * 3, **options)
    acc = _fit(Estimator, X, y, batch_size=B, accumulation_steps=3, **options)
    assert_allclose(getattr(acc, method)(X), getattr(big, method)(X), rtol=RTOL, atol=1e-6)
    assert (acc.lr_, acc.n_updates_) == (big.lr_, big.n_updates_)

class _GradCalls(Callback):
    """Counts gradient hooks and records the batch size each one saw."""

    def initialize(self):
        self.sizes = []
        return self

    def on_grad_computed(self, net, named_parameters, batch=None, training=False, **kw):
        self.sizes.append(len(batch[1]))


def test_callbacks_see_each_optimizer_step_once(problem):
    Estimator, X, y, _ = problem
    est = _fit(Estimator, X, y, batch_size=B, accumulation_steps=3,
               callbacks=[("grads", _GradCalls())])
    sizes = est.net_.callbacks_[[n for n, _ in est.net_.callbacks_].index("grads")][1].sizes
    assert len(sizes) == est.n_updates_
    per_epoch = [B * 3] * (N // (B * 3)) + [N % (B * 3)]
    assert sizes == per_epoch * 3
    # the train loss skorch records is the mean over the whole effective batch
    assert est.history_[-1, "batches", -1, "train_batch_size"] == N % (B * 3)


def test_optimizers_that_need_a_closure_train_with_accumulation(unweighted_problem):
    """LBFGS calls the gradient closure several times per step: every call must run
    all micro-batches again, so accumulation stays equal to the large batch."""
    Estimator, X, y, method = unweighted_problem
    # no autoregressive highway (the regressor's "auto" adds one) and no level beside the
    # readout (the classifier's "auto" splits it off): LBFGS without a line search at
    # lr=0.5 overshoots on such a linear path and the fit diverges
    lbfgs = dict(optimizer=torch.optim.LBFGS, lr=0.5, optimizer_params={"max_iter": 3},
                 ar_window=None, split_level=False)
    big = _fit(Estimator, X, y, batch_size=B * 3, **lbfgs)
    acc = _fit(Estimator, X, y, batch_size=B, accumulation_steps=3,
               callbacks=[("sizes", ForwardSizes())], **lbfgs)
    small = _fit(Estimator, X, y, batch_size=B, **lbfgs)
    # The closure computes the same gradient either way (in float64 the two fits agree to
    # 2e-13), but LBFGS's curvature pairs (differences of gradients) amplify its rounding
    # about 1000-fold over these 15 steps of 3 iterations: float32 sums in another order
    # end 3e-5 apart on the CPU. cuDNN's kernels for a batch of 12 and three of 4 round
    # further apart (0.005-0.009 measured on an H200, 2026-12-04; on the CPU, relative
    # gradient noise of 1e-5 gives 0.01), so on CUDA the bound is that of the kernels.
    # Without accumulation the results differ by ~1 (control).
    assert_allclose(getattr(acc, method)(X), getattr(big, method)(X),
                    atol=3e-2 if ON_CUDA else 1e-3)
    assert np.abs(getattr(small, method)(X) - getattr(big, method)(X)).max() > 0.1
    losses = big.history_[:, "train_loss"]
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert acc.n_updates_ == 3 * math.ceil(N / (B * 3))
    assert max(dict(acc.net_.callbacks_)["sizes"].sizes) == B  # (not one pass of 3 * B)


class _DictInputModule(torch.nn.Module):
    """A custom module whose input is a dict with a key beside ``x`` and ``lengths``."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(2, 1)

    def forward(self, x, lengths, offset):
        # (the first step: every sequence has one, and the micro-batches are cut to
        # their own longest sequence)
        return self.lin(x[:, 0] * torch.as_tensor(lengths)[:, None]) + offset


def test_every_key_of_a_dict_input_reaches_each_micro_batch():
    """SequenceNet cut a dict batch into micro-batches of ``x`` and ``lengths`` only:
    a module's other inputs were dropped (TypeError: missing 'offset'; a dict without
    ``lengths`` raised KeyError)."""
    rng = np.random.default_rng(0)
    X = {"x": rng.normal(size=(N, 5, 2)).astype(np.float32),
         "lengths": rng.integers(1, 6, size=N),
         "offset": rng.normal(size=(N, 1)).astype(np.float32)}
    y = rng.normal(size=(N, 1)).astype(np.float32)

    _assert_net_accumulates(_DictInputModule, X, y)


def _assert_net_accumulates(module, X, y, criterion=torch.nn.MSELoss, **params):
    """A SequenceNet's fit in micro-batches of B equals its fit in batches of 3 * B."""
    def fit(micro_batch_size):
        torch.manual_seed(0)
        net = SequenceNet(module, criterion=criterion, batch_size=B * 3,
                          micro_batch_size=micro_batch_size, max_epochs=2, lr=0.01,
                          train_split=None, verbose=0, device="cpu",
                          callbacks=[("sizes", ForwardSizes())], **params)
        return net.fit(X, y)

    whole, micro = fit(None), fit(B)
    assert max(dict(micro.callbacks_)["sizes"].sizes) == B
    assert_allclose(micro.predict(X), whole.predict(X), rtol=1e-5, atol=1e-6)
    assert_allclose(micro.history[:, "train_loss"], whole.history[:, "train_loss"], rtol=1e-5)


def test_a_summed_loss_is_accumulated_unweighted():
    """Each micro-batch's loss was weighted by its share of the effective batch, right for
    a mean but not for ``reduction="sum"``: k micro-batches stepped about 1/k as far as
    the large batch (predictions 0.33 apart, train loss 4.4 against 12.2)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 5, 2)).astype(np.float32)
    _assert_net_accumulates(LSTMNetwork, X, X[:, -1, :1], criterion__reduction="sum",
                            module__n_inputs=2, module__n_outputs=1, module__hidden_size=4)


def _classes(first=None):
    """A sequence problem of 3 unequal classes; ``first``: the class of the first B
    samples (a whole micro-batch of the first effective batch)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(N, 5, 2)).astype(np.float32)
    y = (X[:, -1, 0] > 0).astype(np.int64) + (X[:, -1, 1] > 0.5)
    if first is not None:
        y[:B] = first
    return X, y, dict(module__n_inputs=2, module__n_outputs=3, module__hidden_size=4)


@pytest.mark.parametrize(("criterion", "options"), [
    (torch.nn.CrossEntropyLoss, {"weight": torch.tensor([1.0, 3.0, 10.0])}),
    (torch.nn.CrossEntropyLoss, {"ignore_index": 2}),
    (torch.nn.CrossEntropyLoss, {"weight": torch.tensor([1.0, 3.0, 10.0]),
                                 "ignore_index": 0, "label_smoothing": 0.1}),
    (torch.nn.NLLLoss, {"weight": torch.tensor([1.0, 3.0, 10.0])}),
], ids=["weight", "ignore_index", "weight-ignore-smoothing", "nll-weight"])
def test_torchs_mean_over_the_summed_weights_is_accumulated_exactly(criterion, options):
    """torch's ``CrossEntropyLoss`` and ``NLLLoss`` with ``weight`` or ``ignore_index``
    divide by the summed weights of the targets they keep, not by the samples: each
    micro-batch weighted by its share of the samples gave another gradient than the
    large batch (predictions 4.5e-2 apart with these weights, 5.7e-3 ignoring class 2)."""
    X, y, module = _classes()
    _assert_net_accumulates(LSTMNetwork, X, y, criterion=criterion, **module,
                            **{f"criterion__{k}": v for k, v in options.items()})


@pytest.mark.parametrize("options", [
    {"ignore_index": 2}, {"weight": torch.tensor([1.0, 3.0, 0.0])}],
    ids=["all-ignored", "all-weighted-0"])
def test_a_micro_batch_without_weight_adds_nothing(options):
    """A micro-batch whose targets are all ignored (or of classes weighted 0) has a
    mean of 0/0: torch's loss for it is NaN (and its gradient, with a weight of 0),
    which made the effective batch's loss and update NaN; the large batch's are not."""
    X, y, module = _classes(first=2)
    _assert_net_accumulates(LSTMNetwork, X, y, criterion=torch.nn.CrossEntropyLoss,
                            **module, **{f"criterion__{k}": v for k, v in options.items()})
