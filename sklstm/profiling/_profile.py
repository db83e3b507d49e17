"""Profiling training steps: the measurement of every (batch size, seq_len) pair."""

from __future__ import annotations

import gc
import warnings

import numpy as np
from sklearn.base import clone

from .._compat.sklearn import num_samples, safe_indexing, validate_parameter_constraints
from .._param_validation import plain_value
from ..exceptions import DivergenceError
from ..resources import resolve_device
from ..resources.device import empty_cache, is_cuda
from ..resources.memory_budget import available_memory, parse_memory
from ..training.oom_recovery import out_of_memory
from ._draw import draw
from ._inputs import PROFILE_CONSTRAINTS, check_sizes, seq_lens_to_profile, sizes_as_given
from ._table import _import_pandas, _profile_class
from ._timer import _StepTimer, estimator_settings_unsaid, switched_off_defaults
from ._whole_data import whole_data_classes, whole_data_settings

__all__ = ["COLUMNS", "TIMER", "profile_batch_sizes"]


#: The name of the timing callback in the profiled nets' callbacks.
TIMER = "batch_size_profile_timer"


#: What every profiled fit is given besides its batch size, seq_len and step timer.
_FIT_SETTINGS = dict(accumulation_steps=1, max_epochs=1, tol=None, early_stopping=False,
                     checkpoint=None, max_memory=None, on_oom="raise", verbose=0)


#: Columns of the table :func:`profile_batch_sizes` returns, in order.
COLUMNS = ("batch_size", "seq_len", "timesteps", "samples_per_s", "step_time_s",
           "peak_memory", "fits", "error")


def _out_of_memory(exc):
    """Whether ``exc`` says a pair ran out of memory: CUDA's error, the fit's own budget
    error (a :class:`MemoryError`), the CPU's (numpy's ``MemoryError``, torch's CPU
    allocator's ``RuntimeError``), as a training step tells them."""
    return isinstance(exc, MemoryError) or out_of_memory(exc) is not None


def _profile_one(estimator, prefix, X, y, batch_size, seq_len, n_steps, warmup_steps,
                 classes, device, whole_data=None):
    """Fit a clone for ``warmup_steps + n_steps`` steps; the row's figures.
    ``classes``: a classifier's of the whole ``y`` (None: a regressor); ``whole_data``: the
    settings a fit on the whole data takes (``whole_data_settings``)."""
    from ..search.pipeline import final_estimator

    timer = _StepTimer()
    settings = dict(_FIT_SETTINGS, batch_size=batch_size, seq_len=seq_len,
                    callbacks=[(TIMER, timer)], **(whole_data or {}))
    settings.update(switched_off_defaults(final_estimator(estimator), settings))
    model = clone(estimator).set_params(**{prefix + k: v for k, v in settings.items()})
    if classes is not None:  # the output layer of the fit on y (see _profile_classes)
        final_estimator(model)._profile_classes = classes
    row = dict(batch_size=batch_size, seq_len=seq_len, timesteps=None,
               samples_per_s=np.nan, step_time_s=np.nan, peak_memory=None, error=None)
    # what earlier fits left is freed first: skorch's nets, and an error's traceback,
    # hold their networks, optimizer states and batches in reference cycles, which on
    # CUDA (where a fit's peak counts every tensor of the process) counted in this peak
    gc.collect()
    empty_cache(device)
    try:
        # the samples are copied in here: a batch size too large for the machine's
        # memory runs out in this copy (numpy's MemoryError) before the fit's steps
        final = final_estimator(model)  # (its bucketing "auto": ragged data buckets)
        idx, warmup_steps = draw(X, y, batch_size, warmup_steps, n_steps, classes is not None,
                                 final.bucketing not in (False, None), fit=final)
        model.fit(safe_indexing(X, idx), safe_indexing(y, idx))
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        row["error"], row["fits"] = _first_line(exc), False
        if timer.timesteps:
            row["timesteps"] = max(timer.timesteps)
        return row
    except DivergenceError as exc:
        # raised at the epoch's end, once every step ran: their time and memory stand
        # (a diverged loss costs what any other does); the error says the loss did not
        peak = None if timer.memory is None else timer.memory.peak
        row["error"], row["diverged"] = _first_line(exc), True
    else:
        peak = final_estimator(model).peak_memory_
        # a Ctrl-C in the epoch's end after every step (a callback's): the fit keeps its
        # epoch, and the profile went on with the next pair; it stops after this one now
        row["interrupted"] = final_estimator(model).interrupted_
    if len(timer.ends) < warmup_steps + n_steps:  # a guard: one epoch has them all
        raise RuntimeError(
            f"profile_batch_sizes: the fit at batch_size={batch_size} ran "
            f"{len(timer.ends)} training steps, fewer than warmup_steps + n_steps = "
            f"{warmup_steps + n_steps}.")
    timed = slice(warmup_steps, warmup_steps + n_steps)
    times = np.subtract(timer.ends, timer.begins)[timed]
    sizes = timer.sizes[timed]
    row["timesteps"] = max(timer.timesteps[timed])
    row["step_time_s"] = float(np.mean(times))
    row["samples_per_s"] = float(np.sum(sizes) / np.sum(times))
    row["peak_memory"] = peak
    return row


