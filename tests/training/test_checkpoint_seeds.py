"""checkpoint=DIR and random_state: a resumed fit draws with the seed of the fit it
continues (its batch order, its validation split)."""

import json
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from skorch.callbacks import Callback

from sklstm import LSTMClassifier

from .checkpoint_fits import COMMON, X, Y
from .faults import InterruptAt, assert_took_the_epochs


class RecordValidSplit(Callback):
    """Records the samples each epoch validated on (skorch's ``ValidSplit`` subset)."""

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        net.history.record("valid_indices", sorted(int(i) for i in dataset_valid.indices))


def test_a_random_state_instance_of_the_same_seed_finds_its_checkpoint(tmp_path):
    # its repr, recorded as the parameter, holds its address: another in every process,
    # so the fit's own directory was refused as "another fit"
    def fit(seed):
        return LSTMClassifier(**{**COMMON, "max_epochs": 2, "checkpoint": tmp_path,
                                 "random_state": np.random.RandomState(seed)}).fit(X, Y)

    first, again = fit(0), fit(0)
    assert_array_equal(again.predict_proba(X), first.predict_proba(X))
    with pytest.raises(ValueError, match=r"another fit \(random_state='RandomState with state"):
        fit(1)


def test_a_fit_of_random_state_none_resumes_on_the_split_it_validated_on(tmp_path):
    # random_state=None draws another seed every fit: the resumed fit validated its first
    # epoch on one split and the rest on another, part of it samples epoch 1 trained on
    params = {**COMMON, "device": "cpu", "batch_size": 16, "max_epochs": 4, "random_state": None,
              "early_stopping": True, "checkpoint": tmp_path}
    # (5 batches an epoch, the validation's included: batch 7 is in epoch 2)
    with pytest.warns(UserWarning, match="interrupted"):
        cut = LSTMClassifier(**params, callbacks=[RecordValidSplit(), InterruptAt(7)]).fit(X, Y)
    seed = json.loads((tmp_path / "sklstm_fit.json").read_text()).get("seed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (what the fit says of its convergence)
        resumed = LSTMClassifier(**params, callbacks=[RecordValidSplit()]).fit(X, Y)
    assert_took_the_epochs(resumed, cut.history_[:, "dur"])
    assert resumed.n_epochs_ == 4
    splits = resumed.history_[:, "valid_indices"]
    assert all(split == splits[0] for split in splits)
    assert seed is not None  # the fit's seed, recorded with its state
    assert json.loads((tmp_path / "sklstm_fit.json").read_text())["seed"] == seed
