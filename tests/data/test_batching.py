"""Length bucketing: less padding, still shuffled, reproducible."""

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from torch.utils.data import Subset

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data.batching import BatchLoader, split_batch
from sklstm.data.tensors import SequenceDataset

N_SAMPLES = MAX_LEN = 600
BATCH = 16


@pytest.fixture(scope="module")
def dataset():
    """Sequences of all lengths 1..MAX_LEN, shuffled, whose only value is their
    index, so a batch tells which samples it holds. Distinct lengths mean an
    exact sort by length would give the same batches every epoch."""
    lengths = torch.from_numpy(np.random.default_rng(0).permutation(MAX_LEN) + 1)
    X = torch.arange(N_SAMPLES, dtype=torch.float32)[:, None, None].expand(-1, MAX_LEN, 1)
    return SequenceDataset(X.contiguous(), torch.zeros(N_SAMPLES), lengths)


def _epoch(loader):
    """One pass: the sample indices of every batch, and the padding share."""
    batches, computed, real = [], 0, 0
    for Xb, _ in loader:
        batches.append(Xb["x"][:, 0, 0].long().tolist())
        computed += Xb["x"].shape[0] * Xb["x"].shape[1]
        real += int(Xb["lengths"].sum())
    return batches, 1 - real / computed


def _loader(dataset, bucketing, seed=0):
    return BatchLoader(dataset, BATCH, shuffle=True, bucketing=bucketing, seed=seed)


def test_bucketing_cuts_padding_waste(dataset):
    _, waste_plain = _epoch(_loader(dataset, bucketing=False))
    _, waste_bucketed = _epoch(_loader(dataset, bucketing=True))
    # random batches of 16 out of 1..600 waste about half; bucketed ones a few %
    assert waste_plain > 0.35
    assert waste_bucketed < 0.1


def test_bucketed_batches_span_narrow_length_ranges(dataset):
    batches, _ = _epoch(_loader(dataset, bucketing=True))
    spreads = [np.ptp(dataset.lengths[b].numpy()) for b in batches]
    # one batch covers ~BATCH / N_SAMPLES of the range; jitter at most doubles it
    assert np.median(spreads) <= 3 * MAX_LEN * BATCH / N_SAMPLES


