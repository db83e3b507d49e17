"""Read a dataset file (what ``sklstm tune`` reads): ``.npz`` (arrays ``X``, ``y``) or ``.csv``.

CSV layout: a header row, one row per sample, the target in a named column and the other
columns the time steps of a univariate sequence, giving ``X`` of shape ``(n, T)``.
"""

from __future__ import annotations

import codecs
import csv
import os
import zipfile
import zlib

import numpy as np

__all__ = ["load_dataset"]


def _target_array(values: list[str]) -> np.ndarray:
    # Numeric targets become numbers (ints when they all are), anything else stays a label.
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except ValueError:
        return np.asarray(values)
    if np.all(numbers == np.round(numbers)):
        return numbers.astype(np.int64)
    return numbers


def _read_rows(path, encoding):
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}; use e.g. 'utf-8' or 'latin-1'") from None
    # utf-8-sig reads plain UTF-8 too and drops the byte-order mark spreadsheets write
    try:
        with open(path, newline="", encoding="utf-8-sig" if codec == "utf-8" else codec) as f:
            return list(csv.reader(f))
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: the CSV is not valid {encoding} (byte {exc.object[exc.start]:#04x} at "
            f"position {exc.start}); pass the file's encoding, e.g. --encoding latin-1 on the "
            "command line or load_dataset(path, encoding='latin-1')"
        ) from None
    except csv.Error as exc:
        raise ValueError(f"{path}: not a readable CSV file ({exc})") from None


def _load_csv(path, target, encoding):
    rows = _read_rows(path, encoding)
    if len(rows) < 2:
        raise ValueError(f"{path}: a CSV needs a header row and at least one sample row")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        raise ValueError(f"{path}: no target column {target!r} (columns: {header})")
    t = header.index(target)
    if any(len(row) != len(header) for row in rows[1:]):
        raise ValueError(f"{path}: every row must have {len(header)} fields like the header")
    y = _target_array([row[t] for row in rows[1:]])
    try:
        X = np.asarray([row[:t] + row[t + 1 :] for row in rows[1:]], dtype=np.float32)
    except ValueError as exc:
        raise ValueError(f"{path}: the sequence columns must be numeric ({exc})") from exc
    return X, y


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


def load_dataset(path, target="y", encoding="utf-8"):
    """Load ``X, y`` from an ``.npz`` (arrays ``X`` and ``y``) or ``.csv`` file.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read; its extension, ``.npz`` or ``.csv`` (any case),
        selects the format.
    target : str, default="y"
        CSV only: the column holding the target.
    encoding : str, default="utf-8"
        CSV only: the file's text encoding (a byte-order mark is skipped). A file
        in another encoding gives a ValueError naming the encoding to pass.

    Returns
    -------
    X : ndarray
        The array ``X`` as stored for npz (e.g. ``(n, T, F)`` or ``(n, T)``);
        ``(n, T)`` float32 for CSV.
    y : ndarray
        The array ``y`` as stored for npz; for CSV of shape ``(n,)``: int64
        when every value is a whole number, float64 when all are numeric,
        else the labels as strings.

    Raises
    ------
    ValueError
        Unknown extension, missing arrays/column, mismatched lengths, a damaged
        ``.npz`` file, a CSV that is not in ``encoding``.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.csv")
    >>> _ = open(path, "w").write("t0,t1,t2,label\\n0.1,0.2,0.3,a\\n0.3,0.2,0.1,b\\n")
    >>> X, y = load_dataset(path, target="label")
    >>> X.shape, y.tolist()
    ((2, 3), ['a', 'b'])
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if not os.path.isfile(path):
        raise ValueError(f"dataset file {path!r} does not exist")
    elif ext == ".npz":
        X, y = _load_npz(path)
    elif ext == ".csv":
        X, y = _load_csv(path, target, encoding)
    else:
        raise ValueError(f"{path}: unsupported dataset format {ext!r}; use .npz or .csv "
                         "(or give sklstm tune a SequenceStore directory)")
    if len(X) != len(y):
        raise ValueError(f"{path}: X has {len(X)} samples but y has {len(y)}")
    return X, y
