"""What must hold before a search joins or runs a study, checked before any trial.

* :func:`check_run_args`: the arguments of :func:`~sklstm.search.tune` that no other
  check sees (``n_trials``, ``timeout``, ``heartbeat_interval``, ``retry_failed``,
  ``sampler``), before any storage exists;
* :func:`check_study_name`: the study's name;
* :func:`check_existing_study`: an existing study was made for the same directions,
  scoring, estimator (class and parameters, with the space's fixed values), sampled
  names, data and folds, as
  :func:`~sklstm.search.study_record.study_attrs` records them, and its workers send
  the same heartbeats (:func:`heartbeat_record`);
* :func:`check_space_fits_study`: the space samples each name as the study's trials did.
"""

from __future__ import annotations

import optuna
from optuna.distributions import check_distribution_compatibility

from .._compat.optuna import heartbeat_interval, unwrap_storage
from .._param_validation import integers, plain_value, reals

__all__ = ["HEARTBEAT_STUDY_ATTR", "check_existing_study", "check_flags", "check_run_args",
           "check_space_fits_study", "check_study_name", "heartbeat_record"]

#: User attribute of a study: the heartbeats its workers send (:func:`heartbeat_record`).
HEARTBEAT_STUDY_ATTR = "sklstm_heartbeat"


def check_study_name(study_name) -> str:
    """``study_name`` as a str; Optuna would store a number or a blank name as given.

    Parameters
    ----------
    study_name : str
        The name given.

    Returns
    -------
    str
        The name.

    Raises
    ------
    TypeError, ValueError
        A name that is no str, or a blank one.
    """
    if not isinstance(study_name, str):
        raise TypeError(f"study_name must be a str, got {study_name!r}: name the study, "
                        "e.g. 'lstm-v1'")
    if not study_name.strip():
        raise ValueError(f"study_name must be a non-empty string, got {study_name!r}: name "
                         "the study, e.g. 'lstm-v1'")
    return str(study_name)  # np.str_ included


def check_existing_study(study_name, storage, directions, attrs) -> None:
    """Refuse to join a study made for other directions or other settings (``attrs``,
    the ``sklstm_*`` user attributes a study is created with): its values would not
    be comparable with this search's; or run by workers with other heartbeats, which
    would fail this worker's live trials, or it theirs.

    Parameters
    ----------
    study_name : str
        The study to join (nothing is checked if it does not exist yet).
    storage : optuna.storages.BaseStorage
        Where it is.
    directions : list of str
        The directions this search needs (:func:`~sklstm.search.metrics.objective_directions`).
    attrs : dict
        The ``sklstm_*`` attributes this search records on a study it creates.

    Raises
    ------
    ValueError
        Naming the study, what it was made for (the parameters that differ, for
        another configuration of the estimator) and the fix (another study name, the
        study's estimator, cv or heartbeats).
    """
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return  # does not exist yet
    have = [d.name.lower() for d in storage.get_study_directions(study_id)]
    if have != directions:
        raise ValueError(
            f"study {study_name!r} exists with directions {have}, but this search needs "
            f"{directions} (scikit-learn scores are maximized"
            + (", the fit cost minimized)" if len(directions) > 1 else ")")
            + ". Use another study name."
        )
    existing = storage.get_study_user_attrs(study_id)
    for key, value in attrs.items():
        if key == "sklstm_params" and key in existing:
            _check_same_params(study_name, existing[key], value)
        elif key == "sklstm_sampled" and key in existing:
            _check_same_sampled(study_name, existing[key], value)
        elif key == HEARTBEAT_STUDY_ATTR and key in existing:
            _check_same_heartbeat(study_name, existing[key], value)
        elif key in existing and existing[key] != value:
            raise ValueError(
                f"study {study_name!r} was created with {key.removeprefix('sklstm_')}="
                f"{existing[key]!r}, not {value!r}: its values are not comparable. "
                + _JOIN_HINTS.get(key, "Use another study name.")
            )


def _check_same_params(study_name, recorded, params):
    """Refuse an estimator configured otherwise than the study's, naming what differs.

    A search rerun after a change of the estimator found the study under the same
    name (the default one, in the same directory) and added to it, or, with its
    ``n_trials`` reached, returned it unchanged: the earlier configuration's results,
    and parameters that do not reproduce them on this estimator.
    """
    # only names both record: one that a space sets (this one's or the study's) is
    # set by every trial, and the space is checked against the study's trials apart
    differ = [name for name in recorded if name in params and recorded[name] != params[name]]
    if not differ:
        return
    shown = ", ".join(f"{name}={recorded[name]!r} (now {params[name]!r})"
                      for name in differ[:5])
    more = f" and {len(differ) - 5} more" if len(differ) > 5 else ""
    raise ValueError(
        f"study {study_name!r} was created for an estimator with {shown}{more}: its "
        "values are not comparable. Give the estimator and the search space the study "
        "was made with (a value the space fixes counts as the estimator's), or use "
        "another study name.")


