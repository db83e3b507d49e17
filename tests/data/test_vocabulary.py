"""Token ids checked one sequence at a time (sklstm.data.vocabulary)."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier
from sklstm.data.vocabulary import check_token_sequence, padding_inside
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


@pytest.mark.parametrize(("ids", "inside"), [
    ([3, 1, 4], False),  # no padding (ragged lists)
    ([0, 0], False),  # only padding
    ([1], False), ([0], False), ([], False),
    ([3, 1, 0, 0], False), ([0, 0, 3, 1], False), ([0, 3, 1, 0], False),  # around the tokens
    ([3, 0, 1], True), ([0, 3, 0, 0, 1, 0], True), ([3, 0, 0, 1, 1], True),
    ([0, 3, 0, 1], True),  # padding before and between the tokens
])
def test_padding_inside_tells_padding_between_tokens_from_padding_around_them(ids, inside):
    # (a fit reads it for every sequence, by reductions rather than token positions)
    assert padding_inside(np.array(ids, dtype=np.int64) != 0) is inside
