"""make_window_splitter: time-ordered splits that keep overlapping targets out of
training."""

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from sklstm.datasets import make_sensor_series
from sklstm.windows import make_window_splitter, make_windows


@pytest.mark.parametrize(("horizon", "step", "gap"), [(1, 1, 0), (5, 1, 4), (5, 2, 2), (4, 4, 0)])
def test_splitter_gap(horizon, step, gap):
    cv = make_window_splitter(3, horizon=horizon, step=step)
    assert isinstance(cv, TimeSeriesSplit)
    assert cv.gap == gap


def _target_overlap(cv, index, horizon):
    """Number of target timesteps shared by training and validation windows, per split."""
    overlaps = []
    for train, test in cv.split(index):
        train_steps = {t for first in index[train] for t in range(first, first + horizon)}
        test_steps = {t for first in index[test] for t in range(first, first + horizon)}
        overlaps.append(len(train_steps & test_steps))
    return overlaps


@pytest.mark.parametrize(("horizon", "step"), [(1, 1), (6, 1), (6, 4), (3, 5)])
def test_splitter_keeps_overlapping_targets_out_of_training(horizon, step):
    _, _, index = make_windows(np.arange(300.0), 10, horizon, step, return_index=True)
    cv = make_window_splitter(4, horizon=horizon, step=step)
    assert _target_overlap(cv, index, horizon) == [0, 0, 0, 0]


def test_plain_time_series_split_leaks_multi_step_targets():
    # Why the gap matters: without it, the last training windows share targets.
    _, _, index = make_windows(np.arange(300.0), 10, horizon=6, return_index=True)
    assert all(overlap > 0 for overlap in _target_overlap(TimeSeriesSplit(4), index, 6))


def test_grid_search_over_windows_learns_the_sensor_series():
    X, y = make_windows(make_sensor_series(n_timesteps=400, random_state=0), lookback=4)
    flatten = FunctionTransformer(lambda X: X.reshape(len(X), -1))
    search = GridSearchCV(
        make_pipeline(flatten, Ridge()),
        {"ridge__alpha": [0.1, 1000.0]},
        cv=make_window_splitter(3),
    ).fit(X, y)
    assert search.best_params_ == {"ridge__alpha": 0.1}
    assert search.best_score_ > 0.9


def test_splitter_refuses_targets_of_more_steps_than_its_horizon():
    # make_window_splitter(4) for windows of horizon=6: its gap of 0 left the last
    # training windows sharing five of their six targets with the first validation
    # window's, silently
    X, y = make_windows(np.arange(300.0), 10, horizon=6)
    flat = X[:, :, 0]
    with pytest.raises(ValueError, match=r"y has 6 columns, but the splitter was made for "
                                         r"horizon=1.*make_window_splitter\(\.\.\., horizon=6\)"):
        cross_val_score(Ridge(), flat, y, cv=make_window_splitter(4))
    assert len(cross_val_score(Ridge(), flat, y, cv=make_window_splitter(4, horizon=6))) == 4
    assert len(list(make_window_splitter(4, horizon=np.int64(8)).split(flat, y))) == 4
    assert len(list(make_window_splitter(4).split(flat, y[:, 0]))) == 4  # one step: 1D y


def test_splitter_refuses_the_groups_of_several_series():
    # TimeSeriesSplit ignores groups (its UserWarning says only that): windows of two
    # series, one after the other, were split as one series, the first series' whole
    # span trained on while the second's windows of the same times were validated
    X, y, groups = make_windows([np.arange(100.0), np.arange(100.0)], 5, return_groups=True)
    flat = X[:, :, 0]
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0]}, cv=make_window_splitter(3))
    with pytest.raises(ValueError, match=r"groups holds 2 series, .*GroupKFold"):
        search.fit(flat, y, groups=groups)
    assert len(search.fit(flat[:95], y[:95], groups=groups[:95]).cv_results_["params"]) == 2
    assert len(list(make_window_splitter(3).split(flat, y))) == 3
    with pytest.raises(ValueError, match="groups holds 2 series"):  # (np.unique: TypeError)
        list(make_window_splitter(3).split(flat, y, ["a"] * 100 + [None] * 95))
