"""The cross-validated Optuna objective: per-epoch reporting, pruning, failures, attrs."""

import re
import warnings

import numpy as np
import optuna
import pytest
from sklearn.base import clone, is_classifier
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import make_scorer, mean_absolute_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequenceScaler
from sklstm.search import create_or_load_study, make_objective, run_study, tune
from sklstm.search.scoring_kind import check_scoring_kind

GOOD, BAD = 0.03, 1e-6  # learning rates: learns within an epoch / stays at its initial loss


# pytest fixtures shared by the search tests


class Boom(Callback):
    def on_epoch_end(self, net, **kwargs):
        raise RuntimeError("boom at epoch end")


def _study(pruner=None, name="objective-test"):
    return optuna.create_study(direction="maximize", pruner=pruner, study_name=name)


def _optimize(study, objective, params_list):
    for params in params_list:
        study.enqueue_trial(params)
    study.optimize(objective, n_trials=len(params_list), catch=(Exception,))
    return study.trials


def test_reports_every_epoch_of_every_fold(pipeline, data):
    cv, epochs = 2, pipeline.get_params()["lstm__max_epochs"]
    objective = make_objective(pipeline, *data, cv=cv, space={"lr": [GOOD]})
    (trial,) = _optimize(_study(optuna.pruners.NopPruner()), objective, [{"lr": GOOD}])
    assert sorted(trial.intermediate_values) == list(range(cv * epochs))
    # the last epoch of fold k is scored on fold k's held-out data: it is that fold's score
    folds = trial.user_attrs["fold_scores"]
    assert [trial.intermediate_values[k * epochs + epochs - 1] for k in range(cv)] == folds
    assert trial.value == pytest.approx(np.mean(folds))


def test_a_searched_max_epochs_keeps_the_folds_of_every_trial_in_line(pipeline, data):
    # Each trial's own max_epochs was its fold's steps: fold 1 of a 2-epoch trial
    # reported at steps 2-3, those of fold 0's epochs 2-3 of a 4-epoch trial, and a
    # pruner compared the two.
    objective = make_objective(pipeline, *data, cv=2, space={"max_epochs": [2, 4]})
    short, long = _optimize(_study(optuna.pruners.NopPruner()), objective,
                            [{"max_epochs": 2}, {"max_epochs": 4}])
    assert sorted(short.intermediate_values) == [0, 1, 4, 5]
    assert sorted(long.intermediate_values) == list(range(8))
    assert [short.intermediate_values[1], short.intermediate_values[5]] == \
        short.user_attrs["fold_scores"]


def test_user_attrs_hold_fit_costs(pipeline, data):
    objective = make_objective(pipeline, *data, cv=2, space={"batch_size": [8], "max_epochs": 1})
    (trial,) = _optimize(_study(), objective, [{"batch_size": 8}])
    attrs = trial.user_attrs
    assert attrs["mean_fit_time"] > 0
    assert attrs["mean_peak_memory"] > 0
    assert attrs["mean_n_updates"] == np.ceil(len(data[0]) / 2 / 8)  # 1 epoch of 30 samples
    assert attrs["fixed_params"] == {"lstm__max_epochs": 1}
    assert len(attrs["fold_scores"]) == 2


@pytest.mark.parametrize(
    "pruner",
    [
        optuna.pruners.MedianPruner(n_startup_trials=2),
        optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
        optuna.pruners.HyperbandPruner(min_resource=1, max_resource=6, reduction_factor=2),
    ],
    ids=["median", "successive-halving", "hyperband"],
)
def test_pruners_stop_bad_trials_in_the_first_fold(pruner, pipeline, data):
    pipeline.set_params(lstm__max_epochs=3)
    objective = make_objective(pipeline, *data, cv=2, scoring="neg_log_loss",
                               space={"lr": [GOOD, BAD]}, reuse_duplicates=False)
    trials = _optimize(_study(pruner), objective, [{"lr": lr} for lr in (GOOD, GOOD, BAD, BAD)])
    assert [t.state.name for t in trials] == ["COMPLETE"] * 2 + ["PRUNED"] * 2
    for trial in trials[2:]:
        assert max(trial.intermediate_values) < 3  # stopped within fold 0's three epochs
        assert trial.user_attrs["fold_scores"] == []  # no fold finished


