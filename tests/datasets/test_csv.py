"""Tests for the CSV reader's advice (sklstm/datasets/_csv.py): a file in UTF-16 or UTF-32
without a byte-order mark, a NUL character, and numbers written with commas are each
refused with the fix, and the fix, followed, reads the file."""

import ast
import csv
import re

import numpy as np
import pandas as pd
import pytest

from sklstm.datasets import _csv, load_dataset

from ..settings import traced_peak

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


@pytest.mark.parametrize("target", ["y", "0"])
def test_csv_without_a_header_row_is_refused_as_such(tmp_path, target):
    # target "0", a label of the first row, read that sample as the header in silence
    path = tmp_path / "data.csv"
    path.write_text("0.5,1.25,0\n0.75,2.5,1\n0.25,1.5,0\n")
    with pytest.raises(ValueError, match=r"the first row \(0\.5, 1\.25, 0, \.\.\.\) holds "
                                         "numbers, not column names: the CSV has no header"):
        load_dataset(path, target=target)
    path.write_text("0,1,2\n0.5,1.25,0\n0.75,2.5,1\n")  # whole numbers: names, as pandas'
    assert load_dataset(path, target="2")[0].shape == (2, 2)


@pytest.mark.parametrize("target", [2, np.int64(2), None])
def test_csv_target_that_is_no_str_is_refused_naming_the_fix(tmp_path, target):
    # the columns 0, 1, 2 that pandas writes (and the refusal above advises) invite
    # target=2, which difflib met with a bare "'int' object is not iterable"
    path = tmp_path / "data.csv"
    path.write_text("0,1,2\n0.5,1.25,0\n0.75,2.5,1\n")
    with pytest.raises(TypeError, match="target must be the name of the target column, a "
                                        "str") as error:
        load_dataset(path, target=target)
    assert ("pass target='2'" in str(error.value)) == (target is not None)


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


def _sequences_csv(path, X, targets):
    """Write ``X`` (its values as Python writes them) and the ``targets`` column ``y``."""
    with open(path, "w") as f:
        f.write(",".join([f"t{j}" for j in range(X.shape[1])] + ["y"]) + "\n")
        f.writelines(",".join(map(repr, row.tolist())) + f",{target}\n"
                     for row, target in zip(X, targets, strict=True))


def test_csv_host_memory_is_bounded_by_its_arrays(tmp_path, monkeypatch):
    # the whole file was held as Python strings (and the targets as Decimals): a peak of
    # 27 times X's float32 bytes, 200k rows of 10 steps took 240 MiB for 8 MiB of data
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", 64, raising=False)
    X = np.random.default_rng(0).standard_normal((20_000, 10)).astype(np.float32)
    path = tmp_path / "data.csv"
    _sequences_csv(path, X, [i % 3 for i in range(len(X))])
    (X_read, y), peak = traced_peak(load_dataset, path)
    np.testing.assert_array_equal(X_read, X)
    assert y.dtype == np.int64 and y.tolist() == [i % 3 for i in range(len(X))]
    assert peak < 5 * X.nbytes, f"peak {peak / X.nbytes:.1f} times X's bytes"


def test_csv_float_targets_are_held_compactly(tmp_path, monkeypatch):
    # a float target's text was a Python string each (with the list's pointer, some 80
    # bytes a row): 12 times y's float64 bytes at the peak, for a file of one step
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", 64)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 1)).astype(np.float32)
    targets = rng.standard_normal(len(X))
    path = tmp_path / "data.csv"
    _sequences_csv(path, X, map(repr, targets.tolist()))
    (X_read, y), peak = traced_peak(load_dataset, path)
    assert y.dtype == np.float64 and y.tobytes() == targets.tobytes()
    assert X_read.tobytes() == X.tobytes()
    assert peak < 8 * y.nbytes, f"peak {peak / y.nbytes:.1f} times y's bytes"


