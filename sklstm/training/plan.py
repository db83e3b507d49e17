"""The fit as data: what one fit runs with, decided before it trains.

``fit`` validates its parameters and data once and turns them into one immutable
:class:`FitPlan`: the device and precision, the micro-batch and accumulation, the
learning rate, the network's and the data's sizes, the seed. Everything after that
(the net and its callbacks, ``batch_size="auto"``, warm-up and trial steps,
checkpoints) is built from the plan alone and reads nothing off the estimator, as
scikit-learn's MLP passes explicit values from ``_fit`` to ``_fit_stochastic``.
A plan that changes (``batch_size="auto"`` resolved; a trial step's plan) is a new
plan made with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from numbers import Real
from types import MappingProxyType

import numpy as np
import torch
from sklearn.utils import check_random_state

from ..resources.device import rng_devices
from ..resources.memory_budget import parse_memory
from .lr_scaling import scaled_learning_rate
from .optimizers import optimizer_arguments, optimizer_defaults
from .precision import Precision

__all__ = ["FitPlan", "make_plan"]


@dataclasses.dataclass(frozen=True)
class FitPlan:
    """One fit's settings, as plain, checked values (see the module docstring).

    Attributes
    ----------
    name : str
        The estimator's class name, for messages.
    params : Mapping
        The estimator's parameters as given (numpy scalars as Python numbers):
        what identifies the fit in a checkpoint.
    param_defaults : Mapping
        The estimator's parameter defaults (empty for a loaded model).
    criterion : type
        The torch loss class.
    class_weights : tuple of float or None
        Each class's weight in the loss, in ``classes_`` order, averaging 1 over the
        training samples (``class_weight``); None: unweighted.
    stratified : bool
        Whether validation splits are stratified (classifiers).
    n_inputs, n_outputs : int
        Features per timestep (1 for token ids) and output units.
    vocab_size : int or None
        Token ids ``0..vocab_size - 1`` (token input), else None.
    padded : bool
        Whether the sequences have lengths of their own (ragged input).
    trivial_loss : float or None
        The loss of predicting the targets' distribution (divergence check).
    batch_size : int or "auto"
        The micro-batch, samples per forward/backward pass.
    accumulation_steps : int
        Micro-batches per optimizer step.
    n_train_samples : int or None
        Samples the net trains on: those left after ``early_stopping``'s validation
        split (``ceil(validation_fraction * n)`` held out). None where there is no
        training data (a loaded model's net).
    bucketing : bool
        Whether training batches are drawn by similar length.
    optimizer : type
        The optimizer class; ``optimizer_params`` its arguments (sklstm's defaults for
        the device, the user's, ``weight_decay``).
    base_lr : float
        The ``lr`` parameter; :attr:`lr` is the rate in use.
    device : torch.device
        Where the fit runs.
    precision : Precision or None
        The forward pass's autocast (None: float32 without autocast).
    memory_limit : int or None
        ``max_memory`` in bytes.
    seed : int
        The fit's seed, drawn once from ``random_state``.

    The other attributes are the estimator's parameters of the same names.
    """

    name: str
    params: Mapping
    param_defaults: Mapping
    criterion: type
    class_weights: tuple | None
    stratified: bool
    n_inputs: int
    n_outputs: int
    vocab_size: int | None
    padded: bool
    trivial_loss: float | None
    hidden_size: int
    num_layers: int
    bidirectional: bool
    dropout: float
    pooling: str
    conv_channels: tuple | None
    conv_kernel_sizes: tuple
    ar_window: int | None
    ar_scale: tuple | None
    split_level: bool
    embedding_dim: int | None
    padding_idx: int | None
    batch_size: int | str
    accumulation_steps: int
    n_train_samples: int | None
    bucketing: bool
    optimizer: type
    optimizer_params: Mapping
    base_lr: float
    lr_scaling: str | None
    base_batch_size: int
    warmup_epochs: int
    gradient_clip: float | None
    max_epochs: int
    tol: float | None
    lr_schedule: str
    n_iter_no_change: int
    early_stopping: bool
    validation_fraction: float
    device: torch.device
    precision: Precision | None
    memory_limit: int | None
    on_oom: str
    n_threads: int | None
    seed: int
    verbose: int
    callbacks: tuple
    checkpoint: str | None

    @property
    def effective_batch_size(self):
        """Samples per optimizer step: ``batch_size * accumulation_steps``, or all the
        training samples when there are fewer (a step cannot hold more)."""
        nominal = self.batch_size * self.accumulation_steps
        return nominal if self.n_train_samples is None else min(nominal, self.n_train_samples)

    @property
    def lr(self):
        """The learning rate in use: ``base_lr`` scaled by ``lr_scaling`` for the
        effective batch the data fills (a batch of 4096 on 48 samples steps like one
        of 48: scaled for 4096 its rate would be 85 times too large)."""
        return scaled_learning_rate(self.base_lr, self.effective_batch_size,
                                    self.base_batch_size, self.lr_scaling)

    @property
    def cuda_devices(self):
        """``[device]`` on CUDA, else ``[]`` (what ``torch.random.fork_rng`` forks)."""
        return rng_devices(self.device)


def make_plan(params, checked, *, name, device, criterion, stratified, n_inputs,
              n_outputs, vocab_size, padded, trivial_loss, precision, n_samples=None,
              defaults=None, ar_scale=None, class_weights=None):
    """The :class:`FitPlan` of a fit.

    Parameters
    ----------
    params : dict
        The estimator's parameters as plain values (kept for the checkpoint).
    checked : dict
        The same after the estimators' rules between parameters
        (``sklstm.estimators._params.check_params``).
    name : str
        The estimator's class name.
    device : torch.device
        The resolved device.
    criterion : type
        The torch loss class.
    stratified : bool
        Whether validation splits are stratified.
    n_inputs, n_outputs : int
        Features per timestep and output units.
    vocab_size : int or None
        The vocabulary of token input.
    padded : bool
        Whether the sequences are ragged.
    trivial_loss : float or None
        The loss of predicting the targets' distribution.
    precision : Precision or None
        ``checked["precision"]`` resolved for ``device``
        (:func:`~sklstm.training.precision.resolve_precision`); None computes in
        float32 without autocast (a loaded model whose precision this device lacks).
    n_samples : int or None, default=None
        Training sequences given to ``fit`` (before ``early_stopping``'s split); None
        for a net that is not trained (a loaded model).
    defaults : dict or None, default=None
        The estimator's parameter defaults (a checkpoint written by an earlier sklstm
        matches while a parameter it lacks is at its default).
    ar_scale : tuple of float or None, default=None
        What the autoregressive highway divides each feature by (None: 1).
    class_weights : tuple of float or None, default=None
        Each class's weight in the loss (None: unweighted).

    Returns
    -------
    FitPlan
    """
    c = checked
    optimizer_params = {**optimizer_defaults(c["optimizer"], device, c["optimizer_params"]),
                        **(c["optimizer_params"] or {})}
    if c["weight_decay"] or ("weight_decay" not in optimizer_params
                             and _penalized_by_default(c["optimizer"])):
        # weight_decay=0 is no penalty, also for an optimizer whose own default has one
        # (AdamW's 0.01, which a fit passing nothing got)
        optimizer_params["weight_decay"] = c["weight_decay"]
    bucketing = padded if c["bucketing"] == "auto" else bool(c["bucketing"])
    seed = int(check_random_state(c["random_state"]).randint(np.iinfo(np.int32).max))
    n_train = n_samples
    if n_samples is not None and c["early_stopping"]:
        # what skorch's ValidSplit (scikit-learn's ShuffleSplit) holds out
        n_train = n_samples - math.ceil(c["validation_fraction"] * n_samples)
    return FitPlan(
        name=name, params=MappingProxyType(dict(params)),
        param_defaults=MappingProxyType(dict(defaults or {})), criterion=criterion,
        class_weights=class_weights, stratified=stratified, n_inputs=n_inputs, n_outputs=n_outputs,
        vocab_size=vocab_size, padded=padded, trivial_loss=trivial_loss,
        hidden_size=c["hidden_size"], num_layers=c["num_layers"],
        bidirectional=c["bidirectional"], dropout=c["dropout"], pooling=c["pooling"],
        conv_channels=c["conv_channels"], conv_kernel_sizes=c["conv_kernel_sizes"],
        ar_window=c["ar_window"], ar_scale=ar_scale, split_level=c["split_level"],
        embedding_dim=c["embedding_dim"], padding_idx=c["padding_idx"],
        batch_size=c["batch_size"], accumulation_steps=c["accumulation_steps"],
        n_train_samples=n_train,
        bucketing=bucketing, optimizer=c["optimizer"],
        optimizer_params=MappingProxyType(optimizer_params), base_lr=c["lr"],
        lr_scaling=c["lr_scaling"], base_batch_size=c["base_batch_size"],
        warmup_epochs=c["warmup_epochs"], gradient_clip=c["gradient_clip"],
        max_epochs=c["max_epochs"], tol=c["tol"], lr_schedule=c["lr_schedule"],
        n_iter_no_change=c["n_iter_no_change"],
        early_stopping=c["early_stopping"], validation_fraction=c["validation_fraction"],
        device=device, precision=precision, memory_limit=parse_memory(c["max_memory"]),
        on_oom=c["on_oom"], n_threads=c["n_threads"], seed=seed, verbose=c["verbose"],
        callbacks=tuple(c["callbacks"] or ()), checkpoint=c["checkpoint"],
    )


def _penalized_by_default(optimizer):
    """Whether ``optimizer`` applies a weight decay of its own when given none."""
    default = (optimizer_arguments(optimizer) or {}).get("weight_decay", 0)
    return isinstance(default, Real) and not isinstance(default, bool) and default != 0
