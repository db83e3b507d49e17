"""profile_batch_sizes measures real steps per (batch size, seq_len), and plots them."""

import gc
import os
import pickle
import sys

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

import sklstm.estimators._base as estimator_base
from sklstm import LSTMClassifier, LSTMRegressor, profile_batch_sizes
from sklstm.exceptions import MemoryBudgetError
from sklstm.preprocessing import SequenceScaler
from sklstm.profiling import COLUMNS, plot_batch_profile

from .settings import requires_cuda

pd = pytest.importorskip("pandas")

linux_peak = pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"),
                                reason="the CPU peak is read from Linux's /proc")

#: On the CPU: the budget column is None there (on CUDA it is the device's free memory)
FAST = dict(hidden_size=4, random_state=0, n_threads=1, device="cpu")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30, 3)).astype(np.float32)
    y = np.arange(40) % 2
    return X, y


@pytest.fixture(scope="module")
def profile(data):
    X, y = data
    return profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8],
                               seq_lens=[None, 10], n_steps=2)


def test_one_row_per_pair_with_the_columns(profile):
    assert list(profile.columns) == list(COLUMNS)
    assert list(profile["batch_size"]) == [4, 4, 8, 8]
    assert list(profile["seq_len"]) == [None, 10, None, 10]
    assert list(profile["timesteps"]) == [30, 10, 30, 10]
    assert (profile["samples_per_s"] > 0).all() and (profile["step_time_s"] > 0).all()
    # throughput is the batch over the mean step time
    np.testing.assert_allclose(profile["samples_per_s"] * profile["step_time_s"],
                               profile["batch_size"], rtol=1e-9)
    assert profile["fits"].dtype == bool and profile["fits"].all()  # no budget on the CPU
    assert profile["error"].isna().all()
    assert profile.attrs["max_memory"] is None and profile.attrs["device"] == "cpu"
    assert profile.attrs["n_steps"] == 2 and profile.attrs["warmup_steps"] == 1


def test_the_steps_are_timed_by_the_callback(data, monkeypatch):
    """n_steps timed steps after warmup_steps: the figures are those steps' times."""
    import sklstm.profiling._timer as profiling  # the step timer's clock

    readings = []

    def clock():  # begin, end, begin, end...: the k-th step takes k + 1 seconds
        k = len(readings)
        last = readings[-1] if readings else 0.0
        readings.append(last + (0.25 if k % 2 == 0 else k // 2 + 1))
        return readings[-1]

    monkeypatch.setattr(profiling, "_now", clock)
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[5], n_steps=3,
                              warmup_steps=2)
    steps = np.subtract(readings[1::2], readings[::2])
    assert len(steps) >= 5  # (an unrecorded fit first, then) 2 warm-up and 3 timed steps
    timed = steps[-3:]  # the warm-up steps, the two before them, do not count
    assert out["step_time_s"].tolist() == [timed.mean()]
    assert out["samples_per_s"].tolist() == [15 / timed.sum()]


@linux_peak
def test_peak_memory_grows_with_the_batch_at_a_long_sequence():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 200, 3)).astype(np.float32)
    y = np.arange(64) % 2
    est = LSTMClassifier(hidden_size=32, downsample=1, random_state=0, n_threads=1,
                         device="cpu")
    out = profile_batch_sizes(est, X, y, batch_sizes=[8, 256], n_steps=1)
    assert list(out["timesteps"]) == [200, 200]
    small, large = out["peak_memory"]
    # activations of 200 steps for 32x the samples (measured: ~28x); the weights are tiny
    assert large > 8 * small > 0


def test_on_cuda_the_budget_counts_what_the_process_holds_there(monkeypatch):
    # a fit's peak_memory_ on CUDA counts every tensor the process holds on the device,
    # so the budget it is checked against is what a fit without max_memory may have:
    # free memory and torch's reserve (MemoryBudget), not free memory alone
    from sklstm.profiling._profile import _budget

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (10 * 2**30, 80 * 2**30))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device=None: 2 * 2**30)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: None)
    gpu = torch.device("cuda")
    assert _budget(None, LSTMClassifier(), gpu) == (12 * 2**30, "free device memory")
    assert _budget("1GiB", LSTMClassifier(), gpu) == (2**30, "max_memory")
    assert _budget(None, LSTMClassifier(), torch.device("cpu")) == (None, None)


