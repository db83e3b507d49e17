"""The private APIs of other libraries that sklstm uses, fenced: one module per library.

Where a library offers no public way to do what sklstm needs, sklstm uses a private
name of it. Such a name may change in any release without notice, so every such use
lives in the module of its library here, behind small functions and classes with plain
names that the rest of sklstm calls:

* :mod:`sklstm._compat.optuna`: Optuna's heartbeat protocol (``BaseHeartbeat``,
  ``is_heartbeat_enabled``, the ``_get_stale_trial_ids`` hook), the ORM models and
  session helper of ``RDBStorage``, and private attributes (a study's storage, the
  storage inside Optuna's cache, a journal file's path, a frozen trial's id);
* :mod:`sklstm._compat.sklearn`: scikit-learn's parameter validation
  (``sklearn.utils._param_validation``: constraints, ``validate_params``,
  ``validate_parameter_constraints``), ``_fit_context``, ``_num_samples``,
  ``_safe_indexing``, and the override of ``BaseEstimator._validate_params``.
* :mod:`sklstm._compat.skorch`: skorch's protected train-step helpers
  (``_set_training``, ``_zero_grad_optimizer``, ``_step_optimizer``) and the names of
  a net's modules and criteria (``_modules``, ``_criteria``);
* :mod:`sklstm._compat.torch`: the device types with fused optimizer kernels
  (``torch.utils._foreach_utils``);
* :mod:`sklstm._compat.python`: a fit's warnings shown at the caller's line
  (``warnings.warn(skip_file_prefixes=)`` from Python 3.12, a walk of the stack before).

The rule: **nothing else in sklstm imports a private name of these libraries**
(``tests/_compat`` reads the package source and checks it). A module
states ``VERIFIED``, the (major, minor) versions of its library it was verified on;
``tests/_compat`` fails loudly in CI, which installs the newest releases, as soon as a
release lies outside it, and checks that each private piece still exists and behaves as
sklstm assumes. On a version outside ``VERIFIED`` each piece falls back to a documented
safe behaviour or raises :class:`UnverifiedVersionError` where it is used; importing
sklstm never fails for it.

To verify a new release: run ``tests/_compat`` (and the tests of the features the
module's docstring names) against it, read the library's changes to the private names
the module lists, then widen ``VERIFIED``.
"""

from __future__ import annotations

import re

__all__ = ["UnverifiedVersionError", "UnverifiedVersionWarning", "major_minor", "within"]


class UnverifiedVersionError(RuntimeError):
    """A feature needs a private API of a library version sklstm was not verified on."""


class UnverifiedVersionWarning(UserWarning):
    """A feature fell back to its safe behaviour on a library version sklstm was not
    verified on."""


def major_minor(version):
    """The ``(major, minor)`` of a version string, or None if it does not start so.

    Parameters
    ----------
    version : str
        A version such as ``"1.9.1"`` or ``"5.2.0rc1"``.

    Returns
    -------
    tuple of int or None

    Examples
    --------
    >>> major_minor("1.10.dev0"), major_minor("nightly")
    ((1, 10), None)
    """
    match = re.match(r"(\d+)\.(\d+)", version)
    return (int(match[1]), int(match[2])) if match else None


def within(version, verified):
    """Whether *version* lies in the inclusive ``(major, minor)`` range *verified*.

    Patch releases count as their minor release: they do not change the private names
    sklstm uses, in practice, and the tests of ``tests/_compat`` check the behaviour of
    each piece on whatever release is installed.

    Parameters
    ----------
    version : str
        The library's version string.
    verified : tuple
        ``((major, minor), (major, minor))``, inclusive.

    Returns
    -------
    bool
        False also for a version string that does not start with two integers.

    Examples
    --------
    >>> within("1.9.1", ((1, 6), (1, 9))), within("1.10.0", ((1, 6), (1, 9)))
    (True, False)
    """
    found = major_minor(version)
    return found is not None and verified[0] <= found <= verified[1]


def unverified_message(library, version, verified, feature, remedy):
    """The sentence that says a feature met an unverified version, and what to do.

    Examples
    --------
    >>> print(unverified_message("optuna", "9.0", ((4, 3), (5, 1)), "Heartbeats",
    ...                          "Do Y."))  # doctest: +NORMALIZE_WHITESPACE
    Heartbeats: sklstm's use of optuna's private API there was verified on optuna 4.3 to
    5.1, and optuna 9.0 is installed. Do Y.
    """
    low, high = (".".join(map(str, v)) for v in verified)
    return (f"{feature}: sklstm's use of {library}'s private API there was verified on "
            f"{library} {low} to {high}, and {library} {version} is installed. {remedy}")


def install_hint(library, verified):
    """What to install instead of an unverified release: the verified range.

    Parameters
    ----------
    library : str
        The distribution's name, as pip knows it.
    verified : tuple
        ``((major, minor), (major, minor))``, inclusive.

    Returns
    -------
    str

    Examples
    --------
    >>> install_hint("optuna", ((4, 3), (5, 1)))
    'install optuna>=4.3,<5.2'
    """
    (low_major, low_minor), (high_major, high_minor) = verified
    return f"install {library}>={low_major}.{low_minor},<{high_major}.{high_minor + 1}"


def warn_unverified(message):
    """Warn (:class:`UnverifiedVersionWarning`) that a feature fell back, at the
    caller's line (the first frame outside sklstm), where the user's warning filters
    apply."""
    # not a fixed stacklevel: that pointed inside sklstm (search/trial_budget.py,
    # storage.py, heartbeat.py) wherever a module of sklstm called the helper that warns
    from .python import warn_at_caller  # here: it imports skorch, sklstm._compat need not

    warn_at_caller(message, UnverifiedVersionWarning)
