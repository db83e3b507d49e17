"""Paths that are not plain files: links, pipes and devices, names at the limit."""

import os
import stat
import threading

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import sklstm
from sklstm import LSTMRegressor

X = np.random.default_rng(0).normal(size=(20, 5, 2)).astype(np.float32)


@pytest.fixture
def est(tiny):
    return LSTMRegressor(**tiny).fit(X, X[:, -1, 0])


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links")
def test_a_symbolic_link_is_written_through(est, tmp_path):
    # as open(path, "wb") writes, and torch.save, joblib.dump: the link was replaced by
    # a file, and the file it named kept the old model
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "v2.safetensors"
    target.write_bytes(b"old")
    link = tmp_path / "current.safetensors"
    link.symlink_to(target)
    est.save(link)
    assert link.is_symlink()
    assert_array_equal(sklstm.load(target).predict(X), est.predict(X))
    assert sorted(p.name for p in tmp_path.rglob("*")) == [
        "current.safetensors", "models", "v2.safetensors"]  # no temporary file


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_written_into_not_replaced(est, tmp_path):
    # (os.devnull alike: renamed over, a device or a pipe was replaced by a regular
    # file where its directory was writable, as /dev/null for root)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    est.save(pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    reader.join()
    (tmp_path / "copy.safetensors").write_bytes(received[0])
    assert_array_equal(sklstm.load(tmp_path / "copy.safetensors").predict(X), est.predict(X))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_loading_from_a_named_pipe_says_what_it_is(tmp_path):
    # it was a FileNotFoundError, "no sklstm model file at" a path that is there
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match=r"pipe is not an sklstm model file .*: it is a "
                                         r"named pipe or a device, not a regular file .* "
                                         r"copy it to a file and load that"):
        sklstm.load(pipe)


def test_a_file_name_at_the_systems_limit_is_saved(est, tmp_path):
    # the temporary file was the name with ".tmp-<pid>-<thread>" added: "File name too
    # long" for a name the system accepts
    limit = os.pathconf(tmp_path, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255
    path = tmp_path / ("m" * (limit - len(".safetensors")) + ".safetensors")
    est.save(path)
    assert_array_equal(sklstm.load(path).predict(X), est.predict(X))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


