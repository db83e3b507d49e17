"""The markdown report of ``bench_small_data.py``: its table of scores and times, and
the verdicts on its targets."""

from __future__ import annotations

import os
import platform
import statistics

import torch
from _small_data_baselines import SKIPPED

import sklstm


def _mean(values):
    return statistics.fmean(values) if values else float("nan")


def table(results, tasks, rows):
    head = ("| task | what it is | " + " | ".join(
        f"{row} score | {row} s" for row in rows) + " |\n|---|---|"
        + "--:|--:|" * len(rows) + "\n")
    lines = []
    for name in tasks:
        cells = []
        for row in rows:
            runs = [r for r in results if r["task"] == name and r["row"] == row
                    and r["result"] is not None]
            if not runs:
                cells += ["-", "-"]
                continue
            scores = [r["result"]["score"] for r in runs]
            spread = f" ± {statistics.stdev(scores):.3f}" if len(scores) > 1 else ""
            cells += [f"{_mean(scores):.3f}{spread}",
                      f"{_mean([r['result']['time'] for r in runs]):.0f}"]
        lines.append(f"| {name} | {tasks[name].description} | " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def verdicts(results, tasks):
    out = []

    def mean_of(name, row):
        runs = [r["result"]["score"] for r in results
                if r["task"] == name and r["row"] == row and r["result"] is not None]
        return _mean(runs) if runs else None

    for name in tasks:
        d, t, ref = (mean_of(name, row) for row in ("defaults", "tune", "reference"))
        parts = [name]
        if d is not None and ref is not None:
            gap = 100 * (ref - d)
            parts.append(f"reference {gap:+.1f} points vs the defaults "
                         f"({'met' if gap <= 3 else 'NOT met'}: at most +3)")
        if d is not None and t is not None:
            noise = _mean([r["result"]["cv_noise"] for r in results if r["task"] == name
                           and r["row"] == "tune" and r["result"] is not None
                           and r["result"].get("cv_noise") is not None])
            parts.append(f"tune {100 * (t - d):+.1f} points vs the defaults "
                         f"({'met' if t >= d - noise else 'NOT met'}: at least minus the CV "
                         f"noise, the standard error of the defaults' CV score, "
                         f"{100 * noise:.1f} points)")
        out.append("- " + "; ".join(parts))
    return "\n".join(out) + "\n"


def report(results, tasks, rows, command, started, elapsed, seeds, trials, tune_trials):
    return (
        "# Small data: defaults, tune() and a reference search\n\n"
        f"Command (run from the repository root, {started}, took {elapsed / 60:.0f} min):\n\n"
        f"```\n{command}\n```\n\n"
        f"Machine: {os.cpu_count()} logical cores, Python {platform.python_version()}, "
        f"torch {torch.__version__}, sklstm {sklstm.__version__}, one torch thread.\n\n"
        f"Seeds {seeds} (mean ± standard deviation over them); tune: {tune_trials} trials; "
        f"reference: {trials} random configurations, selected on a validation split of "
        "the training data (for trend_forecast: the last 25 % of its windows; tune: "
        "make_window_splitter(3)). Scores on the held-out test split (trend_forecast: its "
        "last windows, by time): accuracy, or R^2 for the regression and forecast tasks. "
        "Times: seconds of fitting and searching per seed. Other rows: lstmfcn (sktime's "
        "LSTM-FCN), dtw_1nn (1-NN under DTW, tslearn), ridge_ar (RidgeCV on the flattened, "
        "standardized windows), naive (each window's last value); `-` where a row does "
        "not apply.\n\n"
        + table(results, tasks, rows)
        + "".join(f"\n{row} skipped: {reason}.\n" for row, reason in SKIPPED.items()
                  if row in rows)
        + "\nTargets (means over the seeds):\n\n" + verdicts(results, tasks)
    )
