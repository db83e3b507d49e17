"""The lengths of a right-padded batch: every public part of the network that reads them
refuses a length that does not fit, and sequences reverse within their own."""

import pytest
import torch

from sklstm.network import POOLINGS, ConvBranch, TimePooling, reverse_padded, split_level

X = torch.randn(3, 4, 2, generator=torch.Generator().manual_seed(0))


def _readout(mode):
    def read(x, lengths, training=True):
        return TimePooling(x.shape[2], mode).train(training)(x, lengths, last=x[:, 0])
    return read


def _level(x, lengths, training=True):
    return split_level(x, lengths, exact=not training)[1]


def _reversed(x, lengths, training=True):  # (the same in training and in evaluation)
    return reverse_padded(x, lengths)


def _conv(x, lengths, training=True):
    return ConvBranch(x.shape[2], (3,), (3,)).train(training)(x, lengths)


READERS = {**{f"pooling_{mode}": _readout(mode) for mode in POOLINGS},
           "split_level": _level, "reverse_padded": _reversed, "conv_branch": _conv}


@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("lengths, bad", [([2, 0, 4], 0), ([2, 5, 4], 5)],
                         ids=["empty", "past_the_end"])
def test_a_length_that_does_not_fit_is_refused_by_every_reader(read, training, lengths, bad):
    # (a sequence of no step read as NaN or -inf, in evaluation as its padding's sum read
    # at step -1; one past the end as the padded width, or failed in torch's gather)
    with pytest.raises(ValueError, match=rf"within 1\.\.4 \(\w+'s timesteps\); got {bad}"):
        read(X, torch.tensor(lengths), training)


@pytest.mark.parametrize("read", READERS.values(), ids=READERS.keys())
def test_lengths_of_another_batch_or_no_integers_are_refused(read):
    with pytest.raises(ValueError, match=r"one length per sequence of \w+, shape \(3,\)"):
        read(X, torch.tensor([2, 4]))
    with pytest.raises(TypeError, match="lengths must be integers, got float32"):
        read(X, torch.tensor([2.0, 4.0, 1.0]))


@pytest.mark.parametrize("lengths", [[2, 4, 1], [4, 4, 4]], ids=["ragged", "full"])
def test_each_sequence_reverses_within_its_own_length(lengths):
    reversed_ = reverse_padded(X, lengths)
    for seq, rev, n in zip(X, reversed_, lengths, strict=True):
        assert torch.equal(rev[:n], seq[:n].flip(0)) and torch.equal(rev[n:], seq[n:])
    assert torch.equal(reverse_padded(reversed_, lengths), X)
