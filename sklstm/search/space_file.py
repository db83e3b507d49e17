"""A search space read from JSON: a file, JSON text or a parsed object
(:func:`load_space`, what ``sklstm tune --space`` reads)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping

from optuna.distributions import FloatDistribution, IntDistribution, json_to_distribution

from .._param_validation import plain_value
from .space_hints import closest_name

__all__ = ["load_space"]


def _spec_from_json(name: str, value):
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if "name" in value and "attributes" in value:  # optuna.distributions.distribution_to_json
            try:
                return json_to_distribution(json.dumps(value))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"space entry {name!r}: invalid Optuna distribution {value!r}: "
                                 f"{str(exc).rstrip('.')}{_swap_hint(value['attributes'])}") \
                    from None
        if any(key in _RANGE_KEYS or _closest_key(key, _RANGE_KEYS) for key in value):
            return _range_from_json(name, value)
        raise ValueError(_dict_form_error(name, value))
    return value


#: The keys of a range, in the order its messages write them.
_RANGE_KEYS = ("low", "high", "log", "step")


def _dict_form_error(name, value):
    return (f"space entry {name!r}: a dict must be {{'low': .., 'high': .., ['log': bool], "
            f"['step': ..]}} or an Optuna distribution JSON, got {value!r}")


def _range_from_json(name, value):
    """The distribution of a range entry ``{"low": .., "high": .., ...}`` (or one of its
    keys misspelt, which says so)."""
    # a parsed dict built in Python may hold numpy values: np.int64 ends made a
    # float range for an int parameter, np.True_ was refused as no JSON boolean
    value = {key: plain_value(item) for key, item in value.items()
             # "step": null is no step (Optuna's default): it made an int range,
             # {"low": 8, "high": 64, "step": null}, a float one
             if not (key == "step" and item is None)}
    extra = sorted(set(value) - set(_RANGE_KEYS), key=str)
    if extra:
        raise ValueError(f"space entry {name!r}: unexpected keys {extra}; "
                         f"{_unknown_keys_fix(extra, value)}")
    if not {"low", "high"} <= value.keys():
        raise ValueError(_dict_form_error(name, value))
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
        raise ValueError(f"space entry {name!r}: invalid range {value!r}: "
                         f"{str(exc).rstrip('.')}{_swap_hint(value)}") from None


def _closest_key(key, candidates):
    return closest_name(key, list(candidates), "") if isinstance(key, str) else None


def _unknown_keys_fix(extra, value):
    """Which known key each of ``extra`` was probably meant as (one the range does not
    hold already: a second ``low`` is removed, not renamed), and which keys there are."""
    free = [key for key in _RANGE_KEYS if key not in value]
    meant = [(key, _closest_key(key, free)) for key in extra]
    guesses = ", ".join(f"{close!r} for {key!r}" for key, close in meant if close)
    return ((f"did you mean {guesses}? " if guesses else "") +
            "a range takes only 'low', 'high', 'log' and 'step'")


def _swap_hint(range_):
    """Say to swap the ends of a range written high first (Optuna's "`low <= high`
    must hold" says what, not how), as the range's JSON to write; ``""`` otherwise."""
    if not isinstance(range_, Mapping):  # an Optuna JSON's "attributes" may be anything
        return ""
    low, high = range_.get("low"), range_.get("high")
    try:
        if not low > high:
            return ""
    except TypeError:  # no numbers: Optuna's own message says so
        return ""
    swapped = {**range_, "low": high, "high": low}
    if swapped.get("step", 0) is None:  # Optuna's JSON writes no step as null
        del swapped["step"]
    return f"; low is above high: swap them: {json.dumps(swapped)}"


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
            raise ValueError(f"search space file {text!r} is not valid JSON: "
                             f"{exc}{_json_fix(exc)}") from exc
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        # before the path's look: a bare folder name ("spaces") was taken for JSON text,
        # "Expecting value: line 1 column 1"
        if os.path.isdir(text):
            raise ValueError(f"search space file {text!r} is a directory: give the path of "
                             "a JSON file (in it), or the space as JSON text") from None
        if _looks_like_path(source):
            problem = "is not a file" if os.path.exists(text) else "not found"
            raise ValueError(f"search space file {text!r} {problem}{_close_file(text)}: give "
                             "the path of an existing JSON file, or the space as JSON text") \
                from None
        raise ValueError(f"search space is neither a JSON file nor JSON text: "
                         f"{exc}{_json_fix(exc)}") from exc


def _json_fix(exc):
    """The fix of the commonest JSON mistakes, for ``json``'s message that names the
    problem only ("Expecting property name enclosed in double quotes" for a trailing
    comma and for a Python dict's single quotes alike); ``""`` for others.

    Examples
    --------
    >>> try:
    ...     json.loads('{"batch_size": [16, 32],}')
    ... except json.JSONDecodeError as exc:
    ...     print(_json_fix(exc))
    ; remove the comma before '}' (JSON allows no trailing comma)
    """
    rest = exc.doc[exc.pos:]
    if exc.msg.startswith(("Expecting property name", "Expecting value")):
        if rest and rest[0] in "}]" and exc.doc[:exc.pos].rstrip().endswith(","):
            return f"; remove the comma before {rest[0]!r} (JSON allows no trailing comma)"
        if rest.startswith("'"):
            return '; write names and text in double quotes ("lr"): JSON takes no single quotes'
        if rest.startswith(("True", "False", "None")):  # a Python dict's text
            return "; write true, false and null (JSON's, lower case) for True, False and None"
        if exc.msg.startswith("Expecting property name"):
            return '; write names in double quotes ("name"), as JSON needs'
    return ""


def _close_file(path):
    """`` (did you mean 'space.json'?)`` for the file next to the missing ``path`` whose
    name is closest to its, or ``""``."""
    folder, name = os.path.split(path)
    try:
        names = [entry.name for entry in os.scandir(folder or ".") if entry.is_file()]
    except OSError:  # no such folder: the message says the path is not found
        return ""
    close = closest_name(name, names, "")
    return f" (did you mean {os.path.join(folder, close)!r}?)" if close else ""


#: The endings of a file name that says it was meant as a space file (``.jsn``, a typo).
_FILE_ENDINGS = (".json", ".jsn", ".txt", ".yaml", ".yml")


def _looks_like_path(source) -> bool:
    """Whether ``source``, which is not JSON, was meant as a file path rather than JSON
    text (which starts with ``{``, or ``[`` or ``"``, neither a space but each able to
    hold a path)."""
    if isinstance(source, os.PathLike):
        return True
    text = source.strip()
    # "\\": a Windows path given on another system (os.sep is "/" there)
    return not text.startswith(("{", "[", '"')) and (
        text.lower().endswith(_FILE_ENDINGS) or any(sep in text for sep in ("/", "\\", os.sep)))


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
        A directory, a path that names no file (a string that is not JSON, ends with
        ``.json``, ``.jsn``, ``.txt`` or ``.yaml`` or holds a path separator), text or a
        file that is not valid JSON (the fix of a trailing comma, single quotes or
        Python's ``True`` said), or JSON that is not a space (a misspelt range key's
        closest said).

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
