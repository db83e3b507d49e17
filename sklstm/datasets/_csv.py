"""Read a CSV dataset file: a header row, one row per sample, the target in a named
column and the other columns the time steps of a univariate sequence, giving ``X`` of
shape ``(n, T)`` (:func:`load_csv`, which :func:`sklstm.datasets.load_dataset` calls).
Every refusal names the file, the row or column, and the fix."""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from decimal import Decimal, InvalidOperation

import numpy as np

__all__ = ["load_csv"]


#: What spreadsheets, R and pandas write for a missing number; in a column of numbers
#: they mean "no target", not a class of their own.
_MISSING_MARKERS = frozenset({"na", "n/a", "#n/a", "null", "none"})
_INT64 = np.iinfo(np.int64)
_FLOAT64_MAX = Decimal(np.finfo(np.float64).max.item())


def _as_number(value):
    # Decimal holds what the file says exactly; going through float64 first would merge
    # integers above 2**53 and turn 1e20 or inf into garbage when cast to int64.
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _refuse_row(path, rows, problem, column=None):
    """Refuse the CSV at the first of ``rows`` (``(sample, value)`` pairs), counting the
    others; ``column`` names the sequence column of the value, None for the target."""
    extra = len(rows) - 1
    more = f" (and {extra} more such row{'s' * (extra > 1)})" if extra else ""
    first, value = rows[0]
    what = "the target" if column is None else "the value"
    at = "" if column is None else f", column {column!r},"
    # the header is CSV row 1, so sample i (from 0) is row i + 2, as a spreadsheet shows it
    raise ValueError(f"{path}: row {first + 2} (the header is row 1){at} has {what} "
                     f"{value!r}{more}: {problem}")


def _is_code(value):
    """A whole number written with a leading zero (``00501``): a code (zip code, id), which
    as a number would lose its zeros."""
    return re.fullmatch(r"\s*[+-]?0[0-9]+\s*", value) is not None


def _refuse_mixed_kinds(path, values, numbers):
    """Refuse a target column of numbers and text: a regression needs numbers, and class
    labels of both kinds are almost always a data error (a stray value, a shifted column),
    which as strings would make ``"1"`` a class beside ``"cat"``. Missing-value markers
    are of neither kind; a column with a code (``00501``) holds codes, text all of it."""
    if any(_is_code(v) for v in values):
        return
    kinds = {}  # "number" or "text" -> [(i, value)]
    for i, (n, v) in enumerate(zip(numbers, values, strict=True)):
        if n is not None or v.strip().lower() not in _MISSING_MARKERS:
            kinds.setdefault("text" if n is None else "number", []).append((i, v))
    if len(kinds) < 2:
        return
    # the odd ones out: the rarer kind; of as many of each, the kind the first row is not
    odd, usual = sorted(kinds, key=lambda kind: (len(kinds[kind]), -kinds[kind][0][0]))
    it, others = ("reads as a number", "text") if odd == "number" else ("is text", "numbers")
    _refuse_row(path, kinds[odd], (
        f"it {it}, but {len(kinds[usual])} other target(s) are {others}; a column of both "
        "is almost always a data error. Correct the value or drop the row: a regression "
        "target is a number on every row, and class labels are all text (e.g. 'c0', 'c1', "
        "'cat') or all numbers"))


#: A line break inside a value, which only a quoted field holds.
_LINE_BREAK = re.compile(r"[\r\n]")
_OPEN_QUOTE = ("a value cannot span lines: a quote (\") left open joins the lines after it "
               "into one value; close the quote or remove it")


def _shortened(value, size=40):
    """``value`` for a message: what a quote left open swallowed may be the whole file."""
    return value if len(value) <= size else value[:size] + "..."


def _target_array(values, path):
    """The CSV target column as an array, its values kept exactly (see load_dataset)."""
    blank = [(i, v) for i, v in enumerate(values) if not v.strip()]
    if blank:
        _refuse_row(path, blank, "a target cannot be empty; fill it in or drop the row")
    # a quote left open: the rows after it were one class label, silently
    broken = [(i, _shortened(v)) for i, v in enumerate(values) if _LINE_BREAK.search(v)]
    if broken:
        _refuse_row(path, broken, _OPEN_QUOTE)
    # surrounding spaces are no part of a value (as in the header and the sequence
    # cells): kept, "cat" and "cat " were two classes, and ", dog" gave " dog"
    values = [v.strip() for v in values]
    numbers = [_as_number(v) for v in values]
    _refuse_mixed_kinds(path, values, numbers)
    text = [n is None and v.strip().lower() not in _MISSING_MARKERS
            for n, v in zip(numbers, values, strict=True)]
    if any(text) or all(n is None for n in numbers):
        return np.asarray(values)  # class names, as written
    bad = [(i, v) for i, (n, v) in enumerate(zip(numbers, values, strict=True))
           if n is None or not n.is_finite() or n.copy_abs() > _FLOAT64_MAX]
    if bad:
        _refuse_row(path, bad, "a numeric target must be a finite number within the float64 "
                               "range; fill in the value or drop the row")
    if any(_is_code(v) for v in values):
        return np.asarray(values)
    floats = np.asarray([float(n) for n in numbers], dtype=np.float64)
    if any(n != n.to_integral_value() for n in numbers):
        return floats  # measured values: the nearest float64 is what any reader gives
    if all(_INT64.min <= n <= _INT64.max for n in numbers):
        return np.asarray([int(n) for n in numbers], dtype=np.int64)
    if all(Decimal(f) == n for f, n in zip(floats.tolist(), numbers, strict=True)):
        return floats  # whole numbers beyond int64 that float64 holds exactly (1e20)
    return np.asarray(values)  # beyond int64 and float64: only the text keeps them apart


