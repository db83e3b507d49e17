"""Resident memory a 3-fold cross-validation on a ``SequenceStore`` leaves behind (the
one reading thread of ``sklstm/data/batching.py``'s ``_reader``).

A store of 120 MiB (19,660 float32 sequences of 200 steps and 8 features, written to
a temporary directory first), ``cross_val_score(LSTMRegressor(hidden_size=4,
max_epochs=3, device="cpu", n_threads=1), store, y, cv=3)``: the growth of the
process's resident set (``VmRSS``) over the call, each run in a fresh process.
``--before DIR`` measures the package in DIR as well (a copy of ``sklstm`` from
another commit, put first on ``PYTHONPATH``), e.g. that of 8ebf232's parent, whose
loaders started a reading thread per pass::

    git archive 8ebf232^ sklstm | tar -x -C /tmp/before

Run from the repository root (a few minutes)::

    OMP_NUM_THREADS=1 python benchmarks/bench_store_cv_memory.py --before /tmp/before
"""

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from _fresh_process import measured_in_fresh_process, median_range

N, STEPS, FEATURES = 19_660, 200, 8  # 120 MiB of float32


def _resident_mib():
    """The process's resident set now, in MiB (Linux's ``VmRSS``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


def one():
    """The resident growth of one cross-validation, in MiB, and the package measured."""
    from sklearn.model_selection import cross_val_score

    import sklstm
    from sklstm import LSTMRegressor
    from sklstm.data import SequenceStore

    rng = np.random.default_rng(0)
    y = rng.normal(size=N).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        SequenceStore.write(Path(tmp) / "s", (
            rng.normal(size=(STEPS, FEATURES)).astype(np.float32) for _ in range(N)))
        store = SequenceStore.open(Path(tmp) / "s")
        est = LSTMRegressor(hidden_size=4, max_epochs=3, device="cpu", n_threads=1,
                            random_state=0)
        before = _resident_mib()
        cross_val_score(est, store, y, cv=3)
        return {"growth_mib": _resident_mib() - before,
                "package": str(Path(sklstm.__file__).parents[1])}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="a directory holding another commit's sklstm")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one()))
        return
    runs = [("now", None)] + ([("before", args.before)] if args.before else [])
    for label, package in runs:
        growth = [measured_in_fresh_process(__file__, [], package=package,
                                            env={"OMP_NUM_THREADS": "1"})["growth_mib"]
                  for _ in range(args.repeats)]
        print(f"{label}: resident growth over 3-fold CV on a 120 MiB store "
              f"{median_range(growth, '{:.0f}')} MiB ({args.repeats} fresh processes)",
              flush=True)


if __name__ == "__main__":
    main()
