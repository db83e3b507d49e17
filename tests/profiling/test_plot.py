"""plot_batch_profile: throughput and peak memory against the batch size."""

import sys

import numpy as np
import pytest

from sklstm.profiling import plot_batch_profile

pd = pytest.importorskip("pandas")


def _seq_lines(ax):
    return [line for line in ax.lines if line.get_label().startswith("seq_len=")]


def test_plot_draws_two_panels_with_a_line_per_seq_len(profile, pyplot):
    axes = profile.plot()
    assert len(axes) == 2
    for ax in axes:
        assert [line.get_label() for line in _seq_lines(ax)] == ["seq_len=full",
                                                                 "seq_len=10"]
        assert ax.get_xscale() == "log"
        for line in _seq_lines(ax):
            assert list(line.get_xdata()) == [4, 8]
    assert axes[0].get_ylabel() == "samples / s"
    assert axes[1].get_ylabel() == "peak memory (MiB)"
    memory = _seq_lines(axes[1])[0].get_ydata()
    full = profile[profile["seq_len"].isna()]
    np.testing.assert_allclose(memory, full["peak_memory"].to_numpy(float) / 2**20)


def test_plot_marks_what_does_not_fit_and_the_budget(profile, pyplot):
    marked = profile.copy()
    marked.loc[3, "fits"] = False
    marked.loc[2, ["samples_per_s", "step_time_s", "peak_memory"]] = np.nan
    marked.loc[2, "fits"] = False
    marked.attrs["max_memory"] = 2**20
    axes = marked.plot()
    for ax in axes:
        assert len(_seq_lines(ax)) == 2
        crosses = sum(len(c.get_offsets()) for c in ax.collections)
        assert crosses == 2
    assert [line.get_label() for line in axes[1].lines
            if not line.get_label().startswith("seq_len=")] == ["budget (1 MiB)"]


def test_plot_batch_profile_reads_a_plain_dataframe(pyplot):
    frame = pd.DataFrame({"batch_size": [8, 16, 8, 16], "seq_len": [None, None, 10, 10],
                          "samples_per_s": [900.0, 1500.0, 2000.0, 3500.0],
                          "peak_memory": [2**20, 2**21, 2**19, 2**20],
                          "fits": [True, True, True, True]})
    axes = plot_batch_profile(frame)
    assert [len(_seq_lines(ax)) for ax in axes] == [2, 2]
    assert _seq_lines(axes[0])[1].get_label() == "seq_len=10"


def test_a_budget_past_floats_is_drawn_above_the_panel(pyplot):
    # max_memory=10**400 is accepted; its MiB were an OverflowError
    frame = pd.DataFrame({"batch_size": [8, 16], "seq_len": [None, None],
                          "samples_per_s": [900.0, 1500.0], "peak_memory": [2**20, 2**21],
                          "fits": [True, True]})
    frame.attrs["max_memory"] = 10**400
    axes = plot_batch_profile(frame)
    assert axes[1].get_legend().get_texts()[-1].get_text() == (
        "budget (1.02e+295 MiB, above the panel)")


def test_plot_reads_a_table_with_nullable_integers(profile, pyplot):
    # convert_dtypes() (or a Parquet round trip) makes seq_len Int64, None becoming <NA>
    axes = plot_batch_profile(profile.convert_dtypes())
    assert [line.get_label() for line in _seq_lines(axes[0])] == ["seq_len=full",
                                                                  "seq_len=10"]


def test_a_missing_fits_verdict_is_drawn_without_a_cross(profile, pyplot):
    # a table reindexed or merged with convert_dtypes(): fits <NA>, which raised pandas'
    # "cannot convert to 'bool'-dtype NumPy array with missing values"
    table = profile.convert_dtypes()
    table["fits"] = pd.array([pd.NA, False, True, True], dtype="boolean")
    for ax in plot_batch_profile(table):
        crosses = [c for c in ax.collections if c.get_label() == "does not fit"]
        assert len(crosses) == 1 and len(crosses[0].get_offsets()) == 1  # the False alone


@pytest.mark.parametrize("measured", [[True, True, False], [False, False, False]],
                         ids=["largest-out-of-memory", "all-out-of-memory"])
def test_the_crosses_of_pairs_out_of_memory_are_on_the_panels(pyplot, measured):
    # the largest batch size's cross (no figures: out of memory) was off the panels,
    # whose x range came from the measured pairs alone; with none measured, the log
    # axis had no range and drawing the figure raised
    measured = np.array(measured)
    frame = pd.DataFrame({"batch_size": [8, 16, 32], "seq_len": [None] * 3,
                          "samples_per_s": np.where(measured, 100.0, np.nan),
                          "peak_memory": pd.array(np.where(measured, 2**20, None),
                                                  dtype="Int64"),
                          "fits": measured})
    axes = plot_batch_profile(frame)
    axes[0].figure.canvas.draw()
    for ax in axes:
        low, high = ax.get_xlim()
        assert low < 8 and high > 32


