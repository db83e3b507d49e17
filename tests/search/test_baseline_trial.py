"""The baseline trial: enqueued once, whatever the workers starting together."""

import threading
import time

import optuna

from sklstm.search import create_or_load_study
from sklstm.search.baseline_trial import enqueue_baseline

from .helpers import load_study


def test_workers_starting_together_enqueue_one_baseline(monkeypatch, tmp_path):
    # Each found the new study empty and enqueued the baseline: the study ran it twice
    enqueue = optuna.Study.enqueue_trial

    def slow_enqueue(study, *args, **kwargs):
        time.sleep(0.5)  # the other worker looks at the study meanwhile
        enqueue(study, *args, **kwargs)

    monkeypatch.setattr(optuna.Study, "enqueue_trial", slow_enqueue)
    storage = str(tmp_path / "s.journal")
    studies = [create_or_load_study("s", storage) for _ in range(2)]
    workers = [threading.Thread(target=enqueue_baseline, args=(study, {"lr": 0.01}))
               for study in studies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(load_study(storage, "s").trials) == 1
