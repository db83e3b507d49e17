import numpy as np
import pytest

from sklstm.training.target_range import check_batch_losses_in_range, check_targets_in_range


def test_targets_whose_squares_overflow_float32_are_refused():
    check_targets_in_range("LSTMRegressor", np.array([1e19, -1e19]))  # (squares of 1e38)
    check_targets_in_range("LSTMClassifier", np.array([2**62]))  # (class indices)
    with pytest.raises(ValueError, match=r"y has values up to 2e\+19, whose squared errors "
                                         r"overflow float32 .* Rescale y"):
        check_targets_in_range("LSTMRegressor", np.array([1.0, -2e19]))


def test_a_batch_loss_that_could_fit_is_not_refused():
    # only where the smallest samples cannot fill a micro-batch within float32: one
    # huge target among small ones, or a micro-batch of the small ones, may train
    y = np.ones((64, 2), dtype=np.float32)
    y[0] = 1.5e19
    check_batch_losses_in_range("LSTMRegressor", y, 16, 48)
    y[:50] = 1e19  # squared norms of 2e38: a micro-batch of 16 draws 2 or more
    check_batch_losses_in_range("LSTMRegressor", y, 14, 64)  # the 14 others fit
    with pytest.raises(ValueError, match=r"every micro-batch of 16 samples overflows .* "
                                         r"lower batch_size to 1 or fewer"):
        check_batch_losses_in_range("LSTMRegressor", y, 16, 64)
    check_batch_losses_in_range("LSTMRegressor", y, 16, 1)  # (1 training sample fits)
