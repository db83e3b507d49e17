"""Shared base of LSTMClassifier and LSTMRegressor.

The estimator validates and converts its input once (:mod:`sklstm._data`), builds
tensors once and hands them to a skorch net (:mod:`sklstm.training`) held in the
fitted attribute ``net_``. Holding the net, rather than subclassing it, keeps the
estimator's parameters plain values that sklearn can clone, search and validate in
``fit``; skorch's history and callbacks stay reachable through ``net_``.
"""

from __future__ import annotations

import os
import time
import warnings
from abc import ABCMeta, abstractmethod
from types import SimpleNamespace

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Hidden, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._data.tensors import SequenceDataset
from .._data.timesteps import to_sequences
from .._data.vocabulary import check_token_ids, fitted_vocab_size
from .._param_validation import PlainParamsMixin, integers, plain_params, reals
from ..exceptions import MemoryBudgetError
from ..network import POOLINGS
from ..resources import PeakMemory, limit_threads, resolve_device
from ..resources.budget import MemoryBudget, format_bytes, parse_memory
from ..training import scaled_learning_rate
from ..training.checkpointing import FitCheckpoint
from ..training.convergence import check_convergence
from ..training.interrupts import CtrlCGuard, finish_interrupted
from ..training.optimizers import resolve_optimizer
from ..training.precision import PRECISIONS, resolve_precision
from ._auto_batch import find_micro_batch, warm_up
from ._checks import check_sample_counts, check_settings, check_validation_split
from ._net_setup import SNAPSHOT, build_net


