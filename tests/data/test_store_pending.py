"""A store opened before its first write has put it in place (store_pending): a write in
progress in another process, one of another machine, or a killed write's leftover, is
said to be so, not called "not a sequence store ... write one with SequenceStore.write"."""

import contextlib
import os
import re
import subprocess
import sys

import pytest

from sklstm.data.store import SequenceStore

from ..test_durable_files import POSIX, killed_when_written

# the first sequence (or CSV chunk) written, the others only once the file argv[2] exists
_SLOW_SEQUENCES = """
import os, sys, time
import numpy as np

def wait(gate):
    print("written", flush=True)
    while not os.path.exists(gate):
        time.sleep(0.01)
"""
_WRITE = _SLOW_SEQUENCES + """
from sklstm.data import SequenceStore

def sequences():
    yield np.ones((3, 2))
    wait(sys.argv[2])
    yield np.ones((2, 2))

SequenceStore.write(sys.argv[1], sequences())
"""
_CSV_TO_STORE = _SLOW_SEQUENCES + """
from sklstm.data import store_csv

def chunks(*args, chunks=store_csv.csv_chunks, **kwargs):
    y = yield from chunks(*args, **kwargs)  # (all but the targets written)
    wait(sys.argv[2])
    return y

store_csv.csv_chunks = chunks
csv = sys.argv[1] + ".csv"
with open(csv, "w") as f:
    f.write("t0,t1,y\\n0.1,0.2,a\\n0.3,0.4,b\\n")
store_csv.csv_to_store(csv, sys.argv[1])
"""


@contextlib.contextmanager
def writing(script, path):
    """Run ``script`` writing the store ``path`` in another process until it has written
    a part of it; its process id, then the write let finish on exit."""
    gate = f"{path}.go"
    child = subprocess.Popen([sys.executable, "-c", script, os.fspath(path), gate],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "written\n"
        yield child.pid
    finally:
        open(gate, "w").close()
        assert child.wait(timeout=120) == 0
        child.stdout.close()


@pytest.mark.skipif(not POSIX, reason="processes asked for with os.kill")
@pytest.mark.parametrize("script, writer", [(_WRITE, "SequenceStore.write"),
                                            (_CSV_TO_STORE, "csv_to_store")])
def test_a_store_opened_while_another_process_writes_it_is_said_to_be_written(
        tmp_path, script, writer):
    path = tmp_path / "s"
    with writing(script, path) as pid:
        with pytest.raises(FileNotFoundError) as error:
            SequenceStore.open(path)
    message = str(error.value)
    assert "a write of it is in progress" in message and "Wait for that write" in message
    assert f"{writer}, by process {pid} on this machine" in message
    assert "write one with" not in message  # (the data were being written)
    assert len(SequenceStore.open(path)) == 2  # once it has finished


@pytest.mark.skipif(not POSIX, reason="SIGKILL")
def test_a_killed_write_is_said_to_be_a_leftover_not_in_progress(tmp_path):
    path = tmp_path / "s"
    pid = killed_when_written(_WRITE, path, tmp_path / "never")
    (left,) = tmp_path.iterdir()
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"was killed before it finished (SequenceStore.write, by process {pid} on "
            "this machine")) as error:
        SequenceStore.open(path)
    assert "in progress" not in str(error.value) and f"rm -r {str(left)!r}" in str(error.value)


def test_another_machine_s_write_is_possibly_in_progress(tmp_path):
    # (its process cannot be asked for: a machine named "elsewhere", sharing the directory)
    (tmp_path / ".s.store-tmp-else-where-4242-1397").mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape(
            "is possibly in progress (SequenceStore.write, by process 4242 on host "
            "'else-where'")):
        SequenceStore.open(tmp_path / "s")


def test_no_write_of_the_store_is_still_not_a_store(tmp_path):
    (tmp_path / ".other.store-tmp-else-where-4242-1397").mkdir()  # another store's
    (tmp_path / ".s.store-tmp-else-where-4242-1397.old").mkdir()  # a store replaced
    with pytest.raises(FileNotFoundError,
                       match=re.escape("not a sequence store (no meta.json); write one")):
        SequenceStore.open(tmp_path / "s")


def test_the_writers_name_their_temporary_directories_with_the_kinds_told_apart(
        tmp_path, monkeypatch):
    # the kinds were written out in each writer and again here: a writer's renamed kind
    # would leave its writes in progress called "not a sequence store" again
    import numpy as np

    from sklstm.data import store_csv, store_files
    from sklstm.data.store_pending import _WRITERS, CSV_TMP, STORE_TMP

    kinds = []
    for module in (store_files, store_csv):
        def recorded(path, kind, made=module.temporary_path):
            kinds.append(kind)
            return made(path, kind)
        monkeypatch.setattr(module, "temporary_path", recorded)
    SequenceStore.write(tmp_path / "s", [np.ones((3, 2))])
    (tmp_path / "t.csv").write_text("t0,t1,y\n0.1,0.2,a\n0.3,0.4,b\n")
    store_csv.csv_to_store(str(tmp_path / "t.csv"), str(tmp_path / "c"))
    assert kinds == [STORE_TMP, CSV_TMP] and set(kinds) == set(_WRITERS)
