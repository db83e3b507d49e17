"""Parameters another one switches off (sklstm/training/switched_off.py): a checkpoint
resumes whatever their value, and refuses a change where they are used."""

import itertools

import pytest
from numpy.testing import assert_array_equal

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.estimators import _params
from sklstm.training.switched_off import SWITCHED_OFF, unused_params

from .checkpoint_fits import COMMON, X, Y

#: each switch off and on
_SWITCHES = {"tol": (None, 1e-4), "early_stopping": (False, True),
             "lr_scaling": (None, "linear"), "embedding_dim": (None, 8),
             "conv_channels": (None, (2, 2, 2)), "seq_len": (None, 5),
             "relative": (None, "last")}


def test_every_parameter_the_checkpoint_ignores_is_one_the_fit_warns_of():
    # the checkpoint's resume check skips what SWITCHED_OFF calls unused, and the
    # parameter check warns of the same: a parameter without a warning would be
    # resumed in silence where it was set in vain
    assert set(_params._UNUSED_HINTS) == set(SWITCHED_OFF)


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_what_the_switches_leave_unused_is_a_parameter_of_the_estimators(Estimator):
    base = Estimator().get_params()
    for values in itertools.product(*_SWITCHES.values()):
        params = {**base, **{k: v for k, v in zip(_SWITCHES, values, strict=True) if k in base}}
        assert unused_params(params) <= set(base), params


@pytest.mark.parametrize(("conv_channels", "embedding_dim", "unused"), [
    ("auto", 8, True), ("auto", None, False), ((2, 2, 2), 8, False), (None, None, True)])
def test_kernel_sizes_are_unused_where_no_branch_is_built(conv_channels, embedding_dim,
                                                          unused):
    # "auto" builds no convolutional branch on token ids: kernel sizes set there did
    # nothing, without the warning conv_channels=None gives
    params = {"conv_channels": conv_channels, "embedding_dim": embedding_dim,
              "conv_kernel_sizes": (3, 3, 3)}
    assert ("conv_kernel_sizes" in unused_params(params)) is unused


def test_a_switch_the_params_lack_leaves_its_parameter_used():
    assert unused_params({"lr_schedule": "constant", "tol": None}) == set()


@pytest.mark.parametrize(("setting", "change"), [
    ({}, {"lr_schedule": "constant", "n_iter_no_change": 3}),  # (COMMON: tol=None)
    ({}, {"validation_fraction": 0.3}),  # no early_stopping
    ({"conv_channels": None}, {"conv_kernel_sizes": (3, 3, 3)}),
    ({"lr_scaling": None}, {"base_batch_size": 64})])
def test_a_param_the_fit_leaves_unused_may_change_on_resume(setting, change, tmp_path):
    # with no stopping rule lr_schedule trains alike whatever its value (the fit warns
    # that it "has no effect"), yet a resume that changed it was refused as another fit
    params = {**COMMON, **setting, "device": "cpu", "max_epochs": 4}
    whole = LSTMClassifier(**params).fit(X, Y)
    LSTMClassifier(**{**params, "max_epochs": 2}, checkpoint=tmp_path).fit(X, Y)
    with pytest.warns(UserWarning, match="has no effect"):
        resumed = LSTMClassifier(**params, **change, checkpoint=tmp_path).fit(X, Y)
    assert resumed.n_epochs_ == 4
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


@pytest.mark.parametrize(("setting", "change", "named"), [
    ({"tol": 1e-3}, {"lr_schedule": "constant"}, "lr_schedule='adaptive' there, 'constant' "),
    ({"early_stopping": True}, {"validation_fraction": 0.3}, "validation_fraction=0.1 there"),
    ({}, {"early_stopping": True, "validation_fraction": 0.3},
     "early_stopping=False there, True here; validation_fraction=0.1 there")])
def test_a_param_the_fit_uses_may_not_change_on_resume(setting, change, named, tmp_path):
    params = {**COMMON, **setting, "max_epochs": 2}
    LSTMClassifier(**params, checkpoint=tmp_path).fit(X, Y)
    est = LSTMClassifier(**params, **change, checkpoint=tmp_path)
    with pytest.raises(ValueError, match=rf"holds the state of another fit \({named}"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")
