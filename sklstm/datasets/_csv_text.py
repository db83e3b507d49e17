"""The text side of reading a CSV dataset file (:mod:`sklstm.datasets._csv` reads its
values): its encoding, told when wrong, a file that holds no text refused, and its rows
read one at a time."""

from __future__ import annotations

import codecs
import csv
import re

__all__ = ["OPEN_QUOTE", "TextColumn", "csv_rows"]

#: Why a value holds a line break, which only a quoted field holds.
OPEN_QUOTE = ("a value cannot span lines: a quote (\") left open joins the lines after it "
              "into one value; close the quote or remove it")


class TextColumn:
    """The values of one CSV column as read (a list's ``append``, ``len`` and
    iteration), kept compactly: each ``chunk`` values as one string, joined by NUL,
    which no value holds (:func:`csv_rows` refuses it). As a list of strings, a value
    took some 60 bytes beyond its text: a float target's, twice a 10-step float32 X."""

    def __init__(self, chunk=4096):
        self.chunk, self.parts, self.pending, self.n = chunk, [], [], 0

    def append(self, value):
        self.pending.append(value)
        self.n += 1
        if len(self.pending) == self.chunk:
            self.parts.append("\0".join(self.pending))
            self.pending = []

    def __len__(self):
        return self.n

    def __iter__(self):
        for part in self.parts:
            yield from part.split("\0")
        yield from self.pending


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


def _one_byte_encoding(path):
    """The one-byte encoding to advise: ``cp1252`` for a file holding bytes 0x80-0x9F
    that cp1252 reads (what Excel on Windows saves as "CSV": a curly apostrophe, a dash,
    the euro sign), else ``latin-1``. Read as latin-1, the advice for all before, those
    bytes became invisible control characters, silently: "Don't" with a curly apostrophe
    was the label ``'Don\\x92t'``."""
    decoder, c1 = codecs.getincrementaldecoder("cp1252")(), False
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                decoder.decode(chunk)
                c1 = c1 or re.search(rb"[\x80-\x9f]", chunk) is not None
    except UnicodeDecodeError:  # (0x81, 0x8d, 0x8f, 0x90, 0x9d: no cp1252 text)
        return "latin-1"
    return "cp1252" if c1 else "latin-1"


def _long_value_hint(line, one_line):
    """What a value beyond csv's field limit (131072 characters) is: a quote left open,
    whose value spans lines (``one_line`` False) or may (a quote on the ``line``), else
    a line with no comma in it, mostly a file of another separator (a wide spreadsheet
    export with ``;``), which the advice on quotes misled."""
    if not one_line or '"' in line:
        return f"; {OPEN_QUOTE}"
    sep = next((sep for sep in (";", "\t", "|") if sep in line), None)
    hint = "" if sep is None else (
        f"; the file looks separated by {sep!r}, and CSV files are read as comma-separated: "
        f"convert it, e.g. pd.read_csv(path, sep={sep!r}).to_csv(new_path, index=False) "
        "(with decimal=',' for numbers written 0,5)")
    return f"; a line holds more than that without a comma to separate values{hint}"


def _lines_without_nul(lines, path, encoding, last):
    """``lines``, refused (:func:`_refuse_nul`) at the first that holds a NUL; the
    latest one kept as ``last[0]``."""
    for number, line in enumerate(lines, 1):
        if "\0" in line:
            _refuse_nul(path, number, encoding)
        last[0] = line
        yield line


def _refuse_quote_open_at_end(path, line):
    """Refuse a file whose last ``line``, without a line break (a file cut short ends
    so), ends inside a quoted value: Python's csv module gave the value read so far, so a
    copy or download cut short in a quoted label (``"New York, NY``) had it read as a
    label of its own (``New Yo``), silently. (A quote opened on an earlier line holds
    a line break, which :mod:`sklstm.datasets._csv` refuses by its row.)"""
    if line.endswith(("\n", "\r")):
        return
    try:  # the line alone, strictly: only its own quotes can be open at its end
        next(csv.reader([line], strict=True), None)
    except csv.Error as exc:
        if "unexpected end of data" not in str(exc):  # ("ab"c: read as abc, as before)
            return
        shown = line if len(line) <= 40 else "..." + line[-40:]
        raise ValueError(f"{path}: the file ends inside a quoted value: its last line "
                         f"({shown!r}) opens a quote (\") that is never closed. The file "
                         "was cut short (copy or download it again), or the quote is left "
                         "open: close it or remove it") from None


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


def csv_rows(path, encoding):
    """The rows of the CSV file at ``path`` in ``encoding``, one at a time (the caller
    keeps what it needs of each: a list of all rows held the whole file as Python
    strings, 26 times its float32 array). A file that cannot be read as CSV text is
    refused with a ValueError naming the fix (a TypeError for an ``encoding`` that is no
    string), when the generator reaches the fault."""
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
        last, lines, before = [""], 0, 0  # (the last line; lines read by each row)
        with open(path, newline="", encoding="utf-8-sig" if codec == "utf-8" else codec) as f:
            reader = csv.reader(_lines_without_nul(f, path, encoding, last))
            for row in reader:
                yield row
                lines, before = reader.line_num, lines
        if lines - before == 1:  # (a row of more lines holds a line break, refused by it)
            _refuse_quote_open_at_end(path, last[0])
    except LookupError:  # a codec of bytes to bytes (base64, zlib): open's bare error
        raise ValueError(f"{encoding!r} is no text encoding; use e.g. 'utf-8' or "
                         "'latin-1'") from None
    except UnicodeError as exc:
        # a decoding error names its byte; others (UTF-16 without its byte-order mark:
        # "UTF-16 stream does not start with BOM", bare before) say what they found
        where = (f"byte {exc.object[exc.start]:#04x} at position {exc.start}"
                 if isinstance(exc, UnicodeDecodeError) else str(exc))
        guess = _guessed_encoding(path) or (
            "utf-8" if codec != "utf-8" and _is_utf8(path) else _one_byte_encoding(path))
        # the file ends inside a character (a download cut short in an "é"): latin-1,
        # the one advice before, read such a file in silence, its accents garbled
        if getattr(exc, "reason", None) in ("unexpected end of data", "truncated data"):
            where = (f"it ends inside a character, its last bytes "
                     f"{exc.object[exc.start:exc.end]!r}: it was cut short, so copy or "
                     "download it again, or it is in another encoding")
        raise ValueError(
            f"{path}: the CSV is not valid {encoding} ({where}); pass the file's encoding, "
            f"e.g. --encoding {guess} on the command line or load_dataset(path, "
            f"encoding='{guess}')"
        ) from None
    except csv.Error as exc:
        # a value of 131072 characters is no number or label: a quote left open, or a
        # line without commas; a row of one line (as read so far) is no quote spanning lines
        hint = (_long_value_hint(last[0], reader.line_num - lines == 1)
                if "field larger than field limit" in str(exc) else "")
        raise ValueError(f"{path}: not a readable CSV file ({exc}){hint}") from None
