"""The paired measurement of ``bench_fit_speed.py``: one hand-loop step between every
two batches of sklstm's (or skorch's) fit, timed batch by batch."""

from __future__ import annotations

import gc
import statistics
import time

from _fit_speed_hand import hand_steps
from _fit_speed_nets import fit_sklstm, fit_skorch
from skorch import NeuralNet
from torch.utils.data import DataLoader

import sklstm.training.setup as net_setup
from sklstm.data import BatchLoader
from sklstm.training import SequenceNet


class SkorchLoopNet(SequenceNet):
    """sklstm's net (its train step) in skorch's own epoch loop and bookkeeping."""

    run_single_epoch, notify = NeuralNet.run_single_epoch, NeuralNet.notify
    get_loss, on_batch_begin = NeuralNet.get_loss, NeuralNet.on_batch_begin

    def in_training_mode(self, training=True):
        return False  # skorch sets the mode at every step


class Lockstep:
    """Paired timing: one hand-loop step between every two batches of a net.

    The net's training iterator is wrapped (sklstm: a ``BatchLoader``
    subclass; skorch: its ``DataLoader``), so no callback is added to the net.
    A net's batch is everything from the end of one hand step to the net asking
    for its next batch: fetching the batch, hooks, train step, history.
    """

    active = None  # the instance the wrapped iterators report to

    def __init__(self, steps):
        self.steps = steps
        self.net_wall, self.net_cpu, self.hand_wall, self.hand_cpu = [], [], [], []

    def wrap(self, batches):
        mark = time.perf_counter(), time.process_time()
        for batch in batches:
            yield batch
            wall, cpu = time.perf_counter(), time.process_time()
            self.net_wall.append(wall - mark[0])
            self.net_cpu.append(cpu - mark[1])
            next(self.steps)
            mark = time.perf_counter(), time.process_time()
            self.hand_wall.append(mark[0] - wall)
            self.hand_cpu.append(mark[1] - cpu)


class LockstepBatchLoader(BatchLoader):
    def __iter__(self):
        return Lockstep.active.wrap(super().__iter__())


class LockstepDataLoader:
    """skorch's default ``iterator_train`` (a torch DataLoader), wrapped."""

    def __init__(self, dataset, **kwargs):
        self.loader = DataLoader(dataset, **kwargs)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        return Lockstep.active.wrap(self.loader)


def bench_paired(X, y, size, batch_size, threads, n_pairs, log):
    """sklstm and skorch each in lockstep with the hand loop, batch by batch.

    Alternating at the batch level (milliseconds apart) cancels the slow drifts
    of a shared machine that whole-epoch timings cannot. Reports the median per
    batch of each side, over at least ``n_pairs`` batches.
    """
    n_batches = -(-len(X) // batch_size)
    epochs = -(-n_pairs // n_batches)
    out = {"paired_epochs": epochs, "paired_batches": epochs * n_batches}
    for impl in ("sklstm", "sklstm_stock", "skorch"):
        lock = Lockstep.active = Lockstep(hand_steps(X, y, size, batch_size, seed=1))
        gc.collect()
        if impl.startswith("sklstm"):
            # the estimator builds its loader and net itself: swap the classes it uses
            net_setup.BatchLoader = LockstepBatchLoader
            if impl == "sklstm_stock":
                net_setup.SequenceNet = SkorchLoopNet
            try:
                fit_sklstm(X, y, size, batch_size, epochs, 1, threads)
            finally:
                net_setup.BatchLoader = BatchLoader
                net_setup.SequenceNet = SequenceNet
        else:
            fit_skorch(X, y, size, batch_size, epochs, 1,
                       iterator_train=LockstepDataLoader)
        Lockstep.active = None
        med = {k: statistics.median(getattr(lock, k))
               for k in ("net_wall", "net_cpu", "hand_wall", "hand_cpu")}
        out[f"paired_{impl}_us"] = med["net_wall"] * 1e6
        out[f"paired_hand_us_{impl}"] = med["hand_wall"] * 1e6
        out[f"paired_{impl}_ratio"] = med["net_wall"] / med["hand_wall"]
        out[f"paired_{impl}_cpu_ratio"] = med["net_cpu"] / med["hand_cpu"]
        # means keep what medians drop: rare costs such as garbage collection
        out[f"paired_{impl}_mean_cpu_ratio"] = (
            statistics.fmean(lock.net_cpu) / statistics.fmean(lock.hand_cpu))
    # each side against its own hand loop, which ran beside it: the machine's drift
    # between the two runs cancels
    out["paired_stock_gain"] = out["paired_sklstm_stock_ratio"] / out["paired_sklstm_ratio"]
    log(f"    paired ({out['paired_batches']} batches): sklstm/hand "
        f"{out['paired_sklstm_ratio']:.3f} (cpu {out['paired_sklstm_cpu_ratio']:.3f}, "
        f"stock loop {out['paired_sklstm_stock_ratio']:.3f}, "
        f"cpu mean {out['paired_sklstm_mean_cpu_ratio']:.3f}), skorch/hand "
        f"{out['paired_skorch_ratio']:.3f} (cpu {out['paired_skorch_cpu_ratio']:.3f}, "
        f"cpu mean {out['paired_skorch_mean_cpu_ratio']:.3f})")
    return out
