"""The study's pruner, blind to the trials that only repeat a finished one.

A trial whose parameters repeat those of a finished trial ends as that trial ended,
without a fit (``reuse_duplicates``, :mod:`~sklstm.search.duplicates`). Such a copy of
a complete trial is COMPLETE, so Optuna's pruners counted it as a finished trial: with
``MedianPruner(n_startup_trials=5)``, one fitted trial and four copies of it started
pruning on the curve of that one trial. No Optuna pruner can be told which trials to
leave out, so :class:`IgnoringDuplicates` shows the pruner the study without them.

Optuna's ``HyperbandPruner`` is left as it is: its samplers draw each bracket's
trials from that bracket's alone only where ``study.pruner`` is a ``HyperbandPruner``
(a wrapper turned that off), and its brackets read the storage directly, past any
wrapper. Under Hyperband the copies count as the trials they repeat.
"""

from __future__ import annotations

from optuna.pruners import BasePruner, HyperbandPruner, NopPruner

__all__ = ["DUPLICATE_OF", "IgnoringDuplicates", "ignoring_duplicates"]

#: User attribute of a trial that repeats a finished one: that trial's number.
DUPLICATE_OF = "duplicate_of"


class _StudyWithoutDuplicates:
    """The study as a pruner reads it: its trials less the copies of finished ones."""

    def __init__(self, study):
        self._study = study

    def __getattr__(self, name):
        return getattr(self._study, name)

    def get_trials(self, deepcopy=True, states=None):
        return [t for t in self._study.get_trials(deepcopy=deepcopy, states=states)
                if DUPLICATE_OF not in t.user_attrs]

    @property
    def trials(self):
        return self.get_trials()


class IgnoringDuplicates(BasePruner):
    """``pruner``, deciding on the study's trials less the copies of finished ones.

    Parameters
    ----------
    pruner : optuna.pruners.BasePruner
        The pruner that decides.

    Attributes
    ----------
    pruner : optuna.pruners.BasePruner
        The pruner given.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(pruner=IgnoringDuplicates(optuna.pruners.MedianPruner()))
    >>> type(study.pruner.pruner).__name__
    'MedianPruner'
    """

    def __init__(self, pruner):
        self.pruner = pruner

    def prune(self, study, trial):
        """Whether ``trial`` should stop, as ``pruner`` says of the study without copies.

        Parameters
        ----------
        study : optuna.Study
            The study; its trials that repeat a finished one are hidden from ``pruner``.
        trial : optuna.trial.FrozenTrial
            The trial running.

        Returns
        -------
        bool
            Whether to prune it.
        """
        return self.pruner.prune(_StudyWithoutDuplicates(study), trial)


def ignoring_duplicates(pruner):
    """``pruner`` wrapped in :class:`IgnoringDuplicates`; a ``NopPruner`` as it is (it
    prunes nothing, and ``study.pruner`` then still says that plainly), and a
    ``HyperbandPruner`` (see the module's note).

    Parameters
    ----------
    pruner : optuna.pruners.BasePruner
        The study's pruner.

    Returns
    -------
    optuna.pruners.BasePruner
        The pruner to create the study with.
    """
    if isinstance(pruner, (NopPruner, HyperbandPruner)):
        return pruner
    return IgnoringDuplicates(pruner)
