"""load_space: the fix its messages name for common mistakes in a space's JSON."""

import json

import pytest

from sklstm.search import load_space


def _one_line_error(source):
    with pytest.raises(ValueError) as info:
        load_space(source)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(("text", "fix"), [
    # json's "Expecting property name enclosed in double quotes" / "Expecting value"
    # named the problem, not the fix
    ('{"batch_size": [16, 32],}', "remove the comma before '}'"),
    ('{"batch_size": [16, 32,]}', "remove the comma before ']'"),
    ('{"batch_size": [16, 32],\n}', "remove the comma before '}'"),
    ("{'batch_size': [16, 32]}", "JSON takes no single quotes"),
    ('{"pooling": [\'sum\']}', "JSON takes no single quotes"),
    ("{batch_size: [16, 32]}", 'write names in double quotes ("name")'),
    ('{"lr": {"low": 1e-4, "high": 0.1, "log": True}}', "write true, false and null"),
    ('{"seq_len": None}', "write true, false and null"),
])
def test_a_json_syntax_mistake_says_its_fix(text, fix, tmp_path):
    path = tmp_path / "space.json"
    path.write_text(text)
    for source in (text, path):
        assert fix in _one_line_error(source)


def test_a_trailing_comma_is_not_taken_for_single_quotes():
    message = _one_line_error('{"batch_size": [16, 32],}')
    assert "single quotes" not in message and "search space is neither" in message


@pytest.mark.parametrize(("entry", "swapped"), [
    ({"low": 0.1, "high": 0.001}, '{"low": 0.001, "high": 0.1}'),
    ({"low": 0.1, "high": 0.001, "log": True}, '{"low": 0.001, "high": 0.1, "log": true}'),
    ({"low": 64, "high": 8, "step": 8}, '{"low": 8, "high": 64, "step": 8}'),
])
def test_a_range_whose_low_is_above_its_high_says_to_swap_them(entry, swapped):
    # Optuna's "`low <= high` must hold" said no fix
    message = _one_line_error({"lr": entry})
    assert message.startswith("space entry 'lr': ")
    assert message.endswith(f"swap them: {swapped}") and ".;" not in message
    fixed = load_space({"lr": json.loads(swapped)})["lr"]  # the fix given loads
    assert (fixed.low, fixed.high) == (entry["high"], entry["low"])


def test_an_optuna_distribution_json_whose_low_is_above_its_high_says_to_swap_them():
    message = _one_line_error('{"lr": {"name": "FloatDistribution", "attributes": '
                              '{"low": 1.0, "high": 0.0, "log": false, "step": null}}}')
    assert message.startswith("space entry 'lr': ") and "swap" in message


@pytest.mark.parametrize(("entry", "fix"), [
    ({"low": 1e-4, "high": 0.1, "lg": True}, "did you mean 'log' for 'lg'?"),
    ({"low": 8, "high": 64, "steps": 8}, "did you mean 'step' for 'steps'?"),
    # a misspelt end made the entry "a dict must be {'low': .., 'high': ..}", no fix
    ({"lw": 1e-4, "high": 0.1}, "did you mean 'low' for 'lw'?"),
    ({"low": 1e-4, "hihg": 0.1, "lg": True},
     "did you mean 'high' for 'hihg', 'log' for 'lg'?"),
])
def test_an_unknown_range_key_suggests_the_closest_known_one(entry, fix):
    message = _one_line_error({"lr": entry})
    assert message.startswith("space entry 'lr': unexpected keys [")
    assert fix in message


def test_an_unknown_range_key_with_no_close_one_says_which_keys_a_range_takes():
    message = _one_line_error({"lr": {"low": 1, "high": 2, "x": 0}})
    assert "did you mean" not in message
    assert "a range takes only 'low', 'high', 'log' and 'step'" in message


def test_a_key_that_is_there_already_is_not_suggested():
    # 'hi' is closest to 'high', which the entry holds: 'hi' is to be removed, not renamed
    message = _one_line_error({"lr": {"low": 1, "high": 2, "hi": 0}})
    assert "did you mean" not in message


@pytest.mark.parametrize("path", ["space.jsn", "space.txt", "space.yaml", "spaces\\lstm.json",
                                  "spaces\\lstm"])
def test_a_mistyped_file_name_says_the_file_does_not_exist(path, tmp_path, monkeypatch):
    # "Expecting value: line 1 column 1 (char 0)" said nothing of a file
    monkeypatch.chdir(tmp_path)
    message = _one_line_error(path)
    assert message.startswith(f"search space file {path!r} not found")
    assert "Expecting value" not in message


def test_a_mistyped_file_name_suggests_the_file_next_to_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "space.json").write_text('{"batch_size": [8]}')
    (tmp_path / "other.csv").write_text("a\n1\n")
    assert "(did you mean 'space.json'?)" in _one_line_error("space.jsn")
    assert "did you mean" not in _one_line_error("zzz.txt")
    (tmp_path / "spaces").mkdir()
    (tmp_path / "spaces" / "lstm.json").write_text("{}")
    assert "did you mean 'spaces/lstm.json'?" in _one_line_error("spaces/lstm.jsn")


@pytest.mark.parametrize("path", ["spaces", "spaces/", "space.json"])
def test_a_directory_is_named_as_one_with_the_fix(path, tmp_path, monkeypatch):
    # a bare folder name was taken for JSON text: "neither a JSON file nor JSON text:
    # Expecting value: line 1 column 1", and a folder path said "is not a file"
    monkeypatch.chdir(tmp_path)
    (tmp_path / path).mkdir()
    for given in (path, tmp_path / path):
        message = _one_line_error(given)
        assert message.startswith(f"search space file {str(given)!r} is a directory: give "
                                  "the path of a JSON file"), message


@pytest.mark.parametrize("text", ['["a/b", 1', '"space.jsn'])
def test_broken_json_text_holding_a_path_is_not_taken_for_a_file(text):
    message = _one_line_error(text)
    assert message.startswith("search space is neither a JSON file nor JSON text")