@requires_cuda
def test_on_cuda_the_budget_includes_the_tensors_the_process_holds(data):
    X, y = data
    block = torch.ones(256 * 2**20 // 4, device="cuda")
    out = profile_batch_sizes(LSTMClassifier(**{**FAST, "device": "cuda"}), X, y,
                              batch_sizes=[4], n_steps=1)
    torch.cuda.empty_cache()
    free_now = torch.cuda.mem_get_info()[0]  # the block is not free, but a fit's peak has it
    assert out.attrs["max_memory"] > free_now + 128 * 2**20
    assert out["fits"].all() and block.sum() > 0


@requires_cuda
def test_on_cuda_the_budget_is_the_device_s_free_memory(data):
    # (the CPU's: None, test_one_row_per_pair_with_the_columns)
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**{**FAST, "device": "cuda"}), X, y,
                              batch_sizes=[4, 40], n_steps=1)
    assert out.attrs["budget_source"] == "free device memory"
    assert out.attrs["device"].startswith("cuda")
    assert 0 < out.attrs["max_memory"] <= torch.cuda.mem_get_info()[1]
    assert out["fits"].all() and out["error"].isna().all()
    small, large = out["peak_memory"]  # torch's tensor memory on the device
    assert large > small > 0


def test_a_tiny_budget_does_not_fit(data):
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8], n_steps=1,
                              max_memory="1KiB")
    assert not out["fits"].any()
    assert out.attrs["max_memory"] == 1024 and out.attrs["budget_source"] == "max_memory"
    # the peak is still measured and reported (the fits themselves have no budget)
    assert out["error"].isna().all() and (out["samples_per_s"] > 0).all()


def test_the_estimators_budget_is_used_when_none_is_given(data):
    X, y = data
    est = LSTMClassifier(max_memory="1GiB", **FAST)
    out = profile_batch_sizes(est, X, y, batch_sizes=[4], n_steps=1)
    assert out.attrs["max_memory"] == 2**30
    assert out.attrs["budget_source"] == "estimator.max_memory"
    assert out["fits"].all()


@pytest.mark.parametrize("error", [MemoryBudgetError("too big"),
                                   torch.cuda.OutOfMemoryError("CUDA out of memory")])
def test_out_of_memory_marks_the_row_and_goes_on(data, monkeypatch, error):
    train = estimator_base.train

    def train_or_run_out(plan, *args, **kwargs):
        if plan.batch_size >= 8:
            raise error
        return train(plan, *args, **kwargs)

    monkeypatch.setattr(estimator_base, "train", train_or_run_out)
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8, 16, 2],
                              n_steps=1)
    assert out["fits"].tolist() == [True, False, False, True]
    assert out.loc[[1, 2], ["samples_per_s", "step_time_s"]].isna().all().all()
    assert out.loc[[1, 2], "peak_memory"].isna().all()
    assert out.loc[1, "error"].startswith(type(error).__name__)
    assert out.loc[[0, 3], "samples_per_s"].gt(0).all()


def test_earlier_pairs_are_freed_before_the_next_one_is_measured(data, monkeypatch):
    # a fitted net, and an out-of-memory error's traceback (freed in its except block,
    # which keeps it alive), hold the fit's network and tensors in reference cycles: on
    # CUDA, where a fit's peak counts every tensor of the process, the next pair's
    # peak_memory counted them until Python's collector happened to run
    from sklstm.network.lstm import LSTMNetwork

    forward, train, alive = LSTMNetwork.forward, estimator_base.train, []

    def forward_or_run_out(self, x, *args, **kwargs):
        if len(x) >= 8:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return forward(self, x, *args, **kwargs)

    def networks():
        return sum(isinstance(o, LSTMNetwork) for o in gc.get_objects())

    def count_and_train(*args, **kwargs):
        alive.append(networks())
        return train(*args, **kwargs)

    monkeypatch.setattr(LSTMNetwork, "forward", forward_or_run_out)
    monkeypatch.setattr(estimator_base, "train", count_and_train)
    X, y = data
    gc.collect()
    before = networks()  # (other tests' fixtures may hold fitted ones)
    gc.disable()  # only what the profile frees itself
    try:
        out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[8, 4],
                                  n_steps=1)
    finally:
        gc.enable()
    assert out["fits"].tolist() == [False, True]
    assert alive == [before] * 3  # at the start of the warm-up fit and of each pair's


