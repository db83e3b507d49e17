"""Where a stop of the convergence rule with a coarse ``tol`` leaves a fit
(``COARSE_TOL`` of ``sklstm/training/convergence_report.py``).

The data of ``tests/training/test_convergence_report.py``: 60 sequences of 6 steps and
2 normal features, the target ``x[-1, 0] * x[-2, 1]`` scaled so that the default
``tol=1e-4`` is 1.15, 0.3, 0.1, 0.057 and 0.03 of its variance (the chance level of
the training loss). Fits ``LSTMRegressor(scale_target=False, lr_schedule="constant")``
(hidden 8, batch 16, max_epochs 100) on each, and once standardized; then a classifier
of ``x[-1, 0] > 0`` at ``tol=0.05`` (0.072 of ln 2). Prints the epochs, ``converged_``
and the training R^2 / accuracy.

Run from the repository root (about a minute)::

    OMP_NUM_THREADS=1 python benchmarks/bench_coarse_tol.py
"""

import warnings

import numpy as np

from sklstm import LSTMClassifier, LSTMRegressor

X = np.random.default_rng(0).normal(size=(60, 6, 2)).astype(np.float32)
BASE = X[:, -1, 0] * X[:, -2, 1]
PARAMS = dict(hidden_size=8, batch_size=16, max_epochs=100, lr_schedule="constant",
              random_state=0, n_threads=1, device="cpu")
TOL = 1e-4  # LSTMRegressor's default


def fitted(est, y):
    """``est`` fitted on ``(X, y)`` with its ConvergenceWarning kept quiet (it is read
    from ``converged_``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


for share in (1.15, 0.3, 0.1, 0.057, 0.03):
    y = np.sqrt(TOL / (share * BASE.var())) * BASE
    est = fitted(LSTMRegressor(**PARAMS, scale_target=False), y)
    print(f"tol {share:>5} of the variance: {est.n_epochs_:>3} epochs, converged_="
          f"{est.converged_!s:<5} training R^2 {est.score(X, y):.3f}")
est = fitted(LSTMRegressor(**PARAMS), BASE)
print(f"standardized:               {est.n_epochs_:>3} epochs, converged_="
      f"{est.converged_!s:<5} training R^2 {est.score(X, BASE):.3f}")
y = (X[:, -1, 0] > 0).astype(int)
est = fitted(LSTMClassifier(**PARAMS, tol=0.05), y)
print(f"classifier, tol=0.05:       {est.n_epochs_:>3} epochs, converged_="
      f"{est.converged_!s:<5} training accuracy {est.score(X, y):.3f}")
