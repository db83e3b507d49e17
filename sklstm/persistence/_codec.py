"""Values of parameters and fitted attributes as JSON, and back, without running code.

:func:`encode` turns a value into JSON data: numbers, strings, None, lists as they are;
tuples, dicts (as ``[key, value]`` pairs where a key is not a str: ``class_weight``'s
labels), non-finite floats, ``torch.device``, paths (a ``checkpoint`` directory), the
optimizer classes sklstm names, and 1-D string/object arrays as small tagged objects
(``{"__tuple__": [...]}``); numeric arrays go to the file's tensors and are referenced
by key, arrays of dates and durations (``datetime64``, ``timedelta64``) as tensors of
their int64 counts, their dtype beside the key. Anything else (a callback, a custom
optimizer class, a ``RandomState``) is code or state that only pickle could restore:
:class:`Unsaved` is raised and the caller records the value as not saved.

:func:`decode` accepts only these forms. It never imports a module or calls anything
named by the file, so a crafted file can at worst fail to load.
"""

from __future__ import annotations

import math
import pathlib
import re

import numpy as np
import torch

from .._param_validation import plain_value
from ..training.optimizers import OPTIMIZERS

__all__ = ["MAX_DEPTH", "MAX_STRING_BYTES", "Unsaved", "decode", "describe", "encode",
           "string_bytes"]

#: The deepest nesting of lists, tuples and dicts in a value a file holds: far beyond
#: what a fit or a callback records, and within Python's recursion in ``encode``,
#: ``decode`` and what reads the values after them. A history entry of some 500 levels
#: was saved into a file that never loaded ("maximum recursion depth exceeded"); deeper,
#: the save failed with a raw ``RecursionError``.
MAX_DEPTH = 64

#: The levels of the header above a value of the history: epochs, an epoch, its
#: batches, a batch (decoded whole, from the history's list).
_HISTORY_LEVELS = 4

_OPTIMIZER_NAMES = {cls: name for name, cls in OPTIMIZERS.items()}
_STRING_DTYPE = re.compile(r"^[<>|=]?(U\d+|O)$")
#: numpy's dates and durations of a unit (``"<M8[D]"``, ``"<m8[10ms]"``): every array of
#: times has one (only a lone NaT has none, and no fit makes such labels).
_TIME_DTYPE = re.compile(r"^[<>=]?[mM]8\[[0-9]*(Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)\]$")
_TAGS = ("__tuple__", "__dict__", "__items__", "__float__", "__device__", "__path__",
         "__optimizer__", "__array__", "__tensor__", "__times__")
#: The tags whose JSON object holds a ``"dtype"`` beside the tag.
_WITH_DTYPE = ("__array__", "__times__")


class Unsaved(Exception):
    """A value JSON cannot hold (code, or objects only pickle restores)."""


def describe(value):
    """A short description of a value that was not saved, for the load warning.

    Examples
    --------
    >>> describe([1, object()])
    'list of 2: int, object'
    >>> import numpy as np
    >>> describe(np.random.RandomState(0))
    'numpy.random.mtrand.RandomState'
    """
    if isinstance(value, type):
        return f"class {value.__module__}.{value.__qualname__}"
    if isinstance(value, (list, tuple)):
        kinds = ", ".join(dict.fromkeys(type(v).__name__ for v in value))
        return f"{type(value).__name__} of {len(value)}: {kinds}" if value else "empty list"
    return f"{type(value).__module__}.{type(value).__qualname__}"


def _unique(key, tensors):
    """``key``, or ``key#1``, ``key#2``...: the first not yet in ``tensors``. Keys are
    built from names, which may hold dots: ``{"a.b": x, "a": {"b": y}}`` gave both
    arrays the key ``….a.b``, and the second was written over the first, silently."""
    unique, n = key, 0
    while unique in tensors:
        n += 1
        unique = f"{key}#{n}"
    return unique