@pytest.mark.parametrize("bucketing", [False, True])
def test_every_epoch_sees_every_sample_once(dataset, bucketing):
    loader = _loader(dataset, bucketing)
    for _ in range(2):
        batches, _ = _epoch(loader)
        assert sorted(i for b in batches for i in b) == list(range(N_SAMPLES))
        # full batches only, but one (anywhere, when bucketed) holds the remainder
        sizes = [BATCH] * (N_SAMPLES // BATCH) + [N_SAMPLES % BATCH]
        assert sorted(map(len, batches)) == sorted(sizes)


def test_epochs_differ_in_batch_order_and_contents(dataset):
    loader = _loader(dataset, bucketing=True)
    first, _ = _epoch(loader)
    second, _ = _epoch(loader)
    assert first != second
    # not only reordered: the jittered sort regroups samples between epochs
    contents = {frozenset(b) for b in first}
    changed = sum(frozenset(b) not in contents for b in second)
    assert changed > len(second) // 2


@pytest.mark.parametrize("bucketing", [False, True])
def test_same_seed_same_batches(dataset, bucketing):
    # (a numpy seed too: torch's generator refused it, "an integer is required")
    loaders = [_loader(dataset, bucketing, seed) for seed in (7, np.int64(7), 8)]
    runs = [[_epoch(loader)[0] for _ in range(2)] for loader in loaders]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("bucketing", [False, True])
def test_a_resumed_loader_goes_on_with_the_order_of_the_next_epoch(dataset, bucketing):
    # a batch size schedule grew the batch after one epoch: the bucketed orders drawn
    # depend on it, so the epochs done are replayed with the sizes they had
    whole = _loader(dataset, bucketing)
    for size in (BATCH, 2 * BATCH, 2 * BATCH):
        whole.batch_size = size
        third = _epoch(whole)[0]
    resumed = BatchLoader(dataset, BATCH, shuffle=True, bucketing=bucketing, seed=0,
                          start_epoch=[BATCH, 2 * BATCH])
    resumed.batch_size = 2 * BATCH  # (what the schedule sets when the epoch begins)
    assert resumed.batch_size == 2 * BATCH and _epoch(resumed)[0] == third
    same = BatchLoader(dataset, BATCH, shuffle=True, bucketing=bucketing, seed=0,
                       start_epoch=2)  # an int: epochs of the loader's batch size
    whole = _loader(dataset, bucketing)
    assert [_epoch(whole)[0] for _ in range(3)][-1] == _epoch(same)[0]


def test_bucketing_stays_inside_a_subset(dataset):
    # skorch's ValidSplit hands the loader a Subset (early stopping)
    chosen = np.random.default_rng(1).choice(N_SAMPLES, 200, replace=False)
    batches, waste = _epoch(_loader(Subset(dataset, chosen.tolist()), bucketing=True))
    assert sorted(i for b in batches for i in b) == sorted(chosen.tolist())
    assert waste < 0.15


def test_sequential_loader_keeps_input_order(dataset):
    loader = BatchLoader(dataset, BATCH, shuffle=False, bucketing=True)
    batches, _ = _epoch(loader)
    assert [i for b in batches for i in b] == list(range(N_SAMPLES))


# -- through the estimators ---------------------------------------------------
@pytest.fixture
def ragged():
    rng = np.random.default_rng(3)
    X = [rng.normal(size=(n, 2)).astype(np.float32) for n in rng.integers(2, 30, 96)]
    y = np.array([x[-2:, 0].sum() for x in X], dtype=np.float32)
    return X, y


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_bucketed_fit_is_reproducible(ragged, tiny, Estimator):
    X, y = ragged
    y = y > 0 if Estimator is LSTMClassifier else y
    out = "predict_proba" if Estimator is LSTMClassifier else "predict"
    preds = [getattr(Estimator(**{**tiny, "random_state": seed}).fit(X, y), out)(X)
             for seed in (0, 0, 1)]
    assert_array_equal(preds[0], preds[1])
    assert not np.allclose(preds[0], preds[2])


@pytest.mark.parametrize(
    ("bucketing", "equal_lengths", "expected"),
    [("auto", False, True), ("auto", True, False), (False, False, False), (True, True, True)],
)
def test_bucketing_setting_reaches_the_loader(ragged, tiny, bucketing, equal_lengths, expected):
    X, y = ragged
    if equal_lengths:
        X = np.stack([np.resize(x, (8, 2)) for x in X])
    reg = LSTMRegressor(**{**tiny, "max_epochs": 1}, bucketing=bucketing).fit(X, y)
    assert reg.net_.get_params()["iterator_train__bucketing"] is expected


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("padded", [False, True], ids=["dense", "padded"])
def test_indices_of_data_on_the_gpu_are_on_the_gpu(padded):
    # (padded data too: their batches' lengths are read from the host's order first)
    X = torch.arange(80, dtype=torch.float32).reshape(20, 4, 1)
    lengths = torch.arange(20) % 4 + 1 if padded else None
    dataset = SequenceDataset(X.cuda(), torch.arange(20).cuda(), lengths=lengths,
                              device=torch.device("cuda"))
    loader = BatchLoader(dataset, batch_size=8, shuffle=True, seed=0)
    cpu = BatchLoader(SequenceDataset(X, torch.arange(20), lengths=lengths), batch_size=8,
                      shuffle=True, seed=0)
    torch.cuda.set_sync_debug_mode("error")  # no batch makes the host wait for the device
    try:
        batches = list(loader)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    for (xb, yb), (xc, yc) in zip(batches, cpu, strict=True):
        if padded:
            np.testing.assert_array_equal(xb["lengths"], xc["lengths"])
            xb, xc = xb["x"], xc["x"]
        assert xb.is_cuda and torch.equal(yb.cpu(), yc)  # the same order as on the CPU
        assert torch.equal(xb.cpu(), xc)


def test_every_pass_over_a_store_reads_on_the_one_reading_thread(tmp_path):
    import threading

    from sklstm.data.store import SequenceStore
    from sklstm.data.timesteps import to_sequences

    store = SequenceStore.write(tmp_path / "s", [np.ones((n, 1)) for n in range(1, 30)])
    seqs = to_sequences(store, LSTMRegressor(), reset=True)
    dataset = SequenceDataset.from_sequences(seqs, np.zeros(29, np.float32))
    seen = set()
    take = dataset.take

    def recording_take(idx):
        seen.add(threading.get_ident())
        return take(idx)

    dataset.take = recording_take
    for seed in range(3):  # three epochs, and a sequential pass
        list(BatchLoader(dataset, batch_size=4, shuffle=True, seed=seed))
    list(BatchLoader(dataset, batch_size=4))
    # one thread for them all: a thread per pass left a malloc arena per pass behind
    assert len(seen) == 1 and threading.get_ident() not in seen


def test_split_batch_cuts_every_value_of_a_dict_with_its_samples():
    batch = {"x": torch.arange(5 * 4).reshape(5, 4, 1), "lengths": np.array([4, 1, 2, 1, 3]),
             "offset": torch.arange(5)}
    parts = split_batch(batch, 2)
    assert [part["offset"].tolist() for part in parts] == [[0, 1], [2, 3], [4]]
    assert [part["lengths"].tolist() for part in parts] == [[4, 1], [2, 1], [3]]
    # padded micro-batches are cut to their own longest sequence
    assert [part["x"].shape[:2] for part in parts] == [(2, 4), (2, 2), (1, 3)]
    assert [len(part["x"]) for part in split_batch({"x": torch.zeros(5, 3)}, 4)] == [4, 1]


def test_numpy_integer_sizes_are_taken_as_the_ints_they_hold(dataset):
    # a numpy batch size (a grid of np.arange, skorch passing a net's batch_size on)
    # failed at the first shuffled epoch: "split_with_sizes(): ... must be tuple of ints"
    for bucketing in (False, True):
        expected = _epoch(BatchLoader(dataset, BATCH, shuffle=True, bucketing=bucketing,
                                      bucket_batches=3, seed=0, start_epoch=[BATCH, 8]))[0]
        got = _epoch(BatchLoader(dataset, np.int64(BATCH), shuffle=True, bucketing=bucketing,
                                 bucket_batches=np.int32(3), seed=np.int64(0),
                                 start_epoch=np.array([BATCH, 8])))[0]
        assert got == expected


@pytest.mark.parametrize("params, name", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": True}, "batch_size"), ({"bucket_batches": 0}, "bucket_batches"),
    ({"start_epoch": [BATCH, 0]}, "start_epoch")])
