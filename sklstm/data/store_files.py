"""The files of a :class:`~sklstm.data.store.SequenceStore`: written once, read lazily.

A store is a directory::

    meta.json    format, version, dtype, n_features (None for 1D sequences), sizes
    values.bin   every timestep, one sequence after the other, raw C order
    offsets.npy  int64 (n_samples + 1,): sequence i is values[offsets[i]:offsets[i + 1]]

Plain numbers only: reading a store never runs code (JSON, and ``np.load`` without
pickle), and :func:`read_files` checks what it maps before anything reads it (the
metadata's keys and types, the offsets, the files' sizes): a damaged store is refused
with a ValueError naming the file, not read past its end or as object pointers.
"""

from __future__ import annotations

import json
import os
import shutil
from array import array

import numpy as np

from .._durable_files import (
    flush,
    remove_leftovers,
    replace_synced,
    temporary_path,
    write_json_durably,
)
from .._param_validation import validate_constraints
from .columns import check_same_columns, frame_columns
from .store_access import (
    check_replaceable,
    full_disk_error,
    unreadable_error,
    unwritable_error,
)
from .store_casting import stored_values
from .store_layout import NUMBER_KINDS, number_dtype, offsets_problem
from .store_paths import check_name, given_path
from .store_pending import STORE_TMP, pending_write_error
from .store_recovery import OLD, finish_replace, remove_replaced

__all__ = ["OFFSETS", "VALUES", "empty_sequences_error", "read_files", "write_files",
           "write_into"]

_FORMAT = "sklstm-sequence-store"
_VERSION = 1
_META, _VALUES, _OFFSETS = "meta.json", "values.bin", "offsets.npy"
#: The files a store maps (what tells one store's data from another's).
VALUES, OFFSETS = _VALUES, _OFFSETS


def empty_sequences_error(what, shape, *, dense_2d=False):
    """The error for data with no timestep or no feature, in memory or in a store (the
    one wording of the estimators, the transformers and the store).

    Parameters
    ----------
    what : str
        What has ``shape``: ``"X"``, ``"Sequence 3 of X"``...
    shape : tuple of int
        Its shape.
    dense_2d : bool, default=False
        ``what`` is a 2D X of univariate sequences ``(n_samples, n_timesteps)``: its
        columns, scikit-learn's features, are its timesteps. scikit-learn's wording of
        such data with no column follows, so that what matches scikit-learn's error
        (its estimator checks, a user's code) matches this one.

    Returns
    -------
    ValueError
        The error to raise.
    """
    shape = tuple(shape)
    message = (f"{what} has shape {shape}: every sequence needs at least one timestep and "
               "one feature.")
    if dense_2d:
        message += (" A 2D X holds one sequence per row, its timesteps in the columns: found "
                    f"array with 0 feature(s) (shape={shape}) while a minimum of 1 is required.")
    return ValueError(message)


