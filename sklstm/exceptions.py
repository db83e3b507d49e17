"""The errors and warnings sklstm raises of its own.

Examples
--------
>>> from sklstm.exceptions import DivergenceError
>>> issubclass(DivergenceError, ValueError)
True
"""

__all__ = ["DivergenceError", "FitInterruptedWarning"]


class DivergenceError(ValueError):
    """The training loss became NaN or infinite: the fit is discarded.

    A ``ValueError``, so that scikit-learn's searches record the candidate through
    their ``error_score`` and Optuna marks the trial FAILED with this message. The
    estimator is left unfitted.
    """


class FitInterruptedWarning(UserWarning):
    """A fit was interrupted (Ctrl-C); the estimator keeps its last complete epoch."""