def test_sizes_that_are_no_positive_integers_are_refused_by_name(dataset, params, name):
    # 0 failed in range()'s words ("arg 3 must not be zero"), 2.5 in torch's
    with pytest.raises(ValueError, match=f"{name}.* must be a positive integer"):
        BatchLoader(dataset, **{"batch_size": BATCH, "shuffle": True, "bucketing": True,
                                "seed": 0, **params})


def test_split_batch_cuts_the_inputs_of_a_custom_module_without_an_x():
    # a custom module's forward inputs ({"inputs", "mask"}) failed with KeyError: 'x'
    parts = split_batch({"inputs": torch.arange(5), "mask": torch.ones(5, 2)}, 2)
    assert [part["inputs"].tolist() for part in parts] == [[0, 1], [2, 3], [4]]
    assert [part["mask"].shape[0] for part in parts] == [2, 2, 1]


def _taken(loader):
    """The index tensors and lengths ``loader``'s base dataset is asked to take in a pass."""
    taken = []
    loader._base.take = lambda idx, lengths=None: taken.append((idx, lengths))
    try:
        list(loader)
    finally:
        del loader._base.take
    return taken


@pytest.mark.parametrize("bucketing", [False, True], ids=["plain", "bucketed"])
def test_an_epochs_order_is_one_int32_array_of_the_int64_order(dataset, bucketing,
                                                              monkeypatch):
    # an epoch held int64 positions, per bucket and again joined for the lengths, and
    # the lengths of the whole epoch: ~16 bytes a sample all epoch, 26 at its start
    monkeypatch.setattr("sklstm.data.batching.GATHER_CHUNK", 7)  # (a Subset's, chunked)
    subset = Subset(dataset, np.arange(N_SAMPLES - 1, 0, -3))
    loader = BatchLoader(subset, BATCH, shuffle=True, bucketing=bucketing, seed=3)
    taken = _taken(loader)
    idx = [i for i, _ in taken]
    assert {i.dtype for i in idx} == {torch.int32}
    assert len({i.untyped_storage().data_ptr() for i in idx}) == 1  # views of one order
    for i, lengths in taken:  # each batch's lengths, taken with it
        assert_array_equal(lengths, dataset.host_lengths[i.numpy()])
    # the same order an int64 permutation of the same generator gives
    perm = torch.randperm(len(subset), generator=torch.Generator().manual_seed(3))
    order = torch.as_tensor(subset.indices)[perm]
    if bucketing:
        assert sorted(torch.cat(idx).tolist()) == sorted(order.tolist())
    else:
        assert torch.equal(torch.cat(idx).long(), order)
