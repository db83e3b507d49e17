"""The registry of the classes a model file may name: filled in a new process too."""

import subprocess
import sys

import numpy as np

from sklstm import LSTMClassifier

from .samples import X3

_LOAD_ELSEWHERE = """
import sys
import numpy as np
import sklstm
assert "sklstm.estimators" not in sys.modules  # (what the load must not rely on)
model = sklstm.load(sys.argv[1], device="cpu")
np.save(sys.argv[2], model.predict(np.load(sys.argv[3])))
"""


def test_a_new_process_loads_the_file_and_predicts_the_same(tiny, tmp_path):
    # `import sklstm; sklstm.load(path)` in a fresh interpreter (a server, a notebook
    # restarted): the estimators were never imported, so none had registered, and every
    # file was refused as naming an "unknown estimator class 'LSTMClassifier' (this
    # sklstm loads )"
    model = LSTMClassifier(**{**tiny, "device": "cpu"}).fit(X3, np.array(["no", "yes"] * 12))
    path, out, data = tmp_path / "m.safetensors", tmp_path / "p.npy", tmp_path / "x.npy"
    model.save(path)
    np.save(data, X3)
    done = subprocess.run([sys.executable, "-c", _LOAD_ELSEWHERE, str(path), str(out),
                           str(data)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    predicted = np.load(out)
    assert predicted.dtype == model.predict(X3).dtype
    np.testing.assert_array_equal(predicted, model.predict(X3))
