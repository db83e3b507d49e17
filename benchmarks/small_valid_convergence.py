"""How often ``early_stopping=True`` calls a small fit that clearly learned not converged
(the luck margin ``LUCK_Z`` of ``sklstm/training/chance_level.py``), and how often a fit
on pure noise is called converged.

Run: ``OMP_NUM_THREADS=1 python benchmarks/small_valid_convergence.py [SEEDS]``.
Each fit: ``LSTMClassifier(early_stopping=True, device="cpu", hidden_size=16)``, else
defaults, on ``n`` sequences (6 steps, 2 features) whose class is ``x[-1, 0] > t``
(``t`` gives a 50/50 or 80/20 split) or pure noise (80/20). "Learned": training and
held-out (2,000 fresh samples) balanced accuracy both at least 0.7 (noise: about 0.5).
Prints one line per fit (with the best validation loss's share of its chance level and
the share it had to fall below) and the counts.
"""

import argparse
import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from sklstm import LSTMClassifier


def data(n, task, rng):
    X = rng.normal(size=(n, 6, 2)).astype(np.float32)
    t = 0.0 if task == "50/50" else 0.84  # P(z > 0.84) = 0.2
    y = (X[:, -1, 0] > t).astype(int)
    if task == "noise":
        y = (rng.random(n) < 0.2).astype(int)
    return X, y


def main(seeds=5):
    counts = {}
    for task in ("50/50", "80/20", "noise"):
        for n in (40, 80, 120, 200):
            for seed in range(seeds):
                rng = np.random.default_rng(seed)
                (X, y), (Xt, yt) = data(n, task, rng), data(2000, task, rng)
                est = LSTMClassifier(early_stopping=True, device="cpu", hidden_size=16,
                                     random_state=seed)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    est.fit(X, y)
                train = balanced_accuracy_score(y, est.predict(X))
                test = balanced_accuracy_score(yt, est.predict(Xt))
                learned = train >= 0.7 and test >= 0.7
                said = [str(w.message)[:60] for w in caught if "did not" in str(w.message)]
                stopper = dict(est.net_.callbacks_)["convergence"]
                chance, n_valid = stopper.valid_chance_
                best = min(est.net_.history[:, "valid_loss"])
                ratio = best / chance if chance else float("inf")
                key = (task, learned, est.converged_)
                counts[key] = counts.get(key, 0) + 1
                print(f"{task} n={n} seed={seed} learned={learned} converged_="
                      f"{est.converged_} train={train:.2f} test={test:.2f} "
                      f"epochs={len(est.net_.history)} n_valid={n_valid} best/chance={ratio:.3f} "
                      f"needed={stopper.chance_level('valid_loss')[1]:.3f} {said}", flush=True)
    for (task, learned, converged), count in sorted(counts.items()):
        print(f"{task}: learned={learned} converged_={converged}: {count}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", type=int, nargs="?", default=5,
                        help="seeds 0 to SEEDS - 1 for every task and size (default 5)")
    main(parser.parse_args().seeds)
