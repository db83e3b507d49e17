"""Ragged sequence input (sklstm.data.ragged): arrays of numbers are taken as they are,
and NaN or infinity is checked a block of sequences at a time, the first bad sequence
named whatever is wrong with it."""

import numpy as np
import pytest

from sklstm.data import ragged
from sklstm.data.ragged import check_ragged


def test_arrays_of_numbers_are_taken_without_conversions(monkeypatch):
    # their conversions and checks of times took half of a scaler's transform of many
    # short sequences, for the arrays they were
    converted = []
    monkeypatch.setattr(ragged, "_as_numbers", lambda item, *args: converted.append(item)
                        or np.asarray(item, dtype=float))
    X = [np.ones((2, 1)), np.ones((3, 1), dtype=np.int8), [[1.0], [2.0]], np.ones((1, 1), bool)]
    out = check_ragged(X)
    assert converted == [X[2]] and out[0] is X[0] and out[1] is X[1] and out[3] is X[3]


def _sequences(lengths, bad=None, value=np.nan, dtypes=(np.float64, np.float32, np.float16)):
    """Sequences of ``lengths`` (2 features) in turn of ``dtypes``, ``value`` in the last
    step of sequence ``bad``."""
    X = [np.ones((n, 2), dtype=dtypes[i % len(dtypes)]) for i, n in enumerate(lengths)]
    if bad is not None:
        X[bad][-1, 1] = value
    return X


@pytest.mark.parametrize("bad", [0, 3, 4, 7])
@pytest.mark.parametrize("value", [np.nan, -np.inf])
def test_the_first_non_finite_sequence_is_named_across_blocks(bad, value, monkeypatch):
    monkeypatch.setattr(ragged, "FINITE_BLOCK", 16)  # (sequence 4 is longer than one)
    lengths = [3, 2, 4, 1, 20, 2, 5, 3]
    X = [*_sequences(lengths, bad, value), np.full((1, 2), np.nan)]  # (not the one named)
    what = "NaN" if np.isnan(value) else "infinity"
    with pytest.raises(ValueError, match=rf"^Input X contains {what} at sequence {bad}, "
                                         rf"timestep {lengths[bad] - 1}, feature 1"):
        check_ragged(X)
    assert len(check_ragged(_sequences(lengths))) == len(lengths)
    assert len(check_ragged(X, ensure_all_finite=False)) == len(lengths) + 1


@pytest.mark.parametrize(("nan_at", "other_at", "named"), [
    (1, 2, r"^Input X contains NaN at sequence 1"),
    (2, 1, r"^Sequence 1 of X has 3 features but sequence 0 has 2"),
])
def test_the_first_bad_sequence_is_named_whatever_is_wrong_with_it(nan_at, other_at, named):
    # (the NaN of a sequence before another's wrong shape is named first, as when each
    # sequence was checked in turn, though NaN is looked for a block at a time)
    X = _sequences([3, 4, 2, 5], nan_at)
    X[other_at] = np.ones((2, 3))
    with pytest.raises(ValueError, match=named):
        check_ragged(X)


