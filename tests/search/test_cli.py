"""``sklstm tune``: data formats, output, options and errors (in-process ``main(argv)``)."""

import io
import json
import os
import re
import socket
import sys
import warnings

import numpy as np
import pytest

from sklstm.cli import main

from .helpers import cli, load_study

# pytest fixtures shared by the search tests

SPACE = {"hidden_size": 4, "max_epochs": 2, "n_threads": 1, "batch_size": [8, 16],
         "lr": {"low": 0.005, "high": 0.05, "log": True}}


@pytest.fixture
def space_json(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(SPACE))
    return str(path)


@pytest.fixture
def csv_path(tmp_path, data):
    """Univariate sequences, one row per sample, the target in column ``label``."""
    X, y = data
    path = tmp_path / "data.csv"
    header = ",".join([f"t{i}" for i in range(X.shape[1])] + ["label"])
    rows = np.column_stack([X[:, :, 0], y])
    np.savetxt(path, rows, delimiter=",", header=header, comments="", fmt="%.5g")
    return str(path)


@pytest.fixture
def store_path(tmp_path, data):
    """The ``data`` fixture as a SequenceStore directory, its targets in ``y.npy``."""
    from sklstm.data.store import SequenceStore

    X, y = data
    path = tmp_path / "store"
    SequenceStore.write(path, X)
    np.save(path / "y.npy", y)
    return str(path)


def _tune(capsys, tmp_path, data_path, *extra):
    code = main(["tune", str(data_path), "--storage", str(tmp_path / "s.journal"),
                 "--n-trials", "3", "--cv", "2", "--no-progress", *map(str, extra)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("data_file", "extra"),
    [("npz_path", ["--scoring", "accuracy", "--pruner", "hyperband"]),
     ("csv_path", ["--target", "label", "--pruner", "halving"]),
     ("store_path", [])],
    ids=["npz", "csv", "store"],
)
def test_tune_prints_best_trial_and_table(data_file, extra, request, space_json, capsys,
                                          tmp_path):
    path = request.getfixturevalue(data_file)
    code, out, _ = _tune(capsys, tmp_path, path, "--space", space_json, *extra)
    assert code == 0
    assert "study 'sklstm': 3 trials" in out
    assert "best trial #" in out and "batch_size = " in out and "max_epochs = 2" in out
    table = out.split("\n\n")[-1].strip().splitlines()
    assert table[0].split()[:3] == ["trial", "state", "score"]
    assert len(table) == 1 + 3


def test_a_table_cut_at_max_rows_says_so(npz_path, space_json, capsys, tmp_path):
    code, out, _ = _tune(capsys, tmp_path, npz_path, "--space", space_json, "--max-rows", 2)
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[-4].split()[:2] == ["trial", "state"]  # the header, 2 rows, the note
    assert lines[-1] == "(2 of 3 trials shown; --max-rows 3 shows all)"


def test_regressor_on_numeric_csv_target(csv_path, space_json, capsys, tmp_path):
    code, out, _ = _tune(capsys, tmp_path, csv_path, "--space", space_json, "--target", "label",
                         "--estimator", "regressor", "--scoring", "neg_mean_squared_error")
    assert code == 0 and "best trial #" in out


def test_multi_objective_prints_pareto_front(npz_path, space_json, capsys, tmp_path):
    code, out, _ = _tune(capsys, tmp_path, npz_path, "--space", space_json,
                         "--multi-objective", "fit_time")
    assert code == 0
    assert "Pareto front (score vs fit_time)" in out


def test_progress_bar_reports_study_progress(npz_path, space_json, capsys, tmp_path):
    code = main(["tune", str(npz_path), "--storage", str(tmp_path / "s.journal"),
                 "--n-trials", "2", "--cv", "2", "--space", space_json])
    assert code == 0
    assert "2/2" in capsys.readouterr().err  # tqdm's n/total


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--storage", "postgress://x/y"], "invalid storage URL"),
     (["--scoring", "acuracy"], "acuracy"),
     (["--space", '{"hiden_size": [4]}'], "hiden_size"),
     (["--n-trials", "0"], "--n-trials must be an int >= 1")],
    ids=["storage", "scoring", "space", "n-trials"],
)
def test_invalid_input_exits_2_with_message(args, message, npz_path, capsys, tmp_path):
    code = main(["tune", str(npz_path), "--storage", str(tmp_path / "s.journal"),
                 "--n-trials", "1", "--cv", "2", "--no-progress",
                 "--space", json.dumps(SPACE), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "message"),
    [("a,b\n1,2\n", "no target column 'y'"), ("t0,y\nx,1\n", "must be numeric"),
     ("t0,y\n", "at least one sample")],
)
def test_bad_csv_is_reported(content, message, tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, _, err = _tune(capsys, tmp_path, path)
    assert code == 2 and message in err


def test_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--storage", "--study-name", "--n-trials", "--estimator", "--cv", "--scoring",
                   "--space", "--pruner", "--timeout", "--multi-objective"):
        assert option in out
    # it said "stop this worker after this many seconds", but a running trial finishes
    assert "start no new trial after this many seconds" in " ".join(out.split())