def _is_finite32(value):
    try:
        with np.errstate(over="ignore"):  # 1e39 is inf in float32: not finite either way
            return bool(np.isfinite(np.float32(value)))
    except ValueError:
        return False


def _is_missing(value):
    """Whether a cell says "no value": empty, a missing-value marker or ``nan``."""
    number = _as_number(value)
    return (not value.strip() or value.strip().lower() in _MISSING_MARKERS
            or (number is not None and number.is_nan()))


def _feature_array(cells, names, path):
    """The CSV sequence columns as float32 ``(n, T)``. A cell that is no finite number
    is refused naming its row and column, as a target is: numpy's "could not convert
    string to float: ''" named neither, and ``nan`` only failed later, in the fit."""
    try:
        with np.errstate(over="ignore"):  # an overflow is an inf, refused below
            X = np.asarray(cells, dtype=np.float32)
        if np.isfinite(X).all():
            return X
    except ValueError:
        pass
    bad = []  # (sample, value, column) of the first bad cell of each row with one
    for i, row in enumerate(cells):
        j = next((j for j, v in enumerate(row) if not _is_finite32(v)), None)
        if j is not None:
            bad.append((i, row[j], names[j]))
    first, value, column = bad[0]
    if _is_missing(value):
        problem = "a sequence value is missing; fill it in or drop the row"
        row = cells[first]
        if not row[-1].strip() and any(v.strip() for v in row):
            # empty cells that end the row: the layout of sequences of different lengths,
            # which only a store holds (an .npz refuses ragged arrays)
            problem += (", or, if the sequences have different lengths (empty cells end "
                        "the shorter ones), write each at its own length, as an "
                        "(n_timesteps, 1) array, to a sklstm.data.SequenceStore and pass "
                        "its directory")
    else:
        problem = ("the sequence columns must be numeric, a finite float32 number in every "
                   "cell; correct the value (fill it in if it marks a missing one) or drop "
                   "the row" + _comma_hint(value))
    _refuse_row(path, [(i, v) for i, v, _ in bad], problem, column=column)


#: A number with a comma in it: a thousands separator (``1,000.5``, ``12,345,678``),
#: else (``0,5``) a decimal comma, as spreadsheets in many locales write numbers.
_THOUSANDS = re.compile(r"\s*[+-]?\d{1,3}(,\d{3})+(\.\d*)?\s*")
_DECIMAL_COMMA = re.compile(r"\s*[+-]?\d*,\d+\s*")


def _comma_hint(value):
    """How to convert a file whose ``value`` is a number written with a comma, which
    float() reads in no locale; "" for any other value."""
    convert = "and pass the new file"
    if _THOUSANDS.fullmatch(value) and not re.fullmatch(r"\s*[+-]?\d{1,3},\d{3}\s*", value):
        return ("; it is written with a thousands separator: convert the file, e.g. "
                f"pd.read_csv(path, thousands=',').to_csv(new_path, index=False), {convert}")
    if _DECIMAL_COMMA.fullmatch(value):  # (1,000 may be either: both are said)
        return ("; it is written with a decimal comma (or a thousands separator): convert "
                "the file, e.g. pd.read_csv(path, decimal=',').to_csv(new_path, "
                f"index=False) (thousands=',' for a separator), {convert}")
    return ""


#: Where an ASCII character (a header's, mostly) leaves NUL bytes in each encoding of
#: UTF-16 or UTF-32 without a byte-order mark ("x" a byte that is not NUL).
_NUL_PATTERNS = (("utf-32-le", r"(x000)+"), ("utf-32-be", r"(000x)+"),
                 ("utf-16-le", r"(x0)+"), ("utf-16-be", r"(0x)+"))


