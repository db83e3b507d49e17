"""Whether the levels alone tell the targets: the check behind ``split_level="auto"``."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMClassifier
from sklstm.data import level as level_module
from sklstm.data.level import level_tells_the_target, resolve_split_level
from sklstm.data.store import SequenceStore
from sklstm.data.streaming import StreamedRows
from sklstm.data.timesteps import Sequences, to_sequences

from .store_reads import count_reads

rng = np.random.default_rng(0)
N = 90
Y = np.arange(N) % 3
#: one mean per sequence and feature: the class, or an offset of the sequence's own
TELLING = np.c_[Y + rng.normal(0, 0.2, N), rng.normal(size=N)]
SILENT = rng.normal(size=(N, 2))


@pytest.mark.parametrize("levels, expected", [(TELLING, True), (SILENT, False)])
def test_classes_and_targets_that_the_levels_tell(levels, expected):
    assert level_tells_the_target(levels, Y, classification=True) is expected
    target = Y + rng.normal(0, 0.1, N)  # a regression target in the same place
    assert level_tells_the_target(levels, target, classification=False) is expected


def test_halfway_from_the_majority_share_to_perfect_is_the_bar():
    # four classes (majority share 1/4, bar 5/8): a level that tells class 0 from the
    # rest scores about 1/4 + 3/4 * 1/3 = 1/2; two that tell classes 0 and 1, about 3/4
    y = np.arange(N) % 4
    first = (y == 0) + rng.normal(0, 0.05, N)
    assert not level_tells_the_target(first[:, None], y, True)
    assert level_tells_the_target(np.c_[first, (y == 1) + rng.normal(0, 0.05, N)], y, True)


def test_too_few_samples_to_cross_validate_split():
    assert not level_tells_the_target(TELLING[:3], np.array([0, 0, 1]), True)
    assert not level_tells_the_target(TELLING[:4], Y[:4].astype(float), False)


@pytest.mark.parametrize("n", [5, 9])
def test_a_small_regression_is_not_scored_on_one_sample_folds(n):
    # 5-fold R^2 on 5-9 samples had folds of one sample: sklearn warned "R^2 score is
    # not well-defined" three times per fit, and the NaN mean counted as False by chance
    levels = np.arange(n, dtype=float)[:, None]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not level_tells_the_target(levels, 2 * levels[:, 0], False)
    assert level_tells_the_target(np.arange(10.0)[:, None], 2 * np.arange(10.0), False)


def test_many_sequences_are_checked_on_an_even_sample(monkeypatch):
    monkeypatch.setattr(level_module, "MAX_CHECKED", 30)
    fitted = []
    original = level_module.cross_val_score

    def recording(model, X, y, **kwargs):
        fitted.append(len(X))
        return original(model, X, y, **kwargs)

    monkeypatch.setattr(level_module, "cross_val_score", recording)
    assert level_tells_the_target(TELLING, Y, True) and fitted == [30]


def test_a_store_is_checked_in_one_pass_like_the_array(tmp_path):
    ragged = [rng.normal(size=(int(k), 2)) + 3 * label
              for k, label in zip(rng.integers(3, 20, N), Y, strict=True)]
    padded = np.zeros((N, 19, 2), np.float32)
    lengths = np.array([len(s) for s in ragged])
    for row, s in zip(padded, ragged, strict=True):
        row[:len(s)] = s
    in_memory = Sequences(padded, lengths, 2, "list")
    streamed = to_sequences(SequenceStore.write(tmp_path / "s", ragged), LSTMClassifier(),
                            reset=True)
    assert isinstance(streamed.values, StreamedRows)
    assert resolve_split_level("auto", in_memory, Y, True) is False  # the class is the level
    assert resolve_split_level("auto", streamed, Y, True) is False
    shuffled = rng.permutation(Y)
    assert resolve_split_level("auto", streamed, shuffled, True) is True


def test_a_store_is_read_for_the_checked_sample_only(monkeypatch, tmp_path):
    # the levels of every sequence were computed before the sample was drawn: a pass
    # over the whole store (millions of sequences from disk) for MAX_CHECKED of them
    ragged = [rng.normal(size=(int(k), 2)) + 3 * label
              for k, label in zip(rng.integers(3, 20, N), Y, strict=True)]
    streamed = to_sequences(SequenceStore.write(tmp_path / "s", ragged), LSTMClassifier(),
                            reset=True)
    in_memory = to_sequences(ragged, LSTMClassifier(), reset=True)
    monkeypatch.setattr(level_module, "MAX_CHECKED", 30)
    read = []
    original = SequenceStore.read_steps

    def recording(store, positions, *args, **kwargs):
        read.append(len(positions))
        return original(store, positions, *args, **kwargs)

    monkeypatch.setattr(SequenceStore, "read_steps", recording)
    for y, expected in ((Y, False), (rng.permutation(Y), True)):
        read.clear()
        assert resolve_split_level("auto", streamed, y, True) is expected
        assert sum(read) == 30
        assert resolve_split_level("auto", in_memory, y, True) is expected


def _levelled(kind, y):
    """Sequences of ``kind`` whose levels are 3 * ``y`` plus noise."""
    rng = np.random.default_rng(1)
    if kind == "3d":
        return rng.normal(size=(len(y), 12, 2)) + 3 * y[:, None, None]
    if kind == "2d float32":
        return (rng.normal(size=(len(y), 12)) + 3 * y[:, None]).astype(np.float32)
    integers = kind == "ragged ints"
    return [rng.integers(-2, 3, size=(n, 1)) + 3 * label if integers
            else rng.normal(size=(n, 2)) + 3 * label
            for n, label in zip(rng.integers(6, 20, len(y)), y, strict=True)]


@pytest.mark.parametrize("kind", ["3d", "2d float32", "ragged", "ragged ints"])
@pytest.mark.parametrize("settings", [{}, {"seq_len": 5}, {"seq_len": 5, "keep": "first"},
                                      {"downsample": 3}])
def test_a_store_fit_finds_the_levels_in_its_scan_as_in_memory(kind, settings, monkeypatch,
                                                                 tmp_path):
    # the levels were read after the fit's scan, a second read of up to MAX_CHECKED
    # sequences of the store
    monkeypatch.setattr(level_module, "MAX_CHECKED", 40)  # a sample of the 60
    data = _levelled(kind, Y[:60])
    if isinstance(data, list):
        store = SequenceStore.write(tmp_path / "s", data)
    else:  # a memory-mapped array streams as a store does
        np.save(tmp_path / "X.npy", data)
        store = np.load(tmp_path / "X.npy", mmap_mode="r")
    memory = to_sequences(data, LSTMClassifier(), reset=True, **settings)
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 200)  # several chunks
    read = count_reads(monkeypatch)
    streamed = to_sequences(store, LSTMClassifier(), reset=True, **settings)
    labels = (Y[:60], np.random.default_rng(2).permutation(Y[:60]))
    assert [resolve_split_level("auto", streamed, y, True) for y in labels] == [False, True]
    assert sorted(read) == list(range(60))  # the scan's one read of every sequence
    assert [resolve_split_level("auto", memory, y, True) for y in labels] == [False, True]
    rows = level_module.checked_rows(60)
    np.testing.assert_allclose(streamed.means(rows), memory.means(rows), rtol=1e-12)
    # what is made of the rows (a subset, relative rows) has levels of its own
    np.testing.assert_allclose(streamed.subset(rows[:5]).means(),
                               memory.subset(rows[:5]).means(), rtol=1e-12)