def test_a_warning_is_one_line_without_library_source(npz_path, space_json, tmp_path):
    # the ConvergenceWarning of a one-epoch trial came with Optuna's file, line number and
    # source line ("value_or_values = func(trial)"), where it was raised
    proc = cli("tune", npz_path, "--space", space_json, "--n-trials", 1, "--cv", 2,
               "--storage", tmp_path / "s.journal", "--no-progress")
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert "sklstm: warning: ConvergenceWarning: trial 0: 2 of 2 folds did not " in err
    assert "optuna" + os.sep not in err and "func(trial)" not in err


@pytest.mark.parametrize(("target", "message"), [
    ("labels", "labels.npy' does not exist"),
    ("elsewhere/y.npy", "elsewhere/y.npy' does not exist"),
    ("short.npy", "sequences but short.npy holds 3 targets"),
])
def test_a_store_without_its_targets_exits_2(target, message, store_path, capsys, tmp_path,
                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("short.npy", np.arange(3))
    code, _, err = _tune(capsys, tmp_path, store_path, "--target", target)
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "s.journal").exists()  # refused before the storage


@pytest.mark.parametrize(("content", "reason"), [
    (b"", "No data left in file"), (b"\x93NUMPY\x01\x00v\x00", "EOF: reading array header")],
    ids=["empty", "cut-short"])
def test_a_store_with_damaged_targets_exits_2(content, reason, store_path, capsys, tmp_path):
    # an empty y.npy (a save interrupted, a touch) raised numpy's EOFError: a traceback
    (tmp_path / "store" / "y.npy").write_bytes(content)
    code, _, err = _tune(capsys, tmp_path, store_path)
    assert code == 2 and "Traceback" not in err
    assert f"y.npy: not a plain .npy array of targets ({reason}" in err
    assert "save them with numpy.save(" in err
    assert not (tmp_path / "s.journal").exists()  # refused before the storage


def test_a_directory_that_is_no_store_exits_2(capsys, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _, err = _tune(capsys, tmp_path, tmp_path / "empty")
    assert code == 2 and "is not a sequence store" in err and "Traceback" not in err


def test_the_selected_parameters_paste_back_as_a_space(npz_path, space_json, capsys,
                                                       tmp_path):
    # They were printed as Python (tol = None, device = 'cpu'), which --space refuses
    code, out, _ = _tune(capsys, tmp_path, npz_path, "--space", space_json)
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("params as JSON: "))
    pasted = line.removeprefix("params as JSON: ")
    code, _, _ = _tune(capsys, tmp_path, npz_path, "--space", pasted, "--study-name", "again",
                       "--n-trials", "1")
    assert code == 0
    trial = load_study(str(tmp_path / "s.journal"), "again").trials[0]
    assert trial.state.name == "COMPLETE"
    assert trial.user_attrs["fixed_params"] == json.loads(pasted)


def test_a_database_path_is_an_sqlite_study(npz_path, space_json, capsys, tmp_path):
    path = tmp_path / "study.db"
    code = main(["tune", str(npz_path), "--storage", str(path), "--n-trials", "1", "--cv", "2",
                 "--no-progress", "--space", space_json])
    err = capsys.readouterr().err
    assert code == 0
    assert f"study 'sklstm' on SQLite file {path}" in err
    assert "Warning" not in err  # Optuna's "experimental" heartbeat arguments
    assert len(load_study(f"sqlite:///{path}", "sklstm").trials) == 1


