"""
Multi-objective search: accuracy against fit time (the Pareto front)
====================================================================

With ``multi_objective="fit_time"`` (or ``"peak_memory"``), :func:`sklstm.search.tune`
maximizes the CV score *and* minimizes the mean fit cost of a trial. There is no single
best trial any more: ``study.best_trials`` is the Pareto front, the trials that no other
trial beats on both objectives at once. Pick the cheapest one that is accurate enough.

Optuna cannot prune multi-objective studies (``Trial.report`` is single-objective only),
so per-epoch reporting is off and every trial runs all its folds.

About 30 s on two CPU cores.
"""

# %%
import matplotlib.pyplot as plt
import optuna
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler
from sklstm.search import summary, tune

optuna.logging.set_verbosity(optuna.logging.WARNING)
X, y = make_sequence_classification(n_samples=300, n_timesteps=40, n_features=3,
                                    noise=1.0, random_state=0)
pipe = Pipeline([
    ("scale", SequenceScaler()),
    # a fixed budget of 6 epochs per trial (tol=None: no stopping rule, no warning that
    # a fit did not converge within it)
    ("lstm", LSTMClassifier(max_epochs=6, tol=None, lr=3e-3, lr_scaling="sqrt",
                            random_state=0, n_threads=1)),
])
pipe.fit(X[:32], y[:32])  # first fit of a process imports part of torch: keep it untimed

# %%
space = {
    "batch_size": [8, 16, 32, 64, 128],
    "accumulation_steps": [1, 2, 4],
    "hidden_size": [8, 16, 32, 64],
    "seq_len": [None, 10, 20],
}
study = tune(pipe, X, y, n_trials=20, cv=2, space=space, multi_objective="fit_time",
             storage=optuna.storages.InMemoryStorage(),
             sampler=optuna.samplers.NSGAIISampler(seed=0, population_size=6))
print(summary(study))

# %%
# All trials, with the Pareto front highlighted.
front = {t.number for t in study.best_trials}
fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
for trial in study.trials:
    on_front = trial.number in front
    ax.scatter(trial.values[1], trial.values[0], color="tab:red" if on_front else "tab:grey",
               zorder=3 if on_front else 2)
    ax.annotate(f"bs={trial.params['batch_size']}x{trial.params['accumulation_steps']}, "
                f"h={trial.params['hidden_size']}", (trial.values[1], trial.values[0]),
                fontsize=7, alpha=0.8 if on_front else 0.4)
pareto = sorted(study.best_trials, key=lambda t: t.values[1])
ax.step([t.values[1] for t in pareto], [t.values[0] for t in pareto], where="post",
        color="tab:red", label="Pareto front")
ax.set(xscale="log", xlabel="mean fit time per fold (s)", ylabel="mean CV accuracy")
ax.legend()
plt.show()
