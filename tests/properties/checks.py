"""The property every generated case must have: it works, or it says what is wrong."""

import re
import warnings

import numpy as np
from hypothesis import event

from .strategies import Case

#: What generated cases are run with: deterministic (no example database, derandomized)
#: and with no deadline (a fit's time varies with the machine's load).
SETTINGS = dict(deadline=None, derandomize=True, database=None, print_blob=True)


def names(message, candidates):
    """The candidates (parameter names, ``"X"``, ``"y"``) the message names."""
    found = set()
    for name in candidates:
        if name in ("X", "y"):
            if re.search(rf"\b{name}\b", message):
                found.add(name)
        elif name in message:
            found.add(name)
    return found


def run(case: Case, call):
    """Run ``call()``: None if it raised a clear error, else what it returned.

    A case with invalid parts must raise a ValueError or TypeError naming one of them;
    a valid case may only raise one naming a parameter it sets (a rule between
    parameters, e.g. ``early_stopping`` on too few samples). Any other exception, or an
    invalid case that does not raise, fails the property.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
        except (ValueError, TypeError) as exc:
            message = f"{type(exc).__name__}: {exc}"
            allowed = case.invalid or set(case.params)
            named = names(message, allowed)
            assert named, (
                f"the error names none of {sorted(allowed)} "
                f"(invalid: {sorted(case.invalid)}, set: {sorted(case.params)}): {message}")
            event("raised, naming " + ("X/y" if named <= {"X", "y"} else "a parameter")
                  + ("" if case.invalid else " (a rule between valid parameters)"))
            return None
    assert not case.invalid, f"accepted invalid {sorted(case.invalid)}: {case.broken}"
    event("fitted")
    return result


def assert_finite(*arrays):
    for array in arrays:
        values = np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in array]) \
            if isinstance(array, list) else np.asarray(array, dtype=float)
        assert np.isfinite(values).all(), "non-finite output"
