"""Tests for the long-series hard cases: a subtle class shape, a shape anywhere, a trend."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from sklstm.datasets import make_shape_in_series, make_subtle_shape, make_trending_series
from sklstm.windows import make_windows

SMALL = {
    make_subtle_shape: {"n_samples": 10, "n_timesteps": 60},
    make_trending_series: {"n_timesteps": 60},
}


@pytest.mark.parametrize("generator", list(SMALL), ids=lambda f: f.__name__)
def test_generators_are_deterministic(generator):
    # make_subtle_shape returns (X, y), make_trending_series one array
    first, again, other = (np.concatenate(generator(**SMALL[generator], random_state=seed),
                                          axis=None) for seed in (0, 0, 1))
    assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize(
    ("generator", "kwargs", "match"),
    [
        (make_subtle_shape, {"n_timesteps": 10},
         r"'n_timesteps' parameter of make_subtle_shape must be an int in the range \[24, inf\)"),
        (make_subtle_shape, {"difference": "height"}, r"'difference' .* must be a str among"),
        (make_subtle_shape, {"height": 0.0},
         r"'height' .* must be a float in the range \(0.0, 1e\+30\]"),
        (make_subtle_shape, {"n_timesteps": 40, "width": 21},
         r"more than half the series.*pass a width of at most 20, or longer series"),
        (make_subtle_shape, {"width": True}, r"'width' .* must be an int in the range"),
        (make_trending_series, {"trend": "quadratic"}, r"'trend' .* must be a str among"),
        (make_trending_series, {"rise": -1.0},
         r"'rise' parameter of make_trending_series must be a float in the range \[0.0, 1e\+30\]"),
        (make_trending_series, {"period": 1}, r"'period' .* must be an int in the range \[2"),
    ],
)
def test_generators_reject_bad_parameters(generator, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generator(**kwargs)


@pytest.mark.parametrize("difference", ["width", "sign"])
def test_subtle_shape_shapes_and_balanced_labels(difference):
    X, y = make_subtle_shape(n_samples=41, n_timesteps=150, difference=difference,
                             random_state=0)
    assert (X.shape, X.dtype, y.dtype) == ((41, 150), np.float32, np.int64)
    assert_array_equal(np.bincount(y), [21, 20])


def _matched_filter(X, width):
    """Largest and smallest correlation with the two bumps, after removing their means."""
    features = []
    for length in (width, 2 * width):
        template = np.sin(np.pi * np.arange(length) / (length - 1)) ** 2
        template = (template - template.mean()) / np.linalg.norm(template - template.mean())
        correlation = np.array([np.correlate(row, template, mode="valid") for row in X])
        features += [correlation.max(axis=1), correlation.min(axis=1)]
    return np.column_stack(features)


@pytest.mark.parametrize("difference", ["width", "sign"])
def test_subtle_shape_classes_differ_only_by_the_small_shape(difference):
    X, y = make_subtle_shape(n_samples=300, difference=difference, random_state=0)
    # a filter matched to the two bumps tells the classes apart ...
    matched = cross_val_score(LogisticRegression(max_iter=1000), _matched_filter(X, 15), y,
                              cv=3).mean()
    assert matched > 0.9
    # ... while the series' mean and a nearest neighbour on the raw series are at chance
    mean = cross_val_score(LogisticRegression(), X.mean(axis=1, keepdims=True), y, cv=3).mean()
    nearest = cross_val_score(KNeighborsClassifier(n_neighbors=1), X, y, cv=3).mean()
    assert mean < 0.62 and nearest < 0.62


def test_subtle_shape_bumps_have_the_same_area():
    background, _ = make_subtle_shape(n_samples=50, height=1e-12, random_state=0)
    X, y = make_subtle_shape(n_samples=50, random_state=0)
    area = (X.astype(np.float64) - background).sum(axis=1)
    narrow = 300 // 20
    assert_allclose(area, 0.5 * (narrow - 1) / 2, rtol=1e-3)  # height * (width - 1) / 2
    assert set(y.tolist()) == {0, 1}


def _shape_centres(X, length):
    """Where the shape is: the peak of the series minus its moving average."""
    window = 3 * length
    smooth = np.array([np.convolve(row, np.ones(window) / window, mode="same") for row in X])
    high_pass = np.abs(X - smooth)[:, window // 2:-(window // 2)]
    return np.argmax(high_pass, axis=1) + window // 2


def test_shape_in_series_anywhere_covers_the_whole_series():
    # what the benchmark's shape_random_position task relies on
    kwargs = {"n_samples": 200, "n_timesteps": 300, "n_classes": 2, "noise": 0.0,
              "random_state": 0}
    anywhere = _shape_centres(make_shape_in_series(position="anywhere", **kwargs)[0], 30)
    middle = _shape_centres(make_shape_in_series(position="middle", **kwargs)[0], 30)
    assert (anywhere < 0.25 * 300).sum() > 10 and (anywhere > 0.75 * 300).sum() > 10
    assert (middle > 0.75 * 300).sum() == 0


def test_trending_series_shape():
    series = make_trending_series(n_timesteps=100, random_state=0)
    assert (series.shape, series.dtype) == ((100,), np.float32)


@pytest.mark.parametrize("trend", ["linear", "exponential"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trend_test_span_lies_above_the_training_span(trend, seed):
    series = make_trending_series(trend=trend, random_state=seed)
    X, y = make_windows(series, lookback=48)
    cut = int(0.8 * len(X))
    X_train, y_train, y_test = X[:cut], y[:cut], y[cut:]
    # three quarters of the test targets above every value seen in training
    assert np.quantile(y_test, 0.25) > max(X_train.max(), y_train.max())


def test_trend_rises_by_rise():
    linear = make_trending_series(seasonal_amplitude=0.0, noise=0.0, rise=12.0)
    assert_allclose(np.diff(linear), 12.0 / 599, rtol=1e-3)
    exponential = make_trending_series(trend="exponential", seasonal_amplitude=0.0,
                                       noise=0.0, rise=12.0)
    assert_allclose(exponential[[0, -1]], [0.0, 12.0], atol=1e-5)
    growth = (1 + exponential[1:]) / (1 + exponential[:-1])  # a constant rate
    assert_allclose(growth, 13.0 ** (1 / 599), rtol=1e-5)


@pytest.mark.parametrize(("n_timesteps", "width"), [(25, 12), (41, 20)])
def test_subtle_shape_widest_bumps_of_an_odd_length_are_placed(n_timesteps, width):
    # the documented widest width (n_timesteps // 2) leaves one step of room on an odd
    # length: 20 % to 80 % of it holds no whole step, and numpy refused to draw from it
    X, y = make_subtle_shape(n_samples=4, n_timesteps=n_timesteps, width=width,
                             random_state=0)
    assert X.shape == (4, n_timesteps) and sorted(set(y.tolist())) == [0, 1]


def test_subtle_shape_narrowest_bumps_keep_the_same_area():
    # width=2 was accepted: sin(0)**2 and sin(pi)**2, no bump at all for class 0 and a
    # 3-step one for class 1, so the series' mean told the classes apart
    with pytest.raises(ValueError, match=r"'width' .* must be an int in the range \[3, inf\)"):
        make_subtle_shape(n_timesteps=40, width=2)
    background, _ = make_subtle_shape(n_samples=20, n_timesteps=40, width=3, height=1e-12,
                                      random_state=0)
    X, y = make_subtle_shape(n_samples=20, n_timesteps=40, width=3, random_state=0)
    area = (X.astype(np.float64) - background).sum(axis=1)
    assert_allclose(area, 0.5 * (3 - 1) / 2, rtol=1e-3)
    assert set(y.tolist()) == {0, 1}


def test_subtle_shape_slot_starts_where_the_docstring_says(monkeypatch):
    # a slot started at int(0.2 * 27) = 5 of 27 possible starts: 18.5 %, not 20
    import sklstm.datasets._long_series as long_series

    monkeypatch.setattr(long_series, "_hann", lambda length: np.full(length, 1e6))
    X, _ = make_subtle_shape(n_samples=300, n_timesteps=35, difference="sign", width=4,
                             random_state=0)
    room = 35 - 2 * 4
    starts = (np.argmax(np.abs(X) > 1e5, axis=1) - 4 // 2) / room  # the bump is centred
    assert starts.min() >= 0.2 and starts.max() <= 0.8
    assert len(np.unique(starts)) == 16  # every whole step of that range: 6..21 of 27
