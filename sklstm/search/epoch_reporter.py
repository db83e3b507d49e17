"""What a fold's fit tells its Optuna trial: the validation score every epoch, and
whether the fit converged.

:class:`~sklstm.search.CVObjective` adds :class:`EpochScoreReporter` to the LSTM of
each fold it fits, so a pruner compares trials epoch by epoch (steps numbered across
folds: see :mod:`sklstm.search.objective`), and fits each fold in
:func:`convergence_warnings_held`, so that a fit that did not converge is counted in
its trial instead of warning once per fold.
"""

from __future__ import annotations

import copy
import threading
import warnings
from contextlib import contextmanager

import optuna
from sklearn.exceptions import ConvergenceWarning
from skorch.callbacks import Callback

from .._compat.python import warn_at_caller

__all__ = ["CALLBACK_NAME", "FOLDS_NOT_CONVERGED", "EpochScoreReporter",
           "convergence_warnings_held", "fold_convergence", "record_convergence",
           "warn_unconverged"]

#: Name of the reporting callback inside the LSTM's ``callbacks`` list.
CALLBACK_NAME = "sklstm_optuna_reporter"


class EpochScoreReporter(Callback):
    """Callback for skorch: score the fold's validation data each epoch, report it, maybe prune.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial to report to.
    estimator : estimator or Pipeline
        The object being fitted (the whole Pipeline when the LSTM is its last step), used
        to score ``X_val``; sklstm sets every attribute ``predict`` needs before training.
    X_val, y_val : array-like
        This fold's held-out data.
    scorer : callable
        ``scorer(estimator, X, y) -> float``, greater is better.
    step_offset : int, default=0
        Added to the epoch index to form the Optuna step.

    Examples
    --------
    >>> import optuna
    >>> from sklearn.metrics import check_scoring
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(60, 5, 2, 2, random_state=0)
    >>> trial = optuna.create_study(direction="maximize").ask()
    >>> clf = LSTMClassifier(hidden_size=4, max_epochs=2, random_state=0)
    >>> reporter = EpochScoreReporter(trial, clf, X[40:], y[40:], check_scoring(clf))
    >>> clf = clf.set_params(callbacks=[("report", reporter)]).fit(X[:40], y[:40])
    >>> sorted(trial.study.trials[0].intermediate_values)
    [0, 1]
    """

    def __init__(self, trial, estimator, X_val, y_val, scorer, step_offset=0):
        self.trial = trial
        self.estimator = estimator
        self.X_val = X_val
        self.y_val = y_val
        self.scorer = scorer
        self.step_offset = step_offset

    def get_params(self, deep=True):
        """The callback's one hyper-parameter, ``{"step_offset": ...}``.

        The trial, estimator and data are references, not hyper-parameters: they stay
        out of ``net.get_params()``, which would otherwise walk into the Pipeline being
        fitted.

        Parameters
        ----------
        deep : bool, default=True
            Unused (the callback holds no estimator parameters of its own).

        Returns
        -------
        dict
            ``{"step_offset": step_offset}``.
        """
        return {"step_offset": self.step_offset}

    def __sklearn_clone__(self):
        # scikit-learn's clone built the class from get_params alone and failed with
        # "__init__() missing 5 required positional arguments"; a copy would score the
        # original estimator (unfitted, or fitted on another fold) while its clone trains
        raise TypeError(
            "an EpochScoreReporter cannot be cloned: it reports one fit of one estimator, "
            "on one fold's data, to one trial (scikit-learn clones an estimator's "
            "callbacks, e.g. in cross_validate or a search). Add it to the estimator "
            "after cloning, as sklstm.search.CVObjective does for every fold")

    def __deepcopy__(self, memo):
        # sklstm deep-copies callbacks at fit; the copy must still point at the live trial
        # and at the estimator being fitted (a deep copy of it would be unfitted).
        return copy.copy(self)

    def on_epoch_end(self, net, **kwargs):
        """Score ``X_val``, record and report the score, and prune if the trial should stop.

        The score is recorded as ``"cv_score"`` in the net's history and reported
        to the trial at step ``step_offset + epoch``.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained; its history gives the epoch index.
        **kwargs : dict
            Further arguments skorch passes to callbacks; unused.

        Raises
        ------
        optuna.TrialPruned
            If the trial's pruner decides to stop the trial after this report.
        """
        self._report(net)

    def on_train_end(self, net, **kwargs):
        """Report the epoch a stopping rule ended the fit at, if it went unreported.

        A rule (sklstm's ``tol`` or ``early_stopping``, skorch's ``EarlyStopping``)
        stops the fit by raising in its own ``on_epoch_end``, which skorch runs before
        this one's (an estimator's callbacks run after sklstm's): the last epoch of
        every fit that stopped early was not reported. It is here, with the weights the
        fit ends with (the best epoch's where the rule restores them), which are those
        the fold is scored with.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.
        **kwargs : dict
            Further arguments skorch passes to callbacks; unused.

        Raises
        ------
        optuna.TrialPruned
            If the trial's pruner decides to stop the trial after this report.
        """
        # (a row without its train_loss is an epoch cut short: sklstm removes it)
        if len(net.history) and "train_loss" in net.history[-1] \
                and "cv_score" not in net.history[-1]:
            self._report(net)

    def _report(self, net):
        epoch = len(net.history) - 1
        score = float(self.scorer(self.estimator, self.X_val, self.y_val))
        net.history.record("cv_score", score)
        step = self.step_offset + epoch
        self.trial.report(score, step)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned at step {step} (epoch {epoch}): score {score:.4g}")


