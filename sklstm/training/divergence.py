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
the first training samples must be finite too, and their loss within the same bound
(:meth:`DivergenceGuard.check_final_outputs`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from skorch.callbacks import Callback

from ..exceptions import DivergenceError
from .oom_recovery import BATCH_NORMS, weigh, weighted_parts

__all__ = ["BLOW_UP", "NAME", "DivergenceGuard", "reads_tokens"]

#: Name of the guard in a net's callbacks.
NAME = "divergence"

#: An epoch's training loss above this many times the trivial model's loss is divergence.
BLOW_UP = 100.0

#: Most outputs of zero :meth:`DivergenceGuard.on_train_begin` holds at once (16 MiB in
#: float32).
_ZERO_OUTPUTS = 2**22


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
        target = target.to(device)
        # the outputs of zero by parts of a bounded size, weighted as the criterion's
        # mean weighs them (weighted_parts): all at once took (samples, classes) twice
        # over, 1.5 GB beside 200000 targets of 1000 classes, before the first batch
        rows = max(1, _ZERO_OUTPUTS // n_classes)
        loss = 0.0
        for (_, part), share in weighted_parts(net.criterion_, (target, target), rows):
            zeros = torch.zeros(len(part), n_classes, device=device)
            loss = loss + weigh(net.criterion_(zeros, part), share).double()
        self.start_loss_ = float(loss)

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
                    raise DivergenceError(_first_loss_message(
                        self.estimator_name, loss, reads_tokens(net)))
                raise DivergenceError(self._message(
                    f"the {phase} loss became {loss} in epoch {epoch}, batch {batch}",
                    rate, net))
        loss = net.history[-1].get("train_loss")
        reference = self._reference(net)
        if loss is not None and reference is not None and loss > BLOW_UP * reference[0]:
            raise DivergenceError(self._message(
                f"the training loss rose to {loss:.3g} in epoch {epoch}, over "
                f"{BLOW_UP:g} times the {reference[0]:.3g} of {reference[1]}", rate, net))

    def _reference(self, net):
        """``(loss, what it is the loss of)`` that a loss over :data:`BLOW_UP` times is
        divergence from, None without a ``trivial_loss``."""
        if not self.trivial_loss:
            return None
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
        return reference, of

    def check_final_outputs(self, net, batch):
        """Raise :class:`~sklstm.exceptions.DivergenceError` where the fitted network's
        outputs for ``batch`` (training samples), or any of its weights, are not finite,
        or its loss on ``batch`` is not finite or over :data:`BLOW_UP` times the reference
        the epochs' losses are held to (with batch normalization: by its running
        statistics and by the batch's own, as in training).

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
        final = float(step["loss"]) if finite and broken is None else None
        reference = self._reference(net)
        far = (final is not None and reference is not None
               and final > BLOW_UP * reference[0])
        if far and math.isfinite(final):
            # batch normalization's running statistics can put the fitted network's loss
            # far above its training losses with no update to blame (check_convergence
            # warns of that, naming them): the weights diverged only where the loss is as
            # far with the batch's own statistics, as training normalized
            by_batch = _loss_by_batch_statistics(net, batch)  # (None: no normalization)
            far = by_batch is None or by_batch > BLOW_UP * reference[0]
        if final is not None and math.isfinite(final) and not far:
            self.final_loss_ = final
            return
        if final is None:
            what = ("outputs non-finite (on the first training samples)" if not finite else
                    f"weights non-finite ({broken} holds a NaN or an infinity)")
        else:
            # finite outputs far off: a last step at lr=1e4 left a regressor predicting
            # -3e4 for targets within 1 (R^2 -1e9) that "succeeded", silently (at 1e18,
            # outputs of 3e18 whose squared errors overflow: a loss of inf)
            what = f"loss on the first training samples {final:.3g}"
            if reference is not None and math.isfinite(final):
                what += (f", over {BLOW_UP:g} times the {reference[0]:.3g} of "
                         f"{reference[1]}")
        rate = max(group["lr"] for group in net.optimizer_.param_groups)
        raise DivergenceError(self._message(
            f"the last update of epoch {len(net.history)} made the network's {what}", rate,
            net))

    def _message(self, what, rate, net=None):
        """The error for a divergence ``what`` of the epoch trained at ``rate``, with the
        advice that fits ``net``'s input and optimizer (None: numbers, no LBFGS)."""
        optimizer = None if net is None else net.optimizer_
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
        if net is not None and reads_tokens(net):
            # token ids are embedded, never read as magnitudes: scaling them (the advice
            # for numbers) would turn them into other ids, or floats an embedding refuses
            return (f"{self.estimator_name} diverged: {what}{used}. The learning rate is "
                    f"likely too high for this data: lower lr, or {clip}. The estimator "
                    "is left unfitted.")
        return (
            f"{self.estimator_name} diverged: {what}{used}. The learning "
            "rate is likely too high for this data, or the input is too large: lower lr, "
            f"scale X (sklstm.preprocessing.SequenceScaler), or {clip}. The estimator is "
            "left unfitted."
        )


def reads_tokens(net):
    """Whether ``net``'s module reads token ids (embeds its input, ``embedding_dim``),
    for which scaling X is no advice (False for a net without a module, as in a bare
    history's check)."""
    module = getattr(net, "module_", None)
    return module is not None and any(isinstance(m, torch.nn.Embedding)
                                      for m in module.modules())


def _first_loss_message(name, loss, tokens=False):
    """The error for a first training batch whose loss is not finite.

    That loss is computed from the initial weights, before any update: the learning
    rate, which the divergence message blames, cannot have caused it (targets of 1e19
    with ``scale_target=False``: each squared error fits float32, their sum over a batch
    does not). With ``tokens`` (X holds token ids, which are embedded) only ``y`` can
    be that large.
    """
    if tokens:  # (embedded: no size of an id overflows the loss)
        what, fix = "X holds token ids, so most likely y holds values", "Rescale y"
    else:
        what, fix = ("most likely X or y hold values",
                     "Scale X (sklstm.preprocessing.SequenceScaler), or rescale y")
    return (
        f"{name} diverged: the training loss of the first batch became {loss}, before any "
        f"update, so the learning rate is not the cause: {what} so large that the loss "
        f"overflows the float32 the network computes in. {fix} (LSTMRegressor's "
        "scale_target=True, the default, standardizes it). The estimator is left unfitted.")


def _loss_by_batch_statistics(net, batch):
    """The loss of ``batch`` (``(X, y)``) in evaluation mode but for batch normalization,
    which normalizes by the batch's own statistics as in training, its running
    statistics untouched (a training-mode norm without ``track_running_stats`` neither
    reads nor updates them); None where ``net``'s module has no batch normalization."""
    norms = [(m, m.training, m.track_running_stats) for m in net.module_.modules()
             if isinstance(m, BATCH_NORMS)]
    if not norms:
        return None
    for norm, _, _ in norms:
        norm.train()
        norm.track_running_stats = False
    try:
        with torch.no_grad():
            return float(net.get_loss(net.infer(batch[0]), batch[1], X=batch[0]))
    finally:
        for norm, training, tracked in norms:
            norm.train(training)
            norm.track_running_stats = tracked


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
