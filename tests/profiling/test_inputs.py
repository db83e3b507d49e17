"""What profile_batch_sizes refuses, before any fit, and the numpy values it accepts."""

import sys

import numpy as np
import pytest

from sklstm import LSTMClassifier, profile_batch_sizes

from . import FAST

pd = pytest.importorskip("pandas")


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_sizes=[0]), ValueError, "batch_sizes must hold positive ints"),
    (dict(batch_sizes=[8, -2]), ValueError, "batch_sizes"),
    (dict(batch_sizes=[]), ValueError, "batch_sizes must not be empty"),
    (dict(batch_sizes=[4.0]), ValueError, "batch_sizes"),
    (dict(batch_sizes=[True]), ValueError, "batch_sizes"),
    (dict(batch_sizes=[None]), ValueError, "batch_sizes"),
    # scikit-learn's "must be an instance of 'list', ... Got 16" named no fix
    (dict(batch_sizes=16), ValueError, r"To profile one size, .*: batch_sizes=\[16\]"),
    (dict(batch_sizes=np.int64(16)), TypeError, r"batch_sizes=\[16\]"),
    (dict(seq_lens=np.array(10)), ValueError, r"seq_lens=\[10\]"),
    (dict(seq_lens=["a"]), ValueError, "seq_lens must hold positive ints or None"),
    (dict(seq_lens=[0]), ValueError, "seq_lens"),
    (dict(seq_lens=[]), ValueError, "seq_lens must not be empty"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(warmup_steps=-1), ValueError, "warmup_steps"),
    (dict(max_memory="lots"), ValueError, "not a memory size"),
    (dict(max_memory=0), ValueError, "max_memory"),
    (dict(max_memory="1e400"), ValueError, "not a finite size"),
    # a repeat was fitted again, and its rows zigzagged the plot's line
    (dict(batch_sizes=[8, 4, np.int64(8)]), ValueError,
     "batch_sizes must not repeat a value; got 8 twice"),
    (dict(batch_sizes=np.array([4, 4])), ValueError, "batch_sizes must not repeat"),
    (dict(seq_lens=[None, 10, None]), ValueError,
     "seq_lens must not repeat a value; got None twice"),
    (dict(seq_lens=[10, 5, 10]), ValueError, "seq_lens must not repeat a value; got 10"),
    # the table's int64 column raised OverflowError once every pair had been measured
    (dict(batch_sizes=[4, 2**63]), ValueError,
     r"batch_sizes must hold ints up to 2\*\*63 - 1; got 9223372036854775808"),
])
def test_bad_inputs_raise_before_any_fit(data, no_fit, kwargs, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y, **kwargs)


def test_bad_estimator_and_data_raise_before_any_fit(data, no_fit):
    X, y = data
    from sklearn.linear_model import Ridge

    with pytest.raises(TypeError, match="sklstm estimator"):
        profile_batch_sizes(Ridge(), X, y)
    with pytest.raises(ValueError, match="same, positive number of samples"):
        profile_batch_sizes(LSTMClassifier(), X, y[:-1])
    with pytest.raises(ValueError, match="requires y"):
        profile_batch_sizes(LSTMClassifier(), X, None)
    with pytest.raises(ValueError, match="not a memory size"):
        profile_batch_sizes(LSTMClassifier(max_memory="lots"), X, y)


def test_an_estimator_s_bad_parameter_is_named_as_the_estimator_s(data):
    # scikit-learn's validate_params decorator renamed it "of profile_batch_sizes", a
    # function with no lr_schedule
    X, y = data
    with pytest.raises(ValueError, match=r"'lr_schedule' parameter of LSTMClassifier must"):
        profile_batch_sizes(LSTMClassifier(**FAST, lr_schedule="cosine"), X, y,
                            batch_sizes=[4], n_steps=1)


def test_numpy_integers_are_accepted(data):
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=np.array([4]),
                              seq_lens=[np.int64(6)], n_steps=np.int64(1),
                              max_memory=np.int64(2**40))
    assert list(out["batch_size"]) == [4] and list(out["seq_len"]) == [6]
    assert isinstance(out["seq_len"][0], int) and out["fits"].all()
    assert type(out.attrs["n_steps"]) is int and type(out.attrs["max_memory"]) is int