def test_heartbeats_off_run_without_a_warning_that_they_are_missing(npz_path, space_json,
                                                                    capsys, tmp_path):
    # --heartbeat 0 opened the journal without heartbeats, then tune_objective's default
    # heartbeat_interval=60 warned that the storage given had none
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, _ = _tune(capsys, tmp_path, npz_path, "--space", space_json,
                           "--n-trials", 1, "--heartbeat", 0)
    assert code == 0
    assert [str(w.message) for w in caught if "heartbeat" in str(w.message)] == []


@pytest.mark.parametrize("data_file", ["npz_path", "store_path"])
def test_an_encoding_is_refused_for_arrays(data_file, request, capsys, tmp_path):
    # ignored in silence (an unknown encoding too): the search ran on the arrays
    path = request.getfixturevalue(data_file)
    code, _, err = _tune(capsys, tmp_path, path, "--encoding", "latin-1")
    assert code == 2
    assert err.strip().splitlines() == [
        f"sklstm tune: error: --encoding 'latin-1' is the text encoding of a CSV file, but "
        f"{path} holds arrays, which have none; leave it out"]
    assert not (tmp_path / "s.journal").exists()  # refused before the storage


def test_a_closed_stdout_fails_no_trial(npz_path, capsys, tmp_path, monkeypatch):
    # ``sklstm tune ... >&-``: sys.stdout is None; skorch's epoch log flushed it, so every
    # trial failed (AttributeError), and the report's own flush ended in a traceback
    monkeypatch.setattr(sys, "stdout", None)
    code, _, err = _tune(capsys, tmp_path, npz_path, "--n-trials", 1, "--space",
                         json.dumps({**SPACE, "device": "cpu"}))
    assert code == 0, err
    sys.stdout.close()  # the os.devnull that main put in its place
    trial = load_study(str(tmp_path / "s.journal"), "sklstm").trials[0]
    assert trial.state.name == "COMPLETE"


def test_a_stderr_whose_reader_is_gone_stops_no_search(npz_path, tmp_path, monkeypatch):
    # ``... 2>&1 | head``: the progress bar's BrokenPipeError ended the study, exit 1
    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")
    monkeypatch.setattr(sys, "stderr", Gone())
    code = main(["tune", str(npz_path), "--storage", str(tmp_path / "s.journal"), "--cv", "2",
                 "--n-trials", "2", "--space", json.dumps({**SPACE, "device": "cpu"})])
    trials = load_study(str(tmp_path / "s.journal"), "sklstm").trials
    assert (code, [t.state.name for t in trials]) == (0, ["COMPLETE"] * 2)


def test_continuous_targets_for_the_default_classifier_name_the_option(
        tmp_path, data, space_json, capsys):
    # the classifier's message named LSTMRegressor, the class, not the option to pass
    X, _ = data
    path = tmp_path / "reg.npz"
    np.savez(path, X=X, y=np.linspace(0.1, 0.9, len(X)))
    code, _, err = _tune(capsys, tmp_path, path, "--space", space_json)
    assert code == 2
    assert err.rstrip().endswith(f"the targets of {path} are continuous numbers, and "
                                 "sklstm tune fits a classifier unless told otherwise: "
                                 "pass --estimator regressor")
    assert not (tmp_path / "s.journal").exists()


