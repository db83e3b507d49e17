"""Where a :class:`~sklstm.data.store.SequenceStore`'s data come from, to open them
again: a store pickled to another process (a search's worker) is reopened by its path,
not copied, and a memory-mapped array by its file, offset and shape.

Each origin carries its files' stamp (inode, size, modification time): a file
rewritten or replaced since it was opened is refused when it is reopened, so a copy
never reads other data at the positions of its index; and one changed in place under an
open mapping (cut short, grown, rewritten) is refused before each read
(:func:`check_mapped`), where reading it was a bus error or other data.
"""

from __future__ import annotations

import mmap
import os

import numpy as np

from .store_files import OFFSETS, VALUES

__all__ = ["check_mapped", "check_unchanged", "copy_on_write", "file_stamp", "memmap_origin",
           "open_again", "open_memmap_origin", "read_unchanged", "store_stamp"]


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


def read_unchanged(read, path, attempts=3):
    """``read()`` and the :func:`store_stamp` of the files at ``path`` it read, taken
    before and after it: a store replaced while it was read (``SequenceStore.write(...,
    overwrite=True)`` in another process) is read again.

    A stamp taken after the read alone could be the new files' while the arrays map the
    old ones (or the old offsets and the new values, read one after the other), and a
    copy reopened by the path would then pass :func:`check_unchanged` on other data. A
    read that fails while the files change (the old metadata with the new values read as
    a damaged store) is read again too; one of files that stayed as they were raises.

    Parameters
    ----------
    read : callable
        Reads the store at ``path`` (``store_files.read_files`` of it), no argument.
    path : str
        The store's directory, absolute.
    attempts : int, default=3
        Reads before giving up on a store that keeps changing.

    Returns
    -------
    data : object
        What ``read`` returned.
    stamp : tuple
        The stamp of the files ``data`` maps.
    """
    failure = None
    for _ in range(attempts):
        before = _stamp_or_none(path)  # (None: not a store, which read says in its words)
        try:
            data = read()
        except (OSError, ValueError) as exc:
            # replaced while read: meta.json of one store and values.bin of the next read
            # as "damaged", or the path found empty while the old store is moved aside;
            # read again. A store that stayed as it is was truly so: its error stands.
            if _stamp_or_none(path) == before:
                raise
            failure = exc
            continue
        after = store_stamp(path)
        if after == before:
            return data, after
    raise ValueError(f"{path!r} changed each time it was read (another process is writing "
                     "it); open it once that write is done.") from failure


def _stamp_or_none(path):
    """:func:`store_stamp` of ``path``, or None where it holds no store's files."""
    try:
        return store_stamp(path)
    except OSError:
        return None


def check_mapped(origin, *arrays):
    """Raise a ValueError if a file the arrays of ``origin`` map was changed in place
    since it was mapped: truncated, appended to, or (a store's files) rewritten; or if
    one of ``arrays`` is on a mapping of a file now shorter than the mapping.

    A mapping reads the file's pages as they are now: past the end of a truncated file
    the read is a bus error that kills the process (before this check, a store's
    ``values.bin`` cut short, or an ``.npy`` file saved again with ``np.save`` while
    mapped), and a file rewritten in place is read as if it held the data it was opened
    on. A file replaced (a new inode at the path, as ``SequenceStore.write(...,
    overwrite=True)`` makes) or deleted is no change here: the mapping keeps reading
    the old file whole, until the data are opened again.

    A store's files are compared in size and modification time (they are written once);
    a memory-mapped array's file in size only, as the process may write through its own
    mapping (``mode="r+"``).

    Parameters
    ----------
    origin : tuple or None
        What :meth:`SequenceStore.open <sklstm.data.store.SequenceStore.open>` or
        :func:`memmap_origin` made (None, or a pickle of older sklstm without a stamp:
        nothing is checked).
    *arrays : ndarray or None
        The arrays read next. Without an origin, those on a file mapping anyway (a
        strided or copy-on-write view of a memory-mapped file) are checked against the
        size of the very file they map (no origin, no stamp to compare with).
    """
    if origin is not None:  # (by path: the file mapped, unless replaced, out of reach)
        _check_stamped_files(origin)
        return
    for array in arrays:
        root = None if array is None else _mapping(array)
        # (mmap.size() is the mapped file's own size: fstat of the mapping's descriptor)
        if root is not None and root.base.size() < root.offset + root.nbytes:
            raise ValueError(
                f"{os.fspath(root.filename)!r} was cut short to {root.base.size()} bytes "
                f"while mapped (its data ran to byte {root.offset + root.nbytes}): reading "
                "it would kill the process with a bus error. Open it again; to change "
                "data in use, write them to a new path.")


def _check_stamped_files(origin):
    """:func:`check_mapped` of the files ``origin`` names, against its stamp."""
    if origin[0] == "store":
        where, stamp, strict = origin[1], origin[2:3], True
        names = (os.path.join(where, VALUES), os.path.join(where, OFFSETS))
    else:
        where, stamp, strict = origin[1], origin[5:6], False
        names = (where,)
    for name, (inode, size, mtime) in zip(names, stamp[0] if stamp else (), strict=False):
        try:
            now = os.stat(name)
        except OSError:  # moved or deleted: the mapping still holds the file
            continue
        if now.st_ino != inode:  # replaced: the mapping reads the old file whole
            continue
        if now.st_size != size or (strict and now.st_mtime_ns != mtime):
            change = (f"cut short from {size} to {now.st_size} bytes" if now.st_size < size
                      else f"grown from {size} to {now.st_size} bytes" if now.st_size > size
                      else "rewritten in place")
            raise ValueError(
                f"{os.fspath(name)!r} was {change} since it was opened, so the data mapped "
                "from it are no longer the data that were opened (reading a file cut short "
                "would kill the process with a bus error). Open it again to read what it "
                "holds now; to change data in use, write them to a new path "
                "(SequenceStore.write(..., overwrite=True) replaces a store without changing "
                "the files an open one reads).")


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
