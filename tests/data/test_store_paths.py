"""The paths a SequenceStore is written to and opened from (store_paths): ``~`` the home
directory, relative paths from the working directory of the call, what is no path
refused in words that name the fix."""

import os
import pickle

import numpy as np
import pytest

from sklstm.data.store import SequenceStore
from sklstm.data.store_csv import csv_to_store

SEQS = [np.array([1, 2, 3], np.int32), np.array([4], np.int32)]


def test_a_leading_tilde_is_the_home_directory(tmp_path, monkeypatch):
    # it was a folder named "~" in the working directory: "its directory '.../~' does
    # not exist", where csv_to_store, load_dataset and sklstm.load read the home's
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(tmp_path)
    SequenceStore.write("~/ids", SEQS)
    assert (tmp_path / "home" / "ids" / "meta.json").is_file()
    assert SequenceStore.open("~/ids").lengths.tolist() == [3, 1]
    (tmp_path / "t.csv").write_text("t0,t1,y\n0.1,0.2,a\n")
    store, _ = csv_to_store("~/../t.csv", "~/c")
    assert len(store) == 1 and (tmp_path / "home" / "c" / "y.npy").is_file()
    assert not (tmp_path / "~").exists()


def test_a_relative_store_is_found_after_the_working_directory_changes(tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = SequenceStore.write("spaced ü name", SEQS)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert store[0].tolist() == [1, 2, 3]
    assert pickle.loads(pickle.dumps(store[[1]]))[0].tolist() == [4]  # reopened by path


@pytest.mark.parametrize("method", ["write", "open"])
@pytest.mark.parametrize("path, error, match", [
    (None, TypeError, "not NoneType; give the store's directory"),
    (3, TypeError, "not int; give the store's directory"),
    ("", ValueError, "path '' names no directory"),
])
def test_what_is_no_path_is_refused_naming_the_fix(method, path, error, match, tmp_path,
                                                   monkeypatch):
    # os.fsdecode's bare "expected str, bytes or os.PathLike object, not NoneType"; and ""
    # was the working directory, replaced by overwrite=True when it was empty
    monkeypatch.chdir(tmp_path)
    call = (lambda: SequenceStore.write(path, SEQS, overwrite=True)) if method == "write" \
        else (lambda: SequenceStore.open(path))
    with pytest.raises(error, match=f"Cannot {method} the store: .*{match}"):
        call()
    assert list(tmp_path.iterdir()) == []


def test_an_open_file_is_refused_naming_its_path(tmp_path):
    with open(tmp_path / "f", "w") as f, pytest.raises(TypeError, match=(
            f"not TextIOWrapper; pass the path itself \\({str(tmp_path / 'f')!r}\\)")):
        SequenceStore.write(f, SEQS)


def test_a_store_in_a_file_is_refused_saying_it_is_a_file(tmp_path):
    # "its directory ... does not exist", of a file that does
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match="/f' is a file, not a directory"):
        SequenceStore.write(tmp_path / "f" / "s", SEQS)
    with pytest.raises(FileNotFoundError, match="does not exist; create it first"):
        SequenceStore.write(tmp_path / "d" / "s", SEQS)
    assert os.listdir(tmp_path) == ["f"]


@pytest.mark.parametrize("write", [
    lambda path: SequenceStore.write(path, SEQS),
    lambda path: csv_to_store(path.parent / "t.csv", path)])
def test_a_name_too_long_is_refused_before_anything_is_written(write, tmp_path):
    # the whole store was written, then its rename failed: "File name too long"
    (tmp_path / "t.csv").write_text("t0,t1,y\n0.1,0.2,a\n")
    with pytest.raises(ValueError, match=r"name of 300 bytes is longer than this file "
                                         r"system takes .*choose a shorter name"):
        write(tmp_path / ("n" * 300))
    assert os.listdir(tmp_path) == ["t.csv"]


def test_a_csv_that_is_no_path_is_refused_naming_the_fix(tmp_path):
    (tmp_path / "t.csv").write_text("t0,t1,y\n0.1,0.2,a\n")
    with open(tmp_path / "t.csv") as f, pytest.raises(TypeError, match=(
            "got TextIOWrapper; for an open file, pass its name")):
        csv_to_store(f, tmp_path / "s")
