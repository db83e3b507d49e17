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
    "sklstm.dataset": "sklstm.data.tensors",
    "sklstm.batching": "sklstm.data.batching",
    "sklstm.sequences": "sklstm.data.timesteps",
    "sklstm.device": "sklstm.resources.device",
    "sklstm.lr_scaling": "sklstm.training.lr_scaling",
    # 0.2.0.dev: the private data layer became the public sklstm.data (old pickles
    # name its modules), and the memory budget's module got a name of its own
    "sklstm._data": "sklstm.data",
    **{f"sklstm._data.{stage}": f"sklstm.data.{stage}" for stage in (
        "batching", "containers", "tensors", "timesteps", "validation", "vocabulary")},
    "sklstm.resources.budget": "sklstm.resources.memory_budget",
    "sklstm.search.budget": "sklstm.search.trial_budget",
    # 0.2.0.dev: the second training loop's module (pickles of its nets name it);
    # sklstm.training says what its names stand for now
    "sklstm.training._fast_epoch": "sklstm.training",
    # 0.2.0.dev: below the data layer, for make_windows
    "sklstm.data.nullable": "sklstm._nullable",
}

#: where the docs point users instead of a private module
_PUBLIC = {
    "sklstm.data.tensors": "sklstm.data",
    "sklstm.data.batching": "sklstm.data",
    "sklstm.data.timesteps": "the estimators (input conversion is internal now)",
    "sklstm._nullable": "the estimators (input conversion is internal now)",
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
