"""Shared base of LSTMClassifier and LSTMRegressor.

The estimator validates and converts its input once (:mod:`sklstm._data`), builds
tensors once and hands them to a skorch net (:mod:`sklstm.training`) held in the
fitted attribute ``net_``. Holding the net, rather than subclassing it, keeps the
estimator's parameters plain values that sklearn can clone, search and validate in
``fit``; skorch's history and callbacks stay reachable through ``net_``.
"""

from __future__ import annotations

import copy
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
from skorch.callbacks import GradientNormClipping
from skorch.dataset import ValidSplit

from .._data.batching import BatchLoader
from .._data.tensors import SequenceDataset
from .._data.timesteps import to_sequences
from .._data.vocabulary import check_token_ids, fitted_vocab_size
from .._param_validation import PlainParamsMixin, integers, plain_params, reals
from ..network import POOLINGS, LSTMNetwork
from ..resources import PeakMemory, limit_threads, resolve_device
from ..training import net_class, scaled_learning_rate, warmup_scheduler
from ..training.convergence import check_convergence, stopping_callback
from ..training.optimizers import optimizer_defaults, resolve_optimizer
from ._checks import check_sample_counts, check_settings, check_validation_split


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
        "batch_size": [integers(1)],
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
    }

    def __init__(self, *, hidden_size=64, num_layers=1, bidirectional=False, dropout=0.0,
                 pooling="concat", batch_size=16, accumulation_steps=1, seq_len=None,
                 keep_steps="last", downsample="auto", bucketing="auto", max_epochs=200,
                 tol=1e-4, n_iter_no_change=10, lr=1e-2, optimizer="adam",
                 optimizer_params=None, weight_decay=0.0, gradient_clip=None,
                 lr_scaling=None, base_batch_size=16, warmup_epochs=0,
                 early_stopping=False, validation_fraction=0.1, patience="deprecated",
                 embedding_dim=None, vocab_size=None, padding_idx=0, device="auto",
                 n_threads=None, random_state=None, verbose=0, callbacks=None):
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

    # -- what subclasses define -------------------------------------------------
    @abstractmethod
    def _encode_y(self, y):
        """Validate ``y``, set target attributes, return the training array."""

    @abstractmethod
    def _n_outputs(self):
        """Output units of the network."""


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
        if p.early_stopping:
            check_validation_split(self, y_train, p.validation_fraction, is_classifier(self))
        self.effective_batch_size_ = p.batch_size * p.accumulation_steps
        self.lr_ = scaled_learning_rate(
            p.lr, self.effective_batch_size_, p.base_batch_size, p.lr_scaling
        )
        self.device_ = device
        seed = int(check_random_state(p.random_state).randint(np.iinfo(np.int32).max))
        cuda = [device] if device.type == "cuda" else []
        with limit_threads(p.n_threads), torch.random.fork_rng(devices=cuda), \
                PeakMemory(device) as memory:
            torch.manual_seed(seed)
            start = time.perf_counter()
            dataset = SequenceDataset.from_sequences(seqs, y_train, device)
            # set before training, so callbacks may already call predict/score
            self.net_ = self._build_net(p, seed, seqs)
            self.net_.fit(dataset, y_train)
            self.fit_time_ = time.perf_counter() - start
        self.peak_memory_ = memory.peak
        self.n_epochs_ = len(self.net_.history)
        # counted from the batch rows: an interrupted epoch (skorch stops on
        # KeyboardInterrupt) records no train_batch_count but did take its steps
        self.n_updates_ = sum(
            "train_loss" in row for epoch in self.net_.history for row in epoch["batches"]
        )
        self.converged_ = check_convergence(self, self.net_, p.max_epochs, self.lr_)
        return self

    def _callbacks(self, p):
        callbacks = []
        if p.gradient_clip is not None:
            callbacks.append(("gradient_clip", GradientNormClipping(p.gradient_clip)))
        if p.warmup_epochs:
            callbacks.append(("warmup", warmup_scheduler(p.warmup_epochs)))
        stopper = stopping_callback(p.tol, p.n_iter_no_change, p.early_stopping)
        if stopper is not None:
            callbacks.append(stopper)
        # copies: fitting must not change the callbacks the user passed in
        for i, cb in enumerate(p.callbacks or []):
            named = cb if isinstance(cb, tuple) else (f"user_{i}_{type(cb).__name__}", cb)
            callbacks.append((named[0], copy.deepcopy(named[1])))
        return callbacks

    def _build_net(self, p, seed, seqs):
        bucketing = seqs.lengths is not None if p.bucketing == "auto" else bool(p.bucketing)
        opt_params = {**optimizer_defaults(p.optimizer, self.device_, p.optimizer_params),
                      **(p.optimizer_params or {})}
        opt_kwargs = {f"optimizer__{k}": v for k, v in opt_params.items()}
        if p.weight_decay:
            opt_kwargs["optimizer__weight_decay"] = p.weight_decay
        train_split = None
        if p.early_stopping:
            train_split = ValidSplit(
                p.validation_fraction, stratified=is_classifier(self), random_state=seed
            )
        embedding = {}
        if p.embedding_dim is not None:
            embedding = {"module__vocab_size": self.vocab_size_,
                         "module__embedding_dim": p.embedding_dim,
                         "module__padding_idx": p.padding_idx}
        return net_class()(
            module=LSTMNetwork,
            module__n_inputs=seqs.n_features,
            module__n_outputs=self._n_outputs(),
            module__hidden_size=p.hidden_size,
            module__num_layers=p.num_layers,
            module__bidirectional=p.bidirectional,
            module__dropout=p.dropout,
            module__pooling=p.pooling,
            **embedding,
            criterion=self._loss,
            optimizer=p.optimizer,
            lr=self.lr_,
            **opt_kwargs,
            max_epochs=p.max_epochs,
            batch_size=self.effective_batch_size_,
            micro_batch_size=p.batch_size,
            iterator_train=BatchLoader,
            iterator_train__shuffle=True,
            iterator_train__bucketing=bucketing,
            iterator_train__seed=seed,
            iterator_valid=BatchLoader,
            train_split=train_split,
            callbacks=self._callbacks(p),
            device=self.device_,
            verbose=p.verbose,
        )

    # -- prediction -------------------------------------------------------------
    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 array."""
        check_is_fitted(self)
        seqs = self._sequences(X, reset=False)
        device = torch.device(self.net_.device)
        dataset = SequenceDataset.from_sequences(seqs, None, device)
        with limit_threads(self._sequence_params["n_threads"]):
            out = self.net_.forward(dataset, training=False, device="cpu")
        return out.numpy().astype(np.float64)

    @property
    def history_(self):
        """The skorch training history (``net_.history``)."""
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