def test_a_wide_csv_is_converted_a_few_cells_at_a_time(tmp_path, monkeypatch):
    # 4096 rows at a time whatever their width: 4096 rows of 200 steps held 57 MiB of
    # text, and a file of fewer rows was held whole as text (17 times X here)
    monkeypatch.setattr(_csv, "_CHUNK_CELLS", 400, raising=False)
    X = np.random.default_rng(0).standard_normal((300, 200)).astype(np.float32)
    path = tmp_path / "data.csv"
    _sequences_csv(path, X, [i % 2 for i in range(len(X))])
    (X_read, _), peak = traced_peak(load_dataset, path)
    assert X_read.tobytes() == X.tobytes()
    assert peak < 5 * X.nbytes, f"peak {peak / X.nbytes:.1f} times X's bytes"


@pytest.mark.parametrize("chunk_rows", [1, 3, 4096])
@pytest.mark.parametrize("targets", [["0.5", "-1", "2"], ["a", "b", "c"], ["1", "2", "3"]],
                         ids=["float", "text", "int"])
def test_csv_read_by_chunks_gives_the_arrays_of_the_whole_file(tmp_path, monkeypatch,
                                                               chunk_rows, targets):
    # the file read a few rows at a time: the same bits as numpy converting every cell
    # at once, whatever the chunk boundaries
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", chunk_rows, raising=False)
    rng = np.random.default_rng(1)
    X = (rng.standard_normal((10, 4)) * 10.0 ** rng.integers(-40, 38, (10, 4)))
    path = tmp_path / "data.csv"
    y_text = [targets[i % 3] for i in range(len(X))]
    _sequences_csv(path, X, y_text)  # float64 text: each cell rounded to float32 once
    with open(path, newline="") as f:
        cells = [row[:-1] for row in list(csv.reader(f))[1:]]
    X_read, y = load_dataset(path)
    assert X_read.dtype == np.float32 and X_read.flags.c_contiguous
    assert X_read.tobytes() == np.asarray(cells, dtype=np.float32).tobytes()
    assert y.tolist() == pd.read_csv(path)["y"].tolist()


def test_csv_refusal_counts_the_bad_rows_of_every_chunk(tmp_path, monkeypatch):
    # the rows are converted a chunk at a time, but the message counts them all
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", 2, raising=False)
    t1 = ["0.2", "nan", "0.2", "0.2", "x", "0.2", "NA"]
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,y\n" + "".join(f"0.1,{v},a\n" for v in t1))
    with pytest.raises(ValueError, match=r"row 3 \(the header is row 1\), column 't1', has "
                                         r"the value 'nan' \(and 2 more such rows\): a "
                                         r"sequence value is missing"):
        load_dataset(path)


def test_csv_text_fault_after_a_bad_value_is_said_first(tmp_path):
    # the file is read a row at a time, but whole before any refusal of its values:
    # the fix of its encoding comes first, as when it was read whole at once
    path = tmp_path / "data.csv"
    path.write_bytes(b"t0,y\nx,a\n" + b"0.1,a\n" * 5000 + "0.2,café\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"not valid utf-8 .*--encoding latin-1"):
        load_dataset(path)


@pytest.mark.parametrize("end", ['0.2,"New Yo', '"0.'])
def test_a_csv_cut_short_inside_a_quoted_value_is_refused(tmp_path, end):
    # csv's reader gave the value read so far: a copy cut short in the quoted label
    # "New York, NY" had the label 'New Yo' read as a class of its own, silently
    path = tmp_path / "data.csv"
    path.write_text('t0,label\n0.1,"New York, NY"\n' + end)
    with pytest.raises(ValueError, match=r"data\.csv: the file ends inside a quoted value: "
                                         r"its last line \(.*\) opens a quote .*cut short"):
        load_dataset(path, target="label")
    path.write_text('t0,label\n0.1,"New York, NY"\n0.2,"b""c"\n0.3,"d"e')  # closed: read
    assert load_dataset(path, target="label")[1].tolist() == ["New York, NY", 'b"c', "de"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_a_csv_cut_short_inside_a_character_is_told_so(tmp_path, encoding):
    # the one advice was another encoding (latin-1), which read it with its accents garbled
    path = tmp_path / "data.csv"
    path.write_bytes("t0,label\n0.1,café\n0.2,thé".encode(encoding)[:-1])
    with pytest.raises(ValueError, match=rf"not valid {encoding} \(it ends inside a character, "
                                         r"its last bytes b'.*': it was cut short"):
        load_dataset(path, target="label", encoding=encoding)
