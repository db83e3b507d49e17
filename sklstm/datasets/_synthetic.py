"""Small synthetic sequence datasets, generated locally and deterministically.

Every generator takes ``random_state`` (taken as :mod:`._seeding` says) and only
needs numpy; nothing is downloaded.
"""

import numpy as np

from .._param_validation import integers, validate_plain_params
from ._lengths import draw_lengths, length_bounds
from ._scales import scales
from ._seeding import generator as _generator

_NOISE = [scales()]
_RANDOM_STATE = ["random_state"]


def _check_n_classes(n_samples, n_classes):
    """Refuse fewer samples than classes: the balanced labels would leave some classes
    out of ``y`` silently, and a classifier fitted on it would not know them."""
    if n_samples < n_classes:
        raise ValueError(f"n_samples={n_samples} cannot hold n_classes={n_classes} classes; "
                         f"ask for at least {n_classes} samples.")


@validate_plain_params({
    "n_samples": [integers(1)],
    "n_timesteps": [integers(2)],
    "n_features": [integers(1)],
    "n_classes": [integers(2)],
    "noise": _NOISE,
    "variable_length": ["boolean"],
    "length_range": ["array-like", None],
    "random_state": _RANDOM_STATE,
})
def make_sequence_classification(
    n_samples=1000,
    n_timesteps=50,
    n_features=3,
    n_classes=2,
    noise=0.5,
    variable_length=False,
    length_range=None,
    random_state=None,
):
    """Generate noisy sinusoids whose frequency encodes the class.

    Each feature of a sample is ``amplitude * sin(2 pi f_k t + phase) + noise`` with the
    class frequency ``f_k`` evenly spaced in [0.04, 0.2] cycles per timestep, and random
    amplitude and phase per sample and feature. The random phase makes every single
    timestep identically distributed for all classes, so only the temporal pattern tells
    the classes apart. Classes are balanced.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences, at least ``n_classes``.
    n_timesteps : int, default=50
        Length of each sequence (the maximum length with ``variable_length=True``).
    n_features : int, default=3
        Features per timestep.
    n_classes : int, default=2
        Number of classes.
    noise : float, default=0.5
        Standard deviation of the Gaussian noise.
    variable_length : bool, default=False
        Return a ragged list with lengths drawn uniformly from ``length_range``.
    length_range : tuple (low, high), default=None
        Inclusive length range (``2 <= low <= high <= n_timesteps``; a list or 1D array
        too), only with ``variable_length=True``; None means
        ``(max(2, n_timesteps // 2), n_timesteps)``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features) or list of ndarray
        float32 sequences; a list of ``(n_timesteps_i, n_features)`` arrays with
        ``variable_length=True``.
    y : ndarray of shape (n_samples,)
        int64 class labels in ``0..n_classes-1``.

    Examples
    --------
    >>> from sklstm.datasets import make_sequence_classification
    >>> X, y = make_sequence_classification(n_samples=6, n_timesteps=20, random_state=0)
    >>> X.shape, X.dtype, y.tolist()
    ((6, 20, 3), dtype('float32'), [1, 0, 1, 0, 0, 1])
    """
    _check_n_classes(n_samples, n_classes)
    bounds = length_bounds(n_timesteps, variable_length, length_range, 2)
    rng = _generator(random_state)
    y = rng.permutation(np.arange(n_samples) % n_classes)
    lengths = draw_lengths(rng, n_samples, n_timesteps, bounds)
    freq = np.linspace(0.04, 0.2, n_classes)[y]
    phase = rng.uniform(0, 2 * np.pi, size=(n_samples, 1, n_features))
    amplitude = rng.uniform(0.5, 1.5, size=(n_samples, 1, n_features))
    t = np.arange(lengths.max())[None, :, None]
    X = amplitude * np.sin(2 * np.pi * freq[:, None, None] * t + phase)
    X = (X + noise * rng.standard_normal(X.shape)).astype(np.float32)
    if variable_length:
        return [x[:length] for x, length in zip(X, lengths, strict=True)], y
    return X, y


