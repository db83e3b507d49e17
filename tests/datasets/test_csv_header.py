"""Tests for the header of a CSV dataset file (sklstm/datasets/_csv_header.py): a first
line that names no column, and a header too long to show whole, are refused in words
that fit a screen."""

import pytest

from sklstm.datasets import load_dataset

TEXT = "t0,t1,label\n0.5,1.5,a\n1.0,2.0,b\n"


@pytest.mark.parametrize("above", ["\n", " \n", ",,\n"], ids=["blank", "spaces", "empty-cells"])
def test_csv_with_a_line_above_the_header_is_refused_naming_it(tmp_path, above):
    # "no target column 'label' (0 columns: [])" named neither the line nor the fix
    path = tmp_path / "data.csv"
    path.write_text(above + TEXT)
    with pytest.raises(ValueError, match=r"data\.csv: line 1 \('.*'\) names no column: the "
                                         r"header row must be the file's first line; delete"):
        load_dataset(path, target="label")
    path.write_text(TEXT)  # as told
    assert load_dataset(path, target="label")[1].tolist() == ["a", "b"]


def test_csv_header_of_one_long_name_is_shown_cut(tmp_path):
    # 20,000 steps separated by ';' are one name of 129,000 characters, shown whole
    path = tmp_path / "data.csv"
    path.write_text(";".join([*(f"t{i}" for i in range(20000)), "label"]) + "\n"
                    + ";".join(["0.5"] * 20000 + ["a"]) + "\n")
    with pytest.raises(ValueError, match=r"\(1 columns: \['t0;t1;t2;.{20,40}\.\.\.'\]\); the "
                                         r"file looks separated by ';'") as info:
        load_dataset(path, target="label")
    assert len(str(info.value)) < 500
