"""Read a dataset file (what ``sklstm tune`` reads): ``.npz`` (arrays ``X``, ``y``) or ``.csv``.

CSV layout: a header row, one row per sample, the target in a named column and the other
columns the time steps of a univariate sequence, giving ``X`` of shape ``(n, T)``.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib

import numpy as np

from ._csv import load_csv

__all__ = ["check_file", "load_dataset"]


def _load_npz(path):
    # No allow_pickle: unpickling a data file could run arbitrary code.
    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("it is not an .npz file (no zip archive)")
        with np.load(path, allow_pickle=False) as data:
            missing = {"X", "y"} - set(data.files)
            if missing:
                raise ValueError(f"missing array(s) {sorted(missing)} (has {data.files})")
            X, y = data["X"], data["y"]
        if X.ndim == 0 or y.ndim == 0:
            raise ValueError(f"X and y must be arrays of samples, got shapes {X.shape} and "
                             f"{y.shape}")
        return X, y
    except ValueError as exc:
        reason = str(exc)
        if "allow_pickle" in reason:
            reason = ("object (ragged) arrays are not loaded: they are pickled, and "
                      "unpickling can run code; store equal-length sequences")
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        reason = f"it is damaged or not an .npz file ({type(exc).__name__}: {exc})"
    raise ValueError(f"{path}: {reason}; write the file with numpy.savez(path, X=X, y=y)")


#: What a path that is no regular file is, by the test of its ``stat`` mode.
_NOT_FILES = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
              (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def check_file(path):
    """Refuse a path that is no readable regular file, saying what it is: each of these
    was "does not exist", which for ``/dev/null``, a pipe or a directory was false."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise ValueError(f"dataset file {path!r} is a symbolic link to "
                             f"{os.readlink(path)!r}, which does not exist") from None
        raise ValueError(f"dataset file {path!r} does not exist") from None
    except OSError as exc:  # a file where a folder is (a.csv/b.csv), a loop of links
        raise ValueError(f"dataset file {path!r} cannot be reached ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"{path!r} is a directory, not a dataset file; pass an .npz or "
                         ".csv file (a SequenceStore directory opens with "
                         "sklstm.data.SequenceStore.open(path))")
    kind = next((kind for is_kind, kind in _NOT_FILES if is_kind(mode)), None)
    if kind is not None:  # read once, and an .npz needs seeking: no stream will do
        raise ValueError(f"{path!r} is {kind}, not a dataset file; save the data to an "
                         ".npz or .csv file and pass that")
    try:  # (after the checks above: opening a pipe waits for its writer)
        with open(path, "rb"):
            pass
    except OSError as exc:  # else an .npz without read permission was "no zip archive"
        raise ValueError(f"dataset file {path!r} cannot be read ({exc.strerror}); give "
                         "yourself read permission, e.g. chmod u+r") from None


