"""The container forms of sequence data (containers): a nested list named by its shape,
validated sequences rebuilt into the container they came in."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklstm import LSTMRegressor
from sklstm.data.containers import restore_container, sequence_form
from sklstm.data.validation import validate_sequences
from sklstm.preprocessing import SequenceScaler


@pytest.mark.parametrize(
    ("X", "kind"),
    [
        (np.zeros((2, 3, 4)), "3d"),
        (np.zeros((2, 3)), "2d"),
        ([np.zeros((2, 4)), np.zeros((3, 4))], "list"),
        ([[[0.0], [1.0]], [[2.0]]], "list"),
    ],
)
def test_validated_sequences_rebuild_their_container(X, kind):
    data, found = validate_sequences(SequenceScaler(), X, reset=True)
    assert found == kind
    sequences = list(data[:, :, None]) if kind == "2d" else list(data)
    assert all(seq.ndim == 2 for seq in sequences)
    restored = restore_container(sequences, kind)
    for original, back in zip(X, restored, strict=True):
        assert_array_equal(back, np.asarray(original, dtype=float))


@pytest.mark.parametrize(("X", "where"), [
    ([[1.0, None], [2.0, 3.0]], "sample 0, timestep 1"),
    ([[[1.0], [2.0]], [[None], [3.0]]], "sample 1, timestep 0, feature 0"),
], ids=["2d", "3d"])
@pytest.mark.parametrize("Est", [SequenceScaler, LSTMRegressor])
def test_a_nested_list_holding_none_is_a_table_with_a_missing_value(X, where, Est):
    # None made numpy's array of the list one of objects, and its rows were read as
    # sequences: "Sequence 0 of X has shape (2,); each sequence in a list must be 2D"
    # (for 2D), where the same list with NaN is told where the missing value is
    assert sequence_form(X) == f"{np.ndim(X)}d"
    est = Est(device="cpu") if Est is LSTMRegressor else Est()
    with pytest.raises(ValueError, match=f"Input X contains NaN at {where}: fill missing"):
        est.fit(X, [0.0, 1.0])
