"""A CSV converted into a SequenceStore a chunk at a time (sklstm/data/store_csv.py):
the store load_dataset's X writes, bit for bit, with host memory bounded by a chunk,
and nothing at the store's path unless the conversion completed."""

import os
import shutil

import numpy as np
import pytest

from sklstm.data import SequenceStore, store_csv
from sklstm.data.store_csv import csv_to_store
from sklstm.datasets import _csv, load_dataset

from ..settings import traced_peak
from ..test_durable_files import POSIX, age, killed_when_written


def _write_csv(path, X, targets, target_at=None):
    """``X``'s rows (as Python writes their values), the column ``y`` at ``target_at``
    (last by default), and two blank rows at the end, as spreadsheets leave them."""
    target_at = X.shape[1] if target_at is None else target_at
    header = [f"t{j}" for j in range(X.shape[1])]
    header.insert(target_at, "y")
    with open(path, "w") as f:
        f.write(",".join(header) + "\n")
        for row, target in zip(X.tolist(), targets, strict=True):
            cells = list(map(repr, row))
            cells.insert(target_at, str(target))
            f.write(",".join(cells) + "\n")
        f.write("," * X.shape[1] + "\n\n")


def _files(path):
    return {name: open(os.path.join(path, name), "rb").read()
            for name in ("meta.json", "values.bin", "offsets.npy")}


@pytest.mark.parametrize("chunk_rows", [1, 3, 4096])
@pytest.mark.parametrize("targets", [["0.5", "-1", "2"], ["a", " b", "c"], ["1", "2", "3"]],
                         ids=["float", "text", "int"])
def test_csv_to_store_writes_the_store_of_load_dataset_s_arrays(tmp_path, monkeypatch,
                                                                chunk_rows, targets):
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", chunk_rows)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) * 10.0 ** rng.integers(-30, 30, (50, 4))
    path = tmp_path / "data.csv"
    _write_csv(path, X, [targets[i % 3] for i in range(len(X))], target_at=2)
    X_mem, y_mem = load_dataset(path)
    expected = SequenceStore.write(tmp_path / "memory", X_mem[:, :, None])
    store, y = csv_to_store(path, tmp_path / "chunked")
    assert _files(tmp_path / "chunked") == _files(tmp_path / "memory")
    assert len(store) == len(expected) == 50 and store.dtype == np.float32
    assert y.dtype == y_mem.dtype and y.tolist() == y_mem.tolist()
    saved = np.load(tmp_path / "chunked" / "y.npy", allow_pickle=False)
    assert saved.dtype == y_mem.dtype and saved.tolist() == y_mem.tolist()


def test_csv_to_store_host_memory_is_bounded_by_a_chunk(tmp_path, monkeypatch):
    # load_dataset holds X whole (and more, while it grows): the store path holds a
    # chunk of rows, the targets and the offsets, whatever the number of columns
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", 8)
    X = np.random.default_rng(1).standard_normal((2_000, 200)).astype(np.float32)
    path = tmp_path / "data.csv"
    _write_csv(path, X, [i % 2 for i in range(len(X))])
    (X_mem, y_mem), memory_peak = traced_peak(load_dataset, path)
    (store, y), store_peak = traced_peak(csv_to_store, path, tmp_path / "store")
    assert memory_peak >= X.nbytes
    assert store_peak < X.nbytes / 4, f"peak {store_peak / X.nbytes:.2f} times X's bytes"
    assert store[len(X) - 1].tobytes() == X_mem[-1].tobytes()
    assert store[0].shape == (X.shape[1], 1)  # (as the estimators read sequences)
    assert y.tolist() == y_mem.tolist()


def _leftovers(tmp_path):
    return sorted(set(os.listdir(tmp_path)) - {"data.csv"})