@linux_peak
def test_a_diverged_loss_keeps_the_row_s_figures_and_says_so(data):
    # a DivergenceError in one pair aborted the profile, and every pair measured was lost
    X, _ = data
    y = np.random.default_rng(0).normal(size=len(X)) * 5
    with pytest.warns(UserWarning, match=r"the loss diverged at batch_size=4, seq_len=None; "
                      r"batch_size=8, seq_len=None \(see the error column\): their step "
                      "times and peak memory are measured") as record:
        out = profile_batch_sizes(LSTMRegressor(lr=1e3, **FAST), X, y, batch_sizes=[4, 8],
                                  n_steps=2)
    # shown at the line that called the profile
    assert [w.filename for w in record if "diverged at" in str(w.message)] == [__file__]
    assert out["error"].str.startswith("DivergenceError: LSTMRegressor diverged").all()
    # every step ran: the figures stand, and the memory is no reason to fail
    assert (out["samples_per_s"] > 0).all() and (out["step_time_s"] > 0).all()
    assert out["peak_memory"].notna().all() and out["fits"].all()
    assert not out.attrs["interrupted"]


def test_other_errors_are_raised(data, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("not a memory error")

    monkeypatch.setattr(estimator_base, "train", fail)
    X, y = data
    with pytest.raises(RuntimeError, match="not a memory error"):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4], n_steps=1)


def test_timesteps_follow_downsample_and_seq_len():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 300, 2)).astype(np.float32)
    y = rng.normal(size=16)
    # "auto" averages 300 steps to 100; 2 halves them; seq_len then cuts averaged steps
    auto = profile_batch_sizes(LSTMRegressor(**FAST), X, y, batch_sizes=[4],
                               seq_lens=[None, 40], n_steps=1)
    assert list(auto["timesteps"]) == [100, 40]
    halved = profile_batch_sizes(LSTMRegressor(downsample=2, **FAST), X, y, batch_sizes=[4],
                                 seq_lens=[None, 500, 20], n_steps=1)
    assert list(halved["timesteps"]) == [150, 150, 20]
    assert list(halved["seq_len"]) == [None, 500, 20]


def test_ragged_data_profiles_the_longest_sequences():
    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.arange(5, 45))
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in lengths]
    y = np.arange(len(X)) % 2
    out = profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), X, y, batch_sizes=[3],
                              n_steps=2, warmup_steps=0)
    # the six longest (44..39) in two steps of three: the longest step ran 44 steps
    assert list(out["timesteps"]) == [44]
    # more samples asked than there are: every sequence, then again from the longest
    many = profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), X, y, batch_sizes=[50],
                               n_steps=1, warmup_steps=0)
    assert list(many["timesteps"]) == [44]


def test_a_ragged_store_profiles_its_longest_sequences(tmp_path, monkeypatch):
    from sklstm.data.store import SequenceStore

    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.arange(5, 45))
    store = SequenceStore.write(tmp_path / "ragged",
                                [rng.normal(size=(n, 2)).astype(np.float32) for n in lengths])
    y = np.arange(len(store)) % 2

    def read_one(self, key):  # the lengths come from the offsets: no sequence is read
        raise AssertionError("a sequence was read to measure its length")

    with monkeypatch.context() as patch:
        patch.setattr(SequenceStore, "__getitem__", read_one)
        from sklstm.profiling._profile import _ragged_lengths

        assert sorted(_ragged_lengths(store)) == list(range(5, 45))
    out = profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), store, y, batch_sizes=[3],
                              n_steps=2, warmup_steps=0)
    assert list(out["timesteps"]) == [44]  # as for the same sequences in a list


def test_fewer_samples_than_a_batch_are_drawn_again(data):
    X, y = data  # 40 samples, batches of 64
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[64], n_steps=1)
    assert out["samples_per_s"].gt(0).all()


# y as one column too (n, 1), which fit takes as the labels (list of lists, DataFrame)
@pytest.mark.filterwarnings("ignore:A column-vector y was passed")
@pytest.mark.parametrize("as_y", [np.asarray, lambda y: y[:, None],
                                  lambda y: y[:, None].tolist(),
                                  lambda y: pd.DataFrame({"label": y})],
                         ids=["1d", "column", "list", "frame"])
