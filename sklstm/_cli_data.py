"""The data ``sklstm tune`` reads: a dataset file (:func:`sklstm.datasets.load_dataset`)
or a SequenceStore directory and its targets."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["load_data"]


def load_data(path, target, encoding, store=None):
    """``(X, y)`` of the DATA argument ``path``: a SequenceStore directory (its targets
    as :func:`_load_store` reads them) or a dataset file (``target`` and ``encoding``
    as :func:`sklstm.datasets.load_dataset` reads them); with ``store`` (``--store``),
    a CSV file converted into a new store there a chunk at a time
    (:func:`sklstm.data.store_csv.csv_to_store`: host memory holds a chunk, not ``X``), and
    the store opened lazily. A ValueError says what is wrong and the fix."""
    if store is not None:
        return _converted(path, target, encoding, store)
    if os.path.isdir(path):
        return _load_store(path, target)
    from .datasets import load_dataset

    return load_dataset(path, target=target, encoding=encoding)


def _converted(path, target, encoding, store):
    """``(X, y)`` of the CSV ``path`` written to the new store ``store`` (--store)."""
    from .data.store_csv import csv_to_store

    if os.path.isdir(path) or not path.lower().endswith(".csv"):
        # (a store is read as it is; an .npz file's X is read whole by numpy anyway)
        raise ValueError(f"--store converts a .csv DATA file into a sequence store, but "
                         f"{path} is {'a directory' if os.path.isdir(path) else 'no .csv'}"
                         "; leave --store out")
    try:
        return csv_to_store(path, store, target=target, encoding=encoding)
    except FileExistsError as exc:
        raise ValueError(f"--store: {exc} (to tune on a store converted before, pass "
                         "its directory as DATA, without --store)") from None
    except FileNotFoundError as exc:
        raise ValueError(f"--store: {exc}") from None


def _load_store(path, target):
    """A SequenceStore directory's ``(X, y)``: the store opened lazily, its targets
    from ``target`` (a ``.npy`` path, or a name in the store's directory)."""
    from .data.store import SequenceStore

    try:
        X = SequenceStore.open(path)  # lazily: data larger than memory stays on disk
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    y_path = target if target.endswith(".npy") else os.path.join(path, f"{target}.npy")
    if not os.path.isfile(y_path):
        raise ValueError(f"{path}: a sequence store's targets are read from a .npy file, "
                         f"and {y_path!r} does not exist; save them with "
                         f"numpy.save({os.path.join(path, 'y.npy')!r}, y) or name the "
                         "file with --target")
    try:
        y = np.load(y_path, allow_pickle=False)  # no pickles: loading runs no code
    except (ValueError, EOFError) as exc:  # (an empty file: EOFError, a traceback before)
        raise ValueError(f"{y_path}: not a plain .npy array of targets ({exc}); save "
                         f"them with numpy.save({y_path!r}, y)") from None
    if y.ndim == 0 or len(y) != len(X):
        raise ValueError(f"{path}: the store has {len(X)} sequences but {y_path} holds "
                         f"{'no array of targets' if y.ndim == 0 else f'{len(y)} targets'}")
    return X, y
