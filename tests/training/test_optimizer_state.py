"""What torch's optimizers keep in memory, in copies of the parameters."""

import pytest
import torch

from sklstm.training.optimizer_state import state_copies

OPTIONAL = [(getattr(torch.optim, name), {}) for name in ("Adafactor", "Muon")
            if hasattr(torch.optim, name)]


def _copies_kept(optimizer, params):
    """Elements of the state ``optimizer`` keeps after some steps on one matrix, in
    copies of the matrix (whole copies: the scalars it keeps beside them are dropped)."""
    weight = torch.nn.Parameter(torch.randn(20, 30, generator=torch.Generator().manual_seed(0)))
    target = torch.randn(20, 30, generator=torch.Generator().manual_seed(1))
    opt = optimizer([weight], **params)

    def closure():
        opt.zero_grad()
        loss = ((weight - target) ** 4).sum() + (weight * target).sum().sin()
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)
    tensors = [t for state in opt.state.values() for value in state.values()
               for t in (value if isinstance(value, list) else [value])
               if isinstance(t, torch.Tensor)]
    return sum(t.numel() for t in tensors) // weight.numel()


@pytest.mark.parametrize(("optimizer", "params"), [
    (torch.optim.Adam, {}), (torch.optim.Adam, {"amsgrad": True}), (torch.optim.AdamW, {}),
    (torch.optim.SGD, {}), (torch.optim.SGD, {"momentum": 0.9}), (torch.optim.RMSprop, {}),
    (torch.optim.RMSprop, {"momentum": 0.9, "centered": True}), (torch.optim.Adagrad, {}),
    # counted 0 (the memory a fit needs too low): their state was not known here
    (torch.optim.NAdam, {}), (torch.optim.RAdam, {}), (torch.optim.Adamax, {}),
    (torch.optim.Adadelta, {}), (torch.optim.Rprop, {}), (torch.optim.ASGD, {}),
    (torch.optim.LBFGS, {"history_size": 3}), *OPTIONAL,
], ids=lambda v: v.__name__ if isinstance(v, type) else ",".join(v))
def test_state_copies_are_the_copies_torch_keeps(optimizer, params):
    assert state_copies(optimizer, params) == _copies_kept(optimizer, params)


def test_a_subclass_keeps_what_its_torch_optimizer_keeps():
    class Mine(torch.optim.NAdam):
        pass

    class Own(torch.optim.Optimizer):
        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

    assert state_copies(Mine, {}) == 2
    assert state_copies(torch.optim.LBFGS, {}) == 2 + 2 * 100  # torch's default history
    assert state_copies(Own, {}) == 0  # unknown: a lower bound