def _check_same_sampled(study_name, recorded, sampled):
    """Refuse a space that samples other names than the study's (a name it fixed, or
    left to the estimator, now sampled, or the other way round): such a name is in
    some trials' params and not in others', and ``best_params`` of a trial without it
    refits with another value than the trial fitted."""
    if sorted(recorded) == sorted(sampled):
        return
    only = [f"{', '.join(map(repr, names))} only {who}" for names, who in (
        (sorted(set(recorded) - set(sampled)), "by the study"),
        (sorted(set(sampled) - set(recorded)), "by this space")) if names]
    raise ValueError(
        f"study {study_name!r} samples other parameters than this search space "
        f"({'; '.join(only)}): their trials fit other models and are not comparable. "
        "Search the study's space (the same names sampled, the same fixed values), or "
        "use another study name.")


def heartbeat_record(storage):
    """The heartbeats a storage's running trials send, as a study records them.

    A worker fails every RUNNING trial whose last heartbeat is older than *its own*
    grace period (one without any counts from its start), so the live trials of a
    worker without heartbeats, or beating less often, were failed and their results
    lost. Optuna compares no workers' settings: :func:`~sklstm.search.create_or_load_study`
    records this in :data:`HEARTBEAT_STUDY_ATTR`, and :func:`check_existing_study`
    refuses a worker that differs.

    Parameters
    ----------
    storage : optuna.storages.BaseStorage
        The storage as opened (an instance keeps its own settings, whatever was asked).

    Returns
    -------
    dict or None
        ``heartbeat_interval`` and ``grace_period`` in seconds; None without heartbeats.

    Examples
    --------
    >>> import optuna
    >>> heartbeat_record(optuna.storages.InMemoryStorage()) is None
    True
    >>> heartbeat_record(optuna.storages.RDBStorage("sqlite://", heartbeat_interval=30))
    {'heartbeat_interval': 30, 'grace_period': 60}
    """
    interval = heartbeat_interval(storage)
    if interval is None:
        return None
    # (RDBStorage's public grace_period, None meaning twice the interval as in Optuna;
    # the journal's mirrors it)
    grace = getattr(unwrap_storage(storage), "grace_period", None)
    return {"heartbeat_interval": int(interval),
            "grace_period": int(grace if grace is not None else 2 * interval)}


def _heartbeats(record):
    """A heartbeat record (:func:`heartbeat_record`) in words."""
    if record is None:
        return "no heartbeats"
    return (f"heartbeats every {record['heartbeat_interval']} s (a trial failed after "
            f"{record['grace_period']} s without one)")


def _heartbeat_fix(record):
    """The arguments that give a worker the heartbeats of ``record``."""
    if record is None:
        return "heartbeat_interval=None (sklstm tune --heartbeat 0)"
    interval, grace = record["heartbeat_interval"], record["grace_period"]
    if grace == 2 * interval:  # the default grace period, the only one tune gives
        return f"heartbeat_interval={interval} (sklstm tune --heartbeat {interval})"
    return (f"a storage opened with resolve_storage(..., heartbeat_interval={interval}, "
            f"grace_period={grace})")


def _check_same_heartbeat(study_name, recorded, heartbeat):
    """Refuse a worker whose heartbeats differ from the study's workers' (why:
    :func:`heartbeat_record`; the worker whose trial was failed stopped on Optuna's bare
    ``AssertionError: Should not reach.``, its result lost)."""
    if recorded == heartbeat:
        return
    raise ValueError(
        f"study {study_name!r} is run by workers with {_heartbeats(recorded)}, but this "
        f"worker has {_heartbeats(heartbeat)}: one that beats fails the running trials of "
        "one that does not, or that beats less often, as a dead worker's, and their "
        f"results are lost. Give every worker of the study the same: "
        f"{_heartbeat_fix(recorded)}, or use another study name.")


#: What else to do than naming another study, for a setting that differs.
_JOIN_HINTS = {
    "sklstm_cv": "Give the cv the study was made with (a splitter that shuffles needs the "
                 "same int random_state in every worker), or use another study name.",
    "sklstm_X": "Give the sequences the study was made with (the same features, "
                "preprocessing and order of samples), or use another study name.",
}


#: argument -> (constraint, what it must be, the fix), as :func:`~sklstm.search.tune`
#: refuses them (``sklstm tune`` names its options and fixes instead: ``labels``).
_RUN_ARGS = {
    "n_trials": (integers(1), "an int >= 1",
                 "give the study's total number of trials; timeout can end a call earlier"),
    "timeout": (reals(0, closed="neither"), "a positive number of seconds",
                "give None for no time limit"),
    "heartbeat_interval": (integers(1), "an int >= 1", "give None to turn heartbeats off"),
    "retry_failed": (integers(0), "an int >= 0", "give 0 not to run failed trials again"),
}


def check_flags(**flags):
    """Refuse a flag of :func:`~sklstm.search.tune` that is not a bool (numpy's is one):
    Python's truth of any other value ran ``baseline="no"``'s baseline.

    Examples
    --------
    >>> check_flags(baseline="no")
    Traceback (most recent call last):
    ...
    TypeError: baseline must be True or False, got 'no'.
    """
    for name, value in flags.items():
        if not isinstance(plain_value(value), bool):
            raise TypeError(f"{name} must be True or False, got {value!r}.")


