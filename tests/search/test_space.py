"""Search space: defaults, override forms, validation, JSON, OptunaSearchCV bridge."""

import json

import numpy as np
import optuna
import pytest
import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.base import clone

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.search import (
    as_distributions,
    default_space,
    fit_stats_scorers,
    load_space,
    make_objective,
    resolve_space,
    selected_params,
    suggest_params,
    tune,
)
from sklstm.search.selection import BASELINE, baseline_params, selected_trial
from sklstm.search.space import fit_conv_widths

from ..settings import TINY

# pytest fixtures shared by the search tests


def _trial():
    return optuna.create_study().ask()


def test_default_space_is_the_documented_one():
    space = default_space()
    assert list(space) == [
        "batch_size", "accumulation_steps", "downsample", "pooling",
        "conv_channels", "split_level", "hidden_size", "num_layers", "dropout", "lr",
        "n_iter_no_change",
    ]
    assert space["conv_channels"].choices == ("auto", None, 32, 64)  # LSTM-FCN, or none
    assert space["split_level"].choices == ("auto", False)  # the classifier's, the regressor's
    assert space["batch_size"].choices == (8, 16, 32, 64)
    assert all(b & (b - 1) == 0 for b in space["batch_size"].choices)  # powers of two
    assert space["lr"].log and (space["lr"].low, space["lr"].high) == (1e-3, 3e-2)
    assert space["downsample"].choices == ("auto", 1, 2, 4)
    assert default_space(seq_len=[None, 4])["seq_len"] == [None, 4]


def test_the_default_space_keeps_the_estimators_sequence_length():
    # it fixed seq_len=None: tune(LSTMClassifier(seq_len=50), X, y) trained every trial
    # on whole sequences, the estimator's seq_len ignored
    assert "seq_len" not in resolve_space(None, LSTMClassifier(seq_len=50))


def test_the_estimators_defaults_are_a_point_of_the_default_space():
    for estimator in (LSTMClassifier(), LSTMRegressor()):
        baseline = baseline_params(resolve_space(default_space(), estimator), estimator)
        defaults = estimator.get_params()
        assert baseline == {name: defaults[name] for name, spec in default_space().items()
                            if spec is not None}


@pytest.mark.parametrize(("spec", "value", "baseline"), [
    (IntDistribution(4, 12, step=4), 8, {"hidden_size": 8}),
    (IntDistribution(4, 12, step=4), 6, None),
    (FloatDistribution(0.0, 0.5, step=0.1), 0.3, {"dropout": 0.3}),
    (FloatDistribution(0.0, 0.4, step=0.2), 0.3, None),
], ids=["int-on-step", "int-between-steps", "float-on-step", "float-between-steps"])
def test_a_value_between_the_steps_of_a_range_is_no_baseline(spec, value, baseline):
    # Only the bounds were checked: hidden_size=6 of a range 4, 8, 12 was enqueued, and
    # Optuna ran it as trial 0 with a warning, a point outside the space
    name = "hidden_size" if isinstance(spec, IntDistribution) else "dropout"
    estimator = LSTMClassifier(**{name: value})
    assert baseline_params(resolve_space({name: spec}, estimator), estimator) == baseline


def test_default_space_params_are_estimator_params():
    params = suggest_params(_trial(), estimator=LSTMClassifier())
    assert set(params) == set(default_space())
    LSTMClassifier().set_params(**params)  # every name is settable


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        (FloatDistribution(0.01, 0.02), lambda v: 0.01 <= v <= 0.02),
        (IntDistribution(3, 5), lambda v: v in (3, 4, 5)),
        ([None, 4, 6], lambda v: v in (None, 4, 6)),
        ((8, 16), lambda v: v in (8, 16)),
        (7, lambda v: v == 7),
        (None, lambda v: v is None),
    ],
    ids=["float", "int", "list", "tuple", "fixed", "fixed-None"],
)
def test_spec_forms(spec, check):
    trial = _trial()
    value = suggest_params(trial, {"x": spec}, prefix="lstm__")["lstm__x"]
    assert check(value)
    # sampled specs are recorded on the trial under the space name, fixed ones are not
    assert ("x" in trial.params) == (isinstance(spec, (list, tuple)) or hasattr(spec, "single"))