@validate_plain_params({
    "n_samples": [integers(1)],
    "n_timesteps": [integers(1)],
    "n_features": [integers(1)],
    "n_targets": [integers(1)],
    "n_lags": [integers(1)],
    "noise": _NOISE,
    "variable_length": ["boolean"],
    "length_range": ["array-like", None],
    "random_state": _RANDOM_STATE,
})
def make_sequence_regression(
    n_samples=1000,
    n_timesteps=30,
    n_features=3,
    n_targets=1,
    n_lags=3,
    noise=0.1,
    variable_length=False,
    length_range=None,
    random_state=None,
):
    """Generate sequences whose target is a weighted sum of their last values.

    Inputs are standard normal. Each target is ``sum_l sum_j w[l, j] * x[T-1-l, j]`` over
    the last ``n_lags`` timesteps, plus ``0.5 * mean_t x[t, 0]`` (the whole history
    matters a little), plus Gaussian noise. Weights are drawn from ``random_state``.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    n_timesteps : int, default=30
        Length of each sequence (the maximum length with ``variable_length=True``).
    n_features : int, default=3
        Features per timestep.
    n_targets : int, default=1
        Number of targets; ``y`` is 1D when 1.
    n_lags : int, default=3
        Number of final timesteps the targets depend on.
    noise : float, default=0.1
        Standard deviation of the noise added to the targets.
    variable_length : bool, default=False
        Return a ragged list with lengths drawn uniformly from ``length_range``.
    length_range : tuple (low, high), default=None
        Inclusive length range (``n_lags <= low <= high <= n_timesteps``; a list or 1D
        array too), only with ``variable_length=True``; None means
        ``(max(n_lags, n_timesteps // 2), n_timesteps)``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features) or list of ndarray
        float32 sequences (a ragged list with ``variable_length=True``).
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        float32 targets.

    Examples
    --------
    >>> from sklstm.datasets import make_sequence_regression
    >>> X, y = make_sequence_regression(n_samples=4, n_targets=2, random_state=0)
    >>> X.shape, y.shape, y.dtype
    ((4, 30, 3), (4, 2), dtype('float32'))
    """
    if n_timesteps < n_lags:
        raise ValueError(
            f"n_timesteps must be >= n_lags: the target reads the last {n_lags} steps; got "
            f"n_timesteps={n_timesteps}."
        )
    bounds = length_bounds(n_timesteps, variable_length, length_range, n_lags)
    rng = _generator(random_state)
    lengths = draw_lengths(rng, n_samples, n_timesteps, bounds)
    weights = rng.uniform(-1, 1, size=(n_targets, n_lags, n_features))
    X = [rng.standard_normal((length, n_features)) for length in lengths]
    y = np.array(
        [np.einsum("klj,lj->k", weights, x[::-1][:n_lags]) + 0.5 * x[:, 0].mean() for x in X]
    )
    y = (y + noise * rng.standard_normal(y.shape)).astype(np.float32)
    y = y[:, 0] if n_targets == 1 else y
    X = [x.astype(np.float32) for x in X]
    return (X if variable_length else np.stack(X)), y