def write_files(path, sequences, *, dtype=None, overwrite=False):
    """Write a store's files under a temporary name, then rename them to ``path``.

    Durably (:mod:`sklstm._durable_files`): ``values.bin`` and ``offsets.npy`` are on
    disk before ``meta.json`` describes them, ``meta.json`` before the directory is
    renamed to ``path``, and the rename is flushed (best effort).

    Parameters are those of :meth:`SequenceStore.write
    <sklstm.data.store.SequenceStore.write>`; a failed write leaves nothing behind.
    """
    # a bool only (scikit-learn's check, before any file is touched): "no" or "False",
    # truthy, replaced the store at path
    validate_constraints({"overwrite": ["boolean"]}, {"overwrite": overwrite},
                         "SequenceStore.write")
    # absolute and normalized: with a trailing separator, the temporary directory
    # would be made inside the store, and deleted with the store it replaces (bytes: str)
    path = given_path(path, "write the store")
    finish_replace(path, _META)  # (an overwrite killed midway: the store it left exists)
    if os.path.exists(path):
        if not overwrite:
            raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it, or "
                                  "choose a new path.")
        check_replaceable(path, (_META, _VALUES, _OFFSETS))
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):  # (a file there was said not to exist)
        raise (NotADirectoryError if os.path.exists(parent) else FileNotFoundError)(
            f"Cannot write the store {path!r}: its directory {parent!r} "
            + ("is a file, not a directory; write the store into a directory."
               if os.path.exists(parent) else
               "does not exist; create it first (os.makedirs) or write elsewhere."))
    check_name(path, "write the store")
    if dtype is not None:
        dtype = number_dtype(dtype)
    try:  # before any file is made (Python's own error names no fix)
        sequences = iter(sequences)
    except TypeError:
        raise TypeError("sequences must be an iterable of sequences (a list, a generator, "
                        f"an array's rows); got {type(sequences).__name__}. To write one "
                        "sequence, pass [seq].") from None
    # one per writing thread: two writes of one path fill their own; the last rename wins
    tmp = temporary_path(path, STORE_TMP)
    shutil.rmtree(tmp, ignore_errors=True)  # (a killed writer's of this process number)
    try:
        os.makedirs(tmp)
    except OSError as exc:  # (it named the hidden temporary directory)
        raise (unwritable_error(path, exc) or exc) from None
    try:
        write_into(tmp, sequences, dtype)
        _move_into_place(tmp, path, overwrite)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        full = full_disk_error(path, exc)
        if full is None:
            raise
        raise full from exc
    remove_leftovers(path, STORE_TMP)  # (killed writes': a store's size, for good)
    remove_leftovers(path, STORE_TMP, OLD)  # (stores they replaced, or were removing)


def write_into(directory, sequences, dtype=None):
    """Write a store's files into the empty ``directory``, all on disk when it returns
    (``dtype``: checked by ``number_dtype``, or None). ``meta.json`` last, by rename: a
    crash of the system could leave one describing a values.bin that read back short."""
    meta = _write_values(directory, sequences, dtype)
    write_json_durably(os.path.join(directory, _META), meta)


def _move_into_place(tmp, path, overwrite):
    """Rename the written ``tmp`` to ``path``, which another writer may have made since
    the write began: replaced with ``overwrite``, refused as at the start without.

    The store replaced is renamed aside and removed once the new one is in place: a
    failed rename puts it back, and a kill or a crash of the system in between leaves
    both whole, the next open or write putting the new one in place
    (:mod:`~sklstm.data.store_recovery`). Deleted first, it was lost with no store."""
    old = None
    if os.path.exists(path):
        if not overwrite:
            raise FileExistsError(f"{path!r} was written by another writer meanwhile; pass "
                                  "overwrite=True to replace it, or choose a new path.")
        old = tmp + OLD
        try:
            os.replace(path, old)
        except FileNotFoundError:  # (moved aside by another overwriting writer)
            old = None
    try:
        replace_synced(tmp, path)
    except OSError as exc:
        if os.path.exists(path):  # a directory made at path since the check: kept
            raise FileExistsError(f"{path!r} was written by another writer meanwhile "
                                  f"({exc.strerror}); write again to replace it, or choose "
                                  "a new path.") from exc
        if old is not None:  # (no store written: the one before stays)
            os.replace(old, path)
        raise
    if old is not None:  # (only once the new store is in place: else it is the data)
        remove_replaced(old)


def read_files(path):
    """``(values, offsets)`` of the store at ``path``, both memory-mapped, once checked.

    Only the metadata and the offsets are read (the offsets in full: a few numpy passes
    over 8 bytes per sequence); the values file is only compared in size.

    Parameters
    ----------
    path : str or os.PathLike
        The store's directory.

    Returns
    -------
    values : numpy.memmap
        ``(n_steps,)`` or ``(n_steps, n_features)``.
    offsets : numpy.memmap
        ``(n_samples + 1,)`` of an integer dtype.

    Raises
    ------
    FileNotFoundError
        ``path`` holds no ``meta.json``.
    ValueError
        Not a store of this format or version, or a damaged one (the error names the
        damaged file).
    PermissionError
        A file of the store this process may not read (the error names it and the fix).
    """
    path = os.fsdecode(path)  # (bytes too: the store's file names are str)
    finish_replace(path, _META)  # (an overwrite killed midway: the store it left)
    try:
        meta = _read_meta(path)
        offsets = _read_offsets(path, meta)
        return _map_values(path, meta), offsets
    except PermissionError as exc:  # (any of its files: not damaged, and no fix named)
        raise unreadable_error(path, exc) from None


