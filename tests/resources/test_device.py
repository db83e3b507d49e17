"""The device API (sklstm/resources/device.py, with its private part
_device_resolution.py): the one door through which the package calls torch.cuda.

The rule is read from the package source with ``ast`` (as tests/test_layers.py reads
the imports); the CUDA calls themselves are checked by replacing torch's functions
on the CPU, and for real where a CUDA device is. resolve_device's own tests are in
test_device_resolution.py.
"""

import ast
import pathlib
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

import sklstm
from sklstm import LSTMClassifier
from sklstm.resources import device as device_api
from sklstm.resources.device import (
    bf16_lstm_problem,
    device_memory,
    is_cuda,
    memory_cap,
    peak_allocated,
    rng_devices,
)

PACKAGE = pathlib.Path(sklstm.__file__).parent
API = PACKAGE / "resources" / "device.py"
#: device.py's private part, re-exported by it (device.py stays under 400 lines)
PRIVATE = PACKAGE / "resources" / "_device_resolution.py"
FILES = sorted(p for p in PACKAGE.rglob("*.py") if p not in (API, PRIVATE))

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

X = np.random.default_rng(0).normal(size=(24, 5, 2)).astype(np.float32)
Y = (X[:, -1, 0] > 0).astype(int)
BASE = dict(hidden_size=4, max_epochs=1, tol=None, downsample=1, random_state=0,
            n_threads=1)


def _dotted(node):
    """``torch.cuda.mem_get_info`` for an attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _cuda_code(path):
    """``(line, what)`` for every use of torch.cuda and every branch on the device type
    being "cuda" in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:  # whole chains
            name = _dotted(node)
            if name is not None and (name == "torch.cuda" or name.startswith("torch.cuda.")):
                yield node.lineno, name
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("torch.cuda") or (
                    node.module == "torch" and any(a.name == "cuda" for a in node.names)):
                yield node.lineno, f"from {node.module} import ..."
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("torch.cuda"):
                    yield node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            if any(isinstance(c, ast.Constant) and c.value == "cuda"
                   for c in [node.left, *node.comparators]):
                yield node.lineno, "a comparison with 'cuda'"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_no_module_but_the_device_api_calls_cuda(path):
    found = list(_cuda_code(path))
    assert not found, (f"{path.relative_to(PACKAGE)} uses CUDA directly at {found}; "
                       "call sklstm.resources.device instead")


def test_the_rule_sees_what_it_forbids(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nfrom torch import cuda\n"
                   "if torch.cuda.is_available() or device.type == 'cuda':\n"
                   "    torch.cuda.empty_cache()\n")
    assert [line for line, _ in _cuda_code(bad)] == [2, 3, 3, 4]
    assert list(_cuda_code(API))  # the API itself is where the calls are
    assert list(_cuda_code(PRIVATE))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_the_private_part_of_the_api_is_imported_through_device_py_alone(path):
    # the door stays one: the package asks sklstm.resources.device, never its parts
    imports = [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = [alias.name for node in imports for alias in node.names] + [
        node.module or "" for node in imports if isinstance(node, ast.ImportFrom)]
    assert not [name for name in names if "_device_resolution" in name]


def test_device_py_re_exports_its_private_part():
    from sklstm.resources import _device_resolution

    for name in _device_resolution.__all__:
        assert getattr(device_api, name) is getattr(_device_resolution, name)
        assert name in device_api.__all__


def test_off_cuda_the_api_does_the_plain_thing():
    cpu = torch.device("cpu")
    assert not is_cuda(cpu) and not is_cuda("cpu") and not is_cuda(None)
    assert is_cuda("cuda:1") and is_cuda(torch.device("cuda"))
    assert rng_devices(cpu) == [] and rng_devices(torch.device("cuda", 1)) == [
        torch.device("cuda", 1)]
    assert device_memory(cpu) == (None, None) and peak_allocated(cpu) is None
    assert bf16_lstm_problem(cpu) is None
    with memory_cap(cpu, 2**30) as fraction:
        assert fraction is None


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch.cuda's memory-fraction functions replaced by a recorder (80 GiB device)."""
    calls = {"set": [], "fraction": 0.75}

    def set_fraction(fraction, device=None):
        calls["set"].append((fraction, device))
        calls["fraction"] = fraction

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (60 * 2**30, 80 * 2**30))
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "set_per_process_memory_fraction", set_fraction)
    monkeypatch.setattr(torch.cuda, "get_per_process_memory_fraction",
                        lambda device=None: calls["fraction"], raising=False)
    return calls


