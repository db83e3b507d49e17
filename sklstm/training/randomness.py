"""A fit's random numbers: the same draws whether it runs alone or beside other fits.

A fit draws from torch's global generators: the weights' initialization from the CPU
generator, dropout from the generator of the device it trains on. (The order of samples
has a generator of its own, :class:`~sklstm.data.batching.BatchLoader`'s, and the
validation split a seed.) torch offers no other way for these draws: ``nn.Dropout`` and
``F.dropout`` take no generator, nor does the dropout between the layers of
``nn.LSTM``; the modules' initializers draw from the global one. So a fit seeds the
global generators and owns them while it trains, which holds as long as no other fit of
the process draws at the same time: scikit-learn's ``n_jobs`` runs fits in processes.

For fits in threads of one process (:func:`~sklstm.resources.concurrency.fits_in_threads`,
or a fit that starts while another thread's fit runs),
:class:`FitRandomness` keeps each fit's random state to itself and puts it into the
global generators only for the blocks that draw (:meth:`FitRandomness.draws`: the net's
initialization, the forward pass of a training step when the network has dropout, the
state a checkpoint saves or restores), under one lock of the process. The fit then draws
the same numbers in the same order as alone, whatever other fits do; the cost is that
these blocks run one at a time across the threads (nothing is locked for a network
without dropout, whose training steps draw nothing). Code that draws from torch's global
generators in another thread while fits run, outside :func:`global_draws`, may take
numbers from a fit's state (torch cannot tell the threads' draws apart): sklstm's own
draws all go through the lock.

The dropout between the layers of a stacked LSTM is among these draws on every device:
on CUDA sklstm runs a training step's stacked layers one at a time with ``F.dropout``
between them (:mod:`sklstm.network.lstm`), which draws from the device's generator,
instead of cuDNN's own dropout state (one per device and process, which neither a lock
nor a checkpoint could give each fit).
"""

from __future__ import annotations

import threading
from contextlib import ExitStack, contextmanager, nullcontext

from ..resources.concurrency import fits_run_concurrently
from ..resources.device import fork_rng, rng_state, seed_rng, set_rng_state

__all__ = ["NO_DRAWS", "FitRandomness", "global_draws"]

#: Held while a block draws from torch's global generators for one fit (reentrant: a
#: block may call code that takes it again).
_GLOBAL = threading.RLock()

#: The context of draws that need nothing done (reusable: entering it does nothing).
NO_DRAWS = nullcontext()


@contextmanager
def global_draws(device, seed=None):
    """Draw from torch's global generators in the block and leave them as they were.

    The block holds the process's lock of the generators (so no concurrent fit draws
    meanwhile) and forks them (``torch.random.fork_rng``: the CPU generator and, on
    CUDA or MPS, ``device``'s).

    Parameters
    ----------
    device : torch.device
        The device whose generator is forked besides the CPU's.
    seed : int or None, default=None
        Seed the CPU's generator and ``device``'s with it first, as
        ``torch.manual_seed`` does; None draws on from their state.

    Yields
    ------
    None

    Examples
    --------
    >>> import torch
    >>> with global_draws(torch.device("cpu"), seed=0):
    ...     a = torch.rand(2)
    >>> with global_draws(torch.device("cpu"), seed=0):
    ...     torch.equal(a, torch.rand(2))
    True
    """
    with _GLOBAL, fork_rng(device):
        if seed is not None:
            seed_rng(seed, device)
        yield


class FitRandomness:
    """The random state of one fit: torch's global generators seeded with its seed.

    Entered around the fit (as a context manager); :meth:`draws` is entered around
    every block that draws from, reads or sets the fit's random state.

    * Alone (the default): entering forks torch's global generators and seeds them with
      ``seed``; the fit owns them until it ends, :meth:`draws` only takes the process's
      lock of the generators (a fit that starts beside it, in another thread, swaps its
      own state in and out under that lock), and leaving puts back the state from
      before.
    * Concurrent (entered while :func:`~sklstm.resources.concurrency.fits_run_concurrently`):
      the fit's state is kept here. :meth:`draws` takes the process's lock of the
      generators, puts the state in them, and takes it back out at the block's end.

    Both draw the same numbers in the same order (module docstring).

    Parameters
    ----------
    seed : int
        The fit's seed.
    device : torch.device
        The fit's device (its generator is the fit's besides the CPU's).
    steps_draw : bool, default=True
        Whether a training step's forward pass draws (the network has dropout):
        :meth:`step_draws` is :meth:`draws` then, else nothing.

    Examples
    --------
    >>> import torch
    >>> cpu = torch.device("cpu")
    >>> with FitRandomness(7, cpu) as randomness, randomness.draws():
    ...     a = torch.rand(2)
    >>> with global_draws(cpu, seed=7):
    ...     torch.equal(a, torch.rand(2))
    True
    """

    def __init__(self, seed, device, steps_draw=True):
        self.seed = seed
        self.device = device
        self.steps_draw = steps_draw
        self.concurrent = False
        self._state = None
        self._inside = 0  # draws blocks open (a fit's blocks run in its one thread)
        self._exit = None

    def __enter__(self):
        self.concurrent = fits_run_concurrently()
        if self.concurrent:
            with global_draws(self.device, self.seed):
                self._state = rng_state(self.device)
        else:
            stack = ExitStack()
            with _GLOBAL:
                stack.enter_context(fork_rng(self.device))
                seed_rng(self.seed, self.device)
            self._exit = stack
        return self

    def __exit__(self, *exc_info):
        stack, self._exit = self._exit, None
        if stack is None:
            return False
        with _GLOBAL:  # not while a fit beside it has its state in the generators
            return stack.__exit__(*exc_info)

    def draws(self):
        """A context in which the fit draws from torch's global generators.

        Returns
        -------
        contextlib.AbstractContextManager
            The process's lock of the generators when the fit runs alone (it owns
            them; the lock keeps a fit that started beside it from swapping its state
            in meanwhile); when fits run concurrently, one that holds the lock with
            the fit's state in the generators (nested blocks of the same fit only keep
            it).
        """
        return self._swapped() if self.concurrent else _GLOBAL

    def step_draws(self):
        """:meth:`draws` for the forward pass of a training step; nothing when the
        network has no dropout (its steps draw nothing).

        Returns
        -------
        contextlib.AbstractContextManager
        """
        return self.draws() if self.steps_draw else NO_DRAWS

    @contextmanager
    def _swapped(self):
        with _GLOBAL:
            if self._inside:
                self._inside += 1
                try:
                    yield
                finally:
                    self._inside -= 1
                return
            before = rng_state(self.device)
            set_rng_state(self._state, self.device)
            self._inside = 1
            try:
                yield
            finally:
                self._inside = 0
                self._state = rng_state(self.device)
                set_rng_state(before, self.device)


