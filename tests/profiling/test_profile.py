"""profile_batch_sizes measures real steps per (batch size, seq_len): the figures, the
budget, pairs out of memory, the samples drawn, and what it leaves unchanged."""

import gc
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
from sklstm.profiling import COLUMNS

from ..settings import requires_cuda
from . import FAST, linux_peak

pd = pytest.importorskip("pandas")


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


# the CPU's two (numpy's, torch's allocator's) ended the profile, and its measured pairs
@pytest.mark.parametrize("error", [
    MemoryBudgetError("too big"), torch.cuda.OutOfMemoryError("CUDA out of memory"),
    MemoryError("Unable to allocate 48.8 GiB for an array"),
    RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: can't allocate "
                 "memory: you tried to allocate 52428800000 bytes. Error code 12")])
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


def test_a_pair_too_large_to_copy_is_out_of_memory(data, monkeypatch):
    # a batch size too large for the machine runs out copying its samples, before the
    # fit: numpy's MemoryError there ended the profile and lost the pairs measured
    import sklstm.profiling._profile as profiling  # where the samples are copied

    take = profiling.safe_indexing

    def take_or_run_out(array, idx):
        if len(idx) >= 16:  # batch_size=16: 16 samples (no warm-up), 8: 8
            raise MemoryError("Unable to allocate 48.8 GiB for an array")
        return take(array, idx)

    monkeypatch.setattr(profiling, "safe_indexing", take_or_run_out)
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[8, 16],
                              n_steps=1, warmup_steps=0)
    assert out["fits"].tolist() == [True, False]
    assert out.loc[1, "error"] == "MemoryError: Unable to allocate 48.8 GiB for an array"
    assert out.loc[0, "samples_per_s"] > 0 and np.isnan(out.loc[1, "samples_per_s"])


def test_a_batch_past_numpy_s_indices_is_out_of_memory_too(data):
    # numpy refused the 2**63 indices with a ValueError, which ended the profile
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 2**62], n_steps=1)
    assert out["fits"].tolist() == [True, False] and out.loc[0, "samples_per_s"] > 0
    assert out.loc[1, "error"].startswith("MemoryError: the indices of 9223372036854775808")


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


@pytest.fixture
def timers(monkeypatch):
    """The step timers of the profiled fits (the first: the unrecorded one), which also
    record each training step's mean true length (ragged data)."""
    import torch

    import sklstm.profiling._profile as profiling

    made = []

    class Recording(profiling._StepTimer):
        def __init__(self):
            super().__init__()
            self.mean_lengths = []
            made.append(self)

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            if training:
                self.mean_lengths.append(float(torch.as_tensor(batch[0]["lengths"])
                                               .double().mean()))
            super().on_batch_begin(net, batch=batch, training=training, **kwargs)

    monkeypatch.setattr(profiling, "_StepTimer", Recording)
    return made


@pytest.fixture
def ragged():
    """40 sequences of 5 to 44 steps (6 padded widths), shuffled, and two classes."""
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in rng.permutation(np.arange(5, 45))]
    return X, np.arange(len(X)) % 2


def test_ragged_data_warms_up_on_the_longest_sequences(timers, ragged):
    X, y = ragged
    profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), X, y, batch_sizes=[3],
                        n_steps=2, warmup_steps=1)
    # the warm-up step: the three longest (44..42), which set the peak memory
    assert timers[-1].timesteps[0] == 44 and timers[-1].mean_lengths[0] == 43
    # more samples asked than there are: every sequence, then again from the longest
    profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), X, y, batch_sizes=[50],
                        n_steps=1, warmup_steps=1)
    assert timers[-1].timesteps[0] == 44 and timers[-1].mean_lengths[0] == np.mean(
        [*range(5, 45), *range(44, 34, -1)])


