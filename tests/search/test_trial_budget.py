"""Trial budget: a study ends with exactly n_trials trials when workers race for them."""

import contextlib
import glob
import os
import threading
import time
import warnings

import numpy as np
import optuna
import pytest

from sklstm._compat.optuna import study_storage
from sklstm.search import TrialBudget, resolve_storage, run_study
from sklstm.search.trial_budget import uses_budget

from .helpers import load_study, python
from .test_trial_attrs import study_of_a_killed_worker

#: A worker that fills ``n_studies`` small studies one after the other, with trials of
#: ~10 ms. Each study is a race for its last places: the workers run in step (they all
#: leave a study when it is full), so every study is a fresh chance for a count-then-create
#: cap to overshoot, where one study would give only one.
RACING_WORKER = """
import sys, time
import optuna
from sklstm.search import resolve_storage, run_study
storage, prefix = resolve_storage(sys.argv[1]), sys.argv[2]
n_studies, n_trials, start_at = int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
optuna.logging.set_verbosity(optuna.logging.WARNING)
time.sleep(max(0.0, start_at - time.time()))  # all workers start together
for i in range(n_studies):
    study = optuna.create_study(study_name=f"{prefix}-{i}", storage=storage, load_if_exists=True)
    run_study(study, lambda t: time.sleep(0.01) or t.suggest_float("x", 0, 1),
              n_trials=n_trials)
"""


def test_racing_workers_make_exactly_n_trials(storage_url, study_name):
    n_studies, n_trials, n_workers = 10, 4, 3
    start_at = time.time() + 8  # after every worker has imported torch and optuna
    workers = [python(RACING_WORKER, storage_url, study_name, n_studies, n_trials, start_at)
               for _ in range(n_workers)]
    outputs = [w.communicate(timeout=240) for w in workers]
    assert [w.returncode for w in workers] == [0] * n_workers, outputs
    for i in range(n_studies):
        trials = load_study(storage_url, f"{study_name}-{i}").trials
        assert sorted(t.number for t in trials) == list(range(n_trials)), f"study {i}"
        assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}


def test_no_lock_left_behind(tmp_path):
    # A timeout ends the loop right after a claim: the claim must be given back.
    path = str(tmp_path / "study.journal")
    study = optuna.create_study(storage=resolve_storage(path))
    run_study(study, lambda t: time.sleep(0.05) or t.suggest_float("x", 0, 1), n_trials=1000,
              timeout=0.2)
    assert 0 < len(study.trials) < 1000
    assert glob.glob(str(tmp_path / "*.lock")) == []
    n_before = len(study.trials)
    run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=n_before + 2)
    assert len(study.trials) == n_before + 2


def _interrupt():
    raise KeyboardInterrupt


def test_an_error_in_claim_releases_the_lock(tmp_path):
    # a lock file left behind blocked the next worker ~30 s, until Optuna broke it
    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.journal")))
    budget = TrialBudget(study, 2)
    budget._trials = _interrupt  # Ctrl-C while counting
    with pytest.raises(KeyboardInterrupt):
        budget.claim()
    assert glob.glob(str(tmp_path / "*.lock")) == []


@pytest.mark.parametrize(("n_trials", "timeout", "error", "message"), [
    ("2", None, TypeError, "n_trials must be an int >= 1, got '2'"),
    (True, None, TypeError, "n_trials must be an int >= 1, got True"),
    (2.0, None, TypeError, "n_trials must be an int >= 1, got 2.0"),
    (None, None, TypeError, "n_trials must be an int >= 1, got None"),
    (0, None, ValueError, "n_trials must be an int >= 1, got 0"),
    (2, "1", TypeError, "timeout must be a positive number of seconds, got '1'"),
    (2, -1, ValueError, "timeout must be a positive number of seconds, got -1"),
    (2, float("nan"), ValueError, r"got nan \(give None for no time limit\)"),
], ids=["str", "bool", "float", "none", "zero", "str-timeout", "negative-timeout",
        "nan-timeout"])
def test_a_bad_budget_is_refused_naming_the_fix(n_trials, timeout, error, message, tmp_path):
    # n_trials="2" failed at the first claim on a raw "'<' not supported between
    # instances of 'int' and 'str'"; n_trials=0 or a timeout of -1 or NaN was taken as given
    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.journal")))
    with pytest.raises(error, match=message):
        TrialBudget(study, n_trials, timeout)
    assert glob.glob(str(tmp_path / "*.lock")) == []


