"""Two fixed costs per training step that sklstm avoids, measured on their own.

1. The optimizer step: Adam's default per-tensor update against the fused kernel
   (``fused=True``, what sklstm passes where torch has it) for an LSTMNetwork.
2. New batch shapes: the CPU LSTM kernel (oneDNN) sets up a plan for every batch
   shape it has not met before. A forward/backward/step over 40 lengths never seen
   is timed against the same 40 lengths again; the difference per shape is the
   set-up cost that rounding batch widths to multiples of 8
   (:data:`sklstm.data.tensors.LENGTH_MULTIPLE`) keeps from recurring.
3. Packed sequences: a forward and backward pass of ``torch.nn.LSTM`` over a batch of
   ragged lengths (half the length to the length), packed
   (``pack_padded_sequence``: on the CPU an unfused step-by-step kernel) against the
   same padded batch run densely (the fused kernel), as
   :class:`~sklstm.network.LSTMNetwork` runs it on the CPU.

Run from the repository root::

    python benchmarks/bench_step_costs.py

It prints a markdown table and writes it to ``benchmarks/results/step_costs.md``.
"""

from __future__ import annotations

import argparse
import functools
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from sklstm.network import LSTMNetwork

RESULTS = Path(__file__).parent / "results" / "step_costs.md"


def per_call(fn, n):
    """Best of 5 mean process-CPU seconds per call, over ``n`` calls each."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(n):
            fn()
        best = min(best, (time.process_time() - start) / n)
    return best


def optimizer_step(hidden_size, fused):
    net = LSTMNetwork(3, 2, hidden_size=hidden_size)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=fused)
    for p in net.parameters():
        p.grad = torch.randn_like(p)
    return per_call(optimizer.step, 200)


def new_shape_cost(hidden_size, batch_size, first_len, n_shapes=40):
    """(seconds for n_shapes steps at new lengths, seconds for the same lengths again)."""
    net = LSTMNetwork(3, 2, hidden_size=hidden_size)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step(length):
        x, y = torch.randn(batch_size, length, 3), torch.randint(0, 2, (batch_size,))
        optimizer.zero_grad()
        F.cross_entropy(net(x, torch.full((batch_size,), length)), y).backward()
        optimizer.step()

    step(first_len - 1)  # a first call pays one-off set-up of its own
    lengths = range(first_len, first_len + n_shapes)
    times = []
    for _ in range(2):
        start = time.process_time()
        for length in lengths:
            step(length)
        times.append(time.process_time() - start)
    return times


def packed_cost(hidden_size, batch_size, length):
    """Seconds of the forward pass alone and of forward and backward, packed and dense:
    ``{("packed" or "dense", backward): seconds}``."""
    lstm = torch.nn.LSTM(3, hidden_size, batch_first=True)
    x = torch.randn(batch_size, length, 3)
    lengths = torch.randint(length // 2, length + 1, (batch_size,))
    lengths[0] = length

    def dense(backward):
        out, _ = lstm(x)
        if backward:
            out[torch.arange(batch_size), lengths - 1].sum().backward()

    def packed(backward):
        _, (h, _) = lstm(pack_padded_sequence(x, lengths, batch_first=True,
                                              enforce_sorted=False))
        if backward:
            h.sum().backward()

    return {(f.__name__, backward): per_call(functools.partial(f, backward), 5)
            for f in (packed, dense) for backward in (False, True)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--length", type=int, default=300, help="first of the 40 new lengths")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    loop, fused = (optimizer_step(args.hidden_size, f) for f in (False, True))
    new, seen = new_shape_cost(args.hidden_size, args.batch_size, args.length)
    packed = packed_cost(args.hidden_size, args.batch_size, args.length)
    # the backward pass: forward and backward less the forward pass alone
    back = {k: packed[k, True] - packed[k, False] for k in ("packed", "dense")}
    text = (
        f"LSTMNetwork(3 inputs, hidden {args.hidden_size}, 2 outputs), 1 torch thread, "
        f"process CPU time; torch {torch.__version__}, {platform.machine()}.\n\n"
        "| cost | measured |\n|---|---|\n"
        f"| Adam step, per-tensor loop | {loop * 1e3:.2f} ms |\n"
        f"| Adam step, fused | {fused * 1e3:.2f} ms |\n"
        f"| 40 steps (batch {args.batch_size}) at lengths {args.length}..{args.length + 39}, "
        f"first time | {new:.2f} s |\n"
        f"| the same 40 steps again | {seen:.2f} s |\n"
        f"| set-up per new batch shape | {(new - seen) / 40 * 1e3:.1f} ms |\n"
        f"| LSTM forward pass (batch {args.batch_size}, lengths {args.length // 2}.."
        f"{args.length}), packed / padded and dense | {packed['packed', False] * 1e3:.1f} / "
        f"{packed['dense', False] * 1e3:.1f} ms |\n"
        f"| its backward pass, packed / padded and dense | {back['packed'] * 1e3:.1f} / "
        f"{back['dense'] * 1e3:.1f} ms ({back['packed'] / back['dense']:.1f}x) |\n"
        f"| forward and backward, packed / padded and dense | "
        f"{packed['packed', True] * 1e3:.1f} / {packed['dense', True] * 1e3:.1f} ms "
        f"({packed['packed', True] / packed['dense', True]:.1f}x) |\n"
    )
    print(text)
    if str(args.out) != "-":
        args.out.write_text("# Fixed costs of a training step\n\n" + text
                            + "\nCommand: `" + " ".join(["python benchmarks/bench_step_costs.py",
                                                         shlex.join(sys.argv[1:] if argv is None
                                                                    else argv)]).strip() + "`\n")


if __name__ == "__main__":
    main()