def test_pipeline_names_with_or_without_step_prefix(pipeline):
    resolved = resolve_space({"batch_size": [8], "lstm__lr": [0.1], "scale__method": "minmax"},
                             pipeline)
    assert [param for param, _, _ in resolved.values()] == [
        "lstm__batch_size", "lstm__lr", "scale__method"
    ]


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({}, "empty"),
        ({"learning_rate": [0.1], "batchsize": [8]},
         r"'learning_rate' \(did you mean 'lr'\?\), 'batchsize' \(did you mean "
         r"'batch_size'\?\)"),
        ({"lstm__nope": 1}, "unknown parameter"),
        ({"batch_size": []}, "must not be empty"),
        # both set lstm__batch_size: the trial recorded 8, the fit used 16
        ({"lstm__batch_size": [8], "batch_size": [16]},
         r"'lstm__batch_size' and 'batch_size' both set 'lstm__batch_size'"),
    ],
    ids=["empty", "typos", "prefixed-unknown", "no-choices", "aliases"],
)
def test_invalid_space_fails_before_any_trial(pipeline, data, space, match):
    with pytest.raises(ValueError, match=match):
        make_objective(pipeline, *data, space=space)


@pytest.mark.parametrize(("space", "got"), [
    ([("batch_size", [8])], r"list: .* \(a list of \(name, spec\) pairs: pass dict\(space\)\)"),
    ("batch_size", r"str: e\.g\. \{'batch_size': \[16, 32\], 'hidden_size': 64\}$"),
])
def test_a_space_that_is_no_dict_is_a_type_error(pipeline, data, space, got):
    # (a ValueError before: a wrong type is a TypeError)
    with pytest.raises(TypeError, match=r"^space must be a dict name -> spec \(or None: "
                       rf"default_space\(\)\), got {got}"):
        make_objective(pipeline, *data, space=space)


def test_a_space_key_that_is_no_name_is_refused(pipeline):
    # (Python's bare "can only concatenate str (not "int") to str" before)
    with pytest.raises(TypeError, match=r"space keys are parameter names \(str\), got 1"):
        resolve_space({1: [2]}, pipeline)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])  # utf-8-sig: as Notepad saves
def test_load_space_json_forms(encoding, tmp_path):
    spec = {
        "batch_size": [8, 16],
        "lr": {"low": 1e-3, "high": 0.1, "log": True},
        "num_layers": {"low": 1, "high": 2},
        "dropout": json.loads(optuna.distributions.distribution_to_json(FloatDistribution(0, .5))),
        "seq_len": None,
    }
    path = tmp_path / "space.json"
    path.write_text(json.dumps(spec), encoding=encoding)
    space = load_space(path)
    assert space == load_space(json.dumps(spec))
    assert space["batch_size"] == [8, 16]
    assert space["lr"] == FloatDistribution(1e-3, 0.1, log=True)
    assert space["num_layers"] == IntDistribution(1, 2)
    assert space["dropout"] == FloatDistribution(0, 0.5)
    assert space["seq_len"] is None


@pytest.mark.parametrize(("text", "problem"), [
    ('{"lr": {"low": 1}}', r"space entry 'lr': a dict must be \{'low'"),
    ('{"lr": {"low": 1, "high": 2, "x": 0}}', r"space entry 'lr': unexpected keys \['x'\]"),
    ("[1, 2]", "a search space JSON must be an object"),
    # Optuna took any truthy value as log: "false" sampled lr log-uniformly
    ('{"lr": {"low": 0.001, "high": 0.1, "log": "false"}}',
     "space entry 'lr': 'log' must be true or false .JSON booleans, unquoted., got 'false'"),
    ("{not json", "search space is neither a JSON file nor JSON text"),
])
def test_load_space_rejects_bad_json(text, problem):
    with pytest.raises(ValueError, match=problem):
        load_space(text)


@pytest.mark.parametrize("entry", [
    {"low": 8, "high": 4},
    {"low": 0.0, "high": 0.1, "log": True},
    {"name": "FloatDistribution", "attributes": {"low": 1.0, "high": 0.0}},
])
def test_load_space_names_the_entry_of_an_invalid_range(entry):
    # Optuna's own message ("`low <= high` must hold") named no entry
    with pytest.raises(ValueError, match="space entry 'lr': invalid"):
        load_space(json.dumps({"batch_size": [8], "lr": entry}))


