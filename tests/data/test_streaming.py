"""Streamed rows: the rows of a store, made per batch, equal the in-memory padded rows."""

import numpy as np
import pytest

from sklstm import LSTMClassifier
from sklstm.data.steps import pad_sequences
from sklstm.data.store import SequenceStore
from sklstm.data.store_scan import kept_steps
from sklstm.data.streaming import StreamedRows, iter_row_chunks, scan_store, take_rows
from sklstm.data.timesteps import to_sequences
from sklstm.preprocessing import SequenceScaler

from ..settings import traced_peak
from .reductions import count_reductions
from .store_reads import count_reads

CASES = {
    "3d": lambda rng: rng.normal(size=(9, 20, 2)),
    "2d float32": lambda rng: rng.normal(size=(9, 20)).astype(np.float32),
    "ragged": lambda rng: [rng.normal(size=(n, 3)) for n in rng.integers(1, 30, size=9)],
    "ragged ints": lambda rng: [rng.integers(-5, 5, size=(n, 1)) for n in (4, 9, 2)],
}


def _store(data, tmp_path):
    if isinstance(data, list):
        return SequenceStore.write(tmp_path / "s", data)
    np.save(tmp_path / "X.npy", data)
    return np.load(tmp_path / "X.npy", mmap_mode="r")  # a memory-mapped array streams too


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("settings", [{}, {"seq_len": 5}, {"seq_len": 5, "keep": "first"},
                                      {"downsample": 3}, {"downsample": "auto"}])
def test_streamed_rows_equal_the_padded_array(case, settings, tmp_path):
    data = CASES[case](np.random.default_rng(0))
    memory = to_sequences(data, LSTMClassifier(), reset=True, **settings)
    streamed = to_sequences(_store(data, tmp_path), LSTMClassifier(), reset=True, **settings)
    assert isinstance(streamed.values, StreamedRows)
    assert streamed.downsample == memory.downsample
    assert streamed.values.shape == memory.values.shape
    np.testing.assert_array_equal(streamed.lengths, memory.lengths)
    np.testing.assert_array_equal(streamed.values.rows(np.arange(len(memory))), memory.values)
    # a batch's rows, cut to a width, as the array's
    np.testing.assert_array_equal(take_rows(streamed.values, [2, 0], 4),
                                  take_rows(memory.values, [2, 0], 4))


@pytest.mark.parametrize("case", ["ragged", "ragged ints"])
@pytest.mark.parametrize("precise", [False, True])
def test_the_ragged_rows_of_a_batch_are_averaged_in_one_reduction(case, precise, monkeypatch,
                                                                  tmp_path):
    # one reduction per sequence, every batch of every epoch, took ~15% of an epoch
    data = CASES[case](np.random.default_rng(0))
    streamed = to_sequences(_store(data, tmp_path), LSTMClassifier(), reset=True,
                            downsample=3, precise=precise).values
    reductions = count_reductions(monkeypatch)
    rows = streamed.rows(np.arange(len(data)))
    assert len(reductions) == 1
    # as averaged one sequence at a time (not as the in-memory path, which averages many
    # at once too), in the dtype the in-memory path gives
    dtype = to_sequences(data, LSTMClassifier(), reset=True, precise=precise).values.dtype
    expected = pad_sequences([kept_steps(seq, 3, None, "last", dtype, 0) for seq in data],
                             streamed.width, dtype=dtype)
    assert rows.dtype == dtype
    np.testing.assert_array_equal(rows, expected)


@pytest.mark.parametrize("case", ["3d", "ragged"])
def test_a_pass_over_streamed_rows_reads_a_chunk_of_the_store_at_a_time(case, monkeypatch,
                                                                        tmp_path):
    # rows cut to 2 steps are small, the sequences read to make them are not: chunks
    # counted in rows made (400 bytes: 25 rows) read the whole store at once (relative
    # anchors and split_level="auto" of a long memory-mapped array, read whole)
    data = CASES[case](np.random.default_rng(0))
    streamed = to_sequences(_store(data, tmp_path), LSTMClassifier(), reset=True,
                            seq_len=2, downsample=2).values
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 400)
    read, reads = SequenceStore.read, []
    monkeypatch.setattr(SequenceStore, "read", lambda self, positions: reads.append(
        self[positions]) or read(self, positions))
    chunks = list(iter_row_chunks(streamed))
    assert all(view.nbytes <= 400 or len(view) == 1 for view in reads)
    sizes = [len(rows) for _, rows in chunks]
    assert [start for start, _ in chunks] == np.cumsum([0, *sizes[:-1]]).tolist()
    np.testing.assert_array_equal(np.concatenate([rows for _, rows in chunks]),
                                  streamed.rows(np.arange(len(streamed))))