def test_a_repeated_trial_reuses_the_finished_one(pipeline, data):
    objective = make_objective(pipeline.set_params(lstm__max_epochs=3), *data, cv=2,
                               space={"lr": [GOOD, BAD]})
    study = _study(optuna.pruners.MedianPruner(n_startup_trials=1))
    trials = _optimize(study, objective, [{"lr": lr} for lr in (GOOD, BAD, GOOD, BAD)])
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "COMPLETE", "PRUNED"]
    again_good, again_bad = trials[2:]
    assert again_good.value == trials[0].value
    assert again_good.intermediate_values == {}  # nothing was fitted, so nothing reported
    assert again_good.user_attrs["duplicate_of"] == 0
    assert again_good.user_attrs["fold_scores"] == trials[0].user_attrs["fold_scores"]
    # a pruned one ends pruned with the same curve, which samplers rank it by
    assert again_bad.user_attrs["duplicate_of"] == 1
    assert again_bad.intermediate_values == trials[1].intermediate_values


@pytest.mark.parametrize(
    ("change", "reuse"),
    [({"lstm__random_state": None}, True), ({}, False)],
    ids=["unseeded-estimator", "reuse-turned-off"],
)
def test_repeated_trials_are_refitted_unless_the_fit_is_reproducible(
        change, reuse, pipeline, data):
    objective = make_objective(pipeline.set_params(**change), *data, cv=2,
                               space={"lr": [GOOD]}, reuse_duplicates=reuse)
    trials = _optimize(_study(optuna.pruners.NopPruner()), objective, [{"lr": GOOD}] * 2)
    assert "duplicate_of" not in trials[1].user_attrs
    assert len(trials[1].intermediate_values) == 2 * pipeline.get_params()["lstm__max_epochs"]


def test_same_sampled_params_with_other_fixed_params_are_not_duplicates(pipeline, data):
    study = _study(optuna.pruners.NopPruner())
    for epochs in (1, 2):
        objective = make_objective(pipeline, *data, cv=2,
                                   space={"lr": [GOOD], "max_epochs": epochs})
        (trial,) = _optimize(study, objective, [{"lr": GOOD}])[-1:]
        assert "duplicate_of" not in trial.user_attrs
        assert len(trial.intermediate_values) == 2 * epochs


@pytest.mark.parametrize(
    ("broken", "reason"),
    [({"lstm__hidden_size": 0},
      "InvalidParameterError: The 'hidden_size' parameter of LSTMClassifier must be"),
     ({"lstm__callbacks": [("boom", Boom())]}, "RuntimeError: boom at epoch end")],
    ids=["invalid-param", "user-callback-kept-and-raises"],
)
def test_failed_trials_record_why_and_search_goes_on(broken, reason, pipeline, data):
    space = {"lr": [GOOD]}
    study = _study()
    failing = make_objective(clone(pipeline).set_params(**broken), *data, cv=2, space=space)
    (trial,) = _optimize(study, failing, [{"lr": GOOD}])
    assert trial.state.name == "FAIL"
    assert trial.user_attrs["fail_reason"].startswith(reason)
    ok = make_objective(pipeline, *data, cv=2, space=space)
    assert _optimize(study, ok, [{"lr": GOOD}])[-1].state.name == "COMPLETE"


def test_a_trial_that_fails_to_sample_records_why_and_uses_up_the_budget(
        pipeline, data, tmp_path):
    # a distribution the storage refuses (tune refuses such a space before it gets here)
    study = create_or_load_study("s", str(tmp_path / "s.journal"))
    study.tell(study.ask({"lr": optuna.distributions.CategoricalDistribution([GOOD, BAD])}), 0.5)
    objective = make_objective(pipeline, *data, cv=2, space={"lr": [GOOD]})
    # timeout: without a fail reason the failed trial did not count, and trials were
    # created for ever
    run_study(study, objective, n_trials=2, timeout=10)
    failed = study.trials[1:]
    assert [t.state.name for t in failed] == ["FAIL"]
    assert "dynamic value space" in failed[0].user_attrs["fail_reason"]


def test_multi_objective_pareto_front_without_pruning(pipeline, data):
    with pytest.warns(UserWarning, match="pruning"):
        study = tune(pipeline, *data, n_trials=3, cv=2, multi_objective="fit_time",
                     pruner="median", space={"batch_size": [8, 16, 32]},
                     storage=optuna.storages.InMemoryStorage())
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert isinstance(study.pruner, optuna.pruners.NopPruner)
    assert 1 <= len(study.best_trials) <= 3
    for trial in study.trials:
        assert trial.state.name == "COMPLETE"
        assert trial.intermediate_values == {}  # Trial.report is single-objective only
        assert trial.values[1] == pytest.approx(trial.user_attrs["mean_fit_time"])


