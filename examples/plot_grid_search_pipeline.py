"""
Grid search in a Pipeline: score, fit time and peak memory against batch size
=============================================================================

``GridSearchCV`` over ``batch_size``, ``accumulation_steps`` and ``seq_len`` of an
:class:`~sklstm.LSTMClassifier` inside a ``Pipeline``, with
:func:`sklstm.search.fit_stats_scorers` so that ``cv_results_`` records, next to the
accuracy, what every fit cost: the estimator's own training time (``fit_time_``), its peak
memory (``peak_memory_``) and its number of optimizer steps (``n_updates_``).

The figures are the ones discussed in :ref:`choosing_batch_size`. About 45 s on two CPU
cores. Set the environment variable ``SKLSTM_FIGURE_DIR`` to also save the figure there
(the documentation's copy was made that way).
"""

# %%
# Data and pipeline. Two measurement details:
#
# * a first small fit runs before the search: the first optimizer a process builds imports
#   part of torch (seconds), which would otherwise be counted in the first candidate's time;
# * on CPU, ``peak_memory_`` is the growth of the process's resident memory during a fit.
#   :class:`sklstm.resources.PeakMemory` first returns memory freed by earlier fits to the
#   system (glibc's ``malloc_trim``), so every candidate is measured from the same baseline.
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler
from sklstm.search import fit_stats_scorers

X, y = make_sequence_classification(n_samples=1024, n_timesteps=100, n_features=3,
                                    noise=0.5, random_state=0)
pipe = Pipeline([
    ("scale", SequenceScaler()),
    ("lstm", LSTMClassifier(hidden_size=64, max_epochs=4, lr=3e-3, lr_scaling="sqrt",
                            random_state=0, n_threads=1)),
])
pipe.fit(X[:32], y[:32])

# %%
# The grid: batch sizes on powers of two; accumulation over 4 micro-batches (same
# effective batch as a 4x larger batch, with the memory of the small one); and the last
# 25 timesteps only (``seq_len=25``) against whole sequences of 100.
grid = {
    "lstm__batch_size": [16, 64, 256],
    "lstm__accumulation_steps": [1, 4],
    "lstm__seq_len": [None, 25],
}
search = GridSearchCV(pipe, grid, cv=2, scoring=fit_stats_scorers("accuracy"), refit="score")
search.fit(X, y)

# %%
# ``cv_results_`` now holds ``mean_test_fit_time`` (seconds), ``mean_test_peak_memory``
# (bytes) and ``mean_test_n_updates`` for every candidate.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame({
    "batch_size": results["param_lstm__batch_size"],
    "accumulation": results["param_lstm__accumulation_steps"],
    "seq_len": results["param_lstm__seq_len"].fillna("all"),
    "accuracy": results["mean_test_score"],
    "fit_time_s": results["mean_test_fit_time"],
    "peak_MiB": results["mean_test_peak_memory"] / 2**20,
    "n_updates": results["mean_test_n_updates"].astype(int),
})
print(table.sort_values("accuracy", ascending=False).to_string(index=False,
                                                               float_format="%.3f"))
print("best:", search.best_params_)

# %%
# Score and fit time against the *effective* batch size (``batch_size *
# accumulation_steps``, which sets the number of optimizer steps), peak memory against the
# *micro*-batch (``batch_size``, what is in memory at once); one line per accumulation and
# sequence length.
table["effective"] = table["batch_size"] * table["accumulation"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
panels = [("effective", "accuracy", "CV accuracy"), ("effective", "fit_time_s", "fit time (s)"),
          ("batch_size", "peak_MiB", "peak memory (MiB)")]
for (acc, seq_len), group in table.groupby(["accumulation", "seq_len"], sort=False):
    style = dict(marker="o" if acc == 1 else "s", linestyle="-" if seq_len == "all" else "--",
                 label=f"accumulation={acc}, seq_len={seq_len}")
    for ax, (x, column, _) in zip(axes, panels, strict=True):
        group = group.sort_values(x)
        ax.plot(group[x], group[column], **style)
for ax, (x, _, title) in zip(axes, panels, strict=True):
    ticks = sorted(table[x].unique())
    ax.set(xscale="log", title=title,
           xlabel="effective batch size" if x == "effective" else "batch_size (micro-batch)")
    ax.set_xticks(ticks, labels=ticks)
    ax.minorticks_off()
axes[0].legend(fontsize="small")
if os.environ.get("SKLSTM_FIGURE_DIR"):
    fig.savefig(os.path.join(os.environ["SKLSTM_FIGURE_DIR"], "batch_size_tradeoffs.png"),
                dpi=110)
plt.show()

# %%
# Reading the figure: larger effective batches take fewer optimizer steps, so each epoch
# is faster but learns less per epoch; peak memory follows the *micro*-batch
# (``batch_size``), not the effective batch, which is what accumulation is for; cutting
# sequences to their last 25 steps cuts time and memory roughly in proportion, at some cost
# in accuracy when the signal spans the whole sequence.
np.testing.assert_array_equal(
    table["n_updates"],
    4 * np.ceil(len(X) / 2 / table["effective"]).astype(int),  # 4 epochs on 512 samples
)
