"""The per-sample lengths of the synthetic generators: ``length_range`` checked, then
drawn. Checked apart from the drawing, before a generator draws anything, so that a
refused ``length_range`` leaves a caller's ``RandomState`` where it was (a refusal that
drew from it first changed every dataset made from it afterwards)."""

from collections.abc import Mapping, Set
from numbers import Integral

import numpy as np

from .._param_validation import plain_value

__all__ = ["draw_lengths", "length_bounds"]


def length_bounds(n_timesteps, variable_length, length_range, min_length):
    """The inclusive ``(low, high)`` lengths of ``length_range`` (None: fixed lengths of
    ``n_timesteps``), which lie within ``[min_length, n_timesteps]`` (no upper bound for
    ``n_timesteps=None``), or the refusal of a ``length_range`` that does not fit."""
    if not variable_length:
        if length_range is not None:  # ignoring it would give fixed lengths silently
            raise ValueError(
                f"length_range={length_range!r} is only used with variable_length=True; "
                "pass variable_length=True, or drop length_range."
            )
        return None
    if length_range is None:
        return max(min_length, n_timesteps // 2), n_timesteps
    if isinstance(length_range, (Set, Mapping)):
        # a set is read in hash order ({5, 30} as (5, 30), {12, 5} as (12, 5)) and a
        # dict as its keys: neither is a (low, high) pair (scikit-learn refuses sets
        # where order matters)
        if isinstance(length_range, Set):
            try:
                fix = f"pass a tuple, length_range={tuple(sorted(length_range))!r}"
            except TypeError:  # (values that do not compare: no pair either)
                fix = "pass a tuple (low, high)"
            problem = "a set, which has no order"
        else:
            fix, problem = "pass the pair as a tuple (low, high)", "a dict, read as its keys"
        raise ValueError(f"length_range must be an ordered (low, high) pair, a tuple, list "
                         f"or 1D array; got {length_range!r}, {problem}: {fix}.")
    # a list, tuple or 1D array of two ints, numpy ints included
    pair = [plain_value(v) for v in length_range] if getattr(length_range, "ndim", 1) == 1 else []
    highest = np.inf if n_timesteps is None else n_timesteps
    valid = (
        len(pair) == 2
        and all(isinstance(v, Integral) and not isinstance(v, bool) for v in pair)
        and min_length <= pair[0] <= pair[1] <= highest
    )
    if not valid:
        bounds = f"{min_length} <= low <= high" + (
            "" if n_timesteps is None else f" <= n_timesteps={n_timesteps}")
        raise ValueError(f"length_range must be (low, high) ints with {bounds}, got "
                         f"{length_range!r}.")
    return pair[0], pair[1]


def draw_lengths(rng, n_samples, n_timesteps, bounds):
    """Per-sample lengths: all ``n_timesteps`` for ``bounds=None``, else uniform in the
    inclusive ``bounds`` of :func:`length_bounds`."""
    if bounds is None:
        return np.full(n_samples, n_timesteps)
    return rng.integers(bounds[0], bounds[1] + 1, size=n_samples)