class BaseLSTM(PlainParamsMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class; use :class:`LSTMClassifier` or :class:`LSTMRegressor`."""

    #: The torch loss class, set by the subclass.
    _loss: type

    _parameter_constraints: dict = {
        "hidden_size": [integers(1)],
        "num_layers": [integers(1)],
        "bidirectional": ["boolean"],
        "dropout": [reals(0, 1, closed="left")],
        "pooling": [StrOptions({"last", *POOLINGS})],
        "batch_size": [integers(1), StrOptions({"auto"})],
        "accumulation_steps": [integers(1)],
        "seq_len": [integers(1), None],
        "keep_steps": [StrOptions({"last", "first"})],
        "downsample": [integers(1), StrOptions({"auto"})],
        "bucketing": ["boolean", StrOptions({"auto"})],
        "max_epochs": [integers(1)],
        "tol": [reals(0), None],
        "n_iter_no_change": [integers(1)],
        "lr": [reals(0, closed="neither")],
        "optimizer": [str, type],  # the name or class is resolved in _checked_params
        "optimizer_params": [dict, None],
        "weight_decay": [reals(0)],
        "gradient_clip": [reals(0, closed="neither"), None],
        "lr_scaling": [StrOptions({"linear", "sqrt"}), None],
        "base_batch_size": [integers(1)],
        "warmup_epochs": [integers(0)],
        "early_stopping": ["boolean"],
        "validation_fraction": [reals(0, 1, closed="neither")],
        "patience": [integers(1), Hidden(StrOptions({"deprecated"}))],
        "embedding_dim": [integers(1), None],
        "vocab_size": [integers(2), None],
        "padding_idx": [integers(0), None],
        "device": [str, torch.device],
        "n_threads": [integers(1), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, tuple, None],
        "checkpoint": [str, os.PathLike, None],
        "max_memory": [integers(1), str, None],  # parse_memory checks the string
        "on_oom": [StrOptions({"shrink", "raise"})],
        "precision": [StrOptions(set(PRECISIONS))],
    }

    def __init__(self, *, hidden_size=64, num_layers=1, bidirectional=False, dropout=0.0,
                 pooling="concat", batch_size=16, accumulation_steps=1, seq_len=None,
                 keep_steps="last", downsample="auto", bucketing="auto", max_epochs=200,
                 tol=1e-4, n_iter_no_change=10, lr=1e-2, optimizer="adam",
                 optimizer_params=None, weight_decay=0.0, gradient_clip=None,
                 lr_scaling=None, base_batch_size=16, warmup_epochs=0,
                 early_stopping=False, validation_fraction=0.1, patience="deprecated",
                 embedding_dim=None, vocab_size=None, padding_idx=0, device="auto",
                 n_threads=None, random_state=None, verbose=0, callbacks=None,
                 checkpoint=None, max_memory=None, on_oom="shrink", precision="32"):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.pooling = pooling
        self.batch_size = batch_size
        self.accumulation_steps = accumulation_steps
        self.seq_len = seq_len
        self.keep_steps = keep_steps
        self.downsample = downsample
        self.bucketing = bucketing
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.lr = lr
        self.optimizer = optimizer
        self.optimizer_params = optimizer_params
        self.weight_decay = weight_decay
        self.gradient_clip = gradient_clip
        self.lr_scaling = lr_scaling
        self.base_batch_size = base_batch_size
        self.warmup_epochs = warmup_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.embedding_dim = embedding_dim
        self.vocab_size = vocab_size
        self.padding_idx = padding_idx
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint = checkpoint
        self.max_memory = max_memory
        self.on_oom = on_oom
        self.precision = precision

    # -- what subclasses define -------------------------------------------------
    @abstractmethod
    def _encode_y(self, y):
        """Validate ``y``, set target attributes, return the training array."""

    @abstractmethod
    def _n_outputs(self):
        """Output units of the network."""

    @abstractmethod
    def _trivial_loss(self, y_train):
        """The training loss of predicting the targets' distribution, for divergence."""


    # -- parameters -------------------------------------------------------------
    def _checked_params(self):
        """The parameters as plain Python values, after the cross-parameter rules."""
        name = type(self).__name__
        p = SimpleNamespace(**plain_params(self.get_params(deep=False)))
        p.optimizer = resolve_optimizer(p.optimizer, name)
        if p.vocab_size is not None and p.embedding_dim is None:
            raise ValueError(
                f"{name}: vocab_size is only used for token input; set embedding_dim as "
                "well (or leave vocab_size=None for numeric sequences)."
            )
        if p.embedding_dim is not None and p.downsample not in ("auto", 1):
            raise ValueError(
                f"{name}: downsample={p.downsample} averages timesteps, which token ids "
                "cannot be; shorten token sequences with seq_len instead."
            )
        if p.patience != "deprecated":
            warnings.warn(
                f"{name}: patience was renamed n_iter_no_change in sklstm 0.2 and will be "
                f"removed in 0.3; using n_iter_no_change={p.patience}.",
                FutureWarning, stacklevel=3,
            )
            p.n_iter_no_change = p.patience
        check_settings(p, name)
        p.memory_limit = parse_memory(p.max_memory)
        if p.batch_size == "auto" and p.checkpoint is not None:
            raise ValueError(
                f"{name}: batch_size='auto' may choose another micro-batch when a fit is "
                "resumed, so it cannot be combined with checkpoint; set the batch_size "
                "a first fit chose (its batch_size_).")
        if p.weight_decay and "weight_decay" in (p.optimizer_params or {}):
            raise ValueError(
                f"{name}: weight_decay={p.weight_decay} and optimizer_params"
                f"['weight_decay']={p.optimizer_params['weight_decay']} both set the L2 "
                "penalty; give it in one place only."
            )
        return p

    # -- input ------------------------------------------------------------------
    def _sequences(self, X, reset):
        """``X`` validated, cut and padded, with the settings of the fit."""
        s = self._sequence_params
        seqs = to_sequences(X, self, reset=reset, seq_len=s["seq_len"], keep=s["keep_steps"],
                            downsample=s["downsample"], tokens=s["tokens"],
                            padding_idx=s["padding_idx"])
        if reset:  # "auto" becomes the factor of this fit; prediction reuses it
            self.downsample_ = s["downsample"] = seqs.downsample
        if seqs.form == "tokens":
            self._check_vocabulary(seqs, reset, s["vocab_size"])
        elif reset and hasattr(self, "vocab_size_"):  # left over from a fit on tokens
            del self.vocab_size_
        return seqs

    def _check_vocabulary(self, seqs, reset, vocab_size):
        if reset:  # vocab_size given, or inferred (and capped) before anything is allocated
            self.vocab_size_ = fitted_vocab_size(
                seqs.values, vocab_size, self._sequence_params["padding_idx"])
        else:
            check_token_ids(seqs.values, self.vocab_size_, "map unseen tokens to a known id, "
                            "or refit with a larger vocab_size.")

    # -- fitting ----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train on sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of arrays of shape (n_timesteps_i, n_features)
            Training sequences (token ids when ``embedding_dim`` is set).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        before = set(vars(self))
        try:
            return self._fit(X, y)
        except BaseException:
            # a fit either completes or leaves no fitted state: what this fit added, and
            # what an earlier fit left (fitted names end in "_"), goes
            for name in [n for n in vars(self) if n not in before or n.endswith("_")]:
                delattr(self, name)
            raise

    def _fit(self, X, y):
        p = self._checked_params()
        device = resolve_device(p.device)
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        check_sample_counts(X, y, type(self).__name__)
        # what prediction needs of the settings: fixed at fit, as sklearn expects
        self._sequence_params = dict(
            seq_len=p.seq_len, keep_steps=p.keep_steps, downsample=p.downsample,
            tokens=p.embedding_dim is not None, padding_idx=p.padding_idx,
            vocab_size=p.vocab_size, n_threads=p.n_threads,
        )
        seqs = self._sequences(X, reset=True)
        y_train = self._encode_y(y)
        self._trivial = self._trivial_loss(y_train)
        if p.early_stopping:
            check_validation_split(self, y_train, p.validation_fraction, is_classifier(self))
        self._precision = resolve_precision(p.precision, device, p.optimizer,
                                            type(self).__name__)
        self.device_ = device
        seed = int(check_random_state(p.random_state).randint(np.iinfo(np.int32).max))
        self._train(p, seed, seqs, y_train)
        return self

    def _train(self, p, seed, seqs, y_train):
        """Train the net (set as ``net_`` first, so callbacks may already predict)."""
        device = self.device_
        checkpoint = None if p.checkpoint is None else FitCheckpoint(
            p.checkpoint, plain_params(self.get_params(deep=False)), seqs, y_train)
        done = 0 if checkpoint is None else checkpoint.epochs_done()
        # a checkpointed fit that converged, or has all max_epochs, is only loaded
        ended = checkpoint.finished() if done else None
        loaded_only = bool(done) and (done >= p.max_epochs or bool(ended and ended["converged"]))
        cuda = [device] if device.type == "cuda" else []
        with limit_threads(p.n_threads):  # torch's one-time costs, not the fit's
            warm_up(self, p, seed, seqs, y_train)
        with limit_threads(p.n_threads), torch.random.fork_rng(devices=cuda), \
                PeakMemory(device) as memory, CtrlCGuard() as ctrl_c:
            start = time.perf_counter()
            budget = MemoryBudget(p.memory_limit, memory)
            dataset = SequenceDataset.from_sequences(seqs, y_train, device,
                                                     memory_limit=budget.limit)
            self._choose_batch(p, seed, seqs, dataset, budget)
            torch.manual_seed(seed)
            # (a fit that is only loaded from its checkpoint trains no epoch)
            self.net_ = build_net(self, p, seed, seqs, checkpoint, min(done, p.max_epochs - 1),
                                  budget=budget, precision=self._precision, ctrl_c=ctrl_c)
            if done:  # a resumed fit: continue with the state it left
                checkpoint.restore(self.net_)
                if not loaded_only:
                    self.net_.partial_fit(dataset, y_train)
                elif p.early_stopping:  # it ended with the best epoch's weights
                    checkpoint.restore_best(self.net_)
            else:
                if checkpoint is not None:
                    checkpoint.start()
                self.net_.fit(dataset, y_train)
            self.fit_time_ = time.perf_counter() - start
        self.peak_memory_ = memory.peak
        if loaded_only:
            self.converged_, self.interrupted_ = bool(ended and ended["converged"]), False
        else:
            self._check_end(p)
        if checkpoint is not None and not self.interrupted_:
            checkpoint.finish(self.converged_)
        self.n_epochs_ = len(self.net_.history)
        self.n_updates_ = sum(
            "train_loss" in row for epoch in self.net_.history for row in epoch["batches"]
        )
        # what the fit ended with: out-of-memory recoveries shrink the micro-batch,
        # a BatchSizeSchedule grows the effective batch
        self.effective_batch_size_ = int(self.net_.batch_size)
        self.batch_size_ = int(self.net_.micro_batch_size or self.net_.batch_size)
        self.accumulation_steps_ = -(-self.effective_batch_size_ // self.batch_size_)
        self.memory_events_ = list(self.net_.memory_events_)
        self.net_.memory_budget = None  # the fit's, measured from its start

    def _choose_batch(self, p, seed, seqs, dataset, budget):
        """Check the data against the budget, resolve ``batch_size="auto"``, and set
        the effective batch and the learning rate that follows from it."""
        name = type(self).__name__
        # only data copied to an accelerator count here: on the CPU the tensors share
        # the arrays' memory, and the resident set's growth so far is noise
        if budget.enforced and dataset.X.device.type != "cpu" and budget.used() > budget.limit:
            raise MemoryBudgetError(
                f"{name}: the training data alone take {format_bytes(budget.used())}, "
                f"more than max_memory={format_bytes(budget.limit)}; raise max_memory or "
                "shorten the sequences (seq_len, downsample).")
        if p.batch_size == "auto":
            start = time.perf_counter()
            p.batch_size, trials = find_micro_batch(self, p, seed, seqs, dataset, budget)
            self.batch_size_search_time_ = time.perf_counter() - start
            self.batch_size_trials_ = [{"batch_size": size, "peak_memory": used}
                                       for size, used in sorted(trials.items())]
        self.effective_batch_size_ = p.batch_size * p.accumulation_steps
        self.lr_ = scaled_learning_rate(
            p.lr, self.effective_batch_size_, p.base_batch_size, p.lr_scaling
        )

    def _check_end(self, p):
        """Whether the fit converged or was interrupted (then back to its last epoch)."""
        self.converged_ = check_convergence(self, self.net_, p.max_epochs, self.lr_)
        # skorch ends a fit quietly on KeyboardInterrupt: neither converged nor done
        snapshot = dict(self.net_.callbacks_)[SNAPSHOT]
        self.interrupted_ = snapshot.in_epoch_ or (
            not self.converged_ and len(self.net_.history) < p.max_epochs)
        if self.interrupted_ and not finish_interrupted(self, self.net_, snapshot):
            raise KeyboardInterrupt  # no epoch was complete: nothing to keep

    # -- prediction -------------------------------------------------------------
    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 array."""
        check_is_fitted(self)
        seqs = self._sequences(X, reset=False)
        device = torch.device(self.net_.device)
        dataset = SequenceDataset.from_sequences(seqs, None, device)
        with limit_threads(self._sequence_params["n_threads"]):
            out = self.net_.forward(dataset, training=False, device="cpu")
        out = out.numpy().astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(out).all(axis=1))
        if bad.size:  # a guard: divergence and out-of-range input are refused earlier
            raise ValueError(
                f"{type(self).__name__} produced non-finite outputs for sequence {bad[0]} of "
                "X; its values may be far outside the training data's range (scale X as "
                "for training)."
            )
        return out

    @property
    def history_(self):
        """The skorch training history (``net_.history``)."""
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
