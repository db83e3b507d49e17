"""Profile training throughput and peak memory over batch sizes and sequence lengths.

``sklstm.profile_batch_sizes`` trains an ``LSTMClassifier(hidden_size=64,
downsample=1, random_state=0, conv_channels=None, lr=1e-2)`` for a few real
steps at every batch size of 1, 2, 4, ..., 1024 (with 17, 24 and 96 between the
powers of two) and every sequence length of 50, 200 and 800 timesteps (the estimator's ``seq_len``
cuts generated 800-step sequences, ``sklstm.datasets.make_sequence_classification``
with 3 features and 2 classes). Per pair it reports samples per second, the mean
step time (skorch's ``on_batch_begin`` to ``on_batch_end``: forward, backward,
optimizer step) and the fit's peak memory (``peak_memory_``: the growth of the
resident set on the CPU, torch's allocator on CUDA).

Each pair is measured ``--repeats`` times and the median is reported, with the
spread (max - min) / median of samples per second as a noise gauge. Repeats
alternate the order of the batch sizes (ascending, then descending), so a slow
phase of a shared machine does not hit one end of the range only. Every fit has
one untimed warm-up step; the timed steps per fit shrink with the work per step
(batch size x timesteps): 10 for small steps, 2 for the largest (see
``steps_for``), which keeps the whole run to a few minutes on one CPU thread.

The question it answers: are powers of two faster? It compares the samples per
second of 17, 24 and 32 against 16, and of 96 and 128 against 64, and against
the throughput interpolated (in log2 of the batch size) between the two
neighbouring powers of two.

torch runs on one thread (``torch.set_num_threads(1)``) for stable figures;
the device is the estimator's default (``"auto"``: CUDA where there is one).

Run from the repository root::

    python benchmarks/bench_batch_profile.py
    python benchmarks/bench_batch_profile.py --seq-lens 50 --batch-sizes 8,16,17,32 \\
        --repeats 2 --out - --figure -

It writes ``benchmarks/results/batch_profile.md`` and the figure
``docs/_static/batch_profile.png`` (drawn by the profile's ``plot()``).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import skorch
import torch
from _machine import cpu_model, load_average  # benchmarks/_machine.py

import sklstm
import sklstm.profiling._timer as profiling  # the step timer's clock
from sklstm import LSTMClassifier, profile_batch_sizes
from sklstm.datasets import make_sequence_classification
from sklstm.profiling import COLUMNS

BATCH_SIZES = (1, 2, 4, 8, 16, 17, 24, 32, 64, 96, 128, 256, 512, 1024)
SEQ_LENS = (50, 200, 800)
HIDDEN_SIZE = 64
N_FEATURES = 3
#: (non-power, lower power of two, upper power of two) compared
COMPARISONS = ((17, 16, 32), (24, 16, 32), (96, 64, 128))
ROOT = Path(__file__).resolve().parent.parent
#: Sample-steps (batch size x timesteps x steps) timed per fit: ~0.5 s on one core
TARGET_WORK = 100_000
#: The clocks: wall (what profile_batch_sizes measures) and the main thread's CPU time
#: (with one torch thread all the work runs there; time the process is preempted by
#: other work on a shared machine does not count)
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


def steps_for(batch_size, timesteps):
    """Timed steps per fit: about TARGET_WORK sample-steps (batch x timesteps x steps),
    at least 2 (the largest steps at seq_len 800 take seconds), at most 100."""
    return max(2, min(100, math.ceil(TARGET_WORK / (batch_size * timesteps))))


def make_data(n_samples, n_timesteps):
    return make_sequence_classification(n_samples=n_samples, n_timesteps=n_timesteps,
                                        n_features=N_FEATURES, random_state=0)


def profile_once(estimator, X, y, batch_sizes, seq_len, repeat, clock, log):
    """One repeat at one sequence length with one clock: every batch size (those of
    equal step counts in one call)."""
    order = list(batch_sizes) if repeat % 2 == 0 else list(reversed(batch_sizes))
    groups = {}
    for b in order:
        groups.setdefault(steps_for(b, seq_len), []).append(b)
    frames = []
    start = time.perf_counter()
    profiling._now = CLOCKS[clock]  # the step timer's clock (a private hook)
    try:
        for n_steps, sizes in groups.items():
            frame = profile_batch_sizes(estimator, X, y, batch_sizes=sizes,
                                        seq_lens=[seq_len], n_steps=n_steps, warmup_steps=1)
            frame["n_steps"] = n_steps
            frame["repeat"] = repeat
            frame["clock"] = clock
            frames.append(frame)
    finally:
        profiling._now = time.perf_counter
    log(f"  repeat {repeat + 1}, seq_len {seq_len}, {clock} clock: "
        f"{time.perf_counter() - start:.1f} s")
    return frames


def summarize(raw):
    """Per (seq_len, batch_size): per clock the median and the best samples/s over the
    repeats, their spread, the median step time; peak memory over every fit."""
    rows = []
    for (seq_len, batch_size), group in raw.groupby(["seq_len", "batch_size"], sort=True):
        row = {"batch_size": int(batch_size), "seq_len": int(seq_len),
               "timesteps": int(group["timesteps"].max()),
               "peak_memory": int(np.median(group["peak_memory"].to_numpy(float))),
               "fits": bool(group["fits"].all()), "error": None,
               "n_steps": int(group["n_steps"].iloc[0])}
        for clock in CLOCKS:
            part = group[group["clock"] == clock]
            rate = part["samples_per_s"].to_numpy(float)
            if not len(rate):
                continue
            suffix = "" if clock == "wall" else "_cpu"
            row["samples_per_s" + suffix] = float(np.median(rate))
            row["best" + suffix] = float(rate.max())
            row["step_time_s" + suffix] = float(np.median(part["step_time_s"].to_numpy(float)))
            row["spread" + suffix] = float((rate.max() - rate.min()) / np.median(rate))
            row["repeats" + suffix] = len(rate)
        rows.append(row)
    return pd.DataFrame(rows)


#: The figures the power-of-two comparison is made on: (column, what it is)
MEASURES = (("samples_per_s", "wall, median"), ("samples_per_s_cpu", "CPU time, median"),
            ("best_cpu", "CPU time, best"))


def comparison(summary):
    """Samples/s of the non-powers of two against the powers of two around them: per
    measure, the ratio to the lower power and to the interpolation between the two."""
    rows = []
    for seq_len in sorted(summary["seq_len"].unique()):
        at = summary[summary["seq_len"] == seq_len].set_index("batch_size")
        for size, low, high in COMPARISONS:
            if not all(b in at.index for b in (size, low, high)):
                continue
            row = {"seq_len": int(seq_len), "batch_size": size, "lower": low, "upper": high}
            for key, _ in MEASURES:
                if key not in at or not np.isfinite(at.loc[[size, low, high], key]).all():
                    continue
                rate = at[key]
                # throughput interpolated linearly in log2(batch size) between the powers
                share = math.log2(size / low) / math.log2(high / low)
                expected = rate[low] + share * (rate[high] - rate[low])
                row[key] = rate[size]
                row[key + ":lower"] = rate[size] / rate[low]
                row[key + ":upper"] = rate[high] / rate[low]
                row[key + ":interpolated"] = rate[size] / expected
            spread = "spread_cpu" if "spread_cpu" in at else "spread"
            row["spread"] = float(at.loc[[size, low, high], spread].max())
            rows.append(row)
    return pd.DataFrame(rows)


# -- reporting ---------------------------------------------------------------------
def machine(device, load_start):
    gpu = (f"- GPU: {torch.cuda.get_device_name(device)}\n" if device.type == "cuda"
           else "- GPU: none (all figures are CPU figures)\n")
    return (
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; torch threads: "
        f"{torch.get_num_threads()}\n{gpu}"
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"skorch {skorch.__version__}, sklstm {sklstm.__version__}, "
        f"numpy {np.__version__}, pandas {pd.__version__}\n"
        f"- load average at start: {load_start}; at the end: {load_average()}\n"
    )


def _cells(row, *keys, fmt="{:,.0f}"):
    out = ""
    for key in keys:
        value = row.get(key)
        ok = value is not None and np.isfinite(value)
        out += "| " + ((f"{value:.0%}" if key.startswith("spread") else fmt.format(value))
                       if ok else "-") + " "
    return out


def profile_table(summary):
    cpu = "samples_per_s_cpu" in summary
    head = ("| seq_len | batch | timed steps | samples/s (wall, median) | spread "
            + ("| samples/s (CPU time, median) | spread " if cpu else "")
            + "| step time (ms, wall) | peak memory (MiB) | KiB per sample |\n"
            + "|--:|--:|--:|--:|--:|" + ("--:|--:|" if cpu else "") + "--:|--:|--:|\n")
    lines = []
    for _, r in summary.sort_values(["seq_len", "batch_size"]).iterrows():
        lines.append(
            f"| {r['seq_len']} | {r['batch_size']} | {r['n_steps']} "
            + _cells(r, "samples_per_s", "spread")
            + (_cells(r, "samples_per_s_cpu", "spread_cpu") if cpu else "")
            + f"| {r['step_time_s'] * 1e3:,.1f} | {r['peak_memory'] / 2**20:,.1f} "
            f"| {r['peak_memory'] / 2**10 / r['batch_size']:,.0f} |")
    return head + "\n".join(lines) + "\n"


def comparison_table(table):
    measures = [(key, what) for key, what in MEASURES if key in table]
    head = ("| seq_len | batch | "
            + " | ".join(f"samples/s ({what}) | vs lower | vs interpolated"
                         for _, what in measures)
            + " | largest spread (CPU time) |\n|--:|--:|"
            + "--:|--:|--:|" * len(measures) + "--:|\n")
    lines = []
    for _, r in table.iterrows():
        cells = (f"| {int(r['seq_len'])} | {int(r['batch_size'])} (vs {int(r['lower'])}, "
                 f"{int(r['upper'])}) ")
        for key, _ in measures:
            cells += (_cells(r, key) + _cells(r, key + ":lower", fmt="{:.3f}")
                      + _cells(r, key + ":interpolated", fmt="**{:.3f}**"))
        lines.append(cells + _cells(r, "spread") + "|")
    return head + "\n".join(lines) + "\n"


def verdict(table):
    if table.empty:
        return "No comparison: the batch sizes around a power of two were not all profiled."
    lines = []
    for key, what in MEASURES:
        column = key + ":interpolated"
        if column not in table or table[column].isna().all():
            continue
        ratios = table[column].dropna()
        lines.append(
            f"- {what}: the batch sizes between powers of two ran at "
            f"{ratios.min():.3f} to {ratios.max():.3f} (median {ratios.median():.3f}) of "
            "the throughput interpolated between the powers around them.")
    lines.append(
        f"- The repeats of the three batch sizes of a comparison spread (CPU time) by "
        f"{statistics.median(table['spread']):.0%}, median over the comparisons.")
    return "\n".join(lines) + "\n"


def report(summary, command, started, elapsed, device, load_start, args):
    table = comparison(summary)
    cpu_repeats = int(summary["repeats_cpu"].max()) if "repeats_cpu" in summary else 0
    return (
        "# Batch size profile: throughput and peak memory per batch size\n\n"
        f"Command (run from the repository root, {started}, took {elapsed / 60:.1f} min):\n\n"
        f"```\n{command}\n```\n\n"
        f"Machine:\n\n{machine(device, load_start)}\n"
        f"Model: `LSTMClassifier(hidden_size={HIDDEN_SIZE}, downsample=1, random_state=0, "
        "conv_channels=None, lr=1e-2)` "
        f"(1 layer, concat pooling, Adam, float32) on `{device}`, profiled by "
        "`sklstm.profile_batch_sizes`; data: `make_sequence_classification` "
        f"({N_FEATURES} features, 2 classes, {max(args.seq_lens)} timesteps, cut by "
        "`seq_len`). Every fit: 1 untimed warm-up step, then the timed steps (about "
        f"{TARGET_WORK:,} sample-steps, at least 2, at most 100).\n\n"
        f"*wall*: `profile_batch_sizes`' own figure (wall clock), median over "
        f"{args.repeats} repeats (batch sizes ascending, then descending). *CPU time*: "
        "the same steps timed by the main thread's CPU time (`time.thread_time`; with one "
        "torch thread all the work runs there), which leaves out the time other processes "
        f"held the core; {cpu_repeats} repeats of the batch sizes of the comparison "
        "(interleaved with the wall-clock ones), median and best. *spread*: (max - min) / "
        "median over the repeats. *peak memory*: the fit's `peak_memory_` (growth of the "
        "resident set: model, optimizer state, activations, the profiled data as the fit "
        "holds it), median over every fit of the pair.\n\n"
        "## Profile\n\n"
        + profile_table(summary)
        + "\n## Are powers of two faster?\n\n"
        "Samples/s of a batch size between two powers of two, against the lower power "
        "(*vs lower*) and against the throughput interpolated linearly in log2(batch "
        "size) between the two powers (*vs interpolated*: 1.000 in line with its "
        "neighbours, below 1 slower than they suggest).\n\n"
        + comparison_table(table)
        + "\n" + verdict(table)
    )


def int_list(text):
    return [int(v) for v in text.split(",") if v.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", type=int_list, default=list(BATCH_SIZES))
    parser.add_argument("--seq-lens", type=int_list, default=list(SEQ_LENS))
    parser.add_argument("--repeats", type=int, default=5,
                        help="wall-clock profiles per pair; the median is reported "
                             "(default 5)")
    parser.add_argument("--cpu-repeats", type=int, default=15,
                        help="CPU-time profiles of the --cpu-batch-sizes, 0 for none "
                             "(default 15)")
    parser.add_argument("--cpu-batch-sizes", type=int_list,
                        default=sorted({b for c in COMPARISONS for b in c}),
                        help="batch sizes also timed by CPU time, comma-separated "
                             "(default: those of the power-of-two comparison)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--out", default="benchmarks/results/batch_profile.md",
                        help="markdown report to write ('-' for none)")
    parser.add_argument("--figure", default="docs/_static/batch_profile.png",
                        help="figure to write ('-' for none)")
    args = parser.parse_args(argv)
    timed = {"wall": (args.batch_sizes, args.repeats),
             "cpu": ([b for b in args.batch_sizes if b in args.cpu_batch_sizes],
                     args.cpu_repeats)}
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(
        sys.argv[1:] if argv is None else argv)])

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    started, load_start = time.strftime("%Y-%m-%d %H:%M"), load_average()
    t0 = time.perf_counter()
    # enough samples for the largest fit (warm-up + its steps), every one drawn once
    n_samples = max(b * (steps_for(b, t) + 1) for b in args.batch_sizes for t in args.seq_lens)
    X, y = make_data(n_samples, max(args.seq_lens))
    # the LSTM alone, as the recorded figures (LSTMClassifier's default branch came later)
    estimator = LSTMClassifier(hidden_size=HIDDEN_SIZE, downsample=1, random_state=0,
                               conv_channels=None, lr=1e-2)
    frames = []
    for repeat in range(max(args.repeats, args.cpu_repeats)):
        for seq_len in args.seq_lens:
            clocks = [c for c, (sizes, n) in timed.items() if sizes and repeat < n]
            for clock in clocks if repeat % 2 == 0 else clocks[::-1]:
                frames += profile_once(estimator, X, y, timed[clock][0], seq_len, repeat,
                                       clock, log)
    raw = pd.concat(frames, ignore_index=True)
    summary = summarize(raw)
    device = torch.device(frames[0].attrs.get("device", "cpu"))
    elapsed = time.perf_counter() - t0
    text = report(summary, command, started, elapsed, device, load_start, args)
    print(text)
    if args.out != "-":
        out = ROOT / args.out if not os.path.isabs(args.out) else Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        log(f"wrote {out}")
    if args.figure != "-":
        import matplotlib

        matplotlib.use("Agg")
        # the wall-clock medians, drawn by the profile's own plot()
        profile = type(frames[0])(summary[list(COLUMNS)])
        profile.attrs.update(frames[0].attrs)
        axes = profile.plot()
        axes[0].set_title(f"Throughput (wall clock, median of {args.repeats}; hidden "
                          f"{HIDDEN_SIZE}, {args.threads} thread(s), {device})")
        axes[1].set_title("Peak memory (median over the fits)")
        figure = ROOT / args.figure if not os.path.isabs(args.figure) else Path(args.figure)
        figure.parent.mkdir(parents=True, exist_ok=True)
        axes[0].figure.savefig(figure, dpi=110)
        log(f"wrote {figure}")


if __name__ == "__main__":
    main()
