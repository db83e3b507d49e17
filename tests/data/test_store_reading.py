"""A SequenceStore's reads (store_reading): maps applied to each whole sequence, steps
gathered as slicing each sequence gives them."""

import re

import numpy as np
import pytest

from sklstm.data.store import SequenceStore


def test_map_applies_to_every_read_on_a_copy(ragged):
    seqs, store = ragged
    doubled = store.map(lambda v: v.__imul__(2))
    np.testing.assert_array_equal(doubled[1], 2 * seqs[1])
    np.testing.assert_array_equal(store[1], seqs[1])  # the file is untouched



@pytest.mark.parametrize("stored, given", [(np.float16, np.float16), (np.float32, np.float32),
                                           (np.float64, np.float64), (np.int32, np.float64)])
@pytest.mark.parametrize("dense", [False, True])
def test_a_map_is_given_floats_of_the_stored_dtype(stored, given, dense, tmp_path):
    # float16 was read as float64: a SequenceScaler gave float64 for a float16 store
    # and float16 for the same sequences in a list (float input keeps its dtype)
    seqs = [np.array([[1], [2], [3]], stored), np.array([[4], [5], [6]], stored)]
    store = (SequenceStore.from_array(np.stack(seqs)) if dense
             else SequenceStore.write(tmp_path / "s", seqs))
    seen = []
    view = store.map(lambda v: seen.append(v.dtype) or v)
    assert view.dtype == given and view[0].dtype == given
    assert all(seq.dtype == given for seq in view.read([0, 1]))  # (dense: one array)
    assert set(seen) == {np.dtype(given)}

@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("func", [lambda v: v[..., 1:, :], lambda v: v[..., :1],
                                  lambda v: None])
def test_a_map_that_changes_the_shape_is_refused_when_read(ragged, dense, func):
    # the store's lengths are the stored data's: a shortened sequence was padded to its
    # stored length and trained on as if whole, a widened one failed in numpy's words
    seqs, store = ragged
    if dense:
        store = SequenceStore.from_array(np.stack([seq[:1] for seq in seqs]))
    with pytest.raises(ValueError, match=r"SequenceStore.map: .* returned .* a map keeps "
                                         r"the shape.*SequenceStore.write"):
        store.map(np.negative).map(func)[[0, 1]].load()


@pytest.mark.parametrize("n_steps, keep", [(None, "last"), (2, "last"), (2, "first")])
def test_read_steps_gathers_what_slicing_each_sequence_gives(ragged, n_steps, keep):
    seqs, store = ragged
    view = store[[4, 1, 2]].map(np.negative)
    steps, counts = view.read_steps([0, 1, 2], n_steps, keep)
    cut = slice(None) if n_steps is None else (
        slice(-n_steps, None) if keep == "last" else slice(None, n_steps))
    expected = [-seqs[i][cut] for i in (4, 1, 2)]
    assert counts.tolist() == [len(e) for e in expected]
    np.testing.assert_array_equal(steps, np.concatenate(expected))


@pytest.mark.parametrize("n_steps, keep", [(None, "last"), (2, "last"), (2, "first")])
def test_a_map_is_given_each_whole_sequence(ragged, n_steps, keep):
    # a fit reads a batch with read_steps: a function of the whole sequence (centring it
    # on its mean) was given the kept steps of the batch's sequences one after the
    # other, and the model trained on other values than store.map(func)[i]
    seqs, store = ragged

    def centred(seq):
        return seq - seq.mean(axis=0)

    steps, counts = store.map(centred).read_steps([4, 1, 2], n_steps, keep)
    cut = slice(None) if n_steps is None else (
        slice(-n_steps, None) if keep == "last" else slice(None, n_steps))
    expected = [centred(seqs[i])[cut] for i in (4, 1, 2)]
    assert counts.tolist() == [len(e) for e in expected]
    np.testing.assert_allclose(steps, np.concatenate(expected))
    steps, counts = store.map(centred).read_steps([])
    assert steps.shape == (0, 2) and counts.tolist() == []


@pytest.mark.parametrize("n_steps, keep, problem", [
    (2, "middle", "keep='middle' is not one of 'last', 'first'"),
    (0, "last", "n_steps=0 is no positive integer"),
    (-1, "first", "n_steps=-1 is no positive integer"),
    (2.5, "last", "n_steps=2.5 is no positive integer"),
])
@pytest.mark.parametrize("mapped", [False, True])
def test_read_steps_refuses_steps_it_cannot_keep(ragged, n_steps, keep, problem, mapped):
    # keep="middle" read the first steps; n_steps=0 read none, but every step of a mapped
    # view (seq[-0:]); a negative one was numpy's "negative dimensions are not allowed"
    _, store = ragged
    store = store.map(np.negative) if mapped else store
    with pytest.raises(ValueError, match=re.escape(problem)):
        store.read_steps([0, 1], n_steps, keep)
