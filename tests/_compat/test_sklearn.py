"""sklstm._compat.sklearn: the installed scikit-learn is verified, and each private piece
holds, as do the public-API equivalents used outside VERIFIED."""

from numbers import Integral

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn import get_config
from sklearn.base import BaseEstimator
from sklearn.metrics import get_scorer
from sklearn.preprocessing import StandardScaler

import sklstm._compat.sklearn as compat
from sklstm._compat import UnverifiedVersionError
from sklstm._param_validation import PlainParamsMixin
from sklstm.preprocessing import SequenceResampler

from . import declared_minimum, private_imports_outside_compat


def test_installed_sklearn_is_verified():
    assert compat.verified(), (
        f"scikit-learn {sklearn.__version__} lies outside VERIFIED = {compat.VERIFIED} of "
        "sklstm/_compat/sklearn.py: verify the private uses listed in that module's "
        "docstring against this release (tests/_compat), then widen VERIFIED.")


def test_verified_starts_at_the_declared_minimum():
    assert compat.VERIFIED[0] == declared_minimum("scikit-learn"), (
        "VERIFIED of sklstm/_compat/sklearn.py must start at pyproject.toml's "
        "scikit-learn>=")


def test_no_other_module_imports_private_sklearn_names():
    others = private_imports_outside_compat("sklearn")
    assert not others, ("only sklstm/_compat/sklearn.py may import scikit-learn's private "
                        f"names; import them from there: {others}")


def test_the_verified_names_are_sklearns_own():
    from sklearn.base import _fit_context
    from sklearn.utils import _safe_indexing
    from sklearn.utils.validation import _num_samples

    assert compat.fit_context is _fit_context
    assert compat.num_samples is _num_samples
    assert compat.safe_indexing is _safe_indexing


# --- counting and indexing samples ----------------------------------------------------

NUM_SAMPLES = [compat.num_samples, compat._public_num_samples]
SAFE_INDEXING = [compat.safe_indexing, compat._public_safe_indexing]


@pytest.mark.parametrize("num_samples", NUM_SAMPLES)
def test_num_samples(num_samples):
    ragged = [np.zeros((3, 2)), np.zeros((5, 2))]
    assert num_samples(ragged) == 2
    assert num_samples(np.zeros((4, 7, 2))) == 4
    assert num_samples(pd.DataFrame({"a": range(6)})) == 6
    for scalar in (3, np.array(3.0)):
        with pytest.raises(TypeError):
            num_samples(scalar)


@pytest.mark.parametrize("safe_indexing", SAFE_INDEXING)
def test_safe_indexing(safe_indexing):
    idx = np.array([2, 0])
    ragged = [np.zeros(1), np.ones(2), np.full(3, 2.0)]
    picked = safe_indexing(ragged, idx)
    assert isinstance(picked, list) and [len(s) for s in picked] == [3, 1]
    assert [len(s) for s in safe_indexing(ragged, np.array([True, False, True]))] == [1, 3]
    assert_array_equal(safe_indexing(np.arange(6).reshape(3, 2), idx), [[4, 5], [0, 1]])
    frame = pd.DataFrame({"a": [10, 11, 12]}, index=[7, 8, 9])  # by position, not label
    assert safe_indexing(frame, idx)["a"].tolist() == [12, 10]
    assert safe_indexing(pd.Series([1, 2, 3]), idx).tolist() == [3, 1]


# --- parameter validation -------------------------------------------------------------

def test_constraints():
    assert compat.StrOptions({"mean"}).is_satisfied_by("mean")
    assert not compat.StrOptions({"mean"}).is_satisfied_by("max")
    assert compat.Interval(Integral, 1, None, closed="left").is_satisfied_by(3)
    assert not compat.Interval(Integral, 1, None, closed="left").is_satisfied_by(0)
    assert compat.HasMethods(["fit"]).is_satisfied_by(StandardScaler())
    assert issubclass(compat.InvalidParameterError, (ValueError, TypeError))
    constraints = {"kind": [compat.StrOptions({"a"}), compat.Hidden(compat.StrOptions({"h"}))]}
    compat.validate_parameter_constraints(constraints, {"kind": "h"}, caller_name="f")
    with pytest.raises(compat.InvalidParameterError, match="'kind' parameter of f") as info:
        compat.validate_parameter_constraints(constraints, {"kind": "b"}, caller_name="f")
    assert "'h'" not in str(info.value)  # Hidden keeps it out of the message


def test_validate_params():
    @compat.validate_params({"n": [compat.Interval(Integral, 1, None, closed="left")]},
                            prefer_skip_nested_validation=True)
    def twice(n):
        return 2 * n

    assert twice(3) == 6
    with pytest.raises(compat.InvalidParameterError, match=r"'n' parameter of .*twice must"):
        twice(0)


