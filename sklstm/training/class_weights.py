"""Class weights in a classifier's loss (``LSTMClassifier(class_weight=...)``).

scikit-learn's ``compute_class_weight`` turns ``class_weight`` into one weight a class
(``"balanced"``: ``n_samples / (n_classes * count)``; a dict: the given weights, 1 for
the classes it leaves out). Here the weights are then rescaled to average 1 over the
training samples, and the loss is the plain mean of the weighted per-sample losses
(:class:`ClassWeightedCrossEntropy`): the loss keeps the scale of the unweighted one, so
``lr``, ``tol`` and the chance level mean what they mean without weights, and
gradient accumulation stays exact.
"""

from __future__ import annotations

import reprlib

import numpy as np
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch import nn
from torch.nn import functional

from .._param_validation import plain_label, plain_value

__all__ = ["ClassWeightedCrossEntropy", "class_weights", "weight_tensor",
           "weighted_chance_loss"]


class ClassWeightedCrossEntropy(nn.CrossEntropyLoss):
    """Cross-entropy weighted per class, averaged over the samples.

    torch's ``CrossEntropyLoss(weight=w)`` divides by the batch's summed weights, so a
    micro-batch's mean depends on which classes it happened to draw and accumulated
    micro-batches would not add up to the effective batch's gradient (sklstm weighs
    each micro-batch by its share of samples). The plain mean of the weighted terms
    does add up; with weights that average 1 over the training samples it has the
    unweighted loss's scale.

    Parameters
    ----------
    weight : torch.Tensor of shape (n_classes,)
        Each class's weight.

    Examples
    --------
    >>> import torch
    >>> loss = ClassWeightedCrossEntropy(weight=torch.tensor([0.5, 2.0]))
    >>> logits, y = torch.zeros(2, 2), torch.tensor([0, 1])
    >>> round(float(loss(logits, y)), 4)  # (0.5 + 2.0) / 2 * log(2)
    0.8664
    """

    def forward(self, input, target):
        return functional.cross_entropy(input, target, weight=self.weight,
                                        reduction="none").mean()


def class_weights(class_weight, classes, y_encoded, name):
    """The weight of each class in the loss, averaging 1 over the training samples.

    Parameters
    ----------
    class_weight : "balanced" or dict
        The ``class_weight`` parameter (not None).
    classes : ndarray of shape (n_classes,)
        The fit's ``classes_``.
    y_encoded : ndarray of shape (n_samples,)
        The training targets as indices into ``classes``.
    name : str
        The estimator's class name, for messages.

    Returns
    -------
    tuple of float
        One weight a class, in the order of ``classes``.

    Raises
    ------
    ValueError
        A weight that is negative or not finite, fewer than two classes of ``y`` with a
        positive weight (nothing to learn: a constant prediction is best), or a dict
        whose keys are not labels of ``y`` while some class has no weight (a
        misspelt label, say).

    Examples
    --------
    >>> import numpy as np
    >>> class_weights("balanced", np.array(["a", "b"]), np.array([0, 0, 0, 1]), "clf")
    (0.6666666666666666, 2.0)
    >>> class_weights({"b": 3}, np.array(["a", "b"]), np.array([0, 0, 0, 1]), "clf")
    (0.6666666666666666, 2.0)
    """
    if class_weight == "balanced":
        weights = compute_class_weight("balanced", classes=classes, y=classes[y_encoded])
    else:
        weights = _dict_weights(class_weight, classes, name)
    counts, given = np.bincount(y_encoded, minlength=len(classes)), weights > 0
    if weights.max() > 0:
        # (scaled to a largest weight of 1 first: weights near the float limit, 1e308,
        # summed to inf and all became 0)
        weights = weights / weights.max()
        mean = float(counts @ weights) / len(y_encoded)
        weights = weights / mean if mean > 0 else weights
        # a weight the criterion's float32 rounds to 0 (1e-320 beside 1) leaves its class
        # out of the loss: so it does of the chance level and of the check below
        weights = np.where(weights.astype(np.float32) > 0, weights, 0.0)
    weighed = classes[(counts > 0) & (weights > 0)]
    if len(weighed) < 2:
        # One weighed class: always predicting it brings the loss to 0, its chance level
        # (weighted_chance_loss), and the convergence check could not tell a fit that
        # learned from a constant one (which was called converged).
        which = ("every class of y a weight of 0: the loss would be 0 whatever the "
                 "model predicted" if not len(weighed) else
                 f"only class {plain_label(weighed[0])!r} of y a positive weight: always "
                 "predicting it would be the best fit")
        lost = classes[given & (weights == 0)]
        if len(lost):
            which += (f" (that of {', '.join(repr(plain_label(c)) for c in lost[:5])} "
                      "vanishes in the loss's float32 beside the largest: keep the weights "
                      "within a ratio of 1e30)")
        raise ValueError(
            f"{name}: class_weight gives {which}, and nothing would be learnt. Give at "
            "least two classes present in y a positive weight (a weight of 0 leaves a "
            "class out of the loss).")
    return tuple(float(w) for w in weights)