def _map_values(path, meta):
    """``values.bin`` mapped with the shape and dtype of ``meta``, its size checked."""
    dtype = np.dtype(meta["dtype"])
    width = meta["n_features"] or 1
    name = os.path.join(path, _VALUES)
    size = os.path.getsize(name) if os.path.isfile(name) else None
    expected = meta["n_steps"] * width * dtype.itemsize  # Python ints: no overflow
    if size != expected:
        # a short file would be mapped past its end (numpy refuses, or reading it is a
        # bus error); a longer one holds steps no offset reaches
        raise _damaged(path, _VALUES, "is missing" if size is None else
                       f"holds {size} bytes, but {meta['n_steps']} steps of {width} "
                       f"{dtype} value(s) are {expected}")
    shape = (meta["n_steps"],) + (() if meta["n_features"] is None else (width,))
    return np.memmap(name, dtype=dtype, mode="r", shape=shape)


def _damaged(path, name, problem):
    """The ValueError of a store whose file ``name`` is not what the store wrote."""
    return ValueError(f"The sequence store {path!r} is damaged: {name} {problem}. Rewrite "
                      "it with SequenceStore.write.")


def _is_int(value):
    """A JSON integer (a bool is an int to Python, not to a store)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _read_meta(path):
    """``meta.json`` of the store at ``path``, its keys and types checked."""
    try:
        with open(os.path.join(path, _META), "rb") as f:
            meta = json.load(f)
    except (FileNotFoundError, NotADirectoryError):
        # an array file is streamed as it is: written to a store it would be copied whole
        fix = ("for a .npy file, SequenceStore.from_array(np.load(path, mmap_mode='r')) "
               "streams it as it is" if os.path.isfile(path)
               else "write one with SequenceStore.write")
        # (a write under way, or killed, is not told to write the store)
        raise (pending_write_error(path) or FileNotFoundError(
            f"{path!r} is not a sequence store (no {_META}); {fix}.")) from None
    except IsADirectoryError:
        raise _damaged(path, _META, "is a directory, not a file") from None
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested past Python's
        raise _damaged(path, _META, f"is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise _damaged(path, _META, f"holds a JSON {type(meta).__name__}, not an object")
    version = meta.get("version")
    if meta.get("format") != _FORMAT or (_is_int(version) and version > _VERSION):
        raise ValueError(f"{path!r} is not a sequence store this sklstm reads "
                         f"(format {meta.get('format')!r}, version {version!r}).")
    problem = _meta_problem(meta)
    if problem:
        raise _damaged(path, _META, problem)
    return meta


def _meta_problem(meta):
    """What is wrong with a store's metadata of its format, or None."""
    missing = [key for key in ("version", "dtype", "n_features", "n_samples", "n_steps")
               if key not in meta]
    if missing:
        return f"lacks {', '.join(missing)}"
    if not _is_int(meta["version"]) or not 1 <= meta["version"] <= _VERSION:
        return f"has version {meta['version']!r}; this sklstm reads versions 1 to {_VERSION}"
    n_features = meta["n_features"]
    if n_features is not None and not (_is_int(n_features) and n_features > 0):
        return (f"has n_features {n_features!r}; it is a positive integer, or null for "
                "1D sequences")
    for key in ("n_samples", "n_steps"):  # a store holds a sequence, of a step at least
        if not (_is_int(meta[key]) and meta[key] > 0):
            return f"has {key} {meta[key]!r}; it is a positive integer"
    if not isinstance(meta["dtype"], str):  # np.dtype(None) would be float64
        return f"has dtype {meta['dtype']!r}, not a dtype string"
    try:
        number_dtype(meta["dtype"])
    except (TypeError, ValueError) as exc:
        return f"has dtype {meta['dtype']!r} ({exc})"
    return None