def test_a_classifier_gets_two_classes_even_at_batch_one(as_y):
    X = np.random.default_rng(0).normal(size=(10, 6, 2)).astype(np.float32)
    y = as_y(np.array([0] * 9 + [1]))  # a sample of one class would fail the fit
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[1, 2], n_steps=1,
                              warmup_steps=0)
    assert out["samples_per_s"].gt(0).all()


def test_works_with_a_pipeline(data):
    X, y = data
    pipe = Pipeline([("scale", SequenceScaler()), ("lstm", LSTMClassifier(**FAST))])
    before = repr(pipe.get_params())
    out = profile_batch_sizes(pipe, X, y, batch_sizes=[4], seq_lens=[None, 7], n_steps=1)
    assert list(out["timesteps"]) == [30, 7]
    assert out["peak_memory"].notna().all() or sys.platform != "linux"
    assert repr(pipe.get_params()) == before
    with pytest.raises(NotFittedError):
        check_is_fitted(pipe)


def test_a_nested_pipeline(data):
    X, y = data
    inner = Pipeline([("scale", SequenceScaler()), ("lstm", LSTMClassifier(**FAST))])
    outer = Pipeline([("id", SequenceScaler()), ("model", inner)])
    out = profile_batch_sizes(outer, X, y, batch_sizes=[4], seq_lens=[5], n_steps=1)
    assert list(out["timesteps"]) == [5]


def test_the_estimator_is_left_unchanged(data):
    X, y = data
    callbacks = []
    est = LSTMClassifier(batch_size=32, max_epochs=50, callbacks=callbacks, **FAST)
    params = est.get_params()
    profile_batch_sizes(est, X, y, batch_sizes=[4], seq_lens=[5], n_steps=1)
    assert est.get_params() == params and est.callbacks is callbacks and callbacks == []
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    assert not hasattr(est, "peak_memory_")


def _no_fit(monkeypatch):
    def fit(self, X, y):
        raise AssertionError("fitted before the inputs were checked")

    monkeypatch.setattr(estimator_base.BaseLSTM, "fit", fit)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(batch_sizes=[0]), ValueError, "batch_sizes must hold positive ints"),
    (dict(batch_sizes=[8, -2]), ValueError, "batch_sizes"),
    (dict(batch_sizes=[]), ValueError, "batch_sizes must not be empty"),
    (dict(batch_sizes=[4.0]), ValueError, "batch_sizes"),
    (dict(batch_sizes=[True]), ValueError, "batch_sizes"),
    (dict(batch_sizes=[None]), ValueError, "batch_sizes"),
    (dict(batch_sizes=16), ValueError, "batch_sizes"),  # scikit-learn: InvalidParameterError
    (dict(seq_lens=["a"]), ValueError, "seq_lens must hold positive ints or None"),
    (dict(seq_lens=[0]), ValueError, "seq_lens"),
    (dict(seq_lens=[]), ValueError, "seq_lens must not be empty"),
    (dict(n_steps=0), ValueError, "n_steps"),
    (dict(warmup_steps=-1), ValueError, "warmup_steps"),
    (dict(max_memory="lots"), ValueError, "not a memory size"),
    (dict(max_memory=0), ValueError, "max_memory"),
    (dict(max_memory="1e400"), ValueError, "not a finite size"),
])
def test_bad_inputs_raise_before_any_fit(data, monkeypatch, kwargs, error, match):
    _no_fit(monkeypatch)
    X, y = data
    with pytest.raises(error, match=match):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y, **kwargs)


def test_bad_estimator_and_data_raise_before_any_fit(data, monkeypatch):
    _no_fit(monkeypatch)
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


def test_without_pandas_the_error_names_the_extra(data, monkeypatch):
    _no_fit(monkeypatch)
    monkeypatch.setitem(sys.modules, "pandas", None)
    X, y = data
    with pytest.raises(ImportError, match=r'pip install "sklstm\[pandas\]"'):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y)


