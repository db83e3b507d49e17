"""What features far from unit scale cost a default fit (the ``UnscaledInputWarning`` of
``sklstm/estimators/_data_checks.py``, quoted in ``docs/user_guide.rst``).

``make_sequence_classification(n_samples=300, n_timesteps=30, n_features=3, noise=2.0)``
(noisy enough that one feature alone does not tell the classes apart) with its three
features multiplied by 1e4, 1 and 1e-3; 200 sequences trained on, 100 held out.
Fits the default ``LSTMClassifier`` on them as they are and after ``SequenceScaler``
(a pipeline), for seeds 0-2 (data and network), and prints the held-out balanced
accuracy, the training accuracy and ``converged_``.

Run from the repository root (about 5 minutes)::

    OMP_NUM_THREADS=1 python benchmarks/bench_unscaled_features.py
"""

import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.preprocessing import SequenceScaler

SCALES = np.array([1e4, 1.0, 1e-3], dtype=np.float32)

scores = {"unscaled": [], "SequenceScaler": []}
for seed in range(3):
    X, y = make_sequence_classification(n_samples=300, n_timesteps=30, n_features=3,
                                        noise=2.0, random_state=seed)
    X = X * SCALES
    for label in scores:
        clf = LSTMClassifier(random_state=seed, device="cpu", n_threads=1)
        model = clf if label == "unscaled" else make_pipeline(SequenceScaler(), clf)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the warning this measures)
            model.fit(X[:200], y[:200])
        held_out = balanced_accuracy_score(y[200:], model.predict(X[200:]))
        scores[label].append(held_out)
        print(f"seed {seed} {label:<14} held-out balanced accuracy {held_out:.3f}, training "
              f"accuracy {model.score(X[:200], y[:200]):.3f}, converged_={clf.converged_}",
              flush=True)
for label, values in scores.items():
    print(f"{label:<14} held-out balanced accuracy {min(values):.2f}-{max(values):.2f}")
