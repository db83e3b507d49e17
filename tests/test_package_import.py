"""``import sklstm``: its public names are imported on first use, so that the command
line starts without torch and a Ctrl-C while it starts is one line."""

import subprocess
import sys
import types

import joblib
import numpy as np
import pytest

import sklstm
from sklstm.cli import main

HEAVY = ("torch", "skorch")


def _modules_after(code):
    """The heavy libraries a fresh interpreter holds after running ``code``."""
    probe = (f"{code}\nimport sys\n"
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip().splitlines()[-1]


def test_import_sklstm_imports_no_torch():
    # the estimators, persistence and profiling were imported by `import sklstm`: 3 s
    assert _modules_after("import sklstm") == "[]"


def test_tune_help_imports_no_torch():
    # `python -m sklstm tune --help`, as -m runs it, then a look at what it imported
    run = ("import runpy, sys\nsys.argv = ['sklstm', 'tune', '--help']\n"
           "try:\n    runpy.run_module('sklstm', run_name='__main__', alter_sys=True)\n"
           "except SystemExit as exit:\n    assert exit.code == 0, exit.code")
    assert _modules_after(run) == "[]"


def test_public_names_are_those_of_their_modules():
    from sklstm.estimators import LSTMClassifier, LSTMRegressor
    from sklstm.persistence import load
    from sklstm.profiling import profile_batch_sizes

    names = {}
    exec("from sklstm import *", names)  # a star import, as users write it
    del names["__builtins__"]
    assert names == {"LSTMClassifier": LSTMClassifier, "LSTMRegressor": LSTMRegressor,
                     "load": load, "profile_batch_sizes": profile_batch_sizes,
                     "__version__": sklstm.__version__}
    assert sklstm.LSTMClassifier is LSTMClassifier and sklstm.load is load
    assert set(sklstm.__all__) <= set(dir(sklstm))
    assert {"estimators", "search", "training"} <= set(dir(sklstm))


def test_subpackages_are_attributes_without_an_import_of_their_own():
    # `import sklstm` used to import sklstm.training and others on its way
    code = "import sklstm\nassert sklstm.training.__name__ == 'sklstm.training'"
    assert _modules_after(code) == "['skorch', 'torch']"


def test_an_unknown_attribute_names_the_module():
    with pytest.raises(AttributeError, match=r"^module 'sklstm' has no attribute 'LSTM'$"):
        sklstm.LSTM  # noqa: B018
    assert not hasattr(sklstm, "cli_main")


def test_a_model_unpickles_in_a_fresh_interpreter(tmp_path):
    X = np.random.default_rng(0).normal(size=(12, 4, 1)).astype("float32")
    model = sklstm.LSTMRegressor(hidden_size=2, max_epochs=1, device="cpu")
    path = tmp_path / "model.joblib"
    joblib.dump(model.fit(X, X[:, 0, 0]), path)
    code = (f"import joblib, numpy\nmodel = joblib.load({str(path)!r})\n"
            "print(type(model).__module__, model.predict(numpy.zeros((2, 4, 1), "
            "'float32')).shape)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["sklstm.estimators.regressor", "(2,)"]


class _Interrupted(types.ModuleType):
    """A module whose names raise KeyboardInterrupt: a Ctrl-C while it is imported."""

    def __getattr__(self, name):
        raise KeyboardInterrupt


@pytest.mark.parametrize("argv", [["tune", "--help"], ["tune", "data.npz"]])
def test_ctrl_c_while_the_command_imports_is_one_line(argv, capsys, monkeypatch):
    # the imports took seconds before main could catch anything: a Ctrl-C then was a
    # screenful of import traceback
    monkeypatch.setitem(sys.modules, "sklstm.search.metrics",
                        _Interrupted("sklstm.search.metrics"))
    try:
        code = main(argv)
    except KeyboardInterrupt:  # (uncaught, it would stop the test run)
        pytest.fail("main let the KeyboardInterrupt through")
    except SystemExit as exit:  # --help printed: the import was not main's
        pytest.fail(f"main exited {exit.code} without the interrupted import")
    assert code == 130 and capsys.readouterr().err == "sklstm: interrupted\n"
