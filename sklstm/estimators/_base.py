"""Shared base of LSTMClassifier and LSTMRegressor.

``fit`` runs one way: the parameters and data are validated once
(:mod:`~sklstm.estimators._params`, :mod:`sklstm.data`) and become one immutable
:class:`~sklstm.training.plan.FitPlan`; :func:`sklstm.training.fit.train` builds the
training tensors, the batch and a skorch net from the plan alone and trains it.

The estimator holds the net in the fitted attribute ``net_`` rather than subclassing
it, which keeps its parameters plain values that scikit-learn can clone, search and
validate in ``fit``; skorch's history and callbacks stay reachable through ``net_``.
Fitted attributes are set in one place, ``BaseLSTM._set_fitted``.
"""

from __future__ import annotations

import difflib
import inspect
from abc import ABC, abstractmethod

import numpy as np
import torch
from sklearn.base import BaseEstimator, is_classifier
from sklearn.utils.validation import check_is_fitted

from .._compat.sklearn import fit_context
from .._param_validation import PREVIOUS_VALUES, PlainParamsMixin, plain_params
from ..data.level import resolve_split_level
from ..data.relative import check_relative_has_steps
from ..data.tensors import SequenceDataset
from ..data.timesteps import resolve_ar_window, to_sequences
from ..data.vocabulary import check_token_ids, fitted_vocab_size
from ..network.conv import resolve_conv_channels
from ..resources import limit_threads, resolve_device
from ..resources.concurrency import fit_running, fit_stream
from ..resources.memory_budget import check_memory_limit
from ..training.checkpointing import check_checkpoint_directory
from ..training.fit import train
from ..training.model_size import check_model_fits
from ..training.optimizer_steps import check_optimizer_step
from ..training.plan import make_plan
from ..training.precision import resolve_precision
from ..training.setup import check_kernels_fit, check_validation_split
from ._data_checks import (
    check_column_order,
    check_fit_params,
    check_sample_counts,
    warn_one_step_rows,
    warn_unscaled,
)
from ._nested_params import NestedParamsMixin
from ._params import PARAMETER_CONSTRAINTS, check_params
from ._persistence import LOAD_ONLY_ATTRIBUTES, PersistenceMixin

__all__ = ["BaseLSTM"]


