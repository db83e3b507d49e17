"""The import paths of sklstm 0.1's flat layout, kept working for a deprecation cycle.

``from sklstm.module import LSTMNetwork`` (and unpickling a model saved by sklstm 0.1)
still works, with a ``FutureWarning`` naming the new path. Each old module is an
entry in ``sys.modules`` whose attributes are read from the new one, so no file of the
old layout is left in the package.
"""

from __future__ import annotations

import importlib
import sys
import types
import warnings

#: old module -> module that holds its names now
MOVED = {
    "sklstm.module": "sklstm.network",
    "sklstm.dataset": "sklstm._data.tensors",
    "sklstm.batching": "sklstm._data.batching",
    "sklstm.sequences": "sklstm._data.timesteps",
    "sklstm.device": "sklstm.resources.device",
    "sklstm.lr_scaling": "sklstm.training.lr_scaling",
}

#: where the docs point users instead of a private module
_PUBLIC = {
    "sklstm._data.tensors": "sklstm.training",
    "sklstm._data.batching": "sklstm.training",
    "sklstm._data.timesteps": "the estimators (input conversion is internal now)",
}


class _MovedModule(types.ModuleType):
    def __init__(self, old, new):
        super().__init__(old)
        self.__dict__["_new"] = new

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        new = self.__dict__["_new"]
        warnings.warn(
            f"{self.__name__} was removed in sklstm 0.2; import {name} from "
            f"{_PUBLIC.get(new, new)}. The old path stops working in sklstm 0.3.",
            FutureWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(new), name)


def install():
    """Register the old module paths (called once by ``import sklstm``)."""
    for old, new in MOVED.items():
        sys.modules.setdefault(old, _MovedModule(old, new))
