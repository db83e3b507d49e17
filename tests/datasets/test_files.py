"""Tests for load_dataset on CSV files: targets kept exactly, bad values and rows refused by
row."""

import io
import os
import re

import numpy as np
import pandas as pd
import pytest

from sklstm.cli import main
from sklstm.datasets import load_dataset

posix = pytest.mark.skipif(os.name != "posix", reason="needs POSIX pipes, devices and links")


def _csv(tmp_path, targets, t1=None):
    """A CSV of sequences ``0.1, t1`` (``t1`` 0.2 on every row unless given) and ``targets``."""
    t1 = ["0.2"] * len(targets) if t1 is None else t1
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,label\n" + "".join(f"0.1,{v},{t}\n"
                                              for v, t in zip(t1, targets, strict=True)))
    return path


@pytest.mark.parametrize(("targets", "expected", "dtype"), [
    (["9007199254740993", "9007199254740992"], [9007199254740993, 9007199254740992], np.int64),
    (["9007199254740993.0", "-2"], [9007199254740993, -2], np.int64),
    (["1e20", "2"], [1e20, 2.0], np.float64),
    (["00501", "02134"], ["00501", "02134"], np.str_),
    (["99999999999999999999", "99999999999999999998"],
     ["99999999999999999999", "99999999999999999998"], np.str_),
], ids=["above-2**53", "whole-float-above-2**53", "beyond-int64", "leading-zeros",
        "beyond-float64-precision"])
def test_csv_targets_are_kept_exactly(targets, expected, dtype, tmp_path, recwarn):
    _, y = load_dataset(_csv(tmp_path, targets), target="label")
    assert y.dtype.type is dtype
    assert y.tolist() == expected
    assert not recwarn.list  # no numpy cast warning either


@pytest.mark.parametrize(("targets", "row", "value", "more"), [
    (["1", "inf"], 3, "inf", ""),
    (["-Infinity", "0.5"], 2, "-Infinity", ""),
    (["nan", "1", "NaN", "nan"], 2, "nan", " (and 2 more such rows)"),
    (["1", "NA", "2"], 3, "NA", ""),
    (["1e400", "1"], 2, "1e400", ""),
    (["1", " ", "2"], 3, " ", ""),
], ids=["inf", "-Infinity", "nan", "NA", "beyond-float64", "empty"])
def test_csv_target_that_is_no_finite_number_is_refused_by_row(targets, row, value, more,
                                                               tmp_path):
    _refused_row(tmp_path, targets, f"row {row} (the header is row 1) has the target "
                 f"{value!r}{more}: ")


def _refused_row(tmp_path, targets, start, t1=None):
    """The message of load_dataset on a CSV of ``targets`` (and ``t1``, see _csv): after
    the path, ``start``; and it says to drop the row."""
    path = _csv(tmp_path, targets, t1)
    with pytest.raises(ValueError) as info:
        load_dataset(path, target="label")
    message = str(info.value)
    assert message.startswith(f"{path}: {start}")
    assert "drop the row" in message
    return message


MISSING = "a sequence value is missing; fill it in or drop the row"
NOT_NUMERIC = "the sequence columns must be numeric, a finite float32 number in every cell; "


@pytest.mark.parametrize(("t1", "row", "value", "more", "problem"), [
    (["0.2", ""], 3, "", "", MISSING),
    (["NA", "0.2"], 2, "NA", "", MISSING),
    (["nan", "NaN"], 2, "nan", " (and 1 more such row)", MISSING),
    (["0.2", "?"], 3, "?", "", NOT_NUMERIC),
    (["inf", "0.2"], 2, "inf", "", NOT_NUMERIC),
    (["0.2", "1e39"], 3, "1e39", "", NOT_NUMERIC),
], ids=["empty", "NA", "nan", "question-mark", "inf", "beyond-float32"])
def test_csv_sequence_cell_that_is_no_finite_number_is_refused_by_row_and_column(
        t1, row, value, more, problem, tmp_path):
    # numpy's "could not convert string to float: ''" named no row or column before
    _refused_row(tmp_path, ["0", "1"], f"row {row} (the header is row 1), column 't1', has "
                 f"the value {value!r}{more}: {problem}", t1=t1)


def test_csv_of_only_the_target_column_is_refused(tmp_path):
    # X of shape (n, 0) failed only later, in the folds or the fit
    path = tmp_path / "data.csv"
    path.write_text("label\n0\n1\n0\n1\n")
    with pytest.raises(ValueError, match=r"data\.csv: no feature column: the CSV has only the "
                                         "target column 'label'; add the sequence's"):
        load_dataset(path, target="label")