class BaseLSTM(PersistenceMixin, NestedParamsMixin, PlainParamsMixin, BaseEstimator, ABC):
    """Base class; use :class:`LSTMClassifier` or :class:`LSTMRegressor`."""

    #: The torch loss class, set by the subclass.
    _loss: type

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(self, *, hidden_size=64, num_layers=1, bidirectional=False, dropout=0.0,
                 pooling="concat", batch_size=16, accumulation_steps=1, seq_len=None,
                 keep_steps="last", downsample="auto", bucketing="auto", max_epochs=200,
                 tol=1e-4, n_iter_no_change=10, lr=1e-2, lr_schedule="adaptive",
                 optimizer="adam", optimizer_params=None, weight_decay=0.0, gradient_clip=None,
                 lr_scaling=None, base_batch_size=16, warmup_epochs=0,
                 early_stopping=False, validation_fraction=0.1, patience="deprecated",
                 embedding_dim=None, vocab_size=None, padding_idx=0, device="auto",
                 n_threads=None, random_state=None, verbose=0, callbacks=None,
                 checkpoint=None, max_memory=None, on_oom="shrink", precision="32",
                 conv_channels=None, conv_kernel_sizes=(8, 5, 3), ar_window=None,
                 split_level=False):
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
        self.lr_schedule = lr_schedule
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
        self.conv_channels = conv_channels
        self.conv_kernel_sizes = conv_kernel_sizes
        self.ar_window = ar_window
        self.split_level = split_level

    @classmethod
    def _check_init_keywords(cls, params):
        """Refuse keywords that are no parameter, as Python would, but naming ``cls``.

        A subclass's ``__init__`` passes the base's parameters on as ``**params``;
        Python's own error about a misspelt one would name ``BaseLSTM.__init__()``,
        a class the user never wrote. Called by the subclass first; sets nothing.
        """
        unknown = [name for name in params if name not in _BASE_PARAMETERS]
        if unknown:
            raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument "
                            f"{unknown[0]!r}{cls._keyword_hint(unknown[0])}")

    @classmethod
    def _keyword_hint(cls, keyword):
        """What ``keyword`` may have meant (``""``: nothing): the other estimator's
        parameter, another library's name (:data:`_OTHER_LIBRARIES`; difflib took
        ``warm_start`` for ``random_state``), or a close spelling."""
        owners = [sub.__name__ for sub in BaseLSTM.__subclasses__() if not issubclass(cls, sub)
                  and keyword in inspect.signature(sub.__init__).parameters]
        if owners:
            return f"; {keyword} is a parameter of {owners[0]}"
        if keyword in _OTHER_LIBRARIES:
            return "; " + _OTHER_LIBRARIES[keyword]
        names = [n for n in inspect.signature(cls.__init__).parameters if n != "self"]
        close = difflib.get_close_matches(keyword, names, n=1)
        return f"; did you mean {close[0]!r}?" if close else ""

    # -- what subclasses define -------------------------------------------------
    @abstractmethod
    def _encode_y(self, y):
        """Validate ``y``; return ``(y_train, target)``: the training array and the
        fitted attributes the targets give (``classes_``, ``target_mean_``...).

        A subclass whose :meth:`_network_input` gives an offset takes it as a second
        argument, ``offset``: one value per sample, subtracted from its targets."""

    #: Parameters that prediction reads as the fit fixed them (kept in
    #: ``_sequence_params``, so ``set_params`` after a fit changes nothing): the base's,
    #: and a subclass's own besides.
    _fit_settings = ("seq_len", "keep_steps", "downsample", "padding_idx", "vocab_size",
                     "n_threads")
    _prediction_settings = ()

    def _network_input(self, seqs, settings):
        """``(seqs, offset)``: the sequences the network reads, and a per-sample offset
        of the targets (None: none). A hook, run on every fit and prediction with the
        fit's ``settings``; the regressor's ``relative`` uses it. Here: ``seqs`` as
        they are."""
        return seqs, None

    @abstractmethod
    def _n_outputs(self, target):
        """Output units of the network, from the ``target`` attributes."""

    @abstractmethod
    def _trivial_loss(self, y_train, weights):
        """The training loss of predicting the targets' distribution (the chance level
        of convergence and divergence checks), under the loss's class ``weights``."""

    def _criterion(self, y_train, target, checked):
        """``(loss class, class weights or None)`` of this fit: :attr:`_loss`,
        unweighted. The classifier's ``class_weight`` weighs its classes."""
        return self._loss, None

    # -- fitting ----------------------------------------------------------------
    def fit(self, X, y, **fit_params):
        """Train on sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of arrays of shape (n_timesteps_i, n_features)
            Training sequences (token ids when ``embedding_dim`` is set).
        {y_fit}
        **fit_params : dict
            None are taken: any keyword argument, ``sample_weight`` among them
            (per-sample weights are not supported), is refused with a TypeError
            that says what to do instead, before anything is trained.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        # what a load could not restore, and the device the file was trained on, are no
        # longer this model's once it is refitted
        for name in LOAD_ONLY_ATTRIBUTES:
            vars(self).pop(name, None)
        before = set(vars(self))
        try:
            check_fit_params(fit_params, type(self).__name__, is_classifier(self))
            return self._fit(X, y)
        except BaseException:
            # a fit either completes or leaves no fitted state: what this fit added, and
            # what an earlier fit left (fitted names end in "_"; the private ones,
            # _sequence_params..., do not), goes; also where fit_context refused a
            # parameter before _fit began
            self._clear_fitted([n for n in vars(self) if n not in before or n.endswith("_")
                                or self._is_saved_attribute(n)])
            raise

    @fit_context(prefer_skip_nested_validation=True)
    def _fit(self, X, y):
        plan, seqs, y_train, state = self._prepare(X, y)
        # the state prediction needs is set with the net, before its first epoch
        # (callbacks may predict); the outcome when training ends
        with fit_running():  # a fit starting beside it in another thread sees it
            outcome = train(plan, seqs, y_train,
                            on_net=lambda net: self._set_fitted(**state, net_=net))
        self._set_fitted(**outcome)
        return self

    def _set_fitted(self, **attributes):
        """The one place fitted attributes are set."""
        for name, value in attributes.items():
            setattr(self, name, value)

    def _clear_fitted(self, names):
        for name in names:
            vars(self).pop(name, None)

    def _prepare(self, X, y):
        """Everything before training: ``(plan, sequences, y_train, state)``, where
        ``state`` holds the fitted attributes prediction needs. Raises on bad
        parameters or data; trains nothing.

        The parameters are checked first; then the data layer validates ``X``, the
        targets are encoded (after ``X``: the subclass's :meth:`_network_input` may
        give them an offset taken from ``X``) and the plan is made, so the fit's state
        goes down the layers and does not come back up.
        """
        name = type(self).__name__
        params = plain_params(self.get_params(deep=False))
        defaults = plain_params(type(self)().get_params(deep=False))
        checked = check_params(params, name, defaults)
        if checked["checkpoint"] is not None:  # before any work that the fit could lose
            check_checkpoint_directory(checked["checkpoint"], name)
        if y is None:
            raise ValueError(f"{name} requires y to be passed, but the target y is None.")
        check_sample_counts(X, y, name)
        check_column_order(name)
        # what an earlier fit left goes (a vocabulary of tokens, say); scikit-learn's
        # validation below records n_features_in_ and the feature names anew
        self._clear_fitted([n for n in vars(self) if self._is_saved_attribute(n)])
        device = resolve_device(checked["device"])
        # what prediction needs of the settings: fixed at fit, as sklearn expects
        settings = {key: checked[key] for key in (*self._fit_settings,
                                                  *self._prediction_settings)}
        settings["tokens"] = checked["embedding_dim"] is not None
        seqs = self._to_sequences(X, settings, reset=True)
        settings["downsample"] = seqs.downsample  # "auto" becomes this fit's factor
        check_relative_has_steps(name, checked.get("relative"), seqs, is_classifier(self))
        # the targets after X: an offset of the subclass's may come from X's sequences
        seqs, offset = self._network_input(seqs, settings)
        y_train, target = self._encode_y(y) if offset is None else self._encode_y(y, offset)
        # "auto" as this fit's data sizes it (token ids have no highway); the highway
        # reads every feature over its root mean square
        checked["ar_window"] = None if seqs.form == "tokens" else resolve_ar_window(
            checked["ar_window"], seqs.shortest, seqs.n_features, len(y_train))
        # (a kernel past a sequence's end reads zeros: refused for a named branch only)
        conv_named = not isinstance(checked["conv_channels"], str)
        checked["conv_channels"] = resolve_conv_channels(
            checked["conv_channels"], checked["conv_kernel_sizes"], seqs.shortest,
            seqs.form == "tokens")
        checked["split_level"] = resolve_split_level(
            checked["split_level"], seqs, y_train, is_classifier(self), checked.get("relative"))
        rms = None if seqs.form == "tokens" else seqs.feature_rms()
        warn_unscaled(name, rms)
        ar_scale = None if checked["ar_window"] is None else tuple(map(float, rms))
        criterion, class_weights = self._criterion(y_train, target, checked)
        vocab_size = None if seqs.form != "tokens" else fitted_vocab_size(
            seqs.values, checked["vocab_size"], checked["padding_idx"])  # before allocating
        plan = make_plan(
            params, checked, name=name, device=device, criterion=criterion,
            stratified=is_classifier(self), n_inputs=seqs.n_features,
            n_outputs=self._n_outputs(target), vocab_size=vocab_size,
            padded=seqs.lengths is not None, class_weights=class_weights,
            trivial_loss=self._trivial_loss(y_train, class_weights),
            precision=resolve_precision(checked["precision"], device,
                                        checked["optimizer"], name),
            n_samples=len(y_train), defaults={**defaults, **PREVIOUS_VALUES},
            ar_scale=ar_scale)
        check_memory_limit(plan.memory_limit, device, name)
        check_validation_split(plan, y_train, target.get("classes_"))
        # (a window or kernel longer than the data is refused before the network's size
        # is counted: the module built to count it may be beyond what torch can build)
        check_kernels_fit(plan, seqs, conv_named)
        check_model_fits(plan)  # before the warm-up step builds the network
        # what torch refuses only as it steps, on the device (capturable=True on the CPU
        # ended the fit at its first batch with a bare AssertionError); last, as the one
        # check that runs on the device
        check_optimizer_step(plan.optimizer, plan.optimizer_params, plan.base_lr, device,
                             name)
        state = {**target, "_sequence_params": settings, "downsample_": seqs.downsample,
                 "ar_window_": checked["ar_window"], "_ar_scale": ar_scale,
                 "conv_channels_": checked["conv_channels"],
                 "split_level_": checked["split_level"],
                 "device_": device, **({} if vocab_size is None else
                                       {"vocab_size_": vocab_size})}
        return plan, seqs, y_train, state

    # -- input ------------------------------------------------------------------
    def _to_sequences(self, X, settings, reset):
        """``X`` validated, cut and padded with the fit's ``settings``."""
        return to_sequences(X, self, reset=reset, seq_len=settings["seq_len"],
                            keep=settings["keep_steps"], downsample=settings["downsample"],
                            tokens=settings["tokens"], padding_idx=settings["padding_idx"],
                            # a relative input's anchor is subtracted in float64
                            precise=settings.get("relative") is not None)

    def _sequences(self, X):
        """``X`` for prediction, checked against what the fit saw."""
        warn_one_step_rows(self, X)
        seqs = self._to_sequences(X, self._sequence_params, reset=False)
        if seqs.form == "tokens":
            check_token_ids(seqs.values, self.vocab_size_, "map unseen tokens to a known "
                            "id, or refit with a larger vocab_size: under cross-validation "
                            "(or any split) the whole data's vocabulary, its largest id + 1, "
                            "e.g. vocab_size=int(max(map(max, X))) + 1 (vocab_size=None "
                            "infers the training fold's alone).")
        return seqs

    # -- prediction -------------------------------------------------------------
    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 array."""
        return self._forward_with_offset(X)[0]

    def _forward_with_offset(self, X):
        """Raw network outputs for ``X`` and the per-sample offset of its targets
        (:meth:`_network_input`; None when there is none)."""
        check_is_fitted(self)
        seqs, offset = self._network_input(self._sequences(X), self._sequence_params)
        device = torch.device(self.net_.device)
        dataset = SequenceDataset.from_sequences(seqs, None, device)
        # (beside concurrent fits, on a CUDA stream of its own: its kernels need not
        # wait for theirs)
        with limit_threads(self._sequence_params["n_threads"]), fit_stream(device):
            out = self.net_.forward(dataset, training=False, device="cpu")
        out = out.numpy().astype(np.float64)
        # a guard: divergence and out-of-range input are refused earlier
        self._refuse_non_finite(out, "{name} produced non-finite outputs for sequence {i} of X")
        return out, offset

    def _refuse_non_finite(self, out, problem):
        """Raise a ValueError when a row of ``out`` (network outputs, or predictions
        made of them) is not finite: ``problem``, formatted with the estimator's
        ``name`` and the first such sequence ``i``, and the likely cause and fix."""
        bad = np.flatnonzero(~np.isfinite(out.reshape(len(out), -1)).all(axis=1))
        if bad.size:
            raise ValueError(
                problem.format(name=type(self).__name__, i=bad[0]) + "; its values may be "
                "far outside the training data's range (scale X as for training)."
            )

    @property
    def history_(self):
        """The skorch training history (``net_.history``)."""
        # unfitted: NotFittedError (an AttributeError, so hasattr stays False), not
        # Python's word on net_, an attribute the user never asked for
        check_is_fitted(self)
        return self.net_.history

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


#: The names ``BaseLSTM.__init__`` takes (what a subclass may pass on as ``**params``).
_BASE_PARAMETERS = frozenset(inspect.signature(BaseLSTM.__init__).parameters) - {"self"}

#: Parameters of scikit-learn's and Keras's estimators, and what they are here.
_OTHER_LIBRARIES = {
    **dict.fromkeys(("learning_rate", "learning_rate_init"), "did you mean 'lr'?"),
    **dict.fromkeys(("max_iter", "epochs", "n_epochs"), "did you mean 'max_epochs'?"),
    "warm_start": "to train a fit further, fit with checkpoint=<a directory>, then refit "
                  "with a larger max_epochs: the refit continues where the fit stopped",
}