def test_a_class_of_one_sample_exits_2_before_any_trial(tmp_path, data, space_json, capsys):
    # every trial failed (exit 1): the fold that tests it trains on one class alone
    X, _ = data
    y = np.zeros(len(X), dtype=int)
    y[3] = 1
    path = tmp_path / "one.npz"
    np.savez(path, X=X, y=y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (scikit-learn's, about that class)
        code, _, err = _tune(capsys, tmp_path, path, "--space", space_json)
    assert code == 2
    assert "add samples of class 1 (2 at least) or drop its sample" in err
    assert not (tmp_path / "s.journal").exists()


def test_store_converts_a_csv_that_later_runs_tune_on(csv_path, space_json, capsys, tmp_path):
    store = tmp_path / "converted"
    code, out, _ = _tune(capsys, tmp_path, csv_path, "--space", space_json, "--target", "label",
                         "--store", store)
    assert code == 0 and "best trial #" in out
    assert (store / "y.npy").exists()
    code, out, _ = _tune(capsys, tmp_path, store, "--space", space_json, "--study-name", "again")
    assert code == 0 and "best trial #" in out
    code, _, err = _tune(capsys, tmp_path, csv_path, "--target", "label", "--store", store)
    assert code == 2 and "pass its directory as DATA, without --store" in err
    code, _, err = _tune(capsys, tmp_path, store, "--store", tmp_path / "again")
    assert code == 2 and "is a directory; leave --store out" in err


def test_a_seeded_study_continued_samples_new_points(npz_path, space_json, capsys, tmp_path):
    # The seeded sampler drew the same points on every start: a study continued with the
    # same command (as the Ctrl-C message says) ran the trials it already had again.
    def sampled(study_name, n_trials):
        code, _, _ = _tune(capsys, tmp_path, npz_path, "--space", space_json, "--seed", 0,
                           "--study-name", study_name, "--n-trials", n_trials)
        assert code == 0
        # (trial 0 is the baseline, the estimator's own configuration)
        return [t.params for t in load_study(str(tmp_path / "s.journal"), study_name).trials[1:]]

    first = sampled("a", 3)
    continued = sampled("a", 5)
    assert continued[:2] == first
    assert not [params for params in continued[2:] if params in first]
    assert sampled("b", 3) == first  # a new study with the same seed: the same points


@pytest.fixture
def cpu_space(tmp_path):
    path = tmp_path / "cpu_space.json"
    path.write_text(json.dumps({**SPACE, "device": "cpu"}))
    return str(path)


def test_ctrl_c_says_a_trial_is_marked_fail_only_when_one_was(npz_path, cpu_space, capsys,
                                                             tmp_path, monkeypatch):
    # it said "the interrupted one is marked FAIL" after a press between trials too
    import sklstm.search.objective
    import sklstm.search.study

    assert _tune(capsys, tmp_path, npz_path, "--space", cpu_space, "--n-trials", 1)[0] == 0
    with monkeypatch.context() as patch:
        def between_trials(*args, **kwargs):
            raise KeyboardInterrupt

        patch.setattr(sklstm.search.study, "tune_objective", between_trials)
        code, _, err = _tune(capsys, tmp_path, npz_path, "--space", cpu_space)
    assert code == 130 and "interrupted; the finished trials are kept" in err
    assert "marked FAIL" not in err

    def in_a_trial(self, trial):
        if trial.number == 2:  # (trial #1: Ctrl-C before the objective names the worker)
            trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        raise KeyboardInterrupt

    monkeypatch.setattr(sklstm.search.objective.CVObjective, "_evaluate", in_a_trial)
    for number in (1, 2):
        code, _, err = _tune(capsys, tmp_path, npz_path, "--space", cpu_space)
        assert code == 130 and f"the interrupted trial #{number} is marked FAIL" in err


def test_a_timeout_before_n_trials_says_so(npz_path, cpu_space, capsys, tmp_path):
    # the run ended as a finished one did: nothing said that the study was short. (A
    # study with a trial already: 0.01 s may pass before the first trial on a loaded
    # machine, and the run then ran none, rightly, and failed with "no trial completed")
    assert _tune(capsys, tmp_path, npz_path, "--space", cpu_space, "--n-trials", 1)[0] == 0
    code, _, err = _tune(capsys, tmp_path, npz_path, "--space", cpu_space,
                         "--timeout", 0.01)
    assert code == 0
    assert re.search(r"--timeout 0.01 s reached with [12] of 3 trials in the study; run "
                     "the same command again to continue", err), err


def test_a_worker_joining_a_full_study_says_what_it_waits_for(npz_path, cpu_space, capsys,
                                                             tmp_path):
    # after a SIGKILL it sat silent at "1/2" until the dead worker's trial went stale
    import optuna

    assert _tune(capsys, tmp_path, npz_path, "--space", cpu_space, "--n-trials", 1)[0] == 0
    study = load_study(str(tmp_path / "s.journal"), "sklstm")
    study.ask().set_user_attr("worker", "otherhost:1")  # left RUNNING, as a killed one's
    # (the budget's on_wait says it as its first claim waits, before --timeout ends it)
    code, _, err = _tune(capsys, tmp_path, npz_path, "--space", cpu_space, "--n-trials", 2,
                         "--timeout", 1)
    assert code == 0, err
    assert "waiting for trial #1 of worker otherhost:1: a trial is failed as lost if its " \
        "worker sends no heartbeat for 120 s" in err
    states = [t.state for t in load_study(str(tmp_path / "s.journal"), "sklstm").trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.RUNNING]
