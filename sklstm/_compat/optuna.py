"""Every use sklstm makes of Optuna's private API, behind plain names.

Optuna has no public way to do these, so they use its internals (read in Optuna's
source, 4.3 and 5.1):

* **heartbeat protocol**: ``optuna.storages._heartbeat.BaseHeartbeat`` (the methods
  Optuna's heartbeat thread and ``fail_stale_trials`` call on a storage, among them the
  private ``_get_stale_trial_ids``) and ``is_heartbeat_enabled``:
  :class:`StorageHeartbeat`, :func:`heartbeat_interval`;
* **RDB stale trials**: overriding ``RDBStorage._get_stale_trial_ids`` and querying its
  ORM models (``optuna.storages._rdb.models``) in a session of
  ``optuna.storages._rdb.storage._create_scoped_session``: :class:`StaleTrialsRDBStorage`,
  :func:`running_trials_without_heartbeat`;
* **private attributes**: ``Study._storage`` (:func:`study_storage`), the
  ``RDBStorage`` inside Optuna's private ``_CachedStorage._backend``
  (:func:`unwrap_storage`), ``JournalStorage._backend`` and
  ``JournalFileBackend._file_path`` (:func:`journal_file_path`), ``FrozenTrial._trial_id``
  (:func:`frozen_trial_id`);
* **private messages**: the ``ValueError`` with which ``optuna.study._tell`` refuses to
  record a trial that is already finished (:func:`finished_elsewhere`).

They serve the heartbeats of :mod:`sklstm.search.heartbeat` and the trial budget of
:mod:`sklstm.search.trial_budget`. On an Optuna outside :data:`VERIFIED`:

* ``resolve_storage`` opens a journal file without heartbeats (as with
  ``heartbeat_interval=None``), and warns; a ``HeartbeatJournalStorage`` built by hand
  raises :class:`~sklstm._compat.UnverifiedVersionError` (:func:`require_verified`), as
  does :func:`running_trials_without_heartbeat`: Optuna would call a protocol, or sklstm
  query tables, that may have changed;
* an RDB storage with heartbeats fails only the trials Optuna itself finds stale (not
  those of a worker that died before its first heartbeat), and warns when opened;
* :func:`study_storage` returns None (warning): the trial budget then counts without a
  lock and does not wait for running trials, which is Optuna's own behaviour;
* the other helpers use Optuna's public API or answer "unknown" (see each).

Each warning is an :class:`~sklstm._compat.UnverifiedVersionWarning` that names the
installed version and what to install.
"""

from __future__ import annotations

import abc

import optuna
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from . import UnverifiedVersionError, install_hint, unverified_message, warn_unverified, within

try:  # read only on a verified Optuna; a later one may have moved them
    from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
except ImportError:  # pragma: no cover - an unverified Optuna
    BaseHeartbeat, is_heartbeat_enabled = object, None

__all__ = ["VERIFIED", "StaleTrialsRDBStorage", "StorageHeartbeat", "finished_elsewhere",
           "frozen_trial_id", "heartbeat_interval", "journal_file_path", "require_verified",
           "running_trials_without_heartbeat", "study_storage", "unwrap_storage", "verified",
           "verified_or_warn"]

#: Optuna (major, minor) versions these uses were verified on, inclusive.
VERIFIED = ((4, 3), (5, 1))

#: What to install instead of an unverified Optuna (the next minor release is unverified).
_REINSTALL = install_hint("optuna", VERIFIED)


def verified(version=None):
    """Whether the installed (or given) Optuna version lies within :data:`VERIFIED`.

    Parameters
    ----------
    version : str or None, default=None
        An Optuna version string; None checks the installed Optuna.

    Returns
    -------
    bool

    Examples
    --------
    >>> verified("4.3.0"), verified("5.1.0"), verified("4.2.0"), verified("6.0.0")
    (True, True, False, False)
    """
    return within(version or optuna.__version__, VERIFIED)


def _message(feature, remedy):
    return unverified_message("optuna", optuna.__version__, VERIFIED, feature, remedy)


