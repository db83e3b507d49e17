"""Tests for sklstm.datasets: determinism, shapes and that the signal is where promised."""

import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import cross_val_score

from sklstm.datasets import (
    make_sensor_series,
    make_sequence_classification,
    make_sequence_regression,
    make_token_sentiment,
)

SMALL = {
    make_sequence_classification: {"n_samples": 20, "n_timesteps": 10},
    make_sequence_regression: {"n_samples": 20, "n_timesteps": 10},
    make_token_sentiment: {"n_samples": 20},
    make_sensor_series: {"n_series": 2, "n_timesteps": 50},
}


def _flat(output):
    """All arrays of a generator's output, ragged lists included, as one flat list."""
    if isinstance(output, np.ndarray):
        return [output]
    return [array for item in output for array in _flat(item)]


@pytest.mark.parametrize("generator", list(SMALL), ids=lambda f: f.__name__)
def test_generators_are_deterministic(generator):
    first, again = (_flat(generator(**SMALL[generator], random_state=0)) for _ in range(2))
    other = _flat(generator(**SMALL[generator], random_state=1))
    for a, b in zip(first, again, strict=True):
        assert_array_equal(a, b)
    assert any(
        a.shape != c.shape or not np.array_equal(a, c) for a, c in zip(first, other, strict=False)
    )


