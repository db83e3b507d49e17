"""
Variable-length sequences: ragged input, scaling and length bucketing
=====================================================================

Recordings rarely have one length. sklstm takes them as they are: a list of
per-sample ``(n_timesteps_i, n_features)`` arrays. This example

* scales ragged sensor recordings with :class:`~sklstm.preprocessing.SequenceScaler`
  inside a scikit-learn ``Pipeline`` (the data stay ragged);
* shows what length bucketing does to the batches and what it saves in
  training time;
* checks that padding never changes a prediction.

Runs in well under a minute on two CPU cores.
"""

# %%
# Data: 600 recordings of 3 sensors, 20 to 300 timesteps long, whose class is
# encoded in their temporal pattern. The sensors report in very different units,
# as real ones do.
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier
from sklstm.data import BatchLoader, SequenceDataset
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequencePadder, SequenceScaler

X, y = make_sequence_classification(
    n_samples=600, n_timesteps=300, n_features=3, variable_length=True,
    length_range=(20, 300), random_state=0,
)
units, offsets = np.array([1.0, 20.0, 500.0]), np.array([0.0, 100.0, -2000.0])
X = [x * units + offsets for x in X]
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
lengths = np.array([len(x) for x in X_train])
print(f"{len(X_train)} training recordings, {lengths.min()}..{lengths.max()} timesteps")

fig, (ax_hist, ax_seq) = plt.subplots(1, 2, figsize=(9, 3.2))
ax_hist.hist(lengths, bins=20, color="tab:gray")
ax_hist.set(xlabel="timesteps", ylabel="recordings", title="Lengths")
for i in range(3):
    ax_seq.plot(X_train[i][:, 1], label=f"recording {i} (class {y_train[i]})")
ax_seq.set(xlabel="timestep", ylabel="sensor 1", title="Sensor 1, raw units")
ax_seq.legend(fontsize="small")
plt.tight_layout()

# %%
# Scaling: ``SequenceScaler`` pools every timestep of every recording per
# sensor, so each sensor gets one mean and one scale, and it returns a ragged
# list for a ragged list. In a ``Pipeline`` it is fitted on the training folds
# only, like any scikit-learn transformer.
scaler = SequenceScaler().fit(X_train)
print("per-sensor mean:", scaler.mean_.round(1), "scale:", scaler.scale_.round(1))
X_scaled = scaler.transform(X_train)
print(type(X_scaled).__name__, "of", len(X_scaled), "arrays; first has shape",
      X_scaled[0].shape)

# %%
# Bucketing: what goes into a batch. Every batch is padded to its longest
# recording. Random batches of 32 almost always contain a long recording, so
# most short ones are padded far beyond their end. With bucketing (on by
# default for ragged data) each batch gathers recordings of similar length; the
# batches still come in a new random order every epoch. ``BatchLoader`` is what
# the estimators iterate over; here it is used directly to look at one epoch.
# In the plots each dot is a recording and each red line the length its batch
# is padded to.
padded = SequencePadder().fit_transform(X_scaled).astype(np.float32)
dataset = SequenceDataset(torch.from_numpy(padded), torch.from_numpy(y_train),
                          lengths=torch.from_numpy(lengths))


def batch_lengths(bucketing):
    loader = BatchLoader(dataset, 32, shuffle=True, bucketing=bucketing, seed=0)
    # (a batch of padded sequences: {"x": tensor, "lengths": numpy array})
    return [(int(Xb["lengths"].max()), Xb["lengths"]) for Xb, _ in loader]


fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
for ax, bucketing in zip(axes, (False, True), strict=True):
    batches = batch_lengths(bucketing)
    padded = sum(longest * len(lens) for longest, lens in batches)
    real = sum(lens.sum() for _, lens in batches)
    for b, (longest, lens) in enumerate(batches):
        ax.scatter(np.full(len(lens), b), lens, s=3, color="tab:blue")
        ax.plot([b - 0.4, b + 0.4], [longest, longest], color="tab:red")
    ax.set(xlabel="batch (one epoch)",
           title=f"bucketing={bucketing}: {1 - real / padded:.0%} padding")
axes[0].set_ylabel("timesteps")
plt.tight_layout()

# %%
# Training with and without bucketing. The model, seed and epochs are the
# same; only the composition of the batches differs, so the accuracy should be
# the same within noise while bucketing computes far fewer padded timesteps.
# ``gradient_clip`` keeps training on long sequences steady. The time shown is
# the median epoch time from the training history, which leaves out one-time
# start-up costs of the first fit in a process.
rows = []
for bucketing in (True, False):
    pipe = make_pipeline(
        SequenceScaler(),
        LSTMClassifier(hidden_size=16, max_epochs=8, tol=None,  # 8 epochs, both alike
                       lr=0.01, gradient_clip=1.0,
                       conv_channels=None,  # the LSTM alone: bucketing is about it
                       bucketing=bucketing, n_threads=1, random_state=0),
    )
    pipe.fit(X_train, y_train)
    epoch_time = np.median(pipe[-1].history_[:, "dur"])
    rows.append({"bucketing": bucketing, "epoch time (s)": epoch_time,
                 "test accuracy": pipe.score(X_test, y_test)})
    if bucketing:
        model = pipe
print(pd.DataFrame(rows).to_string(index=False, float_format="%.2f"))

# %%
# Padding never changes a result: each recording is read up to its own last
# timestep, whatever it is batched with. Predicting every test recording on its
# own, without any padding, gives the same probabilities as predicting them
# together.
together = model.predict_proba(X_test)
alone = np.vstack([model.predict_proba([x]) for x in X_test])
print(f"largest difference, alone vs together: {np.abs(alone - together).max():.1e}")
plt.show()
