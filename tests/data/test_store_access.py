"""What the file system refuses at a store's path, said with the store and the fix
(store_access): files it may not read, a directory it may not write, a write-protected
store that overwrite=True would replace."""

import builtins
import errno
import os
import re
import stat

import numpy as np
import pytest

from sklstm.data import SequenceStore, csv_to_store


@pytest.fixture
def unprivileged(monkeypatch, tmp_path):
    """The permissions of ``tmp_path``'s files as a process without privileges meets
    them: by their owner's mode bits. A privileged process (root, as in many containers)
    reads and writes whatever the modes say, so there the operating system's refusals
    are made here, for the calls that a store's reading and writing make."""
    probe = tmp_path / "probe"
    probe.touch(mode=0)
    privileged = os.access(probe, os.R_OK)
    probe.unlink()
    if not privileged:  # the operating system refuses for itself
        return

    def owner_may(path, bits):
        return os.stat(path).st_mode & bits == bits

    def ours(path):
        return isinstance(path, (str, os.PathLike)) and str(tmp_path) in os.fspath(path)

    def denied(path):
        return PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))

    real_access, real_open, real_mkdir = os.access, builtins.open, os.mkdir

    def access(path, mode, **kwargs):
        if not ours(path):
            return real_access(path, mode, **kwargs)
        bits = [(os.R_OK, stat.S_IRUSR), (os.W_OK, stat.S_IWUSR), (os.X_OK, stat.S_IXUSR)]
        return all(owner_may(path, bit) for flag, bit in bits if mode & flag)

    def open_(file, mode="r", *args, **kwargs):
        if ours(file) and "r" in mode and not owner_may(file, stat.S_IRUSR):
            raise denied(file)
        return real_open(file, mode, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if ours(path) and not owner_may(os.path.dirname(os.fspath(path)), stat.S_IWUSR):
            raise denied(path)
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(os, "mkdir", mkdir)


@pytest.mark.parametrize("name", ["meta.json", "offsets.npy", "values.bin"])
def test_a_file_it_may_not_read_is_named_with_the_fix_not_called_damaged(
        ragged, unprivileged, tmp_path, name):
    # an unreadable offsets.npy was "damaged ... Rewrite it" (its data whole); the other
    # two files gave a bare PermissionError that named no fix
    path = tmp_path / "s"
    os.chmod(path / name, 0)
    with pytest.raises(PermissionError, match=rf"Cannot read the sequence store {str(path)!r}"
                                              rf".*{name}' is not readable.*not damaged.*chmod"):
        SequenceStore.open(path)


def _write_store(path):
    return SequenceStore.write(path, [np.ones((3, 1))])


def _write_csv_store(path):
    csv = path.parent.parent / "x.csv"
    csv.write_text("t0,t1,y\n1,2,3\n")
    return csv_to_store(csv, path)[0]


@pytest.mark.parametrize("write", [_write_store, _write_csv_store])
def test_a_store_is_not_written_where_its_directory_is_read_only(unprivileged, tmp_path,
                                                                    write):
    # the bare error named the hidden temporary directory beside the store
    folder = tmp_path / "read-only"
    folder.mkdir()
    os.chmod(folder, 0o555)
    with pytest.raises(PermissionError, match=rf"Cannot write the store "
                                              rf"{str(folder / 's')!r}.*chmod u\+w"):
        write(folder / "s")
    os.chmod(folder, 0o755)
    assert len(write(folder / "s")) == 1 and os.listdir(folder) == ["s"]


def test_a_write_protected_store_is_not_overwritten(ragged, unprivileged, tmp_path):
    # it was moved aside and replaced, and its removal failed in silence: the old data
    # stayed, hidden beside the new store, at their full size, for good
    seqs, _ = ragged
    path = tmp_path / "s"
    os.chmod(path, 0o555)
    with pytest.raises(PermissionError, match=r"write-protected store.*chmod u\+w"):
        SequenceStore.write(path, [np.ones(3)], overwrite=True)  # (before writing)
    np.testing.assert_array_equal(SequenceStore.open(path)[1], seqs[1])
    os.chmod(path, 0o755)
    assert len(SequenceStore.write(path, [np.ones(3)], overwrite=True)) == 1
    assert sorted(os.listdir(tmp_path)) == ["s"]


@pytest.fixture
def file_size_limit():
    """A function that runs a call with the file size limit (``ulimit -f``) at 4 KiB,
    writes beyond it refused with EFBIG (SIGXFSZ ignored), as on a full disk."""
    resource = pytest.importorskip("resource")
    import signal

    def limited(call):
        limits = resource.getrlimit(resource.RLIMIT_FSIZE)
        handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))
        try:
            return call()
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, limits)
            signal.signal(signal.SIGXFSZ, handler)

    return limited


@pytest.mark.parametrize("sequences", [[np.ones(1, np.int8)] * 2000, [np.ones((800, 4))]],
                         ids=["offsets.npy", "values.bin"])
def test_a_write_with_no_room_says_so_and_keeps_the_store(sequences, file_size_limit,
                                                          tmp_path):
    # offsets.npy beyond the room failed in numpy's words ("2001 requested and 496
    # written"); values.bin as "File too large", naming neither the store nor the fix
    path = tmp_path / "s"
    SequenceStore.write(path, [np.ones(3)])
    with pytest.raises(OSError, match=re.escape(f"Cannot write the store {str(path)!r}: the "
                                                "file size limit")) as caught:
        file_size_limit(lambda: SequenceStore.write(path, sequences, overwrite=True))
    assert caught.value.errno == errno.EFBIG
    assert SequenceStore.open(path).lengths.tolist() == [3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_a_csv_conversion_with_no_room_says_so(file_size_limit, tmp_path):
    (tmp_path / "x.csv").write_text("t0,y\n" + "0.5,1\n" * 2000)
    with pytest.raises(OSError, match=r"Cannot write the store .*the file size limit"):
        file_size_limit(lambda: csv_to_store(tmp_path / "x.csv", tmp_path / "s"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]


@pytest.mark.parametrize("write", [_write_store, _write_csv_store])
def test_a_store_is_not_written_on_a_read_only_file_system(monkeypatch, tmp_path, write):
    # a read-only mount's bare OSError named the hidden temporary directory
    (tmp_path / "ro").mkdir()

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

    monkeypatch.setattr(os, "mkdir", read_only)
    with pytest.raises(OSError, match=rf"Cannot write the store {str(tmp_path / 'ro' / 's')!r}"
                                      r".*mounted read-only.*another file system"):
        write(tmp_path / "ro" / "s")
