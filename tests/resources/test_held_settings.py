"""A process-wide setting held while fits run (sklstm/resources/held_settings.py): counted
over nested blocks and threads, put back after a failure, and in a forked child."""

import os
import threading
import types

import pytest

from sklstm.resources.held_settings import HeldSetting, held_flag

from .forking import child_answer_beside


@pytest.fixture
def backend():
    """A flag as a torch backend holds one, off, and held on while blocks run."""
    owner = types.SimpleNamespace(flag=False)
    return owner, held_flag(owner, "flag", True)


def _recording(*found):
    """A HeldSetting whose ``take`` returns ``found`` one by one, and the calls made."""
    calls, answers = [], iter(found)

    def take():
        calls.append("take")
        return next(answers)

    return HeldSetting(take, lambda found: calls.append(("put back", found))), calls


def test_nested_blocks_take_once_and_put_back_once_after_the_outer():
    setting, calls = _recording("the user's value")
    with setting.held() as outer:
        with setting.held() as inner:
            pass
        assert calls == ["take"]  # the outer block still runs
    assert outer and inner
    assert calls == ["take", ("put back", "the user's value")]


@pytest.mark.parametrize("first_to_end", ["first_in", "last_in"])
def test_blocks_in_threads_hold_the_setting_until_the_last_ends(backend, first_to_end):
    # fits in a thread pool end in any order: the first to end must not put the setting
    # back under the other (torch's own flags() contexts do)
    owner, setting = backend
    entered = [threading.Event(), threading.Event()]
    leave, left = [threading.Event(), threading.Event()], [threading.Event(), threading.Event()]

    def block(i):
        if i:
            entered[0].wait(10)
        with setting.held():
            entered[i].set()
            leave[i].wait(10)
        left[i].set()

    threads = [threading.Thread(target=block, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    entered[1].wait(10)
    seen = [owner.flag]
    ending = [0, 1] if first_to_end == "first_in" else [1, 0]
    for i in ending:
        leave[i].set()
        left[i].wait(10)
        seen.append(owner.flag)
    for thread in threads:
        thread.join()
    assert seen == [True, True, False]


def test_a_block_that_raises_puts_the_setting_back(backend):
    owner, setting = backend
    with setting.held():
        with pytest.raises(RuntimeError, match="step"):
            with setting.held():
                raise RuntimeError("a step failed")
        assert owner.flag  # the outer block still runs
    assert not owner.flag
    with pytest.raises(RuntimeError, match="step"):
        with setting.held():
            raise RuntimeError("a step failed")
    assert not owner.flag


def test_a_take_that_fails_leaves_no_block_counted():
    # (a warning turned into an error inside take): the next block takes afresh, and
    # nothing is put back that was never taken
    setting, calls = _recording("found")
    failing = HeldSetting(lambda: 1 / 0, lambda found: calls.append(("put back", found)))
    with pytest.raises(ZeroDivisionError):
        with failing.held():
            pass
    with setting.held():
        pass
    assert calls == ["take", ("put back", "found")]


def test_a_declining_take_runs_the_block_without_the_setting_and_asks_again():
    # the user chose otherwise (host_malloc: their allocator): nothing is held, nothing
    # is put back, and the next block decides again
    setting, calls = _recording(HeldSetting.DECLINED, "found")
    with setting.held() as first:
        with setting.held() as second:
            pass
    assert (first, second) == (False, True)
    assert calls == ["take", "take", ("put back", "found")]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # (Python >= 3.12)
def test_a_child_forked_beside_a_block_of_another_thread_gets_the_setting_back(backend):
    # that thread does not run in the child: its block never ends there, and the child
    # kept the setting for its whole life, its own blocks' end included
    owner, setting = backend

    def child():
        before = owner.flag
        with setting.held():
            during = owner.flag
        return f"{before} {during} {owner.flag}".encode()

    assert child_answer_beside(setting.held, child) == b"False True False"
    assert not owner.flag


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # (Python >= 3.12)
def test_a_child_forked_inside_a_block_of_its_own_thread_keeps_the_setting(backend):
    # the forking thread's block goes on in the child: put back there, it would run
    # without the setting
    owner, setting = backend

    def child():
        with setting.held():
            during = owner.flag
        return f"{during} {owner.flag}".encode()

    with setting.held():
        answer = child_answer_beside(setting.held, child)
    assert answer == b"True True"
    assert not owner.flag
