"""The errors and warnings sklstm raises of its own.

Examples
--------
>>> from sklstm.exceptions import DivergenceError
>>> issubclass(DivergenceError, ValueError)
True
"""

__all__ = ["DivergenceError", "FitInterruptedWarning", "MemoryBudgetError",
           "MicroBatchShrunkWarning", "TimeGapWarning", "UnscaledInputWarning",
           "WarmupOutlastsFitWarning"]


class DivergenceError(ValueError):
    """The training loss became NaN or infinite: the fit is discarded.

    A ``ValueError``, so that scikit-learn's searches record the candidate through
    their ``error_score`` and Optuna marks the trial FAILED with this message. The
    estimator is left unfitted.
    """


class FitInterruptedWarning(UserWarning):
    """A fit was interrupted (Ctrl-C); the estimator keeps its last complete epoch."""


class MemoryBudgetError(MemoryError):
    """A training step cannot fit the memory budget (``max_memory``) or the device.

    Raised before training when the network's weights, gradients and optimizer state
    alone need more than ``max_memory`` or the memory available (``hidden_size``,
    ``num_layers``, ``vocab_size`` x ``embedding_dim`` too large), when ``max_memory``
    is smaller than one sample's step needs or ``batch_size="auto"`` finds nothing
    that fits, and during training when
    a step runs out of memory at a micro-batch of one sample (or with
    ``on_oom="raise"``). A ``MemoryError``, so ``except MemoryError`` catches it;
    the estimator is left unfitted.
    """


class MicroBatchShrunkWarning(UserWarning):
    """A step ran out of memory and was redone with half the micro-batch and twice the
    accumulation steps: the effective batch, and so the updates, are unchanged."""


class TimeGapWarning(UserWarning):
    """A regular time series given to :func:`~sklstm.windows.make_windows` has steps
    missing (hourly readings without a day): windows across a gap join the steps on
    either side as if they were neighbours.

    A ``UserWarning``, so filters of those catch it; a class of its own, so that a user
    whose windows may span the gaps can filter it by category.
    """


class UnscaledInputWarning(UserWarning):
    """The features of ``X`` are far from unit scale (root mean squares above 100, or
    more than 1000 times apart): an LSTM learns poorly from them; scale ``X`` first
    (:class:`~sklstm.preprocessing.SequenceScaler`).

    A ``UserWarning``, so filters of those catch it; a class of its own, so that it can
    be filtered by category rather than by its wording, which holds the data's figures.
    """


class WarmupOutlastsFitWarning(UserWarning):
    """``warmup_epochs >= max_epochs``: the fit ends before the warm-up reaches ``lr_``,
    so it never trains at the full learning rate.

    A ``UserWarning``, so filters of those catch it; a class of its own, so that it can
    be filtered by category rather than by its wording.
    """
