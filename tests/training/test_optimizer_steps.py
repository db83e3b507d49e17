"""Optimizer arguments torch refuses only as it steps, on the fit's device."""

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 5, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)


@pytest.mark.parametrize("optimizer", ["rmsprop", torch.optim.NAdam])
def test_an_argument_the_device_cannot_step_is_refused_before_training(optimizer):
    """torch builds RMSprop(capturable=True) on the CPU and refuses it only as it steps:
    the fit ended at its first batch, after its warm-up, with torch's bare
    AssertionError."""
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, device="cpu", optimizer=optimizer,
                         optimizer_params={"capturable": True}, n_threads=1)
    with pytest.raises(ValueError, match=r"LSTMClassifier: \w+ with optimizer_params="
                                         r"\{'capturable': True.*\} cannot step the network's "
                                         r"weights on cpu: If capturable=True, .* Leave the "
                                         r"argument torch names out of optimizer_params"):
        clf.fit(X, Y)
    assert not hasattr(clf, "net_")
    # (on the device it is meant for the same fit trains: the step is torch's)
    clf.set_params(optimizer_params=None).fit(X, Y)
    assert clf.n_updates_ > 0


class _NoisySGD(torch.optim.SGD):
    """SGD whose step adds noise drawn from torch's global generator (Langevin-style)."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                p.add_(torch.randn_like(p), alpha=1e-6)
        return loss


def test_the_trial_step_leaves_torchs_generators_as_they_were():
    """The step tried before the fit draws as the optimizer does; the user's generator
    is left as a fit leaves it (a fit alone forks it)."""
    clf = LSTMClassifier(hidden_size=4, max_epochs=1, device="cpu", optimizer=_NoisySGD,
                         n_threads=1, random_state=0)
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    clf.fit(X, Y)
    assert torch.equal(torch.rand(3), expected)
