"""
Successive halving: spend epochs (or samples) on the promising candidates only
==============================================================================

``HalvingGridSearchCV`` and ``HalvingRandomSearchCV`` evaluate every candidate with a
small *resource*, keep the best ``1 / factor`` of them, and give the survivors ``factor``
times more. With sklstm the natural resource is the number of epochs: it is an estimator
parameter, so inside a Pipeline it is named ``resource="lstm__max_epochs"``. The number of
training samples (``resource="n_samples"``) works too.

Both searches run with ``n_jobs=2``. joblib's default (loky) workers are separate processes
started with ``OMP_NUM_THREADS = cpu_count // n_jobs``, and torch reads that variable at
start-up, so two workers on two cores use one torch thread each instead of fighting over
the cores; the estimator's ``n_threads`` parameter sets it explicitly when needed (e.g.
with the threading backend, where all fits share one process).

About 45 s on two CPU cores, half of it starting the worker processes.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingGridSearchCV, HalvingRandomSearchCV
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler

X, y = make_sequence_classification(n_samples=300, n_timesteps=40, n_features=3,
                                    noise=0.5, random_state=0)
pipe = Pipeline([
    ("scale", SequenceScaler()),
    # tol=None: each round trains exactly its budget of epochs (no stopping rule, so no
    # fit warns that it did not converge within a budget meant to be small)
    ("lstm", LSTMClassifier(hidden_size=16, tol=None, random_state=0)),
])
grid = {
    "lstm__batch_size": [16, 64],
    "lstm__accumulation_steps": [1, 4],
    "lstm__lr": [1e-3, 1e-2],
}

# %%
# Epochs as the resource: 8 candidates get 2 epochs, the best 4 get 4, the last 2 get 8.
by_epochs = HalvingGridSearchCV(
    pipe, grid, resource="lstm__max_epochs", min_resources=2, max_resources=8, factor=2,
    cv=3, n_jobs=2, random_state=0,
).fit(X, y)
print("epochs per round:    ", by_epochs.n_resources_)
print("candidates per round:", by_epochs.n_candidates_)
print("best:", by_epochs.best_params_, f"CV accuracy {by_epochs.best_score_:.3f}")

# %%
# Training samples as the resource, on randomly drawn candidates (the estimator keeps its
# own ``max_epochs``).
pipe.set_params(lstm__max_epochs=6)
by_samples = HalvingRandomSearchCV(
    pipe, {**grid, "lstm__seq_len": [None, 20]}, n_candidates=8, resource="n_samples",
    min_resources=60, factor=2,
    cv=3, n_jobs=2, random_state=0,
).fit(X, y)
print("samples per round:   ", by_samples.n_resources_)
print("best:", by_samples.best_params_, f"CV accuracy {by_samples.best_score_:.3f}")

# %%
# How the candidates fared round by round: each line is one candidate, ending where it
# was eliminated.
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for ax, search, label in [(axes[0], by_epochs, "max_epochs"),
                          (axes[1], by_samples, "training samples")]:
    results = pd.DataFrame(search.cv_results_)
    results["candidate"] = results["params"].apply(lambda p: tuple(sorted(p.items())))
    for _, rounds in results.groupby("candidate"):
        ax.plot(rounds["n_resources"], rounds["mean_test_score"], marker="o", alpha=0.6)
    ax.set(xscale="log", xlabel=f"resource: {label}", ylabel="mean CV accuracy",
           title=f"{type(search).__name__}")
plt.show()
