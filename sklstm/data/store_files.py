"""The files of a :class:`~sklstm.data.store.SequenceStore`: written once, read lazily.

A store is a directory::

    meta.json    format, version, dtype, n_features (None for 1D sequences), sizes
    values.bin   every timestep, one sequence after the other, raw C order
    offsets.npy  int64 (n_samples + 1,): sequence i is values[offsets[i]:offsets[i + 1]]

Plain numbers only: reading a store never runs code (JSON, and ``np.load`` without
pickle).
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from array import array

import numpy as np

__all__ = ["memmap_origin", "open_memmap_origin", "read_files", "write_files"]

_FORMAT = "sklstm-sequence-store"
_VERSION = 1
_META, _VALUES, _OFFSETS = "meta.json", "values.bin", "offsets.npy"


def write_files(path, sequences, *, dtype=None, overwrite=False):
    """Write a store's files under a temporary name, then rename them to ``path``.

    Parameters are those of :meth:`SequenceStore.write
    <sklstm.data.store.SequenceStore.write>`; a failed write leaves nothing behind.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it, or "
                              "choose a new path.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FileNotFoundError(f"Cannot write the store {path!r}: its directory "
                                f"{parent!r} does not exist.")
    tmp = f"{path}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        meta = _write_values(tmp, sequences, dtype)
        with open(os.path.join(tmp, _META), "w") as f:
            json.dump(meta, f)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_files(path):
    """``(values, offsets)`` of the store at ``path``, both memory-mapped.

    Parameters
    ----------
    path : str or os.PathLike
        The store's directory.

    Returns
    -------
    values : numpy.memmap
        ``(n_steps,)`` or ``(n_steps, n_features)``.
    offsets : numpy.memmap
        ``(n_samples + 1,)`` int64.
    """
    path = os.fspath(path)
    try:
        with open(os.path.join(path, _META)) as f:
            meta = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path!r} is not a sequence store (no {_META}); write "
                                "one with SequenceStore.write.") from None
    if meta.get("format") != _FORMAT or meta.get("version", 0) > _VERSION:
        raise ValueError(f"{path!r} is not a sequence store this sklstm reads "
                         f"(format {meta.get('format')!r}, version {meta.get('version')}).")
    # mapped too: per sequence only what a step needs is read into memory
    offsets = np.load(os.path.join(path, _OFFSETS), mmap_mode="r", allow_pickle=False)
    shape = (int(offsets[-1]),) + (() if meta["n_features"] is None
                                   else (meta["n_features"],))
    values = (np.memmap(os.path.join(path, _VALUES), dtype=meta["dtype"], mode="r",
                        shape=shape) if shape[0] else np.empty(shape, meta["dtype"]))
    return values, offsets


def _check_cast(seq, dtype, i):
    """Refuse a cast that would change values: floats to ints, ids beyond the dtype."""
    if not np.can_cast(seq.dtype, dtype, casting="same_kind"):
        raise ValueError(f"Sequence {i} has dtype {seq.dtype}, which cannot be stored as "
                         f"{dtype} without changing values; round or cast it first.")
    if dtype.kind in "iu" and seq.size:
        info = np.iinfo(dtype)
        if seq.min() < info.min or seq.max() > info.max:
            raise ValueError(f"Sequence {i} holds values in [{seq.min()}, {seq.max()}], "
                             f"beyond {dtype}'s range [{info.min}, {info.max}]; store a "
                             "wider dtype.")


def _write_values(directory, sequences, dtype):
    """Append every sequence to ``values.bin``; write the offsets; return the metadata."""
    offsets = array("q", [0])
    first = None
    with open(os.path.join(directory, _VALUES), "wb") as out:
        for i, seq in enumerate(iter(sequences)):  # rows of an array, items, a store
            seq = np.asarray(seq)
            if first is None:
                if seq.ndim not in (1, 2) or seq.dtype.kind not in "biuf":
                    raise ValueError(
                        f"Sequence 0 has shape {seq.shape} and dtype {seq.dtype}; a store "
                        "holds 1D or 2D (n_timesteps, n_features) sequences of numbers.")
                first = seq
                dtype = np.dtype(seq.dtype if dtype is None else dtype)
            elif seq.ndim != first.ndim or seq.shape[1:] != first.shape[1:]:
                raise ValueError(f"Sequence {i} has shape {seq.shape} but sequence 0 has "
                                 f"{first.shape}; all sequences need the same trailing shape.")
            if len(seq) == 0:
                raise ValueError(f"Sequence {i} is empty; every sequence needs a timestep.")
            _check_cast(seq, dtype, i)
            out.write(np.ascontiguousarray(seq, dtype=dtype).tobytes())
            offsets.append(offsets[-1] + len(seq))
    if first is None:
        raise ValueError("No sequence to write: a store holds at least one sequence.")
    np.save(os.path.join(directory, _OFFSETS), np.frombuffer(offsets, dtype=np.int64))
    return {"format": _FORMAT, "version": _VERSION, "dtype": dtype.str,
            "n_features": None if first.ndim == 1 else int(first.shape[1]),
            "n_samples": len(offsets) - 1, "n_steps": int(offsets[-1])}



def memmap_origin(X):
    """How to reopen ``X`` from its file, if it is a whole memory-mapped file array:
    ``("memmap", filename, dtype, shape, offset)``, else None.

    Only an array whose buffer is the mapping itself (what ``np.memmap`` and
    ``np.load(mmap_mode=...)`` return) has a known offset into the file; a slice of one
    inherits its parent's offset, so it is pickled with its data instead.
    """
    if (isinstance(X, np.memmap) and X.filename and isinstance(X.base, mmap.mmap)
            and X.flags.c_contiguous):
        return ("memmap", X.filename, X.dtype.str, X.shape, int(X.offset))
    return None


def open_memmap_origin(origin):
    """The read-only array a :func:`memmap_origin` names, mapped again."""
    _, filename, dtype, shape, offset = origin
    return np.memmap(filename, dtype=dtype, mode="r", shape=tuple(shape), offset=offset)