#: The largest numbers safetensors stores (64 bits). ``np.longdouble`` (float128) passed
#: ``kind in "biuf"``, and the save of a classifier fitted on such labels (or of a
#: callback's history entry) failed with safetensors' raw "Unknown dtype".
_MAX_ITEMSIZE = 8


def _array(value, key, tensors):
    if value.dtype.kind in "biuf" and value.dtype.itemsize <= _MAX_ITEMSIZE:
        key = _unique(key, tensors)
        tensors[key] = np.ascontiguousarray(value)
        return {"__tensor__": key}
    if _TIME_DTYPE.match(value.dtype.str):
        # a classifier's classes_ fitted on dates (or durations): the save was refused,
        # though fit, predict and joblib take them. safetensors has no time dtype: their
        # int64 counts, in this machine's byte order (a view of others' reads them swapped)
        native = value.dtype.newbyteorder("=")
        key = _unique(key, tensors)
        # (np.array, not np.ascontiguousarray: that makes a 0-d array 1-d)
        tensors[key] = np.array(value, dtype=native, order="C").view(np.int64)
        return {"__times__": key, "dtype": native.str}
    if value.ndim == 1 and _STRING_DTYPE.match(value.dtype.str):
        items = [encode(plain_value(v), f"{key}.{i}", tensors) for i, v in enumerate(value)]
        return {"__array__": items, "dtype": value.dtype.str}
    raise Unsaved(describe(value))


def encode(value, key, tensors, depth=0):
    """JSON data for ``value``; numeric arrays are put in ``tensors`` under ``key``.

    Parameters
    ----------
    value : object
        A parameter or fitted attribute.
    key : str
        Unique name of the value in the file (a prefix for nested arrays).
    tensors : dict
        Receives ``key -> ndarray`` for every numeric array met.
    depth : int, default=0
        The levels of lists, tuples and dicts ``value`` is within.

    Returns
    -------
    object
        JSON data.

    Raises
    ------
    Unsaved
        The value (or a part of it) cannot be written as JSON, or is nested more than
        :data:`MAX_DEPTH` levels deep.
    """
    if depth > MAX_DEPTH:
        raise Unsaved(f"a value nested more than {MAX_DEPTH} levels deep")
    value = plain_value(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    if isinstance(value, list):
        return [encode(v, f"{key}.{i}", tensors, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, f"{key}.{i}", tensors, depth + 1)
                              for i, v in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: encode(v, f"{key}.{k}", tensors, depth + 1)
                             for k, v in value.items()}}
    if isinstance(value, dict):  # other keys (class_weight's labels): as [key, value] pairs
        return {"__items__": [[encode(k, f"{key}.{i}.key", tensors, depth + 1),
                               encode(v, f"{key}.{i}", tensors, depth + 1)]
                              for i, (k, v) in enumerate(value.items())]}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, pathlib.PurePath):
        return {"__path__": str(value)}
    if isinstance(value, type) and value in _OPTIMIZER_NAMES:
        return {"__optimizer__": _OPTIMIZER_NAMES[value]}
    if isinstance(value, np.ndarray):
        return _array(value, key, tensors)
    if isinstance(value, (np.datetime64, np.timedelta64)):  # (class_weight's date labels)
        return _array(np.asarray(value), key, tensors)
    raise Unsaved(describe(value))


class FormatError(ValueError):
    """The JSON of a model file does not have the form :func:`encode` writes."""


#: The most memory the fixed-width string arrays (``"<U"`` dtypes) of one file may take
#: decoded. numpy gives every entry the width the file names: a width of 10**8 in a few
#: bytes of JSON took gigabytes, or failed with a raw ``MemoryError``. The labels and
#: names of a fit take a small fraction of it.
MAX_STRING_BYTES = 2**28


