"""Token ids checked one sequence at a time (sklstm.data.vocabulary)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier
from sklstm.data import vocabulary
from sklstm.data.vocabulary import check_token_sequence, padding_inside, without_padding
from sklstm.preprocessing import SequenceResampler, SequenceScaler

IDS = np.array([[3, 1, 4, 1], [5, 9, 2, 6], [5, 3, 5, 8], [9, 7, 9, 3]])


@pytest.mark.parametrize("step", [SequenceScaler(), SequenceResampler(factor=2)])
def test_ids_made_magnitudes_by_a_step_before_name_the_step(step, tiny):
    # scaled or averaged ids were told to be cast with .astype(int): a model of other
    # tokens than those given
    pipe = make_pipeline(step, LSTMClassifier(**tiny, embedding_dim=2))
    with pytest.raises(TypeError, match=r"^Sequence 0 of X has dtype float64 and holds "
                       r"\S+ at timestep \d; token ids must be integers, and that is no "
                       r"whole number: a step before the estimator \(a scaler or a resampler "
                       r"in the pipeline\) probably .* Remove that step"):
        pipe.fit(IDS, np.arange(len(IDS)) % 2)


@pytest.mark.parametrize(("seq", "error", "message"), [
    # whole numbers: the cast is the fix
    (np.array([1.0, 2.0]), TypeError, r"has dtype float64; .* \.astype\(int\) if they are"),
    (np.array([1.0, 2.5], np.float32), TypeError, r"holds 2\.5 at timestep 1; .* no whole number"),
    # told to cast with .astype(int), False became the padding id 0 and was removed
    (np.array([True, False, True]), TypeError,
     r"has dtype bool; .*\.astype\(int\) makes False id 0, the padding id .*\.astype\(int\) \+ 1"),
    # +inf failed in int() with a bare OverflowError, -inf was to be cast with .astype(int)
    (np.array([1.0, np.inf]), ValueError, r"^Sequence 7 of X holds an infinite token id "
                                          r"\(inf\) at timestep 1; token ids are whole"),
    (np.array([-np.inf, 1.0]), ValueError, r"holds an infinite token id \(-inf\) at timestep 0"),
    # told only that ids "must be >= 0": padded with -1, where padding_idx is the fix
    (np.array([4, -1]), ValueError, r"negative token id -1; token ids must be >= 0: pad "
                                    r"with padding_idx \(0 by default\), not a negative"),
])
def test_ids_that_are_no_token_ids_are_refused_with_their_fix(seq, error, message):
    with pytest.raises(error, match=message):
        check_token_sequence(seq, 7)


def test_infinite_ids_are_refused_at_prediction(tiny):
    est = LSTMClassifier(**tiny, embedding_dim=2).fit(IDS, np.arange(len(IDS)) % 2)
    for X in ([np.array([1.0, np.inf])], np.array([[1.0, np.inf]])):  # ragged and padded
        with pytest.raises(ValueError, match=r"^Sequence 0 of X holds an infinite token id"):
            est.predict(X)


PADDING_CASES = [
    ([3, 1, 4], False),  # no padding (ragged lists)
    ([0, 0], False),  # only padding
    ([1], False), ([0], False), ([], False),
    ([3, 1, 0, 0], False), ([0, 0, 3, 1], False), ([0, 3, 1, 0], False),  # around the tokens
    ([3, 0, 1], True), ([0, 3, 0, 0, 1, 0], True), ([3, 0, 0, 1, 1], True),
    ([0, 3, 0, 1], True),  # padding before and between the tokens
]


@pytest.mark.parametrize(("ids", "inside"), PADDING_CASES)
def test_padding_inside_tells_padding_between_tokens_from_padding_around_them(ids, inside):
    is_token = np.array(ids, dtype=np.int64) != 0
    assert padding_inside(is_token, np.array([0, len(ids)])).tolist() == [inside]


def test_padding_inside_reads_each_of_many_sequences_apart():
    # (a fit reads the sequences a block at a time: one's tokens never span into another)
    ids, inside = zip(*PADDING_CASES, *PADDING_CASES[::-1], strict=True)
    is_token = np.concatenate([np.array(seq, dtype=np.int64) for seq in ids]) != 0
    bounds = np.cumsum([0, *map(len, ids)])
    assert padding_inside(is_token, bounds).tolist() == list(inside)


def _rows(**changed):
    """Token sequences read as 3 blocks of ID_BLOCK=8 ids (the third one alone), some
    replaced by ``changed`` ({"at2": ids} replaces sequence 2)."""
    rows = [np.array([1, 2, 3]), np.array([0, 4, 0, 5]), np.array([7] * 9),
            np.array([1, 0], np.uint64), np.array([6]), np.array([0, 8, 0, 9])]
    for key, ids in changed.items():
        rows[int(key[2:])] = ids
    return rows


@pytest.mark.parametrize(("changed", "named"), [
    ({"at2": np.array([0, 0]), "at5": np.array([0])},
     r"^Sequence 2 of X is empty \(only padding id 0\); every sequence needs"),
    ({"at3": np.array([0, 2**63], np.uint64), "at4": np.array([0])},
     r"^Sequence 3 of X contains token id 9223372036854775808, beyond int64"),
    ({"at3": np.array([0, 0], np.uint64), "at4": np.array([2**64 - 1], np.uint64)},
     r"^Sequence 3 of X is empty \(only padding id 0\)"),
    ({"at4": np.array([2**64 - 1, 0], np.uint64), "at5": np.array([0, 0])},
     r"^Sequence 4 of X contains token id 18446744073709551615, beyond int64"),
])
def test_the_first_sequence_refused_without_its_padding_is_named_across_blocks(
        changed, named, monkeypatch):
    # (the sequences are read a block at a time: the first wrong either way is named)
    monkeypatch.setattr(vocabulary, "ID_BLOCK", 8)
    with pytest.raises(ValueError, match=named):
        without_padding(_rows(**changed), 0, reset=False)


@pytest.mark.parametrize("block", [8, vocabulary.ID_BLOCK])
def test_sequences_lose_their_padding_alone_and_keep_every_id_exactly(block, monkeypatch):
    monkeypatch.setattr(vocabulary, "ID_BLOCK", block)
    # (int64 beside uint64 ids: numpy's common type, float64, rounds 2**62 + 1)
    rows = _rows(at0=np.array([2**62 + 1, 0]), at3=np.array([2**63 - 1, 0], np.uint64))
    with pytest.warns(UserWarning, match=r"^2 of the 6 sequences of X hold the padding id 0 "
                                         r"between other ids \(sequence 1 first\)"):
        out = without_padding(rows, 0, reset=True)
    assert all(seq.dtype == np.int64 for seq in out)
    assert [seq.tolist() for seq in out] == [
        [2**62 + 1], [4, 5], [7] * 9, [2**63 - 1], [6], [8, 9]]
    assert [seq.tolist() for seq in without_padding(rows[1:], None, reset=True)] == [
        row.tolist() for row in rows[1:]]


@pytest.mark.parametrize(("X", "named"), [
    ([np.array([1, 2]), np.array([0, 0]), np.array([3])],
     r"^Sequence 1 \(index label 'b'\) of X is empty \(only padding id 0\)"),
    ([np.array([1], np.uint64), np.array([2**64 - 1], np.uint64), np.array([3], np.uint64)],
     r"^Sequence 1 \(index label 'b'\) of X contains token id 18446744073709551615, beyond"),
])
def test_sequences_refused_without_their_padding_are_named_by_their_index_label(
        X, named, tiny):
    # (named by position alone, "Sequence 1", where X[1] is no sequence of X, or another)
    with pytest.raises(ValueError, match=named):
        LSTMClassifier(**tiny, embedding_dim=2).fit(pd.Series(X, index=["a", "b", "c"]),
                                                    [0, 1, 0])
    X = pd.Series([np.array([1, 2]), np.array([3, 0, 4]), np.array([5])], index=[2, 1, 0])
    with pytest.warns(UserWarning, match=r"\(sequence 1 \(index label 1\) first\)"):
        LSTMClassifier(**tiny, embedding_dim=2).fit(X, [0, 1, 0])