def test_the_cap_is_set_for_the_block_and_the_earlier_fraction_restored(fake_cuda):
    with memory_cap(torch.device("cuda", 1), 20 * 2**30) as fraction:
        assert fraction == 0.25 and fake_cuda["set"] == [(0.25, 1)]
    assert fake_cuda["set"] == [(0.25, 1), (0.75, 1)]  # what was set before
    with pytest.raises(KeyError), memory_cap(torch.device("cuda"), 40 * 2**30):
        raise KeyError  # a fit that fails restores it too
    assert fake_cuda["set"][2:] == [(0.5, 0), (0.75, 0)]


def test_without_a_budget_nothing_is_capped(fake_cuda):
    with memory_cap(torch.device("cuda"), None) as fraction:
        assert fraction is None
    assert fake_cuda["set"] == []


def test_a_torch_without_the_getter_gets_its_default_back(fake_cuda, monkeypatch):
    monkeypatch.delattr(torch.cuda, "get_per_process_memory_fraction")
    with memory_cap(torch.device("cuda"), 8 * 2**30):
        pass
    assert fake_cuda["set"] == [(0.1, 0), (1.0, 0)]


def test_a_fit_runs_under_the_cap_of_its_max_memory(monkeypatch):
    seen = []

    @contextmanager
    def recording_cap(device, n_bytes):
        seen.append(("enter", device, n_bytes))
        yield None
        seen.append(("exit", device, n_bytes))

    monkeypatch.setattr("sklstm.training.fit.memory_cap", recording_cap)
    LSTMClassifier(**BASE, device="cpu", max_memory="1GiB").fit(X, Y)
    cpu = torch.device("cpu")
    assert seen == [("enter", cpu, 2**30), ("exit", cpu, 2**30)]


