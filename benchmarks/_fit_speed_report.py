"""The markdown report of ``bench_fit_speed.py``: its tables, verdicts and machine."""

from __future__ import annotations

import os
import platform

import numpy as np
import skorch
import torch
from _fit_speed_cases import LR, SIZES
from _machine import cpu_model, load_average  # benchmarks/_machine.py

import sklstm


def table(results):
    head = (
        "| size | threads | batch | batches/epoch | epochs x repeats | hand (s/epoch) "
        "| sklstm (s/epoch) | skorch (s/epoch) | sklstm/hand | skorch/hand "
        "| sklstm/hand per repeat | sklstm/hand CPU | sklstm setup (s) |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    rows = []
    for r in results:
        rows.append(
            f"| {r['size']} | {r['threads']} | {r['batch_size']} | {r['n_batches']} "
            f"| {r['epochs']} x {r['repeats']} | {r['hand']:.3f} | {r['sklstm']:.3f} "
            f"| {r['skorch']:.3f} | **{r['sklstm_ratio']:.3f}** | {r['skorch_ratio']:.2f} "
            f"| {r['sklstm_ratio_min']:.2f}-{r['sklstm_ratio_max']:.2f} "
            f"| {r['sklstm_cpu_ratio']:.3f} | {r['sklstm_setup']:.3f} |"
        )
    return head + "\n".join(rows) + "\n"


def paired_table(results):
    rows = [r for r in results if "paired_batches" in r]
    if not rows:
        return ""
    head = (
        "| size | threads | batch | batches paired | hand (us/batch) | sklstm (us/batch) "
        "| sklstm/hand | sklstm/hand CPU | sklstm/hand CPU mean "
        "| stock loop/hand | stock/fast | skorch (us/batch) "
        "| skorch/hand | skorch/hand CPU |\n"
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    )
    lines = [
        f"| {r['size']} | {r['threads']} | {r['batch_size']} | {r['paired_batches']} "
        f"| {r['paired_hand_us_sklstm']:.0f} | {r['paired_sklstm_us']:.0f} "
        f"| **{r['paired_sklstm_ratio']:.3f}** | {r['paired_sklstm_cpu_ratio']:.3f} "
        f"| {r['paired_sklstm_mean_cpu_ratio']:.3f} "
        f"| {r['paired_sklstm_stock_ratio']:.3f} | {r['paired_stock_gain']:.3f} "
        f"| {r['paired_skorch_us']:.0f} | {r['paired_skorch_ratio']:.2f} "
        f"| {r['paired_skorch_cpu_ratio']:.2f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def verdict(results, key):
    rows = [r for r in results if key in r]
    if not rows:
        return "n/a"
    worst = max(rows, key=lambda r: r[key])
    met = all(r[key] <= 1.05 for r in rows)
    return (f"**{'met' if met else 'not met'}** (worst {worst[key]:.3f}: {worst['size']}, "
            f"batch {worst['batch_size']}, {worst['threads']} thread(s))")


def machine():
    return (
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores\n"
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"skorch {skorch.__version__}, sklstm {sklstm.__version__}, "
        f"numpy {np.__version__}\n"
        f"- load average at start: {load_average()}\n"
    )


def report(results, command, started, elapsed):
    sizes = sorted({r["size"] for r in results}, key=list(SIZES).index)
    size_lines = "\n".join(
        f"- {s}: hidden {SIZES[s].hidden_size}, {SIZES[s].n_timesteps} timesteps, "
        f"{SIZES[s].n_features} features, {SIZES[s].n_samples} samples"
        for s in sizes
    )
    paired = paired_table(results)
    text = (
        "# Fit speed: sklstm vs a hand-written PyTorch loop vs plain skorch\n\n"
        f"Command (run from the repository root, {started}, took {elapsed / 60:.1f} min):\n\n"
        f"```\n{command}\n```\n\n"
        f"Machine:\n\n{machine()}\n"
        f"Models (`sklstm.network.LSTMNetwork`, 1 layer, 2 classes, Adam lr={LR}, "
        f"float32, CPU):\n\n{size_lines}\n\n"
        "## Whole epochs\n\n"
        "Seconds per epoch: the median over repeats of each fit's mean epoch time "
        "(wall clock; hand: around its epoch loop, sklstm and skorch: skorch's `dur`). "
        "*sklstm/hand per repeat*: range of the ratio within single repeats, where the "
        "three ran back to back, a gauge of machine noise. *sklstm/hand CPU*: the "
        "same ratio in process CPU time. *sklstm setup*: the whole `fit` minus its "
        "epochs (input validation, tensors, net initialization).\n\n"
        + table(results)
        + f"\nsklstm/hand <= 1.05 (whole epochs): {verdict(results, 'sklstm_ratio')}\n"
    )
    if paired:
        text += (
            "\n## Paired, batch by batch\n\n"
            "sklstm (or skorch) trains with its training iterator wrapped so that one "
            "hand-loop step runs between every two of its batches: the two alternate "
            "every few milliseconds, and slow phases of a shared machine hit both "
            "alike. No callback is added. Per-batch medians (wall clock, and CPU "
            "time); the sklstm/skorch side is everything from handing out one batch "
            "to asking for the next (fetching it, hooks, train step, history). "
            "*CPU mean*: ratio of mean CPU times, which keeps the rare costs (garbage "
            "collection) that medians drop. *stock loop*: sklstm's `SequenceNet` in "
            "skorch's own epoch loop and hooks (`SkorchLoopNet`: an `.item()` per batch); "
            "*stock/fast*: (stock loop/hand) / (sklstm/hand), the gain of sklstm's loop.\n\n"
            + paired
            + f"\nsklstm/hand <= 1.05 (paired): {verdict(results, 'paired_sklstm_ratio')}\n"
        )
    return text
