"""The returned table: a DataFrame subclass that pickles, whose plot() is the profile's."""

import pickle

import numpy as np
import pytest

from sklstm.profiling import plot_batch_profile

pd = pytest.importorskip("pandas")


def test_the_table_keeps_its_class_and_pickles(profile):
    cls = type(profile)
    assert cls.__name__ == "BatchSizeProfile"
    assert isinstance(profile, pd.DataFrame)
    assert type(profile[profile["batch_size"] == 4]) is cls
    assert type(profile.copy()) is cls and type(profile.iloc[:2]) is cls
    again = pickle.loads(pickle.dumps(profile))
    assert type(again) is cls and again.attrs == profile.attrs
    pd.testing.assert_frame_equal(again, profile)


def test_plot_with_pandas_arguments_is_pandas_plot(profile, pyplot):
    ax = profile.plot(x="batch_size", y="samples_per_s")
    assert not isinstance(ax, np.ndarray)
    assert [line.get_label() for line in ax.lines] == ["samples_per_s"]
    _, single = pyplot.subplots()
    assert profile.plot(ax=single) is single  # one Axes: pandas' plot of every column
    assert profile.plot.scatter(x="batch_size", y="step_time_s") is not None


def test_plot_into_given_axes(profile, pyplot):
    _, given = pyplot.subplots(2, 1)
    axes = profile.plot(ax=given)
    assert list(axes) == list(given)
    with pytest.raises(ValueError, match="two matplotlib Axes"):
        plot_batch_profile(profile, ax=[given[0], given[1], given[0]])


def test_a_selection_the_profile_plot_cannot_draw_is_pandas_plot(profile, pyplot):
    # it kept the class and drew the profile plot, which raised KeyError: 'seq_len'
    ax = profile[["batch_size", "samples_per_s"]].plot()
    assert [line.get_label() for line in ax.lines] == ["batch_size", "samples_per_s"]
    assert len(profile.drop(columns="error").plot()) == 2  # the profile plot still
    with pytest.raises(ValueError, match=r"this table has no \['seq_len', 'peak_memory'"):
        plot_batch_profile(profile[["batch_size", "samples_per_s", "fits"]])
