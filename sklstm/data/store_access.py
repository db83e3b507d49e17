"""What the file system lets this process do at a :class:`~sklstm.data.store.SequenceStore`'s
path, checked where it matters and refused in words that name the store and the fix:
read its files (:func:`unreadable_error`), make a store in a directory
(:func:`unwritable_error`), replace a store (:func:`check_replaceable`).

Permissions are the operating system's to decide: these only say what it refused (or,
for a replacement, would refuse half-way) where the bare errors named a hidden
temporary directory, called an unreadable store damaged, or left a replaced store's
data behind.
"""

from __future__ import annotations

import errno
import os

__all__ = ["check_replaceable", "full_disk_error", "unreadable_error", "unwritable_error"]

#: What a write is refused with where the disk, a quota or the file size limit is full.
_FULL = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up",
         errno.EFBIG: "the file size limit (ulimit -f) is reached"}


def unreadable_error(path, exc):
    """The error for the store at ``path`` whose file this process may not read.

    An unreadable ``offsets.npy`` was called damaged, with the advice to rewrite the
    store (its data are whole); ``meta.json`` and ``values.bin`` gave a bare
    PermissionError that named no fix.

    Parameters
    ----------
    path : str
        The store's directory.
    exc : PermissionError
        What reading one of its files raised.

    Returns
    -------
    PermissionError
        The error to raise.
    """
    where = exc.filename if exc.filename is not None else path
    return PermissionError(
        f"Cannot read the sequence store {path!r}: {where!r} is not readable by this "
        f"process ({exc.strerror}); its data are not damaged. Give yourself read "
        f"permission, e.g. chmod -R u+rX {path!r}, or open a copy you may read.")


def unwritable_error(path, exc):
    """The error for a store that cannot be made at ``path``: its directory does not let
    this process make the temporary directory it is written in (``exc``); None for
    another error.

    The bare PermissionError, or OSError of a file system mounted read-only, named that
    hidden temporary directory (``.name.store-tmp-host-pid-thread``), a path the user
    never gave.

    Parameters
    ----------
    path : str
        The store's directory, absolute.
    exc : OSError
        What making the temporary directory beside it raised.

    Returns
    -------
    PermissionError or OSError or None
        The error to raise.
    """
    parent = os.path.dirname(path)
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return OSError(exc.errno, (
            f"Cannot write the store {path!r}: its directory {parent!r} is on a file "
            f"system mounted read-only ({exc.strerror}). Write it to another file system."))
    if not isinstance(exc, PermissionError):
        return None
    return PermissionError(
        f"Cannot write the store {path!r}: its directory {parent!r} does not let this "
        f"process make files there ({exc.strerror}). Write it to a directory you may "
        f"write to, or give yourself write permission, e.g. chmod u+w {parent!r}.")


def full_disk_error(path, exc):
    """The error for a store write that ran out of room (``exc``), or None for another.

    The bare OSError ("File too large", "No space left on device") named neither the
    store nor that the write left nothing behind (an existing store included).

    Parameters
    ----------
    path : str
        The store's directory, absolute.
    exc : BaseException
        What writing it raised.

    Returns
    -------
    OSError or None
        The error to raise, of ``exc``'s errno.
    """
    if not isinstance(exc, OSError) or exc.errno not in _FULL:
        return None
    return OSError(exc.errno, (
        f"Cannot write the store {path!r}: {_FULL[exc.errno]} ({exc.strerror}). Nothing "
        "was written there (a store it would replace is kept); free room (or raise the "
        "limit), or write it to another file system."))


def check_replaceable(path, names):
    """Refuse to overwrite what is not a store, or a store this process cannot remove.

    Not a store: a file, or a directory holding files other than a store's ``names``
    (``overwrite=True`` with a wrong path must not delete them), a FileExistsError.
    Write-protected: a store whose directory does not let this process remove its
    files (``chmod -R a-w``, the usual protection of data) was moved aside all the same,
    replaced, and its removal failed in silence, leaving the old data, hidden beside
    the new store (``.name.store-tmp-...old``), at their full size for good; a
    PermissionError now, before anything is written.

    Parameters
    ----------
    path : str
        The existing path that a write with ``overwrite=True`` would replace.
    names : collection of str
        The files a store holds.
    """
    if not os.path.isdir(path):
        what = "a file"
    else:
        foreign = sorted(set(os.listdir(path)) - set(names))
        if not foreign:
            # (the files' own modes do not matter: removing a file needs its directory's)
            if not os.access(path, os.W_OK | os.X_OK):
                raise PermissionError(
                    f"{path!r} is a write-protected store: overwrite=True would put the new "
                    "store in its place but could not remove this one's files, which would "
                    "stay behind, hidden, at their full size. Give yourself write "
                    f"permission to replace it (chmod u+w {path!r}), or write to a new path.")
            return
        what = (f"a directory holding {', '.join(foreign[:3])}"
                f"{', ...' if len(foreign) > 3 else ''}")
    raise FileExistsError(f"{path!r} is {what}, not a sequence store; overwrite=True "
                          "replaces a store only. Choose another path, or remove what is "
                          "there.")
