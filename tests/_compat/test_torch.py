"""sklstm._compat.torch: the verified range, the fallback, and that nothing else
reaches into torch's internals."""

import pytest
import torch

import sklstm._compat.torch as compat

from . import private_imports_outside_compat


def test_installed_torch_is_verified():
    assert compat.verified(), (
        f"torch {torch.__version__} lies outside VERIFIED = {compat.VERIFIED} of "
        "sklstm/_compat/torch.py: check that torch.utils._foreach_utils."
        "_get_fused_kernels_supported_devices still exists and answers device types, "
        "then widen VERIFIED (meanwhile fused kernels are used on CUDA only).")


@pytest.mark.parametrize("version", ["1.13.1", "3.0.0", "dev"])
def test_unverified_versions_are_refused(version):
    assert not compat.verified(version)


def test_fused_devices_are_torchs_own_list():
    devices = compat.fused_optimizer_devices()
    assert "cuda" in devices and all(isinstance(d, str) for d in devices)
    # the list is what torch's Adam checks: where it names the CPU, fused=True works there
    if "cpu" in devices:
        param = torch.nn.Parameter(torch.ones(2))
        torch.optim.Adam([param], fused=True)  # no error: the kernel exists


def test_an_unverified_torch_falls_back_to_cuda(monkeypatch):
    monkeypatch.setattr(torch, "__version__", "3.0.0")
    assert compat.fused_optimizer_devices() == ("cuda",)


def test_no_other_module_imports_private_torch_names():
    others = private_imports_outside_compat("torch")
    assert not others, ("only sklstm/_compat/torch.py may import torch's private names; "
                        f"import them from there: {others}")
