"""The optimizers the estimators' optimizer parameter names."""

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier
from sklstm.training.optimizers import check_optimizer_params

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 5, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)


def test_the_name_of_another_of_torchs_optimizers_is_refused_naming_its_class():
    # "unknown optimizer 'lbfgs'" said nothing of how LBFGS is used: as its class
    # (with its line search: without one LBFGS diverges on a seed that depends on the
    # CPU's rounding, random_state=1420 on an Intel CPU, 0 on an AMD EPYC)
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, conv_channels=None, device="cpu",
                         optimizer="lbfgs", n_threads=1, random_state=0)
    with pytest.raises(ValueError, match=r"unknown optimizer 'lbfgs'; .* \(for torch's "
                                         r"LBFGS: optimizer=torch\.optim\.LBFGS\)\."):
        clf.fit(X, Y)
    clf.set_params(optimizer=torch.optim.LBFGS, tol=None,
                   optimizer_params={"line_search_fn": "strong_wolfe"}).fit(X, Y)
    assert clf.n_updates_ == 2


@pytest.mark.parametrize("key", ["fused", "foreach"])
def test_an_optional_flag_given_other_than_a_bool_is_refused(key):
    # torch tests foreach and fused (default None) for truth only: fused="no" ran the
    # fused kernel, foreach="false" the foreach one, in silence
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, conv_channels=None, device="cpu",
                         n_threads=1, random_state=0, optimizer_params={key: "no"})
    with pytest.raises(TypeError, match=rf"optimizer_params\['{key}'\]='no' must be True, "
                                        rf"False or None \(the default of Adam's {key} is "
                                        r"None\)"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")
    params = {key: np.bool_(False)}
    assert check_optimizer_params(torch.optim.Adam, params, 1e-3) == {key: False}
    assert check_optimizer_params(torch.optim.SGD, {key: None}, 1e-3) == {key: None}


@pytest.mark.parametrize("betas", [np.array([[0.9, 0.99]]), [[0.9, 0.99]], ((0.9, 0.99),)],
                         ids=["2-D array", "nested list", "nested tuple"])
def test_betas_nested_one_level_too_deep_are_refused_naming_the_shape(betas):
    # a 2-D array passed the kind check (raveled) and failed in torch's words: "The
    # truth value of an array with more than one element is ambiguous"
    with pytest.raises(TypeError, match=r"optimizer_params\['betas'\]=.* must be a tuple "
                                        r"of 2 numbers \(the default of Adam's betas is "
                                        r"\(0\.9, 0\.999\)\)"):
        check_optimizer_params(torch.optim.Adam, {"betas": betas}, 1e-3, "LSTMClassifier")
    assert check_optimizer_params(torch.optim.Adam, {"betas": np.array([0.9, 0.99])},
                                  1e-3) == {"betas": (0.9, 0.99)}


@pytest.mark.parametrize("value", [np.array([0.01]), [0.01], (0.01,), np.array([[0.01]])],
                         ids=["1-D array", "list", "tuple", "2-D array"])
def test_a_number_in_an_array_of_one_is_refused_saying_to_pass_the_number(value):
    # "must be a number" did not say that the array of one (np.random's size=1, a row of
    # a 2-D grid) was the fault, nor what to pass
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, conv_channels=None, device="cpu",
                         n_threads=1, random_state=0, optimizer_params={"weight_decay": value})
    with pytest.raises(TypeError, match=r"optimizer_params\['weight_decay'\]=.* must be a "
                                        r"number \(the default of Adam's weight_decay is 0\)\. "
                                        r".* holds one number; pass the number 0\.01 itself"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")
    with pytest.raises(TypeError, match=r"holds one bool; pass the bool True itself"):
        check_optimizer_params(torch.optim.SGD, {"nesterov": np.array([True])}, 1e-3)


def test_a_number_in_a_0d_array_is_the_number():
    # as for the estimators' own float parameters (weight_decay=np.array(0.01) trains)
    params = check_optimizer_params(torch.optim.Adam, {"weight_decay": np.array(0.01)}, 1e-3)
    assert params == {"weight_decay": 0.01} and type(params["weight_decay"]) is float


@pytest.mark.parametrize(("name", "meant"), [
    ("sgdd", r"'sgd', or torch's ASGD \(optimizer=torch\.optim\.ASGD\)"),
    ("lbgfs", r"torch's LBFGS \(optimizer=torch\.optim\.LBFGS\)"),
])
def test_a_misspelt_optimizer_is_refused_with_the_names_it_is_close_to(name, meant):
    # the error listed the names but said nothing of the one meant (the estimators'
    # misspelt keywords are told it)
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, device="cpu", optimizer=name)
    with pytest.raises(ValueError, match=rf"unknown optimizer '{name}'; use one of .*"
                                         rf"subclass \(did you mean {meant}\?\)\.$"):
        clf.fit(X, Y)
    with pytest.raises(ValueError, match=r"unknown optimizer 'xyz'; .* subclass\.$"):
        clf.set_params(optimizer="xyz").fit(X, Y)