def _refuse_path_of_another_type(path):
    """Refuse a ``path`` that is no path: an open file or a buffer (as pandas.read_csv
    takes them) was os.fsdecode's bare "expected str, bytes or os.PathLike object, not
    BufferedReader", which named neither the parameter nor the fix. The format is
    chosen by the file's extension, and an .npz needs seeking: a path is read."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return
    name = getattr(path, "name", None)
    fix = (f"; for an open file, pass its name: load_dataset({name!r})"
           if isinstance(name, (str, bytes)) and os.path.exists(name) else
           "; write the data to an .npz or .csv file and pass its path"
           if hasattr(path, "read") else "")
    raise TypeError(f"path must be the path of an .npz or .csv file, a str or "
                    f"pathlib.Path; got {type(path).__name__}{fix}")


def load_dataset(path, target="y", encoding="utf-8"):
    """Load ``X, y`` from an ``.npz`` (arrays ``X`` and ``y``) or ``.csv`` file.

    Parameters
    ----------
    path : str, bytes or os.PathLike
        The file to read (a leading ``~`` is the home directory); its extension,
        ``.npz`` or ``.csv`` (any case), selects the format.
    target : str, default="y"
        CSV only: the column holding the target (an ``.npz`` file's is its array
        ``y``: another name is refused).
    encoding : str, default="utf-8"
        CSV only (another is refused for an ``.npz``): the file's text encoding (a
        byte-order mark is skipped). A file in another encoding gives a ValueError
        naming the encoding to pass (the one whose byte-order mark starts the file,
        UTF-16 or UTF-32 as the NUL bytes of a file without a mark show it,
        ``cp1252`` where bytes 0x80-0x9F hold Windows' characters such as ``€``,
        else ``latin-1``).

    Returns
    -------
    X : ndarray
        The array ``X`` as stored for npz (e.g. ``(n, T, F)`` or ``(n, T)``);
        ``(n, T)`` float32 for CSV.
    y : ndarray
        The array ``y`` as stored for npz; for CSV of shape ``(n,)``, its values
        never rounded into one another:

        * int64 when every value is a whole number in the int64 range (``3``,
          ``3.0``, ``9007199254740993``), read exactly, not through float64;
        * float64 when all are numbers and one has a fraction (``0.25``), or
          when whole numbers beyond int64 are each held exactly (``1e20``);
        * the values as written (strings, surrounding spaces dropped) when none is
          a number (class names),
          when an integer has a leading zero (``00501``: a code, not a number;
          other values of the column may then be text too), or when whole numbers
          beyond int64 are not held exactly by float64 (ids such as
          ``99999999999999999999``).

    Raises
    ------
    ValueError
        A path that is missing, unreadable or no regular file (a directory, a
        named pipe, a device such as ``/dev/null``: the message says which).
        Unknown extension, missing arrays/column, mismatched lengths, a damaged
        ``.npz`` file, a CSV that is not in ``encoding``, that holds a NUL
        character (the line is named) or that is no text (an Excel workbook, a zip
        archive); a CSV target that is
        empty, or, in a column of numbers, ``nan``, ``inf``, beyond the float64
        range or a missing-value marker (``NA``, ``N/A``, ``#N/A``, ``null``,
        ``None``); a CSV target column of numbers and text (``0``, ``1``, ``cat``),
        which no regression reads and which as class labels is almost always a data
        error: the message names the file, the row and the value (for a mixed column,
        the first of the rarer kind). A CSV with no column but the target, or a
        sequence cell that is empty, a missing-value marker, ``nan``, ``inf``, text or
        beyond the float32 range: the message names the file, the row, the column and
        the value (and for a number with a decimal comma or a thousands separator,
        such as ``0,5`` or ``1,000.5``, the ``pandas`` call that converts the
        file). A CSV row with more or fewer fields than the header (blank lines, and
        rows of empty cells such as ``,,``, at the end of the file are ignored), a
        header naming two columns alike (the message names them), a first line
        starting with ``#`` (comments are not skipped: the fix is said), or
        a header column without a name (empty or ``Unnamed: 0``: the row index that
        ``DataFrame.to_csv`` writes unless ``index=False``). A CSV quote left open
        (a target spanning lines); a ``target`` other than ``y``, or an
        ``encoding`` other than ``utf-8``, for an ``.npz``.
    TypeError
        A ``path`` that is no path (an open file or a buffer: the message says
        what to pass); CSV only: an ``encoding`` or a ``target`` that is no string
        (the header's names are text: ``target="2"`` for a column named 2).

    Notes
    -----
    A CSV is read a few thousand rows at a time into the arrays returned: host memory
    holds about twice their size at its peak, not the whole file's text (some 26 times
    ``X``'s float32 bytes). For data larger than memory,
    :func:`sklstm.data.store_csv.csv_to_store` writes them to a sequence store on disk
    instead, as they are read.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
    >>> _ = open(path, "w").write("t0,t1,t2,label\\n0.1,0.2,0.3,a\\n0.3,0.2,0.1,b\\n")
    >>> X, y = load_dataset(path, target="label")
    >>> X.shape, y.tolist()
    ((2, 3), ['a', 'b'])
    """
    _refuse_path_of_another_type(path)
    # (a bytes path's extension, b".csv", matched no format; "~" is the home directory,
    # as pandas.read_csv reads it, not a folder of that name)
    path = os.path.expanduser(os.fsdecode(path))
    ext = os.path.splitext(path)[1].lower()
    check_file(path)
    if ext == ".npz":
        if target != "y":  # ignored in silence: y was the file's array y all the same
            raise ValueError(f"{path}: target={target!r} names a CSV column, but the "
                             "targets of an .npz file are its array 'y'; leave target out, "
                             "or save the targets as y: numpy.savez(path, X=X, y=...)")
        if encoding != "utf-8":  # ignored in silence as well, whatever it named
            raise ValueError(f"{path}: encoding={encoding!r} is the text encoding of a CSV "
                             "file, but an .npz file holds arrays, which have none; leave "
                             "encoding out")
        X, y = _load_npz(path)
    elif ext == ".csv":
        X, y = load_csv(path, target, encoding)
    else:
        raise ValueError(f"{path}: unsupported dataset format {ext!r}; use .npz or .csv "
                         "(or give sklstm tune a SequenceStore directory)")
    if len(X) != len(y):
        raise ValueError(f"{path}: X has {len(X)} samples but y has {len(y)}")
    return X, y
