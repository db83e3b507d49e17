"""A search space read from JSON: a file, JSON text or a parsed object
(:func:`load_space`, what ``sklstm tune --space`` reads)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping

from optuna.distributions import FloatDistribution, IntDistribution, json_to_distribution

from .._param_validation import plain_value

__all__ = ["load_space"]


def _spec_from_json(name: str, value):
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if "name" in value and "attributes" in value:  # optuna.distributions.distribution_to_json
            try:
                return json_to_distribution(json.dumps(value))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"space entry {name!r}: invalid Optuna distribution "
                                 f"{value!r}: {exc}") from None
        if {"low", "high"} <= value.keys():
            # a parsed dict built in Python may hold numpy values: np.int64 ends made a
            # float range for an int parameter, np.True_ was refused as no JSON boolean
            value = {key: plain_value(item) for key, item in value.items()
                     # "step": null is no step (Optuna's default): it made an int range,
                     # {"low": 8, "high": 64, "step": null}, a float one
                     if not (key == "step" and item is None)}
            extra = set(value) - {"low", "high", "log", "step"}
            if extra:
                raise ValueError(f"space entry {name!r}: unexpected keys {sorted(extra)}")
            if not isinstance(value.get("log", False), bool):
                # Optuna takes any truthy value: "log": "false" sampled log-uniformly
                raise ValueError(f"space entry {name!r}: 'log' must be true or false (JSON "
                                 f"booleans, unquoted), got {value['log']!r}")
            _check_range_numbers(name, value)
            ints = all(isinstance(value.get(k, 1), int) for k in ("low", "high", "step"))
            cls = IntDistribution if ints else FloatDistribution
            try:
                return cls(**value)
            except (TypeError, ValueError) as exc:
                # Optuna's own message ("`low <= high` must hold") names no entry
                raise ValueError(f"space entry {name!r}: invalid range {value!r}: {exc}") from None
        raise ValueError(
            f"space entry {name!r}: a dict must be {{'low': .., 'high': .., ['log': bool], "
            f"['step': ..]}} or an Optuna distribution JSON, got {value!r}"
        )
    return value


def _check_range_numbers(name, value):
    """Refuse range ends and steps that are no finite numbers.

    Optuna compares them only: ``"low": "0.001"`` (quoted) failed with "'>' not
    supported between instances of 'str' and 'float'", ``"low": true`` made the int
    range 1 to high, and ``"high": Infinity`` sampled inf (or overflowed a log range).
    """
    for key in ("low", "high", "step"):
        if key not in value:
            continue
        item = value[key]
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not math.isfinite(item):
            raise ValueError(f"space entry {name!r}: {key!r} must be a finite number (a JSON "
                             f"number, unquoted), got {item!r}")


def _unique_keys(pairs):
    """A JSON object as a dict, refused where it names a key twice: ``json`` keeps the
    last value silently, so a space file's entry written twice (a copy, edited) lost
    the first one's choices without a word."""
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"search space JSON names {', '.join(map(repr, repeated))} more than "
                         "once (only the last would be kept); keep one entry per name")
    return dict(pairs)


def _read_json(source):
    """The JSON of a file path or of JSON text, parsed; a path that names no file says so."""
    text = os.fspath(source)
    if os.path.isfile(text):
        try:
            # utf-8-sig reads plain UTF-8 too and drops the byte-order mark Notepad writes
            with open(text, encoding="utf-8-sig") as f:
                return json.loads(f.read(), object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise ValueError(f"search space file {text!r} is not valid JSON: {exc}") from exc
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        if _looks_like_path(source):
            problem = "is not a file" if os.path.exists(text) else "not found"
            raise ValueError(f"search space file {text!r} {problem}: give the path of an "
                             "existing JSON file, or the space as JSON text") from None
        raise ValueError(f"search space is neither a JSON file nor JSON text: {exc}") from exc


def _looks_like_path(source) -> bool:
    """Whether ``source``, which is not JSON, was meant as a file path rather than JSON
    text (which starts with ``{``; a JSON string can hold a path)."""
    if isinstance(source, os.PathLike):
        return True
    text = source.strip()
    return not text.startswith("{") and (
        text.lower().endswith(".json") or "/" in text or os.sep in text)


def load_space(source) -> dict:
    """Read a space from JSON (a file path, a JSON string, or an already parsed dict).

    JSON forms: a list is a categorical, ``{"low": 1e-4, "high": 0.1, "log": true}`` a
    float (or int, when ``low``, ``high`` and ``step`` are all integers; a ``null``
    step is no step) range,
    ``{"name": "FloatDistribution", "attributes": {...}}`` Optuna's own distribution JSON,
    and anything else (numbers, strings, ``null``) a fixed value.

    Parameters
    ----------
    source : str, os.PathLike or dict
        Path of a JSON file, JSON text (a string that is not an existing file's path),
        or the parsed JSON object.

    Returns
    -------
    dict
        A space for :func:`~sklstm.search.suggest_params`.

    Raises
    ------
    ValueError
        A path that names no file (a string that is not JSON, ends with ``.json`` or
        holds a path separator), text or a file that is not valid JSON, or JSON that is
        not a space.

    Examples
    --------
    >>> space = load_space('{"batch_size": [16, 32], "lr": {"low": 1e-4, "high": 0.1, '
    ...                    '"log": true}, "num_layers": {"low": 1, "high": 3}, "seq_len": null}')
    >>> space["lr"]
    FloatDistribution(high=0.1, log=True, low=0.0001, step=None)
    >>> space["num_layers"], space["seq_len"]
    (IntDistribution(high=3, log=False, low=1, step=1), None)
    """
    if isinstance(source, (str, os.PathLike)):
        source = _read_json(source)
    if not isinstance(source, Mapping):
        raise ValueError("a search space JSON must be an object {name: spec}")
    return {name: _spec_from_json(name, value) for name, value in source.items()}