def test_ragged_data_warms_up_on_every_padded_width(timers, ragged):
    # a fit's memory grows with the shapes of step it runs, one per padded width of its
    # batches (oneDNN's cache, the heap's room): warmed up on the longest batch alone, a
    # profile read 17 MiB where a fit's epoch on the same data took 23 to 84 MiB
    X, y = ragged
    profile = profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), X, y,
                                  batch_sizes=[3], n_steps=2, warmup_steps=1)
    steps = timers[-1].timesteps
    assert len(steps) == 6 + 2  # the longest batch, one of each other width, the timed
    assert sorted(-(-np.array(steps[:6]) // 8)) == [1, 2, 3, 4, 5, 6]
    assert steps[0] == 44 and profile["timesteps"][0] == max(steps[6:])  # (not timed)


def test_a_ragged_store_warms_up_on_its_longest_sequences(tmp_path, monkeypatch, timers):
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
        from sklstm.data.containers import ragged_lengths

        assert sorted(ragged_lengths(store)) == list(range(5, 45))
    profile_batch_sizes(LSTMClassifier(downsample=1, **FAST), store, y, batch_sizes=[3],
                        n_steps=2, warmup_steps=1)
    # as for the same sequences in a list
    assert timers[-1].timesteps[0] == 44 and timers[-1].mean_lengths[0] == 43


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
def test_an_interrupted_profile_keeps_the_pairs_it_measured(data, monkeypatch,
                                                            default_ctrl_c):
    # (default_ctrl_c: a run started in the background, `pytest &`, ignores SIGINT, and
    # the profile leaves an ignored SIGINT alone: no press would be seen)
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


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is raised by POSIX signals")
def test_a_press_in_a_pair_s_epoch_end_stops_the_profile(data, monkeypatch, default_ctrl_c):
    # after every step ran, in a callback of the epoch's end: the fit kept its complete
    # epoch (interrupted_=True) and the profile went on with every other pair
    import signal

    import sklstm.profiling._timer as timer

    ends = []

    def on_epoch_end(self, net, **kwargs):
        ends.append(None)
        if len(ends) == 2:  # the first pair's (after the unrecorded fit's)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(timer._StepTimer, "on_epoch_end", on_epoch_end, raising=False)
    X, y = data
    with pytest.warns(UserWarning, match="interrupted after measuring 1 of 3 pairs"):
        out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4, 8, 16],
                                  n_steps=1)
    assert list(out["batch_size"]) == [4] and out["samples_per_s"].gt(0).all()
    assert out.attrs["interrupted"] is True and len(ends) == 2


def test_a_complete_profile_is_not_interrupted(profile):
    assert profile.attrs["interrupted"] is False


def test_by_default_the_estimator_s_own_seq_len_is_profiled(data):
    # seq_lens defaulted to (None,): LSTMClassifier(seq_len=10) was profiled at the full
    # 30 steps, not at the 10 it trains at
    X, y = data
    out = profile_batch_sizes(LSTMClassifier(seq_len=10, **FAST), X, y, batch_sizes=[4],
                              n_steps=1)
    assert list(out["seq_len"]) == [10] and list(out["timesteps"]) == [10]
    pipe = Pipeline([("scale", SequenceScaler()),
                     ("lstm", LSTMClassifier(seq_len=np.int64(7), **FAST))])
    out = profile_batch_sizes(pipe, X, y, batch_sizes=[4], n_steps=1)
    assert list(out["seq_len"]) == [7] and type(out["seq_len"][0]) is int
    assert list(out["timesteps"]) == [7]
    out = profile_batch_sizes(LSTMClassifier(**FAST), X, y, batch_sizes=[4], n_steps=1)
    assert list(out["seq_len"]) == [None] and list(out["timesteps"]) == [30]
    # an entry None still asks for the full length
    out = profile_batch_sizes(LSTMClassifier(seq_len=10, **FAST), X, y, batch_sizes=[4],
                              seq_lens=[None], n_steps=1)
    assert list(out["timesteps"]) == [30]


def test_the_estimator_s_bad_seq_len_is_named_as_the_estimator_s(data):
    X, y = data
    with pytest.raises(ValueError, match=r"'seq_len' parameter of LSTMClassifier"):
        profile_batch_sizes(LSTMClassifier(seq_len=0, **FAST), X, y, batch_sizes=[4],
                            n_steps=1)


def test_the_timed_steps_see_the_data_s_length_mix(timers):
    # ragged data: the timed steps took the longest sequences (for the memory), so
    # throughput was measured on a length mix longer than the data's, and a different
    # one at every batch size; now the warm-up runs the longest, the timed steps the mix
    rng = np.random.default_rng(0)
    lengths = rng.permutation(np.arange(5, 65))  # mean 34.5
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in lengths]
    y = np.arange(len(X)) % 2
    for bucketing in (True, False):
        timers.clear()
        out = profile_batch_sizes(
            LSTMClassifier(downsample=1, bucketing=bucketing, **FAST), X, y,
            batch_sizes=[2, 4, 8], n_steps=3, warmup_steps=1)
        for timer, batch_size in zip(timers[1:], out["batch_size"], strict=True):
            timed = np.mean(timer.mean_lengths[-3:])  # (the warm-up: every width)
            assert abs(timed - lengths.mean()) < 3, (bucketing, batch_size, timed)
            # the warm-up step ran the longest sequences: they set the peak memory
            assert timer.timesteps[0] == 64 and np.mean(timer.mean_lengths[0]) > 60
