"""The two-panel plot of a batch-size profile: throughput and peak memory."""

from __future__ import annotations

import numpy as np

from .._param_validation import plain_value

__all__ = ["plot_batch_profile"]


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f'plotting a batch size profile needs matplotlib: pip install matplotlib ({exc})'
        ) from exc
    return plt


def _seq_len_key(value):
    """A ``seq_len`` entry as None or an int (pandas may have made NaN and floats of
    them, or <NA> in a nullable integer column: ``convert_dtypes``, a Parquet file)."""
    import pandas as pd  # (a profile is a DataFrame: pandas is there)

    value = plain_value(value)
    if value is None or pd.isna(value):
        return None
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: The columns :func:`plot_batch_profile` draws from.
PLOTTED = ("batch_size", "seq_len", "samples_per_s", "peak_memory", "fits")


#: How the ``error`` of a pair whose loss diverged begins: its figures stand (every step
#: ran), but a fit with its settings would fail, which the plot must show as well.
_DIVERGED = "DivergenceError"


#: How far above the largest peak the budget's line may stretch the memory panel.
_BUDGET_SCALE = 2.0


def _mib(value):
    """``value`` MiB as the budget's label writes it: whole MiB from 10 on, else three
    significant digits (a budget of 100 kB is 0.0954 MiB, not 0; one past any machine,
    1e+15 MiB and more, not its 16 and more digits)."""
    return f"{value:.0f}" if 10 <= value < 1e15 else f"{value:.3g}"


def _medians(x, values):
    """``(sizes, medians)``: each batch size once, ascending, with the median of its
    finite values (NaN where none is: a gap in the line, as for a single row)."""
    sizes = np.unique(x)
    medians = [np.median(finite) if (finite := values[(x == size) & np.isfinite(values)]).size
               else np.nan for size in sizes]
    return sizes, np.asarray(medians, dtype=float)


def _draw_budget(axis, budget, peaks):
    """The budget (MiB) as a dashed line on the memory panel, kept off the scale when it
    is far above the peaks: the line would squash them to the panel's floor (a budget
    of 2 GiB over peaks of a few MiB; on CUDA without max_memory, the free memory)."""
    peaks = peaks[np.isfinite(peaks)] / 2**20
    top = axis.get_ylim()[1]  # the peaks' scale, before the line extends it
    above = peaks.size > 0 and budget > _BUDGET_SCALE * peaks.max()
    axis.axhline(budget, color="grey", linestyle="--",
                 label=f"budget ({_mib(budget)} MiB{', above the panel' if above else ''})")
    if above:
        axis.set_ylim(top=top)


