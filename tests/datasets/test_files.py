"""Tests for load_dataset on CSV targets: values kept exactly, non-numbers refused by row."""

import numpy as np
import pytest

from sklstm.cli import main
from sklstm.datasets import load_dataset


def _csv(tmp_path, targets):
    path = tmp_path / "data.csv"
    path.write_text("t0,t1,label\n" + "".join(f"0.1,0.2,{t}\n" for t in targets))
    return path


@pytest.mark.parametrize(("targets", "expected", "dtype"), [
    (["9007199254740993", "9007199254740992"], [9007199254740993, 9007199254740992], np.int64),
    (["9007199254740993.0", "-2"], [9007199254740993, -2], np.int64),
    (["1e20", "2"], [1e20, 2.0], np.float64),
    (["00501", "02134"], ["00501", "02134"], np.str_),
    (["99999999999999999999", "99999999999999999998"],
     ["99999999999999999999", "99999999999999999998"], np.str_),
], ids=["above-2**53", "whole-float-above-2**53", "beyond-int64", "leading-zeros",
        "beyond-float64-precision"])
def test_csv_targets_are_kept_exactly(targets, expected, dtype, tmp_path, recwarn):
    _, y = load_dataset(_csv(tmp_path, targets), target="label")
    assert y.dtype.type is dtype
    assert y.tolist() == expected
    assert not recwarn.list  # no numpy cast warning either


@pytest.mark.parametrize(("targets", "row", "value", "more"), [
    (["1", "inf"], 3, "inf", ""),
    (["-Infinity", "0.5"], 2, "-Infinity", ""),
    (["nan", "1", "NaN", "nan"], 2, "nan", " (and 2 more such rows)"),
    (["1", "NA", "2"], 3, "NA", ""),
    (["1e400", "1"], 2, "1e400", ""),
    (["1", " ", "2"], 3, " ", ""),
], ids=["inf", "-Infinity", "nan", "NA", "beyond-float64", "empty"])
def test_csv_target_that_is_no_finite_number_is_refused_by_row(targets, row, value, more,
                                                               tmp_path):
    path = _csv(tmp_path, targets)
    with pytest.raises(ValueError) as info:
        load_dataset(path, target="label")
    message = str(info.value)
    assert message.startswith(f"{path}: row {row} (the header is row 1) has the target "
                              f"{value!r}{more}: ")
    assert "drop the row" in message


def test_sklstm_tune_refuses_an_infinite_csv_target(tmp_path, capsys):
    path = _csv(tmp_path, ["0", "1"] * 4 + ["inf"])
    code = main(["tune", str(path), "--target", "label", "--storage",
                 str(tmp_path / "s.journal"), "--n-trials", "1", "--cv", "2", "--no-progress"])
    assert code == 2
    assert "row 10 (the header is row 1) has the target 'inf'" in capsys.readouterr().err
    assert not (tmp_path / "s.journal").exists()
