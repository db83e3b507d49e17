"""CPU fits keep their large step buffers on glibc's heap, unless the user chose otherwise."""

import os

import pytest
import torch

from sklstm.resources import host_malloc
from sklstm.resources.host_malloc import OPT_OUT, glibc, step_buffers_on_heap, why_not_tuned

from ..settings import in_fresh_process
from .forking import child_answer_beside

requires_glibc = pytest.mark.skipif(glibc() is None, reason="glibc's malloc settings only")

# a fresh process (the settings are process-wide): does glibc map a 64 MiB block (as
# large as oneDNN's per-step workspace) during a CPU fit at the defaults, and after it?
# mallinfo2's hblkhd counts the bytes glibc serves with mmap
_MAPPED = """
import ctypes

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p

def mapped():
    before = libc.mallinfo2().hblkhd
    block = libc.malloc(64 * 2**20)
    grew = libc.mallinfo2().hblkhd - before
    libc.free(ctypes.c_void_p(block))
    return grew >= 64 * 2**20
"""
_CHILD = _MAPPED + """
import json, numpy as np, skorch
from sklstm import LSTMClassifier

class DuringTheFit(skorch.callbacks.Callback):
    def on_epoch_end(self, net, **kwargs):
        seen.append(mapped())

seen = []
rng = np.random.default_rng(0)
X, y = rng.normal(size=(32, 20, 2)).astype(np.float32), np.arange(32) % 2
LSTMClassifier(max_epochs=2, device="cpu", callbacks=[DuringTheFit()]).fit(X, y)
print(json.dumps({"during": seen, "after": mapped()}))
"""


@pytest.mark.parametrize("environ, libc_found, reason", [
    ({}, True, None),
    ({"LD_PRELOAD": ""}, True, None),
    ({OPT_OUT: "default"}, True, "SKLSTM_HOST_MALLOC=default"),
    ({OPT_OUT: " Default "}, False, "SKLSTM_HOST_MALLOC=default"),
    ({}, False, "the C library is not glibc"),
    ({"MALLOC_TRIM_THRESHOLD_": "0", "MALLOC_ARENA_MAX": "2"}, True,
     "MALLOC_TRIM_THRESHOLD_ is set"),
    ({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=4096"}, True,
     "GLIBC_TUNABLES sets glibc.malloc"),
    ({"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX"}, True, None),
    ({"LD_PRELOAD": "/usr/lib/libjemalloc.so.2"}, True, "jemalloc is preloaded"),
])
def test_the_user_s_allocator_choice_wins(environ, libc_found, reason):
    assert why_not_tuned(environ, libc_found=libc_found) == reason


@requires_glibc
def test_a_cpu_fit_keeps_large_blocks_on_the_heap_while_it_runs():
    # after the fit, a block above glibc's largest dynamic threshold (32 MiB) is mapped
    assert in_fresh_process(_CHILD) == {"during": [False, False], "after": True}


@requires_glibc
@pytest.mark.parametrize("env", [{OPT_OUT: "default"}, {"MALLOC_MMAP_THRESHOLD_": "131072"}])
def test_glibc_is_left_alone_when_asked(env):
    assert in_fresh_process(_CHILD, **env) == {"during": [True, True], "after": True}


_OVERLAPPING = _MAPPED + """
import json, torch
from sklstm.resources.host_malloc import step_buffers_on_heap

cpu = torch.device("cpu")
with step_buffers_on_heap(cpu) as outer:
    with step_buffers_on_heap(cpu) as inner:
        kept, inside = outer and inner, mapped()
    between = mapped()
print(json.dumps({"kept": bool(kept), "mapped": [inside, between, mapped()]}))
"""


@requires_glibc
def test_overlapping_fits_keep_the_settings_until_the_last_ends():
    # fits in threads (concurrent_fits) overlap: the first to end must not restore.
    # In a fresh process: a 64 MiB chunk an earlier test freed inside this one's heap
    # serves the probe's block whatever the thresholds (after a profile of large batches)
    if why_not_tuned() is not None:
        pytest.skip(f"sklstm leaves glibc alone here: {why_not_tuned()}")
    assert in_fresh_process(_OVERLAPPING) == {"kept": True, "mapped": [False, False, True]}


def test_other_devices_leave_glibc_alone():
    with step_buffers_on_heap(torch.device("meta")) as kept:
        assert kept is False


@pytest.mark.parametrize("value", ["off", "0", "glibc"])
def test_an_unknown_opt_out_is_named_at_a_cpu_fit(monkeypatch, value):
    # read as the opt-out it was meant to be, it left glibc tuned without a word
    monkeypatch.setenv(OPT_OUT, value)
    with pytest.warns(UserWarning, match=rf"SKLSTM_HOST_MALLOC='{value}' is not a setting "
                                         r"of sklstm's and is ignored: only 'default' is"):
        with step_buffers_on_heap(torch.device("cpu")):
            pass


@pytest.mark.parametrize("value", ["default", " Default ", ""])
def test_the_opt_out_and_its_absence_say_nothing(monkeypatch, recwarn, value):
    monkeypatch.setenv(OPT_OUT, value)
    with step_buffers_on_heap(torch.device("cpu")):
        pass
    assert not [w for w in recwarn if OPT_OUT in str(w.message)]


@pytest.fixture
def thresholds_set(monkeypatch):
    """glibc's thresholds as the settings sklstm asks for, recorded instead of made (and
    allowed whatever the environment running the tests chose)."""
    asked = []

    def record(libc, mmap_threshold, trim_threshold):
        asked.append((mmap_threshold, trim_threshold))
        return True

    monkeypatch.setattr(host_malloc, "_set_thresholds", record)
    judge = host_malloc.why_not_tuned  # (the opt-out alone)
    monkeypatch.setattr(host_malloc, "why_not_tuned", lambda environ=None, libc_found=True:
                        judge({OPT_OUT: os.environ.get(OPT_OUT, "")}))
    monkeypatch.delenv(OPT_OUT, raising=False)
    return asked


def test_an_opt_out_set_after_a_fit_counts_from_the_next_fit(monkeypatch, thresholds_set):
    # decided once per process, at its first CPU fit: SKLSTM_HOST_MALLOC=default set in
    # a notebook after a fit was ignored without a word
    cpu = torch.device("cpu")
    with step_buffers_on_heap(cpu) as kept:
        assert kept
    monkeypatch.setenv(OPT_OUT, "default")
    with step_buffers_on_heap(cpu) as kept:
        assert not kept
    assert thresholds_set == [host_malloc.DURING_FITS, host_malloc.AFTER_FITS]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # (Python >= 3.12)
def test_a_child_forked_beside_a_cpu_fit_gets_glibc_s_settings_back(thresholds_set):
    """A process forked while a CPU fit ran in a thread counted that fit, which never ends
    there, for its whole life: it kept the fits' thresholds (up to 512 MiB of freed heap
    kept) and never trimmed the heap after its own fits."""
    cpu = torch.device("cpu")

    def child():  # (the count only)
        before = len(thresholds_set)
        with step_buffers_on_heap(cpu) as kept:
            pass
        return b"%d%d%d" % (before, kept, len(thresholds_set))

    answer = child_answer_beside(lambda: step_buffers_on_heap(cpu), child)
    # the parent's fit set them (1); the fork put glibc's back (2); the child's fit set
    # and restored them (4)
    assert answer == b"214"
