"""SequenceDataset: batches taken by index, cut to a few distinct widths."""

import numpy as np
import pytest
import torch

from sklstm.data.tensors import LENGTH_MULTIPLE, SequenceDataset

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