@pytest.mark.parametrize("choices", [[1, True], [None, 0, False], [8, 16, 8.0]])
def test_choices_optuna_cannot_tell_apart_are_refused(choices):
    # a trial fitted with True of [1, True] was recorded as 1 (Optuna finds a choice's
    # index with ==), and best_params gave the refit the other value
    with pytest.raises(ValueError, match=r"space entry 'x': the choices .* are equal to Optuna"):
        resolve_space({"x": choices})


def test_numpy_text_names_are_the_names_they_hold():
    # keys zipped from an np.array of names were kept as np.str_, and messages
    # named np.str_('batchsize')
    space = dict(zip(np.array(["batch_size", "lr"]), [[8, 16], 0.01], strict=True))
    assert [type(name) for name in resolve_space(space, LSTMClassifier())] == [str, str]
    with pytest.raises(ValueError, match=r"LSTMClassifier: 'batchsize' \(did you mean"):
        resolve_space(dict(zip(np.array(["batchsize"]), [[8]], strict=True)), LSTMClassifier())


def test_load_space_reads_numpy_range_ends_of_a_parsed_dict_as_python_ones():
    # np.int64 ends made a float range for hidden_size (refused: "Got 4.0"), and
    # np.True_ for log was refused as no JSON boolean
    space = load_space({"hidden_size": {"low": np.int64(4), "high": np.int64(8),
                                        "step": np.int64(2)},
                        "lr": {"low": np.float64(1e-4), "high": 0.1, "log": np.bool_(True)}})
    assert space == {"hidden_size": IntDistribution(4, 8, step=2),
                     "lr": FloatDistribution(1e-4, 0.1, log=True)}
    resolve_space(space, LSTMClassifier())


@pytest.mark.parametrize(("entry", "key"), [
    ({"low": True, "high": 3}, "low"),  # made the int range 1 to 3
    ({"low": "0.001", "high": 0.1}, "low"),  # "'>' not supported between 'str' and 'float'"
    ({"low": 1e-3, "high": float("inf"), "log": True}, "high"),  # sampled inf
    ({"low": 4, "high": 8, "step": "2"}, "step"),
])
def test_load_space_refuses_range_ends_that_are_no_finite_numbers(entry, key):
    with pytest.raises(ValueError, match=f"space entry 'lr': '{key}' must be a finite number"):
        load_space({"lr": entry})


@pytest.mark.parametrize("text", ['{"lr": [0.1], "batch_size": [8], "lr": [0.2]}',
                                  '{"lr": {"low": 0.1, "high": 1.0, "low": 0.2}}'])
def test_load_space_refuses_a_name_given_twice(text, tmp_path):
    # json kept the last value: the first entry's choices were lost without a word
    path = tmp_path / "space.json"
    path.write_text(text)
    for source in (text, path):
        with pytest.raises(ValueError, match=r"names 'l(r|ow)' more than once"):
            load_space(source)


def test_load_space_reads_a_null_step_as_no_step():
    # it made {"low": 8, "high": 64} a float range, refused for batch_size ("Got 8.0")
    space = load_space('{"batch_size": {"low": 8, "high": 64, "step": null},'
                       ' "lr": {"low": 0.001, "high": 0.1, "step": null}}')
    assert space == {"batch_size": IntDistribution(8, 64),
                     "lr": FloatDistribution(0.001, 0.1)}


def test_as_distributions_drives_optuna_search_cv(pipeline, data):
    from optuna_integration import OptunaSearchCV

    dists = as_distributions({"batch_size": [8, 16], "accumulation_steps": [1, 2],
                              "max_epochs": 1}, pipeline)
    assert dists["lstm__max_epochs"] == CategoricalDistribution([1])
    # fit_stats_scorers' main metric is named "score", which OptunaSearchCV optimizes; the
    # fit costs land in the trials' user attributes
    search = OptunaSearchCV(pipeline, dists, cv=2, n_trials=2, random_state=0, refit=False,
                            scoring=fit_stats_scorers("accuracy"))
    search.fit(*data)
    assert len(search.trials_) == 2
    for trial in search.trials_:
        assert trial.user_attrs["mean_test_n_updates"] > 0
        assert trial.value == trial.user_attrs["mean_test_score"]
    assert set(search.best_params_) == {"lstm__batch_size", "lstm__accumulation_steps",
                                        "lstm__max_epochs"}
    assert 0.0 <= search.best_score_ <= 1.0


