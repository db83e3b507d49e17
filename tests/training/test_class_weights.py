"""Class weights in the classifier's loss: sklearn's weights, rescaled to average 1."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.utils.class_weight import compute_class_weight

from sklstm import LSTMClassifier
from sklstm._plain_values import plain_params
from sklstm.training.class_weights import (
    ClassWeightedCrossEntropy,
    class_weights,
    weighted_chance_loss,
)

Y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])  # 6, 2 and 1 samples of three classes


def test_balanced_weights_are_sklearns_rescaled_to_average_one():
    classes = np.array(["a", "b", "c"])
    weights = np.array(class_weights("balanced", classes, Y, "clf"))
    sklearn = compute_class_weight("balanced", classes=classes, y=classes[Y])
    assert_allclose(weights / sklearn, weights[0] / sklearn[0])  # the same up to scale
    assert_allclose(weights[Y].mean(), 1.0)
    assert_allclose(np.bincount(Y) * weights, 3.0)  # every class weighs as much


def test_dict_weights_default_to_one_and_look_labels_up_as_they_are():
    # scikit-learn's compute_class_weight looks labels up as int(label): 0.5 and 0.25
    # would both take the weight of 0
    classes = np.array([0.25, 0.5, 2.0])
    weights = np.array(class_weights({0.5: 4.0}, classes, Y, "clf"))
    assert_allclose(weights / weights[0], [1.0, 4.0, 1.0])
    assert_allclose(weights[Y].mean(), 1.0)


def test_numpy_weights_are_the_numbers_they_hold():
    classes = np.array(["a", "b", "c"])
    expected = class_weights({"b": 4.0}, classes, Y, "clf")
    for weight in (np.float32(4.0), np.int64(4), np.array(4.0)):
        assert class_weights({np.str_("b"): weight}, classes, Y, "clf") == expected
    # a float32 is the number written, as a float32 parameter is (0.1, not 0.1000000015)
    written = class_weights({"a": 0.1, "b": 0.3, "c": 0.7}, classes, Y, "clf")
    assert class_weights({"a": np.float32(0.1), "b": np.float32(0.3), "c": np.float32(0.7)},
                         classes, Y, "clf") == written


@pytest.mark.parametrize("unit", ["D", "ns"])
def test_date_labels_take_their_weights_as_the_estimator_holds_them(unit):
    # the estimator's params hold np.datetime64 keys as Python dates or ints
    # (plain_params), which a datetime64 class never equals: every weight was 1, silently
    classes = np.array(["2020-01-01", "2021-01-01", "2022-01-01"], dtype=f"datetime64[{unit}]")
    expected = class_weights({1: 4.0}, np.arange(3), Y, "clf")
    held = plain_params({"class_weight": {classes[1]: 4.0}})["class_weight"]
    assert class_weights(held, classes, Y, "clf") == expected
    assert class_weights({classes[1]: 4.0}, classes, Y, "clf") == expected


@pytest.mark.parametrize("weight, problem", [
    ({"a": -1.0}, "finite numbers >= 0"), ({"a": float("nan")}, "finite numbers >= 0"),
    ({"a": True}, "finite numbers >= 0"), ({"a": "2"}, "finite numbers >= 0"),
    ({"a": 0, "b": 0, "c": 0}, "every class of y a weight of 0"),
    ({"a": float("inf")}, "finite numbers >= 0"),
    ({"a": 0, "b": 0}, "only class 'c' of y a positive weight: always predicting it"),
    ({"a": np.float32(0), "c": np.int64(0)}, "only class 'b' of y a positive weight"),
    # a bare TypeError of numpy's isfinite
    ({"a": 10**400}, r"class_weight\['a'\] is 1000.{,40}; class weights must be finite"),
    # 1e-320 beside 1 is 0 in the criterion's float32: constant predictions were best
    ({"a": 1, "b": 1e-320, "c": 0}, r"only class 'a' of y a positive weight: .* \(that "
     r"of 'b' vanishes in the loss's float32"),
    ({"A": 2.0}, r"not class labels of y \('A'\) while classes 'a', 'b', 'c' have no"),
])
def test_bad_weights_are_refused_naming_the_fix(weight, problem):
    with pytest.raises(ValueError, match=problem):
        class_weights(weight, np.array(["a", "b", "c"]), Y, "LSTMClassifier")


def test_keys_of_classes_absent_from_y_are_fine_when_every_class_has_a_weight():
    """A cross-validation fold may lack a rare class that the dict names."""
    weights = class_weights({0: 1.0, 1: 2.0, 2: 3.0, 7: 5.0}, np.array([0, 1, 2]), Y, "clf")
    assert_allclose(np.array(weights) / weights[0], [1.0, 2.0, 3.0])


def test_chance_loss_is_the_loss_of_the_best_constant_prediction():
    weights = class_weights("balanced", np.arange(3), Y, "clf")
    chance = weighted_chance_loss(Y, weights, 3)
    criterion = ClassWeightedCrossEntropy(weight=torch.tensor(weights, dtype=torch.float64))
    share = np.bincount(Y) * np.array(weights)
    best = torch.log(torch.tensor(share / share.sum())).expand(len(Y), 3)  # float64
    assert_allclose(float(criterion(best, torch.tensor(Y))), chance, rtol=1e-6)
    assert_allclose(chance, np.log(3))  # balanced: as if the classes were equal
    for other in ([0.5, 0.3, 0.2], [1 / 3] * 3):  # any other constant does worse
        logits = torch.log(torch.tensor(other, dtype=torch.float64)).expand(len(Y), 3)
        assert float(criterion(logits, torch.tensor(Y))) > chance


def test_weighted_loss_is_the_mean_of_weighted_terms_unlike_torchs():
    """Split into halves, the mean of the halves' losses is the whole batch's; torch's
    weighted mean divides each half by its own summed weights and is not."""
    weight = torch.tensor([0.5, 1.0, 3.0])
    logits, y = torch.randn(8, 3, generator=torch.Generator().manual_seed(0)), torch.tensor(
        [0, 0, 0, 0, 1, 2, 2, 1])
    ours = ClassWeightedCrossEntropy(weight=weight)
    torchs = torch.nn.CrossEntropyLoss(weight=weight)
    halves = (ours(logits[:4], y[:4]) + ours(logits[4:], y[4:])) / 2
    assert_allclose(float(halves), float(ours(logits, y)), rtol=1e-6)
    torch_halves = (torchs(logits[:4], y[:4]) + torchs(logits[4:], y[4:])) / 2
    assert abs(float(torch_halves) - float(torchs(logits, y))) > 1e-3


def test_one_weighed_class_is_refused_before_training():
    """class_weight={0: 0, 1: 1}: the chance level was 0, the convergence check was off,
    a constant predictor could be converged_ and history_[0, 'valid_chance'] raised
    KeyError. Refused before any epoch, naming the fix."""
    X = np.random.default_rng(0).normal(size=(16, 3, 1)).astype(np.float32)
    y = np.array(["no", "yes"] * 8)
    est = LSTMClassifier(hidden_size=2, max_epochs=1, device="cpu", n_threads=1,
                         class_weight={"no": 0, "yes": 1}, early_stopping=True)
    with pytest.raises(ValueError, match=r"only class 'yes' of y a positive weight.*at "
                       r"least two classes"):
        est.fit(X, y)
    assert not hasattr(est, "history_")


def test_a_zero_weight_leaves_a_class_out_of_the_chance_level():
    """With two weighed classes left, the chance level is theirs alone."""
    weights = class_weights({0: 0}, np.arange(3), Y, "clf")
    assert weights[0] == 0 and weights[1] > 0
    chance = weighted_chance_loss(Y, weights, 3)
    share = np.array([2.0, 1.0]) * weights[1:]  # classes 1 and 2, as weighed
    share /= share.sum()
    assert_allclose(chance, -(share * np.log(share)).sum())


def test_weights_near_the_float_limit_keep_their_ratio():
    """1e308 summed over the samples overflowed to inf and every weight became 0 (a
    loss of 0 whatever the model predicted)."""
    weights = class_weights({0: 1e308, 1: 1e307, 2: 1e307}, np.arange(3), Y, "clf")
    assert np.isfinite(weights).all()
    assert_allclose(np.array(weights)[Y].mean(), 1.0)
    assert_allclose(weights[0] / weights[1], 10.0)
