"""Numpy scalars and 0-d arrays as the Python numbers and strings they hold.

Users pass them (``np.int64(32)``, ``np.array(0.01)``, the values of a grid written with
``np.array``), and scikit-learn's constraints refuse or misread them: as plain values
torch never sees a numpy type, messages show ``'sgd'``, not ``np.str_('sgd')``, and
``np.float32(0.2)`` trains as ``0.2`` does. (Its own module: the parameter checks of
:mod:`sklstm._param_validation` use these, and so does much else.)
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["plain_label", "plain_params", "plain_value"]


def plain_value(value):
    """``value`` with numpy scalars and 0-d arrays turned into Python numbers and strings.

    Strings too: a grid written ``np.array(["adam", "sgd"])`` hands out ``np.str_``
    values, whose repr (``np.str_('sgd')``) would otherwise reach the messages.

    Examples
    --------
    >>> import numpy as np
    >>> plain_value(np.int64(3)), plain_value(np.array(0.5)), plain_value(np.bool_(True))
    (3, 0.5, True)
    >>> plain_value(np.str_("sgd")), plain_value(np.array("auto"))
    ('sgd', 'auto')
    >>> plain_value(np.float32(0.2)), plain_value(np.longdouble(0.5))
    (0.2, 0.5)
    >>> from fractions import Fraction
    >>> plain_value(Fraction(1, 100)), plain_value([1, 2])
    (0.01, [1, 2])
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.floating) and value.itemsize < 8:
        # the shortest decimal that is this float32 (float16): the number written.
        # item() gives its binary expansion, np.float32(0.2) 0.20000000298023224, which
        # held out ceil(0.2000...03 * 30) = 7 samples of 30 where 0.2 holds out 6.
        # (format_float_scientific, not str(): np.set_printoptions changes str())
        return float(np.format_float_scientific(value, unique=True))
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        item = value.item()
        # np.longdouble's item() is itself (no Python float holds its precision): the
        # float64 it rounds to is what torch trains with and a model file can hold
        return float(item) if isinstance(item, np.floating) else item
    if isinstance(value, Real) and not isinstance(value, (int, float, np.generic)):
        # a Fraction (a Real of no Python or numpy type): scikit-learn's intervals test
        # it with np.isnan, which refused lr=Fraction(1, 100) with numpy's bare "ufunc
        # 'isnan' not supported"; it trains as the number it is
        try:
            return int(value) if isinstance(value, Integral) else float(value)
        except OverflowError:  # (past float64: refused as not finite)
            return math.inf if value > 0 else -math.inf
    return value


def plain_label(value):
    """A class label as the Python value it holds, so messages show ``1.0``, not
    ``np.float64(1.0)``.

    Examples
    --------
    >>> import numpy as np
    >>> plain_label(np.float64(1.0)), plain_label(np.str_("up"))
    (1.0, 'up')
    """
    return value.item() if isinstance(value, np.generic) else value


def plain_params(params):
    """A copy of a ``name -> value`` dict with every value passed through :func:`plain_value`,
    and the values of a dict value (``optimizer_params``, ``class_weight``) too.

    A search sets ``optimizer_params__momentum`` to the numpy scalars of its grid: a
    float32 kept there made the checkpoint record 0.8999999761581421 for the 0.9 that
    trained, and a fit resumed with ``0.9`` written was refused as another fit's.

    Examples
    --------
    >>> import numpy as np
    >>> plain_params({"batch_size": np.int32(16), "seq_len": None})
    {'batch_size': 16, 'seq_len': None}
    >>> plain_params({"optimizer_params": {"momentum": np.float32(0.9),
    ...                                    "betas": (np.float32(0.8), 0.99)}})
    {'optimizer_params': {'momentum': 0.9, 'betas': (0.8, 0.99)}}
    """
    return {name: _plain_entries(value) if isinstance(value, dict) else plain_value(value)
            for name, value in params.items()}


def _plain_entries(mapping):
    """``mapping`` with its values (and their items, of a tuple or list) through
    :func:`plain_value`, its keys (``class_weight``'s labels) through :func:`plain_label`."""
    def plain(value):
        value = plain_value(value)
        return type(value)(map(plain_value, value)) if type(value) in (tuple, list) else value
    return {plain_label(key): plain(value) for key, value in mapping.items()}
