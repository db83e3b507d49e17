"""Searches of Pipelines: the steps before the LSTM, and the data they are given."""

import numpy as np
import optuna
import pytest
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier
from sklstm.preprocessing import SequenceResampler, SequenceScaler
from sklstm.search import make_objective, tune
from sklstm.search.objective import checked_objective
from sklstm.search.pipeline import check_search_data

from ..settings import TINY


def test_a_step_that_transforms_in_place_leaves_the_users_data_as_it_was(data, tmp_path):
    # the data check before the search fitted SequenceScaler(copy=False) on the user's
    # own X: it was scaled in place (the folds, copies, never touched it)
    X, y = data
    X = X.copy()
    given = X.copy()
    pipe = Pipeline([("scale", SequenceScaler(copy=False)), ("lstm", LSTMClassifier(**TINY))])
    tune(pipe, X, y, n_trials=1, cv=2, space={"batch_size": [8]},
         storage=f"sqlite:///{tmp_path / 's.db'}")
    np.testing.assert_array_equal(X, given)
    assert pipe.get_params()["scale__copy"] is False  # the estimator searched is not changed
    assert optuna.load_study(study_name="sklstm", storage=f"sqlite:///{tmp_path / 's.db'}"
                             ).trials[0].state.name == "COMPLETE"


@pytest.mark.parametrize("copy", [False, np.False_])
def test_the_data_check_leaves_the_users_data_to_a_step_that_transforms_in_place(copy, data):
    # copy=np.False_ (a valid "boolean") was not made a copying step: the data check
    # scaled the user's X in place
    X = data[0].copy()
    pipe = Pipeline([("scale", SequenceScaler(copy=copy)),
                     ("lstm", LSTMClassifier(**TINY, device="cpu"))])
    check_search_data(pipe, X, data[1])
    np.testing.assert_array_equal(X, data[0])
    assert pipe.get_params()["scale__copy"] is copy  # the estimator searched is not changed


def test_a_step_that_transforms_in_place_scores_each_fold_as_a_copying_one(data):
    # each epoch's score scaled the fold's held-out data again, in place: a log loss of
    # -18 where the same fits score -0.25
    scores = []
    for copy in (True, False):
        pipe = Pipeline([("scale", SequenceScaler(copy=copy)),
                         ("lstm", LSTMClassifier(**{**TINY, "max_epochs": 3}))])
        objective = make_objective(pipe, *data, cv=2, space={"batch_size": [8]},
                                   scoring="neg_log_loss")
        study = optuna.create_study(direction="maximize")
        study.optimize(objective, n_trials=1)
        (trial,) = study.trials
        scores.append((trial.user_attrs["fold_scores"], trial.intermediate_values))
    (folds, epochs), (in_place_folds, in_place_epochs) = scores
    # (the same fits: equal on the CPU; CUDA's kernels may round otherwise from run to run)
    assert in_place_folds == pytest.approx(folds, rel=1e-3)
    assert in_place_epochs == pytest.approx(epochs, rel=1e-3)


@pytest.mark.parametrize(("estimator", "message"), [
    # "got ABCMeta", the class's metaclass, and no fix
    (LSTMClassifier, r"estimator must be an estimator instance, got the class LSTMClassifier: "
     r"pass an instance, LSTMClassifier\(\)"),
    (SequenceScaler, "estimator must be an estimator instance, got the class SequenceScaler$"),
])
def test_an_estimator_class_is_refused_naming_it(estimator, message, data, tmp_path):
    with pytest.raises(TypeError, match=message):
        tune(estimator, *data, n_trials=1, storage=str(tmp_path / "s.journal"))
    assert list(tmp_path.iterdir()) == []


# conv widths too long for the sequences the Pipeline's LSTM is given


SHORT = np.zeros((8, 5, 2), dtype=np.float32), np.arange(8) % 2  # kernels (8, 5, 3)


def test_a_pipelines_conv_widths_too_long_for_the_sequences_are_refused_before_any_trial(
        tmp_path):
    # a bare LSTM was refused; a Pipeline's failed every trial of conv_channels=32
    pipe = Pipeline([("scale", SequenceScaler()),
                     ("lstm", LSTMClassifier(**TINY, device="cpu"))])
    with pytest.raises(ValueError, match=r"space entry 'conv_channels'.*kernel of 8 steps.*"
                       r"shortest training sequence has 5"):
        tune(pipe, *SHORT, n_trials=1, cv=2, space={"conv_channels": [None, 32]},
             storage=str(tmp_path / "s.journal"))
    assert list(tmp_path.iterdir()) == []
    objective = checked_objective(pipe, *SHORT, cv=2)  # the default space leaves them out
    assert objective.space["conv_channels"][1].choices == ("auto", None)


def test_a_sampled_step_before_the_lstm_leaves_the_conv_widths_to_the_trials():
    # the data check resamples by the step's own factor (4 steps); the trials sample
    # factor=1, whose 8 steps fit kernels of 6: no refusal
    pipe = Pipeline([("resample", SequenceResampler(factor=2)),
                     ("lstm", LSTMClassifier(**TINY, conv_kernel_sizes=(6, 6, 6),
                                             device="cpu"))])
    X = np.zeros((8, 8, 2), dtype=np.float32)
    objective = checked_objective(pipe, X, SHORT[1], cv=2,
                                  space={"resample__factor": [1], "conv_channels": [16]})
    assert objective.space["conv_channels"][2] == [16]
