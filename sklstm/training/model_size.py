"""The memory a network's parameters take, checked before anything is allocated.

A fit holds every parameter three ways at least: the weights, their gradients and the
optimizer's state (Adam: two more copies). For ``hidden_size=40000`` that is 6.4
billion parameters, 95 GiB in float32 before a single activation; torch would only
find out when it allocates them, with a bare allocator error (or the operating system
would kill the process). The parameters are counted on torch's ``meta`` device,
which builds the very module the fit trains without memory, so the count follows the
network's code (embedding, LSTM, readout, head, convolutional branch) and cannot drift
from it. The activations are not counted: the figure is a lower bound, and a fit
refused here could never have run.
"""

from __future__ import annotations

import dataclasses

import torch

from ..exceptions import MemoryBudgetError
from ..resources.memory_budget import available_memory, format_bytes
from .optimizers import state_copies
from .setup import build_net

__all__ = ["check_model_fits", "meta_module"]

#: The modules of :class:`~sklstm.network.LSTMNetwork`, as messages name them.
_PARTS = {"embedding": "the token embedding", "lstm": "the LSTM",
          "readout": "the attention readout", "head": "the output layer",
          "conv": "the convolutional branch", "ar": "the linear autoregressive part"}


def meta_module(net):
    """The module ``net`` trains, built on torch's ``meta`` device: shapes, no memory.

    Parameters
    ----------
    net : skorch.NeuralNet
        A net (not necessarily initialized).

    Returns
    -------
    torch.nn.Module
        Its module, every tensor on ``meta``.
    """
    with torch.device("meta"):
        return net.module(**net.get_params_for("module"))


def _parts(plan):
    """``(parameters, bytes)`` of each top-level module of the plan's network."""
    # batch and callbacks do not shape the module ("auto" is not resolved yet); nn.LSTM
    # builds its layers one by one even on meta (num_layers=2**40 would never return),
    # and every layer after the first has the second's shape: build two, add the rest
    shape_only = dataclasses.replace(plan, batch_size=1, accumulation_steps=1, callbacks=(),
                                     checkpoint=None, num_layers=min(plan.num_layers, 2))
    module = meta_module(build_net(shape_only))
    sizes = {name: _size(child.parameters()) for name, child in module.named_children()}
    if plan.num_layers > 2:
        layer = _size(p for name, p in module.lstm.named_parameters() if "_l1" in name)
        more = plan.num_layers - 2
        sizes["lstm"] = tuple(
            total + more * each for total, each in zip(sizes["lstm"], layer, strict=True))
    return {name: size for name, size in sizes.items() if size[0]}


def _size(parameters):
    """``(count, bytes)`` of ``parameters``."""
    parameters = list(parameters)
    return (sum(p.numel() for p in parameters),
            sum(p.numel() * p.element_size() for p in parameters))


def _culprit(plan, part):
    """``(settings that make part large, how to shrink it)``."""
    if part == "embedding":
        return (f"vocab_size={plan.vocab_size} x embedding_dim={plan.embedding_dim}",
                "Lower embedding_dim, or vocab_size (map the token ids to 1..n_tokens; 0 is "
                "the padding id)")
    if part == "head":
        return (f"hidden_size={plan.hidden_size} x {plan.n_outputs} outputs",
                "Lower hidden_size, or the number of outputs (classes)")
    if part == "conv":
        return f"conv_channels={plan.conv_channels}", "Use fewer conv_channels"
    if part == "ar":
        return (f"ar_window={plan.ar_window} x {plan.n_inputs} features x "
                f"{plan.n_outputs} outputs", "Lower ar_window")
    settings = [f"hidden_size={plan.hidden_size}"]
    fix = "Lower hidden_size (the LSTM's weights grow with its square)"
    if plan.num_layers > 1:
        settings.append(f"num_layers={plan.num_layers}")
        fix += " or num_layers"
    if plan.bidirectional:
        settings.append("bidirectional=True")
    return ", ".join(settings), fix


def check_model_fits(plan):
    """Raise :class:`~sklstm.exceptions.MemoryBudgetError` when the network's weights,
    gradients and optimizer state alone need more memory than the fit can have.

    What the fit can have is the smallest of ``max_memory``, the device's free memory
    on CUDA, and the host's available memory elsewhere (also below a larger
    ``max_memory``: :func:`~sklstm.resources.memory_budget.available_memory`); nothing
    is checked where none of them can be read.

    Parameters
    ----------
    plan : FitPlan
        The fit's plan (the network's shape, the optimizer, device and budget).

    Raises
    ------
    MemoryBudgetError
        Naming the parameters that make the network large, the memory it needs and
        what is available.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor
    >>> plan, *_ = LSTMRegressor(hidden_size=8, device="cpu")._prepare(
    ...     np.zeros((4, 3, 1)), np.arange(4.0))
    >>> check_model_fits(plan)  # 8 units: a few KiB
    """
    available, source = available_memory(plan.device, plan.memory_limit)
    if available is None:
        return
    try:
        parts = _parts(plan)
    except RuntimeError as exc:  # torch's "Storage size calculation overflowed"
        if "overflow" not in str(exc):
            raise
        raise MemoryBudgetError(
            f"{plan.name}: hidden_size={plan.hidden_size}, conv_channels="
            f"{plan.conv_channels} and embedding_dim={plan.embedding_dim} make a weight "
            f"matrix of more bytes than torch can count (over 8 EiB; {exc}). Lower them. "
            "Nothing was allocated.") from None
    copies = 2 + state_copies(plan.optimizer, plan.optimizer_params)
    need = copies * sum(size for _, size in parts.values())
    if need <= available:
        return
    count = sum(n for n, _ in parts.values())
    largest = max(parts, key=lambda name: parts[name][0])
    settings, fix = _culprit(plan, largest)
    needed, have = format_bytes(need), format_bytes(available)
    if needed == have:  # 1.04 MiB over a budget of 1.00 MiB read "1.0 MiB, more than 1.0 MiB"
        needed, have = f"{need:,} bytes", f"{available:,} bytes"
    where = {"max_memory": f"max_memory={have} allows",
             "device": f"the {have} free on {plan.device}",
             "host": f"the {have} this machine has available"}[source]
    if source == "host" and plan.memory_limit is not None:  # "raise max_memory": no help
        where += f" (less than max_memory={format_bytes(plan.memory_limit)})"
    fix += {"max_memory": ", or raise max_memory.", "device": ", or use a larger device.",
            "host": "."}[source]
    raise MemoryBudgetError(
        f"{plan.name}: {settings} makes a network of {count:,} parameters "
        f"({parts[largest][0]:,} in {_PARTS.get(largest, f'the {largest} module')}); its "
        f"weights, their gradients and the {plan.optimizer.__name__} optimizer's state "
        f"({copies} copies) need {needed}, more than {where}. {fix} Nothing "
        "was allocated.")
