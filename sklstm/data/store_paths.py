"""The path a :class:`~sklstm.data.store.SequenceStore` is written to or opened from,
as the user gave it (:func:`given_path`): a str, bytes or os.PathLike, ``~`` the home
directory (as :func:`~sklstm.data.store_csv.csv_to_store`, :func:`~sklstm.datasets.load_dataset`
and :func:`sklstm.load` read it), a relative path taken from the working directory of
the call (kept absolute, so a store still opens after ``os.chdir``)."""

from __future__ import annotations

import errno
import os

__all__ = ["check_name", "given_path"]


def given_path(path, action):
    """``path`` as an absolute str, ``~`` expanded; a clear error for what is no path.

    ``"~/data/ids"`` was taken for a folder named ``~`` in the working directory ("its
    directory '.../~' does not exist"), None or an open file gave os.fsdecode's bare
    "expected str, bytes or os.PathLike object", and ``""`` named the working directory
    itself (which ``overwrite=True`` replaced when it was empty).

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The store's directory.
    action : str
        What was asked, for the messages: ``"write the store"``, ``"open the store"``.

    Returns
    -------
    str
        The absolute path.

    Raises
    ------
    TypeError
        ``path`` is no path (None, a number, an open file).
    ValueError
        ``path`` is empty.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        name = getattr(path, "name", None)
        fix = (f"pass the path itself ({name!r}), not an open file"
               if isinstance(name, (str, bytes)) else
               "give the store's directory, e.g. 'data/train-store'")
        raise TypeError(f"Cannot {action}: path must be a str, bytes or os.PathLike (the "
                        f"store's directory), not {type(path).__name__}; {fix}.")
    text = os.fsdecode(path)  # (a PathLike giving no str or bytes: os's own TypeError)
    if not text:
        raise ValueError(f"Cannot {action}: path '' names no directory; give the store's "
                         "directory, e.g. 'data/train-store' ('.' for the working "
                         "directory itself).")
    return os.path.abspath(os.path.expanduser(text))


def check_name(path, action):
    """Refuse, before anything is written, a name longer than the file system takes:
    the whole store was written (a generator of data consumed, for hours perhaps), then
    its rename to ``path`` failed with a bare "File name too long".

    Parameters
    ----------
    path : str
        The store's directory, absolute.
    action : str
        What was asked, for the message: ``"write the store"``.

    Raises
    ------
    ValueError
        The name is too long here.
    """
    try:
        os.lstat(path)  # (the system's own limit, per file system: asked, not guessed)
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise ValueError(
                f"Cannot {action} {path!r}: its name of "
                f"{len(os.fsencode(os.path.basename(path)))} bytes is longer than this file "
                f"system takes ({exc.strerror}); choose a shorter name.") from None
