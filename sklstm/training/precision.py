"""Mixed precision: which autocast a fit runs its forward pass under.

torch provides the pieces (``torch.autocast``, ``torch.amp.GradScaler``); this
module only maps the estimators' ``precision`` parameter onto them and refuses,
before training, what the device cannot do. Under ``"bf16"`` the network runs its
LSTM in bfloat16 by its own cast (:class:`~sklstm.network.LSTMNetwork`): autocast's
rule for cuDNN's RNNs would run it in float16.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

import torch

from ..resources.device import bf16_lstm_problem, is_cuda

__all__ = ["PRECISIONS", "Precision", "resolve_precision"]

#: The values of the estimators' ``precision`` parameter.
PRECISIONS = ("32", "bf16", "16-mixed")


@dataclass(frozen=True)
class Precision:
    """How a net computes: the autocast dtype (None: float32) and whether losses
    are scaled for float16 gradients.

    Examples
    --------
    >>> Precision(None, False, "cpu").autocast()  # a no-op context for float32
    <contextlib.nullcontext object at ...>
    """

    dtype: torch.dtype | None
    scaled: bool
    device_type: str

    def autocast(self):
        """The context the forward pass (and the loss) runs in."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def grad_scaler(self):
        """A new ``torch.amp.GradScaler`` for float16, else None."""
        return torch.amp.GradScaler(self.device_type) if self.scaled else None


def resolve_precision(precision, device, optimizer, name):
    """The :class:`Precision` of ``precision`` on ``device``, or a clear error.

    Parameters
    ----------
    precision : {"32", "bf16", "16-mixed"}
        The estimator's parameter.
    device : torch.device
        The device of the fit.
    optimizer : type
        The optimizer class (float16's gradient scaler cannot step an optimizer
        that needs a closure, such as LBFGS).
    name : str
        The estimator's class name, for messages.

    Returns
    -------
    Precision

    Raises
    ------
    ValueError
        If the device cannot run ``precision``.

    Examples
    --------
    >>> resolve_precision("bf16", torch.device("cpu"), torch.optim.Adam, "LSTMClassifier")
    Precision(dtype=torch.bfloat16, scaled=False, device_type='cpu')
    """
    kind = device.type
    if precision == "32":
        return Precision(None, False, kind)
    if precision == "16-mixed":
        if not is_cuda(device):
            raise ValueError(
                f"{name}: precision='16-mixed' (float16 with a gradient scaler) needs a "
                f"CUDA device, but the fit runs on {device}; use precision='bf16' on the "
                "CPU, or '32'.")
        if _needs_closure(optimizer):
            raise ValueError(
                f"{name}: precision='16-mixed' cannot step {optimizer.__name__}, which "
                "evaluates the loss several times per step (torch's GradScaler does not "
                "support closures); use precision='bf16' or '32'.")
        return Precision(torch.float16, True, kind)
    # bf16
    available = getattr(torch.amp, "is_autocast_available", None)  # torch >= 2.4
    if not (available(kind) if available else kind in ("cpu", "cuda")):
        raise ValueError(f"{name}: precision='bf16' is not supported on {device} by this "
                         f"torch ({torch.__version__}); use precision='32'.")
    problem = bf16_lstm_problem(device)
    if problem is not None:
        raise ValueError(
            f"{name}: precision='bf16' runs the LSTM in bfloat16, but {problem}; use "
            "precision='16-mixed' (float16 with a gradient scaler) or '32'.")
    return Precision(torch.bfloat16, False, kind)


def _needs_closure(optimizer):
    return isinstance(optimizer, type) and issubclass(optimizer, torch.optim.LBFGS)
