"""Tests for the CSV reader's advice (sklstm/datasets/_csv.py): a file in UTF-16 or UTF-32
without a byte-order mark, a NUL character, and numbers written with commas are each
refused with the fix, and the fix, followed, reads the file."""

import ast
import re

import pandas as pd
import pytest

from sklstm.datasets import load_dataset

TEXT = "t0,t1,label\n0.5,1.5,a\n1.0,2.0,b\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("read_as", ["utf-8", "latin-1", "utf-16"])
def test_csv_without_a_byte_order_mark_is_told_its_encoding(tmp_path, encoding, read_as):
    # as UTF-8 or latin-1: "no target column 'label' (columns: ['t\x000\x00', ...])";
    # as utf-16 (the mark expected): "e.g. --encoding latin-1", which read it so
    path = tmp_path / "data.csv"
    path.write_bytes(TEXT.encode(encoding))  # the -le and -be codecs write no mark
    with pytest.raises(ValueError, match=rf"--encoding {encoding} on the command line or "
                                         rf"load_dataset\(path, encoding='{encoding}'\)$"):
        load_dataset(path, target="label", encoding=read_as)
    X, y = load_dataset(path, target="label", encoding=encoding)
    assert X.tolist() == [[0.5, 1.5], [1.0, 2.0]] and y.tolist() == ["a", "b"]


def test_csv_with_a_nul_character_is_refused_by_line(tmp_path):
    # read before: the class "a\x00" beside "a", a class of its own
    path = tmp_path / "data.csv"
    path.write_bytes(b"t0,label\n0.1,a\n0.2,a\x00\n0.3,b\n")
    with pytest.raises(ValueError, match=r"data\.csv: line 3 holds a NUL character "
                                         r"\(\\x00\), which no CSV text holds: the file is "
                                         r"damaged or not a text file in utf-8; remove"):
        load_dataset(path, target="label")


def _convert_as_told(message, path, tmp_path):
    """Run the ``pd.read_csv(path, ...).to_csv(new_path, index=False)`` of ``message``."""
    call = re.search(r"pd\.read_csv\(path(?P<args>[^)]*)\)\.to_csv\(new_path, index=False\)",
                     message)
    assert call is not None, message
    kwargs = {name: ast.literal_eval(value)
              for name, value in re.findall(r"(\w+)=('[^']*')", call["args"])}
    new_path = tmp_path / "converted.csv"
    pd.read_csv(path, **kwargs).to_csv(new_path, index=False)
    return new_path


@pytest.mark.parametrize(("text", "told", "values"), [
    ('t0,t1,label\n"1,000.5",1.5,a\n"12,345,678",2.0,b\n', "a thousands separator",
     [[1000.5, 1.5], [12345678.0, 2.0]]),
    ('t0,t1,label\n"0,5",1.5,a\n"-1,25",2.0,b\n', "a decimal comma",
     [[0.5, 1.5], [-1.25, 2.0]]),
    ("t0;t1;label\n0,5;1,5;a\n1,0;2,0;b\n", "separated by ';'",
     [[0.5, 1.5], [1.0, 2.0]]),
], ids=["thousands", "decimal-comma", "semicolons-and-decimal-commas"])
def test_csv_numbers_with_commas_are_told_how_to_convert(tmp_path, text, told, values):
    # the message said "must be numeric" (and for a ";" file sep=';' alone, which kept
    # "0,5" text): the file was refused again after its conversion
    path = tmp_path / "data.csv"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_dataset(path, target="label")
    message = str(info.value)
    assert told in message, message
    X, y = load_dataset(_convert_as_told(message, path, tmp_path), target="label")
    assert X.tolist() == values and y.tolist() == ["a", "b"]


def test_csv_ambiguous_comma_number_names_both_readings(tmp_path):
    # "1,000" is a thousand or one: both conversions are named
    path = tmp_path / "data.csv"
    path.write_text('t0,label\n"1,000",a\n2,b\n')
    with pytest.raises(ValueError, match=r"decimal comma \(or a thousands separator\).*"
                                         r"decimal=','.*thousands=','"):
        load_dataset(path, target="label")


