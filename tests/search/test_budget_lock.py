"""The lock of a study's trial budget: one every worker of the storage can see."""

import optuna
import pytest

from sklstm._compat.optuna import study_storage
from sklstm.search import resolve_storage
from sklstm.search.budget_lock import budget_lock


class _ListBackend(optuna.storages.journal.BaseJournalBackend):
    """A journal kept in a list: a storage sklstm knows no shared lock for."""

    def __init__(self):
        self.logs = []

    def read_logs(self, log_number_from):
        return self.logs[log_number_from:]

    def append_logs(self, logs):
        self.logs.extend(logs)


@pytest.mark.parametrize(
    "kind, lock",
    [("journal", "OwnedFileOpenLock"), ("sqlite", "OwnedFileOpenLock"),
     ("memory", "lock"), ("other", "_NoLock")],
)
def test_lock_kind_per_storage(kind, lock, tmp_path):
    storage = {
        "journal": lambda: str(tmp_path / "s.journal"),
        "sqlite": lambda: f"sqlite:///{tmp_path / 's.db'}",
        "memory": optuna.storages.InMemoryStorage,
        "other": lambda: optuna.storages.JournalStorage(_ListBackend()),
    }[kind]()
    study = optuna.create_study(storage=resolve_storage(storage))
    assert type(budget_lock(study_storage(study), study.study_name)).__name__ == lock