def test_a_misspelt_argument_of_the_optimizer_is_refused_with_the_one_it_is_close_to():
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, device="cpu", optimizer="sgd",
                         optimizer_params={"momentun": 0.9})
    with pytest.raises(TypeError, match=r"optimizer_params has 'momentun', which SGD does "
                                        r"not take; its arguments are lr, momentum, .* \(did "
                                        r"you mean 'momentum' for 'momentun'\?\)\.$"):
        clf.fit(X, Y)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", torch.optim.NAdam])
def test_maximize_is_refused_before_training(optimizer):
    # torch takes it, and the fit climbed its loss for max_epochs; its ConvergenceWarning
    # then advised raising lr or max_epochs
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, device="cpu", optimizer=optimizer,
                         optimizer_params={"maximize": True})
    with pytest.raises(ValueError, match=r"optimizer_params\['maximize'\]=True must be False "
                                         r"for \w+: True makes each step raise the loss"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")
    assert check_optimizer_params(torch.optim.Adam, {"maximize": np.bool_(False)},
                                  1e-3) == {"maximize": False}


@pytest.mark.parametrize(("optimizer", "params"), [
    ("adam", {"eps": np.inf}),  # every update 0: trained max_epochs, weights unchanged
    ("sgd", {"momentum": float("inf")}),  # a DivergenceError that blamed lr
    ("adagrad", {"initial_accumulator_value": np.float32("inf")}),  # every update 0
    ("rmsprop", {"alpha": np.inf}),
    ("adam", {"betas": (0.9, np.inf)}),
    (torch.optim.Rprop, {"step_sizes": (-np.inf, 50.0)}),  # only the upper bound may be
])
def test_an_infinite_optimizer_argument_is_refused_before_training(optimizer, params):
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, conv_channels=None, device="cpu",
                         n_threads=1, random_state=0, optimizer=optimizer,
                         optimizer_params=params)
    key = next(iter(params))
    with pytest.raises(ValueError, match=rf"optimizer_params\['{key}'\]=.* is, or holds, an "
                                         r"infinity, .* give a finite value, or leave it out"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")


class _Capped(torch.optim.SGD):
    """SGD with an argument of its own: what an infinity means to it, its author knows."""

    def __init__(self, params, lr=1e-3, momentum=0, cap=1.0):
        super().__init__(params, lr=lr, momentum=momentum)
        self.cap = cap


def test_an_infinity_that_means_no_bound_is_kept():
    # ASGD's t0=inf never averages, Rprop's upper step size inf is no cap
    assert check_optimizer_params(torch.optim.ASGD, {"t0": np.inf}, 1e-2) == {"t0": np.inf}
    assert check_optimizer_params(torch.optim.Rprop, {"step_sizes": (1e-6, np.inf)},
                                  1e-2) == {"step_sizes": (1e-6, np.inf)}
    assert check_optimizer_params(_Capped, {"cap": np.inf}, 1e-2) == {"cap": np.inf}
    with pytest.raises(ValueError, match=r"\['momentum'\]=inf is, or holds, an infinity"):
        check_optimizer_params(_Capped, {"momentum": np.inf}, 1e-2)  # SGD's, inherited
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, conv_channels=None, device="cpu",
                         n_threads=1, random_state=0, optimizer=torch.optim.ASGD,
                         optimizer_params={"t0": float("inf")}).fit(X, Y)
    assert clf.net_.optimizer_.param_groups[0]["t0"] == float("inf")
