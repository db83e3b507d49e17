"""The callback that reports a fold's validation score to an Optuna trial every epoch.

:class:`~sklstm.search.CVObjective` adds it to the LSTM of each fold it fits, so a
pruner compares trials epoch by epoch (steps numbered across folds: see
:mod:`sklstm.search.objective`).
"""

from __future__ import annotations

import copy

import optuna
from skorch.callbacks import Callback

__all__ = ["CALLBACK_NAME", "EpochScoreReporter"]

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
