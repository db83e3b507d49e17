"""``sklstm tune`` refusing bad input before it writes a study, and failing runs' status."""

import json
import sqlite3
import sys
import zipfile

import numpy as np
import pytest

from sklstm import LSTMClassifier
from sklstm.cli import main

from .helpers import SPACE, assert_refused, cli, load_study, run_tune


def _npz(tmp_path, **arrays):
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    return path


rng = np.random.default_rng(0)
X = rng.normal(size=(30, 6, 2)).astype(np.float32)
Y = np.arange(30) % 2

BAD_DATA = {
    "nan in X": (lambda: {"X": np.where(X > 2, np.nan, X), "y": Y}, "Input X contains NaN"),
    "1-D X": (lambda: {"X": X[:, 0, 0], "y": Y}, "got 1D input"),
    "text X": (lambda: {"X": np.full((30, 3), "a"), "y": Y}, "X holds non-numeric values"),
    "one class": (lambda: {"X": X, "y": np.zeros(30)}, "y contains only one class"),
    "no y": (lambda: {"X": X}, "missing array(s) ['y']"),
    "scalar X": (lambda: {"X": np.float64(1.0), "y": np.float64(1.0)},
                 "must be arrays of samples"),
    "ragged object X": (lambda: {"X": np.array([np.ones(2), np.ones(3)], dtype=object),
                                 "y": [0, 1]}, "object (ragged) arrays are not loaded"),
}


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_data_is_refused_before_any_study(name, capsys, tmp_path):
    arrays, message = BAD_DATA[name]
    path = _npz(tmp_path, **arrays())
    code, _, err = run_tune(capsys, tmp_path, path)
    assert_refused(code, err, message, tmp_path, [path.name])