@pytest.mark.parametrize("hook", ["on_wait", "on_count"])
def test_a_budget_refuses_a_hook_that_is_no_callable(hook):
    # on_wait=5 failed only once a full budget waited, on "'int' object is not callable"
    with pytest.raises(TypeError, match=f"{hook} must be a callable or None, got 5"):
        TrialBudget(optuna.create_study(), 1, **{hook: 5})


def test_a_budget_takes_numpy_numbers():
    budget = TrialBudget(optuna.create_study(), np.int64(1), timeout=np.float64(5))
    assert type(budget.n_trials) is int and budget.claim()
    budget.release()


def test_claim_counts_run_trials_not_enqueued_ones():
    study = optuna.create_study()
    study.enqueue_trial({"x": 0.5})
    budget = TrialBudget(study, 1)
    assert budget.claim()  # the enqueued trial has not run: it does not use the budget
    trial = study.ask()  # pops the enqueued trial
    budget.release()
    assert trial.suggest_float("x", 0, 1) == 0.5
    assert not budget.claim()
    budget.release()  # releasing twice (or unheld) does nothing
    assert len(study.trials) == 1


@pytest.mark.parametrize("kind", ["journal", "memory"])
def test_claim_blocks_a_second_worker_until_release(kind, tmp_path):
    # in memory: worker threads of one storage had a lock each, so two counted at
    # once and a study asked for 2 trials ended with one per worker
    storage = (str(tmp_path / "s.journal") if kind == "journal"
               else optuna.storages.InMemoryStorage())
    study = optuna.create_study(storage=resolve_storage(storage))
    first, second = TrialBudget(study, 5), TrialBudget(study, 5)
    assert first.claim()
    got = []
    waiter = threading.Thread(target=lambda: got.append(second.claim()))
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive() and got == []  # waits for the first worker's trial
    study.ask()
    first.release()
    waiter.join(5)
    assert got == [True]
    second.release()


@contextlib.contextmanager
def _another_workers_trial(study):
    """A trial of another worker, alive while in the block: its heartbeats go on."""
    other = study.ask()
    alive = threading.Event()

    def beat():
        while not alive.wait(0.2):
            study_storage(study).record_heartbeat(other._trial_id)

    beater = threading.Thread(target=beat)
    beater.start()
    try:
        yield other
    finally:
        alive.set()
        beater.join()


def test_a_full_budget_waits_for_running_trials_no_longer_than_the_timeout(tmp_path):
    # with heartbeats, a worker whose budget was full waited for another worker's
    # running trial to end (hours), past its own timeout
    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.db"),
                                                        heartbeat_interval=1))
    with _another_workers_trial(study):
        started = time.monotonic()
        run_study(study, lambda t: t.suggest_float("x", 0, 1), n_trials=1, timeout=1)
        assert time.monotonic() - started < 10
    assert [t.state.name for t in study.trials] == ["RUNNING"]


def test_a_waiting_claim_says_once_which_running_trials_it_waits_for(tmp_path):
    # a worker whose budget was full waited for the others' running trials (a grace
    # period after a SIGKILL, a trial's length otherwise) without a word
    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.db"),
                                                        heartbeat_interval=1))
    told = []
    with _another_workers_trial(study) as other:
        # (three looks at the budget, 1 s apart: one word, not one per look)
        assert not TrialBudget(study, 1, timeout=2.5, on_wait=told.append).claim()
    assert [[t.number for t in running] for running in told] == [[other.number]]
    assert TrialBudget(study, 2, on_wait=told.append).claim()  # room: no wait, no word
    assert len(told) == 1


def _raises(trial):
    trial.suggest_float("x", 0, 1)
    raise RuntimeError("broken objective")


@pytest.mark.parametrize(("objective", "reason"), [
    (lambda t: t.suggest_float("x", 0, 1) * float("nan"), "the objective returned NaN"),
    (lambda t: t.suggest_float("x", 0, 1) and None, "the objective returned None"),
    (lambda t: (t.suggest_float("x", 0, 1), 2.0), "for 1 objective(s)"),
    (_raises, "RuntimeError: broken objective"),
], ids=["nan", "none", "two-values", "raises"])
def test_trials_optuna_fails_use_up_the_budget(objective, reason, tmp_path):
    # Optuna fails them without a fail_reason, which the budget took for a dead worker's
    # trial (no place used): run_study created failing trials until the timeout.
    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.journal"),
                                                        heartbeat_interval=60))
    run_study(study, objective, n_trials=3, timeout=30)
    assert [t.state.name for t in study.trials] == ["FAIL"] * 3
    assert all(reason in t.user_attrs["fail_reason"] for t in study.trials)


