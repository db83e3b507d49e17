"""The row order of a pandas series given to :func:`~sklstm.windows.make_windows`: its
timestamps must not decrease, and a MultiIndex of rows must be one series. Windows follow
the rows, so rows out of time order (a download sorted newest first) or several series in
one table would give windows whose targets are no future of their inputs, silently."""

import numpy as np

__all__ = ["check_time_order", "time_labels"]


def time_labels(index, name):
    """The labels that order the rows: the index, or the innermost level of a MultiIndex
    whose outer levels hold one key (one series: a group of ``groupby(level=0)``).
    Several keys are a long table of several series, which the windows would join
    silently, the end of one series the inputs of the next one's first targets."""
    if index.nlevels == 1:
        return index
    keys = index.droplevel(-1).unique()
    if len(keys) > 1:
        levels = 0 if index.nlevels == 2 else list(range(index.nlevels - 1))
        first, second = keys[:2].tolist()
        raise ValueError(
            f"{name} has a MultiIndex of rows with {len(keys)} keys in its outer levels "
            f"({first!r}, {second!r}...): several series one after another, which windows "
            "would join, one's end to the next one's start. Pass one series per key: "
            f"[g for _, g in series.groupby(level={levels})]; or, if it is one series, "
            "give it a flat index: series.reset_index(drop=True) for (date, hour) rows, "
            "series.unstack() for the (time, column) rows that stack() leaves.")
    return index.get_level_values(-1)


def check_time_order(index, name):
    """Refuse timestamps out of order: windows follow the rows, so a series sorted newest
    first (as many price downloads are) would pair every window with its past as the
    target. Equal timestamps are kept, in row order (ticks of the same instant); labels
    that are no times (positions, ids) say nothing of the order."""
    kind = getattr(index, "inferred_type", "")
    if kind == "string":  # ISO dates as text: what read_csv leaves without parse_dates
        index = _iso_times(index)
        if index is None:
            return
    elif not kind.startswith(("date", "period", "timedelta")):  # "date" and "datetime..."
        return
    if index.hasnans:
        raise ValueError(f"{name} has missing timestamps (NaT) in its index; fill or drop "
                         "those rows before windowing.")
    if not index.is_monotonic_increasing:
        back = int(np.flatnonzero(np.asarray(index[1:] < index[:-1]))[0]) + 1
        raise ValueError(
            f"{name} is not in time order: timestep {back} ({index[back]}) comes after "
            f"{index[back - 1]}. Windows follow the rows, so sort it first "
            "(series.sort_index()), or pass series.to_numpy() to window the rows in the "
            "order they are."
            # a time comes again: series stacked by pd.concat, which sorting would
            # interleave, each window a mix of steps of both
            + (" If it holds several series one after another, pass them as a list "
               "instead: sorting would interleave them." if index[back] in index[:back]
               else "")
        )


def _iso_times(index):
    """An index of ISO 8601 times written as text (``"2024-01-31"``) as times, None for
    other text (ids; or dates such as ``01/02/2024``, whose day and month cannot be told
    apart). Its order was not checked: a download sorted newest first and read without
    ``parse_dates`` was windowed with every target in its window's past, silently."""
    import pandas as pd  # (a pandas index was given: pandas is installed)

    # a date's dashes, not digits alone: ids "1003", "1002" would parse as years
    if not index.str.match(r"\d{4}-\d{2}").all():
        return None
    try:
        return pd.to_datetime(index, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return None
