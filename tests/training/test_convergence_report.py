"""What a finished fit says of its convergence (convergence_report)."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklstm.training.convergence_report import check_convergence

from .stopper_runs import valid_run


def _run(valid_losses):
    """The net of an early_stopping run on 6 validation samples (chance level 1)."""
    return valid_run(np.linspace(-2.0, 2.0, 40), np.array([-1.0, 1.0] * 3), valid_losses,
                     patience=3)[2]


def test_max_epochs_that_cut_a_falling_validation_loss_short_says_to_raise_it():
    # seen: validation losses 0.65, 0.51, 0.31 in max_epochs=3, on 6 validation samples:
    # told only to raise validation_fraction, add samples or regularize
    net = _run([0.9, 0.7, 0.5])
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned: .* after "
                      r"max_epochs=3: .*\. Raise max_epochs \(the validation loss still "
                      r"improved at epoch 3, within n_iter_no_change=3 epochs of the end\), "
                      r"or raise validation_fraction"):
        assert not check_convergence("LSTMRegressor", net, max_epochs=3, lr=0.05)
    # a validation loss flat since the first epoch: more epochs are not the advice
    net = _run([0.5, 0.5, 0.5])
    with pytest.warns(ConvergenceWarning, match=r"did not show that it learned") as record:
        assert not check_convergence("LSTMRegressor", net, max_epochs=3, lr=0.05)
    assert not [w for w in record if "max_epochs (" in str(w.message)]
