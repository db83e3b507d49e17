"""``batch_size="auto"`` against the default 16 on a small data set (the
``batch_size`` docstring of ``sklstm/estimators/_docs_training.py``).

scikit-learn's ``check_classifiers_train`` data: ``make_blobs(n_samples=300,
random_state=0)`` standardized, three classes, each sample a sequence of 2 steps of
one feature. Fits the default ``LSTMClassifier`` with each batch size and prints
``batch_size_``, the epochs, ``converged_`` and the training accuracy: the largest
batch is the whole set, one optimizer step an epoch.

Run from the repository root (under a minute)::

    OMP_NUM_THREADS=1 python benchmarks/bench_auto_batch_small.py
"""

import warnings

from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMClassifier

X, y = make_blobs(n_samples=300, random_state=0)
X = StandardScaler().fit_transform(X)
for batch_size in ("auto", 16):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the ConvergenceWarning: read from converged_)
        est = LSTMClassifier(batch_size=batch_size, device="cpu", random_state=0).fit(X, y)
    print(f"batch_size={batch_size!r}: batch_size_={est.batch_size_} epochs={est.n_epochs_} "
          f"converged_={est.converged_} training accuracy {est.score(X, y):.2f}")