def test_make_objective_warns_that_multi_objective_cannot_prune(pipeline, data):
    with pytest.warns(UserWarning, match="cannot prune multi-objective"):
        objective = make_objective(pipeline, *data, multi_objective="peak_memory")
    assert not objective.report_every_epoch


@pytest.mark.parametrize("scoring", [["accuracy", "f1"], {"a": "accuracy"}])
def test_objective_needs_a_single_score(scoring, pipeline, data):
    with pytest.raises(ValueError, match="single scoring"):
        make_objective(pipeline, *data, scoring=scoring)


@pytest.mark.parametrize(("directions", "multi_objective", "fix"), [
    (["minimize"], None, "direction='maximize'"),  # Optuna's default direction
    (["maximize", "minimize"], None, "direction='maximize'"),
    (["maximize"], "fit_time", "directions=['maximize', 'minimize']"),
    (["minimize", "maximize"], "fit_time", "directions=['maximize', 'minimize']"),
])
def test_a_study_of_other_directions_is_refused_before_any_fit(directions, multi_objective,
                                                                fix, pipeline, data, tmp_path):
    # a minimize study searched for the worst score; another number of objectives
    # fitted every trial in full, then failed it
    study = optuna.create_study(directions=directions, storage=f"sqlite:///{tmp_path / 's.db'}")
    objective = make_objective(pipeline, *data, cv=2, space={"lr": [GOOD, BAD]},
                               multi_objective=multi_objective, report_every_epoch=False)
    with pytest.raises(ValueError, match=f"the study has directions .*{re.escape(fix)}"):
        study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert trial.state.name == "FAIL"
    assert "fold_scores" not in trial.user_attrs  # nothing was fitted
    assert trial.user_attrs["fail_reason"].startswith("ValueError: this objective returns")


@pytest.mark.parametrize(("estimator", "scoring", "message"), [
    (LSTMRegressor(), "accuracy", "scoring 'accuracy' is a classification metric, but "
     "LSTMRegressor is a regressor: every trial would fail or score nonsense. Leave scoring "
     "out (the estimator's score method) or give one of the scorers for a regressor: "
     "d2_absolute_error_score,"),
    (LSTMRegressor(), make_scorer(roc_auc_score), "is a classification metric, but "
     "LSTMRegressor is a regressor"),
    (LSTMRegressor(), "adjusted_rand_score", "is a clustering metric"),
    (make_pipeline(SequenceScaler(), LSTMClassifier()), "r2", "scoring 'r2' is a regression "
     "metric, but LSTMClassifier is a classifier"),
    (LSTMClassifier(), "acuracy", "scoring 'acuracy' is not a scikit-learn scorer name; did "
     "you mean 'accuracy', 'top_k_accuracy'? give one of the scorers for a classifier: "
     "accuracy, adjusted_mutual_info_score,"),
])
def test_a_scoring_that_cannot_score_the_estimator_is_refused_before_any_study(
        estimator, scoring, message, tmp_path, monkeypatch):
    # every trial failed (accuracy of real values) or scored nonsense (r2 of labels),
    # after the study had been written
    monkeypatch.chdir(tmp_path)
    X = np.random.default_rng(0).normal(size=(20, 4, 2)).astype(np.float32)
    y = np.arange(20) % 2 if is_classifier(estimator) else np.linspace(0, 1, 20)
    with pytest.raises(ValueError) as info:
        tune(estimator, X, y, n_trials=1, cv=2, scoring=scoring, space={"batch_size": [8]})
    assert message in str(info.value)
    assert list(tmp_path.iterdir()) == []


_CLASSES = ("cannot score these classes", "it fails even on predictions that are all right",
            "or give one of the scorers for them: accuracy,")
_TARGETS = ("cannot score these targets",
            "or give one of the scorers for them: d2_absolute_error_score,")