def test_0d_arrays_are_accepted_as_the_estimators_accept_them(data):
    # the estimator fits with max_memory=np.array("64GiB"); profiling it raised TypeError,
    # and profile_batch_sizes' own n_steps and max_memory refused what fit accepts
    X, y = data
    est = LSTMClassifier(**FAST, max_memory=np.array("64GiB"))
    out = profile_batch_sizes(est, X, y, batch_sizes=[4], n_steps=np.array(1))
    assert out.attrs["max_memory"] == 64 * 2**30 and type(out.attrs["n_steps"]) is int
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4], n_steps=1,
                              warmup_steps=np.array(0), max_memory=np.array(2**40))
    assert out.attrs["max_memory"] == 2**40 and type(out.attrs["warmup_steps"]) is int


def test_a_profile_s_columns_are_accepted(profile, data):
    # profiling again what a profile found (the batch sizes that fit, its seq_lens), as
    # pandas columns, was refused: "must be an instance of 'list', ... Got 0 4 ...";
    # convert_dtypes() (a Parquet round trip) makes the seq_len column's None a <NA>
    X, y = data
    nullable = profile.convert_dtypes()
    fitting = nullable.loc[nullable["fits"], "batch_size"].drop_duplicates()  # a Series
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=fitting,
                              seq_lens=nullable["seq_len"].unique(), n_steps=1)
    assert list(out["batch_size"]) == [4, 4, 8, 8]
    assert list(out["seq_len"]) == [None, 10, None, 10]
    assert list(out["timesteps"]) == [30, 10, 30, 10]
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=pd.Index([4]),
                              seq_lens=pd.Series([5]), n_steps=1)
    assert list(out["seq_len"]) == [5] and type(out["seq_len"][0]) is int


def test_a_profile_read_back_from_csv_gives_its_columns(profile, data):
    # pandas reads seq_len's None and 10 back as NaN and 10.0 (a float column of ints
    # with missing values): profiling those again was refused, "got 10.0"
    import io

    X, y = data
    table = pd.read_csv(io.StringIO(profile.to_csv(index=False)))
    assert table["seq_len"].dtype.kind == "f"
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4],
                              seq_lens=table["seq_len"].drop_duplicates(), n_steps=1)
    assert list(out["seq_len"]) == [None, 10] and list(out["timesteps"]) == [30, 10]
    with pytest.raises(ValueError, match=r"ints or None \(the full length\); got 2\.5"):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y, seq_lens=pd.Series([2.5]))


def test_without_pandas_the_error_names_the_extra(data, no_fit, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    X, y = data
    with pytest.raises(ImportError, match=r'pip install "sklstm\[pandas\]"'):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y)


@pytest.mark.parametrize("max_memory", [1.5, 1.5e9])
def test_the_estimator_s_max_memory_is_refused_as_its_fit_refuses_it(data, no_fit, max_memory):
    # the profiled fits run without a budget of their own, so the estimator's was never
    # checked: 1.5 became a budget of 1 byte (every row "does not fit") where a fit
    # refuses it
    X, y = data
    with pytest.raises(ValueError, match=r"'max_memory' parameter of LSTMClassifier must"):
        profile_batch_sizes(LSTMClassifier(**FAST, max_memory=max_memory), X, y,
                            batch_sizes=[4], n_steps=1)


def test_the_estimator_s_class_is_refused_with_the_fix(data, no_fit):
    # the class, not an instance of it, was "got ABCMeta" (its metaclass): no word of it
    from sklearn.pipeline import make_pipeline

    X, y = data
    for estimator in (LSTMClassifier, make_pipeline(LSTMClassifier)):
        with pytest.raises(TypeError, match=r"got the class LSTMClassifier: pass an "
                                            r"instance, LSTMClassifier\(\)"):
            profile_batch_sizes(estimator, X, y)


def test_bad_data_is_refused_before_any_fit_naming_its_sample_in_x(data, no_fit):
    # the unrecorded first fit, on the few samples drawn, ran before X was checked
    # whole: "NaN at sample 0" (its place among those) for X's sample 15
    X, y = data
    X = X.copy()
    X[15, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN at sample 15, timestep 3"):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[2], n_steps=1)
