"""Read a CSV dataset file: a header row, one row per sample, the target in a named
column and the other columns the time steps of a univariate sequence, giving ``X`` of
shape ``(n, T)`` (:func:`load_csv`, which :func:`sklstm.datasets.load_dataset` calls).
Every refusal names the file, the row or column, and the fix."""

from __future__ import annotations

import contextlib
import itertools
import re
from decimal import Decimal, InvalidOperation

import numpy as np

from ._csv_header import target_column
from ._csv_text import OPEN_QUOTE, TextColumn, csv_rows

__all__ = ["csv_chunks", "load_csv"]


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
    _refuse_at(path, *rows[0], len(rows), problem, column)


def _refuse_at(path, first, value, count, problem, column=None):
    """Refuse the CSV at sample ``first``, its ``value`` the first of ``count`` rows
    with ``problem``; ``column`` as for :func:`_refuse_row`."""
    extra = count - 1
    more = f" (and {extra} more such row{'s' * (extra > 1)})" if extra else ""
    what = "the target" if column is None else "the value"
    at = "" if column is None else f", column {column!r},"
    # the header is CSV row 1, so sample i (from 0) is row i + 2, as a spreadsheet shows it
    raise ValueError(f"{path}: row {first + 2} (the header is row 1){at} has {what} "
                     f"{value!r}{more}: {problem}")


def _is_code(value):
    """A whole number written with a leading zero (``00501``): a code (zip code, id), which
    as a number would lose its zeros."""
    return re.fullmatch(r"\s*[+-]?0[0-9]+\s*", value) is not None


def _refuse_mixed_kinds(path, kinds):
    """Refuse a target column of numbers and text: a regression needs numbers, and class
    labels of both kinds are almost always a data error (a stray value, a shifted column),
    which as strings would make ``"1"`` a class beside ``"cat"``. ``kinds``: "number" and
    "text" (missing-value markers are of neither), each ``[count, first (i, value)]``."""
    if len(kinds) < 2:
        return
    # the odd ones out: the rarer kind; of as many of each, the kind the first row is not
    odd, usual = sorted(kinds, key=lambda kind: (kinds[kind][0], -kinds[kind][1][0]))
    it, others = ("reads as a number", "text") if odd == "number" else ("is text", "numbers")
    _refuse_at(path, *kinds[odd][1], kinds[odd][0], (
        f"it {it}, but {kinds[usual][0]} other target(s) are {others}; a column of both "
        "is almost always a data error. Correct the value or drop the row: a regression "
        "target is a number on every row, and class labels are all text (e.g. 'c0', 'c1', "
        "'cat') or all numbers"))


#: A line break inside a value, which only a quoted field holds.
_LINE_BREAK = re.compile(r"[\r\n]")


def _shortened(value, size=40):
    """``value`` for a message: what a quote left open swallowed may be the whole file."""
    return value if len(value) <= size else value[:size] + "..."


class _Tally:
    """Rows of one kind, counted, and the first of them as ``(sample, value)``."""

    def __init__(self):
        self.count, self.first = 0, None

    def add(self, i, value):
        self.count += 1
        if self.first is None:
            self.first = (i, value)


def _target_array(values, path):
    """The CSV target column as an array, its values kept exactly (see load_dataset)."""
    blank = [(i, v) for i, v in enumerate(values) if not v.strip()]
    if blank:
        _refuse_row(path, blank, "a target cannot be empty; fill it in or drop the row")
    # a quote left open: the rows after it were one class label, silently
    broken = [(i, _shortened(v)) for i, v in enumerate(values) if _LINE_BREAK.search(v)]
    if broken:
        _refuse_row(path, broken, OPEN_QUOTE)

    def stripped():
        # surrounding spaces are no part of a value (as in the header and the sequence
        # cells): kept, "cat" and "cat " were two classes, and ", dog" gave " dog".
        # Stripped as read: a list of them held some 60 bytes a row (a float target's
        # text: twice a float32 X of 10 steps)
        return (v.strip() for v in values)

    def texts():  # (np.asarray of a list of them: this dtype, U of the longest)
        return np.fromiter(stripped(), dtype=f"U{width}", count=len(values))

    # one pass, keeping of each value its float64 and int64 and what the choice of y's
    # type needs: a Decimal and list entries of each peaked at 200 bytes a row, 25
    # times y's int64 (more than a float32 X of 50 steps)
    floats, ints = np.empty(len(values)), np.zeros(len(values), dtype=np.int64)
    kinds = {"number": _Tally(), "text": _Tally()}
    bad = _Tally()  # no finite number within the float64 range, in a column of numbers
    code = fraction = beyond_int64 = False
    width = 1
    for i, v in enumerate(stripped()):
        width = max(width, len(v))
        code = code or _is_code(v)
        n = _as_number(v)
        if n is None and v.lower() in _MISSING_MARKERS:
            bad.add(i, v)
            continue
        kinds["text" if n is None else "number"].add(i, v)
        if n is None:
            continue
        if not n.is_finite() or n.copy_abs() > _FLOAT64_MAX:
            bad.add(i, v)
            continue
        floats[i] = float(n)  # (the nearest float64, as any reader gives)
        if n != n.to_integral_value():
            fraction = True
        elif _INT64.min <= n <= _INT64.max:
            ints[i] = int(n)  # exactly, not through float64
        else:
            beyond_int64 = True
    if not code:  # a column with a code (``00501``) holds codes, text all of it
        _refuse_mixed_kinds(path, {kind: [t.count, t.first] for kind, t in kinds.items()
                                   if t.count})
    if kinds["text"].count or not kinds["number"].count:
        return texts()  # class names, as written
    if bad.count:
        _refuse_at(path, *bad.first, bad.count, "a numeric target must be a finite number "
                   "within the float64 range; fill in the value or drop the row")
    if code:
        return texts()
    if fraction:
        return floats  # measured values: the nearest float64 is what any reader gives
    if not beyond_int64:
        return ints
    if all(Decimal(f) == Decimal(v) for f, v in zip(floats.tolist(), stripped(), strict=True)):
        return floats  # whole numbers beyond int64 that float64 holds exactly (1e20)
    return texts()  # beyond int64 and float64: only the text keeps them apart


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