def require_verified(feature, remedy):
    """Raise :class:`~sklstm._compat.UnverifiedVersionError` on an unverified Optuna.

    Parameters
    ----------
    feature, remedy : str
        What needs the private API (as for :func:`verified_or_warn`), and what the
        user can do instead, besides installing a verified Optuna.

    Raises
    ------
    UnverifiedVersionError
        If the installed Optuna lies outside :data:`VERIFIED`.
    """
    if not verified():
        raise UnverifiedVersionError(_message(feature, f"{remedy}; or {_REINSTALL}."))


def verified_or_warn(feature, fallback):
    """Whether Optuna is verified; if not, warn that *feature* falls back to *fallback*.

    Parameters
    ----------
    feature : str
        What needs the private API, as the start of a sentence.
    fallback : str
        What happens instead, as a sentence.

    Returns
    -------
    bool
        True on a verified Optuna; False (after an
        :class:`~sklstm._compat.UnverifiedVersionWarning`) otherwise.
    """
    if verified():
        return True
    warn_unverified(_message(feature, f"{fallback}; {_REINSTALL} to avoid that."))
    return False


def study_storage(study):
    """The storage of an Optuna study (``Study._storage``: Optuna has no public handle).

    Parameters
    ----------
    study : optuna.Study

    Returns
    -------
    optuna.storages.BaseStorage or None
        None on an unverified Optuna (with an
        :class:`~sklstm._compat.UnverifiedVersionWarning`): callers then treat the
        storage as unknown.

    Examples
    --------
    >>> type(study_storage(optuna.create_study())).__name__
    'InMemoryStorage'
    """
    if verified_or_warn("Finding a study's storage",
                        "The trial budget counts without a lock (workers may overshoot "
                        "n_trials) and does not wait for trials of dead workers to fail"):
        return study._storage
    return None


def unwrap_storage(storage):
    """The ``RDBStorage`` inside Optuna's private cache wrapper, or *storage* itself.

    ``optuna.create_study`` wraps an ``RDBStorage`` in ``_CachedStorage``, which keeps
    it in ``_backend``: the only way to reach its engine.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage

    Returns
    -------
    optuna.storages.BaseStorage
        *storage* unchanged if it wraps no ``RDBStorage``, or on an unverified Optuna.
    """
    backend = getattr(storage, "_backend", None) if verified() else None
    return backend if isinstance(backend, RDBStorage) else storage


def journal_file_path(storage):
    """The file of a ``JournalStorage`` on a ``JournalFileBackend``, or None.

    Both keep what is needed privately (``_backend``, ``_file_path``).

    Parameters
    ----------
    storage : optuna.storages.BaseStorage

    Returns
    -------
    str or None
        None for another storage or backend, and on an unverified Optuna.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "study.journal")
    >>> journal_file_path(JournalStorage(JournalFileBackend(path))) == path
    True
    """
    if not (verified() and isinstance(storage, JournalStorage)):
        return None
    backend = getattr(storage, "_backend", None)
    return backend._file_path if isinstance(backend, JournalFileBackend) else None


def heartbeat_interval(storage):
    """The heartbeat interval of a storage in seconds, or None without heartbeats.

    Optuna's private ``is_heartbeat_enabled`` on a verified Optuna; otherwise the
    public ``get_heartbeat_interval`` of storages that have it.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage or None

    Returns
    -------
    int or None

    Examples
    --------
    >>> heartbeat_interval(optuna.storages.InMemoryStorage()) is None
    True
    """
    if storage is None:
        return None
    if verified() and is_heartbeat_enabled is not None:
        return storage.get_heartbeat_interval() if is_heartbeat_enabled(storage) else None
    get_interval = getattr(storage, "get_heartbeat_interval", None)
    return get_interval() if callable(get_interval) else None


def finished_elsewhere(exc):
    """Whether ``exc`` is Optuna's refusal to record the result of a trial that is
    already finished (another worker failed it as stale while it ran).

    A storage raises ``UpdateFinishedTrialError`` (public); before it writes, Optuna's
    private ``optuna.study._tell`` may raise a bare ``ValueError("Cannot tell a FAIL
    trial.")`` instead, recognized by its text on a verified Optuna only.

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    bool

    Examples
    --------
    >>> finished_elsewhere(optuna.exceptions.UpdateFinishedTrialError("Trial#0 ..."))
    True
    >>> finished_elsewhere(ValueError("Cannot tell a FAIL trial."))
    True
    """
    if isinstance(exc, optuna.exceptions.UpdateFinishedTrialError):
        return True
    return (verified() and type(exc) is ValueError
            and str(exc).startswith("Cannot tell a ") and str(exc).endswith(" trial."))


