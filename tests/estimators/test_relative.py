"""``LSTMRegressor(relative=...)``: forecasts relative to each window follow a trend past
every level seen in training; ragged input, errors before training, searches, copies.
``LSTMClassifier(relative=...)``: a class shape is told apart whatever the recording's
level."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequenceScaler
from sklstm.windows import make_window_splitter, make_windows

from ..settings import NEIGHBOUR_RTOL, traced_peak

#: Small and fast, still enough to learn a 12-step season from 24-step windows.
SMALL = dict(hidden_size=12, max_epochs=60, lr=0.02, batch_size=32, random_state=0,
             n_threads=1)


def _trend(n_steps=400, lookback=24, horizon=1):
    """Windows of a linear trend plus a seasonal wiggle and noise, in time order."""
    t = np.arange(float(n_steps))
    noise = np.random.default_rng(0).normal(scale=0.05, size=n_steps)
    series = 0.05 * t + np.sin(2 * np.pi * t / 12) + noise
    return make_windows(series, lookback=lookback, horizon=horizon)


@pytest.fixture(scope="module")
def trend_split():
    X, y = _trend()
    cut = int(0.7 * len(X))  # by time: every test target lies above the training ones
    return X[:cut], y[:cut], X[cut:], y[cut:]


def test_forecasts_relative_to_the_window_follow_the_trend(trend_split):
    X_train, y_train, X_test, y_test = trend_split
    assert y_test.mean() > y_train.max()
    plain = LSTMRegressor(**SMALL, ar_window=None).fit(X_train, y_train)  # the LSTM alone
    relative = LSTMRegressor(**SMALL, relative="last").fit(X_train, y_train)
    # the default: the LSTM and a linear highway over the window (ar_window="auto")
    default = LSTMRegressor(**SMALL).fit(X_train, y_train)
    assert default.ar_window_ == X_train.shape[1]
    last = slice(-len(y_test) // 4, None)
    mae_naive = np.abs(X_test[:, -1, 0] - y_test).mean()  # the last value, repeated
    mae_plain = np.abs(plain.predict(X_test) - y_test).mean()
    # the LSTM alone trails the trend more the further it has gone past the training
    # levels (it saturates)
    assert (plain.predict(X_test) - y_test)[last].mean() < -0.5
    for model in (relative, default):  # as good at the end as at the start
        mae = np.abs(model.predict(X_test) - y_test).mean()
        assert mae < 0.5 * mae_plain and mae < mae_naive
        assert abs((model.predict(X_test) - y_test)[last].mean()) < 0.2
        assert model.score(X_test, y_test) > 0.9


def _shifted(X, c, column=None):
    """``X`` (array or ragged list) plus ``c`` on every column, or on one."""
    where = slice(None) if column is None else column
    if isinstance(X, list):
        return [_shifted(x[None], c, column)[0] for x in X]
    out = np.array(X, dtype=np.float64)
    out[..., where] += c
    return out


@pytest.mark.parametrize("how", ["last", "mean"])
def test_ragged_input_is_anchored_on_its_valid_steps(how, tiny):
    rng = np.random.default_rng(1)
    X = [rng.normal(size=(n, 2)) + rng.normal(scale=5) for n in rng.integers(3, 12, 40)]
    y = np.array([[x[-1, 1] + 0.5 * x[-1, 0], x[:, 1].mean()] for x in X])  # 2 outputs
    est = LSTMRegressor(**tiny, relative=how, relative_target=1).fit(X, y)
    predicted = est.predict(X)
    # the padding changes nothing: alone or in a padded batch, the same prediction (to
    # what the kernels promise for another batch: tests/settings.py)
    assert_allclose(np.vstack([est.predict([x]) for x in X[:8]]), predicted[:8],
                    rtol=NEIGHBOUR_RTOL, atol=1e-5)
    # the target's column, shifted by c, shifts every output by c; another column or
    # the padding does not enter (an anchor read off the padding would break both)
    assert_allclose(est.predict(_shifted(X, 100.0, column=1)), predicted + 100.0, atol=1e-3)
    assert_allclose(est.predict(_shifted(X, 100.0, column=0)), predicted, atol=1e-3)


def test_the_level_of_the_series_does_not_matter(trend_split, tiny):
    """A series moved up by 1024 gives the same model, its forecasts 1024 higher: the
    documented case of X and y in the same units (one affine map on both)."""
    X, y, _, _ = trend_split
    X, y = np.round(X * 64) / 64, np.round(y * 64) / 64  # X + 1024 exact in float32
    low = LSTMRegressor(**tiny, relative="last").fit(X, y)
    high = LSTMRegressor(**tiny, relative="last").fit(X + 1024.0, y + 1024.0)
    assert_allclose(high.predict(X + 1024.0), low.predict(X) + 1024.0, atol=1e-9)


@pytest.mark.parametrize("form", ["array", "list", "store"])
def test_a_level_beyond_float32_precision_is_subtracted_before_rounding(
        trend_split, tiny, form, tmp_path):
    """float64 input at a level of 1e7 (where float32 keeps whole numbers only) gives
    the model of level 0: the anchor is subtracted in float64. It was subtracted after
    the rounding to float32, so the steps of a window became multiples of 1."""
    from sklstm.data.store import SequenceStore

    X, y, _, _ = trend_split
    X = X.astype(np.float64)
    level = 1e7
    high_X = {"array": lambda a: a, "list": list,
              "store": lambda a: SequenceStore.write(tmp_path / "s", list(a))}[form](X + level)
    low = LSTMRegressor(**tiny, relative="last").fit(X, y)
    high = LSTMRegressor(**tiny, relative="last").fit(high_X, y + level)
    assert_allclose(high.predict(high_X) - level, low.predict(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("how", ["last", "mean"])
def test_prediction_relative_to_each_sequence_copies_no_rows(how, tiny, monkeypatch):
    # the anchors were subtracted from the whole X in float64: 3.7 times a float32 X in
    # extra memory over a plain prediction; then one float32 copy (0.83x), made a chunk
    # of rows at a time (chunks of 32 KiB here, X of 800 kB); now each batch's rows as
    # the batch is taken: the anchors (0.08x) and one chunk's float64 rows at most
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 2**15)
    X = np.random.default_rng(0).normal(size=(2000, 25, 4)).astype(np.float32)
    plain = LSTMRegressor(**tiny, device="cpu").fit(X[:40], X[:40, -1, 0])
    relative = LSTMRegressor(**tiny, device="cpu", relative=how).fit(X[:40], X[:40, -1, 0])
    extra = traced_peak(relative.predict, X)[1] - traced_peak(plain.predict, X)[1]
    assert extra < 0.3 * X.nbytes, extra / X.nbytes


def test_relative_target_is_the_column_make_windows_used(tiny):
    rng = np.random.default_rng(2)
    series = np.cumsum(rng.normal(size=(120, 3)), axis=0)
    X, y = make_windows(series, lookback=8, horizon=2, target=2)
    assert_array_equal(y[:-1, 0], X[1:, -1, 2])  # the target is column 2 of X
    est = LSTMRegressor(**tiny, relative="last", relative_target=np.int64(2)).fit(X, y)
    assert est.predict(X).shape == y.shape
    assert_allclose(est.predict(_shifted(X, 10.0, column=2)), est.predict(X) + 10.0,
                    atol=1e-4)


def test_a_negative_relative_target_counts_from_the_last_column(tiny):
    # make_windows(target=-1) windows the last column: relative_target=-1 is that column
    series = np.cumsum(np.random.default_rng(2).normal(size=(120, 3)), axis=0)
    X, y = make_windows(series, lookback=8, target=-1)
    last = LSTMRegressor(**tiny, relative="last", relative_target=-1).fit(X, y)
    # (a constant on a column leaves the relative windows as they are: only the anchor
    # added back moves the forecasts, by the constant where it is column 2's)
    assert_allclose(last.predict(_shifted(X, 10.0, column=2)), last.predict(X) + 10.0,
                    atol=1e-4)


X_NUM = np.random.default_rng(3).normal(size=(20, 5, 2))
Y_NUM = np.linspace(-1.0, 1.0, 20)  # in the units of X_NUM's columns, as relative needs


@pytest.mark.parametrize("params, X, error, match", [
    ({"relative": "last", "relative_target": 2}, X_NUM, ValueError,
     r"relative_target=2 is not a column of X, which has 2 feature\(s\) per timestep "
     r"\(columns 0..1, or -2..-1 from the last\); set relative_target to the column that "
     r"holds the target's own "
     r"series \(make_windows\(..., target=t\) keeps it at column t"),
    ({"relative": "mean", "relative_target": 1}, X_NUM[:, :, 0], ValueError,
     "relative_target=1 is not a column of X, which has 1 feature"),
    ({"relative": "last", "embedding_dim": 3}, np.ones((20, 5), dtype=int), ValueError,
     r"relative='last' subtracts each window's level, which token ids \(embedding_dim=3\) "
     "do not have; leave relative=None"),
    ({"relative": "median"}, X_NUM, ValueError, "'relative' parameter of LSTMRegressor"),
    ({"relative": "last", "relative_target": -3}, X_NUM, ValueError,
     "relative_target=-3 is not a column of X, which has 2 feature"),
    ({"relative": "last", "relative_target": True}, X_NUM, ValueError,
     "'relative_target' parameter"),
    ({"relative": "last"}, np.full((20, 5, 2), np.nan), ValueError, "Input X contains NaN"),
])
def test_bad_relative_settings_are_refused_before_training(params, X, error, match, tiny):
    est = LSTMRegressor(**tiny, **params)
    with pytest.raises(error, match=match):
        est.fit(X, Y_NUM)
    assert not hasattr(est, "net_")


def test_numpy_scalars_as_parameters(tiny):
    est = LSTMRegressor(**tiny, relative=np.str_("last"), relative_target=np.int32(1))
    assert est.fit(X_NUM, Y_NUM).predict(X_NUM).shape == (20,)
    assert est._sequence_params["relative_target"] == 1


def test_prediction_uses_the_fitted_setting_and_survives_pickle(tiny):
    est = LSTMRegressor(**tiny, relative="last").fit(X_NUM, Y_NUM)
    expected = est.predict(X_NUM)
    est.set_params(relative=None)  # a parameter changed after the fit: not the fit's
    assert_array_equal(est.predict(X_NUM), expected)
    assert_array_equal(pickle.loads(pickle.dumps(est)).predict(X_NUM), expected)


def test_predictions_during_the_fit_add_the_anchor_back(tiny):
    est = LSTMRegressor(**tiny, relative="last")

    class Spy(Callback):  # what the fit predicts for X, and for X 50 higher
        gaps = []

        def __deepcopy__(self, memo):  # the fit keeps this very callback
            return self

        def on_epoch_end(self, net, **kwargs):
            self.gaps.append(est.predict(X_NUM[:4] + 50.0) - est.predict(X_NUM[:4]))

    spy = Spy()
    est.set_params(callbacks=[spy]).fit(X_NUM, Y_NUM)
    assert len(spy.gaps) == tiny["max_epochs"]
    assert_allclose(np.array(spy.gaps), 50.0, atol=1e-3)


def test_a_checkpointed_relative_fit_is_loaded_not_retrained(tmp_path, tiny):
    params = {**tiny, "relative": "mean", "checkpoint": str(tmp_path / "fit")}
    first = LSTMRegressor(**params).fit(X_NUM, Y_NUM)
    again = LSTMRegressor(**params).fit(X_NUM, Y_NUM)
    assert again.n_epochs_ == first.n_epochs_
    assert_array_equal(again.predict(X_NUM), first.predict(X_NUM))


def test_targets_in_other_units_than_the_anchor_column_warn(tiny):
    # a SequenceScaler puts the column in standard units, y stays at its level of 100:
    # the relative targets were y minus standardized anchors, the forecasts silently off
    # (R^2 -25 measured against 0.99 without the scaler)
    X, y = _trend(n_steps=120, horizon=2)
    X, y = X + 100.0, y + 100.0
    pipe = Pipeline([("scale", SequenceScaler()),
                     ("lstm", LSTMRegressor(**tiny, relative="last"))])
    with pytest.warns(UserWarning, match=r"relative='last' subtracts from y the anchor of "
                                         r"column relative_target=0 .* y seems to be in "
                                         r"other units .*SequenceScaler"):
        pipe.fit(X, y)
    with pytest.warns(UserWarning, match="relative_target=1 of X"):  # another series
        LSTMRegressor(**tiny, relative="mean", relative_target=1).fit(
            np.concatenate([X, X - 100.0], axis=2), y)
    with warnings.catch_warnings():  # the series as they are: y in the column's units
        warnings.filterwarnings("error", message=".*other units", category=UserWarning)
        LSTMRegressor(**tiny, relative="last").fit(X, y)
        LSTMRegressor(**tiny, relative="mean").fit(X[:1], y[:1])  # no range to compare


def test_a_search_over_relative_in_a_pipeline_chooses_it_for_a_trend():
    X, y = _trend(n_steps=260, horizon=2)
    pipe = Pipeline([("lstm", LSTMRegressor(**{**SMALL, "max_epochs": 30, "tol": None}))])
    search = GridSearchCV(pipe, {"lstm__relative": [None, "last"]},
                          cv=make_window_splitter(n_splits=2, horizon=2),
                          scoring="neg_mean_absolute_error").fit(X, y)
    assert search.best_params_ == {"lstm__relative": "last"}
    assert search.predict(X[-5:]).shape == (5, 2)


def _offset_shapes(n, offset_scale, seed):
    """Ragged univariate recordings of a bump (class 1) or a dip (class 0), each moved
    by an offset of its own (a sensor's baseline)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = []
    for label in y:
        length = int(rng.integers(16, 25))
        x = rng.normal(scale=0.3, size=(length, 1))
        start = int(rng.integers(2, length - 6))
        x[start:start + 4, 0] += 2.0 if label else -2.0
        X.append(x + rng.normal(scale=offset_scale))
    return X, y


@pytest.mark.parametrize("how", ["mean", "last"])
def test_a_classifier_relative_to_each_recording_ignores_its_level(how):
    X, y = _offset_shapes(64, 1.0, 0)
    X_far, y_far = _offset_shapes(64, 30.0, 1)  # offsets far beyond the training ones
    # on the CPU: what relative= computes does not depend on the device, and the bounds
    # below are float32's on the CPU (a shift by 1000 is within 5.7e-6; on CUDA cuDNN's
    # kernels round with the batch's shape, and TF32 convolutions round the input)
    est = LSTMClassifier(hidden_size=8, max_epochs=40, tol=None, lr=0.02, random_state=0,
                         n_threads=1, relative=how, device="cpu").fit(X, y)
    assert est.score(X_far, y_far) >= 0.9
    proba = est.predict_proba(X)
    assert_allclose(est.predict_proba(_shifted(X, 1000.0)), proba, atol=1e-5)
    assert_allclose(est.predict_proba(X[:1]), proba[:1], atol=1e-6)  # padding: no effect
    est.set_params(relative=None)  # the fit's setting is what predicts
    assert_array_equal(pickle.loads(pickle.dumps(est)).predict_proba(X), proba)


@pytest.mark.parametrize("params, match", [
    ({"relative": "last", "embedding_dim": 3}, r"relative='last' subtracts each window's"),
    ({"relative": "median"}, "'relative' parameter of LSTMClassifier"),
    # one-step sequences minus themselves: zeros only, said by a "did not learn" warning
    ({"relative": "mean", "seq_len": 1}, r"relative='mean' .* every training sequence has "
                                         "a single step .* zeros only"),
])
def test_bad_classifier_relative_settings_are_refused_before_training(params, match, tiny):
    X = np.ones((20, 5), dtype=int) if "embedding_dim" in params else X_NUM
    est = LSTMClassifier(**tiny, **params)
    with pytest.raises(ValueError, match=match):
        est.fit(X, np.arange(20) % 2)
    assert not hasattr(est, "net_")
