"""Saving fitted estimators without pickle: ``estimator.save(path)`` and :func:`load`.

A model file is one safetensors file: the network's weights (and numeric fitted arrays)
as tensors, the parameters, fitted attributes and history as JSON in its metadata.
Loading runs no code from the file, unlike unpickling, so it is safe for files from
others; pickle and joblib keep working for trusted files and for what this format does
not hold (callbacks, custom optimizer classes, whole Pipelines). See
:doc:`/reliability`.

The estimators export and restore their own state (``estimator.save`` writes a
:class:`ModelState`); this package encodes and decodes it and finds the class a
file names in a registry of the package's estimators (``_registry.py``).
"""

from ._file import FORMAT, FORMAT_VERSION
from ._model import load

__all__ = ["FORMAT", "FORMAT_VERSION", "load"]