def _guessed_encoding(path):
    """The encoding that the file's first bytes show, else None: the one whose
    byte-order mark starts the file (what Excel's "Unicode text" and
    ``to_csv(encoding="utf-16")`` write), else UTF-16 or UTF-32 by the NUL bytes of its
    first characters (what ``iconv -t UTF-16LE`` and some exporters write, with no mark).
    Read as latin-1, the usual advice, or as UTF-8, which such a file also is, either
    gave a header of NUL characters and "no target column"."""
    with open(path, "rb") as f:
        start = f.read(16)
    # UTF-32's little-endian mark begins with UTF-16's: it is tried first
    marks = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
             (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
    marked = next((name for mark, name in marks if start.startswith(mark)), None)
    if marked is not None:
        return marked
    shape = "".join("0" if byte == 0 else "x" for byte in start[:len(start) // 4 * 4])
    return next((name for name, nuls in _NUL_PATTERNS if re.fullmatch(nuls, shape)), None)


#: The first bytes of files that are saved or renamed as .csv but hold no text at all:
#: read as text, they were "not valid utf-8", and with the latin-1 advised, NULs.
_BINARY_STARTS = ((b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook, an .npz file, "
                                    "...)"),
                  (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook"))


def _refuse_binary(path):
    """Refuse a file that starts as one of :data:`_BINARY_STARTS`, saying what it is."""
    with open(path, "rb") as f:
        start = f.read(4)
    kind = next((kind for magic, kind in _BINARY_STARTS if start == magic), None)
    if kind is not None:
        raise ValueError(f"{path}: the file is {kind}, not CSV text; save it as CSV (in "
                         "Excel: Save As, CSV UTF-8) and pass that, or pass an .npz file "
                         "under its .npz name")


def _is_utf8(path):
    """Whether the file is valid UTF-8 (read by the MiB): the encoding to advise then,
    not latin-1, which reads any file but turned its accents into others ("é": "Ã©")."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _lines_without_nul(lines, path, encoding):
    """``lines``, refused (:func:`_refuse_nul`) at the first that holds a NUL."""
    for number, line in enumerate(lines, 1):
        if "\0" in line:
            _refuse_nul(path, number, encoding)
        yield line


def _refuse_nul(path, line, encoding):
    """Refuse a text with a NUL character, which no CSV holds: a UTF-16 or UTF-32 file
    read in a one-byte encoding (or as UTF-8), or a damaged file. Kept, a NUL made
    ``"a\\x00"`` a class of its own beside ``"a"``, and a UTF-16 header no column."""
    guess = _guessed_encoding(path)
    # (a NUL in a file read in the encoding it looks: damaged, whatever it looks)
    if guess is not None and codecs.lookup(guess).name != codecs.lookup(encoding).name:
        raise ValueError(
            f"{path}: the CSV read as {encoding} holds NUL characters: it looks {guess} "
            f"(without a byte-order mark); pass the file's encoding, e.g. --encoding "
            f"{guess} on the command line or load_dataset(path, encoding='{guess}')")
    raise ValueError(f"{path}: line {line} holds a NUL character (\\x00), which no CSV "
                     f"text holds: the file is damaged or not a text file in {encoding}; "
                     "remove the NUL characters, or pass the file's encoding")


def _read_rows(path, encoding):
    if not isinstance(encoding, str):  # codecs' "lookup() argument must be str" named neither
        raise TypeError(f"encoding must be the name of the CSV's text encoding, such as "
                        f"'utf-8' or 'latin-1'; got {encoding!r}")
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(f"unknown encoding {encoding!r}; use e.g. 'utf-8' or 'latin-1'") from None
    _refuse_binary(path)
    # utf-8-sig reads plain UTF-8 too and drops the byte-order mark spreadsheets write
    try:
        with open(path, newline="", encoding="utf-8-sig" if codec == "utf-8" else codec) as f:
            return list(csv.reader(_lines_without_nul(f, path, encoding)))
    except LookupError:  # a codec of bytes to bytes (base64, zlib): open's bare error
        raise ValueError(f"{encoding!r} is no text encoding; use e.g. 'utf-8' or "
                         "'latin-1'") from None
    except UnicodeError as exc:
        # a decoding error names its byte; others (UTF-16 without its byte-order mark:
        # "UTF-16 stream does not start with BOM", bare before) say what they found
        where = (f"byte {exc.object[exc.start]:#04x} at position {exc.start}"
                 if isinstance(exc, UnicodeDecodeError) else str(exc))
        guess = _guessed_encoding(path) or (
            "utf-8" if codec != "utf-8" and _is_utf8(path) else "latin-1")
        raise ValueError(
            f"{path}: the CSV is not valid {encoding} ({where}); pass the file's encoding, "
            f"e.g. --encoding {guess} on the command line or load_dataset(path, "
            f"encoding='{guess}')"
        ) from None
    except csv.Error as exc:
        # a value of 131072 characters is no number or label: a quote left open, mostly
        hint = f"; {_OPEN_QUOTE}" if "field larger than field limit" in str(exc) else ""
        raise ValueError(f"{path}: not a readable CSV file ({exc}){hint}") from None


def _refuse_unnamed_columns(path, header):
    """Refuse a header with an unnamed column: what ``DataFrame.to_csv(path)`` writes for
    the row index (``index=True`` is its default), an empty name, or ``Unnamed: 0`` once
    such a file went through ``read_csv`` and back. Read as a time step, the index
    0, 1, 2, ... became the first value of every sequence, silently."""
    unnamed = [j for j, name in enumerate(header)
               if not name or re.fullmatch(r"Unnamed: \d+", name)]
    if unnamed:
        names = ", ".join(f"{j + 1} ({header[j]!r})" for j in unnamed)
        raise ValueError(
            f"{path}: header column(s) {names} have no name: the row index, as pandas "
            "writes it unless told not to, or a column left by trailing commas, which "
            "read as a time step would be a value of every sequence. Write the file with "
            "df.to_csv(path, index=False), or drop the column, or name it if it is a "
            "time step.")


def _refuse_missing_target(path, header, rows, target):
    """Refuse a CSV without the column ``target``, naming the columns (a long header
    cut to its ends: all of them were a screenful), the closest name and the likely
    cause."""
    shown = header if len(header) <= 12 else [*header[:5], "...", *header[-5:]]
    close = difflib.get_close_matches(target, header, n=1, cutoff=0.6) or [
        name for name in header if name.lower() == target.lower()]
    guess = "" if not close else (
        f"; if the target is the column {close[0]!r}, pass its name: --target "
        f"{close[0]!r} on the command line, or load_dataset(path, target={close[0]!r})")
    # one column holding another separator: a European spreadsheet's ";" or a TSV
    other = next((sep for sep in (";", "\t", "|") if len(header) == 1
                  and sep in header[0]), None)
    # its numbers then mostly have a decimal comma, which read with sep alone stay
    # text ("0,5"), refused in turn: both are said at once
    decimal = ", decimal=','" if other == ";" and any(
        re.search(r"\d,\d", ",".join(row)) for row in rows[1:3]) else ""
    hint = "" if other is None else (
        f"; the file looks separated by {other!r}, and CSV files are read as "
        f"comma-separated: convert it, e.g. pd.read_csv(path, sep={other!r}{decimal})"
        ".to_csv(new_path, index=False)")
    raise ValueError(f"{path}: no target column {target!r} ({len(header)} columns: "
                     f"{shown}){guess}{hint}")


def load_csv(path, target, encoding):
    """``(X, y)`` of the CSV file at ``path`` (a readable regular file), ``target`` the
    name of its target column, read in ``encoding``; a ValueError (a TypeError for an
    ``encoding`` that is no string) says what is wrong with the file and how to fix it."""
    rows = _read_rows(path, encoding)
    # blank lines at the end, as editors and `echo >>` leave, and rows of empty cells
    # (",,,"), as spreadsheets export their formatted but empty rows: no data in either
    while rows and not any(value.strip() for value in rows[-1]):
        rows.pop()
    if len(rows) < 2:
        raise ValueError(f"{path}: a CSV needs a header row and at least one sample row")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        _refuse_missing_target(path, header, rows, target)
    if header.count(target) > 1:
        # the first would be the target and the others sequence columns, silently
        raise ValueError(f"{path}: {header.count(target)} columns are named {target!r}; "
                         "rename the others, so that the target column's name is unique")
    _refuse_unnamed_columns(path, header)
    t = header.index(target)
    if len(header) == 1:
        # else X has shape (n, 0) and the failure comes late, from the folds or the fit
        raise ValueError(f"{path}: no feature column: the CSV has only the target column "
                         f"{target!r}; add the sequence's time steps as columns beside it")
    uneven = next((i for i, row in enumerate(rows[1:]) if len(row) != len(header)), None)
    if uneven is not None:  # named, as _refuse_row names a row: the header is row 1
        row = rows[uneven + 1]
        quote = next((v for v in row if _LINE_BREAK.search(v)), None)
        raise ValueError(f"{path}: row {uneven + 2} (the header is row 1) has "
                         f"{len(row)} fields{' (an empty line: delete it)' * (not row)}"
                         "; every row must have "
                         f"{len(header)} fields like the header" + (
                             "" if quote is None else
                             f" (its value {_shortened(quote)!r}: {_OPEN_QUOTE})"))
    y = _target_array([row[t] for row in rows[1:]], path)
    X = _feature_array([row[:t] + row[t + 1 :] for row in rows[1:]],
                       header[:t] + header[t + 1 :], path)
    return X, y
