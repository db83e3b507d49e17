"""What a study records of the search it was made for, so that a worker of another
search is refused instead of mixing incomparable values into it
(:func:`~sklstm.search.study_checks.check_existing_study` compares the records).

:func:`study_attrs` gives the study's user attributes: the scoring and objectives, the
estimator's class and configuration (but the parameters of where a fit runs, and those
the space samples; the values the space fixes in place of the estimator's), the names
the space samples, a digest of the targets, one of the sequences (a bounded sample of
them: :func:`_sequences_fingerprint`) and one of the folds.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .._compat.sklearn import num_samples, safe_indexing
from .._param_validation import plain_value
from ..data.store import SequenceStore

__all__ = ["study_attrs"]


def _scoring_name(scoring):
    """The scoring as a study records it: a name, a function's name, or a scorer's repr.

    Examples
    --------
    >>> from sklearn.metrics import f1_score, make_scorer
    >>> _scoring_name(make_scorer(f1_score, average="macro"))
    "make_scorer(f1_score, response_method='predict', average=macro)"
    """
    if scoring is None or isinstance(scoring, str):
        return scoring
    name = getattr(scoring, "__name__", None)
    if name is not None:
        return name
    # a scorer object's repr names its metric and settings (scikit-learn's do): by
    # its class, every make_scorer was "_Scorer", and studies of f1 and accuracy mixed
    text = repr(scoring)
    return type(scoring).__name__ if " at 0x" in text else text


def _estimator_name(estimator) -> str:
    """The estimator's class, or a Pipeline's steps' classes, as a study records them.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.preprocessing import SequenceScaler
    >>> _estimator_name(make_pipeline(SequenceScaler(), LSTMClassifier()))
    'SequenceScaler > LSTMClassifier'
    """
    if hasattr(estimator, "steps"):
        return " > ".join(_estimator_name(step) for _, step in estimator.steps
                          if step is not None and step != "passthrough")
    return type(estimator).__name__


#: Parameters that say where and how visibly a fit runs, not what it learns: the workers
#: of one study may set them otherwise (a GPU node and a CPU node, a verbose one).
_RUN_PARAMS = frozenset({"verbose", "device", "n_threads", "memory", "checkpoint",
                         "max_memory", "on_oom"})


def _canonical(value):
    """``value`` as JSON the same in every worker: numbers, strings and containers as
    they are, NaN as ``"nan"``, any other object by its class (a repr may hold a
    memory address).

    Examples
    --------
    >>> _canonical([np.float32("nan"), np.int64(2), (1.5, np.inf)])
    ['nan', 2, [1.5, inf]]
    """
    value = plain_value(value)
    if isinstance(value, float) and value != value:
        # NaN as text: NaN != NaN, so a recorded NaN (SimpleImputer's default
        # missing_values) refused every later worker of the same search
        return "nan"
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    kind = value if isinstance(value, type) or (callable(value) and hasattr(
        value, "__qualname__")) else type(value)
    return f"{getattr(kind, '__module__', '?')}.{getattr(kind, '__qualname__', kind)}"


def _estimator_params(estimator, searched=(), fixed=None) -> dict:
    """The estimator's configuration as a study records it: every parameter but the
    steps themselves, those of :data:`_RUN_PARAMS` and those the space samples
    (``searched``: every trial sets its own, so the estimator's value is no part of
    what a trial learns once the study exists); the values the space fixes
    (``fixed``) in place of the estimator's.

    Examples
    --------
    >>> from sklstm import LSTMClassifier
    >>> params = _estimator_params(LSTMClassifier(hidden_size=8, verbose=1),
    ...                            fixed={"lr": 0.1, "device": "cpu"})
    >>> params["hidden_size"], params["lr"], "verbose" in params, "device" in params
    (8, 0.1, False, False)
    """
    # (a fixed device or verbose is still where a fit runs: workers may differ on it)
    params = {**estimator.get_params(deep=True), **(fixed or {})}
    return {name: _canonical(value) for name, value in params.items()
            if name != "steps" and not hasattr(value, "get_params")
            and name.rpartition("__")[2] not in _RUN_PARAMS and name not in searched}


def _values_bytes(values):
    """The values of an array-like as bytes that read alike whatever their container:
    numbers by value, in float32 as a fit reads them (float64 sequences and their float32
    copy alike), text as text ("00501" is not 501), the elements of an object array
    (ragged sequences, a frame's mixed columns) one by one."""
    values = np.asarray(values)
    if values.dtype.kind in "biuf":
        data = np.ascontiguousarray(values, dtype=np.float32).tobytes()
    elif values.dtype.kind == "O":
        data = b"\x1e".join(_values_bytes(v) for v in values.ravel())
    else:
        data = "\x1f".join(map(str, values.ravel())).encode()
    return data + repr(values.shape).encode()


def _data_fingerprint(y) -> str:
    """The number of targets and a digest of their values, as a study records them.

    All the targets: they are small whatever the sequences (a SequenceStore larger
    than memory), and they change with the samples, their order and their labels, so
    the folds of a resumed search are those of the study.

    Examples
    --------
    >>> _data_fingerprint([0, 1, 1])
    '3 samples, targets ...'
    >>> _data_fingerprint([0, 1, 1]) == _data_fingerprint(np.array([0.0, 1.0, 1.0]))
    True
    """
    y = np.asarray(y)
    # (as studies have recorded it: _values_bytes reads an object array otherwise)
    if y.dtype.kind in "biuf":  # numbers by value: int and float targets read alike
        values = np.ascontiguousarray(y, dtype=np.float64).tobytes()
    else:  # labels as text ("00501" is not 501)
        values = "\x1f".join(map(str, y.ravel())).encode()
    digest = hashlib.sha1(values + repr(y.shape).encode()).hexdigest()[:12]
    return f"{len(y)} samples, targets {digest}"


#: Sequences of X read for its fingerprint, evenly spaced over the samples.
_SAMPLED_SEQUENCES = 32


def _sequences_fingerprint(X) -> str:
    """The number of sequences and a digest of a bounded sample of them (their values
    and shapes, and a frame's columns), as a study records them.

    A sample, not every value: X may be a SequenceStore larger than memory, read again
    by every fold. Another preprocessing, other features or another order of the
    same targets changes the sequences sampled; a change to a few sequences alone may
    go unseen. Values read alike in any dtype and container (a list of arrays, an
    array, a store).

    Examples
    --------
    >>> X = np.arange(24.0).reshape(4, 3, 2)
    >>> _sequences_fingerprint(X)
    '4 sequences, values ...'
    >>> _sequences_fingerprint(X) == _sequences_fingerprint(list(X.astype(np.float32)))
    True
    >>> _sequences_fingerprint(X) == _sequences_fingerprint(X[:, :, :1])
    False
    """
    n = num_samples(X)
    digest = hashlib.sha1(repr(list(getattr(X, "columns", []))).encode())
    for i in np.unique(np.linspace(0, n - 1, min(n, _SAMPLED_SEQUENCES)).round().astype(int)):
        sequence = safe_indexing(X, [int(i)])
        if isinstance(sequence, SequenceStore):
            sequence = sequence.load()  # (one sequence: read, not streamed)
        digest.update(_values_bytes(sequence) + b"|")
    return f"{n} sequences, values {digest.hexdigest()[:12]}"


def _folds_fingerprint(splits) -> str:
    """The number of folds and a digest of their indices, as a study records them.

    Examples
    --------
    >>> _folds_fingerprint([(np.array([0, 1]), np.array([2])), ([2], [0, 1])])
    '2 folds, ...'
    """
    digest = hashlib.sha1()
    for train, test in splits:
        for indices in (train, test):
            digest.update(np.asarray(indices, dtype=np.int64).tobytes() + b"|")
    return f"{len(splits)} folds, {digest.hexdigest()[:12]}"


def study_attrs(scoring, multi_objective, estimator=None, y=None, splits=None,
                searched=None, fixed=None, X=None) -> dict:
    """What a study records of the search it was made for.

    Recorded so that a worker started with other settings (another scoring or cost,
    another estimator or data) cannot mix incomparable values into it
    (:func:`check_existing_study`); a study created without one of them does not
    check it.

    Parameters
    ----------
    scoring : str, callable or None
        The search's scoring.
    multi_objective : str or None
        The cost objective beside the score, if any.
    estimator : estimator or Pipeline or None, default=None
        The estimator searched: its class (a Pipeline's steps' classes) and its
        parameters (those that decide what a fit learns; an object by its class) are
        recorded. They decide every trial's fit, and trial 0 is their own
        configuration (the baseline).
    y : array-like or None, default=None
        The targets searched on.
    splits : list of (train, test) index arrays or None, default=None
        The cross-validation folds every trial is scored on (a trial's value is the
        mean over them, and ``fold_scores`` are paired by fold).
    searched : iterable of str or None, default=None
        The estimator parameters the search space samples, left out of the recorded
        parameters and recorded by name (``sklstm_sampled``); None: no space known,
        nothing left out or recorded.
    fixed : dict or None, default=None
        ``param -> value`` the search space fixes: recorded in place of the
        estimator's values, which no trial fits.

    Returns
    -------
    dict
        The study's user attributes ``sklstm_*``.
    """
    attrs = {
        "sklstm_scoring": _scoring_name(scoring),
        "sklstm_objectives": ["score"] + ([multi_objective] if multi_objective else []),
    }
    if estimator is not None:
        attrs["sklstm_estimator"] = _estimator_name(estimator)
    if y is not None:
        attrs["sklstm_data"] = _data_fingerprint(y)
    if X is not None:  # (a study made before it was recorded checks it not)
        attrs["sklstm_X"] = _sequences_fingerprint(X)
    if splits is not None:
        attrs["sklstm_cv"] = _folds_fingerprint(splits)
    if estimator is not None:  # after the class: another class has other parameters
        searched = None if searched is None else sorted(searched)
        # the configuration every trial fits: a study whose space fixed hidden_size=32
        # was joined by a search fixing it to 4, and their scores mixed in one ranking
        attrs["sklstm_params"] = _estimator_params(estimator, frozenset(searched or ()),
                                                   fixed)
        # which names the trials sample: a name one search samples and another fixes
        # (or leaves to the estimator) is in some trials' params and not in others'
        if searched is not None:
            attrs["sklstm_sampled"] = searched
    return attrs
