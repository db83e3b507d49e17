"""What :func:`~sklstm.profile_batch_sizes` accepts: its constraints and the sizes."""

from __future__ import annotations

from numbers import Integral

import numpy as np

from .._compat.sklearn import HasMethods, InvalidParameterError
from .._param_validation import integers, plain_value

__all__ = ["PROFILE_CONSTRAINTS", "check_sizes", "pandas_as_array", "seq_lens_to_profile",
           "sizes_as_given"]

#: the largest batch size: the table's ``batch_size`` column is int64
_LARGEST = np.iinfo(np.int64).max


def pandas_as_array(values):
    """A pandas Series, Index or array of sizes as an object ndarray, its missing values
    None: a column of a profile (``profile.loc[profile.fits, "batch_size"]``) was refused
    as no list, and ``convert_dtypes()`` makes the ``seq_len`` column's None a <NA>.
    A float column's whole numbers become ints: pandas' column of ints with missing
    values (a profile read back with ``pd.read_csv``: ``seq_len`` 10.0 and NaN), which
    was refused ("got 10.0"). Anything else is returned as it is."""
    if type(values).__module__.split(".")[0] == "pandas" and hasattr(values, "to_numpy"):
        out = values.to_numpy(dtype=object, na_value=None)
        if getattr(values, "dtype", None) is not None and values.dtype.kind == "f":
            # (1.5 or inf stay floats, which check_sizes refuses)
            out = np.array([int(v) if isinstance(v, float) and v.is_integer() else v
                            for v in out.ravel()], dtype=object)
        return out
    return values


def sizes_as_given(values, name):
    """``batch_sizes`` / ``seq_lens`` as :func:`pandas_as_array` gives them, a lone size
    refused with the list it meant: scikit-learn's "must be an instance of 'list', ...
    Got 16 instead." did not say to write ``[16]``."""
    value = plain_value(values)
    if isinstance(value, Integral) and not isinstance(value, bool):
        raise InvalidParameterError(
            f"{name} must be a list of sizes; got {value!r}. To profile one size, "
            f"pass it in a list: {name}=[{value!r}].")
    return pandas_as_array(values)


def check_sizes(values, name, allow_none):
    """The entries of ``batch_sizes`` / ``seq_lens`` as Python ints (or None)."""
    values = list(np.ravel(values)) if isinstance(values, np.ndarray) else list(values)
    if not values:
        raise ValueError(f"{name} must not be empty.")
    out = []
    for value in values:
        value = plain_value(value)
        if not (value is None and allow_none):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
                what = "positive ints or None (the full length)" if allow_none else "positive ints"
                raise ValueError(f"{name} must hold {what}; got {value!r}.")
            value = int(value)
            if not allow_none and value > _LARGEST:
                # past the table's int64 column, which raised once every pair had run
                raise ValueError(f"{name} must hold ints up to 2**63 - 1; got {value}.")
        if value in out:
            # a repeat is another fit of the same pair, and its rows zigzag the plot's
            # line: repeating the profile is the way to compare runs (see Notes)
            raise ValueError(f"{name} must not repeat a value; got {value!r} twice.")
        out.append(value)
    return out


def seq_lens_to_profile(seq_lens, final):
    """The ``seq_len`` values to profile: ``seq_lens`` checked, or for None the final
    estimator's own ``seq_len`` alone (which its fits check, as they would in training)."""
    if seq_lens is None:
        return [plain_value(final.seq_len)]
    return check_sizes(seq_lens, "seq_lens", allow_none=True)


PROFILE_CONSTRAINTS = {
    "estimator": [HasMethods(["fit", "get_params", "set_params"])],
    "batch_sizes": [list, tuple, range, np.ndarray],
    "seq_lens": [list, tuple, range, np.ndarray, None],
    "n_steps": [integers(1)],
    "warmup_steps": [integers(0)],
    "max_memory": [integers(1), str, None],
}
