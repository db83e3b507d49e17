"""The estimators inside scikit-learn's tools, as a scikit-learn user drives them:
searches over grids written with ``np.array``, cross-validation with probability
scorers, the keyword arguments the tools pass to ``fit``, what a refused fit leaves,
scikit-learn's settings (``assume_finite``), and the tools that take 3D and ragged X."""

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (
    BaggingClassifier,
    BaggingRegressor,
    StackingClassifier,
    StackingRegressor,
    VotingClassifier,
)
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    cross_val_predict,
    cross_validate,
    validation_curve,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import has_fit_parameter
from skorch.callbacks import LRScheduler

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm._compat.sklearn import InvalidParameterError
from sklstm.preprocessing import SequenceScaler

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 6, 2)).astype(np.float32)
Y_CLASS = np.arange(30) % 3
Y_REG = X[:, -2:, 0].sum(axis=1)


@pytest.fixture(params=[LSTMClassifier, LSTMRegressor])
def pair(request, tiny):
    """(unfitted estimator, y) for each estimator type."""
    y = Y_CLASS if request.param is LSTMClassifier else Y_REG
    return request.param(**tiny), y


@pytest.mark.parametrize("refusal", ["parameter", "data"])
def test_a_refused_refit_leaves_no_fitted_state(pair, refusal):
    """Not the private attributes of the earlier fit either (_sequence_params,
    _fitted_form, _ar_scale, _y_is_1d): only the parameters remain."""
    est, y = pair
    est.fit(X, y)
    if refusal == "parameter":
        est.set_params(hidden_size=0)
        with pytest.raises(ValueError, match="hidden_size"):
            est.fit(X, y)
    else:
        with pytest.raises(ValueError):
            est.fit(X, np.zeros((30, 2, 2)))
    assert set(vars(est)) == set(est.get_params())


def test_sample_weight_is_refused_naming_the_estimator_and_the_way_on(pair):
    est, y = pair
    with pytest.raises(TypeError, match=rf"{type(est).__name__}\.fit\(\) got unexpected "
                       r"keyword argument\(s\) 'sample_weight'.*resample the training data"):
        est.fit(X, y, sample_weight=np.ones(30))
    assert not hasattr(est, "net_")
    # the tools that ask first still learn that it is not supported
    assert not has_fit_parameter(est, "sample_weight")


def test_sample_weight_from_an_ensemble_is_refused_clearly(tiny):
    stack = StackingClassifier([("lstm", LSTMClassifier(**tiny))], cv=2)
    with pytest.raises(TypeError, match=r"LSTMClassifier\.fit.*Per-sample weights"):
        stack.fit(X, Y_CLASS, sample_weight=np.ones(30))


@pytest.mark.parametrize("draw", [dict(max_features=0.5), dict(bootstrap_features=True)])
def test_bagging_refuses_to_draw_timesteps_as_features(tiny, draw):
    """The columns of 2D X are timesteps: bagging's draw of columns, in random order,
    trained on scrambled sequences without a word (3D X bagging refuses itself)."""
    univariate = X[:, :, 0]
    pipe = make_pipeline(SequenceScaler(), LSTMClassifier(**tiny))  # nested, as usual
    bag = BaggingClassifier(pipe, n_estimators=2, random_state=0, **draw)
    with pytest.raises(ValueError, match=r"^LSTMClassifier reads the columns of 2D X as the "
                       r"timesteps.*BaggingClassifier\(max_features=.*Bag the samples only: "
                       r"max_features=1\.0 and bootstrap_features=False\.$"):
        bag.fit(univariate, Y_CLASS)
    # bagging of the samples alone hands over every column in order
    bagged = BaggingRegressor(LSTMRegressor(**tiny), n_estimators=2, random_state=0)
    assert bagged.fit(univariate, Y_REG).predict(univariate).shape == (30,)
    assert all((features == np.arange(6)).all() for features in bagged.estimators_features_)


