"""Memory sizes in words: ``max_memory``'s strings parsed to bytes (:func:`parse_memory`)
and bytes written for people (:func:`format_bytes`)."""

from __future__ import annotations

import math
import numbers
import re
from decimal import Decimal
from fractions import Fraction

import numpy as np

from .._param_validation import plain_value

__all__ = ["format_bytes", "parse_memory"]

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20,
          "gib": 2**30, "tib": 2**40}
# A sign is matched so that "-1" is refused as not positive rather than as not a size;
# "5." and ".5" are numbers as Python writes them.
_SIZE = re.compile(r"^\s*([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*$",
                   re.IGNORECASE)


def parse_memory(value, name="max_memory"):
    """Bytes from an int or a string such as ``"2GiB"``, ``"512 MB"`` or ``"1.5e9"``.

    Parameters
    ----------
    value : int, float, str or None
        A number of bytes, or a number with a unit: B, kB/MB/GB/TB (also K/M/G/T;
        powers of 1000), KiB/MiB/GiB/TiB (powers of 1024); case and spaces do not
        matter. numpy numbers and strings (also 0-d arrays of them, as the
        estimators accept) are accepted. None is returned as None.
    name : str, default="max_memory"
        The parameter's name, for error messages.

    Returns
    -------
    int or None
        Whole bytes (a fraction of a byte that a unit makes, ``"0.1kib"``, is
        dropped).

    Raises
    ------
    ValueError
        If the string does not parse, the unit is unknown, the size is not
        positive and finite, or a size in bytes (no unit, or ``B``) is not whole:
        ``"1.5"`` is 1.5 bytes, a unit left out.
    TypeError
        If ``value`` is neither a number nor a string.

    Examples
    --------
    >>> from sklstm.resources.memory_budget import parse_memory
    >>> parse_memory("2GiB"), parse_memory("512 MB"), parse_memory(1024)
    (2147483648, 512000000, 1024)
    """
    # a 0-d array (max_memory=np.array("2GiB")): the estimators' checks read it as its
    # value, and so must the parse (profile_batch_sizes raised TypeError on it)
    value = plain_value(value)
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(f"{name} must be a number of bytes or a string such as '2GiB'; "
                        f"got {type(value).__name__}.")
    given = value
    if isinstance(value, numbers.Integral):  # exact, however large (no float on the way)
        value, whole, number = int(value), True, None
    elif isinstance(value, str):
        match = _SIZE.match(value)
        unit = match and match.group(2).lower()
        if not match or unit not in _UNITS:
            raise ValueError(
                f"{name}={value!r} is not a memory size; write bytes or a number with a "
                "unit: B, kB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB "
                "(powers of 1024), e.g. '2GiB' or '512MB'.")
        value = float(match.group(1)) * _UNITS[unit]
        if math.isfinite(value):  # exactly as written: in floats "2.01kB" is 2009.99... bytes
            value = Fraction(match.group(1)) * _UNITS[unit]
        # (a unit above a byte: its fraction of a byte is dropped)
        number, whole = match.group(1), _UNITS[unit] > 1
    else:
        value, whole = float(value), False
        number = repr(value)
    positive = value > 0  # (False for NaN)
    if value == math.inf:  # float("inf"), or "1e400": no whole number of bytes
        raise ValueError(f"{name}={given!r} is not a finite size; give a number of bytes "
                         "such as '2GiB', or None for no budget of your own.")
    if positive and not whole and value != int(value):
        # a unit left out: "1.5" was read as 1 byte, and refused only as smaller than the
        # network ("more than max_memory=1 B allows"), never as the unit it lacked
        example = f"'{number}GiB' or '{number}GB'" if value < 2**10 else "'2GiB'"
        raise ValueError(
            f"{name}={given!r} is not a whole number of bytes (a size without a unit "
            f"counts bytes); give whole bytes, or the unit meant, e.g. {example}.")
    if not (positive and value >= 1):
        raise ValueError(f"{name}={given!r} must be a positive size (at least 1 byte).")
    return int(value)


def format_bytes(n):
    """``n`` bytes as a short human-readable string.

    Examples
    --------
    >>> format_bytes(3 * 2**20), format_bytes(512), format_bytes(10**400)
    ('3.0 MiB', '512 B', '9.3e+390 GiB')
    >>> format_bytes(2**20 - 1), format_bytes(2**40)
    ('1.0 MiB', '1024.0 GiB')
    """
    if n >= 2**1000:  # an int past floats (max_memory=10**400 is accepted): n / size raised
        return f"{Decimal(n) / 2**30:.1e} GiB"
    if n < 2**10:
        return f"{int(n)} B"
    # the unit of the figure as rounded: 2**20 - 1 bytes were written "1024.0 KiB"
    for unit, size in (("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30)):
        shown = f"{n / size:.1f}"
        if float(shown) < 2**10 or unit == "GiB":
            return f"{shown} {unit}"
