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
