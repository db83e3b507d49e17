"""What a study looks like from a terminal: progress bar, best trial / Pareto front, table.

Plain text (no pandas) so that ``sklstm tune`` can print it on any cluster node.
"""

from __future__ import annotations

import json

from optuna.study import StudyDirection
from optuna.trial import TrialState

from .._param_validation import integers, plain_value
from .epoch_reporter import FOLDS_NOT_CONVERGED
from .selection import FIXED_AS_REPR, as_param_names, selected_trial
from .study_pruner import DUPLICATE_OF
from .trial_attrs import failed_as_stale
from .trial_budget import FAIL_REASON, WORKER, used_trials

__all__ = ["ProgressBar", "fail_reason", "objective_names", "results_table", "summary"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def objective_names(study) -> list[str]:
    """Names of the study's objectives, e.g. ``["score", "fit_time"]``.

    Examples
    --------
    >>> import optuna
    >>> objective_names(optuna.create_study(directions=["maximize", "minimize"]))
    ['score', 'objective_1']
    """
    names = study.user_attrs.get("sklstm_objectives")
    if names and len(names) == len(study.directions):
        return list(names)
    return ["score"] + [f"objective_{i}" for i in range(1, len(study.directions))]


def _fmt(value) -> str:
    value = plain_value(value)  # (an in-memory study keeps numpy numbers as they were set)
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _row(trial, names) -> dict:
    row = {"trial": trial.number, "state": trial.state.name}
    # only a complete trial's values are its cross-validated score: Optuna gives a pruned
    # one the last score it reported, one epoch's on one fold, which sat in the score
    # column beside the means of the others (above the best trial's, often)
    complete = trial.state == TrialState.COMPLETE and trial.values
    values = trial.values if complete else [None] * len(names)
    row.update(zip(names, values, strict=True))
    attrs = trial.user_attrs
    memory = attrs.get("mean_peak_memory")
    costs = {
        "fit_time": ("fit_time_s", attrs.get("mean_fit_time")),
        "peak_memory": ("peak_MiB", None if memory is None else memory / 2**20),
        "n_updates": ("n_updates", attrs.get("mean_n_updates")),
    }
    # a cost that is already an objective column is not repeated
    row.update(column for stat, column in costs.items() if stat not in names)
    row["not_converged"] = attrs.get(FOLDS_NOT_CONVERGED)  # (results_table: only if any)
    # a parameter named as a column (a plain Optuna study's "state" or "score") took
    # that column's place: prefixed as Optuna's trials_dataframe does
    taken = {*row, "duplicate_of", "fail_reason"}
    row.update((f"params_{name}" if name in taken else name, value)
               for name, value in trial.params.items())
    if DUPLICATE_OF in attrs:
        # a reused duplicate fitted nothing: its fit time, memory and updates are its
        # twin's, and were shown as fits of its own
        row["duplicate_of"] = attrs[DUPLICATE_OF]
    if trial.state == TrialState.FAIL:
        # (the reason its run recorded is cut, the lost worker never: fail_reason)
        row["fail_reason"] = fail_reason(trial, width=_REASON_WIDTH)
    return row


#: Characters of a recorded ``fail_reason`` the results table shows.
_REASON_WIDTH = 60


def fail_reason(trial, width=None) -> str:
    """Why a failed trial failed, on one line.

    Its ``fail_reason``; ``"worker HOST:PID lost: no heartbeat"`` for a trial failed
    for its dead worker: one that the heartbeats marked stale
    (:func:`~sklstm.search.trial_attrs.failed_as_stale`), whatever its worker recorded
    before it died (said after it: ``"...; it had recorded MemoryError: ..."``), or,
    in a search of sklstm, whose objective and trial budget give every other failure a
    reason, one failed without any (a storage that does not mark them).

    Parameters
    ----------
    trial : optuna.trial.FrozenTrial
        A failed trial.
    width : int or None, default=None
        Cut the recorded reason to this many characters; None keeps it whole.

    Returns
    -------
    str

    Examples
    --------
    >>> import optuna
    >>> fail_reason(optuna.trial.create_trial(
    ...     state=optuna.trial.TrialState.FAIL, user_attrs={"worker": "node7:42"}))
    'worker node7:42 lost: no heartbeat'
    """
    attrs = trial.user_attrs
    # on one line: an error's message of several lines (sklearn's, torch's) broke the
    # table, its other lines printed under the first column
    recorded = " ".join(str(attrs.get(FAIL_REASON) or "").split())[:width]
    if recorded and not failed_as_stale(trial):
        return recorded
    # The worker stopped sending heartbeats (killed, lost node) and another failed the
    # trial: the table said "-" for one without a reason, and only the dead worker's
    # own reason for one with (a MemoryError that it may never have raised), though
    # its death ended the trial, freed its place in the budget and had it retried.
    worker = attrs.get(WORKER)  # (none where it died before sampling the trial)
    lost = f"worker {worker} lost: no heartbeat" if worker else "worker lost: no heartbeat"
    return f"{lost}; it had recorded {recorded}" if recorded else lost


def _unconverged(trial) -> int:
    """How many of ``trial``'s folds did not converge (0 where it does not say)."""
    count = str(trial.user_attrs.get(FOLDS_NOT_CONVERGED, "0")).split(" of ")[0]
    return int(count) if count.isdigit() else 0


def _table(rows) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_fmt(row.get(col)) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    lines = ["  ".join(col.rjust(w) for col, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _check_max_rows(max_rows):
    """``max_rows`` as a Python int or None: 0 showed "(no trials)" for a full study, and
    a negative number silently left out the last trials."""
    max_rows = plain_value(max_rows)
    if max_rows is None or integers(1).is_satisfied_by(max_rows):
        return max_rows
    number = isinstance(max_rows, int) and not isinstance(max_rows, bool)
    raise (ValueError if number else TypeError)(
        f"max_rows must be an int >= 1 or None (all trials), got {max_rows!r}")


def results_table(study, max_rows=None) -> str:
    """Table of the study's trials: best completed first, then the others by number.

    Columns: trial number, state, objective value(s) (of complete trials only: a pruned
    trial's is one epoch's score on one fold), mean fit time (s), mean peak memory
    (MiB), mean optimizer updates, the folds whose fit did not converge
    (``not_converged``, ``"2 of 3"``: only where a trial had any), the sampled
    parameters, the trial a reused duplicate repeats (``duplicate_of``: it fitted
    nothing, its costs are that trial's), and the failure reason (:func:`fail_reason`:
    ``worker ... lost: no heartbeat`` for a trial failed for its dead worker).

    Parameters
    ----------
    study : optuna.Study
        The study whose trials are listed.
    max_rows : int or None, default=None
        Show at most this many trials (at least 1); None shows all.

    Returns
    -------
    str
        The table as plain text, one line per trial under a header line, or
        ``"(no trials)"``.

    Raises
    ------
    TypeError, ValueError
        A ``max_rows`` that is not an int >= 1 or None.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(lambda t: t.suggest_int("x", 0, 3), n_trials=2)
    >>> print(results_table(study).splitlines()[0].split())
    ['trial', 'state', 'score', 'fit_time_s', 'peak_MiB', 'n_updates', 'x']
    """
    max_rows = _check_max_rows(max_rows)
    names = objective_names(study)
    sign = -1 if study.directions[0].name == "MAXIMIZE" else 1
    trials = study.get_trials(deepcopy=False)
    complete = sorted(
        (t for t in trials if t.state == TrialState.COMPLETE), key=lambda t: sign * t.values[0]
    )
    others = [t for t in trials if t.state != TrialState.COMPLETE]
    rows = [_row(t, names) for t in (complete + others)[:max_rows]]
    if not any(map(_unconverged, trials)):  # (a column of "0 of 3" says nothing)
        for row in rows:
            del row["not_converged"]
    return _table(rows) if rows else "(no trials)"


def summary(study, estimator=None) -> str:
    """Best trial (one objective) or Pareto front (several), with trial counts per state.

    Parameters
    ----------
    study : optuna.Study
        The study to summarize.
    estimator : estimator, Pipeline or None, default=None
        The estimator that was searched: the parameters are shown under the names its
        ``set_params`` takes (a Pipeline's sampled values under the final step's
        prefix, as its fixed values are). None shows the names the trials hold: the
        space's, which a Pipeline's ``set_params`` may not take (``lr`` beside
        ``lstm__max_epochs``).

    Returns
    -------
    str
        Plain text: the study name and its trial counts per state (and how many
        trials had folds that did not converge, where any did), then the best
        trial's value and parameters (fixed ones included; one per line, then all of
        them as one JSON object, which ``sklstm tune --space`` takes as fixed values
        and, given the ``estimator``, ``estimator.set_params(**json.loads(...))`` as
        parameters; a fixed value that JSON cannot hold, such as an optimizer class,
        is left out of it, and named: :func:`~sklstm.search.selected_params` gives
        it), or a table of the Pareto front sorted by the second objective (a
        reused duplicate of a trial on it left out), or
        ``"no completed trial yet"``.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study(direction="maximize")
    >>> study.optimize(lambda t: t.suggest_int("x", 0, 3), n_trials=3)
    >>> summary(study).splitlines()[0]
    "study 'no-name-...': 3 trials (3 COMPLETE)"
    """
    trials = study.get_trials(deepcopy=False)
    counts = {}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    states = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    lines = [f"study {study.study_name!r}: {len(trials)} trials" + (f" ({states})" if states
                                                                     else "")]
    unconverged = sum(_unconverged(t) > 0 for t in trials)
    if unconverged:  # (the search warned once, at the first: here they are all counted)
        lines.append(f"{unconverged} of {len(trials)} trials had folds that did not converge "
                     "(column not_converged of the results table): raise max_epochs, or "
                     "see a trial's user attr 'convergence_warning' for what else to change")
    if not any(t.state == TrialState.COMPLETE for t in trials):
        return "\n".join([*lines, "no completed trial yet"])
    names = objective_names(study)
    if len(study.directions) == 1:
        best, chosen = study.best_trial, selected_trial(study)
        lines.append(f"best trial #{best.number}: {names[0]}={best.value:.6g}")
        if chosen.number != best.number:
            lines.append(f"selected trial #{chosen.number} (the baseline, "
                         f"{names[0]}={chosen.value:.6g}): the best one beats it by less than "
                         "its fold-to-fold noise")
        # fixed values that are no JSON (an optimizer class, a dict of int keys) are
        # stored as their repr (full parameter names, as fixed_params holds them):
        # shown as such, and left out of the JSON line, which would give the text in
        # place of the object
        as_repr = set(chosen.user_attrs.get(FIXED_AS_REPR, []))
        params = {**chosen.params, **chosen.user_attrs.get("fixed_params", {})}
        if estimator is not None:
            params = as_param_names(params, estimator)
        lines += [f"  {k} = {v if k in as_repr else repr(v)}" for k, v in params.items()]
        # Python's repr is not JSON (None, 'text'): this line pastes back as it is
        left_out = (f" (without {', '.join(sorted(as_repr))}, which JSON cannot hold: "
                    "selected_params gives them)") if as_repr else ""
        as_json = json.dumps({k: v for k, v in params.items() if k not in as_repr})
        lines.append(f"params as JSON{left_out}: {as_json}")
    else:
        # a reused duplicate repeats its twin's values, so both were on the front: the
        # one configuration was listed (and counted) as two points
        front = study.best_trials
        on_front = {t.number for t in front}
        front = [t for t in front if t.user_attrs.get(DUPLICATE_OF) not in on_front]
        lines.append(f"Pareto front ({' vs '.join(names)}), {len(front)} trials:")
        lines.append(_table([_row(t, names) for t in sorted(front, key=lambda t: t.values[1])]))
    return "\n".join(lines)


class ProgressBar:
    """Optuna callback driving a tqdm bar with the *study-wide* count of finished trials.

    Unlike ``study.optimize(show_progress_bar=True)``, which counts this process's trials,
    it counts every worker's, so each node of a cluster shows the progress of the search.
    It counts the trials that use up the study's budget
    (:func:`~sklstm.search.trial_budget.used_trials`): not those failed for their dead
    worker or interrupted by Ctrl-C, which the search runs again.

    Parameters
    ----------
    study : optuna.Study
    n_trials : int or None
        The bar's total.

    Examples
    --------
    >>> import optuna
    >>> study = optuna.create_study()
    >>> bar = ProgressBar(study, 2)
    >>> study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2, callbacks=[bar])
    >>> bar.bar.n
    2
    >>> bar.bar.close()
    """

    def __init__(self, study, n_trials):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=n_trials, desc=f"study {study.study_name}", unit="trial")
        self(study, None)

    def __call__(self, study, trial):
        # those that hold a place in the budget: a trial of a dead worker or interrupted
        # by Ctrl-C is run again, and counted, the bar was full with trials left to run
        # (all states: a WAITING retry names the trial it reruns, counted once, by it)
        trials = [t for t in used_trials(study.get_trials(deepcopy=False))
                  if t.state in _FINISHED]
        total = self.bar.total
        self.bar.n = len(trials) if total is None else min(len(trials), total)
        done = [t for t in trials if t.state == TrialState.COMPLETE]
        if done and len(study.directions) == 1:
            best = max if study.direction == StudyDirection.MAXIMIZE else min
            self.bar.set_postfix(best=f"{best(t.value for t in done):.4g}", refresh=False)
        self.bar.refresh()
