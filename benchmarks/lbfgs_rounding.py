"""LBFGS with gradient accumulation: does the closure compute another gradient, or is it
rounding that LBFGS amplifies? CPU experiments on the problem of
``tests/training/test_accumulation.py::test_optimizers_that_need_a_closure_train_with_accumulation``
(micro-batches of 4 accumulated 3 times against batches of 12, LBFGS lr=0.5, max_iter=3,
3 epochs), which an H200 ran 0.005-0.009 apart (2026-12-04):

* ``float32``: the two fits as the test runs them on the CPU, after 3 epochs and after 1;
* ``float64``: the network and its data in float64: if the closure computed another
  gradient the fits would still differ, if it is rounding they agree to ~1e-13;
* ``noise``: relative Gaussian noise of size eps on every gradient element of the
  accumulated fit (what another kernel's rounding does to it): how far apart the fits
  end for each eps, i.e. LBFGS's amplification.

Run from the checkout's root (about a minute on one core)::

    python benchmarks/lbfgs_rounding.py float32 float64 noise
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.network import lstm as lstm_module
from sklstm.training.net import SequenceNet

N, B = 53, 4
_rng = np.random.default_rng(1)
X = _rng.normal(size=(N, 6, 2)).astype(np.float32)
PROBLEMS = {
    "classifier": (LSTMClassifier, (X[:, -1, 0] > 0).astype(int) + (X[:, -1, 1] > 0.5),
                   "predict_proba"),
    "regressor": (LSTMRegressor, np.c_[X[:, -2:, 0].sum(1), X[:, -1, 1]], "predict"),
}
# the test's settings, its defaults that have since changed included: the LSTM alone (no
# convolutional branch's batch norm), no autoregressive highway and no level split, on
# whose linear paths LBFGS at lr=0.5 overshoots and the fits diverge (0.72 apart)
BASE = dict(hidden_size=6, max_epochs=3, tol=None, optimizer=torch.optim.LBFGS, lr=0.5,
            optimizer_params={"max_iter": 3}, dropout=0.0, pooling="last", downsample=1,
            conv_channels=None, ar_window=None, split_level=False,
            random_state=0, device="cpu", n_threads=1)
NOISE = {"eps": 0.0, "generator": None}
_notify = SequenceNet._notify_grad_computed


def _noisy_notify(self, batch):
    """The gradient, once computed in the closure, times (1 + eps * N(0, 1))."""
    if NOISE["eps"]:
        for p in self.module_.parameters():
            if p.grad is not None:
                noise = torch.randn(p.grad.shape, generator=NOISE["generator"],
                                    dtype=p.grad.dtype)
                p.grad.mul_(1 + NOISE["eps"] * noise)
    return _notify(self, batch)


def distance(name, eps=0.0, **params):
    """Largest difference of the outputs of the accumulated and the large-batch fit."""
    Estimator, y, method = PROBLEMS[name]
    NOISE["eps"] = 0.0
    big = Estimator(**{**BASE, **params}, batch_size=3 * B).fit(X, y)
    NOISE["eps"], NOISE["generator"] = eps, torch.Generator().manual_seed(1)
    try:
        acc = Estimator(**{**BASE, **params}, batch_size=B, accumulation_steps=3).fit(X, y)
    finally:
        NOISE["eps"] = 0.0
    return float(np.abs(getattr(acc, method)(X) - getattr(big, method)(X)).max())


def in_float64():
    """Build the network in float64 and feed it float64 input from here on."""
    torch.set_default_dtype(torch.float64)
    forward = lstm_module.LSTMNetwork.forward

    def forward64(self, x, lengths=None):
        return forward(self, x.double() if x.is_floating_point() else x, lengths)

    lstm_module.LSTMNetwork.forward = forward64


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modes", nargs="+", choices=["float32", "float64", "noise"])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    SequenceNet._notify_grad_computed = _noisy_notify
    for mode in sorted(args.modes, key=["float32", "noise", "float64"].index):
        if mode == "float32":
            for name in PROBLEMS:
                print(f"float32 {name}: 3 epochs {distance(name):.2e}, "
                      f"1 epoch {distance(name, max_epochs=1):.2e}")
        elif mode == "noise":
            for eps in [1e-7, 1e-6, 4e-6, 1e-5, 1e-4, 5e-4]:
                print(f"noise {eps:g}: " + ", ".join(
                    f"{name} {distance(name, eps):.2e}" for name in PROBLEMS))
        else:  # last: it changes torch's default dtype for the process
            in_float64()
            for name in PROBLEMS:
                print(f"float64 {name}: 3 epochs {distance(name):.2e}")


if __name__ == "__main__":
    main()