@pytest.mark.parametrize(("estimator", "y", "scoring", "expected"), [
    (LSTMClassifier(), np.arange(30) % 3, "f1",
     ("Target is multiclass but average='binary'.", *_CLASSES)),
    (LSTMClassifier(), np.arange(30) % 3, "roc_auc",
     ("multi_class must be in ('ovo', 'ovr')", *_CLASSES)),
    (LSTMClassifier(), np.array(["no", "yes"] * 15), "precision",
     ("pos_label=1 is not a valid label", *_CLASSES)),
    (LSTMClassifier(), np.arange(30) % 2, "recall_samples",
     ("Samplewise metrics are not available", *_CLASSES)),
    (LSTMRegressor(), np.linspace(-1, 1, 30), "neg_mean_poisson_deviance",
     ("can only be used on non-negative y", *_TARGETS)),
    (LSTMRegressor(), np.linspace(0, 1, 30), "neg_mean_gamma_deviance",
     ("can only be used on strictly positive y", *_TARGETS)),
    (LSTMRegressor(), np.linspace(-2, 1, 30), "neg_root_mean_squared_log_error",
     ("cannot be used when targets contain values less than or equal to -1", *_TARGETS)),
])
def test_a_scoring_the_targets_refuse_is_refused_before_any_study(estimator, y, scoring,
                                                                   expected, tmp_path,
                                                                   monkeypatch):
    # every trial failed with the metric's error, after the study had been written
    monkeypatch.chdir(tmp_path)
    X = np.random.default_rng(0).normal(size=(30, 4, 2)).astype(np.float32)
    with pytest.raises(ValueError) as info:
        tune(estimator, X, y, n_trials=1, cv=2, scoring=scoring, space={"batch_size": [8]})
    assert f"scoring {scoring!r} cannot score these" in str(info.value)
    for part in expected:
        assert part in str(info.value)
    assert f" {scoring}," not in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("estimator", "scoring"), [
    (LSTMClassifier(), "adjusted_rand_score"), (LSTMClassifier(), "neg_log_loss"),
    (LSTMClassifier(), "roc_auc_ovr"), (LSTMClassifier(), "f1_macro"),
    (LSTMRegressor(), make_scorer(mean_absolute_error, greater_is_better=False)),
    (LSTMRegressor(), lambda estimator, X, y: 0.0), (LSTMRegressor(), None),
    # targets of 0: refused as predictions, taken as targets
    (LSTMRegressor(), "neg_mean_poisson_deviance"), (LSTMRegressor(), "neg_mean_squared_log_error"),
])
def test_a_scoring_that_fits_the_estimator_is_kept(estimator, scoring):
    y = np.arange(12) % 3 if is_classifier(estimator) else np.linspace(0, 1, 12)
    assert check_scoring_kind(estimator, scoring, y) is scoring


@pytest.mark.parametrize("estimator", [LSTMClassifier(), LSTMRegressor()])
def test_auto_folds_keep_each_group_whole(estimator, recwarn):
    # "auto" split by RepeatedStratifiedKFold, ignoring the groups (scikit-learn warned)
    X = np.zeros((30, 4, 1), dtype=np.float32)
    y = np.arange(30) % 2 if is_classifier(estimator) else np.linspace(0, 1, 30)
    groups = np.arange(30) // 5
    splits = make_objective(estimator, X, y, groups=groups, space={"lr": [0.01]}).splits_
    assert len(splits) == 3
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    assert not [w for w in recwarn if "groups parameter is ignored" in str(w.message)]
    with pytest.raises(ValueError, match="groups must hold one label per sample: got 10 "
                       "labels for 30 samples"):
        make_objective(estimator, X, y, groups=groups[:10], space={"lr": [0.01]})


def test_a_fixed_value_whose_network_fits_no_memory_is_refused_before_the_study(
        pipeline, data, tmp_path):
    # the data check saw the estimator's own hidden_size: every trial ran into the budget
    from sklstm.exceptions import MemoryBudgetError

    storage = tmp_path / "s.journal"
    with pytest.raises(MemoryBudgetError):
        tune(pipeline, *data, n_trials=1, cv=2, storage=str(storage),
             space={"hidden_size": 200_000, "batch_size": [8, 16]})
    assert not storage.exists()