def test_sklstm_tune_refuses_an_infinite_csv_target(tmp_path, capsys):
    path = _csv(tmp_path, ["0", "1"] * 4 + ["inf"])
    code = main(["tune", str(path), "--target", "label", "--storage",
                 str(tmp_path / "s.journal"), "--n-trials", "1", "--cv", "2", "--no-progress"])
    assert code == 2
    assert "row 10 (the header is row 1) has the target 'inf'" in capsys.readouterr().err
    assert not (tmp_path / "s.journal").exists()


@pytest.mark.parametrize(("targets", "row", "value", "more", "kinds"), [
    (["0", "1", "cat"], 4, "cat", "", "it is text, but 2 other target(s) are numbers"),
    (["cat", "0", "1"], 2, "cat", "", "it is text, but 2 other target(s) are numbers"),
    (["0.5", "x", "1.5", "y", "2.5"], 3, "x", " (and 1 more such row)",
     "it is text, but 3 other target(s) are numbers"),
    (["cat", "dog", "1", "NA"], 4, "1", "", "it reads as a number, but 2 other target(s) "
                                            "are text"),
    (["cat", "1"], 3, "1", "", "it reads as a number, but 1 other target(s) are text"),
], ids=["text-among-numbers", "text-first", "measured-values", "number-among-labels", "tie"])
def test_csv_target_of_numbers_and_text_is_refused_by_row(targets, row, value, more, kinds,
                                                          tmp_path):
    # silently string class names before: "1" a class beside "cat", a regression unreadable
    message = _refused_row(tmp_path, targets, f"row {row} (the header is row 1) has the "
                           f"target {value!r}{more}: {kinds}; ")
    assert "all text (e.g. 'c0', 'c1', 'cat') or all numbers" in message


@pytest.mark.parametrize(("targets", "expected"), [
    (["cat", "dog", "NA"], ["cat", "dog", "NA"]),  # text with a marker: class names
    (["02134", "10001", "K1A0B1"], ["02134", "10001", "K1A0B1"]),  # codes: all text
    (["1", "2", "007"], ["1", "2", "007"]),
], ids=["labels-and-marker", "codes-and-text", "codes-and-numbers"])
def test_csv_target_of_one_kind_is_kept_as_written(targets, expected, tmp_path):
    _, y = load_dataset(_csv(tmp_path, targets), target="label")
    assert y.tolist() == expected


@pytest.mark.parametrize("end", ["\n\n", " \n", ",,\n , ,\n"],
                         ids=["blank-lines", "spaces", "empty-cells"])
def test_csv_blank_lines_at_the_end_are_ignored(tmp_path, end):
    # a line of spaces was "row 4 has 1 fields", and a spreadsheet's rows of empty cells
    # (",,") "row 4 has the target ''": neither holds data
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,label\n0.1,0.2,a\n0.3,0.4,b\n" + end)
    X, y = load_dataset(path, target="label")
    np.testing.assert_array_equal(X, np.array([[0.1, 0.2], [0.3, 0.4]], dtype=np.float32))
    assert y.tolist() == ["a", "b"]


@pytest.mark.parametrize(("text", "row", "fields"), [
    ("0.1,0.2,a\n\n0.3,0.4,b\n", 3, r"0 fields \(an empty line: delete it\)"),
    ("0.1,0.2,a\n0.3,b\n", 3, "2 fields"),
], ids=["blank-line", "missing-field"])
def test_csv_row_of_another_number_of_fields_is_refused_by_row(tmp_path, text, row, fields):
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,label\n" + text)
    with pytest.raises(ValueError, match=rf"data\.csv: row {row} \(the header is row 1\) has "
                                         rf"{fields}; every row must have 3 fields"):
        load_dataset(path, target="label")


@pytest.mark.parametrize("sep", [";", "\t"])
def test_csv_of_another_separator_is_told_how_to_convert(tmp_path, sep):
    # "no target column 'label' (columns: ['t0;t1;label'])" alone before
    path = tmp_path / "data.csv"
    path.write_text(sep.join(["t0", "t1", "label"]) + "\n" + sep.join(["0,1", "0,2", "1"]))
    quoted = re.escape(repr(sep))
    with pytest.raises(ValueError, match=rf"no target column 'label' .*; the file looks "
                                         rf"separated by {quoted}.*sep={quoted}"):
        load_dataset(path, target="label")


