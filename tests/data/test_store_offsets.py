"""A ragged SequenceStore made by hand from ``(values, offsets)`` checks its offsets
(store_files.check_offsets) and its index; views of it share them unchecked."""

import pickle

import numpy as np
import pytest

from sklstm.data.store import SequenceStore

VALUES = np.arange(10.0)


@pytest.mark.parametrize(("offsets", "error", "message"), [
    ([0, 3, 9], ValueError, "runs from 0 to 9; it runs from 0 to the 10 steps"),  # drops a step
    ([0, 3, 11], ValueError, "runs from 0 to 11"),  # reads past the values
    ([0, 5, 3, 10], ValueError, "gives sequence 1 the steps 5 to 3"),  # overlapping
    ([0.0, 3.0, 10.0], ValueError, "holds float64 values, not integers"),
    ([[0, 10]], ValueError, r"has shape \(1, 2\)"),
    ([0], ValueError, r"has shape \(1,\)"),
])
def test_offsets_that_would_read_other_data_are_refused(offsets, error, message):
    with pytest.raises(error, match=message):
        SequenceStore(VALUES, offsets)


def test_values_of_a_dense_shape_are_refused_with_offsets():
    with pytest.raises(TypeError, match="offsets=None for dense data"):
        SequenceStore(np.zeros((2, 3, 4)), [0, 1, 2])


@pytest.mark.parametrize("offsets", [[0, 3, 10], np.array([0, 3, 10], np.uint32)])
def test_good_offsets_read_their_sequences_also_in_views_and_pickles(offsets):
    store = SequenceStore(VALUES, offsets)
    view = store[[1, 0]].map(np.negative)
    assert [s.tolist() for s in view.read([0, 1])] == [[-3.0, -4, -5, -6, -7, -8, -9],
                                                       [-0.0, -1, -2]]
    assert len(store) == 2 and store.lengths.tolist() == [3, 7]
    again = pickle.loads(pickle.dumps(view))
    assert again.read([1])[0].tolist() == [-0.0, -1, -2]


@pytest.mark.parametrize("dense", [False, True])
def test_an_index_given_by_hand_is_checked_as_a_key(dense):
    # unchecked, index=[-1] of a ragged store read values[offsets[-1]:offsets[0]]: an
    # empty sequence, and a batch of it failed in numpy's words
    values, offsets = (VALUES[:, None], None) if dense else (VALUES, [0, 3, 10])
    n = len(values) if dense else 2
    store = SequenceStore(values, offsets, index=[-1, 0])
    assert store.read([0])[0].tolist() == SequenceStore(values, offsets)[n - 1].tolist()
    for index in ([n], [-n - 1]):
        with pytest.raises(IndexError, match=f"out of bounds for {n} sequences"):
            SequenceStore(values, offsets, index=index)
    with pytest.raises(IndexError, match="integer-array or boolean-mask"):
        SequenceStore(values, offsets, index=[0.5])
