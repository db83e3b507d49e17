"""SequenceDataset: batches taken by index, cut to a few distinct widths."""

import numpy as np
import pytest
import torch

from sklstm.data.tensors import LENGTH_MULTIPLE, SequenceDataset, padded_widths

MAX_LEN = 101  # not a multiple of LENGTH_MULTIPLE: the last width is the stored one


@pytest.fixture(scope="module")
def dataset():
    lengths = torch.from_numpy(np.random.default_rng(0).integers(1, MAX_LEN + 1, 300))
    steps = torch.arange(MAX_LEN)[None, :, None]
    X = torch.where(steps < lengths[:, None, None], 1.0, 0.0).expand(-1, -1, 2).contiguous()
    return SequenceDataset(X, torch.zeros(300), lengths)


def test_batches_are_cut_to_a_rounded_longest_length(dataset):
    widths = set()
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        idx = torch.randperm(len(dataset), generator=generator)[:8]
        Xb, _ = dataset.take(idx)
        width, longest = Xb["x"].shape[1], int(Xb["lengths"].max())
        assert longest <= width < longest + LENGTH_MULTIPLE
        assert width % LENGTH_MULTIPLE == 0 or width == MAX_LEN
        # nothing real is cut, and what is kept beyond the longest is padding
        assert Xb["x"].sum() == 2 * Xb["lengths"].sum()
        widths.add(width)
    assert len(widths) <= -(-MAX_LEN // LENGTH_MULTIPLE)


def test_sequential_slices_are_cut_the_same_way(dataset):
    Xb, _ = dataset.take(slice(0, 5))
    longest = int(dataset.lengths[:5].max())
    assert Xb["x"].shape[1] == min(MAX_LEN, -(-longest // LENGTH_MULTIPLE) * LENGTH_MULTIPLE)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_pinned_host_data_arrive_on_the_gpu_batch_by_batch():
    X, y = torch.randn(20, 5, 2), torch.arange(20)
    gpu = SequenceDataset(X.pin_memory(), y.pin_memory(), None, torch.device("cuda"))
    idx = torch.tensor([3, 0, 7])
    X_b, y_b = gpu.take(idx)
    assert X_b.device.type == "cuda" and y_b.device.type == "cuda"
    assert torch.equal(X_b.cpu(), X[idx]) and torch.equal(y_b.cpu(), y[idx])


@pytest.mark.parametrize("padded", [False, True], ids=["equal", "padded"])
def test_a_dataloader_collates_samples_into_batches(dataset, padded):
    # dataset[i] was a batch of one: a DataLoader's batches came out (B, 1, T, F)
    from torch.utils.data import DataLoader

    data = dataset if padded else SequenceDataset(dataset.X, None)
    Xb, yb = next(iter(DataLoader(data, batch_size=4)))
    x = Xb["x"] if padded else Xb
    assert torch.equal(x, dataset.X[:4]) and len(yb) == 4
    if padded:
        assert Xb["lengths"].tolist() == dataset.lengths[:4].tolist()


def test_numpy_arrays_and_int32_lengths_are_taken_as_tensors(dataset):
    # numpy X failed at the first batch ("no attribute 'is_pinned'"), numpy lengths
    # when read ("no attribute 'numpy'")
    data = SequenceDataset(dataset.X.numpy(), dataset.y.numpy(), dataset.lengths.numpy()
                           .astype(np.int32))
    idx = torch.tensor([5, 1])
    (Xb, yb), (expected, _) = data.take(idx), dataset.take(idx)
    assert torch.equal(Xb["x"], expected["x"]) and len(yb) == 2
    assert data.lengths.dtype == torch.int64


def _relative_rows(dtype, padded):
    """A RelativeArray of a large level (float32 rounding would show) and its rows."""
    from sklstm.data.relative import relative_sequences
    from sklstm.data.timesteps import Sequences

    gen = np.random.default_rng(1)
    values = (gen.normal(size=(30, 20, 3)) * 10 + 1e5).astype(dtype)
    lengths = gen.integers(1, 21, size=30) if padded else None
    if padded:
        values[np.arange(20)[None, :] >= lengths[:, None]] = 0.0
    seqs, _ = relative_sequences(Sequences(values, lengths, 3, "list"), "mean")
    return seqs, np.asarray(seqs.values)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("padded", [False, True], ids=["equal", "padded"])
def test_relative_rows_are_made_per_batch_as_the_whole_array_holds_them(dtype, padded):
    # relative rows were one float32 copy of X (2.1x a float32 X at predict's peak);
    # taken per batch they must be the same numbers, to the bit, and the padding 0
    seqs, whole = _relative_rows(dtype, padded)
    data = SequenceDataset.from_sequences(seqs, np.zeros(30, np.float32))
    assert data.anchors is not None and not data.streamed
    assert data.X.data_ptr() == torch.from_numpy(seqs.values.values).data_ptr()  # no copy
    for idx in (torch.tensor([7, 0, 29, 3]), slice(4, 13)):
        Xb, _ = data.take(idx)
        x = Xb["x"] if padded else Xb
        rows = whole[idx if isinstance(idx, slice) else idx.numpy()]
        assert x.dtype == torch.float32
        assert np.array_equal(x.numpy(), rows[:, :x.shape[1]])
        assert not rows[:, x.shape[1]:].any()  # (only padding cut)
    for i in (5, -1):
        x, _ = data[i]
        assert np.array_equal((x["x"] if padded else x).numpy(), whole[i])


def test_relative_rows_go_onto_an_accelerator_once_where_they_fit(monkeypatch):
    # there they are made once (a chunk at a time), as rows without relative are
    # copied whole; "meta" stands for the accelerator (no CUDA needed)
    monkeypatch.setattr("sklstm.data.tensors.fits_on_device", lambda *a, **k: True)
    monkeypatch.setattr("sklstm.data.store.CHUNK_BYTES", 2000)  # several chunks
    seqs, whole = _relative_rows(np.float64, True)
    data = SequenceDataset.from_sequences(seqs, np.zeros(30, np.float32),
                                          torch.device("meta"))
    assert data.X.device.type == "meta" and data.anchors is None and data.on_accelerator
    from sklstm.data.tensors import _onto

    assert np.array_equal(_onto(seqs.values, torch.device("cpu")).numpy(), whole)


def test_a_device_may_be_named_as_skorch_names_it():
    # device="cpu" (skorch's way) failed: 'str' object has no attribute 'type'
    from sklstm.data.timesteps import Sequences

    seqs = Sequences(np.ones((3, 4, 1), np.float32), None, 1, "3d")
    data = SequenceDataset.from_sequences(seqs, np.zeros(3, np.float32), "cpu")
    assert data.device == torch.device("cpu") and not data.on_accelerator
    Xb, yb = SequenceDataset(seqs.values, None, np.array([4, 2, 1]), "cpu").take(slice(0, 2))
    assert Xb["x"].device.type == "cpu" and yb is None


def test_relative_rows_of_pinned_host_data_are_made_relative_too():
    # the anchors were subtracted on the paths from_sequences takes only: pinned rows
    # (gathered into pinned memory for the copy to an accelerator) came out absolute
    if not torch.cuda.is_available():
        pytest.skip("pinned memory needs CUDA")
    seqs, whole = _relative_rows(np.float32, True)
    data = SequenceDataset(torch.from_numpy(seqs.values.values).pin_memory(), None,
                           seqs.lengths, torch.device("cuda"), anchors=seqs.values.anchors)
    Xb, _ = data.take(torch.tensor([3, 1]))
    assert np.array_equal(Xb["x"].cpu().numpy(), whole[[3, 1], :Xb["x"].shape[1]])


def test_padded_widths_counts_the_widths_a_multiple_rounds_to():
    assert padded_widths(np.array([1, 8, 9, 16, 17, 40])) == 4  # 8, 16, 24, 40
    assert padded_widths(np.array([5, 6, 7])) == 1
    assert padded_widths(None) == 1
