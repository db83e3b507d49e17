"""sklstm._compat.skorch: the verified range, the fallbacks, and that nothing else
reaches into skorch's internals. (sklstm's epoch loop against skorch's own:
tests/training/test_loop.py.)"""

import ast
import re

import numpy as np
import pytest
import skorch
import torch

import sklstm._compat.skorch as compat
from sklstm.network import LSTMNetwork
from sklstm.training import SequenceNet

from . import PACKAGE, ROOT, declared_minimum


def test_installed_skorch_is_verified():
    assert compat.verified(), (
        f"skorch {skorch.__version__} lies outside VERIFIED = {compat.VERIFIED} of "
        "sklstm/_compat/skorch.py: run tests/training/test_loop.py and this module "
        "against it, read skorch's changes to the internals the module lists, then widen "
        "VERIFIED (meanwhile the module's functions use skorch's public attributes).")


@pytest.mark.parametrize("version", ["1.0.0", "1.5.0", "1.10.0", "2.0", "dev"])
def test_unverified_versions_are_refused(version):
    assert not compat.verified(version)


def test_verified_starts_at_the_declared_minimum():
    assert compat.VERIFIED[0] == declared_minimum("skorch"), (
        "VERIFIED of sklstm/_compat/skorch.py must start at pyproject.toml's skorch>=")


def _stepped_net(seed):
    torch.manual_seed(seed)
    net = SequenceNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=1,
                      criterion=torch.nn.MSELoss, optimizer=torch.optim.LBFGS, lr=0.1,
                      max_epochs=1, train_split=None, verbose=0).initialize()
    X, y = torch.randn(6, 4, 2), torch.randn(6, 1)

    def step_fn():
        compat.zero_grad(net)
        loss = net.get_loss(net.infer(X), y)
        loss.backward()
        return loss

    compat.set_training(net, False)
    mode = net.module_.training
    assert compat.modules_and_criteria(net) == [net.module_, net.criterion_]
    compat.set_training(net, True)
    compat.step_optimizer(net, step_fn)
    return mode, net.module_.training, [p.detach().clone() for p in net.module_.parameters()]


def test_the_fallbacks_do_what_skorchs_helpers_do(monkeypatch):
    skorchs = _stepped_net(0)
    monkeypatch.setattr(compat, "verified", lambda version=None: False)
    public = _stepped_net(0)
    assert skorchs[:2] == public[:2] == (False, True)
    for a, b in zip(skorchs[2], public[2], strict=True):
        assert torch.equal(a, b)
    assert not all(np.allclose(p, 0) for p in public[2])


def _replayed(scores, **params):
    rule = skorch.callbacks.EarlyStopping(**params)
    rule.on_train_begin(None)
    said = [compat.replay_early_stopping(rule, score, epoch)
            for epoch, score in enumerate(scores, 1)]
    return said, rule.misses_, rule.dynamic_threshold_, rule.best_epoch_, compat.score_improves(
        rule, scores[-1])


@pytest.mark.parametrize("params", [
    {}, {"threshold": 0.1}, {"threshold": 0.1, "threshold_mode": "abs"},
    {"lower_is_better": False, "threshold": 0.05}])
def test_the_early_stopping_replay_counts_as_skorchs_rule(params, monkeypatch):
    scores = [1.0, 0.8, 0.79, 0.9, 0.5, 0.6]
    skorchs = _replayed(scores, **params)
    monkeypatch.setattr(compat, "verified", lambda version=None: False)
    assert _replayed(scores, **params) == skorchs
    improved, misses = skorchs[0], skorchs[1]
    assert any(improved) and not all(improved)
    assert misses == len(scores) - 1 - max(i for i, up in enumerate(improved) if up)


#: skorch internals: protected methods and attributes used or overridden outside the
#: fence.
_INTERNALS = re.compile(r"\._(set_training|zero_grad_optimizer|step_optimizer|get_param_names"
                        r"|is_score_improved|calc_new_threshold)"
                        r"\(|def (_set_training|_get_param_names)\(|\._(modules|criteria)\b")

#: skorch's public methods that make up an epoch loop: sklstm overrides them in one
#: module, its one loop.
_LOOP = re.compile(r"def (run_single_epoch|notify|fit_loop)\(")


def test_no_other_module_reaches_into_skorch():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        ast.parse(text)  # a file that does not parse is not silently skipped
        lines = [i for i, line in enumerate(text.splitlines(), 1) if _INTERNALS.search(line)]
        if lines:
            found[path.relative_to(ROOT).as_posix()] = lines
    found.pop("sklstm/_compat/skorch.py", None)
    assert not found, f"call skorch's internals through sklstm._compat.skorch: {found}"


def test_one_module_holds_the_epoch_loop():
    found = sorted(path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*.py")
                   if _LOOP.search(path.read_text(encoding="utf-8")))
    assert found == ["sklstm/training/loop.py"]