def test_the_table_keeps_its_class_and_pickles(profile):
    cls = type(profile)
    assert cls.__name__ == "BatchSizeProfile"
    assert isinstance(profile, pd.DataFrame)
    assert type(profile[profile["batch_size"] == 4]) is cls
    assert type(profile.copy()) is cls and type(profile.iloc[:2]) is cls
    again = pickle.loads(pickle.dumps(profile))
    assert type(again) is cls and again.attrs == profile.attrs
    pd.testing.assert_frame_equal(again, profile)


# -- plotting ---------------------------------------------------------------------
@pytest.fixture
def pyplot():
    os.environ.setdefault("MPLBACKEND", "Agg")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def _seq_lines(ax):
    return [line for line in ax.lines if line.get_label().startswith("seq_len=")]


def test_plot_draws_two_panels_with_a_line_per_seq_len(profile, pyplot):
    axes = profile.plot()
    assert len(axes) == 2
    for ax in axes:
        assert [line.get_label() for line in _seq_lines(ax)] == ["seq_len=full",
                                                                 "seq_len=10"]
        assert ax.get_xscale() == "log"
        for line in _seq_lines(ax):
            assert list(line.get_xdata()) == [4, 8]
    assert axes[0].get_ylabel() == "samples / s"
    assert axes[1].get_ylabel() == "peak memory (MiB)"
    memory = _seq_lines(axes[1])[0].get_ydata()
    full = profile[profile["seq_len"].isna()]
    np.testing.assert_allclose(memory, full["peak_memory"].to_numpy(float) / 2**20)


def test_plot_marks_what_does_not_fit_and_the_budget(profile, pyplot):
    marked = profile.copy()
    marked.loc[3, "fits"] = False
    marked.loc[2, ["samples_per_s", "step_time_s", "peak_memory"]] = np.nan
    marked.loc[2, "fits"] = False
    marked.attrs["max_memory"] = 2**20
    axes = marked.plot()
    for ax in axes:
        assert len(_seq_lines(ax)) == 2
        crosses = sum(len(c.get_offsets()) for c in ax.collections)
        assert crosses == 2
    assert [line.get_label() for line in axes[1].lines
            if not line.get_label().startswith("seq_len=")] == ["budget (1 MiB)"]


def test_plot_with_pandas_arguments_is_pandas_plot(profile, pyplot):
    ax = profile.plot(x="batch_size", y="samples_per_s")
    assert not isinstance(ax, np.ndarray)
    assert [line.get_label() for line in ax.lines] == ["samples_per_s"]
    _, single = pyplot.subplots()
    assert profile.plot(ax=single) is single  # one Axes: pandas' plot of every column
    assert profile.plot.scatter(x="batch_size", y="step_time_s") is not None


def test_plot_into_given_axes(profile, pyplot):
    _, given = pyplot.subplots(2, 1)
    axes = profile.plot(ax=given)
    assert list(axes) == list(given)
    with pytest.raises(ValueError, match="two matplotlib Axes"):
        plot_batch_profile(profile, ax=[given[0], given[1], given[0]])


def test_plot_batch_profile_reads_a_plain_dataframe(pyplot):
    frame = pd.DataFrame({"batch_size": [8, 16, 8, 16], "seq_len": [None, None, 10, 10],
                          "samples_per_s": [900.0, 1500.0, 2000.0, 3500.0],
                          "peak_memory": [2**20, 2**21, 2**19, 2**20],
                          "fits": [True, True, True, True]})
    axes = plot_batch_profile(frame)
    assert [len(_seq_lines(ax)) for ax in axes] == [2, 2]
    assert _seq_lines(axes[0])[1].get_label() == "seq_len=10"


def test_a_budget_past_floats_is_drawn_above_the_panel(pyplot):
    # max_memory=10**400 is accepted; its MiB were an OverflowError
    frame = pd.DataFrame({"batch_size": [8, 16], "seq_len": [None, None],
                          "samples_per_s": [900.0, 1500.0], "peak_memory": [2**20, 2**21],
                          "fits": [True, True]})
    frame.attrs["max_memory"] = 10**400
    axes = plot_batch_profile(frame)
    assert axes[1].get_legend().get_texts()[-1].get_text() == (
        "budget (1.02e+295 MiB, above the panel)")