def _read_offsets(path, meta):
    """``offsets.npy`` mapped, checked in full against ``meta``: one integer per
    sequence and one more, from 0 up to ``n_steps``, each sequence a step at least."""
    try:
        offsets = np.load(os.path.join(path, _OFFSETS), mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise _damaged(path, _OFFSETS, "is missing") from None
    except PermissionError:  # (not readable, not damaged: read_files says so)
        raise
    except (ValueError, OSError, EOFError) as exc:  # truncated, pickled, not .npy
        raise _damaged(path, _OFFSETS, f"cannot be read ({exc})") from None
    if offsets.shape != (meta["n_samples"] + 1,):
        raise _damaged(path, _OFFSETS, (
            f"has shape {offsets.shape}; {meta['n_samples']} sequences (n_samples of "
            f"{_META}) need ({meta['n_samples'] + 1},)"))
    problem = offsets_problem(offsets, meta["n_steps"])
    if problem:
        raise _damaged(path, _OFFSETS, problem)
    return offsets


def _write_values(directory, sequences, dtype):
    """Append every sequence to ``values.bin``; write the offsets; return the metadata.
    Both files are on disk (flushed) when it returns."""
    offsets = array("q", [0])
    first = columns = None
    with open(os.path.join(directory, _VALUES), "wb") as out:
        for i, seq in enumerate(sequences):  # rows of an array, items, a store
            # DataFrames (a CSV file each) are written as their values: columns in
            # another order would be stored as features in the wrong places
            if i == 0:
                columns = frame_columns(seq)
            else:
                check_same_columns(seq, i, columns, of="the sequences written")
            seq = np.asarray(seq)
            if first is None:
                if seq.ndim not in (1, 2) or seq.dtype.kind not in NUMBER_KINDS:
                    raise ValueError(
                        f"Sequence 0 has shape {seq.shape} and dtype {seq.dtype}; a store "
                        "holds 1D or 2D (n_timesteps, n_features) sequences of numbers"
                        + (" (sequences yielded a single value: to write one sequence, "
                           "pass [seq]; write a DataFrame's rows as df.to_numpy())."
                           if seq.ndim == 0 else "."))
                if seq.ndim == 2 and seq.shape[1] == 0:
                    raise empty_sequences_error("Sequence 0", seq.shape)
                first = seq
                dtype = seq.dtype if dtype is None else dtype
            elif seq.ndim != first.ndim or seq.shape[1:] != first.shape[1:]:
                raise ValueError(f"Sequence {i} has shape {seq.shape} but sequence 0 has "
                                 f"{first.shape}; all sequences need the same trailing shape.")
            if len(seq) == 0:
                raise ValueError(f"Sequence {i} is empty; every sequence needs a timestep.")
            out.write(stored_values(seq, dtype, i).tobytes())
            offsets.append(offsets[-1] + len(seq))
        if first is None:
            raise ValueError("No sequence to write: a store holds at least one sequence.")
        flush(out)
    with open(os.path.join(directory, _OFFSETS), "wb") as f:
        # the header by numpy, the numbers by Python: np.save's own write of them failed
        # on a full disk with no cause ("2001 requested and 496 written"), an OSError
        # store_access.full_disk_error could not tell from another
        header = np.lib.format.header_data_from_array_1_0(np.empty(0, np.int64))
        np.lib.format.write_array_header_1_0(f, {**header, "shape": (len(offsets),)})
        f.write(memoryview(offsets))
        flush(f)
    return {"format": _FORMAT, "version": _VERSION, "dtype": dtype.str,
            "n_features": None if first.ndim == 1 else int(first.shape[1]),
            "n_samples": len(offsets) - 1, "n_steps": int(offsets[-1])}