def test_the_crosses_are_named_once_in_each_legend(pyplot):
    # a pair over the budget and a larger one out of memory (no figures): the legends
    # listed "does not fit" twice, once for each kind of cross
    frame = pd.DataFrame({"batch_size": [8, 16, 32, 8, 16], "seq_len": [None] * 3 + [10] * 2,
                          "samples_per_s": [100.0, 150.0, np.nan, 200.0, np.nan],
                          "peak_memory": pd.array([2**20, 2**22, None, 2**20, None],
                                                  dtype="Int64"),
                          "fits": [True, False, False, False, False]})
    frame.attrs["max_memory"] = 3 * 2**20
    for ax in plot_batch_profile(frame):
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert labels.count("does not fit") == 1, labels
        assert sum(len(c.get_offsets()) for c in ax.collections) == 4  # every cross drawn


# -- the memory panel's budget: a label in the panel's unit, a line that keeps the peaks readable
def _budget_frame(budget):
    frame = pd.DataFrame({"batch_size": [4, 8], "seq_len": [None, None],
                          "samples_per_s": [900.0, 1500.0],
                          "peak_memory": [2**20, 3 * 2**20], "fits": [True, True]})
    frame.attrs["max_memory"] = budget
    return frame


def _budget_label(ax):
    return [line.get_label() for line in ax.lines if line not in _seq_lines(ax)]


def test_a_budget_far_above_the_peaks_leaves_them_the_panel(pyplot):
    # profile_batch_sizes(..., max_memory="2GiB") over peaks of 1-3 MiB: the budget's
    # line stretched the panel to 2048 MiB and drew the peaks flat on its floor
    memory = plot_batch_profile(_budget_frame(2 * 2**30))[1]
    assert memory.get_ylim()[1] < 10
    assert _budget_label(memory) == ["budget (2048 MiB, above the panel)"]


def test_a_budget_near_the_peaks_is_drawn_on_the_panel(pyplot):
    memory = plot_batch_profile(_budget_frame(5 * 2**20))[1]
    assert memory.get_ylim()[1] >= 5 and _budget_label(memory) == ["budget (5 MiB)"]


def test_a_budget_below_one_mib_is_not_labelled_zero(pyplot):
    # "500KB" was labelled "budget (0 MiB)"
    assert _budget_label(plot_batch_profile(_budget_frame(500_000))[1]) == ["budget (0.477 MiB)"]


def test_without_matplotlib_the_error_says_what_to_install(profile, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="needs matplotlib: pip install matplotlib"):
        profile.plot()


def test_a_profile_without_rows_draws_empty_panels_without_a_warning(profile, pyplot):
    # profile[profile["fits"]] where no pair fits: matplotlib warned "No artists with
    # labels found to put in legend"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        axes = profile.iloc[:0].plot()
    assert [len(_seq_lines(ax)) for ax in axes] == [0, 0]


def test_repeated_profiles_are_drawn_through_their_medians(profile, pyplot):
    # the docs advise repeating a profile and comparing medians: the plot of the runs
    # concatenated drew one line through every row, zigzagging up and down each batch
    # size in no particular order
    runs = []
    for factor in (1.0, 3.0, 2.0):
        run = profile.copy()
        run["samples_per_s"] = profile["samples_per_s"] * factor
        runs.append(run)
    axes = pd.concat(runs, ignore_index=True).plot()
    for line in _seq_lines(axes[0]):
        assert list(line.get_xdata()) == [4, 8]
    full = profile[profile["seq_len"].isna()]
    np.testing.assert_allclose(_seq_lines(axes[0])[0].get_ydata(),
                               2 * full["samples_per_s"].to_numpy())
    # each run is a dot: 3 runs of 2 batch sizes per seq_len
    assert [len(c.get_offsets()) for c in axes[0].collections] == [6, 6]


def test_pairs_whose_loss_diverged_are_marked(pyplot):
    # their figures stand (every step ran) and fits is True, so the plot drew them as
    # any other pair: the fastest point could be a batch size that does not train
    frame = pd.DataFrame({"batch_size": [8, 16, 32], "seq_len": [None] * 3,
                          "samples_per_s": [100.0, 150.0, 200.0],
                          "peak_memory": [2**20, 2**21, 2**22], "fits": [True] * 3,
                          "error": [None, "DivergenceError: LSTMClassifier diverged",
                                    "DivergenceError: LSTMClassifier diverged"]})
    marked = ([[16, 150], [32, 200]], [[16, 2], [32, 4]])  # samples/s, MiB
    for ax, points in zip(plot_batch_profile(frame), marked, strict=True):
        labels = [text.get_text() for text in ax.get_legend().get_texts()]
        assert labels.count("loss diverged") == 1, labels
        [marks] = ax.collections
        np.testing.assert_allclose(marks.get_offsets(), points)
    # a table without the error column (the plotted columns alone) draws as before
    axes = plot_batch_profile(frame.drop(columns="error"))
    assert [len(ax.collections) for ax in axes] == [0, 0]
