"""Generators of long smooth series: a subtle class shape, and a trend to forecast.

Two more hard cases of small real data (see ``_hard_cases.py`` for the others): long
smooth series whose classes differ by a small shape that the background dwarfs, so a
fit first sits at the chance-level loss; and one trending series, cut into windows
and split by time, whose test span lies above every level seen in training. Both are
local and reproducible under ``random_state``.
"""

import numpy as np

from .._compat.sklearn import StrOptions
from .._param_validation import integers, validate_plain_params
from ._hard_cases import _whole_steps
from ._scales import scales
from ._seeding import generator as _generator
from ._synthetic import _check_n_classes

__all__ = ["make_subtle_shape", "make_trending_series"]


def _hann(length):
    """A smooth bump ``length`` steps long, zero at both ends, peak 1."""
    return np.sin(np.pi * np.arange(length) / (length - 1)) ** 2


@validate_plain_params({
    "n_samples": [integers(1)],
    "n_timesteps": [integers(24)],
    "difference": [StrOptions({"width", "sign"})],
    "height": [scales(closed="right")],
    # a bump of 2 steps is sin(0)**2 and sin(pi)**2: no bump at all, and class 1's
    # 3-step bump would then change the series' mean
    "width": [integers(3), None],
    "n_waves": [integers(1)],
    "noise": [scales()],
    "random_state": ["random_state"],
})
def make_subtle_shape(n_samples=200, n_timesteps=300, difference="width", height=0.5,
                      width=None, n_waves=3, noise=0.05, random_state=None):
    """Long smooth series whose two classes differ by a small shape the background dwarfs.

    Every series is a random smooth background, the sum of ``n_waves`` sines of 0.5 to
    3 cycles over the series with random amplitudes and phases (standard deviation
    about 1) on a random level, plus white noise; one smooth bump is added to it,
    centred in a slot ``2 * width`` steps long that starts anywhere between 20 % and
    80 % of the way to its last possible start (``n_timesteps - 2 * width``). With
    ``difference="width"`` class 0's bump is ``width`` steps wide and ``height`` high,
    class 1's ``2 * width - 1`` steps wide and half as high: the same area, so the
    series' mean carries no class information. With ``"sign"`` class 1 has a dip
    instead, of the same width. The bump is small beside the background's swings (a
    range of about 3), so a nearest neighbour on the raw series is at chance and a
    network's training loss first sits at the chance level; a filter matched to the
    two bumps, which a network can learn, tells the classes apart. Classes are
    balanced.

    Parameters
    ----------
    n_samples : int, default=200
        How many series to draw, at least 2 (one per class).
    n_timesteps : int, default=300
        Steps in every series, at least 24.
    difference : {"width", "sign"}, default="width"
        What tells the classes apart: the bump's width (at equal area) or its sign.
    height : float, default=0.5
        Peak height of class 0's bump (the background's standard deviation is
        about 1).
    width : int or None, default=None
        Width of class 0's bump; None is ``n_timesteps // 20`` (at least 4). At least 3
        and at most ``n_timesteps // 2``.
    n_waves : int, default=3
        Number of sines in the background.
    noise : float, default=0.05
        Standard deviation of the white noise added to every step.
    random_state : int, RandomState instance or None, default=None
        Seed of the backgrounds, the bumps' places, the labels and the noise.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps)
        The float32 series, one per row (univariate, so 2D).
    y : ndarray of shape (n_samples,)
        Their int64 class labels, 0 (narrow bump) or 1 (wide bump, or dip).

    Examples
    --------
    >>> from sklstm.datasets import make_subtle_shape
    >>> X, y = make_subtle_shape(n_samples=6, n_timesteps=150, random_state=0)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((6, 150), dtype('float32'), [0, 1])
    """
    narrow = max(4, n_timesteps // 20) if width is None else width
    if 2 * narrow > n_timesteps:
        raise ValueError(
            f"width={narrow} is more than half the series (n_timesteps={n_timesteps}); "
            f"class 1's bump is twice as wide: pass a width of at most {n_timesteps // 2}, or "
            "longer series."
        )
    _check_n_classes(n_samples, 2)
    rng = _generator(random_state)
    y = rng.permutation(np.arange(n_samples) % 2)
    t = np.arange(n_timesteps) / n_timesteps
    freqs = rng.uniform(0.5, 3.0, size=(n_samples, n_waves, 1))
    phases = rng.uniform(0.0, 2 * np.pi, size=(n_samples, n_waves, 1))
    amplitudes = rng.normal(0.0, np.sqrt(2.0 / n_waves), size=(n_samples, n_waves, 1))
    X = (amplitudes * np.sin(2 * np.pi * freqs * t + phases)).sum(axis=1)
    X += rng.normal(0.0, 1.0, size=(n_samples, 1))  # the level
    X += rng.normal(0.0, noise, size=X.shape)
    if difference == "width":
        # 2 * narrow - 1 steps: exactly the narrow bump's area, (narrow - 1) * height / 2
        bumps = (height * _hann(narrow), 0.5 * height * _hann(2 * narrow - 1))
    else:
        bumps = (height * _hann(narrow), -height * _hann(narrow))
    # both bumps fit from any start in [0, n_timesteps - 2 * narrow]: 20 % to 80 % of it
    lowest, highest = _whole_steps(n_timesteps - 2 * narrow, 1, 4)
    for i, label in enumerate(y):
        bump = bumps[label]
        # centred in a slot 2 * narrow wide, so both classes sit at the same places
        start = int(rng.integers(lowest, highest + 1))
        start += (2 * narrow - len(bump)) // 2
        X[i, start:start + len(bump)] += bump
    return X.astype(np.float32), y.astype(np.int64)


@validate_plain_params({
    "n_timesteps": [integers(24)],
    "trend": [StrOptions({"linear", "exponential"})],
    "rise": [scales()],
    "period": [integers(2)],
    "seasonal_amplitude": [scales()],
    "noise": [scales()],
    "random_state": ["random_state"],
})
def make_trending_series(n_timesteps=600, trend="linear", rise=40.0, period=24,
                         seasonal_amplitude=1.0, noise=0.25, random_state=None):
    """One long univariate series to forecast: a trend, a season and noise.

    The trend climbs by ``rise`` from the first step to the last: along a straight
    line (``"linear"``), or at a constant growth rate (``"exponential"``: the level
    ``1 + trend`` grows from 1 to ``1 + rise`` geometrically, steepest at the end). On
    top, an additive season of ``period`` steps (a sine and its second harmonic with
    random phases, at most ``seasonal_amplitude`` away from the trend) and white
    noise. Cut it into windows with :func:`sklstm.windows.make_windows` and split
    them by time, training on the first windows and testing on the last ones; with
    the defaults about 90 % of the last fifth of the series lies above every value
    of the first four fifths (not above every value before it: the season and the
    noise dip below earlier peaks), so a model must forecast levels it never saw in
    training.

    Parameters
    ----------
    n_timesteps : int, default=600
        Length of the series.
    trend : {"linear", "exponential"}, default="linear"
        Shape of the trend.
    rise : float, default=40.0
        How much the trend climbs from the first step to the last.
    period : int, default=24
        Length of the season in steps.
    seasonal_amplitude : float, default=1.0
        Largest distance of the season from the trend.
    noise : float, default=0.25
        Standard deviation of the white noise.
    random_state : int, RandomState instance or None, default=None
        Seed of the season's phases and of the noise.

    Returns
    -------
    series : ndarray of shape (n_timesteps,)
        float32 values in time order.

    See Also
    --------
    sklstm.windows.make_windows : Cut the series into input windows and targets.
    sklstm.windows.make_window_splitter : Time-ordered cross-validation of the windows.

    Examples
    --------
    Windows of 24 steps, each with the next value as its target, split by time:

    >>> from sklstm.datasets import make_trending_series
    >>> from sklstm.windows import make_windows
    >>> series = make_trending_series(n_timesteps=200, random_state=0)
    >>> X, y = make_windows(series, lookback=24)
    >>> cut = int(0.8 * len(X))  # the past to train on, the last fifth to test on
    >>> X_train, X_test, y_train, y_test = X[:cut], X[cut:], y[:cut], y[cut:]
    >>> X.shape, bool(y_test.mean() > y_train.max())
    ((176, 24, 1), True)
    """
    rng = _generator(random_state)
    share = np.arange(n_timesteps) / max(n_timesteps - 1, 1)  # 0 at the first step, 1 last
    level = rise * share if trend == "linear" else (1.0 + rise) ** share - 1.0
    phases = rng.uniform(0.0, 2 * np.pi, size=2)
    angle = 2 * np.pi * np.arange(n_timesteps) / period
    season = (np.sin(angle + phases[0]) + 0.5 * np.sin(2 * angle + phases[1])) / 1.5
    series = level + seasonal_amplitude * season + rng.normal(0.0, noise, n_timesteps)
    return series.astype(np.float32)
