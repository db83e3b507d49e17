"""SequenceResampler: the estimators' downsample as a Pipeline step."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm import LSTMClassifier
from sklstm.data.steps import downsample_steps
from sklstm.preprocessing import SequenceResampler, SequenceScaler

from ..data.reductions import count_reductions
from ..settings import traced_peak

rng = np.random.default_rng(0)
X = rng.normal(size=(30, 9, 2)).astype(np.float32)
Y = (X[:, :, 0].mean(axis=1) > 0).astype(int)


@parametrize_with_checks([SequenceResampler()])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("form", ["3d", "2d", "list", "object"])
def test_every_form_comes_back_in_its_form(form):
    ragged = [rng.normal(size=(n, 2)) for n in (5, 2, 7)]
    data = {"3d": X, "2d": X[:, :, 0], "list": ragged,
            "object": np.array(ragged, dtype=object)}[form]
    out = SequenceResampler(factor=2).fit_transform(data)
    if form == "3d":
        assert out.shape == (30, 5, 2)
    elif form == "2d":
        assert out.shape == (30, 5)
    else:
        assert type(out) is type(data) and [len(s) for s in out] == [3, 1, 4]
        assert_allclose(out[1][0], ragged[1].mean(axis=0))


def test_the_step_equals_the_estimators_downsample():
    common = dict(hidden_size=4, max_epochs=2, tol=None, random_state=0, n_threads=1)
    pipe = Pipeline([("resample", SequenceResampler(factor=3)),
                     ("lstm", LSTMClassifier(**common))]).fit(X, Y)
    direct = LSTMClassifier(**common, downsample=3).fit(X, Y)
    assert_allclose(pipe.predict_proba(X), direct.predict_proba(X), rtol=1e-5)


def test_the_factor_is_searchable():
    pipe = Pipeline([("resample", SequenceResampler()),
                     ("lstm", LSTMClassifier(hidden_size=4, max_epochs=1, tol=None))])
    search = GridSearchCV(pipe, {"resample__factor": np.array([1, 3])}, cv=2).fit(X, Y)
    assert len(search.cv_results_["params"]) == 2


@pytest.mark.parametrize(("factor", "error"), [(0, ValueError), (1.5, TypeError),
                                               (True, TypeError)])
def test_bad_factor_is_refused(factor, error):
    with pytest.raises(error, match="'factor' parameter of SequenceResampler must be an int"):
        SequenceResampler(factor=factor).fit(X)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_averages_do_not_overflow_narrow_floats(dtype):
    # summed in the data's dtype, 4 steps of 30000 (float16) or 3e38 (float32) were inf
    big = 30000.0 if dtype == np.float16 else 3e38
    for data in (np.full((2, 8), big, dtype=dtype), [np.full((7, 1), big, dtype=dtype)]):
        out = SequenceResampler(factor=4).fit_transform(data)
        values = np.concatenate([np.ravel(seq) for seq in out])
        assert values.dtype == dtype
        assert_allclose(values.astype(np.float64), np.float64(dtype(big)), rtol=1e-6)


@pytest.mark.parametrize("form", ["2d", "3d", "list"])
def test_float64_sums_beyond_its_range_are_refused(form):
    # 2 steps of 1e308 summed to infinity in float64: their mean came back inf, with
    # only numpy's RuntimeWarning
    X = np.full((2, 4, 1), 1e308)
    X = {"2d": X[:, :, 0], "3d": X, "list": list(X)}[form]
    resampler = SequenceResampler(factor=2).fit(X)
    with pytest.raises(ValueError, match=r"beyond the range of float64.*divide X"):
        resampler.transform(X)


def test_pandas_output_on_tables():
    # a Pipeline's set_output failed: "set_output is not available"
    table = pd.DataFrame(rng.normal(size=(4, 5)), columns=list("abcde"))
    pipe = Pipeline([("resample", SequenceResampler(factor=2)),
                     ("scale", SequenceScaler())]).set_output(transform="pandas")
    Xt = pipe.fit_transform(table)
    assert isinstance(Xt, pd.DataFrame)
    assert list(Xt.columns) == ["sequenceresampler0", "sequenceresampler1",
                                "sequenceresampler2"]
    resampler = SequenceResampler(factor=2).set_output(transform="pandas").fit(table)
    assert list(resampler.get_feature_names_out()) == list(Xt.columns)


def test_sequences_keep_their_form_under_pandas_output():
    resampler = SequenceResampler(factor=2).set_output(transform="pandas").fit(X)
    assert not hasattr(resampler, "get_feature_names_out")
    assert resampler.transform(X).shape == (30, 5, 2)


def test_failed_refit_leaves_no_fitted_state():
    # the text DataFrame's names were recorded before its values were refused: the
    # sequences of columns a, b it had been fitted on were refused afterwards
    sequences = [pd.DataFrame(np.ones((3, 2)), columns=["a", "b"])] * 2
    resampler = SequenceResampler().fit(sequences)
    with pytest.raises(ValueError, match="non-numeric"):
        resampler.fit(pd.DataFrame([["x", "y"]], columns=["p", "q"]))
    assert not [name for name in vars(resampler) if name.endswith("_")]
    assert resampler.fit(sequences).transform(sequences)[0].shape == (2, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("ndim", [2, 3])
def test_dense_input_is_resampled_a_chunk_at_a_time(dtype, ndim, monkeypatch):
    """The float64 sums and means of the whole array were held beside the output: a
    peak of 6 times a float32 output (92 MiB for 20000 x 50 x 8 by 2); now the output
    and a chunk."""
    from sklstm.data import store as store_module
    from sklstm.data.steps import downsample_steps

    monkeypatch.setattr(store_module, "CHUNK_BYTES", 2**14)
    X = np.random.default_rng(0).normal(size=(4000, 25, 4)) * 100
    X = (X if ndim == 3 else X[..., 0]).astype(dtype)
    resampler = SequenceResampler(factor=3).fit(X)
    Xt, peak = traced_peak(resampler.transform, X)
    expected = downsample_steps(X, 3, axis=1)  # the whole array at once
    assert Xt.dtype == expected.dtype and Xt.shape == expected.shape
    np.testing.assert_array_equal(Xt, expected)
    assert peak < Xt.nbytes + 8 * store_module.CHUNK_BYTES


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.bool_])
def test_integer_input_is_not_copied_to_float64_whole(dtype, monkeypatch):
    """Validation read integer X as a float64 copy of all of it, in fit (2 times int32
    X, only to check it) and in transform (beside the output: 3 times int32 X)."""
    from sklstm.data import steps
    from sklstm.data import store as store_module

    monkeypatch.setattr(store_module, "CHUNK_BYTES", 2**14)
    # ragged sequences are averaged together a chunk of values at a time (in float64)
    monkeypatch.setattr(steps, "CHUNK_VALUES", store_module.CHUNK_BYTES // 8)
    X = np.random.default_rng(0).integers(0, 2, size=(4000, 25, 4)).astype(dtype)
    resampler, fit_peak = traced_peak(SequenceResampler(factor=3).fit, X)
    Xt, peak = traced_peak(resampler.transform, X)
    expected = X.astype(np.float64)
    expected = np.stack([expected[:, i:i + 3].mean(axis=1) for i in range(0, 25, 3)], axis=1)
    assert Xt.dtype == np.float64
    assert_allclose(Xt, expected)
    assert fit_peak < 8 * store_module.CHUNK_BYTES
    assert peak < Xt.nbytes + 8 * store_module.CHUNK_BYTES
    ragged = list(X.reshape(200, -1, 4))  # each sequence is resampled on its own
    out, peak = traced_peak(resampler.transform, ragged)
    assert all(seq.dtype == np.float64 for seq in out)
    assert_allclose(out[0][:3], ragged[0][:9].astype(np.float64).reshape(3, 3, 4).mean(axis=1))
    assert peak < sum(seq.nbytes for seq in out) + 8 * store_module.CHUNK_BYTES


@pytest.mark.parametrize("form", ["3d", "2d", "list"])
def test_factor_one_gives_float_output_for_integers(form):
    # documented: other numbers than floats become float64, whatever the factor
    X = np.arange(12).reshape(2, 6, 1)
    data = {"3d": X, "2d": X[:, :, 0], "list": list(X)}[form]
    out = SequenceResampler(factor=1).fit_transform(data)
    assert all(np.asarray(seq).dtype == np.float64 for seq in out)
    assert_allclose(np.asarray(out).reshape(X.shape), X)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.int32])
def test_ragged_input_is_averaged_in_one_reduction(dtype, monkeypatch):
    # sequences shorter than the factor and not a multiple of it: windows across two
    # sequences would change the means
    rng = np.random.default_rng(0)
    X = [(100 * rng.normal(size=(n, 2))).astype(dtype) for n in (1, 2, 7, 5, 3, 11)]
    resampler = SequenceResampler(factor=3).fit(X)
    reductions = count_reductions(monkeypatch)
    out = resampler.transform(X)
    assert len(reductions) == 1
    for got, seq in zip(out, X, strict=True):  # as one sequence at a time
        want = downsample_steps(seq, 3)
        assert got.dtype == want.dtype == (np.float64 if dtype == np.int32 else dtype)
        np.testing.assert_array_equal(got, want)