@pytest.mark.parametrize(
    ("generator", "kwargs", "match"),
    [
        (make_sequence_classification, {"n_samples": 0},
         r"'n_samples' parameter of make_sequence_classification must be an int in the range "
         r"\[1, inf\)"),
        (make_sequence_classification, {"n_classes": 1},
         r"'n_classes' .* must be an int in the range \[2, inf\)"),
        (make_sequence_classification, {"n_samples": 3, "n_classes": 5},
         r"n_samples=3 cannot hold n_classes=5 classes; ask for at least 5 samples"),
        (make_sequence_classification, {"noise": -1.0},
         r"'noise' .* must be a float in the range \[0.0, 1e\+30\]"),
        (
            make_sequence_classification,
            {"variable_length": True, "length_range": (10, 5)},
            "length_range must be",
        ),
        (make_sequence_regression, {"n_timesteps": 2, "n_lags": 3}, "n_timesteps must be"),
        (
            make_sequence_regression,
            {"variable_length": True, "length_range": (2, 9)},
            r"length_range must be \(low, high\) ints with 3 <= low",
        ),
        (make_token_sentiment, {"vocab_size": 5},
         r"'vocab_size' parameter of make_token_sentiment must be an int in the range \[10, inf\)"),
        (make_token_sentiment, {"padding_idx": 50}, r"padding_idx must be an int in \[0, 50\)"),
        (make_token_sentiment, {"length_range": (1, 5)}, "length_range must be"),
        (make_sensor_series, {"n_features": 0},
         r"'n_features' parameter of make_sensor_series must be an int in the range \[1, inf\)"),
    ],
)
def test_generators_reject_bad_parameters(generator, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generator(**kwargs)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_classification_shapes_and_balanced_labels(n_classes):
    X, y = make_sequence_classification(
        n_samples=40, n_timesteps=12, n_features=2, n_classes=n_classes, random_state=0
    )
    assert (X.shape, X.dtype, y.dtype) == ((40, 12, 2), np.float32, np.int64)
    assert_array_equal(np.bincount(y), [40 // n_classes] * n_classes)


def test_classification_needs_the_temporal_pattern():
    X, y = make_sequence_classification(n_samples=300, n_timesteps=40, random_state=0)
    # One timestep carries no class information (random phase) ...
    single_step = cross_val_score(LogisticRegression(), X[:, -1], y, cv=3).mean()
    # ... while the frequency content of the whole sequence separates the classes.
    spectrum = np.abs(np.fft.rfft(X, axis=1)).mean(axis=2)
    temporal = cross_val_score(LogisticRegression(max_iter=1000), spectrum, y, cv=3).mean()
    assert single_step < 0.65
    assert temporal > 0.95


@pytest.mark.parametrize(
    ("generator", "kwargs"),
    [
        (make_sequence_classification, {}),
        (make_sequence_regression, {"n_lags": 4}),
    ],
    ids=["classification", "regression"],
)
def test_variable_length_returns_ragged_lists(generator, kwargs):
    X, y = generator(
        n_samples=50,
        n_features=2,
        variable_length=True,
        length_range=(4, 9),
        random_state=0,
        **kwargs,
    )
    lengths = np.array([len(x) for x in X])
    assert isinstance(X, list) and len(y) == 50
    assert lengths.min() == 4 and lengths.max() == 9
    assert all(x.shape[1] == 2 and x.dtype == np.float32 for x in X)


def _lag_features(X, n_lags):
    """The quantities the regression target is built from: last values and mean of x0."""
    return np.array([np.r_[x[::-1][:n_lags].ravel(), x[:, 0].mean()] for x in X])


@pytest.mark.parametrize("variable_length", [False, True])
def test_regression_target_is_a_function_of_the_history(variable_length):
    X, y = make_sequence_regression(
        n_samples=200, n_lags=3, noise=0.0, variable_length=variable_length, random_state=0
    )
    assert y.shape == (200,) and y.dtype == np.float32
    history = LinearRegression().fit(_lag_features(X, 3), y)
    assert history.score(_lag_features(X, 3), y) > 0.9999
    first_steps = np.array([x[:3].ravel() for x in X])
    assert LinearRegression().fit(first_steps, y).score(first_steps, y) < 0.2


def test_regression_multiple_targets_differ():
    _, y = make_sequence_regression(n_samples=30, n_targets=3, random_state=0)
    assert y.shape == (30, 3)
    assert abs(np.corrcoef(y.T)[0, 1]) < 0.9


@pytest.mark.parametrize("padding_idx", [0, 7])
def test_token_ids_avoid_the_padding_id(padding_idx):
    X, y = make_token_sentiment(
        n_samples=200, vocab_size=50, padding_idx=padding_idx, random_state=0
    )
    tokens = np.concatenate(X)
    assert tokens.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    assert padding_idx not in tokens
    assert tokens.min() >= 0 and tokens.max() <= 49
    assert all(5 <= len(x) <= 60 for x in X)


def test_token_padding():
    ragged, y = make_token_sentiment(n_samples=30, padding_idx=3, random_state=0)
    padded, y_padded = make_token_sentiment(
        n_samples=30, padding_idx=3, padded=True, random_state=0
    )
    assert padded.shape == (30, max(len(x) for x in ragged))
    assert_array_equal(y, y_padded)
    for row, tokens in zip(padded, ragged, strict=True):
        assert_array_equal(row[: len(tokens)], tokens)
        assert (row[len(tokens) :] == 3).all()


def test_sentiment_depends_on_word_order():
    X, y, vocab = make_token_sentiment(
        n_samples=600, vocab_size=60, return_vocabulary=True, random_state=0
    )
    # Reading in order with the negation rule recovers every label.
    score = {**dict.fromkeys(vocab["positive"], 1), **dict.fromkeys(vocab["negative"], -1)}
    negators = set(vocab["negators"])
    rule = [
        int(
            sum(
                score.get(tok, 0) * (-1 if i and x[i - 1] in negators else 1)
                for i, tok in enumerate(x)
            )
            > 0
        )
        for x in X
    ]
    assert_array_equal(rule, y)
    # A bag of words (token counts) loses the order and stays far from that.
    counts = np.array([np.bincount(x, minlength=60) for x in X])
    bag_of_words = cross_val_score(LogisticRegression(max_iter=2000), counts, y, cv=3).mean()
    assert bag_of_words < 0.75
    assert 0.35 < y.mean() < 0.65


def test_sensor_series_target_follows_lagged_drivers():
    values = make_sensor_series(n_timesteps=600, noise=0.05, random_state=0)
    assert values.shape == (600, 3) and values.dtype == np.float32
    # Column 0 = 0.6 * own lag + linear in the drivers two steps back (+ small noise).
    design = np.column_stack([values[1:-1, 0], values[:-2, 1:]])
    model = LinearRegression().fit(design, values[2:, 0])
    assert_allclose(model.coef_[0], 0.6, atol=0.02)
    assert model.score(design, values[2:, 0]) > 0.99


def test_sensor_series_drivers_beyond_the_twelfth_repeat_the_periods():
    # periods 24 / j fell under 2 steps: aliased, and the 24th driver a constant
    values = make_sensor_series(n_timesteps=480, n_features=26, noise=0.0, random_state=0)
    assert values[:, 1:].std(axis=0).min() > 0.1
    spectrum = np.abs(np.fft.rfft(values[:, 1:] - values[:, 1:].mean(axis=0), axis=0))
    cycles = np.argmax(spectrum, axis=0)  # cycles per 480 steps: 20 for a 24-step period
    assert_array_equal(cycles[12:24], cycles[:12])
    assert cycles[0] == 20


def test_sensor_series_several_frames():
    frames = make_sensor_series(
        n_series=2, n_timesteps=48, n_features=2, as_frame=True, random_state=0
    )
    assert len(frames) == 2
    assert list(frames[0].columns) == ["target", "sensor_1"]
    assert isinstance(frames[0].index, pd.DatetimeIndex)
    assert pd.Timedelta(frames[0].index.freq) == pd.Timedelta(hours=1)  # "H" before pandas 2.2
    assert not np.allclose(frames[0].to_numpy(), frames[1].to_numpy())


def test_sensor_frames_without_pandas_name_the_extra(monkeypatch):
    # a bare "No module named 'pandas'", raised after the series were generated
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r'needs pandas: pip install "sklstm\[pandas\]"'):
        make_sensor_series(n_timesteps=50, as_frame=True, random_state=0)
    assert make_sensor_series(n_timesteps=50, random_state=0).shape == (50, 3)


@pytest.mark.parametrize("generator", [make_sequence_classification, make_sequence_regression])
@pytest.mark.parametrize("length_range", [np.array([4, 9]), (np.int64(4), np.int32(9))])
def test_length_range_accepts_numpy_values(generator, length_range):
    # an array was refused: "must be an instance of 'tuple', an instance of 'list'"
    X, _ = generator(n_samples=30, n_timesteps=10, variable_length=True,
                     length_range=length_range, random_state=0)
    assert {len(x) for x in X} <= set(range(4, 10)) and len({len(x) for x in X}) > 1


def test_token_length_range_accepts_an_array():
    X, _ = make_token_sentiment(n_samples=10, length_range=np.array([5, 8]), random_state=0)
    assert min(map(len, X)) >= 5 and max(map(len, X)) <= 8


@pytest.mark.parametrize("generator", [make_sequence_classification, make_sequence_regression])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        # sequences of up to 50 steps, where n_timesteps is documented as the longest
        ({"variable_length": True, "length_range": (4, 50)}, "high <= n_timesteps=10"),
        # fixed lengths came back, the range ignored silently
        ({"length_range": (4, 9)}, r"length_range=\(4, 9\) is only used with variable_length"),
        ({"variable_length": True, "length_range": np.array([[4, 9]])}, "length_range must be"),
        ({"variable_length": True, "length_range": (True, 9)}, "length_range must be"),
    ],
)
def test_length_range_must_fit_the_series(generator, kwargs, match):
    with pytest.raises(ValueError, match=match):
        generator(n_samples=5, n_timesteps=10, **kwargs)


@pytest.mark.parametrize(
    ("generator", "kwargs"),
    [
        (make_sequence_classification, {"n_timesteps": 10, "length_range": (4, 9)}),
        (make_sequence_regression, {"n_timesteps": 10, "variable_length": True,
                                    "length_range": (4, 50)}),
        (make_token_sentiment, {"length_range": (1, 5)}),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_refused_length_range_leaves_the_random_state_alone(generator, kwargs):
    # the refusal came after a draw from the caller's RandomState, so the data made
    # from it after the fix differed from those of a run without the mistake
    random_state = np.random.RandomState(0)
    with pytest.raises(ValueError, match="length_range"):
        generator(n_samples=5, random_state=random_state, **kwargs)
    assert random_state.randint(2**31) == np.random.RandomState(0).randint(2**31)