def test_other_fit_keywords_are_refused(pair):
    est, y = pair
    with pytest.raises(TypeError, match=r"'epochs'.*it takes X and y only\.$"):
        est.fit(X, y, epochs=3)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_targets_are_checked_under_assume_finite(pair, value):
    """sklearn.set_config(assume_finite=True) skips scikit-learn's check of y, as of X;
    sklstm checks X all the same, and now y: a NaN or infinite target trained without
    an error and made every prediction NaN, and such a label was called continuous."""
    est, y = pair
    y = y.astype(float)
    y[4] = value
    with config_context(assume_finite=True), pytest.raises(
            ValueError, match=r"^Input y contains (NaN|infinity)"):
        est.fit(X, y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_a_misspelt_parameter_is_refused_naming_the_class_and_the_closest_name(Estimator):
    """Python's own error named BaseLSTM.__init__(), which receives the keywords."""
    name = Estimator.__name__
    with pytest.raises(TypeError, match=rf"^{name}\.__init__\(\) got an unexpected keyword "
                       r"argument 'hiden_size'; did you mean 'hidden_size'\?$"):
        Estimator(hiden_size=4)
    with pytest.raises(TypeError, match=r"argument 'zzz'$"):
        Estimator(zzz=1)
    # the subclass's own parameters and the base's go through
    assert Estimator(relative="last", hidden_size=3).get_params()["hidden_size"] == 3


KEYWORD_HINTS = [
    (LSTMClassifier, "scale_target", "scale_target is a parameter of LSTMRegressor"),
    (LSTMClassifier, "relative_target", "relative_target is a parameter of LSTMRegressor"),
    (LSTMRegressor, "class_weight", "class_weight is a parameter of LSTMClassifier"),
    # scikit-learn's and Keras's names (difflib offered 'random_state' for warm_start)
    (LSTMRegressor, "warm_start", r"to train a fit further, fit with checkpoint="),
    (LSTMClassifier, "learning_rate", r"did you mean 'lr'\?"),
    (LSTMClassifier, "max_iter", r"did you mean 'max_epochs'\?"),
]


@pytest.mark.parametrize(("Estimator", "keyword", "hint"), KEYWORD_HINTS)
def test_a_parameter_of_another_estimator_or_library_is_named_as_such(Estimator, keyword,
                                                                      hint):
    with pytest.raises(TypeError, match=rf"argument '{keyword}'; {hint}"):
        Estimator(**{keyword: 1})


@pytest.mark.parametrize(("Estimator", "keyword", "hint"), KEYWORD_HINTS)
def test_set_params_and_searches_name_it_as_init_does(Estimator, keyword, hint):
    # scikit-learn's "Invalid parameter ... Valid parameters are: [...]" said no more
    message = rf"^Invalid parameter '{keyword}' for estimator {Estimator.__name__}; {hint}"
    with pytest.raises(ValueError, match=message):
        Estimator().set_params(**{keyword: 1})
    step = Estimator.__name__.lower()
    search = GridSearchCV(make_pipeline(Estimator()), {f"{step}__{keyword}": [1]})
    with pytest.raises(ValueError, match=message):
        search.fit(X, Y_REG)
    # a name nothing resembles keeps scikit-learn's list of the parameters
    with pytest.raises(ValueError, match=r"Valid parameters are: \['accumulation_steps'"):
        Estimator().set_params(zzz=1)


@pytest.mark.parametrize(("params", "error", "message"), [
    (dict(optimizer=np.str_("lbfgs")), ValueError, "unknown optimizer 'lbfgs'"),
    (dict(pooling=np.str_("sum")), InvalidParameterError, "Got 'sum' instead"),
    (dict(max_memory=np.str_("1XB")), ValueError, "max_memory='1XB' is not"),
])
def test_strings_from_an_np_array_grid_read_as_strings_in_messages(params, error, message,
                                                                   tiny):
    est = LSTMClassifier(**tiny, **params)
    with pytest.raises(error, match=message) as info:
        est.fit(X, Y_CLASS)
    assert "np.str_" not in str(info.value)


def test_a_number_made_a_string_by_np_array_is_refused_saying_so(tiny):
    grid = {"batch_size": np.array([8, "auto"])}  # numpy makes '8' of the 8
    search = GridSearchCV(LSTMClassifier(**tiny), grid, cv=2, error_score="raise")
    with pytest.raises(InvalidParameterError,
                       match=r"Got '8' instead\. '8' is the number 8 written as a string; "
                             r"pass the number.*as a list, or as an array of dtype=object"):
        search.fit(X, Y_CLASS)
    # a string that is no number, or a number refused as a number, keeps sklearn's words
    for value, shown in (("eight", "'eight'"), ("0", "'0'")):
        with pytest.raises(InvalidParameterError, match=f"Got {shown} instead.$"):
            clone(search.estimator).set_params(batch_size=value).fit(X, Y_CLASS)


@pytest.mark.parametrize("param", ["split_level", "bucketing"])
def test_a_bool_made_a_string_by_np_array_is_refused_saying_so(param, tiny):
    grid = {param: np.array(["auto", True])}  # numpy makes 'True' of the True
    search = GridSearchCV(LSTMClassifier(**tiny), grid, cv=2, error_score="raise")
    with pytest.raises(InvalidParameterError,
                       match=r"Got 'True' instead\. 'True' is the bool True written as a "
                             r"string; pass the bool.*as a list, or as an array of dtype=object"):
        search.fit(X, Y_CLASS)
    # where a bool is refused too, sklearn's words alone
    with pytest.raises(InvalidParameterError, match=r"Got 'True' instead\.$"):
        LSTMClassifier(**{**tiny, "hidden_size": "True"}).fit(X, Y_CLASS)


@pytest.mark.parametrize(("params", "message"), [
    (dict(hidden_size=np.linspace(4, 8, 2)[0]), "Got 4.0 instead. 4.0 is a float; pass the "
                                                "int 4.*np.linspace"),
    (dict(seq_len=np.array([4, 0.5])[0]), "Got 4.0 instead. 4.0 is a float; pass the int 4"),
    (dict(max_memory=2e9), "2000000000.0 is a float; pass the int 2000000000"),
])
def test_a_whole_float_for_an_int_is_refused_saying_so(params, message, tiny):
    with pytest.raises(InvalidParameterError, match=message):
        LSTMRegressor(**{**tiny, **params}).fit(X, Y_REG)
    # a float that is no whole number keeps sklearn's words alone
    with pytest.raises(InvalidParameterError, match=r"Got 2\.5 instead\.$"):
        LSTMRegressor(**{**tiny, "max_epochs": 2.5}).fit(X, Y_REG)


def test_np_array_grids_in_a_halving_search_over_epochs(tiny):
    grid = {"batch_size": np.array([4, 8]), "lr": np.array([0.03]),
            "dropout": np.array([0.1]), "optimizer": np.array(["adam", "sgd"])}
    search = HalvingGridSearchCV(LSTMClassifier(**{**tiny, "max_epochs": 1}), grid,
                                 resource="max_epochs", min_resources=1, max_resources=2,
                                 factor=2, cv=2, error_score="raise").fit(X, Y_CLASS)
    assert search.best_estimator_.max_epochs == 2
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_probability_scorers_and_cross_val_predict(tiny):
    clf = LSTMClassifier(**tiny)
    scores = cross_validate(clf, X, Y_CLASS, cv=2,
                            scoring=["neg_log_loss", "roc_auc_ovr", "accuracy"])
    assert all(np.isfinite(scores[f"test_{name}"]).all()
               for name in ("neg_log_loss", "roc_auc_ovr", "accuracy"))
    proba = cross_val_predict(clf, X, Y_CLASS, cv=2, method="predict_proba")
    assert proba.shape == (30, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


#: The tools docs/user_guide.rst says take 3D and ragged X: ``(make, y, predict)``, where
#: ``make(classifier, regressor)`` wraps the estimators (unlike the bagging ensembles,
#: chains or permutation_importance, which check X as a 2D table themselves).
TOOLS_OF_ANY_FORM = {
    "CalibratedClassifierCV": (lambda c, r: CalibratedClassifierCV(c, cv=2), Y_CLASS,
                               "predict_proba"),
    "FrozenEstimator": (lambda c, r: CalibratedClassifierCV(FrozenEstimator(c)), Y_CLASS,
                        "predict_proba"),
    "VotingClassifier": (lambda c, r: VotingClassifier([("a", c)], voting="soft"), Y_CLASS,
                         "predict_proba"),
    "OneVsRestClassifier": (lambda c, r: OneVsRestClassifier(c), Y_CLASS, "predict_proba"),
    "StackingRegressor": (lambda c, r: StackingRegressor([("a", r)], cv=2), Y_REG,
                          "predict"),
    "MultiOutputRegressor": (lambda c, r: MultiOutputRegressor(r), np.c_[Y_REG, -Y_REG],
                             "predict"),
    "TransformedTargetRegressor": (
        lambda c, r: TransformedTargetRegressor(r, transformer=StandardScaler()),
        np.c_[Y_REG, -Y_REG], "predict"),
}


@pytest.mark.parametrize("tool", sorted(TOOLS_OF_ANY_FORM))
@pytest.mark.parametrize("form", ["3d", "ragged"])
def test_the_tools_the_user_guide_names_take_3d_and_ragged_x(tool, form, tiny):
    make, y, method = TOOLS_OF_ANY_FORM[tool]
    given = X if form == "3d" else [seq[: 3 + i % 4] for i, seq in enumerate(X)]
    classifier, regressor = LSTMClassifier(**tiny), LSTMRegressor(**tiny)
    if tool == "FrozenEstimator":  # calibrates a fitted classifier
        classifier.fit(given, y)
    out = getattr(make(classifier, regressor).fit(given, y), method)(given)
    assert out.shape == ((len(X), 3) if method == "predict_proba" else y.shape)
    assert np.isfinite(out).all()


def test_a_search_sets_the_parameters_of_a_named_callback(tiny):
    """As skorch names them, callbacks__<name>__<param> (and scikit-learn a Pipeline's
    steps'): scikit-learn's set_params failed on the list ('list' object has no
    attribute 'set_params'), so a learning-rate schedule could not be searched."""
    schedule = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    est = LSTMRegressor(**tiny, callbacks=[("step", schedule)])
    assert est.get_params()["callbacks__step__gamma"] == 0.5
    grid = {"lstmregressor__callbacks__step__gamma": [0.1, 0.5]}
    search = GridSearchCV(make_pipeline(SequenceScaler(), est), grid, cv=2,
                          error_score="raise").fit(X, Y_REG)
    best = search.best_estimator_[-1]
    gamma = search.best_params_["lstmregressor__callbacks__step__gamma"]
    np.testing.assert_allclose(best.history_[:, "event_lr"], [0.03, 0.03 * gamma])
    assert schedule.gamma == 0.5  # set in a copy: the user's may be another's too
    assert clone(est).set_params(callbacks__step=None).callbacks == []  # as in skorch
    with pytest.raises(ValueError, match=r"'callbacks__stp__gamma'.*no callback is named "
                       r"'stp' \(named callbacks: 'step'\)"):
        est.set_params(callbacks__stp__gamma=0.1)


def test_a_callback_parameter_it_lacks_is_refused_naming_the_key_and_the_way(tiny):
    """skorch's LRScheduler holds a scheduler's argument (gamma) as a parameter only
    where it was given one when made: a search over it failed with the callback's own
    error, which named its memory address, neither the key nor the way."""
    est = LSTMRegressor(**tiny, callbacks=[("step", LRScheduler(policy="StepLR",
                                                                 step_size=1))])
    with pytest.raises(ValueError, match=r"^Invalid parameter 'callbacks__step__gamma' for "
                       r"estimator LSTMRegressor: callback 'step' \(LRScheduler\) has no "
                       r"parameter 'gamma' \(its parameters: policy, .*step_size\); "
                       r"LRScheduler takes .*\('step', LRScheduler\(\.\.\., gamma="):
        validation_curve(est, X, Y_REG, param_name="callbacks__step__gamma",
                         param_range=[0.1, 0.5], cv=2, error_score="raise")
    with pytest.raises(ValueError, match=r"no parameter 'step_sise'.*did you mean "
                       r"'step_size'\?$"):
        est.set_params(callbacks__step__step_sise=2)


def test_a_search_sets_an_argument_of_the_optimizer(tiny):
    """optimizer_params__<argument>, an entry of the dict: scikit-learn's set_params
    failed on it ('NoneType' object has no attribute 'set_params'), and on skorch's
    name for it, optimizer__<argument>, without naming the way."""
    given = {"nesterov": True, "momentum": 0.5}
    est = LSTMClassifier(**tiny, optimizer="sgd", optimizer_params=given)
    assert est.get_params()["optimizer_params__momentum"] == 0.5
    search = GridSearchCV(est, {"optimizer_params__momentum": [0.3, 0.9]}, cv=2,
                          error_score="raise").fit(X, Y_CLASS)
    assert search.cv_results_["params"][1] == {"optimizer_params__momentum": 0.9}
    group = search.best_estimator_.net_.optimizer_.param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (
        search.best_params_["optimizer_params__momentum"], True)
    est.set_params(optimizer_params__momentum=0.9)
    assert est.optimizer_params == {"nesterov": True, "momentum": 0.9}
    assert given["momentum"] == 0.5  # a new dict: the user's may be another's too
    with pytest.raises(ValueError, match=r"'optimizer__momentum' for estimator "
                       r"LSTMClassifier: optimizer is 'sgd', which has no parameters to "
                       r"set; the optimizer's arguments are set as optimizer_params__momentum"):
        est.set_params(optimizer__momentum=0.9)
