"""Generators of the hard cases small real data sets have, for tests and benchmarks.

Each one stands for a kind of data where a plain LSTM at fixed settings fails: the
telling part of a long series sits in its middle; a few dozen multichannel recordings
of movements at varying speed (also ragged); a regression target far from unit scale.
All are local and reproducible under ``random_state``.
"""

import numpy as np

from .._compat.sklearn import StrOptions
from .._param_validation import integers, reals, validate_plain_params
from ._scales import scales
from ._seeding import generator as _generator
from ._synthetic import _check_n_classes

__all__ = ["make_drift_regression", "make_motion_recordings", "make_shape_in_series"]


def _whole_steps(last, low_fifths, high_fifths):
    """The first and last whole step from ``low_fifths / 5`` to ``high_fifths / 5`` of the
    way to ``last``, rounded inwards (``-(-n // 5)``: a ceiling; ``int(0.2 * 27)`` started
    a "middle" shape at 5 of 27, 18.5 % of the way). Where that range holds no whole step
    (``last=1``: 0.2 to 0.6, which made numpy refuse to draw), the step just below it."""
    lowest, highest = -(-low_fifths * last // 5), high_fifths * last // 5
    return min(lowest, highest), highest


def _shape(kind, length):
    """One of the class shapes, ``length`` steps long, peak amplitude 1."""
    t = np.linspace(0.0, 1.0, length)
    if kind == 0:  # a bump
        return np.sin(np.pi * t)
    if kind == 1:  # a dip
        return -np.sin(np.pi * t)
    if kind == 2:  # a rise then a drop: one period of a sine
        return np.sin(2 * np.pi * t)
    return np.sign(np.sin(4 * np.pi * t)) * 0.8  # a square wave, two periods


@validate_plain_params({
    "n_samples": [integers(1)],
    "n_timesteps": [integers(24)],
    "n_classes": [integers(2, 4)],
    "shape_length": [integers(4), None],
    "position": [StrOptions({"middle", "end", "anywhere"})],
    "noise": [scales()],
    "random_state": ["random_state"],
})
def make_shape_in_series(n_samples=200, n_timesteps=300, n_classes=3, shape_length=None,
                         position="middle", noise=0.4, random_state=None):
    """Long univariate series whose class is a short shape somewhere inside them.

    Every series is a random walk plus noise; one shape of ``shape_length`` steps is
    added to it: a bump (class 0), a dip (1), a rise-and-drop (2) or a square wave
    (3). With ``position="middle"`` the shape starts anywhere between 20 % and 60 % of
    the way to its last possible start (``n_timesteps - shape_length``), so it is
    followed by at least 40 % of the steps outside it, unrelated steps that a model
    reading only its last state must carry it through; ``"end"`` puts it at the very
    end, ``"anywhere"`` at any position. Classes are balanced.

    Parameters
    ----------
    n_samples : int, default=200
        Number of series, at least ``n_classes``.
    n_timesteps : int, default=300
        Length of every series (at least 24).
    n_classes : int, default=3
        Number of classes, 2 to 4.
    shape_length : int or None, default=None
        Length of the shape; None is ``n_timesteps // 10`` (at least 4).
    position : {"middle", "end", "anywhere"}, default="middle"
        Where the shape starts.
    noise : float, default=0.4
        Standard deviation of the white noise on top (the walk's steps are 0.05).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps)
        float32 univariate series (2D: one sequence per row).
    y : ndarray of shape (n_samples,)
        int64 class labels in ``0..n_classes-1``.

    Examples
    --------
    >>> from sklstm.datasets import make_shape_in_series
    >>> X, y = make_shape_in_series(n_samples=4, n_timesteps=50, random_state=0)
    >>> X.shape, X.dtype, sorted(set(y.tolist()))
    ((4, 50), dtype('float32'), [0, 1, 2])
    """
    length = max(4, n_timesteps // 10) if shape_length is None else shape_length
    if length > n_timesteps:
        raise ValueError(
            f"shape_length={length} is longer than the series (n_timesteps={n_timesteps}); "
            f"pass a shape_length of at most {n_timesteps}, or longer series."
        )
    _check_n_classes(n_samples, n_classes)
    rng = _generator(random_state)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    walk = np.cumsum(rng.normal(0.0, 0.05, size=(n_samples, n_timesteps)), axis=1)
    X = walk + rng.normal(0.0, noise, size=(n_samples, n_timesteps))
    fifths = {"middle": (1, 3), "end": (5, 5), "anywhere": (0, 5)}[position]
    lowest, highest = _whole_steps(n_timesteps - length, *fifths)
    for i, label in enumerate(y):
        start = int(rng.integers(lowest, highest + 1))
        X[i, start:start + length] += 1.5 * _shape(label, length) * rng.uniform(0.8, 1.2)
    return X.astype(np.float32), y.astype(np.int64)


def _gesture(label, length, n_channels, rng):
    """One recording of gesture ``label``: smooth per-channel movements, time-warped."""
    t = np.linspace(0.0, 1.0, length)
    warp = t + 0.15 * np.sin(np.pi * t) * rng.uniform(-1, 1)  # uneven speed
    channels = []
    for c in range(n_channels):
        # every (class, channel) pair has its own frequency and phase: a fixed pattern
        freq = 1 + (3 * label + 2 * c) % 4
        phase = 0.7 * label + 1.3 * c
        channels.append(np.sin(2 * np.pi * freq * warp + phase) * (1 + 0.3 * (c % 3)))
    gravity = rng.normal(0.0, 0.5, size=n_channels)  # sensor orientation
    return np.stack(channels, axis=1) * rng.uniform(0.7, 1.3) + gravity


@validate_plain_params({
    "n_samples": [integers(1)],
    "n_timesteps": [integers(24)],
    "n_channels": [integers(1)],
    # the gestures' phases 0.7 * label repeat after 36 classes: class 36 was class 0's
    # pattern (0.063 RMS apart, against 1.32 for a median pair; a 1-NN: 0.55 accuracy)
    "n_classes": [integers(2, 36)],
    "noise": [scales()],
    "variable_length": ["boolean"],
    "random_state": ["random_state"],
})
def make_motion_recordings(n_samples=48, n_timesteps=120, n_channels=6, n_classes=4,
                           noise=0.5, variable_length=False, random_state=None):
    """A few dozen multichannel recordings of movements, as from a wearable sensor.

    Each class is a gesture: a fixed smooth pattern on every channel (think three
    accelerometer and three gyroscope axes), performed at an uneven speed (time
    warping), with a random amplitude, a constant offset per channel (the sensor's
    orientation) and sensor noise. Telling gestures apart needs the whole recording,
    across channels. With ``variable_length=True`` gestures also last different times:
    recordings are 40-100 % of ``n_timesteps`` long, a ragged list.

    Parameters
    ----------
    n_samples : int, default=48
        Number of recordings, at least ``n_classes``.
    n_timesteps : int, default=120
        Length of every recording (the longest with ``variable_length``).
    n_channels : int, default=6
        Sensor channels per timestep.
    n_classes : int, default=4
        Number of gestures, 2 to 36 (a 37th would repeat the first one's pattern).
    noise : float, default=0.5
        Standard deviation of the sensor noise.
    variable_length : bool, default=False
        Return a ragged list of recordings of different lengths.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_channels) or list of ndarray
        float32 recordings; a list of ``(n_timesteps_i, n_channels)`` arrays with
        ``variable_length=True``.
    y : ndarray of shape (n_samples,)
        int64 gesture labels in ``0..n_classes-1``.

    Examples
    --------
    >>> from sklstm.datasets import make_motion_recordings
    >>> X, y = make_motion_recordings(n_samples=8, variable_length=True, random_state=0)
    >>> len(X), X[0].shape[1], sorted(set(y.tolist()))
    (8, 6, [0, 1, 2, 3])
    """
    _check_n_classes(n_samples, n_classes)
    rng = _generator(random_state)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    if variable_length:
        # at least 40 % of n_timesteps, rounded up: int(0.4 * 24) made recordings of 9
        # steps, 37.5 %
        lengths = rng.integers(-(-2 * n_timesteps // 5), n_timesteps + 1, size=n_samples)
    else:
        lengths = np.full(n_samples, n_timesteps)
    X = []
    for label, length in zip(y, lengths, strict=True):
        clean = _gesture(label, int(length), n_channels, rng)
        X.append((clean + rng.normal(0.0, noise, size=clean.shape)).astype(np.float32))
    return (X if variable_length else np.stack(X)), y.astype(np.int64)


@validate_plain_params({
    "n_samples": [integers(1)],
    "n_timesteps": [integers(24)],
    "n_features": [integers(1)],
    "scale": [reals(0, closed="neither")],
    "noise": [scales()],
    "random_state": ["random_state"],
})
def make_drift_regression(n_samples=200, n_timesteps=200, n_features=2, scale=1e-3,
                          noise=1.0, random_state=None):
    """Noisy sensor series whose target is their slow drift rate, on a small scale.

    Feature 0 of every series drifts linearly at a random rate hidden under noise
    ``noise`` (the other features are noise with their own drifts, unrelated to the
    target); the target is that rate times ``scale``, so with the default it lies
    around 1e-3, as a physical rate often does. The signal is spread over the whole
    series: only many steps together reveal the rate.

    Parameters
    ----------
    n_samples : int, default=200
        Number of series.
    n_timesteps : int, default=200
        Length of every series.
    n_features : int, default=2
        Features per timestep.
    scale : float, default=1e-3
        Scale of the target.
    noise : float, default=1.0
        Standard deviation of the noise on every feature.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
        float32 series.
    y : ndarray of shape (n_samples,)
        float64 drift rates times ``scale``.

    Examples
    --------
    >>> from sklstm.datasets import make_drift_regression
    >>> X, y = make_drift_regression(n_samples=5, random_state=0)
    >>> X.shape, bool(abs(y).max() < 0.01)
    ((5, 200, 2), True)
    """
    rng = _generator(random_state)
    rates = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
    steps = np.linspace(-1.0, 1.0, n_timesteps)[None, :, None]
    X = rates[:, None, :] * 2.0 * steps + rng.normal(0.0, noise, (n_samples, n_timesteps,
                                                                  n_features))
    return X.astype(np.float32), rates[:, 0] * scale