@pytest.mark.parametrize(("text", "match"), [
    ('t0,label\n0.1,"a\n0.2,b\n', r"row 2 \(the header is row 1\) has the target "
                                 r"'a\\n0\.2,b\\n': a value cannot span lines"),
    ('t0,label\n"0.1,a\n0.2,b\n', r"row 2 \(the header is row 1\) has 1 fields; .* \(its "
                                 r"value '0\.1,a\\n0\.2,b\\n': a value cannot span lines"),
    ('t0,label\n0.1,"a\n' + "0.2,b\n" * 30000,
     r"field larger than field limit \(131072\)\); a value cannot span lines"),
], ids=["in-the-target", "in-a-sequence-cell", "beyond-csv-s-field-limit"])
def test_csv_with_a_quote_left_open_is_refused(tmp_path, text, match):
    # in the target, the rows after it were one class label, silently: 1 sample of 2
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match + r'.*a quote \(\"\) left open joins'):
        load_dataset(path, target="label")


def test_csv_with_two_columns_named_as_the_target_is_refused(tmp_path):
    # the first was the target and the second a time step of the sequences, silently
    path = tmp_path / "data.csv"
    path.write_text("label,t0,label\n1,0.5,0\n0,0.25,1\n")
    with pytest.raises(ValueError, match=r"data\.csv: 2 columns are named 'label'; rename"):
        load_dataset(path, target="label")


@pytest.mark.parametrize("round_trip", [False, True], ids=["to_csv", "read_csv-to_csv"])
def test_csv_with_an_unnamed_index_column_is_refused(tmp_path, round_trip):
    # pandas' to_csv writes the row index, unnamed (named "Unnamed: 0" once read back and
    # written again): it was read as the first time step of every sequence, silently
    path = tmp_path / "data.csv"
    pd.DataFrame({"t0": [0.5, 0.25], "t1": [0.1, 0.2], "label": [1, 0]}).to_csv(path)
    if round_trip:
        pd.read_csv(path).to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"data\.csv: header column\(s\) 1 \('(Unnamed: 0)?'\) "
                                         r"have no name.*df\.to_csv\(path, index=False\)"):
        load_dataset(path, target="label")


def test_a_directory_is_no_dataset_file(tmp_path):
    # "dataset file ... does not exist" for a directory that does
    with pytest.raises(ValueError, match=r"is a directory, not a dataset file; pass an \.npz "
                                         r"or \.csv file \(a SequenceStore directory"):
        load_dataset(tmp_path)


@posix
@pytest.mark.parametrize(("make", "kind"), [
    (lambda path: os.mkfifo(path), "a named pipe (FIFO)"),
    (lambda path: os.symlink(os.devnull, path), "a character device"),
], ids=["fifo", "link-to-dev-null"])
def test_a_path_that_is_no_regular_file_says_what_it_is(tmp_path, make, kind):
    # "dataset file ... does not exist" for a path that exists
    path = tmp_path / "data.csv"
    make(path)
    with pytest.raises(ValueError, match=rf"data\.csv' is {re.escape(kind)}, not a dataset "
                                         r"file; save the data to an \.npz or \.csv file"):
        load_dataset(path)


@posix
def test_a_broken_link_names_what_it_points_to(tmp_path):
    (tmp_path / "data.npz").symlink_to(tmp_path / "moved.npz")
    with pytest.raises(ValueError, match=r"data\.npz' is a symbolic link to '.*moved\.npz', "
                                         "which does not exist"):
        load_dataset(tmp_path / "data.npz")


@pytest.mark.parametrize("name", ["data.npz", "data.csv"])
def test_an_unreadable_file_is_refused_as_unreadable(tmp_path, monkeypatch, name):
    # an .npz without read permission was "not an .npz file (no zip archive)", a CSV a
    # bare PermissionError; open is replaced, as root may read any file
    np.savez(tmp_path / "data.npz", X=np.zeros((2, 3)), y=np.zeros(2))
    _csv(tmp_path, ["a", "b"])

    def denied(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("sklstm.datasets._files.open", denied, raising=False)
    with pytest.raises(ValueError, match=rf"{name}' cannot be read \(Permission denied\); "
                                         r"give yourself read permission"):
        load_dataset(tmp_path / name, target="label")


def test_a_path_from_the_home_directory_is_read(tmp_path, monkeypatch):
    # "dataset file '~/data.csv' does not exist", where pandas.read_csv reads it
    _csv(tmp_path, ["a", "b"])
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))  # (Windows' home)
    X, y = load_dataset("~/data.csv", target="label")
    assert X.shape == (2, 2) and y.tolist() == ["a", "b"]


