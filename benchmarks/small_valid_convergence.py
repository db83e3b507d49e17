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

``--quoted`` runs instead the cases ``docs/user_guide.rst`` quotes (a few minutes):
24 ``LSTMRegressor`` fits on normal noise targets, 230 sequences (23 held out), and 4
classifier fits with a rare class of 10 % (``t`` = 1.28), 380 sequences (38 held out,
about 4 of the rare class). A regressor "learned" at training and held-out R^2 both
at least 0.5.
"""

import argparse
import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score, r2_score

from sklstm import LSTMClassifier, LSTMRegressor

#: The class threshold on ``x[-1, 0]`` of each classification task: P(z > 0.84) = 0.2,
#: P(z > 1.28) = 0.1.
THRESHOLD = {"50/50": 0.0, "80/20": 0.84, "10%": 1.28}
#: Each task's (sizes, seeds); ``None`` seeds: the command line's.
GRID = {"50/50": ((40, 80, 120, 200), None), "80/20": ((40, 80, 120, 200), None),
        "noise": ((40, 80, 120, 200), None)}
QUOTED = {"noise (regression)": ((230,), 24), "10%": ((380,), 4)}


def data(n, task, rng):
    X = rng.normal(size=(n, 6, 2)).astype(np.float32)
    if task == "noise (regression)":
        return X, rng.normal(size=n).astype(np.float32)
    y = (X[:, -1, 0] > THRESHOLD.get(task, 0.84)).astype(int)
    if task == "noise":
        y = (rng.random(n) < 0.2).astype(int)
    return X, y


def main(seeds=5, quoted=False):
    counts = {}
    for task, (sizes, task_seeds) in (QUOTED if quoted else GRID).items():
        regression = task == "noise (regression)"
        # a regressor learned where its R^2 would be, a classifier its balanced accuracy
        score, bar = (r2_score, 0.5) if regression else (balanced_accuracy_score, 0.7)
        for n in sizes:
            for seed in range(task_seeds or seeds):
                rng = np.random.default_rng(seed)
                (X, y), (Xt, yt) = data(n, task, rng), data(2000, task, rng)
                est = (LSTMRegressor if regression else LSTMClassifier)(
                    early_stopping=True, device="cpu", hidden_size=16, random_state=seed)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    est.fit(X, y)
                train = score(y, est.predict(X))
                test = score(yt, est.predict(Xt))
                learned = train >= bar and test >= bar
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
    parser.add_argument("--quoted", action="store_true",
                        help="run the cases docs/user_guide.rst quotes instead")
    args = parser.parse_args()
    main(args.seeds, args.quoted)
