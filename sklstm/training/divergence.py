"""Stop a fit whose loss became NaN or infinite or blew up, and say where and why.

Without it a diverged fit "succeeds": the regressor then predicts NaN, the classifier
one class for everything, and a search can select the diverged configuration. A fit
has diverged when a batch loss is not finite, or when an epoch's training loss is
more than :data:`BLOW_UP` times the loss of a model that knows nothing but the
targets' distribution (the class frequencies, the mean): training never makes a model
that much worse than that, a too large learning rate does. Nor than where it started:
targets far from zero for their spread (``LSTMRegressor(scale_target=False)`` with
values around 1e6) start every fit at a loss far above their variance, the loss of the
untrained network's outputs of zero, which is no divergence; so do rare classes (outputs
of zero lose ``log(n_classes)``, 0.69 for two, while 2 samples of a class in 20000 put
the class frequencies' entropy at 0.001); nor do targets far *below* the untrained
network's outputs (values of 1e-3), whose start its first batch's loss tells. The check
reads the losses skorch records, once per epoch, so it adds no synchronisation to the
training steps.
Those losses predate their steps' updates: when training ends, the network's outputs for
the first training samples must be finite too (:meth:`DivergenceGuard.check_final_outputs`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch.callbacks import Callback

from ..exceptions import DivergenceError

__all__ = ["BLOW_UP", "NAME", "DivergenceGuard", "check_batch_losses_in_range",
           "check_targets_in_range"]

#: Name of the guard in a net's callbacks.
NAME = "divergence"

#: An epoch's training loss above this many times the trivial model's loss is divergence.
BLOW_UP = 100.0


class DivergenceGuard(Callback):
    """skorch callback: raise :class:`~sklstm.exceptions.DivergenceError` at the end of
    the first epoch with a non-finite batch loss.

    Parameters
    ----------
    estimator_name : str, default="the estimator"
        Named in the error.
    lr : float or None, default=None
        The learning rate in use, named in the error.
    trivial_loss : float or None, default=None
        The training loss of a model that predicts the targets' distribution (the
        entropy of the class frequencies; the targets' variance); None checks only for
        non-finite losses.
    gradient_clip : float or None, default=None
        The fit's ``gradient_clip``, for the advice (a clipped fit is told to clip
        harder, not to clip).

    Examples
    --------
    >>> DivergenceGuard("LSTMRegressor", lr=0.01, trivial_loss=1.0).trivial_loss
    1.0
    """

    def __init__(self, estimator_name="the estimator", lr=None, trivial_loss=None,
                 gradient_clip=None):
        self.estimator_name = estimator_name
        self.lr = lr
        self.trivial_loss = trivial_loss
        self.gradient_clip = gradient_clip

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        """Note the loss of outputs of zero, where an untrained network starts: on
        real-valued targets ``y`` their mean square, on classes ``log(n_classes)`` (as
        the class weights average it); a loss that high is no divergence (None without
        ``y``)."""
        self.start_loss_ = None
        if y is None:
            return
        target = torch.as_tensor(np.asarray(y))
        weight = getattr(net.criterion_, "weight", None)
        if not target.numel():
            return
        if target.is_floating_point():
            self.start_loss_ = float(net.criterion_(torch.zeros_like(target), target))
            return
        # classes: their chance loss can be near zero, far below where every fit starts
        # (class weights of 1000 and 1e-4 give 2e-6; 2 samples of a class in 20000 give
        # 0.001, and a sound first epoch at 0.46 was called diverged)
        n_classes = int(target.max()) + 1 if weight is None else len(weight)
        device = None if weight is None else weight.device
        zeros = torch.zeros(len(target), n_classes, device=device)
        self.start_loss_ = float(net.criterion_(zeros, target.to(zeros.device)))

    def on_epoch_end(self, net, **kwargs):
        """Check the epoch's batch losses (training, then validation) and its mean."""
        epoch = len(net.history)
        # the rate the epoch trained with (a schedule, warm-up or the adaptive rate may
        # have moved it from lr_; the callbacks that do step it after this check)
        rate = max(group["lr"] for group in net.optimizer_.param_groups)
        for prefix, phase in (("train", "training"), ("valid", "validation")):
            # (a phase's batches are counted on their own: the validation batches follow
            # the training batches in the epoch's rows)
            losses = [row[prefix + "_loss"] for row in net.history[-1]["batches"]
                      if prefix + "_loss" in row]
            for batch, loss in enumerate(losses, 1):
                if math.isfinite(loss):
                    continue
                if epoch == batch == 1 and prefix == "train":
                    raise DivergenceError(_first_loss_message(self.estimator_name, loss))
                raise DivergenceError(self._message(
                    f"the {phase} loss became {loss} in epoch {epoch}, batch {batch}",
                    rate, net.optimizer_))
        loss = net.history[-1].get("train_loss")
        if not self.trivial_loss or loss is None:
            return
        reference, of = self.trivial_loss, "a model that only knows the targets' distribution"
        start = getattr(self, "start_loss_", None)  # (None for a guard never begun)
        if start is not None and start > reference:
            reference, of = start, "outputs of zero, where the untrained network starts"
        first = _first_batch_loss(net.history)
        # the untrained network's outputs are not zero: on targets far below them
        # (scale_target=False, values of 1e-3) its first batch lost 0.002 against 1.3e-6
        # for outputs of zero, and an ordinary first epoch was called diverged. (Within
        # twice the references above, one batch's loss, scattered around them, adds
        # nothing to a threshold 100 times higher; they name the start better.)
        if first is not None and first > 2 * reference:
            reference, of = first, ("the untrained network's first training batch, "
                                    "before any update")
        if loss > BLOW_UP * reference:
            raise DivergenceError(self._message(
                f"the training loss rose to {loss:.3g} in epoch {epoch}, over "
                f"{BLOW_UP:g} times the {reference:.3g} of {of}", rate, net.optimizer_))

    def check_final_outputs(self, net, batch):
        """Raise :class:`~sklstm.exceptions.DivergenceError` where the fitted network's
        outputs for ``batch`` (training samples), or any of its weights, are not finite.

        Every loss the epochs record is computed before its step's update, so nothing
        above checks a fit's last update: one that blew the weights up (a single step
        at ``lr=1e6`` makes the batch-normalized convolutions overflow float32) left a
        fit that "succeeded" and whose every prediction then failed, blaming ``X``.

        Parameters
        ----------
        net : skorch.NeuralNet
            The fitted net, with the weights it keeps (the best epoch's under
            ``early_stopping``).
        batch : tuple
            ``(X, y)`` of a few training samples, as the training iterator gives them.

        Notes
        -----
        The loss of those outputs is kept as ``final_loss_`` (None before it is measured):
        the training losses are the training mode's, and the fitted network's may be
        far worse (batch normalization on small micro-batches), which
        :func:`~sklstm.training.convergence_report.check_convergence` reads.
        """
        self.final_loss_ = None
        with torch.no_grad():  # (skorch's validation step: evaluation mode, no grad)
            step = net.validation_step(batch)
            finite = bool(torch.isfinite(step["y_pred"]).all())
            # the first samples do not use every weight: an embedding row of a token
            # they lack, blown up by the last update, left a fit that "succeeded" and
            # predicted NaN for the sequences holding it (blaming X)
            broken = None if not finite else _non_finite_weights(net.module_)
        if finite and broken is None:
            self.final_loss_ = float(step["loss"])
            return
        what = ("outputs non-finite (on the first training samples)" if not finite else
                f"weights non-finite ({broken} holds a NaN or an infinity)")
        rate = max(group["lr"] for group in net.optimizer_.param_groups)
        raise DivergenceError(self._message(
            f"the last update of epoch {len(net.history)} made the network's {what}", rate,
            net.optimizer_))

    def _message(self, what, rate, optimizer=None):
        used = ""
        if self.lr is not None:
            used = f" (lr_={self.lr:g}" + (
                "" if math.isclose(rate, self.lr, rel_tol=1e-6)
                else f"; the epoch trained at {rate:g}") + ")"
        clip = ("clip the gradient (gradient_clip=1.0)" if self.gradient_clip is None else
                f"clip the gradient harder (gradient_clip below {self.gradient_clip:g})")
        if self.gradient_clip is not None and _curvature_from_gradients(optimizer):
            # LBFGS builds its curvature from differences of gradients, and each of its
            # iterations in a step was clipped by another factor: clipped 0.5 it diverged
            # where unclipped it trained, and clipping harder diverged sooner
            clip = ("train LBFGS unclipped (gradient_clip=None) or with its line search "
                    "(optimizer_params={'line_search_fn': 'strong_wolfe'})")
        return (
            f"{self.estimator_name} diverged: {what}{used}. The learning "
            "rate is likely too high for this data, or the input is too large: lower lr, "
            f"scale X (sklstm.preprocessing.SequenceScaler), or {clip}. The estimator is "
            "left unfitted."
        )


