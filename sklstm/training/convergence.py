"""When a fit stops: the convergence rule (``tol``, ``n_iter_no_change``) and its warning.

The rule is scikit-learn's MLP rule: stop once the monitored loss has not improved by
at least ``tol`` for ``n_iter_no_change`` epochs in a row. It watches the training
loss, or the validation loss with ``early_stopping=True`` (then the best epoch's
weights are restored). skorch's own :class:`~skorch.callbacks.EarlyStopping` applies
it; this module only configures it and reads the outcome.
"""

from __future__ import annotations

import warnings

from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import EarlyStopping

__all__ = ["STOPPER", "check_convergence", "stopping_callback"]

#: Name of the stopping callback in the net's callbacks.
STOPPER = "convergence"


def _quiet(*args, **kwargs):
    """A sink that prints nothing: the estimator reports convergence itself."""


def stopping_callback(tol, n_iter_no_change, early_stopping):
    """The skorch callback that ends a fit once the loss stops improving.

    Parameters
    ----------
    tol : float or None
        Smallest improvement of the loss that counts; None: no rule on the training
        loss (every epoch up to ``max_epochs`` runs), and with ``early_stopping`` any
        improvement of the validation loss counts.
    n_iter_no_change : int
        Epochs without such an improvement before the fit stops.
    early_stopping : bool
        Watch the validation loss (and restore the best epoch) instead of the
        training loss.

    Returns
    -------
    tuple of (str, skorch.callbacks.EarlyStopping) or None
        The named callback, or None when nothing stops the fit early.

    Examples
    --------
    >>> name, callback = stopping_callback(1e-4, 10, early_stopping=False)
    >>> name, callback.monitor, callback.patience
    ('convergence', 'train_loss', 10)
    """
    if tol is None and not early_stopping:
        return None
    return STOPPER, EarlyStopping(
        monitor="valid_loss" if early_stopping else "train_loss",
        patience=n_iter_no_change,
        threshold=tol or 0.0,
        threshold_mode="abs",
        load_best=early_stopping,
        sink=_quiet,
    )


def check_convergence(estimator, net, max_epochs, lr):
    """Whether the stopping rule ended ``net``'s fit; warn if ``max_epochs`` did instead.

    Parameters
    ----------
    estimator : BaseEstimator
        Named in the warning.
    net : skorch.NeuralNet
        The fitted net.
    max_epochs : int
        The epoch budget of the fit.
    lr : float
        The learning rate used, named in the warning.

    Returns
    -------
    bool
        True when the rule stopped the fit; False when it was off or the fit ran
        all ``max_epochs`` (which, with the rule on, warns).
    """
    stopper = dict(net.callbacks_).get(STOPPER)
    if stopper is None:
        return False
    if stopper.misses_ >= stopper.patience:
        return True
    if len(net.history) >= max_epochs:
        name = type(estimator).__name__
        warnings.warn(
            f"{name} did not converge: max_epochs={max_epochs} was reached while the "
            f"{stopper.monitor.replace('_', ' ')} still improved by more than "
            f"tol={stopper.threshold:g} within {stopper.patience} epochs "
            "(n_iter_no_change). Raise max_epochs, raise lr (now "
            f"{lr:g}), or shorten long sequences with downsample or seq_len.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return False