def frozen_trial_id(storage, study_id, trial):
    """The storage's id of a frozen trial (``FrozenTrial._trial_id``).

    Parameters
    ----------
    storage : optuna.storages.BaseStorage
        The storage holding the trial.
    study_id : int
        The id of its study in that storage.
    trial : optuna.trial.FrozenTrial

    Returns
    -------
    int
        On an unverified Optuna, asked of the storage's public API (one query).
    """
    if verified():
        return trial._trial_id
    return storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)


class StorageHeartbeat(BaseHeartbeat):
    """Base class of a storage whose running trials send heartbeats to Optuna.

    Optuna's heartbeat thread and ``fail_stale_trials`` talk to a storage through the
    private ``BaseHeartbeat``. A subclass implements the public methods
    ``record_heartbeat``, ``get_heartbeat_interval``, ``get_heartbeat_stale_trial_callback``
    and :meth:`stale_trial_ids`; this class maps Optuna's private and version-dependent
    names onto them. A subclass calls :func:`require_verified` in ``__init__``.
    """

    @abc.abstractmethod
    def stale_trial_ids(self, study_id):
        """Ids of the study's RUNNING trials whose worker is taken for dead."""

    def _get_stale_trial_ids(self, study_id):
        return self.stale_trial_ids(study_id)

    def get_failed_trial_callback(self):
        """The callback of ``get_heartbeat_stale_trial_callback``, under the name Optuna
        < 4.9 asks for (4.9 deprecated it)."""
        return self.get_heartbeat_stale_trial_callback()


def running_trials_without_heartbeat(storage, study_id):
    """Ids of the study's RUNNING trials that have no heartbeat row in an RDB storage.

    Optuna has no public query for them: its ORM models are the only way to ask.

    Parameters
    ----------
    storage : optuna.storages.RDBStorage
    study_id : int

    Returns
    -------
    list of int

    Raises
    ------
    UnverifiedVersionError
        On an unverified Optuna (:class:`StaleTrialsRDBStorage` does not ask then).
    """
    require_verified("Finding trials without a heartbeat",
                     "Leave those trials to Optuna's own heartbeat")
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    with _create_scoped_session(storage.scoped_session) as session:
        return [trial_id for (trial_id,) in (
            session.query(models.TrialModel.trial_id)
            .filter(models.TrialModel.study_id == study_id,
                    models.TrialModel.state == TrialState.RUNNING,
                    ~models.TrialModel.heartbeats.any())
            .all())]


class StaleTrialsRDBStorage(RDBStorage):
    """An ``RDBStorage`` whose stale trials a subclass can add to.

    Optuna fails the trials that ``RDBStorage._get_stale_trial_ids`` (private) lists;
    here the list is Optuna's plus :meth:`more_stale_trial_ids`. On an unverified
    Optuna it is Optuna's alone (a warning says so when the storage is opened).

    Parameters
    ----------
    *args, **kwargs
        Those of ``optuna.storages.RDBStorage``.
    """

    def __init__(self, *args, **kwargs):
        verified_or_warn("Failing trials whose worker died before its first heartbeat",
                         "Only trials whose heartbeat is too old are failed")
        super().__init__(*args, **kwargs)

    def more_stale_trial_ids(self, study_id, stale):
        """Stale trials Optuna does not find itself: none here, subclasses add them.

        Parameters
        ----------
        study_id, stale : int, list of int
            The study, and the ids of its trials that Optuna found stale.

        Returns
        -------
        list of int
            Further ids, none of them in *stale*.
        """
        return []

    def _get_stale_trial_ids(self, study_id):
        stale = super()._get_stale_trial_ids(study_id)
        if not verified():
            return stale
        return stale + self.more_stale_trial_ids(study_id, stale)