# The ConvergenceWarnings of the fits that the threads of this process run in
# convergence_warnings_held, by thread; the showwarning they replaced, while any runs.
_HELD_LOCK = threading.Lock()
_held = {"blocks": 0, "shown_by": None, "caught": {}}
#: Python's own, for a hook left in place after the last block (a ``catch_warnings``
#: entered in a block and left after it puts the hook back)
_PYTHON_SHOWWARNING = warnings.showwarning


def _show_or_hold(message, category, filename, lineno, file=None, line=None):
    caught = _held["caught"].get(threading.get_ident())
    if caught is not None and issubclass(category, ConvergenceWarning):
        caught.append(str(message))
        return
    # (anything else, or another thread's: shown as it was, by what was in place)
    shown_by = _held["shown_by"] or warnings.showwarning
    if shown_by is _show_or_hold:  # (left in place by a catch_warnings that outlived us)
        shown_by = _PYTHON_SHOWWARNING
    shown_by(message, category, filename, lineno, file, line)


@contextmanager
def convergence_warnings_held():
    """Hold the ``ConvergenceWarning`` messages this thread's code would show in the
    block, instead of showing them; yield the list they are added to.

    The warning filters still apply first: an ``"error"`` filter raises in the block
    (the fit fails, as it does without the block), an ``"ignore"`` one drops the
    warning, and a warning the filters show once is held once. Other warnings, and
    those of other threads, are shown as before.

    By hand, because Python (before 3.14) has no warning filters per thread: fits of
    several tune workers run in threads of one process (``study.optimize(n_jobs=2)``,
    :func:`~sklstm.search.concurrent_fits`), and ``catch_warnings`` blocks that threads
    enter and leave in turn restore each other's filters (a thread's block held the
    warnings of every other fit, for the rest of the process). Here one hook on
    ``warnings.showwarning`` is in place from the first open block to the last one's
    end, and sorts each warning by the thread that shows it.

    Yields
    ------
    list of str
        The messages held in the block, in order.
    """
    caught, me = [], threading.get_ident()
    with _HELD_LOCK:
        if not _held["blocks"]:
            _held["shown_by"], warnings.showwarning = warnings.showwarning, _show_or_hold
        _held["blocks"] += 1
        outer, _held["caught"][me] = _held["caught"].get(me), caught
    try:
        yield caught
    finally:
        with _HELD_LOCK:
            if outer is None:
                del _held["caught"][me]
            else:  # (a block nested in another of the thread's: the outer one holds on)
                _held["caught"][me] = outer
            _held["blocks"] -= 1
            if not _held["blocks"]:
                if warnings.showwarning is _show_or_hold:  # (else another put its own)
                    warnings.showwarning = _held["shown_by"]
                _held["shown_by"] = None


#: The user attribute of a trial that counts its folds whose fit did not converge.
FOLDS_NOT_CONVERGED = "folds_not_converged"


def fold_convergence(final, held):
    """What the fit of one fold says of its convergence.

    Parameters
    ----------
    final : BaseLSTM
        The fold's fitted sklstm estimator (a Pipeline's last step).
    held : list of str
        The ``ConvergenceWarning`` messages held while it was fitted
        (:func:`convergence_warnings_held`).

    Returns
    -------
    str or None
        None where it converged, or had no convergence rule to end it (``tol=None``
        without ``early_stopping``: it ran ``max_epochs`` by design); otherwise the
        first warning's message, ``""`` where the filters showed none (an
        ``"ignore"`` filter, or one that shows it once): ``converged_`` still says it.
    """
    if held:
        return held[0]
    rule = final.tol is not None or final.early_stopping
    return "" if rule and not final.converged_ else None


def record_convergence(trial, folds):
    """Keep in ``trial``'s user attrs how many of its folds did not converge.

    ``folds_not_converged`` (``"2 of 3"``, of the folds fitted to the end) and, where
    a warning was held, ``convergence_warning``: the first one's message and advice.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial being run.
    folds : list of str or None
        :func:`fold_convergence` of each fold fitted to the end.
    """
    if not folds:
        return
    unconverged = [m for m in folds if m is not None]
    trial.set_user_attr(FOLDS_NOT_CONVERGED, f"{len(unconverged)} of {len(folds)}")
    if any(unconverged):
        trial.set_user_attr("convergence_warning", next(m for m in unconverged if m))


def warn_unconverged(trial, folds):
    """The one ``ConvergenceWarning`` of a search for its fits: say that ``trial``'s
    folds did not converge, and where to see those of the other trials.

    Parameters
    ----------
    trial : optuna.trial.Trial
        The trial being run.
    folds : list of str or None
        :func:`fold_convergence` of each fold fitted to the end.

    Returns
    -------
    bool
        Whether it warned (any fold did not converge).
    """
    unconverged = [m for m in folds if m is not None]
    if not unconverged:
        return False
    why = next((m for m in unconverged if m), "the convergence rule did not end them.")
    warn_at_caller(
        f"trial {trial.number}: {len(unconverged)} of {len(folds)} folds did not converge: "
        f"{why} The search does not repeat this warning for further folds or trials: "
        f"each trial counts them in its user attr {FOLDS_NOT_CONVERGED!r}, a column of "
        "sklstm.search.results_table, and summary says how many trials had any. Where "
        "many did not converge, raise max_epochs (or search it), as the advice says.",
        ConvergenceWarning)
    return True
