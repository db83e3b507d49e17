"""Process-wide settings held while fits run: counted, per thread, and safe to fork.

Some of what a fit changes belongs to the process (torch's backend flags): fits in
threads share it. Written by hand because torch's own ``flags()`` contexts restore the
setting when they exit whatever else runs, so the first of the fits in threads to end
would put it back under the others. Here the blocks are counted: the first block sets
the value, the last puts back what the first found.

The count is kept per thread for a child forked while blocks run in other threads (a
``fork`` start method beside fits in a thread pool): those threads do not run there, so
their blocks never end, and the child kept the fits' setting for its whole life. After
the fork the child counts only its own thread's blocks, and puts the setting back where
none of them runs.
"""

from __future__ import annotations

import contextlib
import os
import threading

__all__ = ["HeldSetting", "held_flag"]


class HeldSetting:
    """A process-wide setting held while any of its blocks runs, in any thread.

    Parameters
    ----------
    take : callable
        Called by the first block of those running at once: changes the setting, and
        returns what it found, or :attr:`DECLINED` where it leaves the setting alone
        (the user chose otherwise): that block then runs without it, and is not counted.
    put_back : callable
        Called with what ``take`` returned when the last of them ends (or, in a child
        forked while only other threads' blocks ran, at the fork).

    Examples
    --------
    >>> state = {"on": False}
    >>> setting = HeldSetting(lambda: state.update(on=True),
    ...                       lambda found: state.update(on=False))
    >>> with setting.held():
    ...     with setting.held():  # (a block of another fit)
    ...         pass
    ...     state["on"]
    True
    >>> state["on"]
    False
    """

    #: What ``take`` returns where it leaves the setting as it is.
    DECLINED = object()

    def __init__(self, take, put_back):
        self._take, self._put_back = take, put_back
        self._lock = threading.Lock()
        self._blocks = {}  # thread ident -> its blocks running
        self._found = None  # what the first of the blocks running found
        if hasattr(os, "register_at_fork"):  # (POSIX; settings live as long as the process)
            os.register_at_fork(after_in_child=self._forget_other_threads)

    @contextlib.contextmanager
    def held(self):
        """Hold the setting while the block runs.

        Yields
        ------
        bool
            Whether the setting is held during the block: False where the first block
            found ``take`` declining (beside running blocks it is held already).
        """
        me = threading.get_ident()
        with self._lock:
            held = bool(self._blocks)  # (beside running blocks it is held already)
            if not held:
                found = self._take()
                held = found is not self.DECLINED
                self._found = found if held else None
            if held:
                self._blocks[me] = self._blocks.get(me, 0) + 1
        if not held:
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                self._blocks[me] -= 1
                if not self._blocks[me]:
                    del self._blocks[me]
                if not self._blocks:
                    self._put_back(self._found)

    def _forget_other_threads(self):
        self._lock = threading.Lock()  # (another thread may have held it at the fork)
        me = threading.get_ident()
        mine = self._blocks.pop(me, 0)
        inherited = bool(self._blocks)
        self._blocks.clear()
        if mine:
            self._blocks[me] = mine
        elif inherited:
            self._put_back(self._found)


def held_flag(owner, name, value):
    """A :class:`HeldSetting` of the attribute ``owner.name`` (a torch backend's flag)
    set to ``value``.

    Parameters
    ----------
    owner : object
        What holds the flag, such as ``torch.backends.cudnn``.
    name : str
        The flag's attribute.
    value : object
        Its value while blocks run.

    Returns
    -------
    HeldSetting

    Examples
    --------
    >>> import types
    >>> backend = types.SimpleNamespace(enabled=True)
    >>> off = held_flag(backend, "enabled", False)
    >>> with off.held():
    ...     backend.enabled
    False
    >>> backend.enabled
    True
    """
    def take():
        found = getattr(owner, name)
        setattr(owner, name, value)
        return found

    return HeldSetting(take, lambda found: setattr(owner, name, found))