def _sentiment_vocabulary(vocab_size, padding_idx):
    """Split the non-padding ids into negators, positive, negative and neutral words."""
    ids = np.delete(np.arange(vocab_size), padding_idx)
    n_sentiment = max(1, len(ids) // 10)
    return {
        "negators": ids[:3],
        "positive": ids[3 : 3 + n_sentiment],
        "negative": ids[3 + n_sentiment : 3 + 2 * n_sentiment],
        "neutral": ids[3 + 2 * n_sentiment :],
    }


@validate_plain_params({
    "n_samples": [integers(1)],
    "vocab_size": [integers(10)],
    "length_range": ["array-like"],
    "padded": ["boolean"],
    "padding_idx": [integers(0)],
    "return_vocabulary": ["boolean"],
    "random_state": _RANDOM_STATE,
})
def make_token_sentiment(
    n_samples=2000,
    vocab_size=50,
    length_range=(5, 30),
    padded=False,
    padding_idx=0,
    return_vocabulary=False,
    random_state=None,
):
    """Generate token-id sentences whose sentiment depends on word order.

    The vocabulary (all ids except ``padding_idx``) holds 3 negators ("not"), 10% positive
    words, 10% negative words and neutral words. A sentence has 1 (or, when at least 8
    tokens long, 3) sentiment words; each is negated by a negator right before it with
    probability 1/2, which flips its polarity. The label is 1 when most effective
    polarities are positive. Negators also appear before neutral words, so counting words
    (a bag of words) cannot tell negated from plain sentiment words, while a sequence
    model can, given enough sentences per word (see Notes).

    Parameters
    ----------
    n_samples : int, default=2000
        Number of sentences.
    vocab_size : int, default=50
        Number of ids including ``padding_idx``; at least 10.
    length_range : tuple (low, high), default=(5, 30)
        Inclusive range of sentence lengths; ``low >= 2`` (a list or 1D array too).
    padded : bool, default=False
        Return a 2D array padded (after the tokens) with ``padding_idx``.
    padding_idx : int, default=0
        Id reserved for padding; it never occurs in a sentence.
    return_vocabulary : bool, default=False
        Also return a dict of the id arrays ``"negators"``, ``"positive"``,
        ``"negative"`` and ``"neutral"``.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : list of ndarray of shape (n_tokens_i,) or ndarray of shape (n_samples, max_len)
        int64 token ids.
    y : ndarray of shape (n_samples,)
        int64 binary labels.
    vocabulary : dict
        Only with ``return_vocabulary=True``.

    Notes
    -----
    A model learns each sentiment word's polarity from the sentences it occurs in, so
    the vocabulary, more than the sentence length, sets how many sentences it needs.
    At the defaults (50 ids: 8 sentiment words; 2000 sentences of up to 30 tokens),
    ``LSTMClassifier(embedding_dim=16, hidden_size=32)`` reaches 0.99 and 0.98 accuracy
    on a held-out quarter of them for data seeds 0 and 1 (seed 0: 0.99 at up to 60
    tokens, 0.92 at 1000 sentences), a bag of words (logistic regression on word
    counts) 0.50 and 0.49. With ``vocab_size=500`` (98 sentiment words; the default of
    earlier development builds), 2000 sentences leave it at chance (0.52 on seed 0; a
    bag of words 0.54). Measured by ``OMP_NUM_THREADS=1 python
    benchmarks/bench_dataset_notes.py`` (``benchmarks/results/dataset_notes.md``).

    Examples
    --------
    >>> from sklstm.datasets import make_token_sentiment
    >>> X, y = make_token_sentiment(n_samples=3, length_range=(5, 8), random_state=0)
    >>> [len(x) for x in X], y.tolist()
    ([8, 7, 7], [1, 0, 0])
    """
    if padding_idx >= vocab_size:
        raise ValueError(f"padding_idx must be an int in [0, {vocab_size}), got {padding_idx!r}.")
    bounds = length_bounds(None, True, length_range, 2)
    rng = _generator(random_state)
    lengths = draw_lengths(rng, n_samples, None, bounds)
    vocab = _sentiment_vocabulary(vocab_size, padding_idx)
    X, y = [], np.empty(n_samples, dtype=np.int64)
    for i, length in enumerate(lengths):
        tokens = rng.choice(vocab["neutral"], size=length)
        # Sentiment words sit at odd positions so the slot before each one is free.
        n_sentiment = 3 if length >= 8 else 1
        positions = rng.choice(np.arange(1, length, 2), size=n_sentiment, replace=False)
        polarity = rng.choice([-1, 1], size=n_sentiment)
        negated = rng.random(n_sentiment) < 0.5
        # Distractor negators before neutral words hide which sentiment word is negated.
        distractors = np.flatnonzero(rng.random(length - 1) < 0.15)
        distractors = distractors[~np.isin(distractors + 1, positions)]
        tokens[distractors] = rng.choice(vocab["negators"], size=len(distractors))
        for pos, pol, neg in zip(positions, polarity, negated, strict=True):
            tokens[pos] = rng.choice(vocab["positive" if pol > 0 else "negative"])
            if neg:
                tokens[pos - 1] = rng.choice(vocab["negators"])
        y[i] = int(np.sum(np.where(negated, -polarity, polarity)) > 0)
        X.append(tokens.astype(np.int64))
    if padded:
        out = np.full((n_samples, lengths.max()), padding_idx, dtype=np.int64)
        for i, tokens in enumerate(X):
            out[i, : len(tokens)] = tokens
        X = out
    return (X, y, vocab) if return_vocabulary else (X, y)


@validate_plain_params({
    "n_series": [integers(1)],
    "n_timesteps": [integers(3)],
    "n_features": [integers(1)],
    "noise": _NOISE,
    "as_frame": ["boolean"],
    "random_state": _RANDOM_STATE,
})
def make_sensor_series(
    n_series=1, n_timesteps=500, n_features=3, noise=0.1, as_frame=False, random_state=None
):
    """Generate long multivariate sensor series for forecasting examples.

    Columns ``1..n_features-1`` are daily-like drivers (sinusoids with periods 24, 12, ...,
    2 steps, repeated from 24 beyond the twelfth driver, plus autocorrelated noise).
    Column 0, the usual forecasting target, follows
    ``0.6 * x0[t-1] + sum_j c_j * driver_j[t-2] + noise``, so lagged drivers help predict it.

    Parameters
    ----------
    n_series : int, default=1
        Number of independent series.
    n_timesteps : int, default=500
        Length of each series.
    n_features : int, default=3
        Number of columns (target plus drivers).
    noise : float, default=0.1
        Standard deviation of the innovations.
    as_frame : bool, default=False
        Return pandas DataFrames with an hourly DatetimeIndex and columns
        ``"target", "sensor_1", ...`` (needs pandas).
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    series : ndarray of shape (n_timesteps, n_features), DataFrame, or list of these
        float32 values; a list when ``n_series > 1``.

    Raises
    ------
    ImportError
        If ``as_frame=True`` and pandas is not installed (before any work).

    Examples
    --------
    >>> from sklstm.datasets import make_sensor_series
    >>> make_sensor_series(n_timesteps=100, random_state=0).shape
    (100, 3)
    """
    if as_frame:
        try:  # checked first: without pandas the series would be made for nothing
            import pandas as pd
        except ImportError as exc:
            raise ImportError('make_sensor_series(as_frame=True) needs pandas: pip install '
                              f'"sklstm[pandas]", or pass as_frame=False ({exc})') from exc
    rng = _generator(random_state)
    t = np.arange(n_timesteps)
    coef = rng.uniform(0.5, 1.0, size=n_features - 1)
    series = []
    for _ in range(n_series):
        values = np.zeros((n_timesteps, n_features))
        for j in range(1, n_features):
            # periods 24, 12, ... 2 steps, then again from 24: a period under 2 steps
            # is aliased (24 / 24 = 1: a constant column)
            period = 24 / (1 + (j - 1) % 12)
            seasonal = np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
            innovations = noise * rng.standard_normal(n_timesteps)
            values[:, j] = seasonal + np.convolve(innovations, 0.8 ** np.arange(20))[:n_timesteps]
        innovations = noise * rng.standard_normal(n_timesteps)
        for step in range(2, n_timesteps):  # AR(1) recursion: inherently sequential
            values[step, 0] = (
                0.6 * values[step - 1, 0] + values[step - 2, 1:] @ coef + innovations[step]
            )
        series.append(values.astype(np.float32))
    if as_frame:
        index = pd.date_range("2024-01-01", periods=n_timesteps, freq="h")
        columns = ["target", *(f"sensor_{j}" for j in range(1, n_features))]
        series = [pd.DataFrame(values, index=index, columns=columns) for values in series]
    return series[0] if n_series == 1 else series
