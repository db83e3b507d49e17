"""Parameter constraints on top of scikit-learn's parameter validation.

scikit-learn's machinery (``_parameter_constraints``, ``_fit_context``,
``validate_params``, private names fenced in :mod:`sklstm._compat.sklearn`) does the
checking and words the errors. Two gaps are filled here, because users pass these and
scikit-learn's constraints refuse or misread them:

* numpy scalars and 0-d arrays (``np.int64(32)``, ``np.array(0.01)``, the values of a
  grid written with ``np.array``) are checked and used as the Python numbers and
  strings they hold (:func:`~sklstm._plain_values.plain_value`, re-exported here);
* ``Interval(Integral, ...)`` accepts ``True`` as 1 and ``Interval(Real, ...)`` as 1.0:
  :func:`integers` and :func:`reals` refuse bools.

And where a number or a bool is refused for its type alone, as numpy grids hand them
out (``16.0`` of ``np.linspace`` for an int, ``'8'`` of ``np.array([8, "auto"])``,
``'True'`` of ``np.array(["auto", True])``), as a bool or an array of one
(``np.array([0.01])``) written for a number, or as a number written for its string
(``precision=32`` for ``'32'``), the error of the estimators (and of
:func:`validate_constraints`) says why and what to write (:func:`mistyped_number_hint`);
so does it for a value other libraries write for one of an :func:`options`' strings
(Lightning's ``precision=16``, torch's ``torch.float16``), and for one value where a
sequence of them is taken (``conv_kernel_sizes=3``: a list, ``[3]``). The value stays
refused, as scikit-learn refuses it.
"""

from __future__ import annotations

import functools
import inspect
from numbers import Integral, Real

import numpy as np

from ._compat.sklearn import (
    Interval,
    InvalidParameterError,
    ParamsValidationHook,
    StrOptions,
    validate_parameter_constraints,
    validate_params,
)
from ._plain_values import plain_label, plain_params, plain_value  # (re-exported: see below)

__all__ = ["PREVIOUS_VALUES", "PlainParamsMixin", "extended_signature", "integers",
           "mistyped_number_hint", "options", "plain_label", "plain_params", "plain_value",
           "reals", "validate_constraints", "validate_plain_params"]

#: Parameters added with a default that trains otherwise than sklstm did before them,
#: and the value that trains as before: what a saved model or a checkpoint that does
#: not record the parameter (it was written before the parameter existed) trained with.
PREVIOUS_VALUES = {"lr_schedule": "constant", "ar_window": None, "conv_channels": None,
                   "split_level": False}


class _NoBools(Interval):
    """An ``Interval`` that refuses bools: ``True`` is no batch size and no learning rate.
    Its ``meaning``, when set, follows the range in the refusal."""

    meaning = None

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)

    def __str__(self):
        text = super().__str__()
        return text if self.meaning is None else f"{text}, {self.meaning}"


def integers(left, right=None):
    """Constraint: an int (not a bool) in ``[left, right]`` (None: no bound on that side).

    Examples
    --------
    >>> integers(1).is_satisfied_by(3), integers(1).is_satisfied_by(True)
    (True, False)
    >>> integers(None).is_satisfied_by(-3)
    True
    """
    closed = {(True, True): "both", (True, False): "left", (False, True): "right",
              (False, False): "neither"}[left is not None, right is not None]
    return _NoBools(Integral, left, right, closed=closed)


def reals(left, right=None, closed="left", meaning=None):
    """Constraint: a finite real number in the interval (NaN, infinities and bools refused);
    ``meaning``: what the number is, said after the range where it is refused.

    Examples
    --------
    >>> reals(0, closed="neither").is_satisfied_by(float("inf"))
    False
    >>> reals(0).is_satisfied_by(True), reals(0).is_satisfied_by(1)
    (False, True)
    """
    constraint = _NoBools(Real, left, right, closed=closed)
    constraint.meaning = meaning
    return constraint


class _Options(StrOptions):
    """A ``StrOptions`` that knows what other libraries write for its strings."""

    others = None


def options(values, others=None):
    """Constraint: one of the strings ``values``; ``others`` maps what other libraries
    write for them (hashable values) to what to say where one is refused, after the
    value (:func:`validate_constraints` says it).

    Examples
    --------
    >>> constraint = options({"32", "bf16"}, {"fp32": "is torch's name for '32'"})
    >>> constraint.is_satisfied_by("32"), constraint.is_satisfied_by("fp32")
    (True, False)
    """
    constraint = _Options(set(values))
    constraint.others = dict(others or {})
    return constraint


