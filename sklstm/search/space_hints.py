"""What a refused value of a search space's message adds: how to write it instead.

:func:`~sklstm.search.space_values.check_space_values` refuses a choice, range end or
fixed value with its owner's own message, which says what was refused ("Got 4.0
instead") but not why a space holds it: numpy's text or floats, a range written as
floats, a sequence taken for choices, a space file's range as a fixed dict. Each
hint here adds that and the fix, or nothing; :func:`closest_name` is the parameter an
unknown name of a space was probably meant as.
"""

from __future__ import annotations

import ast
import difflib
import json

from optuna.distributions import CategoricalDistribution, FloatDistribution

from .._param_validation import mistyped_number_hint

__all__ = ["closest_name", "refusal_hint"]


def refusal_hint(dist, point, constraints, leaf, owner_name, int_accepted):
    """The hints for the refused ``point`` of the space entry of ``dist`` (None: a fixed
    value), ``""`` where none applies.

    Parameters
    ----------
    dist : optuna.distributions.BaseDistribution or None
        The entry's distribution; None for a fixed value.
    point : object
        The refused choice, range end or fixed value.
    constraints : list
        Its parameter's ``_parameter_constraints``.
    leaf, owner_name : str
        The parameter's own name and its owner's class name.
    int_accepted : bool
        Whether ``point`` is a whole float whose int the parameter accepts.

    Returns
    -------
    str
        With a leading space, or ``""``.
    """
    return "".join((_text_hint(point),
                    _int_hint(dist, point, constraints, leaf, owner_name, int_accepted),
                    _range_hint(point), _sequence_hint(dist, constraints)))


def _int_hint(dist, point, constraints, leaf, owner_name, int_accepted):
    """Say how to write ints, for a whole float refused where its int is not: the end
    of a FloatDistribution (``FloatDistribution(4, 8)`` for ``hidden_size``, refused as
    "Got 4.0" without a fix), or a float choice or fixed value (``np.linspace``'s).

    Examples
    --------
    >>> from optuna.distributions import FloatDistribution
    >>> print(_int_hint(FloatDistribution(4, 64, log=True), 4.0, [], "hidden_size", "", True))
     (hidden_size takes ints: give optuna.distributions.IntDistribution(4, 64, log=True), \
or in a space file ints: {"low": 4, "high": 64, "log": true})
    """
    if not int_accepted:
        return ""
    if isinstance(dist, FloatDistribution):
        ends = {"low": int(dist.low), "high": int(dist.high)}
        if dist.step is not None:
            ends["step"] = dist.step if not float(dist.step).is_integer() else int(dist.step)
        if dist.log:
            ends["log"] = True
        args = ", ".join([str(ends["low"]), str(ends["high"]),
                          *(f"{key}={ends[key]!r}" for key in ("step", "log") if key in ends)])
        return (f" ({leaf} takes ints: give optuna.distributions.IntDistribution({args}), "
                f"or in a space file ints: {json.dumps(ends)})")
    return mistyped_number_hint({leaf: constraints}, {leaf: point}, owner_name)


def _text_hint(point):
    """Say why a refused choice may be text: numpy makes ``np.array([8, "auto"])`` an
    array of text, ``'8'``, which the estimator refuses as a number.

    Examples
    --------
    >>> _text_hint("8")
    " ('8' is text: an np.array of numbers and text holds text only; give a list, or ..."
    >>> _text_hint("sum"), _text_hint(0)
    ('', '')
    """
    if not isinstance(point, str):  # a number refused is refused as a number
        return ""
    try:
        written = ast.literal_eval(point)
    except (ValueError, SyntaxError):
        return ""
    if written is None or isinstance(written, (bool, int, float)):
        return (f" ({point!r} is text: an np.array of numbers and text holds text only; "
                "give a list, or np.array(..., dtype=object))")
    return ""


def _sequence_hint(dist, constraints):
    """Say that a list or tuple is choices, for a parameter that takes a sequence
    (``conv_kernel_sizes``): ``(8, 5, 3)`` was refused as "the choice 8", without a fix.

    Examples
    --------
    >>> print(_sequence_hint(CategoricalDistribution([8, 3]), ["array-like"]))
     (a list or tuple in a space is its choices: set a fixed sequence on the estimator)
    """
    if isinstance(dist, CategoricalDistribution) and "array-like" in constraints:
        return " (a list or tuple in a space is its choices: set a fixed sequence on the estimator)"
    return ""


def _range_hint(point):
    """Say how a range is written here, for a refused fixed ``{"low": .., "high": ..}``:
    a space file's form (:func:`~sklstm.search.load_space`), a fixed dict in Python.

    Examples
    --------
    >>> print(_range_hint({"low": 1e-3, "high": 0.1, "log": True}))  # doctest: +ELLIPSIS
     (a range is an Optuna distribution here: optuna...FloatDistribution(0.001, 0.1, ...
    """
    if not (isinstance(point, dict) and {"low", "high"} <= point.keys()):
        return ""
    ints = all(isinstance(point.get(key, 1), int) for key in ("low", "high", "step"))
    args = ", ".join([repr(point["low"]), repr(point["high"]),
                      *(f"{key}={point[key]!r}" for key in ("log", "step") if key in point)])
    return (f" (a range is an Optuna distribution here: optuna.distributions."
            f"{'Int' if ints else 'Float'}Distribution({args}); {{'low': .., 'high': ..}} "
            "is the form of a space file or --space JSON, see load_space)")


def _valid_names(params, step_prefix):
    """The names a space may use: the parameters, and the final step's without its prefix."""
    short = [p.removeprefix(step_prefix) for p in params if step_prefix and
             p.startswith(step_prefix)]
    return [*params, *short]


#: How alike (difflib's ratio) an unknown parameter and a valid one must be to suggest it.
_CLOSE = 0.6

#: scikit-learn's MLP and Keras names of parameters sklstm names otherwise: difflib
#: matches spelling, not meaning (``max_iter`` was "did you mean 'max_memory'?", and
#: ``learning_rate`` had no hint).
_OTHER_NAMES = {"max_iter": "max_epochs", "learning_rate": "lr", "learning_rate_init": "lr",
                "alpha": "weight_decay", "seed": "random_state", "units": "hidden_size"}


def closest_name(name, params, step_prefix):
    """The parameter of ``params`` (or of the final step, without its ``step_prefix``)
    closest to the unknown ``name``, whole (with its step prefix), or None.

    The parameter (the last ``__`` part) must be close, and decides; the step path
    breaks ties: ``lstm__batchsize`` is closest to ``lstm__batch_size`` in a Pipeline,
    and to ``batch_size`` on a bare estimator, not to ``base_batch_size``. Another
    library's name of a parameter (``max_iter``) stands for sklstm's (``max_epochs``).
    """
    path, _, leaf = name.rpartition("__")
    leaf = _OTHER_NAMES.get(leaf, leaf)

    def closeness(candidate):
        other_path, _, other_leaf = candidate.rpartition("__")
        return (difflib.SequenceMatcher(None, leaf, other_leaf).ratio(),
                difflib.SequenceMatcher(None, path, other_path).ratio())

    best = max(_valid_names(params, step_prefix), key=closeness, default=None)
    return best if best is not None and closeness(best)[0] >= _CLOSE else None