def test_a_target_other_than_y_is_refused_for_an_npz_file(tmp_path):
    # ignored in silence: the file's array y was loaded as the targets, not its "label"
    path = tmp_path / "data.npz"
    np.savez(path, X=np.zeros((2, 3)), y=np.zeros(2), label=np.ones(2))
    with pytest.raises(ValueError, match=r"data\.npz: target='label' names a CSV column, "
                                         r"but the targets of an \.npz file are its array 'y'"):
        load_dataset(path, target="label")
    assert load_dataset(path, target=np.str_("y"))[1].tolist() == [0, 0]


def test_an_encoding_is_refused_for_an_npz_file(tmp_path):
    # ignored in silence, an unknown one too: an .npz file holds arrays, not text
    path = tmp_path / "data.npz"
    np.savez(path, X=np.zeros((2, 3)), y=np.zeros(2))
    with pytest.raises(ValueError, match=r"data\.npz: encoding='latin-1' is the text "
                                         r"encoding of a CSV file, but an \.npz file"):
        load_dataset(path, encoding="latin-1")
    assert load_dataset(path, encoding="utf-8")[0].shape == (2, 3)


def test_bytes_path_is_read(tmp_path):
    # its extension, b".csv", matched no format: "unsupported dataset format b'.csv'"
    X, y = load_dataset(bytes(_csv(tmp_path, ["a", "b"])), target="label")
    assert X.shape == (2, 2) and y.tolist() == ["a", "b"]


def test_csv_class_labels_lose_surrounding_spaces(tmp_path):
    # kept as written, "cat" and "cat " were two classes (and ", dog" the class " dog")
    path = tmp_path / "data.csv"
    path.write_text("t0,label\n0.1,cat\n0.2,cat \n0.3, dog\n0.4,dog\n")
    _, y = load_dataset(path, target="label")
    assert y.tolist() == ["cat", "cat", "dog", "dog"]


@pytest.mark.parametrize(("encoding", "error", "match"), [
    ("utf-16", ValueError, r"data\.csv: the CSV is not valid utf-16 \(UTF-16 stream does "
                           r"not start with BOM\); pass the file's encoding"),
    ("base64", ValueError, r"^'base64' is no text encoding; use e\.g\. 'utf-8'"),
    (None, TypeError, r"^encoding must be the name of the CSV's text encoding, such as "
                     r"'utf-8' or 'latin-1'; got None$"),
], ids=["utf-16-without-bom", "bytes-codec", "none"])
def test_csv_in_another_encoding_is_refused_in_words(tmp_path, encoding, error, match):
    # bare before: UnicodeError "UTF-16 stream does not start with BOM" (only
    # UnicodeDecodeError was put in words), LookupError "'base64' is not a text encoding"
    # and TypeError "lookup() argument must be str, not None"
    with pytest.raises(error, match=match):
        load_dataset(_csv(tmp_path, ["a", "b"]), target="label", encoding=encoding)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_csv_with_a_byte_order_mark_is_told_its_encoding(tmp_path, encoding):
    # "e.g. --encoding latin-1", which read the header as NUL characters: "no target column"
    path = tmp_path / "data.csv"
    path.write_text("t0,label\n0.1,a\n0.2,b\n", encoding=encoding)  # with its mark
    with pytest.raises(ValueError, match=rf"not valid utf-8 .*--encoding {encoding} on the "
                                         rf"command line or .*encoding='{encoding}'\)$"):
        load_dataset(path, target="label")
    assert load_dataset(path, target="label", encoding=encoding)[1].tolist() == ["a", "b"]


@pytest.mark.parametrize(("make", "fix"), [
    (lambda path: open(path, "rb"),
     r"BufferedReader; for an open file, pass its name: load_dataset\('.*data\.csv'\)$"),
    (lambda path: io.StringIO(path.read_text()),
     r"StringIO; write the data to an \.npz or \.csv file"),
    (lambda path: None, r"NoneType$"),
], ids=["open-file", "buffer", "none"])
def test_a_path_that_is_no_path_is_refused_naming_the_fix(tmp_path, make, fix):
    # os.fsdecode's "expected str, bytes or os.PathLike object, not BufferedReader" before
    source = make(_csv(tmp_path, ["a", "b"]))
    try:
        with pytest.raises(TypeError, match=r"^path must be the path of an \.npz or \.csv "
                                            r"file, a str or pathlib\.Path; got " + fix):
            load_dataset(source, target="label")
    finally:
        if hasattr(source, "close"):
            source.close()