def test_a_refused_csv_leaves_no_store(tmp_path, monkeypatch):
    # the bad cell in the last row: the chunks before it are written, then removed
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", 2)
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,y\n" + "0.1,0.2,a\n" * 9 + "0.1,x,a\n")
    with pytest.raises(ValueError, match=r"row 11 .* column 't1', has the value 'x'"):
        csv_to_store(path, tmp_path / "store")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["reading", "saving the targets"])
def test_an_interrupted_conversion_leaves_no_store(tmp_path, monkeypatch, where):
    # after the store's files, before y.npy: a store without its targets opened at
    # the path (and a rerun was refused as "exists")
    monkeypatch.setattr(_csv, "_CHUNK_ROWS", 2)
    path = tmp_path / "data.csv"
    path.write_text("t0,y\n" + "0.5,1\n" * 10)
    chunks = store_csv.csv_chunks

    def interrupted(*args):
        yield next(chunks(*args))
        raise KeyboardInterrupt

    def save(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "reading":
        monkeypatch.setattr(store_csv, "csv_chunks", interrupted)
    else:
        monkeypatch.setattr(store_csv.np, "save", save)
    with pytest.raises(KeyboardInterrupt):
        csv_to_store(path, tmp_path / "store")
    assert _leftovers(tmp_path) == []


def test_csv_to_store_refuses_an_existing_path_before_reading(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("t0,y\n0.5,1\n")
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "mine.txt").write_text("kept")
    with pytest.raises(FileExistsError, match="exists; choose a new path"):
        csv_to_store(path, tmp_path / "store")
    assert os.listdir(tmp_path / "store") == ["mine.txt"]
    with pytest.raises(FileNotFoundError, match=r"store '.*nowhere.store': its directory"):
        csv_to_store(path, tmp_path / "nowhere" / "store")


def test_csv_to_store_refuses_other_files(tmp_path):
    path = tmp_path / "data.npz"
    np.savez(path, X=np.zeros((2, 3)), y=np.zeros(2))
    with pytest.raises(ValueError, match=r"converts a \.csv file; .*SequenceStore\.write"):
        csv_to_store(path, tmp_path / "store")
    with pytest.raises(ValueError, match="does not exist"):
        csv_to_store(tmp_path / "missing.csv", tmp_path / "store")
    assert _leftovers(tmp_path) == ["data.npz"]


_KILLED_MID_CONVERSION = """
import sys, time
from sklstm.data import store_csv
from sklstm.datasets import _csv

_csv._CHUNK_ROWS = 2
chunks = store_csv.csv_chunks

def stalled(*args):  # the first chunk converted, the others never come
    yield next(chunks(*args))
    print("written", flush=True)
    time.sleep(600)

store_csv.csv_chunks = stalled
store_csv.csv_to_store(sys.argv[1], sys.argv[2])
"""


@pytest.mark.skipif(not POSIX, reason="SIGKILL")
def test_a_conversion_killed_midway_leaves_no_directory_past_the_next_one(tmp_path):
    # a conversion killed (SIGKILL, the OOM killer) left its temporary directory, up to
    # a store's size, for good: its name was its process's, which no later one removed
    path = tmp_path / "data.csv"
    path.write_text("t0,y\n" + "0.5,1\n" * 10)
    pid = killed_when_written(_KILLED_MID_CONVERSION, path, tmp_path / "store")
    (left,) = _leftovers(tmp_path)
    assert f"-{pid}-" in left
    # kept: a conversion under way (this process's, a thread's), one written to within
    # minutes (a process of that number elsewhere: a container sharing the host name)
    running = left.replace(f"-{pid}-", f"-{os.getpid()}-")
    recent = left.replace(f"-{pid}-", f"-{pid}-1")
    shutil.copytree(tmp_path / left, tmp_path / running)
    age(tmp_path / left)
    age(tmp_path / running)
    shutil.copytree(tmp_path / left, tmp_path / recent)
    (tmp_path / recent / "values.bin").touch()
    store, y = csv_to_store(path, tmp_path / "store")
    assert len(store) == len(y) == 10
    assert _leftovers(tmp_path) == sorted(["store", running, recent])