def string_bytes(data):
    """The memory the fixed-width string arrays in JSON ``data`` take decoded, in bytes.

    Parameters
    ----------
    data : object
        JSON data, as :func:`encode` writes it (or a crafted file holds it).

    Returns
    -------
    int

    Examples
    --------
    >>> string_bytes({"__array__": ["a", "bc"], "dtype": "<U2"})
    16
    """
    total, pending = 0, [data]
    while pending:  # (not recursive: the depth of the JSON is the file's to choose)
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.values())
            body, dtype = item.get("__array__"), item.get("dtype")
            width = re.fullmatch(r"[<>|=]?U(\d+)", dtype) if isinstance(dtype, str) else None
            if isinstance(body, list) and width is not None:
                total += 4 * int(width[1]) * len(body)  # (4 bytes a character)
    return total


def _decode_tagged(data, tensors, depth):
    tag = next((t for t in _TAGS if t in data), None)
    expected = {tag, "dtype"} if tag in _WITH_DTYPE else {tag}
    if tag is None or set(data) != expected:
        raise FormatError(f"unexpected JSON object with keys {sorted(data)}")
    body = data[tag]
    if tag == "__tuple__" and isinstance(body, list):
        return tuple(decode(v, tensors, depth + 1) for v in body)
    if tag == "__dict__" and isinstance(body, dict):
        return {k: decode(v, tensors, depth + 1) for k, v in body.items()}
    if tag == "__items__" and isinstance(body, list) \
            and all(isinstance(item, list) and len(item) == 2 for item in body):
        try:
            return {decode(k, tensors, depth + 1): decode(v, tensors, depth + 1)
                    for k, v in body}
        except TypeError as exc:  # a key that is a list or a dict
            raise FormatError(f"bad __items__ key: {exc}") from None
    if tag == "__float__" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "__device__" and isinstance(body, str):
        try:
            return torch.device(body)
        except (RuntimeError, ValueError) as exc:
            raise FormatError(f"bad device {body!r}") from exc
    if tag == "__path__" and isinstance(body, str):
        return pathlib.Path(body)
    if tag == "__optimizer__" and body in OPTIMIZERS:
        return OPTIMIZERS[body]
    if tag == "__tensor__" and isinstance(body, str) and body in tensors:
        return tensors[body]
    if tag == "__times__" and isinstance(body, str) and body in tensors \
            and tensors[body].dtype.kind == "i" and tensors[body].dtype.itemsize == 8 \
            and isinstance(data["dtype"], str) and _TIME_DTYPE.match(data["dtype"]):
        times = tensors[body].astype(np.int64, copy=False).view(
            np.dtype(data["dtype"]).newbyteorder("="))
        return times[()] if times.ndim == 0 else times  # (a scalar: a dict's key)
    if tag == "__array__" and isinstance(body, list) and isinstance(data["dtype"], str) \
            and _STRING_DTYPE.match(data["dtype"]):
        out = np.empty(len(body), dtype=np.dtype(data["dtype"]))
        for i, item in enumerate(body):
            out[i] = decode(item, tensors, depth + 1)
        return out
    raise FormatError(f"bad {tag} entry {body!r}")


def decode(data, tensors, depth=0):
    """The value :func:`encode` wrote as ``data``; ``tensors`` holds the file's arrays.

    Parameters
    ----------
    data : object
        JSON data.
    tensors : dict
        ``key -> ndarray`` read from the file.
    depth : int, default=0
        The levels of lists and objects ``data`` is within.

    Returns
    -------
    object
        The value.

    Raises
    ------
    ValueError
        ``data`` is not a form :func:`encode` writes (or is nested deeper).
    """
    if depth > MAX_DEPTH + _HISTORY_LEVELS:
        raise FormatError(f"a value nested more than {MAX_DEPTH} levels deep, which "
                          "estimator.save never writes")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, tensors, depth + 1) for v in data]
    if isinstance(data, dict):
        return _decode_tagged(data, tensors, depth)
    raise FormatError(f"unexpected JSON value {data!r}")
