"""The estimator classes a model file may name, by name.

:func:`sklstm.load` finds the class of a file here and never imports a name the file
gives. The package's estimators add themselves with :func:`register_estimator`; a
file written by a subclass names the registered class it derives from.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["known_classes", "register_estimator", "registered_class", "registered_name"]

_CLASSES = {}

#: The package whose import registers its estimators (they register as they are
#: defined). Imported by name, at the first look-up: it is a layer above this one, and
#: ``sklstm.load`` is reached without it (``sklstm``'s names are imported on first
#: access), so in a new process that had touched no estimator the registry was empty,
#: and every file was refused as naming an "unknown estimator class".
_ESTIMATORS = __name__.rpartition(".persistence.")[0] + ".estimators"


def _registered():
    """The registry, once the package's estimators are in it."""
    if _ESTIMATORS not in sys.modules:  # (its name, fixed here: never one a file gives)
        importlib.import_module(_ESTIMATORS)
    return _CLASSES


def register_estimator(cls):
    """Class decorator: ``cls`` may be named by model files (under its ``__name__``).

    A registered class provides ``_to_model_state()`` (a
    :class:`~sklstm.persistence._model.ModelState` of a fitted instance), the
    classmethod ``_from_model_state(state, device)``, and what
    :func:`~sklstm.persistence._fitted.check_fitted_state` asks of it before that:
    ``_target_attributes()``, ``_network_sizes(weights)``, ``_parameter_constraints``,
    ``_fit_settings`` and ``_prediction_settings``.

    Parameters
    ----------
    cls : type
        The estimator class.

    Returns
    -------
    type
        ``cls``, unchanged.
    """
    _CLASSES[cls.__name__] = cls
    return cls


def registered_class(name):
    """The registered class named ``name``, or None.

    Parameters
    ----------
    name : str
        A class name read from a file.

    Returns
    -------
    type or None
    """
    return _registered().get(name) if isinstance(name, str) else None


def registered_name(cls):
    """The name of the registered class ``cls`` is or derives from.

    Parameters
    ----------
    cls : type
        An estimator class.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If no class of its hierarchy is registered.
    """
    for base in cls.__mro__:
        if _CLASSES.get(base.__name__) is base:
            return base.__name__
    raise TypeError(f"{cls.__name__} is not an sklstm estimator that model files can hold "
                    f"({', '.join(sorted(_CLASSES))}).")


def known_classes():
    """The names of the registered classes, for messages.

    Returns
    -------
    list of str
    """
    return sorted(_registered())
