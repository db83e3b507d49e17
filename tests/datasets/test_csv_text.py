"""Tests for the text side of the CSV reader (sklstm/datasets/_csv_text.py): the encoding
advised for a file in another one reads its text as written, and a value beyond csv's
field limit is told apart from a quote left open."""

import pytest

from sklstm.datasets import load_dataset

from .test_csv import _convert_as_told


@pytest.mark.parametrize(("labels", "advised"), [
    (["Don\u2019t buy", "\u20ac price"], "cp1252"),  # Excel on Windows: bytes 0x92, 0x80
    (["caf\u00e9", "na\u00efve"], "latin-1"),  # no byte 0x80-0x9f: latin-1 as before
], ids=["windows-quote-and-euro", "accents-only"])
def test_csv_in_a_one_byte_encoding_is_advised_the_one_that_reads_its_text(
        tmp_path, labels, advised):
    # latin-1, the advice for all before, read 0x92 as the control character '\x92':
    # the label 'Don\x92t buy', silently
    path = tmp_path / "data.csv"
    path.write_bytes(b"t0,label\n" + "".join(
        f"0.{i},{label}\n" for i, label in enumerate(labels)).encode("cp1252"))
    with pytest.raises(ValueError, match=rf"not valid utf-8 .*load_dataset\(path, "
                                         rf"encoding='{advised}'\)$"):
        load_dataset(path, target="label")
    assert load_dataset(path, target="label", encoding=advised)[1].tolist() == labels


def test_csv_line_beyond_the_field_limit_without_quotes_is_told_its_separator(tmp_path):
    # a wide export separated by ';': its header, one field of 30,000 names, was told
    # "a quote (") left open joins the lines after it", and the file has no quote
    path = tmp_path / "data.csv"
    names = [f"t{i}" for i in range(30000)]
    path.write_text(";".join([*names, "label"]) + "\n" + ";".join(["0.5"] * 30000 + ["a"]))
    with pytest.raises(ValueError, match=r"field limit \(131072\)\); a line holds more than "
                                         r"that without a comma .* separated by ';'") as info:
        load_dataset(path, target="label")
    assert "quote" not in str(info.value)
    X, y = load_dataset(_convert_as_told(str(info.value), path, tmp_path), target="label")
    assert X.shape == (1, 30000) and y.tolist() == ["a"]
