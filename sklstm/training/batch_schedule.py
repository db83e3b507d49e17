"""Grow the batch instead of decaying the learning rate: :class:`BatchSizeSchedule`.

Smith et al. (2017) show that multiplying the batch by ``k`` where a schedule would
divide the learning rate by ``k`` trains to the same accuracy in fewer optimizer
steps: what matters is the noise scale of SGD, about ``lr * n_samples / batch``. The
callback here does it on a plateau of a monitored loss, as torch's
``ReduceLROnPlateau`` would decay the rate, and grows the batch through gradient
accumulation (:class:`~sklstm.training.SequenceNet`): the effective batch (samples per
optimizer step) grows, the micro-batch of one forward/backward pass, and with it the
memory a step needs, stays as it was.
"""

from __future__ import annotations

import math

from skorch.callbacks import Callback

from .._compat.sklearn import StrOptions
from .._param_validation import integers, plain_params, reals, validate_constraints

__all__ = ["BatchSizeSchedule", "epoch_batch_sizes"]


class BatchSizeSchedule(Callback):
    """A skorch callback that multiplies the effective batch by ``factor`` on a plateau.

    "Don't decay the learning rate, increase the batch size" (Smith, Kindermans,
    Ying and Le, 2017, arXiv:1711.00489): where ``ReduceLROnPlateau`` would divide
    the learning rate by ``factor``, this callback multiplies the effective batch
    (``net.batch_size``, the samples per optimizer step) by it, which lowers the
    noise of the updates in the same way while the number of optimizer steps per
    epoch drops by ``factor``. The batch grows through gradient accumulation: the
    micro-batch of one forward/backward pass (``net.micro_batch_size``) is left as it
    is, so the memory a step needs does not grow (nor do an epoch's forward/backward
    passes: only the optimizer steps become fewer); a net without accumulation
    (``micro_batch_size=None``) gets its current effective batch as micro-batch
    first. Each micro-batch loss is weighted by its share of the effective batch, so
    an epoch with a grown batch makes exactly the updates of a fit started with that
    batch. The learning rate is not changed.

    When an epoch ends, the callback reads ``monitor`` from the epoch's history row
    (lower is better). An epoch improves on the best value so far when its value is
    below ``best * (1 - threshold)`` (``threshold_mode="rel"``) or ``best -
    threshold`` (``"abs"``), as in torch's ``ReduceLROnPlateau``. Once ``patience``
    epochs in a row have not improved, the batch grows; the next ``cooldown`` epochs
    count as improving. (torch's ``ReduceLROnPlateau(patience=p)`` would act one
    epoch later, after ``p + 1`` such epochs; ``patience`` here counts as the
    estimators' ``n_iter_no_change`` and skorch's ``EarlyStopping`` do.) The growth
    is decided at the end of an epoch and applied when the next one begins: the
    next epoch runs with ``min(factor * batch, max_batch_size, n_samples)`` samples per step,
    and a fit that ends right after a plateau keeps the batch its last epoch had in
    ``net.batch_size`` (what the estimators report as ``effective_batch_size_``).
    That is the last epoch's batch also where early stopping keeps the weights of an
    earlier epoch: ``effective_batch_size_`` describes the fit as it ended, as
    ``n_epochs_`` and ``batch_size_`` do, and is the batch a continued fit
    (``partial_fit``, a resumed ``checkpoint``) goes on with; the batch the kept
    weights last trained with is their epoch's ``event_name`` in the history.

    Every epoch's history row gets ``event_name``: the effective batch that epoch
    trained with (recorded when the epoch begins, so the row has it even when
    a stopping callback ends the fit at that epoch's end). The per-batch rows'
    ``train_batch_size`` are the same number but for the last, smaller batch of an
    epoch. A fit continued on the same history (``partial_fit``, or an estimator
    resumed from its ``checkpoint``) replays the rows that have ``event_name`` and
    goes on as one uninterrupted fit would.

    Parameters
    ----------
    monitor : str, default="train_loss"
        The history key to watch, lower is better: ``"train_loss"``,
        ``"valid_loss"`` (needs a validation split, e.g. the estimators'
        ``early_stopping=True``), or a score that a callback placed before this one
        records.
    factor : int, default=2
        The effective batch is multiplied by this on a plateau (at least 2); the
        micro-batches per optimizer step grow by as much.
    patience : int, default=5
        Epochs in a row without improvement after which the batch grows (at least 1).
    threshold : float, default=1e-4
        Smallest improvement that counts, relative to the best value so far
        (``threshold_mode="rel"``, below 1) or in the monitored unit (``"abs"``).
    threshold_mode : {"rel", "abs"}, default="rel"
        How ``threshold`` is read, as in torch's ``ReduceLROnPlateau``.
    cooldown : int, default=0
        Epochs after a growth that count as improving, whatever their value.
    max_batch_size : int or None, default=None
        Largest effective batch; None: the number of training samples (one
        optimizer step per epoch), which also caps a larger value. The net's
        starting effective batch must not exceed it.
    event_name : str, default="effective_batch_size"
        History key under which every epoch's effective batch is recorded.

    Attributes
    ----------
    best_ : float
        Lowest value of ``monitor`` that counted as an improvement (``inf`` before
        the first epoch).
    num_bad_epochs_ : int
        Epochs in a row without improvement since the last improvement or growth.
    cooldown_counter_ : int
        Epochs of cooldown left.
    grow_next_ : bool
        Whether the last epoch ended a plateau, so the next epoch begins with a
        grown batch.

    See Also
    --------
    skorch.callbacks.LRScheduler : Decays the learning rate instead (its
        ``ReduceLROnPlateau`` policy on a plateau).

    References
    ----------
    .. [1] S. L. Smith, P.-J. Kindermans, C. Ying and Q. V. Le, "Don't Decay the
       Learning Rate, Increase the Batch Size", ICLR 2018, arXiv:1711.00489 (2017).

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.datasets import make_sequence_classification
    >>> from sklstm.training import BatchSizeSchedule
    >>> X, y = make_sequence_classification(n_samples=64, n_timesteps=8, random_state=0)
    >>> clf = LSTMClassifier(hidden_size=8, batch_size=8, max_epochs=6, tol=None,
    ...                      callbacks=[BatchSizeSchedule(patience=3)], random_state=0)
    >>> sizes = clf.fit(X, y).history_[:, "effective_batch_size"]
    >>> len(sizes), sizes[0], clf.net_.micro_batch_size
    (6, 8, 8)
    """

    _parameter_constraints: dict = {
        "monitor": [str],
        "factor": [integers(2)],
        "patience": [integers(1)],
        "threshold": [reals(0)],
        "threshold_mode": [StrOptions({"rel", "abs"})],
        "cooldown": [integers(0)],
        "max_batch_size": [integers(1), None],
        "event_name": [str],
    }

    def __init__(self, monitor="train_loss", factor=2, patience=5, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, max_batch_size=None,
                 event_name="effective_batch_size"):
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.max_batch_size = max_batch_size
        self.event_name = event_name

    # -- parameters ---------------------------------------------------------------
    def _params(self):
        """The parameters as Python values, checked (numpy scalars become numbers)."""
        params = plain_params(self.get_params(deep=False))
        # the estimators' check: factor=2.0 is told "pass the int 2"
        validate_constraints(self._parameter_constraints, params, type(self).__name__)
        for name in ("monitor", "event_name"):
            if not params[name]:
                raise ValueError(f"BatchSizeSchedule: {name} must be a non-empty history "
                                 f"key, got {params[name]!r}.")
        if params["threshold_mode"] == "rel" and params["threshold"] >= 1:
            raise ValueError(
                f"BatchSizeSchedule: threshold={params['threshold']} with "
                "threshold_mode='rel' asks for an improvement of 100% or more of the best "
                "loss, which never comes; use a fraction below 1, or threshold_mode='abs'.")
        return params

    def initialize(self):
        """Check the parameters and reset the state.

        Returns
        -------
        self : BatchSizeSchedule
            The callback.
        """
        self._p = self._params()
        self._reset()
        return self

    def _reset(self):
        self.best_ = math.inf
        self.num_bad_epochs_ = 0
        self.cooldown_counter_ = 0
        self.grow_next_ = False
        self._resume_size = None

    # -- the plateau rule -----------------------------------------------------------
    def _is_better(self, score):
        if self.best_ == math.inf:  # the first value is always an improvement
            return score < math.inf
        if self._p["threshold_mode"] == "rel":
            return score < self.best_ * (1.0 - self._p["threshold"])
        return score < self.best_ - self._p["threshold"]

    def _step(self, score):
        """One epoch's value through the rule; True when the batch is to grow."""
        if self._is_better(score):
            self.best_ = score
            self.num_bad_epochs_ = 0
        else:  # NaN included: it never improves
            self.num_bad_epochs_ += 1
        if self.cooldown_counter_ > 0:
            self.cooldown_counter_ -= 1
            self.num_bad_epochs_ = 0
        if self.num_bad_epochs_ >= self._p["patience"]:
            self.cooldown_counter_ = self._p["cooldown"]
            self.num_bad_epochs_ = 0
            return True
        return False

    # -- skorch hooks -------------------------------------------------------------------
    def on_train_begin(self, net, **kwargs):
        """Check the net; replay the epochs of its history trained under a schedule.

        Parameters
        ----------
        net : SequenceNet
            The net being fitted: a :class:`~sklstm.training.SequenceNet` (it has
            ``micro_batch_size`` and ``train_iterator_``).
        **kwargs : dict
            skorch's hook arguments (``X``, ``y``), unused.
        """
        if not hasattr(self, "_p"):  # a callback skorch did not initialize
            self.initialize()
        if not (hasattr(net, "micro_batch_size") and hasattr(type(net), "train_iterator_")):
            raise TypeError(
                f"BatchSizeSchedule needs a net with gradient accumulation "
                f"(sklstm.training.SequenceNet, as the sklstm estimators use), not "
                f"{type(net).__name__}: without micro-batches a larger batch would need "
                "more memory.")
        self._reset()
        event, monitor = self._p["event_name"], self._p["monitor"]
        for row in net.history:
            if event not in row:  # an epoch trained without a schedule
                continue
            self._resume_size = row[event]
            score = row.get(monitor)
            if score is not None:
                self.grow_next_ = self._step(float(score))

    def on_epoch_begin(self, net, **kwargs):
        """Apply a growth decided at the last epoch's end; record the epoch's batch.

        Parameters
        ----------
        net : SequenceNet
            The net being fitted.
        **kwargs : dict
            skorch's hook arguments (``dataset_train``, ``dataset_valid``), unused.
        """
        iterator = net.train_iterator_
        if iterator is None or not hasattr(iterator, "batch_size"):
            raise TypeError(
                "BatchSizeSchedule: the net's training iterator has no batch_size to "
                f"change ({type(iterator).__name__}); use sklstm.data.BatchLoader "
                "as iterator_train, as the sklstm estimators do.")
        size = iterator.batch_size
        if net.micro_batch_size is None:  # the micro-batch is the batch as configured
            net.micro_batch_size = size
        if self._resume_size is not None:  # a fit continued on its history
            size, self._resume_size = self._resume_size, None
        cap = self._p["max_batch_size"]
        if cap is not None and size > cap:
            raise ValueError(
                f"BatchSizeSchedule: max_batch_size={cap} is below the net's effective "
                f"batch of {size}; the schedule only grows the batch. Raise "
                "max_batch_size, or start from a smaller batch.")
        if self.grow_next_:
            self.grow_next_ = False
            # a step holds at most every training sample, also under a larger
            # max_batch_size (the history then recorded batches no step had)
            limit = len(iterator.dataset) if cap is None else min(cap, len(iterator.dataset))
            size = max(size, min(size * self._p["factor"], limit))
        if size != iterator.batch_size:
            iterator.batch_size = size  # BatchLoader reads it as the epoch begins
            net.batch_size = size  # iterators made later (partial_fit) start with it
        net.history.record(self._p["event_name"], size)

    def on_epoch_end(self, net, **kwargs):
        """Read ``monitor`` of the epoch and decide whether the next epoch's batch grows.

        Parameters
        ----------
        net : SequenceNet
            The net being fitted.
        **kwargs : dict
            skorch's hook arguments, unused.
        """
        monitor = self._p["monitor"]
        score = net.history[-1].get(monitor)
        if score is None:
            raise ValueError(
                f"BatchSizeSchedule: {monitor!r} is not in the history of epoch "
                f"{len(net.history)}. 'valid_loss' needs a validation split (the "
                "estimators' early_stopping=True); a score of your own must be recorded "
                "by a callback placed before BatchSizeSchedule.")
        self.grow_next_ = self._step(float(score))


def epoch_batch_sizes(net, default):
    """The effective batch each epoch of ``net``'s history trained with.

    A :class:`BatchSizeSchedule` among the net's callbacks records it under its
    ``event_name``, and under the default name one of a fit that a resumed fit no
    longer has; epochs without a record trained with ``default``.

    Parameters
    ----------
    net : skorch.NeuralNet
        A net whose history holds the epochs done (a fit resumed from its checkpoint).
    default : int
        The effective batch of the fit's parameters.

    Returns
    -------
    list of int
        One batch an epoch.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> net = SimpleNamespace(callbacks_=[("grow", BatchSizeSchedule(event_name="batch"))],
    ...                       history=[{"batch": 8}, {"batch": 16}, {}])
    >>> epoch_batch_sizes(net, 8)
    [8, 16, 8]
    """
    names = [callback.event_name for _, callback in net.callbacks_
             if isinstance(callback, BatchSizeSchedule)]
    names.append("effective_batch_size")  # (BatchSizeSchedule's default event_name)
    return [next((row[name] for name in names if name in row), default)
            for row in net.history]