@pytest.mark.parametrize("where", ["estimator", "fixed", "choice"])
def test_a_checkpoint_directory_is_refused_before_the_study(where, pipeline, data, tmp_path):
    # every fold of every trial wrote to that one directory: each trial failed at its
    # second fold, refused "the state of another fit"
    checkpoint = str(tmp_path / "ckpt")
    space = {"batch_size": [8, 16]}
    if where == "estimator":
        pipeline.set_params(lstm__checkpoint=checkpoint)
    else:
        space["checkpoint"] = checkpoint if where == "fixed" else [None, checkpoint]
    storage = tmp_path / "s.journal"
    with pytest.raises(ValueError, match=r"lstm__checkpoint=.*Search with lstm__checkpoint=None"):
        tune(pipeline, *data, n_trials=1, cv=2, storage=str(storage), space=space)
    assert not storage.exists()
    assert not (tmp_path / "ckpt").exists()


@pytest.mark.parametrize("estimator", [
    TransformedTargetRegressor(LSTMRegressor()),
    make_pipeline(FunctionTransformer(lambda X: X.reshape(len(X), -1)), Ridge()),
], ids=["wrapped-lstm", "pipeline-of-ridge"])
@pytest.mark.parametrize("space", [None, {"regressor__batch_size": [8]}, {"alpha": [1.0]}])
def test_an_estimator_that_is_no_lstm_is_refused_by_name(estimator, space, tmp_path):
    # it failed in every way but this: KeyError: 'max_epochs', or a default space's
    # names "unknown"
    X = np.random.default_rng(0).normal(size=(20, 4, 2)).astype(np.float32)
    y = np.linspace(0, 1, 20)
    storage = tmp_path / "s.journal"
    with pytest.raises(TypeError, match=r"an sklstm estimator, or a Pipeline whose last step "
                                        r"is one .*; got (TransformedTargetRegressor|a "
                                        r"Pipeline whose last step is Ridge)\. Make the LSTM"):
        tune(estimator, X, y, n_trials=1, cv=2, storage=str(storage), space=space)
    assert not storage.exists()
    with pytest.raises(TypeError, match="got"):
        make_objective(estimator, X, y, cv=2, space={"batch_size": [8]})


def test_tune_with_the_default_space_fits_every_trial_on_short_sequences(tmp_path):
    # the default space sampled conv_channels 32 and 64 with the estimator's kernels
    # (8, 5, 3), which sequences of 5 steps cannot take: about half the trials failed
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5, 2)).astype(np.float32), np.arange(40) % 2
    study = tune(LSTMClassifier(device="cpu", max_epochs=1, hidden_size=4), X, y,
                 n_trials=12, sampler=optuna.samplers.RandomSampler(seed=0), cv=2,
                 study_name="short-sequences", storage=str(tmp_path / "s.journal"))
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.FAIL]
    assert study.trials[0].distributions["conv_channels"].choices == ("auto", None)


def test_a_users_space_of_conv_widths_too_long_for_the_sequences_fails_before_the_study(
        tmp_path):
    X, y = np.zeros((20, 5, 2), dtype=np.float32), np.arange(20) % 2
    storage = tmp_path / "s.journal"
    with pytest.raises(ValueError, match=r"space entry 'conv_channels'.*shorter kernels"):
        tune(LSTMClassifier(device="cpu", max_epochs=1), X, y, n_trials=1, cv=2,
             space={"conv_channels": [None, 32]}, storage=str(storage))
    assert not storage.exists()


@pytest.mark.parametrize(("action", "said", "state"), [
    ("always", 1, "COMPLETE"), ("ignore", 0, "COMPLETE"), ("error", 0, "FAIL")])
def test_folds_that_did_not_converge_are_counted_and_said_once(action, said, state, data):
    # each fold's fit warned (3 per trial, at optuna's line); "error" still fails the trial
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, device="cpu", random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter(action, ConvergenceWarning)
        study = tune(clf, *data, n_trials=2, cv=3, space={"batch_size": [8, 16]},
                     storage=optuna.storages.InMemoryStorage(), baseline=False)
    shown = [str(w.message)[:40] for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert shown == ["trial 0: 3 of 3 folds did not converge: "] * said
    assert [t.state.name for t in study.trials] == [state] * 2
    attrs = study.trials[1].user_attrs
    if state == "FAIL":
        assert attrs["fail_reason"].startswith("ConvergenceWarning: LSTMClassifier did not")
    else:  # (ignored: counted from converged_)
        assert [t.user_attrs["folds_not_converged"] for t in study.trials] == ["3 of 3"] * 2
        assert ("convergence_warning" in attrs) == (action == "always")