def test_plot_reads_a_table_with_nullable_integers(profile, pyplot):
    # convert_dtypes() (or a Parquet round trip) makes seq_len Int64, None becoming <NA>
    axes = plot_batch_profile(profile.convert_dtypes())
    assert [line.get_label() for line in _seq_lines(axes[0])] == ["seq_len=full",
                                                                  "seq_len=10"]



@pytest.mark.parametrize("measured", [[True, True, False], [False, False, False]],
                         ids=["largest-out-of-memory", "all-out-of-memory"])
def test_the_crosses_of_pairs_out_of_memory_are_on_the_panels(pyplot, measured):
    # the largest batch size's cross (no figures: out of memory) was off the panels,
    # whose x range came from the measured pairs alone; with none measured, the log
    # axis had no range and drawing the figure raised
    measured = np.array(measured)
    frame = pd.DataFrame({"batch_size": [8, 16, 32], "seq_len": [None] * 3,
                          "samples_per_s": np.where(measured, 100.0, np.nan),
                          "peak_memory": pd.array(np.where(measured, 2**20, None),
                                                  dtype="Int64"),
                          "fits": measured})
    axes = plot_batch_profile(frame)
    axes[0].figure.canvas.draw()
    for ax in axes:
        low, high = ax.get_xlim()
        assert low < 8 and high > 32


# -- the memory panel's budget: a label in the panel's unit, a line that keeps the peaks readable
def _budget_frame(budget):
    frame = pd.DataFrame({"batch_size": [4, 8], "seq_len": [None, None],
                          "samples_per_s": [900.0, 1500.0],
                          "peak_memory": [2**20, 3 * 2**20], "fits": [True, True]})
    frame.attrs["max_memory"] = budget
    return frame


def _budget_label(ax):
    return [line.get_label() for line in ax.lines if line not in _seq_lines(ax)]


def test_a_budget_far_above_the_peaks_leaves_them_the_panel(pyplot):
    # profile_batch_sizes(..., max_memory="2GiB") over peaks of 1-3 MiB: the budget's
    # line stretched the panel to 2048 MiB and drew the peaks flat on its floor
    memory = plot_batch_profile(_budget_frame(2 * 2**30))[1]
    assert memory.get_ylim()[1] < 10
    assert _budget_label(memory) == ["budget (2048 MiB, above the panel)"]


def test_a_budget_near_the_peaks_is_drawn_on_the_panel(pyplot):
    memory = plot_batch_profile(_budget_frame(5 * 2**20))[1]
    assert memory.get_ylim()[1] >= 5 and _budget_label(memory) == ["budget (5 MiB)"]


def test_a_budget_below_one_mib_is_not_labelled_zero(pyplot):
    # "500KB" was labelled "budget (0 MiB)"
    assert _budget_label(plot_batch_profile(_budget_frame(500_000))[1]) == ["budget (0.477 MiB)"]


def _press_ctrl_c_at(monkeypatch, reading):
    """Make the step timer's ``reading``-th clock reading (from 0; two per step, the
    unrecorded fit's steps first) come with a real Ctrl-C (SIGINT)."""
    import signal

    import sklstm.profiling._timer as timer

    readings = []

    def clock():
        readings.append(None)
        if len(readings) == reading + 1:
            signal.raise_signal(signal.SIGINT)  # its handler runs before this returns
        return float(len(readings))

    monkeypatch.setattr(timer, "_now", clock)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is raised by POSIX signals")
def test_an_interrupted_profile_keeps_the_pairs_it_measured(data, monkeypatch):
    X, y = data
    # the unrecorded fit's two steps (two samples: a classifier's two classes), the
    # first pair's step, then the second pair's
    _press_ctrl_c_at(monkeypatch, 6)
    with pytest.warns(UserWarning, match="interrupted after measuring 1 of 3 pairs"):
        out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8, 16],
                                  n_steps=1, warmup_steps=0)
    assert list(out["batch_size"]) == [4] and out["samples_per_s"].gt(0).all()
    assert out.attrs["interrupted"] is True
    # nothing measured yet (a press in the unrecorded first fit): nothing to return
    _press_ctrl_c_at(monkeypatch, 0)
    with pytest.raises(KeyboardInterrupt):
        profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4], n_steps=1)


def test_a_complete_profile_is_not_interrupted(profile):
    assert profile.attrs["interrupted"] is False
