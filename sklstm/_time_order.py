"""The row order of a pandas series given to :func:`~sklstm.windows.make_windows`: its
timestamps must not decrease, and a MultiIndex of rows must be one series. Windows follow
the rows, so rows out of time order (a download sorted newest first) or several series in
one table would give windows whose targets are no future of their inputs, silently.
:class:`WindowSplit`: the time-ordered splits of such windows, made by
:func:`make_window_splitter` (public as :func:`sklstm.windows.make_window_splitter`);
:func:`concatenate_index`: their index labels; :func:`warn_time_gaps`: steps missing
from a regular series, which the windows would join across; :func:`check_time_column`:
the time column of a long table, whose text would sort as text."""

import numpy as np
from sklearn.model_selection import TimeSeriesSplit

from ._compat.python import warn_at_caller
from ._param_validation import integers, validate_plain_params
from .exceptions import TimeGapWarning

__all__ = ["WindowSplit", "check_time_column", "check_time_order", "concatenate_index",
           "make_window_splitter", "time_labels", "warn_time_gaps"]


class WindowSplit(TimeSeriesSplit):
    """A :class:`~sklearn.model_selection.TimeSeriesSplit` whose ``gap`` keeps the targets
    of windows of ``horizon`` steps out of training, made by
    :func:`~sklstm.windows.make_window_splitter`. It refuses a 2D ``y`` of more columns
    (the targets of ``make_windows(horizon=...)``, one per step) than ``horizon``: the
    gap is too short for them, and the last training windows would hold validation
    targets, silently (``make_window_splitter(3)`` for windows of ``horizon=6``), and
    ``groups`` of several series (``make_windows(..., return_groups=True)``)."""

    def __init__(self, n_splits=5, *, horizon=1, gap=0, max_train_size=None, test_size=None):
        super().__init__(n_splits, max_train_size=max_train_size, test_size=test_size,
                         gap=gap)
        self.horizon = horizon

    def split(self, X, y=None, groups=None):
        """The ``(train, test)`` positions of every split, as ``TimeSeriesSplit``'s."""
        steps = np.shape(y)[1] if y is not None and np.ndim(y) == 2 else 1
        if steps > self.horizon:
            raise ValueError(
                f"y has {steps} columns, but the splitter was made for horizon="
                f"{self.horizon}: for windows of make_windows(..., horizon={steps}) its gap "
                "is too short, and the last training windows would share targets with the "
                f"first validation ones. Pass make_window_splitter(..., horizon={steps}) "
                "(and the step of the windows); for columns that are several targets of "
                "one timestep, horizon=y.shape[1] costs only a few training windows.")
        _check_one_series(groups)
        return super().split(X, y, groups)


def _check_one_series(groups):
    """Refuse the ``groups`` of windows of several series (``make_windows(...,
    return_groups=True)``), which ``TimeSeriesSplit`` ignores, warning only that it
    does: the windows are series after series, not in time order, so a split trained
    on the whole of one series, the span of the next one's validation windows
    included."""
    labels = np.asarray([] if groups is None else groups)
    # (==, not np.unique, which cannot order labels of several kinds: None beside str)
    if len(labels) and not (labels == labels.flat[0]).all():
        raise ValueError(
            f"groups holds {len(set(labels.ravel().tolist()))} series, but "
            "make_window_splitter splits the windows of one series in time order: "
            "windows of several series, one series after another, would train on one "
            "series' whole span, the validation span of the next included. Pass a "
            "group-aware splitter such as GroupKFold to score on unseen series, or "
            "cross-validate one series at a time.")