def validate_plain_params(constraints):
    """Decorator: scikit-learn's ``validate_params`` after numpy scalars became numbers,
    its refusal of a mistyped number completed by :func:`mistyped_number_hint`.

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
            try:
                return checked(**plain)
            except InvalidParameterError as exc:
                # the estimators' words (lookback=3.0 of np.linspace, feature_cols='x',
                # random_state=np.random.default_rng(0): scikit-learn's words alone); ""
                # where every parameter passed (raised inside func)
                hint = _hint(constraints, plain, func.__qualname__)
                if not hint:
                    raise
                raise InvalidParameterError(f"{exc}{hint}") from exc

        return wrapper

    return decorate


class PlainParamsMixin(ParamsValidationHook):
    """Estimator mixin: ``_fit_context`` checks ``_parameter_constraints`` on the Python
    numbers that numpy scalars and 0-d arrays hold, so ``np.int64(32)`` is a valid int.

    A number refused for its type alone, the way numpy grids hand them out (``16.0``
    from ``np.linspace``, ``'8'`` from ``np.array([8, "auto"])``), or a bool or an
    array of one written for a number, is refused with a message that says so
    (:func:`mistyped_number_hint`).
    """

    def _params_to_validate(self):
        return plain_params(self.get_params(deep=False))

    def _validate_params(self):
        validate_constraints(self._parameter_constraints, self._params_to_validate(),
                             type(self).__name__)


def validate_constraints(constraints, params, caller):
    """scikit-learn's ``validate_parameter_constraints``, its refusal of a mistyped number
    completed by :func:`mistyped_number_hint` (for objects that are not estimators, such
    as callbacks, whose parameters ``_fit_context`` does not check).

    Examples
    --------
    >>> try:
    ...     validate_constraints({"factor": [integers(2)]}, {"factor": 2.0}, "f")
    ... except ValueError as exc:
    ...     print(str(exc).split(";")[0])
    The 'factor' parameter of f must be an int in the range [2, inf). Got 2.0 instead. \
2.0 is a float
    """
    try:
        validate_parameter_constraints(constraints, params, caller_name=caller)
    except InvalidParameterError as exc:
        hint = _hint(constraints, params, caller)
        if not hint:
            raise
        raise InvalidParameterError(f"{exc}{hint}") from exc


def _hint(constraints, params, caller):
    """What to write instead, for the first refused value it knows; ``""`` for none."""
    return (mistyped_number_hint(constraints, params, caller)
            or _generator_hint(constraints, params) or _others_hint(constraints, params)
            or _one_value_hint(constraints, params, caller))


def _generator_hint(constraints, params):
    """What to pass for a ``random_state`` given a numpy ``Generator`` (numpy's way to
    seed, which scikit-learn refuses without saying how to get what it takes); ``""``."""
    for name, value in params.items():
        if "random_state" in constraints.get(name, ()) and isinstance(value, np.random.Generator):
            return (" A numpy Generator is not a random_state scikit-learn estimators take; "
                    f"pass a seed drawn from it, {name}=int(rng.integers(2**32)), or an "
                    "np.random.RandomState.")
    return ""


def _others_hint(constraints, params):
    """What an :func:`options` constraint says of a value other libraries write for one
    of its strings (Lightning's ``precision=16``); ``""`` for none."""
    for name, value in params.items():
        for constraint in constraints.get(name, ()):
            others = getattr(constraint, "others", None) or {}
            try:
                said = others.get(value)
            except TypeError:  # (unhashable: a list is nobody's name for an option)
                continue
            if said and not constraint.is_satisfied_by(value):
                return f" {value!r} {said}"
    return ""


def _one_value_hint(constraints, params, caller):
    """What to pass for a parameter that takes a sequence (``"array-like"``) where the
    first refused is one value of it, a number or a string (``conv_kernel_sizes=3`` or
    ``np.array(3)``, ``feature_cols='x'``: scikit-learn's "must be an array-like" said
    no fix); ``""`` otherwise."""
    for name, value in params.items():
        if name not in constraints or _satisfies(constraints, name, value, caller):
            continue
        # the first refused: the one scikit-learn's message names (a bool is no one value)
        if ("array-like" in constraints[name] and isinstance(value, (str, Real))
                and not isinstance(value, bool)):
            return (f" {value!r} is a single value; {name} takes a sequence of them: pass "
                    f"a list, e.g. {name}=[{value!r}].")
        return ""
    return ""


def _satisfies(constraints, name, value, caller):
    try:
        validate_parameter_constraints({name: constraints[name]}, {name: value}, caller)
    except InvalidParameterError:
        return False
    return True


def _meant_number(value):
    """The number (or bool) ``value`` stands for when only its type is off: the int or
    float a string writes, the bool ``'True'`` or ``'False'`` names, the int a whole float
    is, the int a bool counts as (which :func:`integers` and :func:`reals` refuse), the
    value a list, tuple or array of one holds, an int itself; None otherwise."""
    if isinstance(value, bool):
        return int(value)
    if (isinstance(value, (list, tuple)) and len(value) == 1) or (
            isinstance(value, np.ndarray) and value.size == 1):  # (0-d: plain_value's)
        item = plain_value(value[0] if isinstance(value, (list, tuple))
                           else value.reshape(-1)[0])
        return item if isinstance(item, Real) else None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, int):  # (refused: its string may be taken, precision='32')
        return value
    if not isinstance(value, str):
        return None
    if value in ("True", "False"):  # (numpy's str() of a bool beside strings)
        return value == "True"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return None