def _dict_weights(class_weight, classes, name):
    """A dict's weight for each class, 1 for those it leaves out.

    Written here rather than left to scikit-learn's ``compute_class_weight``, which
    looks labels up as ``int(label)`` (a float label 0.5 would take the weight of 0).
    As there, keys that are no label of ``y`` are refused only while some class has no
    weight (a misspelt label); a class missing from a cross-validation fold is fine.
    """
    for label, weight in class_weight.items():
        weight = plain_value(weight)  # a 0-d array (np.array(2.0)) is the number it holds
        ok = isinstance(weight, (int, float, np.integer, np.floating)) and not isinstance(
            weight, (bool, np.bool_))
        if not ok or not np.isfinite(_as_float(weight)) or weight < 0:
            raise ValueError(
                # (reprlib: 10**400 in a few dozen characters, not four hundred)
                f"{name}: class_weight[{plain_label(label)!r}] is {reprlib.repr(weight)}; "
                "class weights must be finite numbers >= 0 (e.g. {0: 1.0, 1: 5.0}), or "
                "use class_weight='balanced'.")
    # labels and keys compared as the Python values they hold: the estimator's params
    # hold np.datetime64 keys as datetime.date (plain_params), which a datetime64 class
    # never equals, so a class_weight by date weighed nothing, silently
    by_label = {plain_label(key): weight for key, weight in class_weight.items()}
    labels = [plain_label(label) for label in classes]
    # plain_value: np.float32(0.1) is the 0.1 written, as a float32 parameter is
    weights = np.array([_as_float(plain_value(by_label.get(label, 1.0))) for label in labels])
    unweighted = [label for label, plain in zip(classes, labels, strict=True)
                  if plain not in by_label]
    unknown = [key for key in class_weight if plain_label(key) not in set(labels)]
    if unweighted and unknown:
        shown = ", ".join(repr(plain_label(c)) for c in classes[:10])
        raise ValueError(
            f"{name}: class_weight has keys that are not class labels of y "
            f"({', '.join(repr(plain_label(k)) for k in unknown[:5])}) while classes "
            f"{', '.join(repr(plain_label(c)) for c in unweighted[:5])} have no weight; the "
            "keys must be the labels themselves, of their type (the classes of y: "
            f"{shown}{', ...' if len(classes) > 10 else ''}).")
    return weights


def _as_float(number):
    """``number`` as a float; inf for an int past the floats (``10**400``), where
    ``float`` and numpy's ``isfinite`` raised a bare error."""
    try:
        return float(number)
    except OverflowError:
        return np.inf


def weighted_chance_loss(y_encoded, weights, n_classes):
    """The loss of predicting the targets' distribution as the weights see it.

    With weights ``w`` averaging 1 over the samples, the best constant prediction is
    each class's share of the weight, ``q_k = w_k n_k / n``, and its loss is the
    entropy of ``q`` (without weights: the class frequencies' entropy).

    Parameters
    ----------
    y_encoded : ndarray of shape (n_samples,)
        Class indices.
    weights : sequence of float or None
        Each class's weight (:func:`class_weights`); None: unweighted.
    n_classes : int
        Number of classes.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> round(weighted_chance_loss(np.array([0, 0, 0, 1]), None, 2), 4)
    0.5623
    >>> round(weighted_chance_loss(np.array([0, 0, 0, 1]), (2 / 3, 2.0), 2), 4)  # log 2
    0.6931
    """
    share = np.bincount(y_encoded, minlength=n_classes).astype(np.float64)
    if weights is not None:
        share = share * np.asarray(weights)
    share = share[share > 0] / share.sum()
    return float(-(share * np.log(share)).sum())


def weight_tensor(weights):
    """``weights`` as the float32 tensor the criterion takes (its ``weight`` buffer
    moves to the fit's device with it)."""
    return torch.tensor(weights, dtype=torch.float32)
