"""Parameter constraints on top of scikit-learn's parameter validation.

scikit-learn's machinery (``_parameter_constraints``, ``_fit_context``,
``validate_params``, private names fenced in :mod:`sklstm._compat.sklearn`) does the
checking and words the errors. Two gaps are filled here, because users pass these and
scikit-learn's constraints refuse or misread them:

* numpy scalars and 0-d arrays (``np.int64(32)``, ``np.array(0.01)``, the values of a
  grid written with ``np.array``) become the Python numbers they hold before they are
  checked or used (:func:`plain_value`), so torch never sees a numpy type;
* ``Interval(Integral, ...)`` accepts ``True`` as 1 and ``Interval(Real, ...)`` as 1.0:
  :func:`integers` and :func:`reals` refuse bools.
"""

from __future__ import annotations

import functools
import inspect
from numbers import Integral, Real

import numpy as np

from ._compat.sklearn import Interval, ParamsValidationHook, validate_params

__all__ = [
    "PREVIOUS_VALUES",
    "PlainParamsMixin",
    "extended_signature",
    "integers",
    "plain_label",
    "plain_params",
    "plain_value",
    "reals",
    "validate_plain_params",
]

#: Parameters added with a default that trains otherwise than sklstm did before them,
#: and the value that trains as before: what a saved model or a checkpoint that does
#: not record the parameter (it was written before the parameter existed) trained with.
PREVIOUS_VALUES = {"lr_schedule": "constant", "ar_window": None, "conv_channels": None,
                   "split_level": False}


class _NoBools(Interval):
    """An ``Interval`` that refuses bools: ``True`` is no batch size and no learning rate."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def integers(left, right=None):
    """Constraint: an int (not a bool) in ``[left, right]`` (``right=None``: no bound).

    Examples
    --------
    >>> integers(1).is_satisfied_by(3), integers(1).is_satisfied_by(True)
    (True, False)
    """
    return _NoBools(Integral, left, right, closed="both" if right is not None else "left")


def reals(left, right=None, closed="left"):
    """Constraint: a finite real number in the interval (NaN, infinities and bools refused).

    Examples
    --------
    >>> reals(0, closed="neither").is_satisfied_by(float("inf"))
    False
    >>> reals(0).is_satisfied_by(True), reals(0).is_satisfied_by(1)
    (False, True)
    """
    return _NoBools(Real, left, right, closed=closed)


def plain_value(value):
    """``value`` with numpy scalars and 0-d arrays turned into Python numbers.

    Examples
    --------
    >>> import numpy as np
    >>> plain_value(np.int64(3)), plain_value(np.array(0.5)), plain_value(np.bool_(True))
    (3, 0.5, True)
    >>> plain_value([1, 2])
    [1, 2]
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
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
    """A copy of a ``name -> value`` dict with every value passed through :func:`plain_value`.

    Examples
    --------
    >>> import numpy as np
    >>> plain_params({"batch_size": np.int32(16), "seq_len": None})
    {'batch_size': 16, 'seq_len': None}
    """
    return {name: plain_value(value) for name, value in params.items()}


def validate_plain_params(constraints):
    """Decorator: scikit-learn's ``validate_params`` after numpy scalars became numbers.

    The wrapped function receives the plain values too, so its body never meets
    ``np.int64`` where it expects an ``int``.

    Examples
    --------
    >>> import numpy as np
    >>> @validate_plain_params({"n": [integers(1)]})
    ... def twice(n):
    ...     return 2 * n
    >>> twice(np.array(3))
    6
    """

    def decorate(func):
        checked = validate_params(constraints, prefer_skip_nested_validation=True)(func)
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            plain = {name: plain_value(value) for name, value in bound.arguments.items()}
            return checked(**plain)

        return wrapper

    return decorate


class PlainParamsMixin(ParamsValidationHook):
    """Estimator mixin: ``_fit_context`` checks ``_parameter_constraints`` on the Python
    numbers that numpy scalars and 0-d arrays hold, so ``np.int64(32)`` is a valid int."""

    def _params_to_validate(self):
        return plain_params(self.get_params(deep=False))


def extended_signature(init, **extra):
    """The signature of ``init`` with keyword-only parameters ``extra`` (name=default) added.

    scikit-learn reads an estimator's parameters off the signature of its
    ``__init__``. A subclass whose ``__init__`` takes ``(self, *, extra..., **params)``
    and passes ``params`` on sets this as its ``__signature__``, so the parameters of
    the base class are written once, in the base class. A name ``init`` already has
    keeps its place and takes the default given here (a subclass's own default).

    Examples
    --------
    >>> def init(self, *, a=1): pass
    >>> str(extended_signature(init, b=True))
    '(self, *, a=1, b=True)'
    >>> str(extended_signature(init, a=2, b=True))
    '(self, *, a=2, b=True)'
    """
    signature = inspect.signature(init)
    kept = [param.replace(default=extra[name]) if name in extra else param
            for name, param in signature.parameters.items()]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default)
             for name, default in extra.items() if name not in signature.parameters]
    return signature.replace(parameters=[*kept, *added])