def test_names_reach_the_lstm_at_the_end_of_nested_pipelines():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    inner = Pipeline([("id", FunctionTransformer()), ("lstm", LSTMClassifier())])
    outer = Pipeline([("scale", FunctionTransformer()), ("model", inner)])
    resolved = resolve_space({"batch_size": [8, 16], "lr": 0.01}, outer)
    assert resolved["batch_size"][0] == "model__lstm__batch_size"
    assert resolved["lr"][0] == "model__lstm__lr"


def _study_with(baseline_folds, other_folds):
    study = optuna.create_study(direction="maximize")
    for number, folds in enumerate((baseline_folds, other_folds)):
        attrs = {"fold_scores": folds, **({BASELINE: True} if number == 0 else {})}
        study.add_trial(optuna.trial.create_trial(
            params={"x": float(number)}, value=float(np.mean(folds)), user_attrs=attrs,
            distributions={"x": FloatDistribution(0, 1)}))
    return study


@pytest.mark.parametrize(("other", "kept"), [
    ([0.83, 0.78, 0.87, 0.76], True),   # better on average, by less than the noise
    ([0.91, 0.89, 0.92, 0.90], False),  # better on every fold
])
def test_the_baseline_is_kept_unless_beaten_by_more_than_noise(other, kept):
    study = _study_with([0.80, 0.80, 0.80, 0.80], other)
    assert study.best_trial.number == 1
    assert (selected_trial(study).number == 0) is kept


def test_selected_params_refit_the_pipeline_with_what_the_search_chose(pipeline, data):
    # sampled names of the LSTM (no prefix) and of another step (prefixed), and a fixed
    # value, all come back as the Pipeline's parameters
    space = {"lr": [0.03], "scale__method": ["minmax"], "max_epochs": 3}
    study = tune(pipeline, *data, n_trials=1, cv=2, space=space,
                 storage=optuna.storages.InMemoryStorage())
    params = selected_params(study, pipeline)
    assert params == {"lstm__lr": 0.03, "scale__method": "minmax", "lstm__max_epochs": 3}
    model = clone(pipeline).set_params(**params).fit(*data)
    assert model.named_steps["lstm"].max_epochs == 3 and model.named_steps["lstm"].lr == 0.03
    assert model.named_steps["scale"].method == "minmax"


@pytest.mark.parametrize(("step", "name", "suggestion"), [
    (None, "lstm__batch_size", "batch_size"),  # no step prefix on a bare estimator
    (None, "lstm__batchsize", "batch_size"),
    ("lstm", "lstm__batchsize", "lstm__batch_size"),
    ("lstm", "batchsize", "batch_size"),  # the final step's names need no prefix
    ("model", "lstm__batch_size", "model__batch_size"),  # the step is named otherwise
    ("model", "scale__methd", "scale__method"),
    # other libraries' names: max_iter was "did you mean 'max_memory'?"
    (None, "max_iter", "max_epochs"),
    ("lstm", "lstm__learning_rate", "lstm__lr"),
    (None, "alpha", "weight_decay"),
])
def test_an_unknown_name_suggests_the_closest_valid_name_whole(step, name, suggestion):
    """The parameter's last ``__`` part alone was matched against the bare names, so
    ``lstm__batchsize`` suggested ``base_batch_size``."""
    from sklearn.pipeline import Pipeline

    from sklstm.preprocessing import SequenceScaler

    estimator = LSTMClassifier()
    if step is not None:
        estimator = Pipeline([("scale", SequenceScaler()), (step, estimator)])
    with pytest.raises(ValueError, match=rf"'{name}' \(did you mean '{suggestion}'\?\)"):
        resolve_space({name: [8]}, estimator)


@pytest.mark.parametrize("path", ["missing.json", "spaces/lstm"])
def test_load_space_says_a_missing_file_is_missing(path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=f"search space file '{path}' not found"):
        load_space(path)


def test_load_space_names_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "space.json"
    path.write_text("{batch_size: [8]}")
    with pytest.raises(ValueError, match=r"space\.json' is not valid JSON"):
        load_space(path)