def _token_sequences(lengths):
    """Sequences of ids 1..n of ``lengths``, int64 and int32 in turn."""
    return [np.arange(1, n + 1, dtype=(np.int64, np.int32)[i % 2]) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("bad", [0, 3, 4, 7])
def test_the_first_negative_token_id_is_named_across_blocks(bad, monkeypatch):
    # (arrays of ids are checked for negative ones a block at a time)
    monkeypatch.setattr(ragged, "FINITE_BLOCK", 16)  # (sequence 4 is longer than one)
    X = _token_sequences([3, 2, 4, 1, 20, 2, 5, 3])
    X[bad][-1] = -1 - bad
    X += [np.array([-9]), np.array([1.5])]  # (later ones, wrong too, are not named)
    with pytest.raises(ValueError, match=rf"^Sequence {bad} of X contains the negative "
                                         rf"token id {-1 - bad}; token ids must be >= 0"):
        check_ragged(X, ensure_all_finite=False, token_ids=True)
    X = _token_sequences([3, 2, 4, 1, 20, 2, 5, 3])
    assert all(out is seq for out, seq in zip(check_ragged(X, token_ids=True), X, strict=True))


@pytest.mark.parametrize(("X", "named"), [
    # another wrong sequence before the negative id is named first, as in turn
    ([np.array([1, 2]), np.array([1.5]), np.array([3, -1])],
     r"^Sequence 1 \(index label 'b'\) of X has dtype float64 and holds 1\.5"),
    ([np.array([1, 2]), np.array([3, -1]), np.array([1.5])],
     r"^Sequence 1 \(index label 'b'\) of X contains the negative token id -1"),
    ([np.array([1, 2]), np.array([3, -1], np.int8), [-2]],  # (a list: checked as it is read)
     r"^Sequence 1 \(index label 'b'\) of X contains the negative token id -1"),
    ([np.array([1, 2]), [-2], np.array([3, -1])],
     r"^Sequence 1 \(index label 'b'\) of X contains the negative token id -2"),
])
def test_the_first_bad_token_sequence_is_named_whatever_is_wrong_with_it(X, named):
    with pytest.raises((TypeError, ValueError), match=named):
        check_ragged(X, ensure_all_finite=False, token_ids=True, labels=["a", "b", "c"])


#: Lists of ids next to what is wrong with a list, each refused as such (or, the last
#: two, taken as np.asarray reads them), and the list of ids it is taken in place of.
ID_LISTS = [[4, 1, 7], [2], [9, 3]]
BAD_LISTS = [
    ([1.5, 2], r"has dtype float64 and holds 1\.5 at timestep 0"),
    ([1, [2]], r"is not a rectangular array"),
    ([[1, 2], [3]], r"is not a rectangular array"),
    ([[1, 2], [3, 4]], r"has shape \(2, 2\); token sequences must be 1D"),
    ([float("nan"), 1], r"holds a missing token id \(NaN, None or pd\.NA\) at timestep 0"),
    ([None, 1], r"holds a missing token id"),
    ([3, -4], r"contains the negative token id -4"),
    ((3, -4), r"contains the negative token id -4"),
    ([True, False], r"has dtype bool"),
    ([], r"is empty \(0 timesteps\)"),
    ([1, 2**64], r"contains token id 18446744073709551616, beyond int64"),
    (["a", "b"], r"has non-numeric dtype <U1"),
    ([1.0, 2.0], r"has dtype float64; .* \.astype\(int\)"),
    ([True, 2], None), ([np.uint64(5), np.uint64(6)], None), ([2**63], None),
]


@pytest.mark.parametrize(("bad", "message"), BAD_LISTS,
                         ids=[repr(bad) for bad, _ in BAD_LISTS])
@pytest.mark.parametrize("at", [0, 2])
def test_lists_of_ids_are_read_as_one_by_one_and_refused_naming_the_list(
        bad, message, at, monkeypatch):
    # (a list np.asarray reads as integer ids skips the conversions and checks of the
    # other sequences: the same arrays, and the same first bad sequence named)
    X = [*ID_LISTS[:at], bad, *ID_LISTS[at:]]
    labels = ["a", "b", "c", "d"]
    if message is None:
        out = check_ragged(X, ensure_all_finite=False, token_ids=True, labels=labels)
        expected = [np.asarray(seq) for seq in X]
        assert [(a.dtype, a.tolist()) for a in out] == [(e.dtype, e.tolist()) for e in expected]
    else:
        named = rf"^Sequence {at} \(index label '{labels[at]}'\) of X .*{message}"
        with pytest.raises((TypeError, ValueError), match=named):
            check_ragged(X, ensure_all_finite=False, token_ids=True, labels=labels)
    # what the conversions and checks of each sequence in turn make of them
    monkeypatch.setattr(ragged, "_id_list", lambda item: item)
    if message is None:
        assert [a.tolist() for a in check_ragged(X, token_ids=True)] == [list(x) for x in X]
    else:
        with pytest.raises((TypeError, ValueError), match=named):
            check_ragged(X, ensure_all_finite=False, token_ids=True, labels=labels)


def test_lists_of_ids_are_taken_without_the_conversions_of_other_sequences(monkeypatch):
    # a list's conversions and checks took 22 us, 2.2 s of the 3.1 s setup of a fit on
    # 100k token sentences given as lists; np.asarray reads a list as ids in 8 us
    converted = []
    monkeypatch.setattr(ragged, "_as_numbers", lambda item, *args: converted.append(item)
                        or np.asarray(item))
    X = [[3, 1, 2], (4, 5), np.array([6]), [1.5]]
    with pytest.raises(TypeError, match=r"^Sequence 3 of X has dtype float64 and holds 1\.5"):
        check_ragged(X, ensure_all_finite=False, token_ids=True)
    assert converted == [[1.5]]  # (the list that is refused, named as it always was)
    out = check_ragged(X[:3], ensure_all_finite=False, token_ids=True)
    assert [(a.dtype, a.tolist()) for a in out] == [
        (np.dtype(np.int64), [3, 1, 2]), (np.dtype(np.int64), [4, 5]), (X[2].dtype, [6])]


@pytest.mark.parametrize("bad", [0, 3, 4, 7])
def test_the_first_negative_id_of_lists_is_named_across_blocks(bad, monkeypatch):
    # (lists read as ids are checked for negative ones a block at a time, as arrays are)
    monkeypatch.setattr(ragged, "FINITE_BLOCK", 16)  # (sequence 4 is longer than one)
    X = [seq.tolist() for seq in _token_sequences([3, 2, 4, 1, 20, 2, 5, 3])]
    X[bad][-1] = -1 - bad
    X += [[-9], [1.5]]  # (later ones, wrong too, are not named)
    with pytest.raises(ValueError, match=rf"^Sequence {bad} of X contains the negative "
                                         rf"token id {-1 - bad}; token ids must be >= 0"):
        check_ragged(X, ensure_all_finite=False, token_ids=True)
