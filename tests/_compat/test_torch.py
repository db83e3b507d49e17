"""sklstm._compat.torch: the verified range, the fallback, and that nothing else
reaches into torch's internals."""

import sys
import types

import pytest
import torch

import sklstm._compat.torch as compat

from . import declared_minimum, private_imports_outside_compat


def test_installed_torch_is_verified():
    assert compat.verified(), (
        f"torch {torch.__version__} lies outside VERIFIED = {compat.VERIFIED} of "
        "sklstm/_compat/torch.py: check that torch.utils._foreach_utils."
        "_get_fused_kernels_supported_devices still exists and answers device types, "
        "then widen VERIFIED (meanwhile fused kernels are used on CUDA only).")


# 2.0: VERIFIED claimed it, but its Adam checked p.is_cuda; the helper came with 2.1
@pytest.mark.parametrize("version", ["1.13.1", "2.0.1", "2.15.0a0+git5e6f7a8", "3.0.0",
                                     "dev"])
def test_unverified_versions_are_refused(version):
    assert not compat.verified(version)


@pytest.mark.parametrize("version", ["2.3.0", "2.13.0+cpu", "2.14.0a0+git5e6f7a8",
                                     "2.10.1"])  # (not "2.10" < "2.3" as strings)
def test_verified_versions_include_local_and_pre_releases(version):
    assert compat.verified(version)


def test_verified_starts_at_the_declared_minimum():
    assert compat.VERIFIED[0] == declared_minimum("torch"), (
        "VERIFIED of sklstm/_compat/torch.py must start at pyproject.toml's torch>=")


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


def test_a_verified_torch_without_the_helper_falls_back_to_cuda(monkeypatch):
    gone = types.ModuleType("torch.utils._foreach_utils")
    monkeypatch.setitem(sys.modules, "torch.utils._foreach_utils", gone)
    assert compat.fused_optimizer_devices() == ("cuda",)


def test_no_other_module_imports_private_torch_names():
    others = private_imports_outside_compat("torch")
    assert not others, ("only sklstm/_compat/torch.py may import torch's private names; "
                        f"import them from there: {others}")