def test_csv_other_text_gets_no_comma_advice(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("t0,label\nabc,a\n2,b\n")
    with pytest.raises(ValueError, match=r"or drop the row$"):
        load_dataset(path, target="label")


@pytest.mark.parametrize(("start", "kind"), [
    (b"PK\x03\x04", r"a zip archive \(an Excel \.xlsx workbook, an \.npz file, \.\.\.\)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", r"an Excel \.xls workbook"),
], ids=["xlsx-or-npz", "xls"])
@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_a_workbook_or_archive_named_csv_is_told_what_it_is(tmp_path, start, kind, encoding):
    # "not valid utf-8 (byte ...); pass --encoding latin-1", which read it as NULs
    path = tmp_path / "data.csv"
    path.write_bytes(start + b"\x00\x01binary\xff" * 10)
    with pytest.raises(ValueError, match=rf"data\.csv: the file is {kind}, not CSV text; "
                                         r"save it as CSV"):
        load_dataset(path, encoding=encoding)


@pytest.mark.parametrize(("header", "close"), [
    ("t0,t1,Y", "Y"), ("t0,t1,labels", "labels"), ("t0,t1,target", None)],
    ids=["case", "typo", "none"])
def test_csv_without_the_target_column_names_the_closest(tmp_path, header, close):
    # "no target column 'y' (columns: [...])": the close name was for the reader to spot
    path = tmp_path / "data.csv"
    path.write_text(f"{header}\n0.1,0.2,a\n0.3,0.4,b\n")
    target = "label" if close == "labels" else "y"
    with pytest.raises(ValueError) as info:
        load_dataset(path, target=target)
    message = str(info.value)
    assert message.startswith(f"{path}: no target column {target!r} (3 columns: "
                              f"{header.split(',')})")
    assert (f"pass its name: --target {close!r} on the command line, or "
            f"load_dataset(path, target={close!r})" in message) == (close is not None)


def test_csv_without_the_target_column_shows_a_long_header_cut(tmp_path):
    # a header of 500 time steps was listed whole: a screenful on one line
    path = tmp_path / "data.csv"
    names = [f"t{i}" for i in range(500)]
    path.write_text(",".join(names) + "\n" + ",".join(["0.1"] * 500) + "\n")
    with pytest.raises(ValueError, match=r"no target column 'y' \(500 columns: \['t0', 't1', "
                                         r"'t2', 't3', 't4', '\.\.\.', 't495', 't496', "
                                         r"'t497', 't498', 't499'\]\)$"):
        load_dataset(path)


@pytest.mark.parametrize(("row", "ragged"), [("0.1,,,a", True), ("0.1,0.2,,a", True),
                                             ("0.1,,0.3,a", False)],
                         ids=["ends-short", "ends-shorter", "gap"])
def test_csv_sequences_of_different_lengths_are_pointed_to_a_store(tmp_path, row, ragged):
    # "a sequence value is missing; fill it in or drop the row": sequences of different
    # lengths can be neither, and only a SequenceStore gives them to sklstm tune
    path = tmp_path / "data.csv"
    path.write_text(f"t0,t1,t2,label\n0.1,0.2,0.3,b\n{row}\n")
    with pytest.raises(ValueError, match=r"row 3 .* a sequence value is missing; fill it in "
                                         r"or drop the row") as info:
        load_dataset(path, target="label")
    assert ("write each at its own length, as an (n_timesteps, 1) array, to a "
            "sklstm.data.SequenceStore and pass its directory" in str(info.value)) == ragged


@pytest.mark.parametrize(("written", "told"), [("utf-8", "utf-8"), ("latin-1", "latin-1")])
def test_csv_read_in_a_wrong_encoding_is_told_a_right_one(tmp_path, written, told):
    # a UTF-8 file read as utf-16 was told "e.g. --encoding latin-1", which read "café"
    # as "cafÃ©" without a word
    path = tmp_path / "data.csv"
    path.write_bytes("t0,label\n0.1,café\n0.2,b\n".encode(written))
    with pytest.raises(ValueError, match=rf"not valid utf-16 .*--encoding {told} on the"):
        load_dataset(path, target="label", encoding="utf-16")
    assert load_dataset(path, target="label", encoding=told)[1].tolist() == ["café", "b"]


def test_a_nul_in_a_file_read_in_its_own_encoding_is_damage(tmp_path):
    # not "it looks utf-16-le: pass --encoding utf-16-le", which it was given
    path = tmp_path / "data.csv"
    path.write_bytes("t0,label\n0.1,a\n0.2,b\x00\n".encode("utf-16-le"))
    with pytest.raises(ValueError, match=r"line 3 holds a NUL character .* the file is "
                                         r"damaged or not a text file in utf-16-le"):
        load_dataset(path, target="label", encoding="utf-16-le")