def _first_loss_message(name, loss):
    """The error for a first training batch whose loss is not finite.

    That loss is computed from the initial weights, before any update: the learning
    rate, which the divergence message blames, cannot have caused it (targets of 1e19
    with ``scale_target=False``: each squared error fits float32, their sum over a batch
    does not).
    """
    return (
        f"{name} diverged: the training loss of the first batch became {loss}, before any "
        "update, so the learning rate is not the cause: most likely X or y hold values so "
        "large that the loss overflows the float32 the network computes in. Scale X "
        "(sklstm.preprocessing.SequenceScaler), or rescale y (LSTMRegressor's "
        "scale_target=True, the default, standardizes it). The estimator is left unfitted.")


def _first_batch_loss(history):
    """The loss of the fit's first training batch, computed before any update (None
    where the history does not hold it: a fit resumed from a checkpoint without it)."""
    rows = history[0].get("batches", ()) if len(history) else ()
    loss = next((row["train_loss"] for row in rows if "train_loss" in row), None)
    return loss if loss is not None and math.isfinite(loss) else None


def _curvature_from_gradients(optimizer):
    """Whether ``optimizer`` is LBFGS taking several iterations a step without a line
    search, which clipping each iteration's gradient breaks."""
    if not isinstance(optimizer, torch.optim.LBFGS):
        return False
    group = optimizer.param_groups[0]
    return group["max_iter"] > 1 and group["line_search_fn"] is None