def plot_batch_profile(profile, ax=None):
    """Draw throughput and peak memory against the batch size.

    Two panels: samples per second and peak memory (MiB), against the batch size
    on a log2 axis, one line per sequence length. Where a batch size has several
    rows (repeated profiles concatenated with :func:`pandas.concat`), the line goes
    through their median and each row is a dot. Pairs that do not fit the
    budget are marked with a red cross (at the bottom of the panel for those
    that ran out of memory and have no figures), those whose loss diverged
    (``error``, where the table has it) with an orange triangle; the memory
    panel draws the budget (``profile.attrs["max_memory"]``) as a dashed line,
    or, where it is more than twice the largest peak, names it in the legend
    only ("above the panel"), so that the peaks keep the panel's scale.

    Parameters
    ----------
    profile : DataFrame
        What :func:`profile_batch_sizes` returned (any DataFrame with its
        columns).
    ax : sequence of two matplotlib Axes, default=None
        Where to draw throughput and memory; None makes a new figure.

    Returns
    -------
    axes : ndarray of two matplotlib Axes
        The throughput and the memory panel.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ValueError
        If ``ax`` is not two Axes, or ``profile`` lacks one of the columns
        ``batch_size``, ``seq_len``, ``samples_per_s``, ``peak_memory``, ``fits``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm.profiling import plot_batch_profile
    >>> profile = pd.DataFrame({"batch_size": [8, 16, 8, 16], "seq_len": [None, None, 10, 10],
    ...                         "samples_per_s": [900.0, 1500.0, 2000.0, 3500.0],
    ...                         "peak_memory": [2**20, 2**21, 2**19, 2**20],
    ...                         "fits": [True, False, True, True]})
    >>> axes = plot_batch_profile(profile)
    >>> [len(axis.lines) for axis in axes]
    [2, 2]
    """
    missing = [name for name in PLOTTED if name not in profile.columns]
    if missing:
        raise ValueError(f"plot_batch_profile draws the columns {list(PLOTTED)} of a "
                         f"profile; this table has no {missing}.")
    plt = _import_pyplot()
    from matplotlib.ticker import FuncFormatter

    if ax is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    else:
        axes = np.ravel(np.asarray(ax, dtype=object))
        if axes.size != 2:
            raise ValueError(f"ax must be two matplotlib Axes (throughput, memory); got "
                             f"{axes.size}.")
    axes = np.asarray(list(axes), dtype=object)
    seq_col = [_seq_len_key(value) for value in profile["seq_len"]]
    panels = ((axes[0], "samples_per_s", 1.0, "samples / s", "Throughput"),
              (axes[1], "peak_memory", 1.0 / 2**20, "peak memory (MiB)", "Peak memory"))
    named = set()  # (panel, label): the marks each legend names, once each

    def mark(axis, label, **style):
        style["label"] = None if (axis, label) in named else label
        named.add((axis, label))
        return dict(s=70, zorder=3, **style)

    def cross(axis):
        return mark(axis, "does not fit", marker="x", color="red")

    for seq_len in dict.fromkeys(seq_col):
        rows = profile[[value == seq_len for value in seq_col]]
        x = rows["batch_size"].to_numpy(dtype=float)
        # fits missing (<NA>, NaN: a reindexed or merged table) is no verdict: no cross
        # (<NA> raised pandas' "cannot convert to 'bool'-dtype NumPy array")
        misfit = rows["fits"].eq(False).to_numpy(dtype=bool, na_value=False)
        # (the error column is optional: a table of the plotted columns alone draws)
        diverged = np.array([isinstance(error, str) and error.startswith(_DIVERGED)
                             for error in rows.get("error", [None] * len(rows))], dtype=bool)
        label = "seq_len=" + ("full" if seq_len is None else str(seq_len))
        for axis, name, scale, _, _ in panels:
            values = rows[name].to_numpy(dtype=float, na_value=np.nan) * scale
            # repeated profiles concatenated (pd.concat), as the docs advise to compare:
            # a line through every row zigzagged up and down each batch size, in no
            # order; it goes through their medians, and each run is a dot
            sizes, medians = _medians(x, values)
            line, = axis.plot(sizes, medians, marker="o", label=label)
            if len(sizes) < len(x):
                axis.scatter(x, values, s=12, alpha=0.5, color=line.get_color(), zorder=2)
            shown = misfit & np.isfinite(values)
            missing = misfit & ~np.isfinite(values)
            if shown.any():
                axis.scatter(x[shown], values[shown], **cross(axis))
            if missing.any():  # out of memory: no figure, a cross at the bottom
                axis.scatter(x[missing], np.full(missing.sum(), 0.03),
                             transform=axis.get_xaxis_transform(), **cross(axis))
            # drawn as any other pair, the fastest point could be one that does not train
            if (shown := diverged & np.isfinite(values)).any():
                axis.scatter(x[shown], values[shown], **mark(
                    axis, "loss diverged", marker="^", facecolors="none",
                    edgecolors="darkorange", linewidths=1.5))
    # every batch size on the x axis: the crosses of pairs with no figures, placed in the
    # panel's height, give no x range, and rows of such pairs alone would leave a
    # panel with none, which the log axis cannot draw
    sizes = profile["batch_size"].to_numpy(dtype=float)
    sizes = sizes[np.isfinite(sizes) & (sizes > 0)]
    for axis, *_ in panels:
        axis.update_datalim(np.column_stack([sizes, np.zeros_like(sizes)]), updatey=False)
    budget = profile.attrs.get("max_memory")
    if budget is not None:
        # (a budget past floats, max_memory=10**400 is accepted, is drawn as 2**1000)
        _draw_budget(axes[1], min(budget, 2**1000) / 2**20,
                     profile["peak_memory"].to_numpy(dtype=float, na_value=np.nan))
    for axis, _, _, ylabel, title in panels:
        axis.set_xscale("log", base=2)
        axis.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_xlabel("batch size")
        axis.set_ylabel(ylabel)
        axis.set_title(title)
        axis.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
    if len(profile):  # (no rows: no lines, and matplotlib warns of an empty legend)
        axes[0].legend()
    if budget is not None or named:
        axes[1].legend()
    return axes
