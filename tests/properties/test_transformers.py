"""Generated cases for SequenceScaler, SequencePadder and SequenceResampler: every form,
dtype and parameter type. Each transforms to finite values of the documented shape (in
the form it was given), or raises a ValueError/TypeError naming what is wrong."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sklstm.preprocessing import SequencePadder, SequenceResampler, SequenceScaler

from .checks import SETTINGS, assert_finite, run
from .strategies import FLOAT_WRAPPERS, Case, int_param, numeric_X, option_param


@st.composite
def token_lists(draw, n, case):
    """Ragged 1-D integer sequences (token ids): only the padder takes them."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return [rng.integers(0, 9, size=int(rng.integers(1, 6))) for _ in range(n)]


@st.composite
def feature_range(draw):
    wrap = draw(st.sampled_from(FLOAT_WRAPPERS))
    low = draw(st.floats(-5, 5))
    good = (wrap(low), wrap(low + draw(st.floats(0.5, 5))))
    bad = [(1, 0), (0,), "ab", (True, 2), (0, "1"), None, (0, np.nan), (2, 2)]
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(bad)), False
    return draw(st.sampled_from([good, list(good)])), True


@st.composite
def fill_value(draw):
    """``value`` of the padder: any number, NaN included."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.sampled_from(["x", None, [0.0]])), False
    if draw(st.booleans()):
        return draw(st.sampled_from([0, -1, np.int64(2), np.array(3)])), True
    return draw(st.sampled_from(FLOAT_WRAPPERS))(draw(st.sampled_from([0, -1, 2.5, np.nan]))), \
        True


PARAMS = {
    SequenceScaler: {"method": option_param(["standard", "minmax"]),
                     "feature_range": feature_range(),
                     "copy": option_param([True, False, np.bool_(True)], [1, "yes"])},
    SequencePadder: {"length": int_param(1, 10, none=True),
                     "padding": option_param(["post", "pre"]),
                     "truncating": option_param(["pre", "post"]),
                     "value": fill_value()},
    SequenceResampler: {"factor": int_param(1, 4)},
}


@st.composite
def cases(draw, Transformer):
    case = Case()
    strategies = PARAMS[Transformer]
    for name in draw(st.lists(st.sampled_from(sorted(strategies)), unique=True)):
        case.set(name, draw(strategies[name]))
    n = draw(st.integers(1, 8))
    if draw(st.integers(0, 4)) == 0:
        case.X = draw(token_lists(n, case))
        if Transformer is not SequencePadder:
            case.invalid.add("X")
    else:
        case.X = draw(numeric_X(n, case))
        if Transformer is SequencePadder and case.broken.get("X") in ("nan", "inf"):
            case.invalid.discard("X")  # padding passes missing values through
    return case


def _sequences(X):
    """Per-sample arrays with time on axis 0 (rows of 2-D input are univariate)."""
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    return [np.asarray(s, dtype=float) for s in (X if not hasattr(X, "ndim") or X.ndim != 1
                                                  else list(X))]


def _fitted_transform(Transformer, case, inverse=False):
    def call():
        transformer = Transformer(**case.params)
        out = transformer.fit_transform(case.X)
        back = transformer.inverse_transform(out) if inverse else None
        return transformer, out, back

    return run(case, call)


@settings(max_examples=150, **SETTINGS)
@given(case=cases(SequenceScaler))
def test_scaler_transforms_or_names_the_problem(case):
    result = _fitted_transform(SequenceScaler, case, inverse=True)
    if result is None:
        return
    _, out, back = result
    given = _sequences(case.X)
    got = _sequences(out)
    assert [np.shape(s) for s in got] == [np.shape(s) for s in given]
    assert_finite(got)
    # the round trip is exact to the precision of the output's dtype (float16 stays float16)
    ragged = isinstance(out, list) or out.dtype.kind == "O"
    dtype = np.asarray(out[0] if ragged else out).dtype
    tolerance = 50 * np.finfo(dtype if dtype.kind == "f" else np.float64).eps
    scale = max(1.0, max(np.abs(s).max() for s in given), *np.abs(
        np.asarray(case.params.get("feature_range", (0, 1)), dtype=float)))
    for original, restored in zip(given, _sequences(back), strict=True):
        np.testing.assert_allclose(restored, original, rtol=tolerance, atol=tolerance * scale)


@settings(max_examples=150, **SETTINGS)
@given(case=cases(SequencePadder))
def test_padder_pads_or_names_the_problem(case):
    result = _fitted_transform(SequencePadder, case)
    if result is None:
        return
    padder, out, _ = result
    given = _sequences(case.X)
    one_d = given[0].ndim == 1
    assert out.shape == ((len(given), padder.length_) if one_d
                         else (len(given), padder.length_, given[0].shape[1]))
    if all(np.isfinite(s).all() for s in given) and np.isfinite(float(padder.value)):
        assert_finite(out)


@settings(max_examples=100, **SETTINGS)
@given(case=cases(SequenceResampler))
def test_resampler_resamples_or_names_the_problem(case):
    result = _fitted_transform(SequenceResampler, case)
    if result is None:
        return
    resampler, out, _ = result
    factor = int(resampler.factor)
    given, got = _sequences(case.X), _sequences(out)
    assert [len(s) for s in got] == [math.ceil(len(s) / factor) for s in given]
    assert_finite(got)
