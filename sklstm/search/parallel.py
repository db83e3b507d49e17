"""Searches whose fits run as threads of one process, each on a CUDA stream of its own.

scikit-learn's ``n_jobs`` runs the fits of a search in worker processes (joblib's
default backend). On one GPU that barely helps for small models: every process has a
CUDA context of its own and the device time-slices between them, while a small LSTM's
fit is bound by the latency of its steps, not by the GPU's arithmetic. On an H200
(2026-12-04), a GridSearchCV of 48 small fits ran 1.41x faster with 4 processes and
1.58x with 8 than with one, the GPU nearly idle.

Threads of one process share one CUDA context, and a fit on a stream of its own queues
its kernels beside the others', so the GPU may run several fits' kernels at once.
torch's per-process state is what stands in the way; :func:`concurrent_fits` makes it
safe (:mod:`sklstm.resources.concurrency` says what changes for a fit,
:mod:`sklstm.training.randomness` how the results stay those of a fit alone).

Whether threads are faster than processes, or than processes under CUDA MPS, on a GPU
has **not been measured yet**: ``benchmarks/gpu_speed.sh`` measures the three on the
48-fit grid. Threads share Python's interpreter lock, which the Python work of each
training step holds; on the CPU, where the fits' computation shares the cores, worker
processes stay the better choice (this is why the mechanism is opt-in).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import joblib

from .._param_validation import plain_value
from ..network.recurrence import weight_note_unsaid
from ..resources.concurrency import fits_in_threads

__all__ = ["concurrent_fits"]

#: The blocks of this process open now, and the one ``weight_note_unsaid`` they share.
_NOTE_LOCK = threading.Lock()
_note = {"blocks": 0, "unsaid": None}


@contextmanager
def _note_unsaid_while_any_block_runs():
    """cuDNN's weight note left unsaid from the first open block to the last one's end.

    By hand, because the warning filters are the process's and ``catch_warnings``
    restores what it found: blocks that threads entered and left in turn (each tune
    worker thread in a block of its own) restored each other's filters, so the last
    one left the note unsaid for the rest of the process, and a block still open lost
    it when an earlier one ended.
    """
    with _NOTE_LOCK:
        if not _note["blocks"]:
            _note["unsaid"] = weight_note_unsaid()
            _note["unsaid"].__enter__()
        _note["blocks"] += 1
    try:
        yield
    finally:
        with _NOTE_LOCK:
            _note["blocks"] -= 1
            if not _note["blocks"]:
                unsaid, _note["unsaid"] = _note["unsaid"], None
                unsaid.__exit__(None, None, None)


@contextmanager
def concurrent_fits(n_jobs=None):
    """Run the fits of the searches in the block as threads, each on a CUDA stream of its own.

    Inside the block, scikit-learn's searches (``GridSearchCV``, ``RandomizedSearchCV``,
    ``cross_validate``...) run their fits with joblib's ``"threading"`` backend, and
    sklstm's fits of this process keep torch's per-process state to themselves: each
    draws its random numbers as it does alone (the same weights, dropout and results as
    with ``n_jobs=1``), runs on a CUDA stream of its own (on CUDA), and leaves torch's
    thread count and memory cap as they are. Several :func:`~sklstm.search.tune`
    workers in threads of the process may share the block as well.

    Opt-in, and meant for a GPU: it has not been measured on one yet
    (``benchmarks/gpu_speed.sh`` does); on the CPU worker processes are faster.

    Parameters
    ----------
    n_jobs : int or None, default=None
        Threads (not 0; -1: one per core, as joblib counts them) for the searches
        that leave ``n_jobs`` at None (a search's own ``n_jobs`` wins, as under
        :func:`joblib.parallel_config`); None keeps joblib's default (one).

    Yields
    ------
    None

    Raises
    ------
    TypeError, ValueError
        An ``n_jobs`` that is no int or None (numpy's are), or 0.

    Notes
    -----
    What stays per process: ``n_threads`` is not applied (torch's thread count is the
    process's; set ``torch.set_num_threads`` before the block if needed), ``max_memory``
    does not cap CUDA's allocator, and ``peak_memory_``, ``max_memory`` and
    ``batch_size="auto"`` measure the memory of the process, so of all the fits that run
    at the time (a fit with ``max_memory`` or ``batch_size="auto"`` warns: its
    micro-batch may differ from the fit alone). Other code that draws from torch's
    global random generators in another thread during the block (not sklstm's, which
    takes a lock) may take numbers from a fit's state.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklstm import LSTMClassifier
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(40, 5, 2, 2, random_state=0)
    >>> search = GridSearchCV(LSTMClassifier(hidden_size=4, max_epochs=2, random_state=0),
    ...                       {"batch_size": [8, 16]}, cv=2)
    >>> with concurrent_fits(2):
    ...     sorted(search.fit(X, y).best_params_)
    ['batch_size']
    """
    # checked here: joblib took "2", 2.0 and True as given, and refused 0 only as the
    # search ran, in its own words
    n_jobs = plain_value(n_jobs)
    if n_jobs is not None and (not isinstance(n_jobs, int) or isinstance(n_jobs, bool)):
        raise TypeError(f"n_jobs must be an int or None, got {n_jobs!r}: the number of "
                        "threads, e.g. 4 (-1: one per core, as joblib counts them)")
    if n_jobs == 0:
        raise ValueError("n_jobs must not be 0: give the number of threads, e.g. 4 (-1: one "
                         "per core), or None for joblib's default")
    # (cuDNN's note on the network's own weights, which a fit alone leaves unsaid around
    # each LSTM call, is left unsaid here for the whole block: threads must not swap
    # the process's warning filters, sklstm.network.recurrence; nor may blocks of
    # several threads, _note_unsaid_while_any_block_runs)
    with (fits_in_threads(), _note_unsaid_while_any_block_runs(),
          joblib.parallel_config(backend="threading", n_jobs=n_jobs)):
        yield