#: Why a number or bool comes of the wrong type (mostly from a numpy grid), and what to
#: write instead.
_MISTYPED = {
    str: ("{value!r} is the {kind} {number!r} written as a string; pass the {kind}. "
          "(numpy makes strings of all the values of an array that mixes numbers or bools "
          "and strings, such as np.array([8, 'auto']): write such a grid as a list, or as "
          "an array of dtype=object.)"),
    float: ("{value!r} is a float; pass the int {number!r}. (np.linspace and np.logspace "
            "give floats, and np.array makes floats of ints written beside floats: write "
            "such a grid with np.arange or np.geomspace(..., dtype=int), or convert it with "
            ".astype(int).)"),
    bool: "{value!r} is a bool, which sklstm does not count as {number!r}; pass {number!r}.",
    list: ("{value!r} holds one {kind}; pass the {kind} {number!r} itself, not a list or "
           "array of one (of an array drawn with size=1, or a row of a 2-D grid, take "
           ".item())."),
    # a number where its string is taken ('32' of precision)
    "string": "{value!r} is a number; {name} takes it as a string: pass {name}={number!r}.",
}


def mistyped_number_hint(constraints, params, caller):
    """What to add to the error about the first parameter of ``params`` that breaks its
    constraint, when the number or bool it stands for would satisfy it; ``""`` otherwise.

    Grids written with numpy hand out numbers of another type than the parameter
    takes: ``np.linspace(16, 64, 4)`` floats (``16.0`` for an int), an array mixing
    numbers or bools and strings only strings (``'8'`` of ``np.array([8, "auto"])``,
    ``'True'`` of ``np.array(["auto", True])``). scikit-learn's message ("Got 16.0
    instead") does not say why; the parameter stays refused, as scikit-learn refuses it.

    Parameters
    ----------
    constraints : dict
        ``_parameter_constraints``.
    params : dict
        The parameters as checked (numpy scalars already Python values).
    caller : str
        The estimator's class name.

    Returns
    -------
    str
        The hint, with a leading space; ``""`` when there is none to give.

    Examples
    --------
    >>> from sklstm._compat.sklearn import StrOptions
    >>> constraints = {"batch_size": [integers(1), StrOptions({"auto"})]}
    >>> print(mistyped_number_hint(constraints, {"batch_size": "8"}, "f").split(";")[0])
     '8' is the number 8 written as a string
    >>> print(mistyped_number_hint(constraints, {"batch_size": 16.0}, "f").split(";")[0])
     16.0 is a float
    >>> mistyped_number_hint(constraints, {"batch_size": "eight"}, "f")
    ''
    >>> mistyped_number_hint(constraints, {"batch_size": 0.0}, "f")  # 0 is refused too
    ''
    >>> print(mistyped_number_hint({"lr": [reals(0)]}, {"lr": [0.01]}, "f").split(",")[0])
     [0.01] holds one number; pass the number 0.01 itself
    >>> print(mistyped_number_hint(constraints, {"batch_size": True}, "f"))
     True is a bool, which sklstm does not count as 1; pass 1.
    >>> print(mistyped_number_hint({"precision": [StrOptions({"32", "bf16"})]},
    ...                            {"precision": 32}, "f"))
     32 is a number; precision takes it as a string: pass precision='32'.
    >>> constraints = {"split_level": ["boolean", StrOptions({"auto"})]}
    >>> print(mistyped_number_hint(constraints, {"split_level": "True"}, "f").split(";")[0])
     'True' is the bool True written as a string
    """
    for name, value in params.items():
        if name not in constraints or _satisfies(constraints, name, value, caller):
            continue
        # the first refused: the one scikit-learn's message names
        number = _meant_number(value)
        if isinstance(number, int) and not _satisfies(constraints, name, number, caller):
            number = str(number)  # (precision=32, 32.0 for '32')
        if number is None or not _satisfies(constraints, name, number, caller):
            return ""
        text = _MISTYPED["string" if isinstance(number, str) else next(
            (t for t in (str, bool, float) if isinstance(value, t)), list)]
        kind = "bool" if isinstance(number, bool) else "number"
        return " " + text.format(value=value, number=number, kind=kind, name=name)
    return ""


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
