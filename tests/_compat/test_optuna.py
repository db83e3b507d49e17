"""sklstm._compat.optuna: the installed Optuna is verified, and each private piece holds."""

import inspect
import time
import types
import warnings

import optuna
import pytest
from optuna.storages import (
    InMemoryStorage,
    JournalStorage,
    RDBStorage,
    RetryFailedTrialCallback,
    fail_stale_trials,
)
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

import sklstm._compat.optuna as compat
import sklstm.search.heartbeat as heartbeat_module
from sklstm._compat import UnverifiedVersionError, UnverifiedVersionWarning
from sklstm.search import TrialBudget, resolve_storage
from sklstm.search.budget_lock import budget_lock
from sklstm.search.heartbeat import HEARTBEAT_ATTR, HeartbeatJournalStorage, HeartbeatRDBStorage

from . import declared_minimum, private_imports_outside_compat

pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


def test_installed_optuna_is_verified():
    assert compat.verified(), (
        f"optuna {optuna.__version__} lies outside VERIFIED = {compat.VERIFIED} of "
        "sklstm/_compat/optuna.py: verify the private uses listed in that module's "
        "docstring against this release (tests/_compat, tests/search), then widen VERIFIED.")


def test_verified_starts_at_the_declared_minimum():
    assert compat.VERIFIED[0] == declared_minimum("optuna"), (
        "VERIFIED of sklstm/_compat/optuna.py must start at pyproject.toml's optuna>=")


def test_no_other_module_imports_private_optuna_names():
    others = private_imports_outside_compat("optuna")
    assert not others, ("only sklstm/_compat/optuna.py may import Optuna's private "
                        f"modules and names; move these uses there: {others}")


@pytest.fixture
def backend(tmp_path):
    return JournalFileBackend(str(tmp_path / "study.journal"))


@pytest.fixture
def journal(backend):
    return JournalStorage(backend)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'study.db'}"


def _id(storage, trial):
    """A trial's id in the storage, by Optuna's public API."""
    study_id = storage.get_study_id_from_name(trial.study.study_name)
    return storage.get_trial_id_from_study_id_trial_number(study_id, trial.number)


# --- private attributes ---------------------------------------------------------------

def test_study_storage_is_the_storage_given(journal):
    storage = InMemoryStorage()
    assert compat.study_storage(optuna.create_study(storage=storage)) is storage
    assert compat.study_storage(optuna.create_study(storage=journal)) is journal


def test_unwrap_storage_reaches_the_rdb_storage_inside_optunas_cache(sqlite_url):
    rdb = RDBStorage(sqlite_url)
    cached = compat.study_storage(optuna.create_study(storage=rdb))
    assert cached is not rdb  # Optuna still wraps it
    assert compat.unwrap_storage(cached) is rdb
    assert compat.unwrap_storage(rdb) is rdb


def test_journal_file_path(journal, tmp_path):
    assert compat.journal_file_path(journal) == str(tmp_path / "study.journal")
    assert compat.journal_file_path(InMemoryStorage()) is None


def test_frozen_trial_id_is_the_storage_id(journal):
    study = optuna.create_study(storage=journal)
    for _ in range(3):
        study.ask()
    study_id = journal.get_study_id_from_name(study.study_name)
    for trial in study.get_trials(deepcopy=False):
        assert compat.frozen_trial_id(journal, study_id, trial) == (
            journal.get_trial_id_from_study_id_trial_number(study_id, trial.number))


# --- heartbeat protocol ---------------------------------------------------------------

def test_heartbeat_interval(sqlite_url, journal, backend):
    assert compat.heartbeat_interval(RDBStorage(sqlite_url, heartbeat_interval=7)) == 7
    assert compat.heartbeat_interval(RDBStorage(sqlite_url)) is None
    assert compat.heartbeat_interval(journal) is None
    assert compat.heartbeat_interval(InMemoryStorage()) is None
    assert compat.heartbeat_interval(None) is None
    study = optuna.create_study(storage=HeartbeatJournalStorage(backend, 9))
    assert compat.heartbeat_interval(compat.study_storage(study)) == 9


def test_the_journal_heartbeat_implements_every_abstract_method_optuna_asks_for(backend):
    from optuna.storages._heartbeat import BaseHeartbeat

    assert issubclass(HeartbeatJournalStorage, BaseHeartbeat)
    assert not inspect.isabstract(HeartbeatJournalStorage), \
        HeartbeatJournalStorage.__abstractmethods__
    HeartbeatJournalStorage(backend, 10)


@pytest.mark.parametrize("retry", [0, 1])
def test_optuna_fails_a_journal_trial_whose_heartbeat_is_old(backend, retry, monkeypatch):
    # fail_stale_trials asks _get_stale_trial_ids, then the callback, under the
    # name this Optuna uses; RetryFailedTrialCallback enqueues the retry.
    storage = HeartbeatJournalStorage(backend, 1, retry_failed=retry)
    study = optuna.create_study(storage=storage)
    dead, alive = study.ask(), study.ask()
    # a minute later by the storage's clock: the dead trial's last sign of life (its
    # start) is old, the live one beats then (a heartbeat dated before the trial's
    # start does not make it stale: it may be one copied into a retried trial)
    later = time.time() + 60
    monkeypatch.setattr(heartbeat_module, "time", types.SimpleNamespace(time=lambda: later))
    storage.record_heartbeat(_id(storage, alive))
    fail_stale_trials(study)
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [TrialState.FAIL, TrialState.RUNNING] + [TrialState.WAITING] * retry
    if retry:
        assert RetryFailedTrialCallback.retried_trial_number(study.trials[2]) == dead.number