@validate_plain_params({
    "n_splits": [integers(2)],
    "horizon": [integers(1)],
    "step": [integers(1)],
    "max_train_size": [integers(1), None],
    "test_size": [integers(1), None],
})
def make_window_splitter(n_splits=5, *, horizon=1, step=1, max_train_size=None, test_size=None):
    """Time-ordered CV splitter for windows built from one series by :func:`make_windows`.

    Returns a :class:`sklearn.model_selection.TimeSeriesSplit` whose ``gap`` drops the
    last training windows whose target ranges would overlap the first validation
    window's targets: with ``step`` between window starts, consecutive windows share
    targets unless ``ceil(horizon / step)`` windows apart, hence
    ``gap = ceil(horizon / step) - 1`` (``horizon - 1`` for ``step=1``). Validation windows
    may still see training targets as inputs, which is legitimate history.

    Only valid when windows are in time order, i.e. built from a single series; for several
    series use a group-aware splitter with the ``groups`` from :func:`make_windows`.

    Parameters
    ----------
    n_splits : int, default=5
        Number of splits.
    horizon : int, default=1
        ``horizon`` used in :func:`make_windows`.
    step : int, default=1
        ``step`` used in :func:`make_windows`.
    max_train_size, test_size : int, default=None
        Passed to :class:`~sklearn.model_selection.TimeSeriesSplit`.

    Returns
    -------
    cv : TimeSeriesSplit
        Splitter for ``cross_validate``, ``GridSearchCV`` and friends; its ``split``
        refuses a ``y`` of more than ``horizon`` columns, for which the gap is short,
        and ``groups`` of several series.

    Examples
    --------
    >>> from sklstm.windows import make_window_splitter
    >>> make_window_splitter(3, horizon=4)
    WindowSplit(gap=3, horizon=4, max_train_size=None, n_splits=3, test_size=None)
    """
    gap = -(-horizon // step) - 1
    return WindowSplit(n_splits, horizon=horizon, gap=gap, max_train_size=max_train_size,
                       test_size=test_size)


def time_labels(index, name):
    """The labels that order the rows: the index, or the one level of a MultiIndex that
    varies when the others hold one key (one series: a group of ``groupby(level=...)``,
    by its outer level or, for ``(date, ticker)`` rows, its inner one). Several keys are
    a long table of several series, which the windows would join silently, the end of
    one series the inputs of the next one's first targets."""
    if index.nlevels == 1:
        return index
    varying = [level for level in range(index.nlevels)
               if index.get_level_values(level).nunique(dropna=False) > 1]
    labels = index.get_level_values(varying[0] if varying else -1)
    # an outer level varying alone is times ((date, ticker) rows grouped by ticker were
    # refused as "several series", their dates taken for keys), or else keys: (ticker,
    # date) rows of one date are one step of each of several series
    if not varying or varying == [index.nlevels - 1] or (
            len(varying) == 1 and _is_time_kind(labels)):
        return labels
    keys = index.droplevel(-1).unique()
    first, second = keys[:2].tolist()
    raise ValueError(
        f"{name} has a MultiIndex of rows with {len(keys)} keys in its outer levels "
        f"({first!r}, {second!r}...): several series one after another, which windows "
        "would join, one's end to the next one's start. Pass one series per key: "
        f"[g for _, g in series.groupby(level={_key_levels(index)})]; or, if it is one "
        "series, give it a flat index: series.reset_index(drop=True) for (date, hour) "
        "rows, series.unstack() for the (time, column) rows that stack() leaves.")


def _key_levels(index):
    """The levels that name the series: all but the innermost, unless the times are in
    an outer level ((date, ticker) rows, as a stacked price download has them), where
    grouping by the outer levels gave one series per date, across the tickers."""
    times = [level for level in range(index.nlevels)
             if _is_time_kind(index.get_level_values(level))]
    if times and times[-1] != index.nlevels - 1:
        keys = [level for level in range(index.nlevels) if level != times[-1]]
    else:
        keys = list(range(index.nlevels - 1))
    return keys[0] if len(keys) == 1 else keys


def _is_time_kind(labels):
    """Whether ``labels`` are times: datetimes, dates, periods or timedeltas."""
    return getattr(labels, "inferred_type", "").startswith(("date", "period", "timedelta"))


def check_time_order(index, name):
    """Refuse timestamps out of order: windows follow the rows, so a series sorted newest
    first (as many price downloads are) would pair every window with its past as the
    target. Equal timestamps are kept, in row order (ticks of the same instant); labels
    that are no times (positions, ids) say nothing of the order."""
    kind = getattr(index, "inferred_type", "")
    labels = index  # (named in the error as written: ISO text is compared as times)
    if kind == "string":  # ISO dates as text: what read_csv leaves without parse_dates
        index = _iso_times(index)
        if index is None:
            return
    elif not _is_time_kind(index):  # ("date" and "datetime...")
        return
    if index.hasnans:
        raise ValueError(f"{name} has missing timestamps (NaT) in its index; fill or drop "
                         "those rows before windowing.")
    if not index.is_monotonic_increasing:
        back = int(np.flatnonzero(np.asarray(index[1:] < index[:-1]))[0]) + 1
        raise ValueError(
            f"{name} is not in time order: timestep {back} ({labels[back]}) comes after "
            f"{labels[back - 1]}. " + _clock_change_hint(index, back)
            + "Windows follow the rows, so sort it first "
            "(series.sort_index()), or pass series.to_numpy() to window the rows in the "
            "order they are."
            # a time comes again: series stacked by pd.concat, which sorting would
            # interleave, each window a mix of steps of both
            + (" If it holds several series one after another, pass them as a list "
               "instead: sorting would interleave them." if index[back] in index[:back]
               else "")
        )


def check_time_column(times, name):
    """Refuse a time column ``times`` (named ``name``) of a long table (of
    :func:`~sklstm.windows.from_long_format`) of text, or of text and numbers: the rows
    would be sorted as text, "10" before "2" and "10/01/2024" before "9/01/2024", each
    sequence's timesteps put out of order silently."""
    import pandas as pd  # (a DataFrame was given: pandas is installed)

    dtype = times.dtype
    # categories of text with no order declared: sorted as text too (pandas sorts the
    # categories it infers), "10" before "2" and month names "Apr" before "Jan"
    if isinstance(dtype, pd.CategoricalDtype) and not dtype.ordered and \
            pd.api.types.infer_dtype(dtype.categories) not in ("integer", "floating") \
            and any(isinstance(c, (str, bytes)) for c in dtype.categories):
        raise ValueError(
            f"time column {name!r} is categorical of text with no order: its rows would be "
            f"sorted by its categories ({list(dtype.categories[:3])}...), as text: '10' "
            "before '2', 'Apr' before 'Jan'. Declare their time order, "
            f"df[{name!r}] = df[{name!r}].cat.reorder_categories([...], ordered=True) (if "
            "they are in it already, .cat.as_ordered()), or convert it to times or numbers.")
    if pd.api.types.infer_dtype(times, skipna=True) not in ("string", "bytes", "mixed",
                                                             "mixed-integer"):
        return
    text = next((v for v in times if isinstance(v, (str, bytes))), None)
    if text is not None:  # ("mixed" is also, e.g., dates beside Timestamps)
        raise ValueError(
            f"time column {name!r} holds text (e.g. {text!r}), which sorts "
            "as text: '10' before '2'. Convert it to times or numbers first, e.g. "
            f"df[{name!r}] = pd.to_datetime(df[{name!r}]) or .astype(int)."
        )


#: The share of a series' steps that must be its shortest for it to count as regular:
#: trading days (a fifth of their steps cross a weekend) and event times are not.
REGULAR_SHARE = 0.9


def warn_time_gaps(indexes):
    """Warn, once, of the gaps in regular time indexes: steps missing from a series
    whose steps are (at least :data:`REGULAR_SHARE` of them) its shortest step, the
    others whole multiples of it (hourly readings missing a day). Windows follow the
    rows, so a window across a gap holds steps far apart as if they were neighbours,
    silently. ``indexes``: the ``(name, pandas index or None)`` of every series.
    Irregular times (events, trading days) are not warned about."""
    gaps = [(name, found) for name, index in indexes
            if index is not None and (found := _gaps(_times(index))) is not None]
    if not gaps:
        return
    name, (step, count, missing, after, regular) = gaps[0]
    more = f" (and {len(gaps) - 1} more series with gaps)" if len(gaps) > 1 else ""
    warn_at_caller(
        f"{name} has a regular time step of {step!r} but {count} gap(s), {missing} "
        f"timestamp(s) missing, the first after {after}{more}: windows across a gap join "
        "the steps on either side as if they were neighbours. Make the series regular and fill it ("
        + (f"series.reindex(pd.period_range(series.index[0], series.index[-1], "
           f"freq={step!r})).interpolate()" if regular == "period_range" else
           f"series.resample({step!r}).mean().interpolate()")
        + "), or cut it at the gaps and pass the pieces as a list. "
        "If the windows may span the gaps, silence this with warnings.filterwarnings("
        "'ignore', category=sklstm.exceptions.TimeGapWarning).", TimeGapWarning
    )


def _times(index):
    """The time labels of ``index`` (datetimes, periods, timedeltas, ISO text) as a
    pandas index of times; None for other labels."""
    labels = time_labels(index, "series")  # (refused before when several series)
    if getattr(labels, "inferred_type", "") == "string":
        return _iso_times(labels)
    return labels if _is_time_kind(labels) and hasattr(labels, "asi8") else None


def _gaps(times):
    """``(step, gaps, missing steps, label before the first gap, how to make it regular)``
    of the regular ``times``; None for no gap, or times that are not regular."""
    import pandas as pd  # (a pandas index was given: pandas is installed)

    periods = isinstance(times, pd.PeriodIndex)  # (its integers count its freq)
    if times is None or len(times) < 3 or (not periods and times.freq is not None):
        return None  # (times with a freq, of date_range or asfreq, have no gap)
    stamps = times.asi8  # (integer counts: of the time unit, or of periods)
    shortest = min(steps.min() for _, steps in _steps(stamps))
    limit = (1 - REGULAR_SHARE) * (len(stamps) - 1)
    across, longer = [], 0  # (the positions of the longer steps, and how many)
    for start, steps in _steps(stamps):
        at = np.flatnonzero(steps != shortest)
        longer += at.size
        if shortest <= 0 or longer > limit or (steps[at] % shortest).any():
            return None  # (equal times: ticks, events; or irregular steps)
        across.append(start + at)
    across = np.concatenate(across)
    if not across.size:
        return None
    diffs = stamps[across + 1] - stamps[across]  # (the longer steps' lengths)
    if periods:
        step = f"{shortest}{times.freqstr}" if shortest > 1 else times.freqstr
    else:  # pandas' name of the step ('D', not to_offset's '24h'), read off three times
        longer = set(across.tolist())
        at = next(p for p in range(len(stamps) - 2) if p not in longer and p + 1 not in longer)
        step = type(times)(times[at:at + 3], freq="infer").freqstr
    return (step, len(across), int((diffs // shortest - 1).sum()), times[int(across[0])],
            "period_range" if periods else "resample")  # (periods: resample is deprecated)


#: Steps of a time index :func:`_steps` takes at a time (a block of 512 KiB).
STEP_BLOCK = 1 << 16


def _steps(stamps):
    """``(start, steps)``: the steps between the integer ``stamps``, a block at a time:
    the whole index's steps at once were an int64 array as long as the index (7.6 MiB for
    1M steps; make_windows of 1M hourly steps peaks at 4.6 MiB with this check as without
    it: ``benchmarks/bench_windows_memory.py``)."""
    for start in range(0, len(stamps) - 1, STEP_BLOCK):
        yield start, np.diff(stamps[start:start + STEP_BLOCK + 1])


def _clock_change_hint(index, back):
    """What to do first when local clock times without a time zone go back by an hour
    or less: the hour that repeats when daylight saving time ends (as many loggers
    and meters write it), where sorting, the usual fix, would interleave the two
    passes through that hour, each window a mix of both."""
    import pandas as pd  # (a pandas index was given: pandas is installed)

    if getattr(index, "tz", False) is not None:  # (times with a zone, or no datetimes)
        return ""
    if not pd.Timedelta(0) < index[back - 1] - index[back] <= pd.Timedelta(hours=1):
        return ""
    if back + 1 < len(index) and index[back + 1] < index[back]:
        return ""  # going on back: newest first, not a clock put back once
    return ("If they are local clock times that repeat an hour as daylight saving time "
            "ends, do not sort them (that would interleave the two passes through it): "
            "give them their time zone, series.tz_localize('Europe/Berlin', "
            "ambiguous='infer') with your zone (after pd.to_datetime for text). If not: ")


def _iso_times(index):
    """An index of ISO 8601 times written as text (``"2024-01-31"``) as times, None for
    other text (ids; or dates such as ``01/02/2024``, whose day and month cannot be told
    apart). Its order was not checked: a download sorted newest first and read without
    ``parse_dates`` was windowed with every target in its window's past, silently."""
    import pandas as pd  # (a pandas index was given: pandas is installed)

    # a date's dashes, not digits alone: ids "1003", "1002" would parse as years
    if not index.str.match(r"\d{4}-\d{2}").all():
        return None
    # utc=True: times with UTC offsets that differ (local times across a daylight saving
    # change, "+01:00" then "+02:00") are refused as "mixed time zones" without it, and
    # such a series was left unchecked; as instants they keep their order
    for utc in (False, True):
        try:
            return pd.to_datetime(index, format="ISO8601", utc=utc)
        except (ValueError, TypeError, OverflowError):
            continue
    return None


def _index_kind(index):
    """The kind of labels ``index`` holds: its dtype, or for an object array (a
    tz-aware DatetimeIndex, periods, strings) the types of its labels."""
    if index.dtype != object:
        return str(index.dtype)
    return "/".join(sorted({type(label).__name__ for label in index}))


def concatenate_index(indices):
    """The windows' index labels of every series, as one array."""
    try:
        index = np.concatenate(indices)
    except (TypeError, ValueError) as exc:  # e.g. datetimes and positions: no common dtype
        raise _mixed_index_error(indices) from exc
    # numpy puts an object array together with any other without complaint (tz-aware
    # times with positions, periods with strings): labels that cannot be ordered
    if index.dtype == object and len({_index_kind(part) for part in indices}) > 1:
        raise _mixed_index_error(indices)
    return index


def _mixed_index_error(indices):
    """The error for index labels of several kinds, naming the kinds."""
    kinds = sorted({_index_kind(index) for index in indices})
    return ValueError(
        f"return_index needs index labels of one kind in every series, got {kinds}; "
        "give every series the same kind of index (e.g. all DataFrames with a "
        "DatetimeIndex, or all arrays, whose labels are positions)."
    )