def test_an_old_gpu_is_refused_bfloat16_by_name(two_gpus, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla T4")
    problem = bf16_lstm_problem(torch.device("cuda"))
    assert problem.startswith("Tesla T4 (compute capability 7.5) has no bfloat16")


def test_a_build_without_a_bfloat16_lstm_kernel_is_refused(two_gpus, monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    monkeypatch.setattr(device_api, "_bf16_lstm_error", lambda device: "no kernel")
    assert bf16_lstm_problem(torch.device("cuda")) == "no kernel"


@pytest.mark.parametrize(("visible", "device", "match"), [
    (False, "cuda", r"device='cuda' asks for CUDA, but no CUDA device is available"),
    (True, "cuda:3", r"device='cuda:3' asks for CUDA device 3, but only 2 .* N below 2"),
])
def test_bfloat16_on_an_absent_gpu_is_refused_with_the_fix(two_gpus, monkeypatch, visible,
                                                           device, match):
    # torch was asked about the device first: "Torch not compiled with CUDA enabled"
    # (an AssertionError) or an invalid device ordinal (a RuntimeError)
    from sklstm.training.precision import resolve_precision

    monkeypatch.setattr(torch.cuda, "is_available", lambda: visible)
    with pytest.raises(ValueError, match=match):
        resolve_precision("bf16", torch.device(device), torch.optim.Adam, "LSTMClassifier")


@cuda
def test_cuda_memory_cap_is_torch_s_fraction_during_the_fit_and_restored():
    device = torch.device("cuda", torch.cuda.current_device())
    total = torch.cuda.mem_get_info(device)[1]
    getter = getattr(torch.cuda, "get_per_process_memory_fraction", None)
    if getter is None:
        pytest.skip("torch < 2.6 cannot read the fraction back")
    before = getter(device.index)
    seen = []

    class Probe(Callback):  # torch's cap read in the middle of the fit
        def on_epoch_end(self, net, **kwargs):
            seen.append(getter(device.index))

    LSTMClassifier(**BASE, device=str(device), max_memory="2GiB",
                   callbacks=[("probe", Probe())]).fit(X, Y)
    assert seen == [pytest.approx(2**31 / total)]
    assert getter(device.index) == before


@cuda
def test_cuda_bfloat16_lstm_runs_on_a_gpu_that_has_it():
    device = torch.device("cuda", torch.cuda.current_device())
    if torch.cuda.get_device_capability(device)[0] < 8:
        pytest.skip("a GPU without bfloat16 arithmetic")
    assert bf16_lstm_problem(device) is None


def test_the_bfloat16_probe_runs_the_lstm_as_the_network_does():
    # the CPU is not probed (torch always has its bfloat16 LSTM): the probe itself runs
    # there too, and a device it cannot use is an answer, not an error
    assert device_api._bf16_lstm_error("cpu") is None
    assert "cannot run an LSTM in bfloat16 on meta" in device_api._bf16_lstm_error("meta")


def test_a_dtype_the_device_lacks_is_an_answer_too(monkeypatch):
    # MPS refuses a dtype it lacks (bfloat16 before macOS 14) with a TypeError, which
    # the probe let through: a raw traceback instead of precision='bf16' refused
    def refuse(*args, **kwargs):
        raise TypeError("Trying to convert BFloat16 to the MPS backend but it does not "
                        "have support for that dtype.")

    monkeypatch.setattr(torch.func, "functional_call", refuse)
    problem = device_api._bf16_lstm_error.__wrapped__("cpu")  # (not the cached answer)
    assert problem.endswith("on cpu (Trying to convert BFloat16 to the MPS backend but it "
                            "does not have support for that dtype.)")


def test_the_random_states_of_a_fit_round_trip():
    from sklstm.resources.device import rng_state, set_rng_state

    state = rng_state("cpu")
    first = torch.rand(3)
    set_rng_state(state, "cpu")
    assert torch.equal(torch.rand(3), first) and list(state) == ["cpu"]


def test_an_mps_fit_s_random_states_hold_the_device_s(monkeypatch):
    # MPS's generator (where dropout on "mps" draws) was neither forked, saved in a
    # checkpoint, nor swapped between fits in threads: rng_state held the CPU's alone
    from sklstm.resources.device import rng_state, set_rng_state

    generator = torch.Generator().manual_seed(9)  # (standing in for MPS's)
    monkeypatch.setattr(torch.mps, "get_rng_state", lambda device="mps": generator.get_state())
    monkeypatch.setattr(torch.mps, "set_rng_state",
                        lambda state, device="mps": generator.set_state(state))
    mps = torch.device("mps")
    state = rng_state(mps)
    first = torch.rand(3, generator=generator)
    set_rng_state(state, mps)
    assert torch.equal(torch.rand(3, generator=generator), first)
    assert sorted(state) == ["cpu", "mps"] and rng_devices(mps) == [mps]
    now = generator.get_state()
    set_rng_state(state, "cpu")  # (a checkpoint of MPS resumed on the CPU)
    with device_api.fork_rng(mps):
        torch.rand(3, generator=generator)
    assert torch.equal(generator.get_state(), now)


def test_work_queued_on_mps_is_waited_for(monkeypatch):
    # MPS runs its work after the call returns, as CUDA does: the profile's step timer
    # (and PeakMemory) waited for CUDA's alone, so a step on "mps" was timed as queued
    waits = []
    monkeypatch.setattr(torch.mps, "synchronize", lambda: waits.append("mps"))
    device_api.synchronize(torch.device("mps"))
    device_api.synchronize("cpu")
    assert waits == ["mps"]


@pytest.fixture
def two_generators(monkeypatch):
    """torch.cuda's generators as on a machine with two GPUs (CPU generators standing in
    for them), MPS's seeding recorded, and seeding every device refused."""
    generators = (torch.Generator().manual_seed(100), torch.Generator().manual_seed(101))
    mps = []
    monkeypatch.setattr(torch.cuda, "init", lambda: None)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "default_generators", generators)
    monkeypatch.setattr(torch.mps, "manual_seed", mps.append)

    def every_device(seed):
        raise AssertionError("every CUDA device was seeded")

    monkeypatch.setattr(torch.cuda, "manual_seed_all", every_device)
    return generators, mps


def _seeded(seed):
    return torch.Generator().manual_seed(seed).get_state()


@pytest.mark.parametrize(("device", "seeded"), [
    (torch.device("cuda", 1), [1]), ("cuda", [0]), ("mps", []), ("cpu", []),
])
def test_a_seed_reaches_the_cpu_s_and_the_device_s_generator_alone(two_generators, device,
                                                                    seeded):
    # torch.manual_seed seeded every GPU's and MPS's: a fit on cuda:0 reseeded the user's
    # cuda:1 (and a fit there beside it in another thread)
    generators, mps = two_generators
    before = [g.get_state() for g in generators]
    device_api.seed_rng(np.int64(5), device)
    for index, generator in enumerate(generators):
        expected = _seeded(5) if index in seeded else before[index]
        assert torch.equal(generator.get_state(), expected), index
    assert torch.equal(torch.get_rng_state(), _seeded(5))
    assert mps == ([5] if torch.device(device).type == "mps" else [])


@cuda
def test_a_seed_on_cuda_draws_as_torch_s_own_seed_and_leaves_other_gpus():
    device_api.seed_rng(7, "cuda")
    first = torch.rand(3, device="cuda")
    others = [torch.cuda.get_rng_state(i) for i in range(1, torch.cuda.device_count())]
    torch.cuda.manual_seed(7)
    assert torch.equal(torch.rand(3, device="cuda"), first)
    device_api.seed_rng(8, "cuda")
    assert all(torch.equal(torch.cuda.get_rng_state(i + 1), state)
               for i, state in enumerate(others))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_fit_s_random_states_hold_the_device_s():
    from sklstm.resources.device import rng_state, set_rng_state

    state = rng_state("cuda")
    first = torch.rand(3, device="cuda")
    set_rng_state(state, "cuda")
    assert torch.equal(torch.rand(3, device="cuda"), first) and "cuda" in state


@cuda
def test_a_block_on_a_stream_of_its_own_runs_there_and_is_done_at_its_end():
    device = torch.device("cuda")
    before = torch.cuda.current_stream(device)
    with device_api.own_stream(device):
        inside = torch.cuda.current_stream(device)
        x = torch.ones(512, 512, device=device) @ torch.ones(512, 512, device=device)
    assert inside != before and torch.cuda.current_stream(device) == before
    assert inside.query()  # its work is done: what it made may be used on any stream
    assert float(x[0, 0]) == 512


def test_a_host_tensor_needed_on_the_cpu_is_not_copied():
    lengths = torch.tensor([3, 1, 2])
    assert device_api.copy_to(lengths, torch.device("cpu")) is lengths


@cuda
def test_a_host_tensor_reaches_the_gpu_without_a_sync():
    device = torch.device("cuda")
    lengths = torch.tensor([3, 1, 2])
    torch.cuda.set_sync_debug_mode("error")
    try:
        on_gpu = device_api.copy_to(lengths, device)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    assert on_gpu.device.type == "cuda" and on_gpu.cpu().tolist() == [3, 1, 2]


def test_a_lower_cap_set_before_is_not_loosened(fake_cuda):
    # the process was given a quarter of the GPU: a budget of half of it raised the cap
    fake_cuda["fraction"] = 0.25
    with memory_cap(torch.device("cuda", 0), 40 * 2**30) as fraction:
        assert fraction == 0.25
    assert fake_cuda["set"] == [(0.25, 0), (0.25, 0)]