def test_a_reason_the_objective_gave_is_kept():
    def objective(trial):
        trial.set_user_attr("fail_reason", "ValueError: its own words")
        raise ValueError("its own words, and more")

    study = optuna.create_study()
    run_study(study, objective, n_trials=1)
    assert study.trials[0].user_attrs["fail_reason"] == "ValueError: its own words"


class _LockTakenOver(optuna.samplers.RandomSampler):
    """Samples while another worker takes the budget lock over, as Optuna does with a
    lock held longer than its grace period (sampling that long, a suspended machine):
    renamed away and removed, then made anew by that worker (``retake``)."""

    def __init__(self, directory, retake):
        super().__init__(seed=0)
        self.directory, self.retake, self.taken = directory, retake, []

    def before_trial(self, study, trial):
        for lock in glob.glob(f"{self.directory}/*.budget.lock"):
            os.rename(lock, lock + ".x")
            os.unlink(lock + ".x")
            if self.retake:
                time.sleep(0.05)  # (a new file's time differs from the old one's)
                open(lock, "x").close()
                self.taken.append(lock)


@pytest.mark.parametrize("retake", [False, True], ids=["released", "taken"])
def test_a_budget_lock_taken_over_while_held_fails_no_trial(retake, tmp_path):
    # the holder's release raised "did not possess lock": every such trial failed
    # before its objective ran (without a reason: no place used, more trials made);
    # or it removed the lock of the worker that took it over
    sampler, left = _LockTakenOver(tmp_path, retake), []

    def objective(trial):  # (the claim is released as the trial starts)
        left.extend(os.path.exists(lock) for lock in sampler.taken)
        for lock in sampler.taken:  # the other worker releases it
            os.unlink(lock)
        sampler.taken.clear()
        return trial.suggest_float("x", 0, 1)

    study = optuna.create_study(storage=resolve_storage(str(tmp_path / "s.journal")),
                                sampler=sampler)
    with pytest.warns(UserWarning, match="another worker took it over"):
        run_study(study, objective, n_trials=2, timeout=20)  # (a guard: it looped)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 2
    assert left == ([True, True] if retake else [])  # left to the other worker


@pytest.mark.parametrize(("storage_url", "retry_failed"),
                         [("journal", 1), ("sqlite", 1), ("sqlite", 0)],
                         ids=["journal-retry", "sqlite-retry", "sqlite"], indirect=["storage_url"])
def test_a_worker_killed_after_recording_a_fail_reason_costs_no_trial(storage_url, retry_failed):
    # killed after its objective recorded why the trial failed, before the trial was
    # told FAIL: the heartbeat failed it, but its fail_reason held the study's only
    # place, so the study ended without a complete trial, its retry WAITING for good
    study = study_of_a_killed_worker(storage_url, retry_failed=retry_failed)
    run_study(study, lambda trial: trial.suggest_float("x", 0, 1), n_trials=1, timeout=60)
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]
    assert [uses_budget(t) for t in study.trials] == [False, True]  # counted once
    assert study.trials[1].system_attrs.get("failed_trial") == (0 if retry_failed else None)


def test_a_trial_optunas_own_retry_runs_again_is_counted_once_by_its_retry():
    # a storage of Optuna's own (a storage instance is kept as given) does not mark the
    # trials it fails for their dead worker, nor did sklstm before: the dead trial's
    # fail_reason held the only place, and its retry stayed WAITING for good
    retry = (getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
             or optuna.storages.RetryFailedTrialCallback)  # (Optuna < 4.9)
    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.FAIL, user_attrs={"fail_reason": "MemoryError: "}))
    with warnings.catch_warnings():  # (experimental)
        warnings.simplefilter("ignore")
        retry(max_retry=1)(study, study.trials[0])
    run_study(study, lambda trial: trial.suggest_float("x", 0, 1), n_trials=1)
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]
    assert TrialBudget(study, 1).n_used() == 1
