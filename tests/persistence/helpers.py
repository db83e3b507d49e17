"""Editing model files the way a person with a hex editor (or an attacker) would."""

import json

from safetensors import safe_open

from sklstm.persistence._codec import encode
from sklstm.persistence._file import write_model_file

#: A value for :func:`rewrite_attributes`: the attribute is removed from the file.
MISSING = object()


def read_raw(path):
    """(metadata, tensors) of a safetensors file, unchecked."""
    with safe_open(str(path), framework="np") as f:
        return f.metadata(), {key: f.get_tensor(key) for key in f.keys()}


def rewrite_header(path, change, tensors_change=None):
    """Apply ``change(header)`` (and ``tensors_change(tensors)``) and rewrite the file
    with a valid checksum: a deliberate edit, not damage."""
    metadata, tensors = read_raw(path)
    header = json.loads(metadata["sklstm"])
    change(header)
    if tensors_change is not None:
        tensors_change(tensors)
    write_model_file(path, header, tensors)


def rewrite_attributes(path, **values):
    """Set fitted attributes of a saved model to ``values`` (:data:`MISSING`: remove
    the attribute), encoded as ``save`` encodes them (arrays as tensors), and rewrite
    the file with a valid checksum, as :func:`rewrite_header`."""
    metadata, tensors = read_raw(path)
    header = json.loads(metadata["sklstm"])
    for name, value in values.items():
        key = f"attr.{name}"
        header["attributes"].pop(name, None)
        for stale in [k for k in tensors if k == key or k.startswith(f"{key}.")]:
            del tensors[stale]
        if value is not MISSING:
            header["attributes"][name] = encode(value, key, tensors)
    write_model_file(path, header, tensors)
