"""Variable-length (ragged) sequences: padding never changes a result, ``seq_len``
cuts them, and scikit-learn's tools split, search and pickle them."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    HalvingRandomSearchCV,
    cross_val_score,
)
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.datasets import make_sensor_series
from sklstm.network import LSTMNetwork
from sklstm.preprocessing import SequenceScaler
from sklstm.windows import from_long_format, make_window_splitter, make_windows

from ..settings import NEIGHBOUR_RTOL

N_SAMPLES = 48


@pytest.fixture(scope="module")
def ragged():
    """Sequences of 2..20 steps with 2 features and a target that needs their ends."""
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in rng.integers(2, 21, N_SAMPLES)]
    y_reg = np.array([x[-2:, 0].sum() for x in X], dtype=np.float32)
    return X, np.where(y_reg > 0, "up", "down"), y_reg


@pytest.fixture(params=["classifier", "regressor"])
def case(request, ragged):
    """(estimator class, X, y) for each estimator type."""
    X, y_class, y_reg = ragged
    if request.param == "classifier":
        return LSTMClassifier, X, y_class
    return LSTMRegressor, X, y_reg


def _output(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _object_array(X):
    out = np.empty(len(X), dtype=object)
    out[:] = X
    return out


# -- padding and packing ---------------------------------------------------------
ARCHITECTURES = pytest.mark.parametrize(
    ("bidirectional", "num_layers"), [(False, 1), (True, 1), (False, 2), (True, 2)]
)


@ARCHITECTURES
def test_prediction_does_not_depend_on_batch_neighbours(case, tiny, bidirectional, num_layers,
                                                        monkeypatch):
    # float32 throughout: TF32 (torch's default for cuDNN on Ampere and later) rounds a
    # convolution's inputs to 10 bits where cuDNN's algorithm for the batch's shape
    # uses tensor cores, so the classifier's default branch may round apart beside other
    # sequences; that is no matter of padding, which is what this test is about
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    Estimator, X, y = case
    est = Estimator(**tiny, bidirectional=bidirectional, num_layers=num_layers).fit(X, y)
    batched = _output(est, X)  # 16 per batch, each padded to its longest member
    alone = np.concatenate([_output(est, [x]) for x in X])  # no padding at all
    long = np.ones((60, 2), dtype=np.float32)
    beside_long = np.concatenate([_output(est, [x, long])[:1] for x in X])  # mostly padding
    shuffled = np.random.default_rng(1).permutation(len(X))
    reordered = np.empty_like(batched)
    reordered[shuffled] = _output(est, [X[i] for i in shuffled])
    for other in (alone, beside_long, reordered):  # (tests/settings.py: what kernels promise)
        assert_allclose(other, batched, rtol=NEIGHBOUR_RTOL, atol=NEIGHBOUR_RTOL / 10)


@ARCHITECTURES
def test_padded_batch_gradient_is_the_sum_over_sequences(bidirectional, num_layers):
    """Training is padding-free too: the loss gradient of a padded batch equals
    the sum of the gradients of its sequences taken one by one, unpadded."""
    torch.manual_seed(0)
    net = LSTMNetwork(2, 1, hidden_size=6, num_layers=num_layers, bidirectional=bidirectional)
    lengths = torch.tensor([7, 2, 5, 1, 7])
    x = torch.randn(len(lengths), 7, 2)
    x[torch.arange(7)[None, :] >= lengths[:, None]] = 99.0  # loud padding

    def grads(loss):
        return torch.autograd.grad(loss, list(net.parameters()))

    batched = grads(net(x, lengths).sum())
    single = [grads(net(x[i : i + 1, :n]).sum()) for i, n in enumerate(lengths.tolist())]
    for got, *parts in zip(batched, *single, strict=True):
        assert_allclose(got, sum(parts), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("keep_steps", ["last", "first"])
def test_seq_len_cuts_each_ragged_sequence(case, tiny, keep_steps):
    Estimator, X, y = case
    est = Estimator(**tiny, seq_len=6, keep_steps=keep_steps).fit(X, y)
    cut = [x[-6:] if keep_steps == "last" else x[:6] for x in X]
    by_hand = Estimator(**tiny).fit(cut, y)  # same data after the cut: same model
    assert_allclose(_output(est, X), _output(by_hand, cut), rtol=1e-6)


# -- scikit-learn tools ------------------------------------------------------------
def _cross_val(est, X, y):
    return cross_val_score(est, X, y, cv=3, error_score="raise")


def _grid(est, X, y):
    return GridSearchCV(est, {"batch_size": [8, 16]}, cv=2, error_score="raise").fit(X, y)


def _halving_grid(est, X, y):
    return HalvingGridSearchCV(
        est, {"hidden_size": [4, 8], "seq_len": [None, 5]}, cv=2, factor=2,
        error_score="raise", random_state=0,
    ).fit(X, y)


def _halving_random(est, X, y):
    return HalvingRandomSearchCV(
        est, {"hidden_size": [4, 8], "keep_steps": ["last", "first"]}, n_candidates=2,
        # the default smallest resource (8 samples) can leave a fold with one class
        cv=2, factor=2, min_resources=16, error_score="raise", random_state=0,
    ).fit(X, y)


@pytest.mark.parametrize(
    ("tool", "container"),
    [(_cross_val, "object"), (_grid, "list"), (_halving_grid, "object"),
     (_halving_random, "list")],
    ids=["cross_val_score", "GridSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV"],
)
def test_sklearn_tools_split_ragged_input(case, tiny, tool, container):
    Estimator, X, y = case
    X = _object_array(X) if container == "object" else X
    result = tool(Estimator(**tiny), X, y)
    if isinstance(result, np.ndarray):  # cross_val_score
        scores = result
    else:
        scores = result.cv_results_["mean_test_score"]
        assert len(result.predict(X)) == len(X)
    assert np.isfinite(scores).all()


@pytest.mark.parametrize("container", ["list", "object"])
def test_pickled_estimator_predicts_ragged_input(case, tiny, container):
    Estimator, X, y = case
    X = _object_array(X) if container == "object" else X
    est = Estimator(**tiny).fit(X, y)
    assert_array_equal(_output(pickle.loads(pickle.dumps(est)), X), _output(est, X))


def test_pipeline_search_over_batching_and_seq_len(ragged, tiny):
    X, y, _ = ragged
    # no convolutional branch: its batch normalization takes statistics per micro-batch,
    # so accumulated micro-batches are not the same update (tests/network/test_conv.py)
    pipe = Pipeline([("scale", SequenceScaler()),
                     ("lstm", LSTMClassifier(**tiny, conv_channels=None))])
    grid = {"lstm__batch_size": [8, 16], "lstm__accumulation_steps": [1, 2],
            "lstm__seq_len": [None, 5]}
    search = GridSearchCV(pipe, grid, cv=2, error_score="raise").fit(X, y)
    results = pd.DataFrame(search.cv_results_["params"]).assign(
        effective=lambda d: d["lstm__batch_size"] * d["lstm__accumulation_steps"],
        score=search.cv_results_["mean_test_score"],
    )
    assert np.isfinite(results["score"]).all()
    # 8 x 2 accumulated is the same update as 16 x 1, so the same scores
    same = results[results["effective"] == 16].groupby("lstm__seq_len", dropna=False)["score"]
    assert (same.nunique() == 1).all() and same.ngroups == 2
    assert len(search.predict(X)) == len(X)


def test_seq_len_search_over_windows_of_the_longest_lookback(tiny):
    series = make_sensor_series(n_timesteps=150, random_state=0)
    X, y = make_windows(series, lookback=12, horizon=2)
    search = GridSearchCV(LSTMRegressor(**tiny), {"seq_len": [3, 12]},
                          cv=make_window_splitter(2, horizon=2), error_score="raise").fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # a 12-step window cut to its last 3 steps is the 3-step window with the same targets
    X3, y3 = make_windows(series[9:], lookback=3, horizon=2)
    assert_array_equal(y3, y)
    cut = LSTMRegressor(**tiny, seq_len=3).fit(X, y)
    assert_allclose(cut.predict(X), LSTMRegressor(**tiny).fit(X3, y3).predict(X3), rtol=1e-6)


def test_long_format_table_feeds_an_estimator(case, tiny):
    Estimator, X, y = case
    rows = [
        {"id": f"s{i:02d}", "t": t, "f0": x[t, 0], "f1": x[t, 1], "label": label}
        for i, (x, label) in enumerate(zip(X, y, strict=True))
        for t in range(len(x))
    ]
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # rows in any order
    X_long, y_long, ids = from_long_format(df, "id", "t", target_col="label",
                                           dtype=np.float32)
    assert_array_equal(ids, [f"s{i:02d}" for i in range(len(X))])
    assert_array_equal(y_long, y)
    est = Estimator(**tiny).fit(X_long, y_long)
    assert_allclose(_output(est, X_long), _output(Estimator(**tiny).fit(X, y), X), rtol=1e-6)


def test_one_univariate_window_without_its_window_axis_is_warned_about(tiny):
    # X[-1] of univariate windows, (12, 1), is 12 one-step sequences: 12 predictions
    X, y = make_windows(make_sensor_series(n_timesteps=80, random_state=0)[:, :1], 12)
    est = LSTMRegressor(**tiny).fit(X, y)
    one_step = LSTMRegressor(**tiny).fit(X[:, -1], y)  # 2D univariate rows of one step
    with pytest.warns(UserWarning, match=r"X of shape \(12, 1\) is read as 12 sequences of "
                                         r"one timestep each .* X\[-1:\] instead of X\[-1\]"):
        assert est.predict(X[-1]).shape == (12,)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est.predict(X[-1:]).shape == (1,)
        assert est.predict(X[:5, -1:]).shape == (5,)  # 3D one-step sequences: as meant
        # a fit on 2D rows of one step reads (n, 1) as such rows: nothing to warn about
        assert one_step.predict(X[:5, -1]).shape == (5,)


def test_the_one_step_rows_warning_names_fixes_that_work_on_a_dataframe(tiny):
    # a DataFrame column of one window, (12, 1): X[None] and X[:, :, None], the fixes
    # the warning named, are a KeyError and an InvalidIndexError on a DataFrame
    X, y = make_windows(make_sensor_series(n_timesteps=80, random_state=0)[:, :1], 12)
    est = LSTMRegressor(**tiny, device="cpu").fit(X, y)
    window = pd.DataFrame({"value": X[-1, :, 0]})
    with pytest.warns(UserWarning, match=r"pass np\.asarray\(X\)\[None\];.*"
                                         r"pass np\.asarray\(X\)\[:, :, None\]"):
        est.predict(window)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the fixes, as named
        assert est.predict(np.asarray(window)[None]).shape == (1,)
        assert est.predict(np.asarray(window)[:, :, None]).shape == (12,)