def _first_line(exc):
    """``"OutOfMemoryError: CUDA out of memory. ..."``: an error for the table."""
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


# -- the public functions ---------------------------------------------------------
def _budget(max_memory, final, device):
    """The budget in bytes and where it came from."""
    if max_memory is not None:
        return parse_memory(max_memory), "max_memory"
    if final.max_memory is not None:
        # checked as the estimator's fit checks it: the profiled fits run without it, so
        # their check never sees it (1.5 became a budget of 1 byte, a fit refuses it)
        validate_parameter_constraints(
            {"max_memory": final._parameter_constraints["max_memory"]},
            {"max_memory": plain_value(final.max_memory)}, caller_name=type(final).__name__)
        return parse_memory(final.max_memory), "estimator.max_memory"
    if is_cuda(device):
        # free memory and what torch's allocator holds for this process, as a fit
        # without max_memory is bounded (MemoryBudget): a fit's peak_memory_ counts
        # the tensors the process already holds there, which free memory leaves out
        empty_cache(device)
        return available_memory(device)[0], "free device memory"
    return None, None


def profile_batch_sizes(estimator, X, y, batch_sizes=(8, 16, 32, 64, 128, 256),
                        seq_lens=None, *, n_steps=3, warmup_steps=1, max_memory=None):
    """Measure throughput and peak memory of real training steps per batch size.

    For every pair of batch size and sequence length, a clone of ``estimator``
    trains for ``warmup_steps + n_steps`` steps on as many batches of samples
    drawn from ``X, y``: one epoch with ``batch_size=b``, ``seq_len=s``,
    ``accumulation_steps=1``, ``max_epochs=1``, ``tol=None``,
    ``early_stopping=False``, no checkpoint, no memory budget of its own,
    ``on_oom="raise"``, ``verbose=0``, and a timing callback in place of the
    estimator's ``callbacks``. Every other parameter (model size, optimizer,
    ``precision``, ``device``, ``n_threads``, ``downsample``...) is the
    estimator's; what a fit resolves from its data (``vocab_size=None``,
    ``downsample``, ``ar_window``, ``split_level`` and ``conv_channels`` of
    ``"auto"``; a classifier's classes, its output layer, and
    ``class_weight="balanced"``) is resolved as a fit on the whole of ``X`` and
    ``y`` (at each ``seq_len``) resolves it, not from the few samples a profiled
    fit trains on; each warning (:class:`~sklstm.exceptions.UnscaledInputWarning`...)
    is shown once, with the whole data's figures, as a fit's. The warm-up steps (kernel
    set-up, first allocations) are not timed. A first, unrecorded fit on one
    sample per step (two for a classifier, which needs two classes) absorbs the
    process's one-off costs (imports, loading kernels), which would otherwise
    count in the first pair's figures.

    Parameters
    ----------
    estimator : LSTMClassifier, LSTMRegressor or Pipeline
        The estimator to profile, or a Pipeline whose (possibly nested) last step
        is one. It is cloned, never fitted or changed.
    X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of arrays of shape (n_timesteps_i, n_features), \
or SequenceStore
        Sequences, as for the estimator's ``fit``. Each fit takes
        ``b * (warmup_steps + n_steps)`` of them: a shuffled subset (when ``X``
        has fewer, every sample once and the rest drawn with replacement by a
        seeded generator). For ragged data (a list of arrays, a ragged store) the
        warm-up steps take the longest sequences (cycled where there are fewer),
        then ``b`` more per other padded width, and the timed steps a sample stratified
        by length, so that every batch size is timed on the data's mix of
        lengths: in batches of mixed lengths, or with the estimator's
        ``bucketing``, of neighbouring lengths (one batch from the middle of each
        of ``n_steps`` equal shares of the lengths), as its training batches are.
        The fit runs these batches in this order, unshuffled.
        Classifiers get at least two classes.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    batch_sizes : sequence of int, default=(8, 16, 32, 64, 128, 256)
        Micro-batch sizes to profile: a list, tuple, range, numpy or pandas array
        (numpy ints accepted).
    seq_lens : sequence of int or None, default=None
        Values of the estimator's ``seq_len`` to profile; an entry None (or
        pandas' missing value) keeps the full length. None (the default) profiles
        the estimator's own ``seq_len`` alone, the length it trains at
        (``LSTMClassifier(seq_len=10)``: 10 steps; ``[None]`` profiles the full
        length). They count timesteps after
        ``downsample``: with the estimator's default ``downsample="auto"``,
        sequences longer than 100 steps are averaged down to at most 100, so to
        profile the raw lengths set ``downsample=1`` on the estimator.
    n_steps : int, default=3
        Timed training steps per pair.
    warmup_steps : int, default=1
        Untimed steps before them; on ragged data they run the longest sequences,
        then a batch of every other padded width (the shapes a fit's memory grows
        with); with ``warmup_steps=0`` the peak is that of the timed steps' mix.
    max_memory : int, str or None, default=None
        The budget ``fits`` is checked against, in bytes or as a string such as
        ``"2GiB"``. None takes the estimator's ``max_memory``; when that is None
        too, on CUDA what a fit without one may use: the device's free memory
        and what torch's allocator holds there for this process (read before
        profiling), and no budget on the CPU (every row fits).

    Returns
    -------
    profile : BatchSizeProfile
        A :class:`pandas.DataFrame` subclass with one row per pair (batch sizes
        outer, sequence lengths inner, in the order given) and the columns

        * ``batch_size``, ``seq_len``: as given, or the estimator's ``seq_len``
          (None: full length);
        * ``timesteps``: the longest sequence the network ran in the timed steps,
          after the estimator's ``downsample`` and ``seq_len`` (and the
          pipeline's preprocessing);
        * ``samples_per_s``: samples trained per second over the timed steps;
        * ``step_time_s``: mean seconds per step, from skorch's
          ``on_batch_begin`` to ``on_batch_end`` (forward, backward, optimizer
          step; CUDA is synchronized at both ends; fetching the batch is not
          counted);
        * ``peak_memory``: bytes, the fitted clone's ``peak_memory_``: the most
          memory the fit used (torch's allocator on CUDA, the growth of the
          resident set on the CPU), which includes the model, the optimizer
          state, the step's activations and gradients and the profiled data as
          the fit holds it; <NA> where it cannot be measured;
        * ``fits``: whether ``peak_memory`` is within the budget (True without a
          budget; False where the peak could not be measured under a budget);
        * ``error``: None, or the out-of-memory error of a pair that ran out of
          memory (CUDA's ``OutOfMemoryError``,
          :class:`~sklstm.exceptions.MemoryBudgetError`, or the CPU's
          ``MemoryError``, as where the pair's samples do not fit): such a row has
          ``fits=False`` and no figures, and profiling goes on with the next
          pair; or the :class:`~sklstm.exceptions.DivergenceError` of a pair
          whose loss diverged (a learning rate too high for the batch size, say):
          its steps all ran, so such a row keeps its figures and ``fits``, and a
          ``UserWarning`` names the pairs once the profile is done.

        ``profile.attrs`` holds ``max_memory`` (the budget in bytes, or None),
        ``budget_source``, ``device``, ``n_steps``, ``warmup_steps`` and
        ``interrupted``: True when Ctrl-C (``KeyboardInterrupt``) stopped the
        profile, which then returns the pairs measured before it, with a
        ``UserWarning`` (it raises the ``KeyboardInterrupt`` again where no pair
        was measured yet).
        ``profile.plot()`` draws :func:`plot_batch_profile`.

    Raises
    ------
    ValueError
        If ``batch_sizes`` is empty or holds anything but positive ints (up to
        ``2**63 - 1``), if
        ``seq_lens`` holds anything but positive ints or None, if either repeats
        a value, if ``n_steps < 1``
        or ``warmup_steps < 0``, if ``max_memory`` is no memory size, if
        ``X`` and ``y`` differ in length, or where the estimator's ``fit`` would
        refuse its parameters (``max_memory`` among them) or the whole of ``X``
        and ``y`` (a bad sample named by its place in ``X``). All of these
        before any fit.
    TypeError
        If ``estimator`` is not an sklstm estimator (or a Pipeline ending in one).
    ImportError
        If pandas is not installed.

    See Also
    --------
    plot_batch_profile : Draw the returned table.

    Notes
    -----
    Step times on a shared machine vary; repeat the profile (or raise
    ``n_steps``) and compare medians before reading small differences:
    ``pd.concat(runs).groupby(["batch_size", "seq_len"], dropna=False)`` (without
    ``dropna=False`` pandas drops the rows of ``seq_len`` None, the full length);
    ``pd.concat(runs).plot()`` draws the line through the medians and each run as a dot.

    Examples
    --------
    >>> from sklstm import LSTMClassifier, profile_batch_sizes
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=32, n_timesteps=30, random_state=0)
    >>> profile = profile_batch_sizes(LSTMClassifier(hidden_size=4, random_state=0), X, y,
    ...                               batch_sizes=[4, 8], seq_lens=[None, 10], n_steps=2)
    >>> profile[["batch_size", "seq_len", "timesteps", "fits"]]
       batch_size seq_len  timesteps  fits
    0           4    None         30  True
    1           4      10         10  True
    2           8    None         30  True
    3           8      10         10  True
    >>> bool((profile["samples_per_s"] > 0).all())
    True
    """
    from ..estimators._base import BaseLSTM
    from ..search.pipeline import final_estimator, final_prefix

    # checked as the values they hold (np.array(3), np.str_("2GiB")), as the estimators'
    # parameters are; Python ints also for the table's attrs
    n_steps, warmup_steps, max_memory = map(plain_value, (n_steps, warmup_steps, max_memory))
    batch_sizes, seq_lens = (sizes_as_given(batch_sizes, "batch_sizes"),  # (or a column)
                             sizes_as_given(seq_lens, "seq_lens"))
    # not scikit-learn's validate_params decorator: it renames every InvalidParameterError
    # raised inside, the profiled fits' own of the estimator's parameters too, to one
    # "of profile_batch_sizes", which has no such parameter (X and y: the fits check them)
    validate_parameter_constraints(PROFILE_CONSTRAINTS, {
        "estimator": estimator, "batch_sizes": batch_sizes, "seq_lens": seq_lens,
        "n_steps": n_steps, "warmup_steps": warmup_steps, "max_memory": max_memory},
        caller_name="profile_batch_sizes")
    pd = _import_pandas()
    batch_sizes = check_sizes(batch_sizes, "batch_sizes", allow_none=False)
    final, prefix = final_estimator(estimator), final_prefix(estimator)
    if not isinstance(final, BaseLSTM):
        # the class, not called, was "got ABCMeta" (its metaclass), with no word of the fix
        got = type(final).__name__
        if isinstance(final, type):
            got = f"the class {final.__name__}" + (
                f": pass an instance, {final.__name__}()" if issubclass(final, BaseLSTM)
                else "")
        raise TypeError(
            "profile_batch_sizes profiles an sklstm estimator (LSTMClassifier, "
            f"LSTMRegressor) or a Pipeline whose last step is one; got {got}.")
    seq_lens = seq_lens_to_profile(seq_lens, final)
    if y is None:
        raise ValueError("profile_batch_sizes trains the estimator and requires y; got None.")
    n_samples = num_samples(X)
    if n_samples < 1 or num_samples(y) != n_samples:
        raise ValueError(
            f"X and y must hold the same, positive number of samples; got {n_samples} "
            f"and {num_samples(y)}.")
    device = resolve_device(final.device)
    budget, source = _budget(max_memory, final, device)

    rows = []
    try:
        with estimator_settings_unsaid():  # (see there: one epoch is the profile's)
            # before any fit (it checks the parameters and the whole data: a fit on the
            # few samples drawn named a bad sample by its place among them)
            try:
                whole_data = whole_data_settings(estimator, final, X, y, seq_lens,
                                                 _FIT_SETTINGS)
            except (MemoryError, RuntimeError) as exc:
                if not _out_of_memory(exc):
                    raise
                # the whole data does not fit: the fits resolve them from their samples
                # (each pair tells its own error where those do not fit either)
                whole_data = {seq_len: {} for seq_len in seq_lens}
            classes, weights = whole_data_classes(final, y)  # (y alone: it always fits)
            whole_data = {seq_len: {**found, **weights} for seq_len, found in whole_data.items()}
            # one-off costs of the process (imports, loading kernels) go to an unrecorded
            # fit (one step of one sample: cheap even where the profiled steps take seconds)
            if _profile_one(estimator, prefix, X, y, 1, seq_lens[0], 1, 0, classes,
                            device, whole_data[seq_lens[0]]).get("interrupted"):
                raise KeyboardInterrupt
            for batch_size in batch_sizes:
                for seq_len in seq_lens:
                    row = _profile_one(estimator, prefix, X, y, batch_size, seq_len, n_steps,
                                       warmup_steps, classes, device, whole_data[seq_len])
                    peak = row["peak_memory"]
                    row.setdefault("fits", budget is None if peak is None  # (False: no memory)
                                   else budget is None or peak <= budget)
                    rows.append(row)
                    if row.pop("interrupted", False):  # (its figures stand: every step ran)
                        raise KeyboardInterrupt
    except KeyboardInterrupt:
        # a long profile stopped with Ctrl-C keeps the pairs it measured, as an
        # interrupted fit keeps its complete epochs; with none there is nothing to keep
        if not rows:
            raise
    interrupted = len(rows) < len(batch_sizes) * len(seq_lens)
    if interrupted:  # (a press in the last pair's end lost nothing: no word of it)
        warnings.warn(
            f"profile_batch_sizes was interrupted after measuring {len(rows)} of "
            f"{len(batch_sizes) * len(seq_lens)} pairs: the profile holds those, and "
            "profile.attrs['interrupted'] is True; profile the others again to "
            "complete it.", UserWarning, stacklevel=2)
    diverged = [f"batch_size={row['batch_size']}, seq_len={row['seq_len']}" for row in rows
                if row.get("diverged")]
    if diverged:
        # the figures stand, but these settings would not train: say so where it is seen
        warnings.warn(
            f"profile_batch_sizes: the loss diverged at {'; '.join(diverged)} (see the "
            "error column): their step times and peak memory are measured, but a fit "
            "with these settings would fail; lower lr, scale X or clip the gradient "
            "before training with them.", UserWarning, stacklevel=2)

    def column(name, dtype):
        return pd.Series([row[name] for row in rows], dtype=dtype, name=name)

    frame = _profile_class()({
        "batch_size": column("batch_size", "int64"),
        "seq_len": column("seq_len", object),
        "timesteps": column("timesteps", "Int64"),
        "samples_per_s": column("samples_per_s", "float64"),
        "step_time_s": column("step_time_s", "float64"),
        "peak_memory": column("peak_memory", "Int64"),
        "fits": column("fits", bool),
        "error": column("error", object),
    })
    frame.attrs.update(max_memory=budget, budget_source=source, device=str(device),
                       n_steps=n_steps, warmup_steps=warmup_steps, interrupted=interrupted)
    return frame
