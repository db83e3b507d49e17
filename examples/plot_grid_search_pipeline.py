"""
Does a smaller batch hurt accuracy? Batch sizes compared as trained models
==========================================================================

``GridSearchCV`` over ``batch_size`` and ``accumulation_steps`` of an
:class:`~sklstm.LSTMClassifier` inside a ``Pipeline``, with every fit trained to
convergence (the default: the fit stops once the training loss stops improving) and the
learning rate scaled with the effective batch (``lr_scaling="sqrt"``). A search at a
fixed number of epochs would compare how many optimizer steps each batch size got; this
one compares trained models. :func:`sklstm.search.fit_stats_scorers` records what every
fit cost next to its accuracy: training time (``fit_time_``), peak memory
(``peak_memory_``), optimizer steps (``n_updates_``), and here also the epochs it took
(``n_epochs_``).

The figures are the ones discussed in :ref:`choosing_batch_size`. A few minutes on two
CPU cores. Set the environment variable ``SKLSTM_FIGURE_DIR`` to also save the figure
there (the documentation's copy was made that way).
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
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler
from sklstm.search import final_estimator, fit_stats_scorers

X, y = make_sequence_classification(n_samples=800, n_timesteps=60, n_features=3,
                                    noise=0.8, random_state=0)
pipe = Pipeline([
    ("scale", SequenceScaler()),
    # the LSTM alone (no convolutional branch, the classifier's default): its batch
    # normalization would take statistics per micro-batch, and accumulation compares
    # equal updates only without it
    ("lstm", LSTMClassifier(hidden_size=32, lr=0.01, lr_scaling="sqrt", base_batch_size=16,
                            conv_channels=None, random_state=0, n_threads=1)),
])
# (one untimed epoch on a copy: at the defaults it trained 200 epochs on 32 sequences and
# warned that they did not converge, before the search began)
clone(pipe).set_params(lstm__max_epochs=1, lstm__tol=None).fit(X[:32], y[:32])

# %%
# The grid: micro-batches of 8 to 256 samples, each with and without accumulation over 4
# micro-batches (the same update as a 4x larger batch, with the memory of the small one).
# Every candidate trains until its training loss has not improved by ``tol`` for
# ``n_iter_no_change`` epochs (at most ``max_epochs=200``).
grid = {"lstm__batch_size": [8, 32, 128, 256], "lstm__accumulation_steps": [1, 4]}
scoring = {**fit_stats_scorers("accuracy"),
           "n_epochs": lambda est, X, y: final_estimator(est).n_epochs_}
search = GridSearchCV(pipe, grid, cv=2, scoring=scoring, refit="score")
search.fit(X, y)

# %%
# ``cv_results_`` holds the mean of every recorded cost over the folds.
results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame({
    "batch_size": results["param_lstm__batch_size"],
    "accumulation": results["param_lstm__accumulation_steps"],
    "accuracy": results["mean_test_score"],
    "epochs": results["mean_test_n_epochs"],
    "updates": results["mean_test_n_updates"].round().astype(int),
    "fit_time_s": results["mean_test_fit_time"],
    "peak_MiB": results["mean_test_peak_memory"] / 2**20,
})
table["effective"] = table["batch_size"] * table["accumulation"]
print(table.sort_values(["effective", "batch_size"]).to_string(index=False,
                                                               float_format="%.3f"))

# %%
# Accuracy, epochs to converge and fit time against the *effective* batch (``batch_size *
# accumulation_steps``, which decides the update), peak memory against the *micro*-batch
# (``batch_size``, what is in memory at once); one line per accumulation setting.
fig, axes = plt.subplots(1, 4, figsize=(15, 3.6), layout="constrained")
panels = [("effective", "accuracy", "CV accuracy"),
          ("effective", "epochs", "epochs to converge"),
          ("effective", "fit_time_s", "fit time (s)"),
          ("batch_size", "peak_MiB", "peak memory (MiB)")]
for acc, group in table.groupby("accumulation", sort=False):
    style = dict(marker="o" if acc == 1 else "s", label=f"accumulation_steps={acc}")
    for ax, (x, column, _) in zip(axes, panels, strict=True):
        group = group.sort_values(x)
        ax.plot(group[x], group[column], **style)
for ax, (x, _, title) in zip(axes, panels, strict=True):
    ticks = sorted(table[x].unique())
    ax.set(xscale="log", title=title,
           xlabel="effective batch size" if x == "effective" else "batch_size (micro-batch)")
    ax.set_xticks(ticks, labels=ticks, rotation=45)
    ax.minorticks_off()
axes[0].set_ylim(0.9, 1.0)  # the whole range a user would care about, not the noise
axes[0].legend(fontsize="small")
if os.environ.get("SKLSTM_FIGURE_DIR"):
    fig.savefig(os.path.join(os.environ["SKLSTM_FIGURE_DIR"], "batch_size_tradeoffs.png"),
                dpi=110)
plt.show()

# %%
# Reading the figure: trained to convergence, every batch size ends within about a point
# of the others, so a smaller batch does not in itself hurt accuracy; what differs is the
# cost. Larger effective batches take more epochs but far fewer optimizer steps in all;
# peak memory follows the *micro*-batch, not the effective batch, which is what
# accumulation is for: the same effective batch with accumulation trains on the same
# updates (to float rounding, which long trainings amplify, so the convergence rule may
# stop a few epochs apart) with the memory of the small micro-batch, at the price of more
# time per epoch on a CPU.
same = table[table["effective"].isin(table.loc[table["accumulation"] == 4, "effective"])]
print(same.sort_values(["effective", "accumulation"]).to_string(index=False,
                                                                float_format="%.3f"))
