"""The values a SequenceStore writes (store_casting): in the dtype asked for, a cast that
would change them refused."""

import re

import numpy as np
import pytest

from sklstm.data.store import SequenceStore


def test_token_ids_keep_their_stored_width(tmp_path):
    store = SequenceStore.write(tmp_path / "t", [np.array([1, 2], np.int32), np.array([3])])
    assert store.dtype == np.int32 and store[1].dtype == np.int32
    assert SequenceStore.write(tmp_path / "u", [[1, 2]], dtype=np.int16).dtype == np.int16


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int8])
def test_integer_ids_are_stored_in_any_integer_dtype_they_fit(dtype, tmp_path):
    # int64 ids (np.array([...]) of Python ints) into uint16 is not numpy's "same_kind"
    # cast; the values fit, so nothing changes, and only the range decides
    ids = [np.array([3, 1, 4]), np.array([1, 5], np.uint64)]
    store = SequenceStore.write(tmp_path / "u", ids, dtype=dtype)
    assert store.dtype == dtype
    for expected, got in zip(ids, store, strict=True):
        np.testing.assert_array_equal(got, expected)
    beyond = np.array([1, int(np.iinfo(dtype).max) + 1])
    with pytest.raises(ValueError, match=f"beyond {np.dtype(dtype)}'s range"):
        SequenceStore.write(tmp_path / "v", [beyond], dtype=dtype)


@pytest.mark.parametrize("ids, dtype, stored_as, fix", [
    ([1, 2049], np.float16, "2048.0", "a wider dtype (float32, exact up to 16,777,216)"),
    ([2**24 + 1], np.float32, "16777216.0", "a wider dtype (float64"),
    ([2**53 + 1], np.float64, "9007199254740992.0", "an integer dtype (int64"),
    # int64's largest rounds to 2**63, which no int64 holds: numpy's cast back is the
    # platform's, so this one is compared as a float
    ([2**63 - 1], np.float64, "9.223372036854776e+18", "an integer dtype (int64"),
])
def test_integers_a_float_would_round_are_refused(ids, dtype, stored_as, fix, tmp_path):
    # token ids written as floats were stored rounded, without a word: 2049 as 2048,
    # another token (the values are in the float's range: no infinity was refused)
    seqs = [np.array([3, 7]), np.array(ids)]
    with pytest.raises(ValueError, match=re.escape(
            f"Sequence 1 holds {ids[-1]}, which {np.dtype(dtype)} stores as {stored_as}")
            + f".*Store {re.escape(fix)}"):
        SequenceStore.write(tmp_path / "s", seqs, dtype=dtype)
    assert list(tmp_path.iterdir()) == []


def test_floats_hold_the_integers_and_reals_they_can(tmp_path):
    # beyond 2048, float16 still holds the even integers up to 4096 and so on: only a
    # value that changes is refused; real values round to a narrower float, as asked
    ids = [np.array([-2048, 2048, 4096, 65504]), np.array([2**24, -(2**24), 2**25], np.int64)]
    for k, (seq, dtype) in enumerate(zip(ids, (np.float16, np.float32), strict=True)):
        stored = SequenceStore.write(tmp_path / str(k), [seq], dtype=dtype)[0]
        assert stored.dtype == dtype and stored.tolist() == seq.tolist()
    reals = SequenceStore.write(tmp_path / "r", [np.array([0.1, 1 / 3])], dtype=np.float32)
    np.testing.assert_array_equal(reals[0], np.array([0.1, 1 / 3], np.float32))


def test_booleans_come_back_as_booleans(tmp_path):
    # the rule: bools keep their dtype (1 byte a value); numbers are not cast to bool,
    # and bools are stored as 0/1 only in the integer dtype asked for
    flags = [np.array([True, False, True]), np.array([[False], [True]])[:, 0]]
    SequenceStore.write(tmp_path / "b", flags)
    store = SequenceStore.open(tmp_path / "b")
    assert store.dtype == np.bool_ and [seq.tolist() for seq in store.load()] == \
        [[True, False, True], [False, True]]
    assert SequenceStore.write(tmp_path / "i", flags, dtype=np.int8)[0].tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="int64, which cannot be stored as bool"):
        SequenceStore.write(tmp_path / "n", [np.array([0, 1])], dtype=bool)
