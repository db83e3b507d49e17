"""Opening storages: workers that open one new database together all get it."""

import time

import pytest

from .helpers import load_study, needs_postgres, python

#: A worker that opens the storage at an agreed moment and creates (or loads) one study.
OPENING_WORKER = """
import sys, time
import optuna
from sklstm.search import resolve_storage
url, name, start_at = sys.argv[1], sys.argv[2], float(sys.argv[3])
time.sleep(max(0.0, start_at - time.time()))  # all workers open the new database together
optuna.create_study(study_name=name, storage=resolve_storage(url), load_if_exists=True)
"""


@pytest.mark.parametrize("storage_url", ["sqlite",
                                         pytest.param("postgres", marks=needs_postgres)],
                         indirect=True)
def test_workers_opening_a_new_database_together_all_succeed(storage_url, study_name):
    # Each creates Optuna's schema if missing; before the fix, the losers of that race
    # failed with "table studies already exists" (seen in CI on 2 cores).
    start_at = time.time() + 6  # after every worker has imported optuna
    workers = [python(OPENING_WORKER, storage_url, study_name, start_at) for _ in range(4)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert load_study(storage_url, study_name).trials == []
