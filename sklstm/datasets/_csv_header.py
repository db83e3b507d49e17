"""The header of a CSV dataset file (:mod:`sklstm.datasets._csv` reads its rows): the
target column found, or a header that names no column to read as it refused with the fix."""

from __future__ import annotations

import difflib
import re

__all__ = ["target_column"]


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
    # each name cut too: a wide file of another separator is one name of all the others
    # (20,000 steps separated by ';': a message of 129,000 characters)
    shown = [name if len(name) <= 40 else name[:40] + "..." for name in shown]
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


def _refuse_data_as_header(path, header, target):
    """Refuse a first row of numbers, one of them with a fraction: a sample, not a header
    (a file written without one). Its target named by a value of the row (``--target 0``
    for a label 0) dropped that sample in silence; else the refusal listed its values as
    column names. (Whole numbers are names: pandas writes columns 0, 1, ... so.)"""
    try:
        values = [float(name) for name in header]
    except ValueError:
        return
    if any(not value.is_integer() for value in values):
        raise ValueError(
            f"{path}: the first row ({', '.join(header[:4])}, ...) holds numbers, not "
            f"column names: the CSV has no header row, which must name the target column "
            f"{target!r} and the time steps; add one, e.g. pd.read_csv(path, header=None)"
            ".to_csv(new_path, index=False) names the columns 0, 1, ..., and pass the "
            "target's name")


def _refuse_empty_header(path, header):
    """Refuse a first line without a name: a blank line above the header (a file written
    from a triple-quoted string that starts on a new line) or a row of empty cells, as
    spreadsheets export one above a table. Before, "no target column 'y' (0 columns:
    [])" said neither the line nor the fix."""
    if not any(header):
        raise ValueError(f"{path}: line 1 ({','.join(header)!r}) names no column: the "
                         "header row must be the file's first line; delete the line(s) "
                         "above it")


def _refuse_comment_line(path, header, rows, target):
    """Refuse a first line that starts with ``#`` above the header (``rows``: the
    header row and the rows after it), as the target name missing from it or found in
    a later row shows: a comment, which no CSV reader skips unless told (pandas'
    ``comment='#'``). Before, it was "no target column 'y'" with no hint, or, for a
    comment that named the target, the header read as a sample."""
    if not header or not header[0].startswith("#"):
        return
    below = any(target in (name.strip() for name in row) for row in rows[1:])
    if target in header and not below:  # a column named "#...": a header after all
        return
    raise ValueError(
        f"{path}: line 1 ({','.join(header)!r}) is a comment: lines starting with '#' "
        "are not read as comments, and the header row must be the file's first line; "
        "delete the comment line(s), or convert the file, e.g. pd.read_csv(path, "
        "comment='#').to_csv(new_path, index=False), and pass the new file")


def _refuse_duplicate_names(path, header):
    """Refuse a header naming a column twice (``t0,t0,y``; the target's own name is
    refused before): a column repeated by a join or a paste, which pandas reads as
    ``t0`` and ``t0.1``, and which read by position was a time step twice, silently."""
    seen = {}
    for j, name in enumerate(header):
        seen.setdefault(name, []).append(j + 1)
    twice = {name: columns for name, columns in seen.items() if len(columns) > 1}
    if twice:
        first = next(iter(twice))
        names = "; ".join(f"{name!r} (columns {', '.join(map(str, columns[:3]))}"
                          f"{', ...' * (len(columns) > 3)})"
                          for name, columns in list(twice.items())[:5])
        raise ValueError(
            f"{path}: the header names {len(twice)} column name(s) more than once: "
            f"{names}{'; ...' * (len(twice) > 5)}. Each time step needs a name of its "
            f"own (pandas would read the second {first!r} as {first + '.1'!r}): drop the "
            "repeated columns if they repeat data, else rename them.")


def _refuse_target_of_another_type(path, header, target):
    """Refuse a ``target`` that is no str: an int for a header of numbers (``0,1,2``, as
    the advice of :func:`_refuse_data_as_header` writes it) was matched against the
    names by difflib, whose bare "'int' object is not iterable" named neither the
    parameter nor the fix. Not read as the column's position or name: a header's
    names are text, and ``2`` might mean either."""
    if isinstance(target, str):
        return
    name = str(target)
    hint = f"; for the column named {name!r}, pass target={name!r}" if name in header else ""
    raise TypeError(f"{path}: target must be the name of the target column, a str such as "
                    f"'y' or 'label'; got {type(target).__name__} {target!r}{hint}")


def target_column(path, header, head, target):
    """The index of the column ``target`` in ``header``, or the refusal of a header
    that names no column to read as it (``head``: the header row and the rows after it
    that a refusal quotes), or of a ``target`` that is no str (a TypeError)."""
    _refuse_target_of_another_type(path, header, target)
    _refuse_empty_header(path, header)
    _refuse_data_as_header(path, header, target)
    _refuse_comment_line(path, header, head, target)
    if target not in header:
        _refuse_missing_target(path, header, head, target)
    if header.count(target) > 1:
        # the first would be the target and the others sequence columns, silently
        raise ValueError(f"{path}: {header.count(target)} columns are named {target!r}; "
                         "rename the others, so that the target column's name is unique")
    _refuse_unnamed_columns(path, header)
    _refuse_duplicate_names(path, header)
    if len(header) == 1:
        # else X has shape (n, 0) and the failure comes late, from the folds or the fit
        raise ValueError(f"{path}: no feature column: the CSV has only the target column "
                         f"{target!r}; add the sequence's time steps as columns beside it")
    return header.index(target)