CORRUPT_NPZ = {
    "random bytes": lambda data: bytes(range(256)) * 4,
    "truncated": lambda data: data[: len(data) // 2],
    "text": lambda data: b"X,y\n1,2\n",
    "damaged member": lambda data: data[:60] + bytes(40) + data[100:],
}


@pytest.mark.parametrize("name", sorted(CORRUPT_NPZ))
def test_a_corrupt_npz_is_reported(name, capsys, tmp_path):
    path = _npz(tmp_path, X=X, y=Y)
    path.write_bytes(CORRUPT_NPZ[name](path.read_bytes()))
    code, _, err = run_tune(capsys, tmp_path, path)
    assert_refused(code, err, "write the file with numpy.savez(path, X=X, y=y)", tmp_path,
                   [path.name])
    assert "data.npz: " in err


def test_a_latin1_csv_names_its_encoding_and_the_fix(capsys, tmp_path):
    path = tmp_path / "data.csv"
    rows = "\n".join(",".join(f"{v:.3f}" for v in row) + f",{'été' if i % 2 else 'hiver'}"
                     for i, row in enumerate(X[:, :, 0]))
    path.write_bytes(("t0,t1,t2,t3,t4,t5,saison\n" + rows + "\n").encode("latin-1"))
    code, _, err = run_tune(capsys, tmp_path, path, "--target", "saison")
    assert_refused(code, err, "the CSV is not valid utf-8 (byte 0xe9", tmp_path, [path.name])
    assert "--encoding latin-1" in err
    code, out, _ = run_tune(capsys, tmp_path, path, "--target", "saison", "--encoding", "latin-1")
    assert code == 0 and "best trial #0" in out


def _target_first_csv(tmp_path, X, encoding="utf-8"):
    """``Y`` and the sequences ``X`` (n, T) as a CSV, the target its first column."""
    path = tmp_path / "data.csv"
    header = ",".join(["y"] + [f"t{t}" for t in range(X.shape[1])])
    rows = "\n".join(",".join([str(label)] + [f"{v:.3f}" for v in row])
                     for label, row in zip(Y, X, strict=True))
    path.write_bytes((header + "\n" + rows + "\n").encode(encoding))
    return path


def test_a_csv_and_a_space_file_with_a_byte_order_mark_read(capsys, tmp_path):
    path = _target_first_csv(tmp_path, X[:, :, 0], encoding="utf-8-sig")
    space = tmp_path / "space.json"  # as Notepad saves it: was "not valid JSON"
    space.write_text(SPACE, encoding="utf-8-sig")
    code, _, _ = run_tune(capsys, tmp_path, path, "--space", space)  # the last --space counts
    assert code == 0


@pytest.mark.parametrize(("sequences", "message"), [
    (np.where(np.arange(6) == 2, np.nan, X[:, :, 0]),
     "data.csv: row 2 (the header is row 1), column 't2', has the value 'nan' (and 29 more "
     "such rows): a sequence value is missing; fill it in or drop the row"),
    (X[:, :0, 0], "data.csv: no feature column: the CSV has only the target column 'y'"),
], ids=["missing value", "no feature column"])
def test_a_csv_without_its_sequences_is_refused(sequences, message, capsys, tmp_path):
    path = _target_first_csv(tmp_path, sequences)
    code, _, err = run_tune(capsys, tmp_path, path)
    assert_refused(code, err, message, tmp_path, [path.name])


def _foreign_sqlite(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (text)")
        db.execute("INSERT INTO notes VALUES ('mine')")
    return path


@pytest.mark.parametrize(("kind", "message"), [
    ("journal", "is not an Optuna journal file (its first line is not a journal entry)"),
    ("sqlite-text", "is not an SQLite database (no SQLite header)"),
    ("sqlite-other", "is not an Optuna study database (it holds other tables: notes)"),
])
def test_a_storage_that_is_not_a_study_is_left_untouched(kind, message, capsys, tmp_path):
    path = _npz(tmp_path, X=X, y=Y)
    own = tmp_path / ("notes.db" if kind == "sqlite-other" else "notes.txt")
    if kind == "sqlite-other":
        _foreign_sqlite(own)
    else:
        own.write_text("my notes, one line\n")
    before = own.read_bytes()
    storage = str(own) if kind == "journal" else f"sqlite:///{own}"
    code, _, err = run_tune(capsys, tmp_path, path, storage=storage)
    assert_refused(code, err, message, tmp_path, [path.name, own.name])
    assert own.read_bytes() == before


@pytest.mark.parametrize(("option", "value", "message"), [
    # the options tune also takes are checked as tune checks them, under their names
    ("--n-trials", 0, "--n-trials must be an int >= 1, got 0 (the study's total"),
    ("--n-trials", -3, "--n-trials must be an int >= 1, got -3"),
    ("--timeout", 0, "--timeout must be a positive number of seconds, got 0.0 (leave it "
     "out for no time limit)"),
    ("--timeout", -5, "--timeout must be a positive"),
    ("--timeout", "nan", "--timeout must be a positive"),
    ("--heartbeat", -1, "--heartbeat must be an int >= 1, got -1 (0 turns heartbeats off)"),
    # refused by the storage as heartbeat_interval, after the data had been loaded
    ("--heartbeat", 86401, "--heartbeat must be at most 86400 seconds (a day), got 86401"),
    ("--retry-failed", -1, "--retry-failed must be an int >= 0, got -1"),
    ("--max-rows", 0, "--max-rows must be at least 1"),
    ("--seed", -1, "--seed must be in [0, 2**32 - 1], got -1"),
    ("--study-name", " ", "--study-name must not be empty"),
    ("--space", '{"batch_size": [0]}', "space entry 'batch_size': the choice 0"),
    ("--space", '{"batch_size": [8.0]}', "space entry 'batch_size': the choice 8.0"),
    ("--space", "missing.json", "search space file 'missing.json' not found"),
    ("--space", "spaces/lstm", "search space file 'spaces/lstm' not found"),
    ("--space", "space.jsn", "search space file 'space.jsn' not found"),  # (was bad JSON)
    ("--space", '{"batch_size": [16, 32],}', "remove the comma before '}'"),
    ("--space", '{"lr": {"low": 0.1, "high": 0.001}}', "low is above high: swap them"),
    # --space "$SPACE" with SPACE unset: the default space was searched in silence
    ("--space", "", "--space is empty: give a JSON file or JSON text"),
    ("--space", '{"embedding_dim": 4, "downsample": 2}',
     "space entries 'embedding_dim', 'downsample': the fixed values 4, 2 would fail every "
     "trial together"),
    ("--encoding", "klingon", "unknown encoding 'klingon'"),
    # a study lost at exit, which the command then said to run again to continue
    ("--storage", "sqlite://", "--storage 'sqlite://' keeps the study in memory: it is lost "
     "when sklstm tune exits"),
    ("--storage", "sqlite:///:memory:", "keeps the study in memory"),
    # ignored in silence: the search ran on the file's array y
    ("--target", "label", "--target 'label' names a CSV column or a sequence store's "
     "targets, but"),
    # it was sklearn's message, every scorer name on one line
    ("--scoring", "acuracy", "--scoring 'acuracy' is not a scikit-learn scorer name; did "
     "you mean 'accuracy', 'top_k_accuracy'? sklearn.metrics.get_scorer_names() lists them"),
    # every trial failed, exit 1, and a study was written
    ("--scoring", "r2", "scoring 'r2' is a regression metric, but LSTMClassifier is a "
     "classifier: every trial would fail or score nonsense. Leave scoring out (the "
     "estimator's score method) or give one of the scorers for a classifier: accuracy,"),
])
def test_bad_options_are_refused_before_any_study(option, value, message, capsys, tmp_path,
                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative --space path is looked for there
    if option == "--encoding":  # the encoding is only read for CSV files
        path = tmp_path / "data.csv"
        path.write_text("t0,y\n1,0\n2,1\n")
    else:
        path = _npz(tmp_path, X=X, y=Y)
    code, _, err = run_tune(capsys, tmp_path, path, option, value)
    assert_refused(code, err, message, tmp_path, [path.name])


def test_a_heartbeat_longer_than_a_day_is_refused_before_the_data_are_loaded(capsys,
                                                                            tmp_path):
    # the data were loaded (minutes for a large file) before the storage refused it
    code, _, err = run_tune(capsys, tmp_path, tmp_path / "missing.npz", "--heartbeat", 2 * 86400)
    assert_refused(code, err, "--heartbeat must be at most 86400 seconds (a day), got 172800",
             tmp_path, [])


def test_retries_without_heartbeats_are_refused_before_any_study(capsys, tmp_path):
    # --retry-failed with --heartbeat 0 was dropped in silence: without heartbeats no
    # dead worker's trial is found, so none is run again
    path = _npz(tmp_path, X=X, y=Y)
    code, _, err = run_tune(capsys, tmp_path, path, "--heartbeat", 0, "--retry-failed", 2)
    assert_refused(code, err, "--retry-failed=2 does nothing without heartbeats (--heartbeat is "
             "off): only they find a trial failed for its dead worker, and run it again; "
             "give --heartbeat a number of seconds (e.g. 60), or --retry-failed=0",
             tmp_path, [path.name])


def test_a_classification_scoring_for_the_regressor_is_refused_before_any_study(
        capsys, tmp_path):
    path = _npz(tmp_path, X=X, y=np.linspace(0, 1, 30))
    code, _, err = run_tune(capsys, tmp_path, path, "--estimator", "regressor", "--scoring",
                        "accuracy")
    assert_refused(code, err, "scoring 'accuracy' is a classification metric, but LSTMRegressor "
             "is a regressor", tmp_path, [path.name])
    # a misspelt name is matched among the regressor's scorers (accuracy was suggested,
    # then refused)
    code, _, err = run_tune(capsys, tmp_path, path, "--estimator", "regressor", "--scoring",
                        "neg_mean_squared_eror")
    assert_refused(code, err, "did you mean 'neg_mean_squared_error', ", tmp_path, [path.name])
    code, _, err = run_tune(capsys, tmp_path, path, "--estimator", "regressor", "--scoring",
                        "acuracy")
    assert "did you mean" not in err


def test_text_targets_for_the_regressor_name_the_option(capsys, tmp_path):
    # the regressor's message named LSTMClassifier, the class, not the option to leave out
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,y\n" + "".join(f"{i},{i + 1},{'cd'[i % 2]}\n" for i in range(8)))
    code, _, err = run_tune(capsys, tmp_path, path, "--estimator", "regressor")
    assert_refused(code, err, f"The targets of {path} are text, class labels: leave --estimator "
             "regressor out", tmp_path, ["data.csv"])


def test_exit_status_1_when_every_trial_fails(capsys, tmp_path):
    """The space samples token input (a choice, so not refused up front as a fixed value
    is), which the float data cannot be: every fit fails."""
    path = _npz(tmp_path, X=X, y=Y)
    failing = json.dumps({**json.loads(SPACE), "embedding_dim": [2]})
    code = main(["tune", str(path), "--storage", str(tmp_path / "s.journal"), "--n-trials", "2",
                 "--cv", "2", "--no-progress", "--space", failing])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(
        "sklstm tune: error: no trial of the study completed (2 failed); last failure: "
        "ValueError: Token input must be a padded 2D array")
    assert "FAIL" in out  # the table still shows what happened


def test_exit_status_1_when_this_runs_trials_fail_after_others_completed(capsys, tmp_path,
                                                                        monkeypatch):
    path = _npz(tmp_path, X=X, y=Y)
    code, _, _ = run_tune(capsys, tmp_path, path)
    assert code == 0

    def failing_fit(self, X, y, **fit_params):
        raise RuntimeError("this run's fits fail")

    # the same search (another space or data would be refused), whose fits now fail
    with monkeypatch.context() as patch:
        patch.setattr(LSTMClassifier, "fit", failing_fit)
        code = main(["tune", str(path), "--storage", str(tmp_path / "s.journal"),
                     "--n-trials", "2", "--cv", "2", "--no-progress", "--space", SPACE])
    err = capsys.readouterr().err
    assert code == 1 and "all 1 trials this worker ran failed" in err
    # a later run with nothing left to do is a success again
    code, _, _ = run_tune(capsys, tmp_path, path)
    assert code == 0


def test_a_good_run_leaves_only_its_journal(capsys, tmp_path):
    path = _npz(tmp_path, X=X, y=Y)
    code, _, err = run_tune(capsys, tmp_path, path)
    assert code == 0 and "error" not in err
    assert {p.name for p in tmp_path.iterdir()} >= {path.name, "s.journal"}
    assert zipfile.is_zipfile(path)


def test_a_directory_as_storage_is_refused_naming_a_file_in_it(capsys, tmp_path):
    path = _npz(tmp_path, X=X, y=Y)
    code, _, err = run_tune(capsys, tmp_path, path, storage=str(tmp_path))
    assert_refused(code, err, f"storage '{tmp_path}' is a directory; name a file in it, e.g. "
             f"'{tmp_path / 'sklstm-study.journal'}'", tmp_path, [path.name])


def test_failed_trials_are_reported_without_tracebacks(tmp_path):
    # Optuna logged each failed trial's traceback, a screenful of library frames
    path = _npz(tmp_path, X=X, y=Y)
    failing = json.dumps({**json.loads(SPACE), "embedding_dim": [2]})
    proc = cli("tune", path, "--storage", tmp_path / "s.journal", "--n-trials", "2", "--cv",
               "2", "--no-progress", "--space", failing)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in err and 'File "' not in err
    assert err.count("failed with parameters: {'batch_size': 8, 'lr': 0.03, 'embedding_dim': "
                     "2} because of the following error: ValueError('Token input must be") == 2


def test_without_optuna_tune_says_what_to_install(capsys, tmp_path, monkeypatch):
    # optuna is an optional dependency: its ModuleNotFoundError came as a traceback
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna raises ImportError
    path = _npz(tmp_path, X=X, y=Y)
    code, _, err = run_tune(capsys, tmp_path, path)
    assert_refused(code, err, "sklstm tune needs optuna: pip install 'sklstm[optuna]'", tmp_path,
             [path.name])


@pytest.mark.parametrize(("raised", "status", "message"), [
    (PermissionError(13, "Permission denied", "data.npz"), 1,
     "sklstm tune: error: [Errno 13] Permission denied: 'data.npz'"),
    (KeyboardInterrupt(), 130, "sklstm tune: interrupted"),
], ids=["os error", "ctrl-c"])
def test_an_os_error_or_ctrl_c_before_the_study_is_one_line(raised, status, message, capsys,
                                                            tmp_path, monkeypatch):
    # both came as a traceback: only ValueError and TypeError, and a Ctrl-C in the study
    # itself, were caught (a file root may read and others not; a Ctrl-C while a large
    # file is read)
    def load_dataset(*args, **kwargs):
        raise raised

    monkeypatch.setattr("sklstm.datasets.load_dataset", load_dataset)
    path = _npz(tmp_path, X=X, y=Y)
    try:
        code, _, err = run_tune(capsys, tmp_path, path)
    except KeyboardInterrupt:  # (uncaught, it would stop the test run)
        pytest.fail("main let the KeyboardInterrupt through")
    assert code == status and err.strip().splitlines() == [message]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_a_storage_that_fails_to_record_a_trial_is_one_line_and_status_1(capsys, tmp_path,
                                                                         monkeypatch):
    # Optuna's "AssertionError: Should not reach." came as a traceback
    import errno

    from optuna.storages.journal import JournalFileBackend

    completed, append = [], JournalFileBackend.append_logs

    def disk_full_at_the_second_trials_end(self, logs):
        if any(log["op_code"] == 6 and log.get("state") == 1 for log in logs):  # COMPLETE
            if completed:
                raise OSError(errno.ENOSPC, "No space left on device")
            completed.append(logs)
        return append(self, logs)

    monkeypatch.setattr(JournalFileBackend, "append_logs", disk_full_at_the_second_trials_end)
    path = _npz(tmp_path, X=X, y=Y)
    code, _, err = run_tune(capsys, tmp_path, path, "--n-trials", 2)
    monkeypatch.undo()
    assert code == 1
    journal = tmp_path / "s.journal"
    assert err.strip().splitlines()[-1] == (
        f"sklstm tune: error: the study 'sklstm' could not be written to journal file "
        f"{journal} (OSError: [Errno 28] No space left on device); the 1 finished trial it "
        "holds is kept, but a trial it was recording is not marked finished: a worker fails "
        "it after the grace period, as a dead worker's. Make the storage writable again "
        "(free disk space, file permissions, the database server), and run the same search "
        "again to continue the study.")
    assert [t.state.name for t in load_study(str(journal), "sklstm").trials] == [
        "COMPLETE", "RUNNING"]


def test_a_closed_stdout_ends_the_report_without_a_traceback(tmp_path):
    # sklstm tune ... | head -1: the report's print raised BrokenPipeError
    path = _npz(tmp_path, X=X, y=Y)
    proc = cli("tune", path, "--storage", tmp_path / "s.journal", "--n-trials", "1", "--cv",
               "2", "--no-progress", "--space", SPACE)
    proc.stdout.close()  # the reader is gone before the report is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0  # the search's status, not the reader's
    assert "Traceback" not in err and "BrokenPipeError" not in err
    assert load_study(str(tmp_path / "s.journal"), "sklstm").trials[0].state.name == "COMPLETE"
