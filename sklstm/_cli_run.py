"""``sklstm tune``'s run of the study: what it says around it and its exit status.

Split from :mod:`sklstm.cli`, which holds the options and their checks.
"""

from __future__ import annotations

import contextlib
import logging
import sys

from optuna.trial import TrialState

from ._compat.optuna import heartbeat_interval
from .search.report import fail_reason
from .search.trial_budget import INTERRUPTED, WORKER, used_trials, worker_name

__all__ = ["interrupted_note", "outcome", "timeout_note", "waiting_reporter",
           "without_trial_tracebacks"]


class _NoTraceback(logging.Filter):
    """Drops the traceback Optuna logs with each failed trial.

    Its one-line warning already names the error, the trial keeps it as ``fail_reason``
    (shown in the table, and as the exit message when every trial failed), and a
    screenful of library frames per trial buries the progress of the search.
    """

    def filter(self, record):
        record.exc_info = record.exc_text = None
        return True


@contextlib.contextmanager
def without_trial_tracebacks():
    """:class:`_NoTraceback` on the handlers of Optuna's logger while the study runs
    (only then: ``main`` may run in a process that goes on, such as a test)."""
    handlers = logging.getLogger("optuna").handlers
    quiet = _NoTraceback()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def _mine(trials, started):
    """The trials this worker started since ``started`` (a datetime)."""
    me = worker_name()
    return [t for t in trials if t.user_attrs.get(WORKER) == me
            and t.datetime_start is not None and t.datetime_start >= started]


def outcome(study, started):
    """Exit status and message: 1 when no trial completed, or when this run's all failed."""
    trials = study.get_trials(deepcopy=False)
    mine = _mine(trials, started)
    failed = [t for t in (mine or trials) if t.state == TrialState.FAIL]
    # (a dead worker's trial said as lost, as in the table: was '?' or its own reason)
    last = f"; last failure: {fail_reason(failed[-1])}" if failed else ""
    if not any(t.state == TrialState.COMPLETE for t in trials):
        return 1, f"no trial of the study completed ({len(failed)} failed){last}"
    if mine and len(failed) == len(mine):
        return 1, f"all {len(mine)} trials this worker ran failed{last}"
    return 0, None


def _load(storage, study_name):
    """The study, or None where there is none yet (or it cannot be read: the notes
    below are extras, never a reason for a traceback)."""
    import optuna

    try:
        return optuna.load_study(study_name=study_name, storage=storage)
    except Exception:  # KeyError: no such study; a storage fault
        return None


def interrupted_note(storage, study_name, started):
    """What Ctrl-C did to this worker's trial: ``", and the interrupted trial #K is
    marked FAIL (...)"``, or ``""`` when none of its trials was running (a worker
    waiting for another's last trial, a press between trials); it said so in every
    case.

    A trial this worker left RUNNING (its failure not recorded: the storage failed as
    the search stopped) is said as such: it holds its place in the budget until a
    worker fails it as stale, and none does without heartbeats. It was said to be
    marked FAIL, which was false.
    """
    study = _load(storage, study_name)
    if study is None:
        return ""
    trials = study.get_trials(deepcopy=False)
    mine = _mine(trials, started)
    # a press while the trial sampled comes before the objective names the worker:
    # such an interrupted trial that started since is taken for this worker's
    unnamed = [t for t in trials if WORKER not in t.user_attrs
               and t.datetime_start is not None and t.datetime_start >= started]
    failed = [t.number for t in mine + unnamed
              if t.state == TrialState.FAIL and t.user_attrs.get(INTERRUPTED)]
    running = [t.number for t in mine if t.state == TrialState.RUNNING]
    notes = []
    if failed:
        notes.append(f"the interrupted trial {_numbers(failed)} is marked FAIL (it does "
                     "not count toward --n-trials)")
    if running:
        beat = heartbeat_interval(storage)
        until = (f"until a worker fails it as stale, {2 * beat} s after its last heartbeat"
                 if beat else "for good with --heartbeat 0 (a worker run with --heartbeat "
                 "N fails it as stale after 2 x N s)")
        notes.append(f"the interrupted trial {_numbers(running)} could not be marked FAIL "
                     f"and is left RUNNING: it holds its --n-trials place {until}")
    return "".join(f", and {note}" for note in notes)


def _numbers(numbers):
    """Trial numbers as the notes say them: ``"#1, #3"``."""
    return ", ".join(f"#{n}" for n in sorted(set(numbers)))


def timeout_note(study, n_trials, timeout):
    """The line saying that ``--timeout`` ended the run before the study held
    ``n_trials`` trials (the run ended as a finished one did, in silence), or None."""
    if timeout is None:
        return None
    used = len(used_trials(study.get_trials(deepcopy=False)))
    if used >= n_trials:
        return None
    return (f"sklstm tune: --timeout {timeout:g} s reached with {used} of {n_trials} "
            "trials in the study; run the same command again to continue")


def waiting_reporter(grace_period):
    """The budget's ``on_wait`` hook (``tune_objective(on_wait=...)``): it prints what
    the worker waits for each time its budget waits, for the running trials of other
    workers (a joined study full, or full after this worker's own trials).

    One of them may be a dead worker's, failed after ``grace_period`` seconds without a
    heartbeat and its place run here: after a SIGKILL that was minutes of a silent "3/4".
    """
    def report(running):
        print(_waiting_line(running, grace_period), file=sys.stderr, flush=True)
    return report


def _waiting_line(running, grace_period):
    """The line of :func:`waiting_reporter` for the ``running`` trials (at least one)."""
    which = ", ".join(f"#{t.number} of worker {t.user_attrs.get(WORKER, '?')}"
                      for t in running[:3])
    more = f" and {len(running) - 3} more" if len(running) > 3 else ""
    return (f"sklstm tune: the study is full; waiting for trial {which}{more}: a trial "
            f"is failed as lost if its worker sends no heartbeat for {grace_period} s, "
            "and its place run here")
