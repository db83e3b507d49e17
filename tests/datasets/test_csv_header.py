"""Tests for the header of a CSV dataset file (sklstm/datasets/_csv_header.py): a first
line that names no column or is a comment, a header too long to show whole, and names
given twice are refused in words that fit a screen."""

import pandas as pd
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


@pytest.mark.parametrize("comment", ["# exported 2024\n", "# columns: t0,t1,label\n"],
                         ids=["no-target", "naming-the-target"])
def test_csv_with_a_comment_line_says_comments_are_not_read(tmp_path, comment):
    # "no target column 'label'" with no hint; a comment naming the target made the
    # header a sample, refused as "the value 't0'" of a column '# columns: t0'
    path = tmp_path / "data.csv"
    path.write_text(comment + TEXT)
    with pytest.raises(ValueError, match=r"data\.csv: line 1 \('# .*'\) is a comment: lines "
                                         r"starting with '#' are not read as comments.*"
                                         r"pd\.read_csv\(path, comment='#'\)\.to_csv\("
                                         r"new_path, index=False\)"):
        load_dataset(path, target="label")
    new_path = tmp_path / "new.csv"  # as told
    pd.read_csv(path, comment="#").to_csv(new_path, index=False)
    assert load_dataset(new_path, target="label")[1].tolist() == ["a", "b"]


def test_csv_column_named_by_a_hash_is_no_comment(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("#,t1,label\n0.5,1.5,a\n1.0,2.0,b\n")
    X, y = load_dataset(path, target="label")
    assert X.tolist() == [[0.5, 1.5], [1.0, 2.0]] and y.tolist() == ["a", "b"]


def test_csv_sequence_columns_of_one_name_are_refused_naming_them(tmp_path):
    # accepted: pandas reads them as t0 and t0.1, and a column repeated by a join
    # became a time step twice, silently
    path = tmp_path / "data.csv"
    path.write_text("t0,t0,t1,t1,t1,t1,label\n" + "1,1,2,2,2,2,a\n" * 2)
    with pytest.raises(ValueError, match=r"data\.csv: the header names 2 column name\(s\) "
                                         r"more than once: 't0' \(columns 1, 2\); 't1' "
                                         r"\(columns 3, 4, 5, \.\.\.\)\. Each time step needs "
                                         r"a name of its own \(pandas would read the "
                                         r"second 't0' as 't0\.1'\)"):
        load_dataset(path, target="label")
