"""What a finished fit says about its convergence: ``converged_`` (whether the stopping
rule of :mod:`~sklstm.training.convergence` ended it having learned) and the
``ConvergenceWarning`` that names what to change where it did not."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning

from .._compat.python import warn_at_caller
from .convergence import ADAPTIVE_MIN_LR, STOPPER, best_value, stopped_by_rule
from .divergence import NAME as DIVERGENCE
from .divergence import reads_tokens
from .oom_recovery import has_batch_norm

__all__ = ["COARSE_TOL", "FITTED_GAP", "WORSE_THAN_START", "check_convergence", "judges"]

#: A fit whose best training loss is above this many times where the untrained network
#: started (and the chance level) made it worse at every epoch: its steps are too large.
WORSE_THAN_START = 1.5

#: A stop of the rule with a ``tol`` above this share of the monitored loss's chance
#: level is no convergence: the rule cannot see the falls that remain. Measured
#: (``python benchmarks/bench_coarse_tol.py``, 2026-12-07:
#: ``LSTMRegressor(scale_target=False, lr_schedule="constant")``, default ``tol`` on
#: targets scaled to put it at 1.15, 0.3, 0.1, 0.057 and 0.03 of their variance):
#: stopped at training R^2 0.40, 0.51, 0.73, 0.96, 0.92 (1.000 standardized); a
#: classifier at ``tol=0.05`` (0.072 of ln 2) stopped at training accuracy 1.0.
COARSE_TOL = 0.1

#: A fitted network whose loss on the first training samples is above the chance level,
#: where the untrained network started and this many times its last training loss did
#: not learn.
FITTED_GAP = 10.0


def _lr_now(lr, lr_param):
    """The learning rate as the advice "raise lr (...)" names it: the parameter's value,
    and the rate used where ``lr_scaling`` changed it (named alone, that rate read as
    the value of ``lr``)."""
    if lr_param is None or lr_param == lr:
        return f"now {lr:g}"
    return f"now {lr_param:g}, scaled to lr_={lr:g} by lr_scaling"


def judges(net, max_epochs):
    """Whether :func:`check_convergence` judges ``net``'s fit, and so warns where it
    did not converge: the rule is on, and it ended the fit or ``max_epochs`` did. Not a
    fit without the rule (``tol=None`` and no ``early_stopping``), nor one that ended
    before either (an interrupt, a callback's stop such as skorch's ``EarlyStopping``).

    Parameters
    ----------
    net : skorch.NeuralNet
        The fitted net.
    max_epochs : int
        The epoch budget of the fit.

    Returns
    -------
    bool
    """
    return STOPPER in dict(net.callbacks_) and (
        stopped_by_rule(net) or len(net.history) >= max_epochs)


def check_convergence(name, net, max_epochs, lr, lr_param=None):
    """Whether the stopping rule ended ``net``'s fit having learned; warn if it did not,
    or if ``max_epochs`` ended it.

    Parameters
    ----------
    name : str
        The estimator's class name, for the warning.
    net : skorch.NeuralNet
        The fitted net.
    max_epochs : int
        The epoch budget of the fit.
    lr : float
        The learning rate used (``lr_``), named in the warning.
    lr_param : float or None, default=None
        The ``lr`` parameter, named beside ``lr`` where ``lr_scaling`` made them differ.

    Returns
    -------
    bool
        True when the rule stopped the fit and its losses had left the chance level;
        False when the rule was off, the fit ran all ``max_epochs`` (which, with the
        rule on, warns), or a loss never left the chance level (which warns that the
        fit did not learn: with ``early_stopping`` the rule may stop a fit whose
        validation loss stayed there), also where a multi-output regression left it
        on the mean over its outputs but not on each
        (:class:`~sklstm.training.chance_level.OutputLosses`), or where ``tol`` is too
        large against the chance level for the rule to see the loss fall (which warns).
    """
    if not judges(net, max_epochs):
        return False  # no rule, or ended before it (interrupted: the estimator says so)
    stopper = dict(net.callbacks_)[STOPPER]
    stopped = stopped_by_rule(net)
    if stopper.chance_loss == 0:  # (None: not known, a net without training targets)
        _warn_constant_targets(name)
        return False
    if stopped and _tol_too_coarse(name, net, stopper):
        return False  # (first: a stop the rule made blind explains what else is amiss)
    at_chance = stopper.at_chance(net)
    if at_chance is not None:
        # where the untrained network started (noted by the divergence guard)
        start_loss = getattr(dict(net.callbacks_).get(DIVERGENCE), "start_loss_", None)
        _warn_did_not_learn(name, stopper, at_chance, len(net.history) if stopped else None,
                            max_epochs, _lr_now(lr, lr_param), start_loss,
                            classes=getattr(net, "classifier", False), tokens=reads_tokens(net),
                            per_output=_per_output(stopper.output_losses(net)))
        return False
    last = stopper.fell_back(net)
    if last is not None:
        ended = (f"the rule ended the fit after {len(net.history)} epochs" if stopped
                 else f"max_epochs={max_epochs} ended the fit")
        # (no weight decay, the default, cannot be lowered: seen at defaults, and told to)
        decay = max((group.get("weight_decay", 0.0) for group in
                     getattr(getattr(net, "optimizer_", None), "param_groups", ())),
                    default=0.0)
        cause = ("Lower weight_decay (its penalty can pull a model that learned little back "
                 f"to the targets' distribution; now {decay:g})" if decay else
                 f"Lower lr ({_lr_now(lr, lr_param)}: steps too large can undo what the fit "
                 "had learned)")
        warn_at_caller(
            f"{name} did not learn: {ended} with the last epoch's weights, whose training "
            f"loss {last:.4g} is back at the chance level {stopper.chance_loss:.4g} (the "
            "loss of predicting the targets' distribution) although its best epoch's, "
            f"{best_value(net.history, 'train_loss'):.4g}, had left it. {cause}, or set "
            "early_stopping=True, which keeps the best epoch's weights.", ConvergenceWarning)
        return False
    if _fitted_network_at_chance(name, net, stopper):
        return False
    losses = stopper.output_losses(net)
    share = stopper.chance_level(stopper.monitor)[1]
    # (an output constant in the split, of level 0, can show nothing: not judged)
    behind = [k for k, (loss, chance) in enumerate(losses or ())
              if chance > 0 and not loss < share * chance]
    if behind:
        _warn_outputs_at_chance(name, stopper, losses, behind, share)
        return False
    if stopped:
        return True
    rate = stopper.adaptive_rate(net)
    # (once the rate fell at a plateau, raising lr restarts from a rate the fit already
    # found too large: seen, "raise lr (now 0.01)" where the rate was down to 1.6e-5)
    advice = "Raise max_epochs, or set lr_schedule='constant' to stop at the first plateau"
    if stopper.adaptive and rate <= ADAPTIVE_MIN_LR:
        # at the floor the count restarted with the last fall: max_epochs may have come
        # before n_iter_no_change flat epochs there, however little the loss still moved
        why = (f"before the rule stopped the fit: the adaptive learning rate reached its "
               f"floor ({rate:.3g}, at or below {ADAPTIVE_MIN_LR:g}) at its plateaus, and "
               f"{stopper.patience} epochs (n_iter_no_change) without improvement there "
               "end the fit")
    else:
        lowered = stopper.adaptive and getattr(stopper, "falls_", 0)
        why = (f"while the {stopper.monitor.replace('_', ' ')} still improved by more than "
               f"tol={stopper.threshold:g} within {stopper.patience} epochs "
               "(n_iter_no_change)" + (f" or the adaptive learning rate, lowered to "
                                       f"{rate:.3g} at its plateaus, was still above "
                                       f"{ADAPTIVE_MIN_LR:g}" if lowered else ""))
        if not lowered:
            advice = _too_large_steps(net, stopper, _lr_now(lr, lr_param)) or (
                f"Raise max_epochs, raise lr ({_lr_now(lr, lr_param)}), or shorten long "
                "sequences with downsample or seq_len")
    if len(net.history) <= stopper.patience:  # (seen: max_epochs=1 told to raise lr)
        why = (f"before the rule could stop the fit, which it does after n_iter_no_change="
               f"{stopper.patience} epochs without improvement at the earliest")
        advice = f"Raise max_epochs above n_iter_no_change={stopper.patience}, or lower it"
    warn_at_caller(f"{name} did not converge: max_epochs={max_epochs} was reached {why}. "
                  f"{advice}.", ConvergenceWarning)
    return False


def _warn_constant_targets(name):
    """The ConvergenceWarning of a fit whose training targets are all one value (their
    chance level is 0, which turns the rule's chance gate off): predicting that value
    loses nothing, so no loss shows that the fit learned anything of X. Seen: a
    constant y stopped by the rule after 3 epochs was converged_ without a word, and
    one cut by max_epochs was told to lower lr, its loss of 0.003 being "above where
    the untrained network started (0)"."""
    warn_at_caller(
        f"{name} did not learn: every target it trains on is the same value (y is "
        "constant, or y minus its anchor with relative), so predicting that value loses "
        "nothing and no loss can show that the fit learned anything of X (the chance "
        "level is 0). Check y; a constant is fitted by sklearn.dummy.DummyRegressor.",
        ConvergenceWarning)


def _too_large_steps(net, stopper, lr_now):
    """The advice for a fit cut short by ``max_epochs`` whose training loss rose above
    :data:`WORSE_THAN_START` times where the untrained network started (and the chance
    level) at some epoch: not "raise lr", which was told to fits at lr=1 whose first
    epoch lost 7 (regression, standardized) and 39 times ln 2; "lower lr" where the
    last epoch's loss is above the best besides (the steps overshoot still). None where
    no epoch rose so."""
    start = getattr(dict(net.callbacks_).get(DIVERGENCE), "start_loss_", None)
    losses = [row.get("train_loss", 0.0) for row in net.history]
    if start is None or not losses:
        return None
    worst = max(range(len(losses)), key=losses.__getitem__)
    if not losses[worst] > WORSE_THAN_START * max(start, stopper.train_level() or 0.0):
        return None
    rose = (f"the training loss rose to {losses[worst]:.4g} at epoch {worst + 1}, above "
            f"where the untrained network started ({start:.4g})")
    if losses[-1] > min(losses):
        return (f"Lower lr ({lr_now}): {rose}, and its last epoch's is above its best: "
                "the steps are likely too large to settle. Or raise max_epochs")
    return f"Raise max_epochs ({rose}: a higher lr would overshoot further)"


def _warn_did_not_learn(name, stopper, at_chance, stopped_after, max_epochs, lr_now,
                        start_loss=None, classes=False, per_output="", tokens=False):
    """The ConvergenceWarning of a fit whose loss ``at_chance`` (key, best) stayed at
    the chance level; ``stopped_after``: the epochs after which the rule stopped it
    (None: ``max_epochs`` ended it); ``start_loss``: the loss of outputs of zero, where
    the untrained network starts (None: unknown); ``classes``: whether the targets are
    classes (which cannot be standardized); ``per_output``: :func:`_per_output`'s note;
    ``tokens``: whether X is token ids (:func:`reads_tokens`)."""
    # (token ids are not scaled: a scaled id is no longer the id of its word, and
    # SequenceScaler's floats are refused by the embedding; seen: a sentiment fit on ids
    # told to "scale X (sklstm.preprocessing.SequenceScaler)")
    scale = "" if tokens else "scale X (sklstm.preprocessing.SequenceScaler), "
    key, best = at_chance
    level, share = stopper.chance_level(key)
    verdict = "did not learn"
    above = best > level
    chance = (f"{'above' if above else 'still at'} the chance level {level:.4g} (the loss "
              "of predicting the targets' distribution)")
    if key == "train_loss":
        advice = ("Raise max_epochs (the loss may still leave its starting plateau), raise "
                  f"lr ({lr_now}), {scale}or shorten long sequences with downsample or "
                  "seq_len")
        if above and start_loss is not None and not classes \
                and start_loss > 2 * level:
            # the targets' mean squared is above their variance: the fit spends its
            # steps moving its outputs to their level, not learning what varies
            advice = (f"The targets lie far from zero for their spread (outputs of zero, "
                      f"where the untrained network starts, lose {start_loss:.4g}): "
                      "standardize y (LSTMRegressor's scale_target=True, the default). "
                      f"Else: {advice[0].lower()}{advice[1:]}")
        elif above and start_loss is not None \
                and best > WORSE_THAN_START * max(start_loss, level):
            # every epoch worse than the untrained network: the steps are too large (a
            # classifier at lr=10 stayed at 2.4-29 against ln 2, and was told to raise lr)
            advice = (f"It never came back down to where the untrained network started (a "
                      f"loss of {start_loss:.4g}): the learning rate is likely too high for "
                      f"this data{'' if tokens else ', or the input too large'}. Lower lr "
                      f"({lr_now}), {scale}or clip the gradient (gradient_clip)")
        what = f"after max_epochs={max_epochs} its best training loss {best:.4g} is {chance}"
    else:
        ended = (f"when early_stopping ended the fit after {stopped_after} epochs"
                 if stopped_after is not None else f"after max_epochs={max_epochs}")
        what = (f"its best validation loss {best:.4g} is {chance} {ended}, although the "
                "training loss left it: what it learned of the training samples does not "
                "carry over to the held-out ones")
        advice = ("Give it more training samples, " + ("or regularize it (dropout, "
                  "weight_decay)" if tokens else "regularize it (dropout, weight_decay), or "
                  "scale X (sklstm.preprocessing.SequenceScaler)"))
        n_valid = (getattr(stopper, "valid_chance_", None) or (None, None))[1]
        # (on few validation samples a fit that learned may not show it, and "did not
        # learn" then says what nobody knows: 7 of 8 fits on 120 samples whose held-out
        # balanced accuracy was 0.7 or more, benchmarks/small_valid_convergence.py)
        verdict = "did not show that it learned" if level == 0 or best < level else verdict
        if level == 0:  # (split_chance: validation samples of a single class or value)
            single = "class" if classes else "value"
            held = ("1 validation sample" if n_valid == 1 else
                    f"{n_valid} validation samples of a single {single}")
            what = (f"early_stopping held out {held} {ended}: predicting its {single} loses "
                    "nothing on it, so its loss cannot show that the fit learned")
            advice = ("Raise validation_fraction" + (" so that every class is held out"
                                                      if classes else "")
                      + ", or set early_stopping=False")
        elif best < level and n_valid is not None:  # below the level, not below its margin
            what = (f"its best validation loss {best:.4g} is {chance} {ended}: not below "
                    f"{share:.3g} of it, which the best of many epochs of a model that "
                    f"learned nothing reaches by luck on {n_valid} validation samples")
            advice = ("Raise validation_fraction (on more validation samples luck reaches "
                      f"less far), or {advice[0].lower()}{advice[1:]}")
        best_epoch = getattr(stopper, "best_epoch_", 0)
        if stopped_after is None and level and best_epoch > max(1, max_epochs - stopper.patience):
            # max_epochs, not the rule, cut short a validation loss that still fell (seen:
            # 0.65, 0.51, 0.31 in max_epochs=3, told only to add samples or regularize)
            advice = (f"Raise max_epochs (the validation loss still improved at epoch "
                      f"{best_epoch}, within n_iter_no_change={stopper.patience} epochs of "
                      f"the end), or {advice[0].lower()}{advice[1:]}")
    warn_at_caller(
        f"{name} {verdict}: {what}{per_output}. {advice}; if X carries no signal "
        "about y, no setting will.", ConvergenceWarning)


def _per_output(losses):
    """`` (each output's ...)``: each output's loss over its chance level, of
    ``losses`` (``ConvergenceStopping.output_losses``; None: empty)."""
    if not losses or not any(chance > 0 for _, chance in losses):
        return ""
    ratios = ", ".join(f"y[:, {k}] {loss / chance:.3g}" if chance > 0 else
                       f"y[:, {k}] constant" for k, (loss, chance) in enumerate(losses))
    return (" (each output's loss over its own chance level, at the weights the fit "
            f"keeps: {ratios})")


def _warn_outputs_at_chance(name, stopper, losses, behind, share):
    """The ConvergenceWarning of a multi-output regression whose mean loss left the
    chance level while the outputs ``behind`` (indices into ``losses``: (loss, level))
    did not, with its ``share``."""
    phase = "training" if stopper.monitor == "train_loss" else "validation"
    names = ", ".join(f"y[:, {k}]" for k in behind)
    # (below the level itself but not below its margin: luck may have hidden learning)
    verdict = ("did not learn" if all(losses[k][0] >= losses[k][1] for k in behind)
               else "did not show that it learned")
    warn_at_caller(
        f"{name} {verdict} {names}: the mean {phase} loss over the outputs left the "
        f"chance level, but the {phase} loss of {names} is not below {share:.3g} of its "
        f"own chance level, the loss of predicting its mean{_per_output(losses)}. If X "
        "carries no signal about those outputs, no setting will: drop them, or fit each "
        "output apart (sklearn.multioutput.MultiOutputRegressor) to see which X predicts; "
        "else raise max_epochs or scale X (sklstm.preprocessing.SequenceScaler).",
        ConvergenceWarning)


def _fitted_network_at_chance(name, net, stopper):
    """Whether the fitted network's loss on the first training samples (evaluation
    mode, measured by the divergence guard) is above the chance level, where the
    untrained network started and :data:`FITTED_GAP` times its last training loss
    (without ``early_stopping``); warn that it did not learn.

    The rule judges the training losses, computed in training mode, before each update:
    batch normalization normalizes each micro-batch there and by its running averages
    once fitted, and on micro-batches of 8 a fit whose training loss fell to 0.027
    predicted its own training samples at chance (accuracy 0.51; their loss 1.0) and was
    called converged. (A wide gap: the loss of a few samples is noisy, and a fit whose
    weights still moved fast, 0.26 in training and 0.80 on the samples at accuracy
    0.83, did learn.)
    """
    guard = dict(net.callbacks_).get(DIVERGENCE)
    final = getattr(guard, "final_loss_", None)
    # (early_stopping: the validation loss, in evaluation mode, is judged already; and
    # the first samples may be held-out ones)
    if final is None or not stopper.chance_loss or stopper.load_best or not len(net.history):
        return False
    trained = net.history[-1].get("train_loss", float("inf"))
    # (nor better than the untrained network: a rare class's few samples, each of a
    # large loss, weigh more in a few samples than in the training loss)
    start = getattr(guard, "start_loss_", None) or 0.0
    if final <= max(stopper.chance_loss, start, FITTED_GAP * trained):
        return False
    if has_batch_norm(net.module_):
        advice = ("Batch normalization (the convolutional branch) does on small "
                  "micro-batches, normalizing each while training and by running averages "
                  "once fitted: raise batch_size, or set conv_channels=None.")
    else:
        advice = "Lower lr: the epoch's updates moved the weights far from its losses."
    warn_at_caller(
        f"{name} did not learn: its training loss fell to {trained:.4g}, but the fitted "
        f"network's loss on the first training samples is {final:.4g}, above the chance "
        f"level {stopper.chance_loss:.4g} (the loss of predicting the targets' "
        f"distribution): it computes otherwise once fitted than while it trained. {advice}",
        ConvergenceWarning)
    return True


def _tol_too_coarse(name, net, stopper):
    """Whether ``tol`` is too large against the chance level of the loss the rule
    watches for the rule's stop to mean convergence; warn that the fit did not
    converge, and how to fix it.

    The rule cannot see a fall smaller than ``tol``: above :data:`COARSE_TOL` of the
    chance level, it stops fits that had much left to learn. The default ``tol=1e-4``
    is sized for standardized targets; with ``scale_target=False`` on targets of 1e-2
    (a chance level of 1e-4) a fit stopped at epoch 16, at a training R^2 of 0.49
    (0.998 standardized), and was called converged.
    """
    level = stopper.chance_level(stopper.monitor)[0]
    if not level or stopper.threshold <= COARSE_TOL * level:
        return False
    phase = "training" if stopper.monitor == "train_loss" else "validation"
    # (what puts the level where the default tol is sized: a level far below it is of
    # unscaled targets, or of classes as rare as 1 in 20000, whose entropy is 5e-4)
    standardize = (", or weigh the classes (class_weight='balanced' puts this level at "
                   "the log of their number)") if getattr(net, "classifier", False) else (
        ", or standardize y (LSTMRegressor's scale_target=True, the default, puts this "
        "level near 1)")
    warn_at_caller(
        f"{name} did not converge: the rule stopped the fit after {len(net.history)} "
        f"epochs, but tol={stopper.threshold:g} is {stopper.threshold / level:.3g} times "
        f"the chance level {level:.4g} of the {phase} loss (the loss of predicting the "
        "targets' distribution): the rule cannot see a fall smaller than tol, so it "
        "cannot tell a plateau from a fit still learning. Lower tol below "
        f"{COARSE_TOL * level:.2g} (the default 1e-4 is sized for a chance level near 1: "
        f"{1e-4 * level:.2g} at this one){standardize}.",
        ConvergenceWarning)
    return True