def check_run_args(sampler, *, labels=None, **args) -> dict:
    """The arguments of :func:`~sklstm.search.tune` that are not checked elsewhere,
    checked up front.

    A bad one used to be accepted (``n_trials=0`` ran no trial) or to fail deep inside
    Optuna, after the storage and the study had been created.

    Parameters
    ----------
    sampler : optuna.samplers.BaseSampler or None
        As for :func:`~sklstm.search.tune`.
    labels : dict or None, default=None
        ``argument -> (name, fix)`` to say in the messages instead of the argument's
        name and the Python fix (the command line's ``--n-trials``, say).
    **args : dict
        ``n_trials``, ``timeout``, ``heartbeat_interval`` and ``retry_failed``, as for
        :func:`~sklstm.search.tune`.

    Returns
    -------
    dict
        ``args`` as Python numbers (numpy scalars are accepted everywhere in sklstm).

    Raises
    ------
    TypeError
        A value of the wrong type (a bool or a string where a number is due, a sampler
        that is not an Optuna sampler).
    ValueError
        A number out of range, or retries of failed trials (``retry_failed`` > 0)
        without heartbeats (``heartbeat_interval=None``), which alone find them.

    Examples
    --------
    >>> check_run_args(None, n_trials=0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: n_trials must be an int >= 1, got 0 (give the study's total number of ...)
    >>> check_run_args(None, labels={"n_trials": ("--n-trials", "the study's total")},
    ...                n_trials=0)
    Traceback (most recent call last):
    ...
    ValueError: --n-trials must be an int >= 1, got 0 (the study's total)
    """
    if sampler is not None and not isinstance(sampler, optuna.samplers.BaseSampler):
        raise TypeError(f"sampler must be an optuna.samplers.BaseSampler instance or None, "
                        f"got {sampler!r}: pass e.g. optuna.samplers.TPESampler()")
    plain = {name: plain_value(value) for name, value in args.items()}
    for name, value in plain.items():
        if value is None and name != "n_trials":  # None: no limit, no heartbeats
            continue
        constraint, expected, fix = _RUN_ARGS[name]
        if not constraint.is_satisfied_by(value):
            number = isinstance(value, constraint.type) and not isinstance(value, bool)
            label, fix = (labels or {}).get(name, (name, fix))
            raise (ValueError if number else TypeError)(
                f"{label} must be {expected}, got {value!r} ({fix})")
    if plain.get("retry_failed") and "heartbeat_interval" in plain \
            and plain["heartbeat_interval"] is None:
        # only a stale heartbeat fails a dead worker's trial, so without heartbeats
        # no trial was ever run again: the retries were dropped in silence
        retry, heartbeat = ((labels or {}).get(name, (name,))[0]
                            for name in ("retry_failed", "heartbeat_interval"))
        raise ValueError(
            f"{retry}={plain['retry_failed']} does nothing without heartbeats ({heartbeat} "
            "is off): only they find a trial failed for its dead worker, and run it again; "
            f"give {heartbeat} a number of seconds (e.g. 60), or {retry}=0")
    return plain


def _stored_distributions(study) -> dict:
    """``name -> distribution`` of the parameters the study's trials sampled."""
    stored = {}
    for trial in study.get_trials(deepcopy=False):
        for name, dist in trial.distributions.items():
            stored.setdefault(name, dist)
    return stored


def check_space_fits_study(study, space) -> None:
    """Refuse a space that samples a name otherwise than the study's trials did.

    Optuna's storage refuses such a distribution (another kind, log scale or set of
    choices) only when a trial suggests it, and then every new trial of the search fails
    the same way: checked once, before any trial is created, instead.

    Parameters
    ----------
    study : optuna.Study
        The study joined.
    space : dict
        The space as :func:`~sklstm.search.resolve_space` returns it.

    Raises
    ------
    ValueError
        Naming the parameter, both distributions and the fix.

    Examples
    --------
    >>> import optuna
    >>> from sklstm.search import resolve_space
    >>> study = optuna.create_study(study_name="demo")
    >>> _ = study.ask().suggest_categorical("batch_size", [8, 16])
    >>> check_space_fits_study(study, resolve_space({"batch_size": [8]}))
    Traceback (most recent call last):
    ...
    ValueError: study 'demo' sampled 'batch_size' from CategoricalDistribution(choices=(8, 16)), ...
    """
    stored = _stored_distributions(study)
    for name, (_, dist, _) in space.items():
        if dist is None or name not in stored:
            continue  # fixed values are not sampled: nothing for Optuna to compare
        try:
            check_distribution_compatibility(stored[name], dist)
        except ValueError as exc:
            raise ValueError(
                f"study {study.study_name!r} sampled {name!r} from {stored[name]}, but this "
                f"space gives {dist}; Optuna cannot mix them in one study "
                f"({str(exc).rstrip('.')}). Search the study's space again, or give a new "
                "study_name."
            ) from None