@pytest.fixture(scope="module")
def study_of_objects(data):
    """A study whose fixed values include objects that are not JSON: an optimizer class
    and a callable (stored as their repr), beside a fixed text."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    pipe = Pipeline([("f", FunctionTransformer()), ("lstm", LSTMClassifier(**TINY))])
    space = {"lr": [0.03], "optimizer": torch.optim.SGD, "f__func": np.negative,
             "pooling": "last", "max_epochs": 1}
    study = tune(pipe, *data, n_trials=1, cv=2, space=space,
                 storage=optuna.storages.InMemoryStorage())
    return study, pipe, space


def test_selected_params_give_the_refit_the_objects_of_the_space(study_of_objects, data):
    study, pipe, space = study_of_objects
    trial = study.trials[0]
    assert trial.state.name == "COMPLETE"
    assert trial.user_attrs["fixed_params"]["lstm__optimizer"] == repr(torch.optim.SGD)
    assert trial.user_attrs["fixed_params_as_repr"] == ["lstm__optimizer", "f__func"]
    params = selected_params(study, pipe, space=space)
    assert params == {"lstm__lr": 0.03, "lstm__optimizer": torch.optim.SGD,
                      "f__func": np.negative, "lstm__pooling": "last", "lstm__max_epochs": 1}
    model = clone(pipe).set_params(**params).fit(*data)
    assert model.named_steps["lstm"].optimizer is torch.optim.SGD


def test_selected_params_take_the_objects_the_estimator_holds(study_of_objects):
    study, pipe, _ = study_of_objects
    own = clone(pipe).set_params(lstm__optimizer=torch.optim.SGD, f__func=np.negative)
    params = selected_params(study, own)
    assert params["lstm__optimizer"] is torch.optim.SGD and params["f__func"] is np.negative


def test_selected_params_refuse_an_object_known_only_by_its_repr(study_of_objects):
    study, pipe, _ = study_of_objects
    with pytest.raises(ValueError, match=r"fixed value of 'lstm__optimizer', 'f__func' only "
                       r"as its repr, \"<class 'torch.optim.sgd.SGD'>\", .*space=space"):
        selected_params(study, pipe)


def test_a_fixed_dict_with_int_keys_comes_back_as_it_was(data, tmp_path):
    # JSON stores the keys as str: the refit got class_weight={"0": 1, "1": 3}, which
    # fits no label, and a duplicate never matched its twin's fixed values
    clf = LSTMClassifier(**{**TINY, "random_state": 0})
    space = {"class_weight": {0: 1, 1: 3}, "batch_size": [8]}
    study = tune(clf, *data, n_trials=2, cv=2, space=space,
                 storage=str(tmp_path / "s.journal"))
    assert study.trials[1].user_attrs["duplicate_of"] == 0
    assert study.trials[0].user_attrs["fixed_params_as_repr"] == ["class_weight"]
    params = selected_params(study, clf, space=space)
    assert params == {"batch_size": 8, "class_weight": {0: 1, 1: 3}}
    clone(clf).set_params(**params).fit(*data)


def test_selection_of_a_study_without_one_best_trial_says_why():
    # Optuna's own errors: "No trials are completed yet.", a RuntimeError on best_trials
    from sklstm.search import selected_trial

    failed = optuna.create_study(study_name="failing", direction="maximize")
    failed.optimize(lambda trial: float("nan"), n_trials=2)
    with pytest.raises(ValueError, match=r"'failing' has no complete trial to select "
                       r"\(trials: 2 FAIL\); run more trials"):
        selected_trial(failed)
    front = optuna.create_study(study_name="front", directions=["maximize", "minimize"])
    front.optimize(lambda trial: (1.0, 2.0), n_trials=1)
    with pytest.raises(ValueError, match=r"'front' has 2 objectives: no one trial is best"):
        selected_params(front, LSTMClassifier())


# the convergence rule's patience where no trial has a convergence rule


def test_the_default_space_samples_no_patience_without_a_convergence_rule():
    # n_iter_no_change was sampled (and tabled as tuned) where tol=None and no
    # early_stopping run every epoch: a dimension of pure noise
    assert "n_iter_no_change" not in resolve_space(None, LSTMClassifier(tol=None))
    assert "n_iter_no_change" in resolve_space(None, LSTMClassifier())  # tol=1e-4
    kept = resolve_space(None, LSTMClassifier(tol=None, early_stopping=True))
    assert "n_iter_no_change" in kept  # early stopping reads it


@pytest.mark.parametrize("space, warns", [
    ({"n_iter_no_change": [5, 10]}, True),
    ({"n_iter_no_change": [5, 10], "tol": [None, 1e-3]}, False),  # some trials use it
    ({"n_iter_no_change": [5, 10], "early_stopping": [False, True]}, False),
    ({"n_iter_no_change": 5}, False),  # fixed: nothing searched
])
def test_a_users_space_that_samples_an_unused_patience_warns(space, warns, recwarn):
    resolved = resolve_space(space, LSTMClassifier(tol=None))
    assert "n_iter_no_change" in resolved  # a warning, as fit's of switched-off params
    messages = [str(w.message) for w in recwarn if "patience" in str(w.message)]
    assert bool(messages) == warns
    assert not warns or "tol=None and early_stopping=False" in messages[0]


# conv widths whose kernels are longer than the data's sequences


SHORT = np.zeros((8, 5, 2), dtype=np.float32)  # 5 steps; conv_kernel_sizes=(8, 5, 3)
TOKENS = [np.arange(1, n + 1) for n in (5, 40)]  # sentences of 5 and 40 ids


@pytest.mark.parametrize("X, estimator, widths", [
    (SHORT, LSTMClassifier(), ("auto", None)),
    ([np.zeros((n, 2)) for n in (5, 40)], LSTMClassifier(), ("auto", None)),  # ragged
    (SHORT, LSTMClassifier(conv_kernel_sizes=(3, 3, 3)), ("auto", None, 32, 64)),
    (np.zeros((8, 40, 2)), LSTMClassifier(), ("auto", None, 32, 64)),
    (np.zeros((8, 40, 2)), LSTMClassifier(seq_len=6), ("auto", None)),
    # token ids: "auto" builds no branch (None's trial twice), and 5 ids are too few
    # for a kernel of 8 (every trial of 32 or 64 failed)
    (TOKENS, LSTMClassifier(embedding_dim=4), (None,)),
    (TOKENS, LSTMClassifier(embedding_dim=4, conv_kernel_sizes=(3, 3, 3)), (None, 32, 64)),
])
def test_the_default_space_leaves_out_conv_widths_the_sequences_are_too_short_for(
        X, estimator, widths):
    resolved = fit_conv_widths(resolve_space(None, estimator), estimator, X, default=True)
    assert resolved["conv_channels"][1].choices == widths


def test_a_downsample_every_trial_shares_decides_which_widths_fit():
    # 40 steps averaged by 8 are 5 steps: kernel 8 is refused in every trial
    estimator = LSTMClassifier()
    space = default_space(downsample=[8, 16])
    resolved = fit_conv_widths(resolve_space(space, estimator), estimator,
                               np.zeros((8, 40, 2)), default=True)
    assert resolved["conv_channels"][1].choices == ("auto", None)
    space = default_space(downsample=[1, 8])  # the trials of downsample=1 fit them
    resolved = fit_conv_widths(resolve_space(space, estimator), estimator,
                               np.zeros((8, 40, 2)), default=True)
    assert resolved["conv_channels"][1].choices == ("auto", None, 32, 64)


@pytest.mark.parametrize("cuts, widths", [([4, 50], ("auto", None, 32, 64)),
                                          ([4, 6], ("auto", None))])
def test_a_seq_len_some_trials_share_keeps_the_widths_they_fit(cuts, widths):
    # the smallest cut decided: seq_len=[4, 50] refused 32 in a user's space (and left
    # 32 and 64 out of the default one), though every trial of seq_len=50 fits them
    estimator = LSTMClassifier()
    resolved = fit_conv_widths(resolve_space(default_space(seq_len=cuts), estimator),
                               estimator, np.zeros((8, 40, 2)), default=True)
    assert resolved["conv_channels"][1].choices == widths
    users = resolve_space({"conv_channels": [None, 32], "seq_len": [4, 50]}, estimator)
    assert fit_conv_widths(users, estimator, np.zeros((8, 40, 2)), default=False) == users


@pytest.mark.parametrize("space", [{"conv_channels": [None, 32]}, {"conv_channels": 16}])
def test_a_users_space_of_conv_widths_too_long_for_the_sequences_is_refused(space):
    estimator = LSTMClassifier()
    resolved = resolve_space(space, estimator)
    with pytest.raises(ValueError, match=r"space entry 'conv_channels'.*kernel of 8 steps.*"
                       r"shortest training sequence has 5.*shorter kernels.*leave them out"):
        fit_conv_widths(resolved, estimator, SHORT, default=False)
    ok = resolve_space({"conv_channels": ["auto", None]}, estimator)
    assert fit_conv_widths(ok, estimator, SHORT, default=False) == ok