#: Rows of text turned into float32 at a time: as Python strings, a row's text takes
#: some 26 times its float32 values (a list of all rows peaked at that, measured)...
_CHUNK_ROWS = 4096
#: ... and cells, fewer rows for wide files: 4096 rows of 200 steps held 57 MiB of text,
#: 3.6 times their float32 X (20,000 such rows peaked at 4.8 times X, measured).
_CHUNK_CELLS = 4096 * 16


class _SequenceColumns:
    """The CSV sequence columns as float32 ``(n, T)``, converted :data:`_CHUNK_ROWS`
    rows (:data:`_CHUNK_CELLS` cells) at a time into one array grown in place, or each
    chunk given to ``sink`` (a store written as the file is read). A cell that is no
    finite number is refused naming its row and column, as a target is: numpy's "could
    not convert string to float: ''" named neither, and ``nan`` only failed later, in
    the fit. The refusal comes from :meth:`array`, after the whole file, so that it
    counts the rows."""

    def __init__(self, names, sink=None):
        self.names, self.sink = names, sink
        self.rows = max(1, min(_CHUNK_ROWS, _CHUNK_CELLS // len(names)))
        self.X = np.empty((0, len(names)), dtype=np.float32)
        self.n = 0  # rows converted (into X, until a bad one)
        self.text = []  # rows of text not converted yet
        self.bad = None  # (sample, value, column, cells) of the first bad cell
        self.n_bad = 0  # rows with a bad cell

    def append(self, cells):
        self.text.append(cells)
        if len(self.text) == self.rows:
            self._convert()

    def _convert(self):
        cells, self.text = self.text, []
        start, self.n = self.n, self.n + len(cells)
        try:  # (numpy reads each cell as before, when the file was converted whole)
            with np.errstate(over="ignore"):  # an overflow is an inf, refused below
                chunk = np.asarray(cells, dtype=np.float32)
            if np.isfinite(chunk).all():
                if self.bad is None:
                    self._store(start, chunk)
                return
        except ValueError:
            pass
        self.X = None  # refused: no array is returned
        for i, row in enumerate(cells, start):
            j = next((j for j, v in enumerate(row) if not _is_finite32(v)), None)
            if j is not None:
                self.n_bad += 1
                if self.bad is None:
                    self.bad = (i, row[j], self.names[j], row)

    def _store(self, start, chunk):
        if self.sink is not None:
            self.sink(chunk)
            return
        if self.n > len(self.X):
            # grown by half, in place: realloc moves no page of a large array on Linux,
            # and a copy through a new array held both, twice the data
            self.X.resize((max(self.n, len(self.X) * 3 // 2), len(self.names)),
                          refcheck=False)  # (no view of X exists until array returns it)
        self.X[start:self.n] = chunk

    def array(self, path):
        """The float32 ``(n, T)`` array of every row appended (None where a sink took
        them), or the refusal."""
        if self.text:
            self._convert()
        if self.bad is None:
            if self.sink is not None:
                return None
            self.X.resize((self.n, len(self.names)), refcheck=False)
            return self.X
        first, value, column, row = self.bad
        if _is_missing(value):
            problem = "a sequence value is missing; fill it in or drop the row"
            if not row[-1].strip() and any(v.strip() for v in row):
                # empty cells that end the row: the layout of sequences of different
                # lengths, which only a store holds (an .npz refuses ragged arrays)
                problem += (", or, if the sequences have different lengths (empty cells "
                            "end the shorter ones), write each at its own length, as an "
                            "(n_timesteps, 1) array, to a sklstm.data.SequenceStore and "
                            "pass its directory")
        else:
            problem = ("the sequence columns must be numeric, a finite float32 number in "
                       "every cell; correct the value (fill it in if it marks a missing "
                       "one) or drop the row" + _comma_hint(value))
        _refuse_at(path, first, value, self.n_bad, problem, column=column)


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


def _has_value(row):
    return any(value.strip() for value in row)


def _refuse_no_samples(path):
    raise ValueError(f"{path}: a CSV needs a header row and at least one sample row")


class _Samples:
    """The sample rows of a CSV, taken one at a time: the target column's text, and the
    sequence columns as float32 (:class:`_SequenceColumns`)."""

    def __init__(self, header, t, sink=None):
        self.width, self.t = len(header), t
        self.targets = TextColumn(_CHUNK_ROWS)
        self.sequences = _SequenceColumns(header[:t] + header[t + 1 :], sink)
        # blank lines, as editors and `echo >>` leave, and rows of empty cells (",,,"),
        # as spreadsheets export their formatted but empty rows: no data at the end of
        # the file, so kept until a row with a value follows them
        self.blank = []
        self.n = 0
        self.uneven = None  # (sample, row) of the first row without len(header) fields

    def add(self, row):
        if not _has_value(row):
            self.blank.append(row)
            return
        for blank in self.blank:
            self._take(blank)
        self.blank.clear()
        self._take(row)

    def _take(self, row):
        if self.uneven is None and len(row) != self.width:
            self.uneven, self.targets, self.sequences = (self.n, row), None, None
        self.n += 1
        if self.uneven is None:
            self.targets.append(row[self.t])
            self.sequences.append(row[:self.t] + row[self.t + 1 :])

    def arrays(self, path):
        """``(X, y)``, or the refusal of the first fault of the rows."""
        if not self.n:
            _refuse_no_samples(path)
        if self.uneven is not None:  # named, as _refuse_row names a row: the header is row 1
            sample, row = self.uneven
            quote = next((v for v in row if _LINE_BREAK.search(v)), None)
            raise ValueError(f"{path}: row {sample + 2} (the header is row 1) has "
                             f"{len(row)} fields{' (an empty line: delete it)' * (not row)}"
                             "; every row must have "
                             f"{self.width} fields like the header" + (
                                 "" if quote is None else
                                 f" (its value {_shortened(quote)!r}: {OPEN_QUOTE})"))
        y = _target_array(self.targets, path)
        return self.sequences.array(path), y


def load_csv(path, target, encoding):
    """``(X, y)`` of the CSV file at ``path`` (a readable regular file), ``target`` the
    name of its target column, read in ``encoding``; a ValueError (a TypeError for an
    ``encoding`` that is no string) says what is wrong with the file and how to fix it.

    The file is read a row at a time: host memory holds ``X`` and ``y`` and the text of
    a few thousand rows, not the whole file's. Each refusal comes after the whole file is
    read, so that a fault of its text (its encoding, a NUL) is said first, wherever it is.
    """
    reading = _read(path, target, encoding, None)
    try:
        next(reading)  # (no sink: nothing is yielded)
    except StopIteration as done:
        return done.value
    raise AssertionError("a CSV read into one array yields no chunk")


def csv_chunks(path, target, encoding):
    """The rows of ``X`` that :func:`load_csv` returns, as float32 ``(rows, T)`` chunks
    of :data:`_CHUNK_ROWS` rows (fewer if wide) converted as the file is read (host
    memory: a chunk, and the targets); the generator returns ``y``. A refusal of
    :func:`load_csv` is raised by the generator, after the whole file is read."""
    _, y = yield from _read(path, target, encoding, [])
    return y


def _read(path, target, encoding, pending):
    """Read the CSV: a generator returning ``(X, y)``; with a list ``pending``, the
    chunks of ``X`` are put there as converted, yielded after each row, and X is None."""
    sink = None if pending is None else pending.append
    with contextlib.closing(csv_rows(path, encoding)) as rows:
        head = list(itertools.islice(rows, 3))  # the header, and the rows a refusal quotes
        header = [name.strip() for name in head[0]] if head else []
        try:
            t = target_column(path, header, head, target)
        except ValueError:
            if sum(map(_has_value, itertools.chain(head[1:], rows))):  # (every row read)
                raise
            t = None  # no sample: that is the refusal
        if t is not None:
            samples = _Samples(header, t, sink)
            for row in itertools.chain(head[1:], rows):
                samples.add(row)
                if pending:
                    yield from pending
                    pending.clear()
    if t is None:
        _refuse_no_samples(path)
    X, y = samples.arrays(path)
    if pending:  # (the last chunk, converted by arrays)
        yield from pending
    return X, y
