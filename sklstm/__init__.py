"""sklstm: scikit-learn compatible LSTM estimators trained by skorch on PyTorch.

Batch size, gradient accumulation and sequence length are ordinary
hyperparameters of :class:`LSTMClassifier` and :class:`LSTMRegressor`, so
scikit-learn searches and Optuna studies can select them by cross-validation.
"""

import importlib
from typing import TYPE_CHECKING

from . import _moved
from ._version import __version__

if TYPE_CHECKING:  # (type checkers and editors see the names as run time gives them)
    from .estimators import LSTMClassifier, LSTMRegressor
    from .persistence import load
    from .profiling import profile_batch_sizes

# The public names and subpackages are imported on first access (PEP 562, as scipy and
# scikit-image do): importing them here brought in torch, skorch and scikit-learn, seconds
# before ``sklstm tune --help`` printed anything, and a Ctrl-C in those seconds was a
# traceback that no handler of the command could catch yet.

#: public name -> the submodule that defines it
_LAZY = {
    "LSTMClassifier": "estimators",
    "LSTMRegressor": "estimators",
    "load": "persistence",
    "profile_batch_sizes": "profiling",
}

#: subpackages reachable as attributes of ``sklstm`` without an import of their own
#: (``import sklstm`` used to import most of them on the way to the estimators)
_SUBMODULES = frozenset({
    "data", "datasets", "estimators", "exceptions", "network", "persistence",
    "preprocessing", "profiling", "resources", "search", "training", "windows",
})

__all__ = ["LSTMClassifier", "LSTMRegressor", "__version__", "load", "profile_batch_sizes"]

_moved.install()


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__():
    return sorted({*globals(), *_LAZY, *_SUBMODULES})
