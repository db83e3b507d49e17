"""downsample: every k timesteps averaged into one, before seq_len cuts."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data import SequenceStore, relative, timesteps
from sklstm.data import steps as time_axis  # (tests name step counts steps)
from sklstm.data.relative import anchors_of
from sklstm.data.streaming import iter_row_chunks
from sklstm.data.timesteps import Sequences, downsample_steps, pad_sequences, to_sequences

from ..settings import NEIGHBOUR_RTOL, traced_peak

rng = np.random.default_rng(0)
X = rng.normal(size=(40, 11, 2)).astype(np.float32)
Y = X[:, -4:, 0].sum(axis=1)
COMMON = dict(hidden_size=4, max_epochs=2, tol=None, random_state=0, n_threads=1)


def test_windows_average_and_the_last_one_takes_what_is_left():
    seq = np.arange(7.0).reshape(-1, 1)
    assert_allclose(downsample_steps(seq, 3)[:, 0], [1.0, 4.0, 6.0])
    assert downsample_steps(seq, 1) is seq
    assert downsample_steps(seq, 10).shape == (1, 1)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_windows_of_large_values_average_without_overflow(dtype):
    # the sum of a window was taken in the data's dtype: 4 x 2e38 is inf in float32, so
    # a fit said "X has a value beyond float32's range" of data that has none
    top = np.finfo(dtype).max / 2
    seq = np.full((8, 1), top, dtype)
    with np.errstate(over="raise"):
        means = downsample_steps(seq, 4)
    assert means.dtype == dtype and np.isfinite(means).all()
    assert_allclose(means.astype(np.float64), top, rtol=1e-3)
    assert downsample_steps(np.array([1, 2, 3]), 2).dtype == np.float64  # ints: float64


@pytest.mark.parametrize(("value", "message"), [
    (np.nan, r"X has NaN in sequence 3 \(sklearn.set_config\(assume_finite=True\) skipped"),
    (np.inf, r"beyond float32's range \(\+-3.4e38\) or is infinite in sequence 3"),
])
def test_input_unchecked_under_assume_finite_is_named_rightly(value, message):
    # a NaN was reported as "a value beyond float32's range" when sklearn's check was off
    from sklearn import config_context

    X_bad = X.copy()
    X_bad[3, 1, 0] = value
    with config_context(assume_finite=True), pytest.raises(ValueError, match=message):
        LSTMRegressor(**COMMON).fit(X_bad, Y)


def test_feature_rms_reads_the_valid_steps_only():
    values = np.array([[[3.0, 0.0], [4.0, 0.0]], [[1.0, 0.0], [9.0, 0.0]]], np.float32)
    # the second sequence is one step long: its padding (9.0 here) is not read
    ragged = Sequences(values, np.array([2, 1]), 2, "list")
    assert_allclose(ragged.feature_rms(), [np.sqrt((9 + 16 + 1) / 3), 1.0])  # zero: 1
    assert_allclose(Sequences(values, None, 2, "3d").feature_rms()[0],
                    np.sqrt((9 + 16 + 1 + 81) / 4))


def test_passes_over_a_store_compute_over_no_padding_to_its_longest_sequence(monkeypatch,
                                                                             tmp_path):
    # each chunk was padded to the longest sequence of all: one of 100,000 steps among
    # 20,000 of 50 made feature_rms and the relative anchors a minute over 15 GiB of
    # padding. Here 1 of 400 steps among 200 of 2: 80,000 steps read, not 800.
    data = [rng.normal(size=(2, 2)) for _ in range(200)] + [rng.normal(size=(400, 2))]
    seqs = to_sequences(SequenceStore.write(tmp_path / "s", data), LSTMRegressor(downsample=1),
                        reset=True)
    in_memory = to_sequences(data, LSTMRegressor(downsample=1), reset=True)
    rms, means = in_memory.feature_rms(), anchors_of(in_memory, "mean")
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 800)
    read = []

    def counting(values, *args, **kwargs):
        for start, rows in iter_row_chunks(values, *args, **kwargs):
            read.append(rows.shape[0] * rows.shape[1])
            yield start, rows

    for module in (timesteps, relative):
        monkeypatch.setattr(module, "iter_row_chunks", counting)
    # (a subset's own pass over its rows: the whole store's come from its scan)
    assert_allclose(seqs.subset(np.arange(len(seqs))).feature_rms(), rms)
    assert 0 < sum(read) <= 2 * (200 * 2 + 400)
    read.clear()
    assert_allclose(anchors_of(seqs, "mean"), means)
    assert sum(read) <= 2 * (200 * 2 + 400)


def test_downsample_equals_training_on_averaged_input():
    resampled = np.stack([downsample_steps(x, 3) for x in X])  # 11 steps -> 4
    a = LSTMRegressor(**COMMON, downsample=3).fit(X, Y)
    b = LSTMRegressor(**COMMON).fit(resampled, Y)
    assert_allclose(a.predict(X), b.predict(resampled), rtol=1e-5)


def test_it_comes_before_seq_len():
    resampled_then_cut = np.stack([downsample_steps(x, 2)[-3:] for x in X])
    a = LSTMRegressor(**COMMON, downsample=2, seq_len=3).fit(X, Y)
    b = LSTMRegressor(**COMMON).fit(resampled_then_cut, Y)
    assert_allclose(a.predict(X), b.predict(resampled_then_cut), rtol=1e-5)


class _Widths(Callback):
    def initialize(self):
        self.widths = set()
        return self

    def on_batch_begin(self, net, batch=None, **kwargs):
        x = batch[0]["x"] if isinstance(batch[0], dict) else batch[0]
        self.widths.add(x.shape[1])


def test_ragged_sequences_become_ceil_of_their_length_and_padding_stays_harmless():
    ragged = [rng.normal(size=(n, 2)).astype(np.float32) for n in (5, 9, 12, 3) * 5]
    y = np.array([s[:, 0].mean() for s in ragged])
    est = LSTMRegressor(**COMMON, downsample=4, callbacks=[("widths", _Widths())])
    est.fit(ragged, y)
    # the longest sequence, 12 steps, becomes ceil(12 / 4) = 3: no batch is wider
    assert max(dict(est.net_.callbacks_)["widths"].widths) == 3
    alone = np.concatenate([est.predict([s]) for s in ragged[:4]])
    # (beside other sequences in a batch: cuDNN rounds with the batch's composition)
    assert_allclose(est.predict(ragged[:4]), alone, rtol=NEIGHBOUR_RTOL)
    together = [downsample_steps(s, 4) for s in ragged]
    assert [len(s) for s in together[:4]] == [2, 3, 3, 1]


def test_downsample_is_searchable_with_numpy_grids():
    search = GridSearchCV(LSTMClassifier(**COMMON), {"downsample": np.array([1, 3])}, cv=2)
    search.fit(X, (Y > 0).astype(int))
    assert [p["downsample"] for p in search.cv_results_["params"]] == [1, 3]


@pytest.mark.parametrize(("params", "error", "message"), [
    ({"downsample": 0}, ValueError, r"'downsample' .* an int in the range \[1, inf\)"),
    ({"downsample": 1.5}, TypeError, r"'downsample' .* must be an int"),
    ({"downsample": 2, "embedding_dim": 4}, ValueError,
     "downsample=2 averages timesteps, which token ids cannot be"),
])
def test_bad_downsample_is_refused_before_training(params, error, message):
    est = LSTMClassifier(**COMMON, **params)
    tokens = [np.array([1, 2, 3]), np.array([4, 5])] * 4
    with pytest.raises(error, match=message):
        est.fit(tokens if "embedding_dim" in params else X, np.arange(8) % 2
                if "embedding_dim" in params else (Y > 0).astype(int))
    assert not hasattr(est, "net_")


def _with_an_outlier(n_outlier):
    """30 sequences of 40..60 steps and, last, one of ``n_outlier`` steps."""
    draw = np.random.default_rng(1)
    lengths = [*draw.integers(40, 61, 30), n_outlier]
    X_ragged = [draw.normal(size=(n, 2)).astype(np.float32) for n in lengths]
    return X_ragged, np.array([x[-1, 0] for x in X_ragged])


@pytest.mark.parametrize("stored", [False, True], ids=["in memory", "store"])
def test_auto_downsample_set_by_one_outlier_says_so(stored, tmp_path):
    # one recording of 3000 steps made "auto" average every 30 steps, which left the
    # others (40..60 steps) two steps each, without a word
    import warnings

    from sklstm.data import SequenceStore

    X_ragged, y = _with_an_outlier(3000)
    data = SequenceStore.write(tmp_path / "s", X_ragged) if stored else X_ragged
    with pytest.warns(UserWarning, match=r"downsample='auto' averages every 30 timesteps "
                                         r"into one, to bring the longest training sequence "
                                         r"\(sequence 30, 3000 steps\) down to at most 100; "
                                         r"that leaves the median sequence \(\d+ steps\) 2 "
                                         r"step\(s\). Set downsample yourself"):
        est = LSTMRegressor(**COMMON).fit(data, y)
    assert est.downsample_ == 30  # what the warning is about, unchanged
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(X_ragged)  # the fit's factor: said once, at fit
        LSTMRegressor(**COMMON, downsample=1).fit(data, y)  # a factor of the user's
        LSTMRegressor(**COMMON).fit(*_with_an_outlier(400))  # at most 10x the median


def test_the_float32_range_check_copies_no_float64_data():
    # np.abs of the whole float64 data set was a copy as large as X (8 MB here), and
    # the mask of non-finite values another eighth of it
    values = np.random.default_rng(0).normal(size=(1000, 1000))
    checked, peak = traced_peak(timesteps._finite_float32, values)
    assert checked is values
    assert peak < values.nbytes / 100
    values[3, 5] = 1e39  # and what is out of range is still refused, by sequence
    with pytest.raises(ValueError, match=r"beyond float32's range .* in sequence 3"):
        timesteps._finite_float32(values)


def test_averaging_a_3d_array_copies_no_float64_data(monkeypatch):
    # np.add.reduceat(dtype=float64) cast the whole float32 X to float64 first: averaged
    # by 2 (downsample="auto" of every X longer than 100 steps), a fit took three times
    # X's size beside it; a chunk of rows at a time, the output (half of X) and a chunk
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 2**16)
    values = np.random.default_rng(0).normal(size=(400, 100, 4)).astype(np.float32)
    seqs, peak = traced_peak(to_sequences, values, LSTMRegressor(), reset=True,
                             downsample=2)
    assert peak < 0.75 * values.nbytes
    expected = np.stack([downsample_steps(x, 2) for x in values])  # (one by one)
    assert seqs.values.dtype == np.float32
    np.testing.assert_array_equal(seqs.values, expected)
    assert downsample_steps(values.astype(np.int16), 2, axis=1).dtype == np.float64


def test_ragged_float64_steps_padded_per_batch_are_not_copied_in_float64(monkeypatch):
    # the flat steps were concatenated in float64, then cast to float32: a float64 copy
    # of all the steps beside the float32 one the network reads
    monkeypatch.setattr(timesteps, "PAD_INFLATION", 0)
    monkeypatch.setattr(timesteps, "PAD_BYTES_FLOOR", 0)
    X = [np.random.default_rng(i).normal(size=(50 + 10 * i, 4)) for i in range(200)]
    steps = sum(x.size for x in X)
    seqs, peak = traced_peak(to_sequences, X, LSTMRegressor(), reset=True, downsample=1)
    assert seqs.values.store._values.dtype == np.float32
    assert peak < 6 * steps  # float32 (4 bytes a value) and little more
    np.testing.assert_array_equal(seqs.values.store._values,
                                  np.concatenate(X).astype(np.float32))


def test_ragged_sequences_are_averaged_together_as_each_alone(monkeypatch):
    # downsample_steps of each sequence apart took 0.4-0.5 s of a fit's 1.0 s setup on
    # 20,000 sequences (benchmarks/results/setup_ragged.md): one reduction of them all
    calls = []
    window_means = time_axis._window_means
    monkeypatch.setattr(time_axis, "_window_means",
                        lambda *args: calls.append(args) or window_means(*args))
    draw = np.random.default_rng(3)
    X_ragged = [draw.normal(size=(n, 2)).astype(np.float32)
                for n in [250, 1, 2, 3, *draw.integers(1, 250, 200)]]
    seqs = to_sequences(X_ragged, LSTMRegressor(), reset=True, downsample="auto")
    assert seqs.downsample == 3 and len(calls) == 1
    expected = pad_sequences([downsample_steps(x, 3) for x in X_ragged], dtype=np.float32)
    np.testing.assert_array_equal(seqs.values, expected)
    assert seqs.lengths.tolist() == [-(-len(x) // 3) for x in X_ragged]
