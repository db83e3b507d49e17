"""Fixed lr vs lr decay on a plateau vs batch growth on a plateau (BatchSizeSchedule).

Run from the repository root: ``python benchmarks/bench_batch_schedule.py 0 1 2`` (seeds).
The table it prints is in docs/memory_and_throughput.rst; ``--trace`` also prints, for
each fit that grows its batch, the effective batch and the steps of every epoch, and
its best epoch (the trace the page shows for seed 0).
"""
import argparse
import time

from sklearn.model_selection import train_test_split
from skorch.callbacks import LRScheduler

from sklstm import LSTMClassifier
from sklstm.datasets import make_sequence_classification
from sklstm.training import BatchSizeSchedule

X, y = make_sequence_classification(n_samples=1000, n_timesteps=30, noise=1.0,
                                    random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("seeds", type=int, nargs="*", default=[0, 1, 2],
                    help="the estimators' random_state, one fit per seed and variant "
                         "(default 0 1 2)")
parser.add_argument("--trace", action="store_true",
                    help="print the per-epoch batch of the fits that grow it")
args = parser.parse_args()
seeds = args.seeds
variants = {
    "fixed lr": [],
    # torch's patience=2 acts after 3 epochs without improvement, as patience=3 here
    "lr / 2 on plateau": [LRScheduler("ReduceLROnPlateau", monitor="valid_loss",
                                      factor=0.5, patience=2, threshold=0.01)],
    "batch x 2 on plateau": [BatchSizeSchedule("valid_loss", patience=3, threshold=0.01)],
}
print("variant               seed  epochs  best valid loss  test acc  updates  final batch  fit s")
for name, callbacks in variants.items():
    for seed in seeds:
        clf = LSTMClassifier(hidden_size=16, batch_size=16, lr=1e-2, max_epochs=60,
                             conv_channels=None,  # the LSTM alone, as recorded
                             # the defaults when recorded: under lr_schedule="adaptive"
                             # the "fixed lr" rate would fall at plateaus too
                             lr_schedule="constant", weight_decay=0, split_level=False,
                             early_stopping=True, n_iter_no_change=20,
                             callbacks=callbacks, random_state=seed, n_threads=1)
        start = time.perf_counter()
        clf.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        h = clf.history_
        final = h[-1].get("effective_batch_size", 16)
        print(f"{name:<21} {seed:>4}  {len(h):6d}  {min(h[:, 'valid_loss']):15.4f}  "
              f"{clf.score(X_test, y_test):8.3f}  {clf.n_updates_:7d}  {final:11d}  "
              f"{seconds:5.1f}")
        if args.trace and "effective_batch_size" in h[-1]:
            best = 1 + min(range(len(h)), key=lambda i: h[i, "valid_loss"])
            print(f"  best epoch {best}\n  effective_batch_size "
                  f"{' '.join(str(b) for b in h[:, 'effective_batch_size'])}\n"
                  f"  train_batch_count    {' '.join(str(c) for c in h[:, 'train_batch_count'])}")