def test_optuna_runs_a_heartbeat_thread_for_the_journal_storage(backend):
    study = optuna.create_study(storage=HeartbeatJournalStorage(backend, 1))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert HEARTBEAT_ATTR in study.trials[0].system_attrs


# --- RDB stale trials -----------------------------------------------------------------

class _AllSilentTrialsStale(compat.StaleTrialsRDBStorage):
    def more_stale_trial_ids(self, study_id, stale):
        return [i for i in compat.running_trials_without_heartbeat(self, study_id)
                if i not in stale]


def test_running_trials_without_heartbeat(sqlite_url):
    storage = RDBStorage(sqlite_url, heartbeat_interval=60)
    study = optuna.create_study(storage=storage)
    silent, beating = study.ask(), study.ask()
    storage.record_heartbeat(_id(storage, beating))
    done = study.ask()
    study.tell(done, 1.0)
    study_id = storage.get_study_id_from_name(study.study_name)
    assert compat.running_trials_without_heartbeat(storage, study_id) == [_id(storage, silent)]


def test_optuna_asks_the_rdb_storage_override_through_its_cache(sqlite_url):
    storage = _AllSilentTrialsStale(sqlite_url, heartbeat_interval=60)
    study = optuna.create_study(storage=storage)
    study.ask()  # no heartbeat
    storage.record_heartbeat(_id(storage, study.ask()))
    fail_stale_trials(study)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.RUNNING]


def test_rdb_trial_without_heartbeat_fails_after_the_grace_period(sqlite_url):
    # (the shortest grace period: it must be longer than the interval)
    storage = HeartbeatRDBStorage(sqlite_url, heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(storage=storage)
    study.ask()
    fail_stale_trials(study)
    assert study.trials[0].state == TrialState.RUNNING  # within the grace period
    time.sleep(2.5)
    fail_stale_trials(study)
    assert study.trials[0].state == TrialState.FAIL


# --- an unverified Optuna -------------------------------------------------------------

@pytest.fixture
def unverified(monkeypatch):
    monkeypatch.setattr(optuna, "__version__", "99.0.0")


@pytest.mark.usefixtures("unverified")
def test_journal_heartbeats_built_by_hand_raise(backend):
    with pytest.raises(UnverifiedVersionError, match=r"99\.0\.0.*optuna>=4\.3,<5\.2"):
        HeartbeatJournalStorage(backend, 10)


@pytest.mark.usefixtures("unverified")
def test_resolve_storage_opens_a_journal_without_heartbeats(tmp_path):
    with pytest.warns(UnverifiedVersionWarning, match="without heartbeats"):
        storage = resolve_storage(str(tmp_path / "s.journal"), heartbeat_interval=5)
    assert type(storage) is JournalStorage


@pytest.mark.usefixtures("unverified")
def test_the_trial_budget_counts_without_a_lock(journal):
    study = optuna.create_study(storage=journal)
    with pytest.warns(UnverifiedVersionWarning, match="without a lock"):
        budget = TrialBudget(study, 1)
    assert type(budget.lock).__name__ == "_NoLock"
    assert budget.claim()
    study.ask()
    budget.release()
    assert not budget.claim()


@pytest.mark.usefixtures("unverified")
def test_rdb_heartbeats_fail_only_what_optuna_finds(sqlite_url):
    with pytest.warns(UnverifiedVersionWarning, match="heartbeat is too old"):
        storage = _AllSilentTrialsStale(sqlite_url, heartbeat_interval=60)
    study = optuna.create_study(storage=storage)
    study.ask()
    fail_stale_trials(study)
    assert study.trials[0].state == TrialState.RUNNING


@pytest.mark.usefixtures("unverified")
@pytest.mark.parametrize("open_storage", [
    lambda tmp: TrialBudget(optuna.create_study(storage=JournalStorage(
        JournalFileBackend(str(tmp / "study.journal")))), 1),
    lambda tmp: resolve_storage(str(tmp / "s.journal"), heartbeat_interval=5),
    lambda tmp: HeartbeatRDBStorage(f"sqlite:///{tmp / 'study.db'}", heartbeat_interval=5)],
    ids=["trial_budget", "resolve_storage", "rdb_heartbeats"])
def test_the_fallback_warnings_point_at_the_caller(open_storage, tmp_path):
    # they pointed inside sklstm (trial_budget.py, storage.py, heartbeat.py), where no
    # warning filter on the user's module applies
    with pytest.warns(UnverifiedVersionWarning) as record:
        open_storage(tmp_path)
    assert {w.filename for w in record
            if issubclass(w.category, UnverifiedVersionWarning)} == {__file__}


@pytest.mark.usefixtures("unverified")
def test_the_other_helpers_use_public_api_or_say_unknown(journal, sqlite_url):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnverifiedVersionWarning)
        assert compat.study_storage(optuna.create_study(storage=journal)) is None
    assert compat.journal_file_path(journal) is None
    rdb = RDBStorage(sqlite_url, heartbeat_interval=3)
    assert compat.heartbeat_interval(rdb) == 3
    # (optuna's public lock, owning what it made: sklstm's OwnedFileOpenLock)
    assert isinstance(budget_lock(rdb, "s"), optuna.storages.journal.JournalFileOpenLock)
    study = optuna.create_study(storage=journal)
    trial = study.ask()
    study_id = journal.get_study_id_from_name(study.study_name)
    assert compat.frozen_trial_id(journal, study_id, study.trials[0]) == _id(journal, trial)


@pytest.mark.usefixtures("unverified")
def test_the_orm_query_raises(sqlite_url):
    with pytest.raises(UnverifiedVersionError, match="trials without a heartbeat"):
        compat.running_trials_without_heartbeat(RDBStorage(sqlite_url), 1)
