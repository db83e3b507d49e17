"""
Quickstart: select batch size, accumulation and sequence length by cross-validation
===================================================================================

The main sklstm example, and the one the README runs. It generates a sequence
classification problem (no download), puts a :class:`~sklstm.preprocessing.SequenceScaler`
and an :class:`~sklstm.LSTMClassifier` in a scikit-learn ``Pipeline`` and lets
``GridSearchCV`` choose ``batch_size``, ``accumulation_steps`` and ``seq_len``,
reporting score and fit time for every combination and the optimizer steps of the best.

Run it with ``python examples/plot_quickstart.py`` (about 25 seconds on two CPU
cores while nothing else runs). Pass ``--full`` for three times the data, a larger
network and more epochs (the same grid).
"""

# %%
# Data: 400 multivariate sequences of 40 timesteps, two classes that differ by
# temporal pattern.
import sys

import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler

full = "--full" in sys.argv
X, y = make_sequence_classification(
    n_samples=1200 if full else 400, n_timesteps=40, n_features=3, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
print(f"train {X_train.shape}, test {X_test.shape}")

# %%
# The pipeline and the grid: three ordinary hyperparameters. ``lr_scaling="sqrt"``
# scales Adam's learning rate with the effective batch (``batch_size *
# accumulation_steps``), so larger batches are not handicapped by taking fewer
# steps with the same learning rate. Every combination trains for the same fixed
# budget of epochs (``tol=None``: no stopping rule, so no fit claims to have
# converged or warns that it did not), which keeps this example quick. To judge
# batch sizes, compare trained models instead (the default convergence rule):
# :ref:`choosing_batch_size`.
pipe = Pipeline([
    ("scale", SequenceScaler()),
    ("lstm", LSTMClassifier(hidden_size=32 if full else 16, max_epochs=30 if full else 10,
                            tol=None, lr=5e-3, lr_scaling="sqrt", base_batch_size=32,
                            random_state=0)),
])
grid = {
    "lstm__batch_size": [16, 64],
    "lstm__accumulation_steps": [1, 4],
    "lstm__seq_len": [10, 40],
}
search = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X_train, y_train)

# %%
# Results: mean CV accuracy and fit time for each combination.
results = pd.DataFrame(search.cv_results_)
columns = ["param_lstm__batch_size", "param_lstm__accumulation_steps",
           "param_lstm__seq_len", "mean_test_score", "std_test_score", "mean_fit_time"]
table = results[columns].sort_values("mean_test_score", ascending=False)
print(table.to_string(index=False, float_format="%.3f"))

# %%
# The best pipeline, refitted on all training data, on held-out data.
best = search.best_estimator_.named_steps["lstm"]
print(f"best params: {search.best_params_}")
print(f"effective batch {best.effective_batch_size_}, {best.n_updates_} optimizer steps, "
      f"lr used {best.lr_:.4g}, fit {best.fit_time_:.1f} s")
print(f"held-out accuracy: {search.score(X_test, y_test):.3f}")
