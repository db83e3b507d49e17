"""Convert a CSV dataset file into a :class:`~sklstm.data.SequenceStore` on disk a
chunk of rows at a time (:func:`csv_to_store`): data larger than memory, which
:func:`~sklstm.datasets.load_dataset` would read whole into one array."""

from __future__ import annotations

import os
import shutil

import numpy as np

from .._durable_files import flush, remove_leftovers, replace_synced, temporary_path
from ..datasets._csv import csv_chunks
from ..datasets._files import _refuse_path_of_another_type, check_file
from .store import SequenceStore
from .store_access import full_disk_error, unwritable_error
from .store_files import write_into
from .store_paths import check_name, given_path
from .store_pending import CSV_TMP

__all__ = ["csv_to_store"]

#: The file of the targets in the store's directory: where ``sklstm tune`` reads them.
TARGETS = "y.npy"


def _rows(chunks, result):
    """The rows of ``chunks`` (a generator returning ``y``), one at a time, as the
    univariate ``(T, 1)`` sequences that :meth:`SequenceStore.write
    <sklstm.data.SequenceStore.write>` takes and the estimators read (a 1D row is
    refused by them: a store of its own kind, not of numbers per timestep); ``y`` is
    appended to ``result`` once the last row is taken."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration as done:
            result.append(done.value)
            return
        yield from chunk[:, :, None]


def csv_to_store(path, store_path, *, target="y", encoding="utf-8"):
    """Convert a CSV dataset file into a SequenceStore directory, chunk by chunk.

    The CSV is read as :func:`~sklstm.datasets.load_dataset` reads it (the same layout, checks and
    refusals), but each few thousand rows converted are written to the store at once:
    host memory holds a chunk of rows and the targets, not ``X``. The store holds
    every row of ``X`` as one univariate sequence of shape ``(T, 1)``, the bits that
    ``SequenceStore.write(store_path, X[:, :, None])`` writes of ``load_dataset``'s
    ``X``; the
    targets are saved beside them as ``y.npy``, where ``sklstm tune`` reads them when
    given the directory.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.csv`` file (a leading ``~`` is the home directory).
    store_path : str or os.PathLike
        The store's directory, which must not exist; it appears only once complete
        (the CSV read and checked whole, ``y.npy`` written): an interrupted or refused
        conversion leaves nothing there. One killed (SIGKILL) leaves its hidden
        temporary directory beside it, which the next successful conversion to
        ``store_path`` removes once it is untouched for 10 minutes
        (``SequenceStore.open`` names it as a killed write's leftover meanwhile).
    target : str, default="y"
        The column holding the target.
    encoding : str, default="utf-8"
        The file's text encoding.

    Returns
    -------
    store : SequenceStore
        The store, opened lazily: ``n_samples`` sequences of ``T`` float32 steps of one
        feature, which the estimators and ``sklstm tune DIR`` read.
    y : ndarray of shape (n_samples,)
        The targets, as :func:`~sklstm.datasets.load_dataset` returns them.

    Raises
    ------
    ValueError
        What :func:`~sklstm.datasets.load_dataset` refuses of the file; a path that is no ``.csv``.
    FileExistsError
        ``store_path`` exists.
    FileNotFoundError
        The directory of ``store_path`` does not exist.
    PermissionError
        The directory of ``store_path`` does not let this process write there.
    TypeError
        ``path`` or ``store_path`` is no path (an open file, None).

    Examples
    --------
    >>> import os, tempfile
    >>> from sklstm.data import csv_to_store
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "toy.csv")
    >>> _ = open(path, "w").write("t0,t1,t2,label\\n0.1,0.2,0.3,a\\n0.3,0.2,0.1,b\\n")
    >>> store, y = csv_to_store(path, os.path.join(folder, "toy"), target="label")
    >>> len(store), store[1].ravel().tolist(), y.tolist()
    (2, [0.30000001192092896, 0.20000000298023224, 0.10000000149011612], ['a', 'b'])
    """
    _refuse_path_of_another_type(path)  # (os.fsdecode's own named neither it nor a fix)
    path = os.path.expanduser(os.fsdecode(path))
    if os.path.splitext(path)[1].lower() != ".csv":
        raise ValueError(f"{path}: csv_to_store converts a .csv file; an .npz file's X "
                         "writes with SequenceStore.write(store_path, X)")
    check_file(path)
    store_path = given_path(store_path, "write the store")
    # both checked before the file is read, which may take long
    if os.path.lexists(store_path):
        raise FileExistsError(f"{store_path!r} exists; choose a new path, or remove it")
    if not os.path.isdir(os.path.dirname(store_path)):  # (else named by its temporary)
        raise FileNotFoundError(f"Cannot write the store {store_path!r}: its directory "
                                f"{os.path.dirname(store_path)!r} does not exist.")
    check_name(store_path, "write the store")
    # written under a temporary name with its targets, renamed once whole: a store
    # without y.npy, or a part of the file, never opens at store_path
    tmp = temporary_path(store_path, CSV_TMP)
    shutil.rmtree(tmp, ignore_errors=True)  # (a killed conversion's of this process number)
    try:
        os.makedirs(tmp)
    except OSError as exc:  # (it named the hidden temporary directory)
        raise (unwritable_error(store_path, exc) or exc) from None
    result = []
    try:
        # written in place (not by SequenceStore.write, whose own temporary directory
        # within this one a killed conversion left under a name no later one knew)
        write_into(tmp, _rows(csv_chunks(path, target, encoding), result))
        (y,) = result
        with open(os.path.join(tmp, TARGETS), "wb") as f:
            np.save(f, y, allow_pickle=False)
            flush(f)
        if os.path.lexists(store_path):  # (made since the check: os.replace would take
            # the place of an empty directory in silence)
            raise FileExistsError(f"{store_path!r} was made by another writer meanwhile; "
                                  "choose a new path, or remove it")
        replace_synced(tmp, store_path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        full = full_disk_error(store_path, exc)
        if full is None:
            raise
        raise full from exc
    remove_leftovers(store_path, CSV_TMP)  # (killed conversions': a store's size each)
    return SequenceStore.open(store_path), y
