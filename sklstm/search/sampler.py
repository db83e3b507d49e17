"""The sampler of a seed, for a study that a run may continue (``sklstm tune --seed``)."""

from __future__ import annotations

import numpy as np
import optuna

__all__ = ["seeded_sampler"]


def seeded_sampler(seed, storage, study_name) -> optuna.samplers.TPESampler:
    """A TPE sampler seeded by ``seed`` and the number of trials the study holds.

    Optuna seeds a sampler once, knowing nothing of the study's progress, so a seeded
    sampler draws the same parameters on every start: a study continued with the same
    command (as ``sklstm tune`` says to do after Ctrl-C or ``--timeout``) ran the
    trials it already had again. Seeded by ``(seed, trials so far)``, a run on a new
    study samples as ``TPESampler(seed=seed)`` does, and one that continues a study
    samples new points, the same ones for the same seed and the same history.

    Parameters
    ----------
    seed : int or None
        The seed; None gives an unseeded sampler.
    storage : optuna.storages.BaseStorage
        The storage the study is (or will be) in.
    study_name : str
        The study's name; a study not in ``storage`` yet holds no trial.

    Returns
    -------
    optuna.samplers.TPESampler

    Examples
    --------
    >>> storage = optuna.storages.InMemoryStorage()
    >>> fresh = seeded_sampler(0, storage, "demo")
    >>> study = optuna.create_study(storage=storage, study_name="demo", sampler=fresh)
    >>> first = study.ask().suggest_float("x", 0, 1)
    >>> again = seeded_sampler(0, storage, "demo")  # the study holds a trial now
    >>> study.sampler = again
    >>> study.ask().suggest_float("x", 0, 1) != first
    True
    """
    if seed is not None:
        try:
            held = storage.get_n_trials(storage.get_study_id_from_name(study_name))
        except KeyError:  # no such study yet
            held = 0
        if held:
            seed = int(np.random.SeedSequence([seed, held]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=seed)