@pytest.mark.parametrize("tokens", [False, True])
def test_trimmed_chunks_are_as_wide_as_their_own_longest_row(tokens, monkeypatch, tmp_path):
    # padded to the longest row of all, one sequence of 100,000 steps among 20,000 of 50
    # made feature_rms (split_level, ar_window) and the relative anchors compute over
    # 15 GiB of padding for 8 MB of steps: a minute, where trimmed rows take a second
    rng = np.random.default_rng(0)
    lengths = [3] * 12 + [40] + [2] * 12
    data = ([rng.integers(1, 9, size=n) for n in lengths] if tokens
            else [rng.normal(size=(n, 2)) for n in lengths])
    est = LSTMClassifier(embedding_dim=2) if tokens else LSTMClassifier(downsample=1)
    rows = to_sequences(SequenceStore.write(tmp_path / "s", data), est, reset=True,
                        tokens=tokens).values
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 160)
    chunks = list(iter_row_chunks(rows, trim=True))
    full = rows.rows(np.arange(len(rows)))
    for (start, chunk), end in zip(chunks, [s for s, _ in chunks[1:]] + [len(rows)],
                                   strict=True):
        assert chunk.shape[1] == rows.lengths[start:end].max()
        np.testing.assert_array_equal(chunk, full[start:end, :chunk.shape[1]])
    # rows are counted at their chunk's width too: 160 bytes hold one row of 40 steps,
    # several of 3; untrimmed, every row is as wide as the array in memory
    assert max(len(chunk) for _, chunk in chunks) > 1
    assert all(chunk.shape == (1, *full.shape[1:]) for _, chunk in iter_row_chunks(rows))


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_a_pass_over_narrow_ids_holds_a_chunk_whatever_their_width(dtype, monkeypatch,
                                                                   tmp_path):
    # the pass computes in int64: chunks cut by the bytes stored held 8 times as many
    # uint8 ids as int64 ones (a scan of a 29 MiB store of uint8 ids peaked at 200 MiB,
    # for chunks of 8 MiB)
    chunk = 2**16
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", chunk)
    ids = np.random.default_rng(0).integers(1, 100, size=(64, 4096)).astype(dtype)
    store = SequenceStore.write(tmp_path / "s", ids)
    _, peak = traced_peak(scan_store, store, tokens=True, padding_idx=0)
    assert peak < 8 * chunk


@pytest.fixture(params=[None, 24], ids=["one chunk", "chunks of 24 bytes"])
def chunk_bytes(request, monkeypatch):
    """The store's chunk size: one chunk, or a few sequences a chunk (a pass over the
    store then meets chunk boundaries, where a row's position must carry over)."""
    if request.param:
        monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", request.param)
    return request.param


@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("seq_len, keep", [(None, "last"), (3, "last"), (3, "first")])
def test_token_rows_equal_the_padded_ids(padded, seq_len, keep, chunk_bytes, tmp_path):
    rng = np.random.default_rng(1)
    if padded:  # one length: a padded array, whose padding ids are removed
        ids = rng.integers(0, 6, size=(8, 7)).astype(np.int32)
        ids[:, 0] = 1  # no row is padding only
        ids[3, 1:] = 0  # a row of one token
    else:  # padding ids inside ragged rows are removed too
        ids = [np.r_[i + 1, rng.integers(0, 9, size=n)].astype(np.int32)
               for i, n in enumerate((4, 1, 7, 0, 5, 2))]
    kw = dict(reset=True, tokens=True, padding_idx=0, seq_len=seq_len, keep=keep)
    memory = to_sequences(list(ids), LSTMClassifier(), **kw)
    streamed = to_sequences(SequenceStore.write(tmp_path / "t", ids), LSTMClassifier(), **kw)
    np.testing.assert_array_equal(streamed.values.rows(np.arange(len(ids))), memory.values)
    np.testing.assert_array_equal(streamed.lengths, memory.lengths)
    assert streamed.values.max() == memory.values.max()
    assert streamed.form == "tokens"


@pytest.mark.parametrize("bad, match", [
    ([np.array([[1.0], [np.nan]])], r"NaN at sequence 0, timestep \d, feature 0: fill"),
    ([np.ones((2, 1)), np.array([[1e39]])], "beyond float32's range.* sequence 1"),
    # float16: its infinity compared with float32's largest value (cast to float16: inf)
    ([np.ones((2, 1), np.float16), np.array([[1], [-np.inf]], np.float16)], "sequence 1"),
    ([np.ones((k, 2)) for k in (3, 1, 4, 2, 5, 1, 2)] + [np.array([[0, 1], [np.inf, 0]])]
     + [np.ones((2, 2))] * 3, "sequence 7"),
])
@pytest.mark.parametrize("dense", [False, True], ids=["ragged", "dense"])
def test_values_are_checked_in_one_pass_naming_the_sequence(bad, match, dense, chunk_bytes,
                                                             tmp_path):
    # dense: the sequences cut to one length, each keeping its bad value
    store = (SequenceStore.from_array(np.stack([seq[-1:] for seq in bad])) if dense
             else SequenceStore.write(tmp_path / "b", bad))
    with pytest.raises(ValueError, match=match):
        to_sequences(store, LSTMClassifier(), reset=True)