class _Probe(compat.ParamsValidationHook, BaseEstimator):
    _parameter_constraints = {"n": [compat.Interval(Integral, 1, None, closed="left")]}

    def __init__(self, n=1):
        self.n = n

    def _params_to_validate(self):
        self.validated = True
        return super()._params_to_validate()

    def fit(self, X=None, y=None):
        self.skipped_inside_ = get_config()["skip_parameter_validation"]
        return self


@pytest.mark.parametrize("fit_context", [compat.fit_context, compat._public_fit_context])
def test_fit_context_validates_through_the_hook_then_skips_nested_validation(fit_context):
    class Probe(_Probe):
        fit = fit_context(prefer_skip_nested_validation=True)(_Probe.fit)

    probe = Probe().fit()
    assert probe.validated and probe.skipped_inside_
    with pytest.raises(compat.InvalidParameterError, match="'n' parameter of Probe"):
        Probe(n=0).fit()


def test_the_hook_overrides_sklearns_private_method():
    assert callable(getattr(BaseEstimator, "_validate_params", None))
    assert "_validate_params" in vars(compat.ParamsValidationHook)
    assert issubclass(PlainParamsMixin, compat.ParamsValidationHook)


def test_plain_params_are_checked_as_python_numbers():
    compat.validate_estimator_params(SequenceResampler(factor=np.int64(2)))
    with pytest.raises(compat.InvalidParameterError):
        compat.validate_estimator_params(SequenceResampler(factor=True))


def test_parameter_constraints():
    assert set(compat.parameter_constraints(StandardScaler())) == {"copy", "with_mean",
                                                                  "with_std"}
    assert compat.parameter_constraints(object()) == {}


def test_stand_ins_build_but_fail_when_used():
    (StrOptions, Interval, _, Hidden, error, validate_params,
     validate_parameter_constraints) = compat._validation_stand_ins(ImportError("gone"))
    constraint = Hidden(StrOptions({"a"}))  # built when sklstm is imported: no error
    checked = validate_params({}, prefer_skip_nested_validation=True)(lambda n: n)

    class NoBools(Interval):
        pass

    for use in (lambda: constraint.is_satisfied_by("a"), lambda: checked(1),
                lambda: NoBools(Integral, 1, None).is_satisfied_by(2),
                lambda: validate_parameter_constraints({}, {}, caller_name="f")):
        with pytest.raises(UnverifiedVersionError, match=sklearn.__version__):
            use()
    assert issubclass(error, (ValueError, TypeError))


def test_the_stand_ins_name_the_verified_range_to_install():
    # "install scikit-learn<1.10" did not help below the range (a release without
    # sklearn.utils._param_validation is older than 1.2)
    fail = compat._validation_stand_ins(ImportError("gone"))[6]
    (low_major, low_minor), (high_major, high_minor) = compat.VERIFIED
    with pytest.raises(UnverifiedVersionError) as info:
        fail()
    assert (f"install scikit-learn>={low_major}.{low_minor},<{high_major}.{high_minor + 1}"
            in str(info.value))


def test_stand_in_decorators_keep_each_function_apart():
    # functools.wraps(func)(fail) renamed the one shared function: every function the
    # stand-in decorated became the last one (name, docstring, signature)
    validate_params = compat._validation_stand_ins(ImportError("gone"))[5]

    def first(n):
        """First."""

    def second(m):
        """Second."""

    checked = [validate_params({}, prefer_skip_nested_validation=True)(f)
               for f in (first, second)]
    assert [(f.__name__, f.__doc__) for f in checked] == [("first", "First."),
                                                          ("second", "Second.")]
    for function in checked:
        with pytest.raises(UnverifiedVersionError, match=sklearn.__version__):
            function(1)


@pytest.mark.parametrize("setting", ["default", "pandas"])
def test_the_public_output_config_reads_the_global_setting(setting):
    with sklearn.config_context(transform_output=setting):
        assert compat._public_output_config("transform") == {"dense": setting}
        assert compat._get_output_config("transform") == {"dense": setting}


@pytest.mark.parametrize(("name", "kind"), [
    ("accuracy", "classification"), ("roc_auc", "classification"),
    ("positive_likelihood_ratio", "classification"), ("r2", "regression"),
    ("neg_mean_absolute_error", "regression"), ("adjusted_rand_score", "clustering")])
def test_every_scorer_kind_is_read_from_where_sklearn_defines_it(name, kind):
    assert compat.scorer_metric_kind(get_scorer(name)) == kind


def test_an_unverified_sklearn_knows_no_metric_kind(monkeypatch):
    # the private modules and _score_func may move: the scoring is then not checked
    monkeypatch.setattr(compat, "verified", lambda version=None: False)
    assert compat.scorer_metric_kind(get_scorer("r2")) is None
    assert compat.scorer_signs(get_scorer("r2")) is None
    assert compat.bagging_column_subset() is None
