"""Editing model files the way a person with a hex editor (or an attacker) would."""

import json

from safetensors import safe_open

from sklstm.persistence._file import write_model_file


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