@pytest.mark.parametrize("form", [np.asarray, list], ids=["memory-mapped", "ragged store"])
@pytest.mark.parametrize("bad, match", [
    (np.nan, r"NaN at sequence 3, timestep 2, feature 1: fill missing values along time"),
    (np.inf, r"infinity at sequence 3, timestep 2, feature 1; replace infinite values"),
])
def test_a_value_that_is_not_finite_is_placed_and_told_its_fix_as_in_memory(
        form, bad, match, tmp_path):
    # a memory-mapped .npy said "NaN, infinity or a value beyond float32's range in
    # sequence 3; clean or rescale it (SequenceScaler)", which scales no NaN away, where
    # the same array in memory says where it is and how to fill it
    X = np.random.default_rng(0).normal(size=(6, 5, 2))
    X[3, 2, 1] = bad
    with pytest.raises(ValueError, match=match.replace("sequence", "sample")):
        to_sequences(X, LSTMClassifier(), reset=True)
    with pytest.raises(ValueError, match=match):
        to_sequences(_store(form(X), tmp_path), LSTMClassifier(), reset=True)


def test_the_scaler_takes_values_beyond_float32_from_a_store_as_from_memory(tmp_path):
    # it scales them into float32's range; the pass over the store refused them, with
    # the advice to rescale them with SequenceScaler
    X = [np.ones((3, 1)), np.array([[1e39], [2e39]])]
    store = SequenceStore.write(tmp_path / "s", X)
    scaled = SequenceScaler().fit_transform(X)
    for got, expected in zip(SequenceScaler().fit(store).transform(store), scaled,
                             strict=True):
        np.testing.assert_allclose(got, expected)
    with pytest.raises(ValueError, match=r"beyond float32's range.*in sequence 1"):
        to_sequences(store, LSTMClassifier(), reset=True)  # what the network would read


@pytest.mark.parametrize("ids, kw, error, match", [
    ([np.array([1.5, 2.0])], {}, TypeError, "must be integers"),
    ([np.array([1, -2])], {}, ValueError, "negative token id -2"),
    # (an int64 row would wrap it to a negative id: the vocabulary check found none)
    ([np.array([3, 2**63 + 1], np.uint64)], {}, ValueError,
     "Sequence 0 .* id 9223372036854775809, beyond int64"),
    # (a store's wording and an array's)
    ([np.array([[1, 2]])], {}, ValueError, "one id per timestep|must be 1D lists of"),
    ([np.array([0, 0]), np.array([3, 0])], {"padding_idx": 0}, ValueError,
     "only padding id 0"),
])
@pytest.mark.parametrize("stored", [True, False], ids=["store", "in memory"])
def test_token_stores_are_checked_like_token_arrays(ids, kw, error, match, stored,
                                                    chunk_bytes, tmp_path):
    X = SequenceStore.write(tmp_path / "b", ids) if stored else ids
    with pytest.raises(error, match=match):
        to_sequences(X, LSTMClassifier(), reset=True, tokens=True, **kw)


@pytest.mark.parametrize("bad, match", [(np.array([4, -3, 2]), "Sequence 7 .* id -3"),
                                        (np.array([0, 0, 0]), r"Sequence 7 .* \(only padding")])
def test_a_bad_token_row_in_a_later_chunk_is_named(bad, match, chunk_bytes, tmp_path):
    ids = [np.array([1, 2, 3])] * 7 + [bad] + [np.array([5, 6, 7])] * 4
    store = SequenceStore.write(tmp_path / "b", np.stack(ids).astype(np.int32))
    with pytest.raises(ValueError, match=match):
        to_sequences(store, LSTMClassifier(), reset=True, tokens=True, padding_idx=0)


def test_a_store_is_refused_where_it_would_be_read_whole(tmp_path):
    from sklstm.preprocessing import SequencePadder

    store = SequenceStore.write(tmp_path / "s", [np.ones((2, 1))])
    with pytest.raises(TypeError, match=r"reads X whole.*X.load\(\)"):
        SequencePadder().fit(store)



@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("settings", [{}, {"seq_len": 5}, {"seq_len": 5, "keep": "first"},
                                      {"downsample": 3}])
def test_the_scan_finds_the_rows_root_mean_squares_reading_each_sequence_once(
        case, settings, monkeypatch, tmp_path):
    # feature_rms (warn_unscaled, ar_window) was a second pass over the store after the
    # scan's, the rows made again a chunk at a time (a 200 MB store: 1.7 s, not 0.5)
    data = CASES[case](np.random.default_rng(0))
    memory = to_sequences(data, LSTMClassifier(), reset=True, **settings)
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 200)  # several chunks
    read = count_reads(monkeypatch)
    streamed = to_sequences(_store(data, tmp_path), LSTMClassifier(), reset=True, **settings)
    rms = streamed.feature_rms()
    assert sorted(read) == list(range(len(memory)))
    np.testing.assert_allclose(rms, memory.feature_rms(), rtol=1e-12)
    # what is made of the rows (a subset, relative rows) has root mean squares of its own
    np.testing.assert_allclose(streamed.subset([1, 2]).feature_rms(),
                               memory.subset([1, 2]).feature_rms(), rtol=1e-12)
