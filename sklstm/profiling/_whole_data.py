"""What a profiled fit takes from the whole data rather than from its few samples.

A fit resolves some of its settings from its training data: ``vocab_size=None`` by
the largest token id, ``conv_channels="auto"`` (no branch where a sequence has a
single step), ``ar_window="auto"`` (by the number of sequences), ``split_level="auto"``
and ``downsample="auto"`` (by the longest sequence). A profiled fit trains on
``b * (warmup_steps + n_steps)`` samples, so it resolved them from those: its network
was not the one a fit on the data builds, and differed from one batch size to the
next (50,001 token ids, 64 dimensions: an embedding of 5,000 ids at batch 8, a peak
of 10.8 MB, and of all of them at batch 32, 82.1 MB, where the whole data's network
takes 87.2 and 74.8 MB, measured 2026-12-07 by ``python
benchmarks/bench_profile_whole_data.py --before DIR``, DIR holding 51b91de's parent;
a highway at batch 64 and none at batch 4, where the fit has one).
So the profile resolves them as a fit on the whole data does (the estimator's own
preparation, which trains nothing) and gives its fits the values. A classifier's
classes too: its output layer has one unit per class of ``y``, of which the samples
hold some (see ``LSTMClassifier._profile_classes``).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.utils.class_weight import compute_class_weight

from .._compat.sklearn import validate_estimator_params
from .._param_validation import plain_value
from ._timer import switched_off_defaults

__all__ = ["whole_data_classes", "whole_data_settings"]

#: ``(parameter, fitted attribute, whether to take it)``, for the value of the
#: estimator's parameter: what a fit resolves from its data.
_RESOLVED = (
    ("vocab_size", "vocab_size_", lambda value: value is None),
    ("downsample", "downsample_", lambda value: value == "auto"),
    ("ar_window", "ar_window_", lambda value: value == "auto"),
    ("split_level", "split_level_", lambda value: value == "auto"),
    # only no branch: a branch named by its channels refuses kernels longer than a
    # sequence, which "auto" accepts, and the samples' shortest sequence is no shorter
    # than the data's, so "auto" chooses the same branch on them
    ("conv_channels", "conv_channels_", lambda value: value == "auto"),
)


def _final_input(estimator, X, y):
    """``X`` as the sklstm estimator at the end of ``estimator`` receives it: through
    the steps of a (nested) Pipeline before it, fitted on ``X`` as a fit of it is."""
    while hasattr(estimator, "steps"):
        if len(estimator.steps) > 1:
            X = clone(estimator[:-1]).fit_transform(X, y)
        estimator = estimator.steps[-1][1]
    return X


def whole_data_settings(estimator, final, X, y, seq_lens, settings):
    """``{seq_len: parameters}``: the values a fit on the whole data resolves, for the
    profiled fits at each ``seq_len`` (with the profile's other ``settings``).

    Checks what a fit checks, before any fit: the parameters (a bad one told by the
    estimator's own error), then the whole data (a bad sample named by its place in
    ``X``, not among the few samples a profiled fit draws).
    """
    params = {name: plain_value(getattr(final, name)) for name, *_ in _RESOLVED}
    models = {}
    for seq_len in seq_lens:  # (the switched-off defaults: see there)
        given = dict(settings, seq_len=seq_len)
        models[seq_len] = clone(final).set_params(
            **given, **switched_off_defaults(final, given))
    for model in models.values():  # (the preparation below assumes checked parameters)
        validate_estimator_params(model)
    X = _final_input(estimator, X, y)
    out = {}
    for seq_len, model in models.items():
        state = model._prepare(X, y)[3]  # the fit's preparation: it trains nothing
        out[seq_len] = {name: state[attribute] for name, attribute, take in _RESOLVED
                        if take(params[name]) and attribute in state
                        and (name != "conv_channels" or state[attribute] is None)}
    return out


def whole_data_classes(final, y):
    """``(classes, parameters)`` of a classifier's fit on the whole of ``y``, for the
    profiled fits; ``(None, {})`` for a regressor.

    ``classes`` are the fit's ``classes_``, which the profiled fits take for theirs
    (``_profile_classes``), and the parameters hold ``class_weight="balanced"`` as the
    fit's weight of each class: from the samples, "balanced" weighs the classes they
    hold, and none at all of those they lack (scikit-learn refuses that).
    """
    if not is_classifier(final):
        return None, {}
    encoded, target = final._encode_y(y)  # (reads y alone: changes nothing of final)
    classes = target["classes_"]
    if plain_value(final.class_weight) != "balanced":
        return classes, {}
    weights = compute_class_weight("balanced", classes=np.arange(len(classes)), y=encoded)
    return classes, {"class_weight": dict(zip(classes.tolist(), weights.tolist(), strict=True))}
