"""The table :func:`~sklstm.profile_batch_sizes` returns: a DataFrame with a plot.

The class is made on first use, so that sklstm imports without pandas.
"""

from __future__ import annotations

import functools

import numpy as np

from ._plot import PLOTTED, plot_batch_profile


def _import_pandas():
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(
            'profile_batch_sizes returns a pandas DataFrame and needs pandas: '
            f'pip install "sklstm[pandas]" ({exc})'
        ) from exc
    return pd


# -- the returned table -----------------------------------------------------------
class _ProfilePlot:
    """``profile.plot``: the two-panel profile plot, or pandas' plot accessor (also for
    a selection of columns the profile plot cannot draw from)."""

    def __init__(self, frame):
        self._frame = frame

    def _pandas(self):
        from pandas.plotting import PlotAccessor

        return PlotAccessor(self._frame)

    def __call__(self, *args, **kwargs):
        ax = kwargs.get("ax")
        pair = ax is None or (isinstance(ax, (list, tuple, np.ndarray))
                              and np.size(ax) == 2)
        profile = set(PLOTTED) <= set(self._frame.columns)
        if args or set(kwargs) - {"ax"} or not pair or not profile:
            return self._pandas()(*args, **kwargs)
        return plot_batch_profile(self._frame, ax=ax)

    def __getattr__(self, name):  # profile.plot.bar(...) and friends
        return getattr(self._pandas(), name)


_PROFILE_DOC = """A :class:`pandas.DataFrame` of :func:`profile_batch_sizes`, with a plot.

    One row per pair of batch size and sequence length; ``attrs`` holds the
    memory budget and the profiling settings. Selections and copies keep the
    class (and so the plot).

    Parameters
    ----------
    data, index, columns, dtype, copy
        As for :class:`pandas.DataFrame`.

    Notes
    -----
    ``plot()`` without arguments, or with only ``ax`` (two Axes), draws
    :func:`plot_batch_profile`'s two panels and returns their axes. Called with
    any other argument (or a single Axes), or on a selection without one of the
    columns those panels draw (``profile[["batch_size", "samples_per_s"]]``), it
    is pandas' ``DataFrame.plot``, and ``plot.bar(...)``, ``plot.scatter(...)``
    etc. are pandas' as well.

    The class is made on first use, so that sklstm imports without pandas.
    """


@functools.cache
def _profile_class():
    pd = _import_pandas()

    class BatchSizeProfile(pd.DataFrame):
        __doc__ = _PROFILE_DOC

        @property
        def _constructor(self):
            return BatchSizeProfile

        @property
        def plot(self):
            """The profile plot when called without arguments, else pandas' plot."""
            return _ProfilePlot(self)

    # found under this name by pickle, through the module's __getattr__
    BatchSizeProfile.__module__ = __name__
    BatchSizeProfile.__qualname__ = "BatchSizeProfile"
    return BatchSizeProfile


def __getattr__(name):
    if name == "BatchSizeProfile":
        return _profile_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), "BatchSizeProfile"])
