"""The store's scan and the rows it and StreamedRows make alike: ragged sequences averaged
all at once, value for value as one at a time."""

import numpy as np
import pytest

from sklstm.data.store import SequenceStore
from sklstm.data.store_scan import kept_sequences, kept_steps, scan_store

from .reductions import count_reductions

# sequences shorter than the factor (3), of none, and not a multiple of it: windows that
# ran from one sequence into the next would change the means
LENGTHS = (1, 2, 7, 0, 5, 3, 11)
DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
          "int64 beyond float32": np.int64}


def _sequences(dtype, ndim=2, lengths=LENGTHS):
    rng = np.random.default_rng(0)
    shape = (lambda n: (n,)) if ndim == 1 else (lambda n: (n, 2))
    if np.dtype(dtype).kind == "i":  # odd values past 2**24: float32 rounds them
        return [(2**30 + 2 * rng.integers(0, 1000, size=shape(n)) + 1).astype(dtype)
                for n in lengths]
    return [rng.normal(size=shape(n)).astype(dtype) for n in lengths]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize(("factor", "seq_len", "keep"), [(3, None, "last"), (3, 2, "last"),
                                                         (3, 2, "first"), (1, 4, "last")])
@pytest.mark.parametrize("rows_dtype", [np.float32, np.float64])
def test_kept_sequences_equal_kept_steps_one_at_a_time(dtype, ndim, factor, seq_len, keep,
                                                       rows_dtype, monkeypatch):
    seqs = _sequences(DTYPES[dtype], ndim)
    expected = [kept_steps(seq, factor, seq_len, keep, rows_dtype, 0) for seq in seqs]
    reductions = count_reductions(monkeypatch)
    kept = kept_sequences(seqs, factor, seq_len, keep, rows_dtype)
    assert len(kept) == len(expected)
    for got, want in zip(kept, expected, strict=True):
        assert got.dtype == want.dtype  # integers and float16 averaged in the rows' dtype
        np.testing.assert_array_equal(got, want)
    assert len(reductions) == (factor > 1)  # all the sequences' windows in one reduction


@pytest.mark.parametrize("float64", [False, True])
@pytest.mark.parametrize(("seq_len", "keep"), [(None, "last"), (2, "first")])
def test_the_scan_averages_a_ragged_chunk_in_one_reduction(float64, seq_len, keep, tmp_path,
                                                           monkeypatch):
    seqs = _sequences(np.float64, lengths=[n or 4 for n in LENGTHS])  # (no empty sequence)
    store = SequenceStore.write(tmp_path / "s", seqs)
    reductions = count_reductions(monkeypatch)
    scan = scan_store(store, tokens=False, factor=3, seq_len=seq_len, keep=keep, rms=True,
                      float64=float64, level_rows=np.arange(len(seqs)))
    assert len(reductions) == 1
    # the root mean squares and levels of the rows (rounded to their dtype), averaged one
    # sequence at a time
    dtype = np.float64 if float64 else np.float32
    rows = [kept_steps(seq, 3, seq_len, keep, dtype, 0).astype(dtype).astype(np.float64)
            for seq in seqs]
    np.testing.assert_allclose(scan.rms, np.sqrt((np.concatenate(rows) ** 2).mean(axis=0)),
                               rtol=1e-12)
    np.testing.assert_allclose(scan.levels, [row.mean(axis=0) for row in rows], rtol=1e-12)
