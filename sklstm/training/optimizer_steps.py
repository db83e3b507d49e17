"""What torch's optimizers accept when built but refuse, or misuse, when they step.

Their constructors check ranges; some arguments fail only in ``step``: at the first batch
of a fit, after its data were prepared and its warm-up ran, as a bare torch error
(an ``AssertionError`` for ``capturable=True`` on the CPU). :data:`STEP_RULES` lists the
values known to fail anywhere; :func:`check_optimizer_step` asks torch itself, with one
step on the fit's device, about what depends on the device.
"""

from __future__ import annotations

import torch

from .randomness import global_draws

__all__ = ["STEP_RULES", "check_optimizer_step", "step_problem"]


def _positive_int(value):
    """A whole count of 1 or more (not a bool, not a float)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


#: Values torch's constructors take but its ``step`` refuses (a raw error mid-fit, after
#: the first batch), ignores, or turns against the fit: ``(class, argument) ->
#: (accepts(value), what the value must be, why)``. Read off ``torch/optim/*.py`` (torch
#: 2.13); what depends on the device of the fit (``capturable=True`` steps on CUDA, not
#: on the CPU) is asked of torch by :func:`check_optimizer_step`.
STEP_RULES = {
    # LBFGS.step raises "only 'strong_wolfe' is supported" for any other name
    (torch.optim.LBFGS, "line_search_fn"): (
        lambda v: v is None or v == "strong_wolfe", "None or 'strong_wolfe'",
        "its one line search is 'strong_wolfe', None moves by the fixed step lr"),
    # 0 or fewer fail on the history's first update (IndexError), a float in building
    # the list of its slots (TypeError)
    (torch.optim.LBFGS, "history_size"): (
        _positive_int, "a positive integer", "it is the number of past updates kept"),
    (torch.optim.LBFGS, "max_iter"): (
        _positive_int, "a positive integer",
        "fewer than 1 iteration per step never moves the weights"),
    # None is max_iter * 5 // 4
    (torch.optim.LBFGS, "max_eval"): (
        lambda v: v is None or _positive_int(v), "None or a positive integer",
        "the strong-Wolfe line search fails on other values"),
    (torch.optim.Optimizer, "differentiable"): (
        lambda v: v is False, "False",
        "torch refuses a differentiable step on the network's weights, leaves that "
        "require grad and are updated in place"),
    # the fit climbed its loss for max_epochs, and its warning advised raising lr
    (torch.optim.Optimizer, "maximize"): (
        lambda v: v is False, "False",
        "True makes each step raise the loss, which the fit lowers"),
}


def step_problem(optimizer, params):
    """What is wrong with the first value in ``params`` that :data:`STEP_RULES` refuses
    for ``optimizer`` (the argument, what it must be and why), or None."""
    for (cls, key), (accepts, rule, why) in STEP_RULES.items():
        if issubclass(optimizer, cls) and key in params and not accepts(params[key]):
            return key, rule, why
    return None


def check_optimizer_step(optimizer, optimizer_params, lr, device, name="the estimator"):
    """Take one step of ``optimizer`` on a weight of ``device``; refuse what torch refuses.

    Written here because torch checks some arguments only as the optimizer steps, and
    against the device of the weights: ``capturable=True`` steps on CUDA (and other
    graph-capturing devices) but fails on the CPU, unless the fused kernel runs it, and a
    ``fused`` kernel exists for some devices only. One step on a one-element weight, with
    the arguments the fit will pass (sklstm's defaults included), tells before training
    what the first batch would have raised. The step needs a closure for LBFGS; every
    optimizer of torch takes one. Nothing of the fit is touched: neither its weights nor
    torch's random generators.

    Parameters
    ----------
    optimizer : type
        The optimizer class.
    optimizer_params : Mapping
        The keyword arguments the fit passes (the plan's ``optimizer_params``).
    lr : float
        The learning rate.
    device : torch.device
        Where the fit trains.
    name : str, default="the estimator"
        Named in the error.

    Raises
    ------
    ValueError
        Where the step fails, with torch's reason.

    Examples
    --------
    >>> cpu = torch.device("cpu")
    >>> check_optimizer_step(torch.optim.SGD, {"momentum": 0.9}, 0.1, cpu)
    >>> check_optimizer_step(torch.optim.RMSprop, {"capturable": True}, 0.1, cpu, "clf")
    Traceback (most recent call last):
    ...
    ValueError: clf: RMSprop with optimizer_params={'capturable': True} cannot step ...
    """
    weight = torch.ones(1, device=device, requires_grad=True)

    def closure():
        weight.grad = None
        loss = weight.square().sum()
        loss.backward()
        return loss

    try:
        # (forked: an optimizer of the user's that draws, as noisy SGD does, leaves
        # torch's generators as they were)
        with global_draws(device):
            optimizer([weight], lr=lr, **optimizer_params).step(closure)
    # (what torch raises for an argument it cannot step with: an AssertionError for
    # capturable=True on the CPU, a NotImplementedError for a kernel a device lacks)
    except (AssertionError, NotImplementedError, RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{name}: {optimizer.__name__} with optimizer_params={dict(optimizer_params)!r} "
            f"cannot step the network's weights on {device}: {str(exc).rstrip('.')}. Leave "
            "the argument torch names out of optimizer_params (capturable=True steps on "
            "CUDA only), or fit on a device that supports it (the device parameter).") from exc
