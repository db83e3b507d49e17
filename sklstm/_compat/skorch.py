"""skorch's internals that sklstm uses, in one module, gated by version.

What is private here:

* :func:`set_training`, :func:`zero_grad` and :func:`step_optimizer` call skorch's
  protected train-step helpers (``_set_training``, ``_zero_grad_optimizer``,
  ``_step_optimizer``), as skorch's own ``train_step`` does, so that sklstm's
  accumulating train step stays skorch's;
* :func:`modules_and_criteria` reads the names of a net's modules and criteria
  (``_modules``, ``_criteria``), which sklstm's epoch loop
  (:mod:`sklstm.training.loop`) lists once per epoch to skip setting a train mode
  that is already set;
* :func:`replay_early_stopping` feeds a past epoch's score to an ``EarlyStopping``'s
  rule (``_is_score_improved``, ``_calc_new_threshold``): skorch starts the rule afresh
  at every train start, and a fit resumed from its checkpoint must go on counting;
  :func:`score_improves` asks the rule about a score without counting it (sklstm's
  adaptive learning rate, before skorch's ``on_epoch_end`` counts the epoch).

On a skorch outside :data:`VERIFIED` (:func:`verified` is False) the six do the same
work through skorch's public attributes (``module_``, ``criterion_``, ``optimizer_``:
sklstm's nets have one of each; ``EarlyStopping``'s documented ``threshold``,
``threshold_mode`` and ``lower_is_better``). The epoch loop itself overrides only skorch's public
methods and is the same on every skorch; ``tests/training/test_loop.py`` checks it
against skorch's own loop, and ``tests/_compat/test_skorch.py`` fails in CI as soon as
a skorch outside :data:`VERIFIED` is installed.
"""

from __future__ import annotations

import functools

import skorch
import torch

from . import within

__all__ = ["VERIFIED", "modules_and_criteria", "replay_early_stopping", "score_improves",
           "set_training", "step_optimizer", "verified", "zero_grad"]

#: skorch (major, minor) versions these uses were verified on, inclusive.
VERIFIED = ((1, 1), (1, 4))


def verified(version=None):
    """Whether the installed (or given) skorch lies within :data:`VERIFIED`.

    Parameters
    ----------
    version : str or None, default=None
        A skorch version string such as ``"1.2.0"``; None: the installed skorch.

    Returns
    -------
    bool
        True where the helpers below may use skorch's internals.

    Examples
    --------
    >>> verified("1.2.0"), verified("2.0.0")
    (True, False)
    """
    return _within_verified(version or skorch.__version__)


@functools.lru_cache(maxsize=8)
def _within_verified(version):
    # cached: the train-step helpers below ask for every batch
    return within(version, VERIFIED)


def set_training(net, training=True):
    """Put the net's module and criterion in training (or evaluation) mode.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    training : bool, default=True
        The mode.
    """
    if verified():
        net._set_training(training)
        return
    for member in (net.module_, net.criterion_):
        if isinstance(member, torch.nn.Module):
            member.train(training)


def zero_grad(net):
    """Zero the gradients of the net's optimizer, as skorch's train step does.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    """
    if verified():
        net._zero_grad_optimizer()
    else:
        net.optimizer_.zero_grad()


def step_optimizer(net, step_fn):
    """Step the net's optimizer with the closure ``step_fn``, as skorch's train step does.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.
    step_fn : callable
        The closure that computes the loss and gradients (LBFGS calls it repeatedly).
    """
    if verified():
        net._step_optimizer(step_fn)
    else:
        net.optimizer_.step(step_fn)


def modules_and_criteria(net):
    """The net's modules and criteria (``module_``, ``criterion_`` and any others).

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net.

    Returns
    -------
    list
        The initialized objects, modules first, as skorch's ``_set_training`` visits
        them; on an unverified skorch ``[net.module_, net.criterion_]``.
    """
    if verified():
        return [getattr(net, name + "_") for name in net._modules + net._criteria]
    return [net.module_, net.criterion_]


def replay_early_stopping(callback, score, epoch):
    """Count one past epoch's ``score`` in skorch's ``EarlyStopping`` rule, as its
    ``on_epoch_end`` counts the epoch's (misses, threshold, best epoch).

    Parameters
    ----------
    callback : skorch.callbacks.EarlyStopping
        The rule, after its ``on_train_begin``.
    score : float
        The epoch's value of ``callback.monitor``.
    epoch : int
        The epoch's number.

    Returns
    -------
    bool
        Whether the score improved on the rule's threshold.
    """
    improved = score_improves(callback, score)
    if not improved:
        callback.misses_ += 1
        return False
    if verified():
        threshold = callback._calc_new_threshold(score)
    else:
        change = callback.threshold * (score if callback.threshold_mode == "rel" else 1)
        threshold = score - change if callback.lower_is_better else score + change
    callback.misses_, callback.dynamic_threshold_ = 0, threshold
    callback.best_epoch_ = epoch
    return True


def score_improves(callback, score):
    """Whether ``score`` improves on skorch's ``EarlyStopping`` rule's threshold now.

    Parameters
    ----------
    callback : skorch.callbacks.EarlyStopping
        The rule, after its ``on_train_begin``.
    score : float
        A value of ``callback.monitor``.

    Returns
    -------
    bool
    """
    if verified():
        return callback._is_score_improved(score)
    if callback.lower_is_better:
        return score < callback.dynamic_threshold_
    return score > callback.dynamic_threshold_
