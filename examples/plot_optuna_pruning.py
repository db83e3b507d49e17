"""
Optuna with pruning: stop bad trials in their first fold
========================================================

:func:`sklstm.search.tune` samples batch size, accumulation, learning rate and network
size with Optuna, cross-validates every trial, and reports the validation accuracy after
each epoch of each fold (step ``fold * max_epochs + epoch``). A pruner compares it with the
other trials at the same step and stops trials that fall behind, usually in their first
fold, so their remaining folds never run.

The study lives in a journal file: running the search again with a larger ``n_trials``
resumes it, keeping every finished trial. That is also what the ``sklstm tune`` command
does, and how several machines share one study (:ref:`hyperparameter_search`).

About 50 s on two CPU cores; the journal file is written to a temporary directory.
"""

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import optuna
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler
from sklstm.search import default_space, results_table, summary, tune

optuna.logging.set_verbosity(optuna.logging.WARNING)
X, y = make_sequence_classification(n_samples=300, n_timesteps=30, n_features=3,
                                    n_classes=3, noise=0.5, random_state=0)
pipe = Pipeline([
    ("scale", SequenceScaler()),
    # a fixed budget of 8 epochs per trial, cut short by the pruner (tol=None: no
    # stopping rule, no warning that a fit did not converge within it)
    ("lstm", LSTMClassifier(max_epochs=8, tol=None, random_state=0, n_threads=1)),
])

# %%
# The documented default space with smaller networks and batches for this small dataset.
# Names without the ``lstm__`` prefix reach the Pipeline's last step.
space = default_space(
    batch_size=[8, 16, 32, 64],
    hidden_size=[8, 16, 32],
    num_layers=1,
    dropout=0.0,
    seq_len=[None, 15],
)
# (the fixed budget above has no stopping rule, so the rule's patience does nothing here:
# searched, it would only add a dimension of noise to the sampler and to the table)
del space["n_iter_no_change"]
storage = os.path.join(tempfile.mkdtemp(), "study.journal")
pruner = optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
sampler = optuna.samplers.TPESampler(seed=0)
study = tune(pipe, X, y, n_trials=8, cv=3, space=space, storage=storage,
             study_name="pruning-demo", pruner=pruner, sampler=sampler)
print(summary(study, pipe))

# %%
# Resume: the same call with a larger ``n_trials`` only runs the missing trials.
study = tune(pipe, X, y, n_trials=14, cv=3, space=space, storage=storage,
             study_name="pruning-demo", pruner=pruner, sampler=sampler)
print(results_table(study))
# where each pruned trial stopped (its last reported step), to check "usually in the first fold"
pruned_in = [max(t.intermediate_values) // 8 + 1 for t in study.trials
             if t.state == optuna.trial.TrialState.PRUNED]
print(f"{len(pruned_in)} of {len(study.trials)} trials pruned, in fold "
      f"{', '.join(map(str, pruned_in))} of 3")

# %%
# The reported curves: completed trials run all 3 folds x 8 epochs; pruned ones stop
# where their accuracy fell below the median of earlier trials at the same step.
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
for trial in study.trials:
    steps = sorted(trial.intermediate_values)
    pruned = trial.state == optuna.trial.TrialState.PRUNED
    ax.plot(steps, [trial.intermediate_values[s] for s in steps],
            color="tab:red" if pruned else "tab:blue", alpha=0.7,
            label="pruned" if pruned else "complete")
for fold in (1, 2):
    ax.axvline(fold * 8 - 0.5, color="grey", linestyle=":")
handles, labels = ax.get_legend_handles_labels()
unique = dict(zip(labels, handles, strict=True))  # one legend entry per state
ax.legend(unique.values(), unique.keys())
ax.set(xlabel="step = fold * max_epochs + epoch", ylabel="validation accuracy",
       title="per-epoch reports; dotted lines separate the folds")
plt.show()

# %%
# Each trial also carries its cost, averaged over the folds it finished.
best = study.best_trial
print({k: best.user_attrs[k] for k in ("mean_fit_time", "mean_peak_memory", "mean_n_updates")})
