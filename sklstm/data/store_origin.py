"""Where a :class:`~sklstm.data.store.SequenceStore`'s data come from, to open them
again: a store pickled to another process (a search's worker) is reopened by its path,
not copied, and a memory-mapped array by its file, offset and shape.

Each origin carries its files' stamp (inode, size, modification time): a file
rewritten or replaced since it was opened is refused when it is reopened, so a copy
never reads other data at the positions of its index.
"""

from __future__ import annotations

import mmap
import os

import numpy as np

from .store_files import OFFSETS, VALUES

__all__ = ["check_unchanged", "copy_on_write", "file_stamp", "memmap_origin", "open_again",
           "open_memmap_origin", "store_stamp"]


def file_stamp(*filenames):
    """What tells files apart without reading them: inode, size and modification time.

    A store or memory-mapped array pickled to another process is reopened there by its
    path (:func:`check_unchanged`); a file rewritten or replaced since it was opened
    has another stamp, so the copy does not silently read other data at the positions
    of its index.

    Parameters
    ----------
    *filenames : str
        The files.

    Returns
    -------
    tuple of tuple of int
        ``(inode, size, mtime in ns)`` of every file.
    """
    return tuple((st.st_ino, st.st_size, st.st_mtime_ns) for st in map(os.stat, filenames))


def store_stamp(path):
    """The :func:`file_stamp` of the files of the store at ``path`` that it maps."""
    return file_stamp(os.path.join(path, VALUES), os.path.join(path, OFFSETS))


def check_unchanged(where, stamp, now):
    """Raise a ValueError if the files at ``where`` changed since ``stamp`` was taken.

    Parameters
    ----------
    where : str
        The store's directory or the array's file, for the message.
    stamp : tuple or None
        The stamp taken when the data were opened (None: not known, as in pickles of
        older versions; nothing is checked).
    now : tuple
        The stamp of the files now.
    """
    if stamp is not None and tuple(map(tuple, stamp)) != now:
        raise ValueError(
            f"{where!r} changed since it was opened (rewritten or replaced), so a copy of "
            "a store on it, reopened by its path in another process, would read other "
            "data at its positions. Open it again and index the new data anew; to keep "
            "data that a search or fit reads, write new data to a new path.")


def open_again(open_store, where):
    """``open_store(where)`` in another process, a store (or array file) gone since it
    was first opened named as such: "not a sequence store ... write one with
    SequenceStore.write" told a search's worker to create what had been moved.

    Parameters
    ----------
    open_store : callable
        Opens ``where`` (``SequenceStore.open``, say).
    where : str
        The store's directory or the array's file.
    """
    try:
        return open_store(where)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"{os.fspath(where)!r} was opened as sequence data, but is gone now (moved or "
            "deleted), so a copy of it in another process (a search's or "
            f"cross-validation's worker) cannot read it ({exc}). Keep the data at its "
            "path while they run.") from None


def memmap_origin(X):
    """How to reopen ``X`` from its file, if it is a contiguous memory-mapped array:
    ``("memmap", filename, dtype, shape, offset, stamp)``, else None.

    The whole mapped array (what ``np.memmap`` and ``np.load(mmap_mode=...)`` return)
    and contiguous views of it (``X[:1000]``, ``X[-500:]``, a held-out split) are
    reopened by their file. A view's ``offset`` attribute is its parent's, so its
    offset into the file is computed from where its data start in the mapping, as
    joblib does for the memmaps it sends to workers. A view with strides (``X[::2]``,
    ``X[:, :50]``) has no one offset and shape in the file, so it is pickled with its
    data. So is a copy-on-write mapping (``mode="c"``, ``np.load(mmap_mode="c")``):
    what was assigned to it lives in this process's memory only, and reopening its file
    would read the values from before (a row fixed in memory back to its NaN).
    ``stamp`` is the file's :func:`file_stamp`, checked when it is reopened.
    """
    if not (isinstance(X, np.memmap) and X.filename and X.flags.c_contiguous):
        return None
    root = _mapping(X)  # (np.memmap sets the offset of the array it makes right)
    if root is None or root.mode == "c":  # (assigning changes no stamp of the file)
        return None
    offset = int(root.offset) + _address(X) - _address(root)
    return ("memmap", X.filename, X.dtype.str, X.shape, offset, file_stamp(X.filename))


def _mapping(X):
    """The :class:`numpy.memmap` that mapped the memory of ``X`` (itself or an array
    it is a view of, plain ndarray views included), or None."""
    root = X
    while isinstance(root.base, np.ndarray):
        root = root.base
    if isinstance(root, np.memmap) and isinstance(root.base, mmap.mmap):
        return root
    return None


def copy_on_write(X):
    """Whether ``X`` is (a view of) a copy-on-write mapping (``np.memmap(mode="c")``,
    ``np.load(mmap_mode="c")``), whose assigned values its file does not hold.

    Such an array must be pickled as a copy of its values: joblib's pickler (a
    parallel search's) sends any array on a file mapping as the file's name, so a
    worker would read the file's values, not the ones assigned since.

    Parameters
    ----------
    X : ndarray
        Any array.

    Returns
    -------
    bool
    """
    root = _mapping(X)
    return root is not None and root.mode == "c"


def _address(array):
    return array.__array_interface__["data"][0]


def open_memmap_origin(origin):
    """The read-only array a :func:`memmap_origin` names, mapped again once its file is
    checked to be the one it was (:func:`check_unchanged`)."""
    _, filename, dtype, shape, offset, *stamp = origin  # (pickles of older sklstm: no stamp)

    def mapped(where):
        check_unchanged(where, stamp[0] if stamp else None, file_stamp(where))
        return np.memmap(where, dtype=dtype, mode="r", shape=tuple(shape), offset=offset)

    return open_again(mapped, filename)