def _non_finite_weights(module):
    """The name of the first parameter or buffer of ``module`` holding a NaN or an
    infinity, None where all are finite (one read of the device for all of them)."""
    tensors = [(name, t) for name, t in (*module.named_parameters(),
                                         *module.named_buffers())
               if t.is_floating_point() and t.numel()]
    if not tensors:
        return None
    finite = torch.stack([torch.isfinite(t).all() for _, t in tensors]).tolist()
    return next((name for (name, _), ok in zip(tensors, finite, strict=True) if not ok), None)


def check_targets_in_range(name, y_train):
    """Raise a clear ValueError where the targets the loss sees are so large that their
    squared errors overflow float32, in which the network computes its loss.

    Every training loss would then be infinite from the first batch on, which the
    guard would report as divergence and blame on the learning rate or on ``X``.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    y_train : ndarray
        The targets as the loss takes them (class indices are never too large).

    Examples
    --------
    >>> check_targets_in_range("LSTMRegressor", np.array([1.0, 2.0]))
    """
    if y_train.dtype.kind != "f" or not y_train.size:
        return
    largest = float(np.abs(y_train).max())
    if largest > math.sqrt(float(np.finfo(np.float32).max)):
        raise ValueError(
            f"{name}: y has values up to {largest:.3g}, whose squared errors overflow "
            "float32 (beyond 3.4e38), in which the network computes its loss: every "
            "training loss would be infinite. Rescale y (scale_target=True, the default, "
            "standardizes it).")


def check_batch_losses_in_range(name, y_train, batch_size, n_train):
    """Raise a clear ValueError where every full micro-batch's loss overflows float32.

    :func:`check_targets_in_range` bounds one squared error; torch's mean squared error
    sums a micro-batch's squared errors in float32 too, so targets of 1e19 (squares of
    1e38) fit it and the first batch's loss was inf, refused only once it had run
    (:class:`DivergenceGuard`). Neither torch nor skorch checks this beforehand. The rule
    refuses only what cannot train: where even the ``b`` smallest per-sample squared
    norms, ``b`` the micro-batch, sum beyond float32's range (with a margin for the
    untrained outputs and float32's rounding), every full micro-batch the fit draws
    overflows before any update; the split of ``early_stopping`` only removes samples,
    so the bound holds for every split.

    Parameters
    ----------
    name : str
        The estimator's class name, for the message.
    y_train : ndarray
        The targets as the loss takes them (class indices are never too large).
    batch_size : int
        The micro-batch, samples per forward pass.
    n_train : int or None
        Samples trained on (after ``early_stopping``'s split); None: all of ``y_train``.

    Examples
    --------
    >>> check_batch_losses_in_range("LSTMRegressor", np.array([1e18, 2e18]), 16, 2)
    """
    if y_train.dtype.kind != "f" or not y_train.size:
        return
    limit = float(np.finfo(np.float32).max)
    per_sample = y_train.size // len(y_train)
    b = min(int(batch_size), len(y_train) if n_train is None else int(n_train))
    # the default path (standardized targets) ends here, after one read of the targets
    largest = max(float(y_train.max()), -float(y_train.min()))
    if b * per_sample * largest**2 <= limit:
        return
    norms = np.square(y_train.reshape(len(y_train), -1), dtype=np.float64).sum(axis=1)
    smallest = np.partition(norms, b - 1)[:b].sum() if b < len(norms) else norms.sum()
    if smallest <= 1.01 * limit:
        return
    fix = "Rescale y (scale_target=True, the default, standardizes it)"
    fits = int(limit // float(norms.max()))  # fits float32 whatever samples it draws
    if fits:
        fix += f", or lower batch_size to {fits} or fewer"
    raise ValueError(
        f"{name}: y is so large that the loss of every micro-batch of {b} samples "
        f"overflows float32 (their squared errors sum to at least {smallest:.3g}, beyond "
        f"3.4e38) before any update, so the fit could not train. {fix}.")
