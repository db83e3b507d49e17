"""Parameter and attribute values as JSON and back (``_codec.py``): numpy scalars,
dicts keyed by labels, tuples, paths, optimizer classes."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_array_equal
from skorch.callbacks import Callback

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.persistence._codec import decode, encode

from .samples import X3


def test_dicts_with_keys_that_are_not_str_round_trip():
    # class_weight's keys are class labels: such a dict was "not saved", as if it were code
    value = {0: 1.0, np.int64(1): 3.0, (2, "x"): [0.5], "lo": np.float32(2.0)}
    tensors = {}
    data = encode(value, "attr.param.class_weight", tensors)
    assert json.loads(json.dumps(data)) == data
    decoded = decode(data, tensors)
    assert decoded == {0: 1.0, 1: 3.0, (2, "x"): [0.5], "lo": 2.0}
    assert [type(key) for key in decoded] == [int, int, tuple, str]
    with pytest.raises(ValueError, match="bad __items__ key"):
        decode({"__items__": [[[1, 2], 3.0]]}, {})

def test_class_weight_by_label_is_saved(tmp_path, tiny):
    est = LSTMClassifier(**tiny, class_weight={0: 1.0, 1: 3.0}).fit(X3, np.arange(24) % 2)
    est.save(tmp_path / "m.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it warned that class_weight was code, not saved
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.class_weight == {0: 1.0, 1: 3.0}

@pytest.mark.parametrize("labels", [
    np.array(["2020-01-01", "2021-01-01"], dtype="datetime64[D]"),
    np.array(["2020-01-01T00:00:00.000000001", "2020-01-02"], dtype="datetime64[ns]"),
    np.array([1, 90], dtype="timedelta64[m]")], ids=["days", "nanoseconds", "durations"])
def test_date_and_duration_labels_are_saved(labels, tmp_path, tiny):
    # a classifier fitted on dates (as fit and predict take them) could not be saved:
    # "the fitted attribute 'classes_' is an array of dtype datetime64[D] ... pickle";
    # a class_weight by date was "a parameter that is code", not saved
    class_weight = {labels[1]: 2.0, labels[0]: 1.0}
    est = LSTMClassifier(**tiny, class_weight=class_weight).fit(X3, labels[np.arange(24) % 2])
    est.save(tmp_path / "m.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.class_weight == class_weight
    assert [type(key) for key in loaded.class_weight] == [type(labels[0])] * 2
    assert loaded.classes_.dtype == labels.dtype
    assert_array_equal(loaded.classes_, labels)
    assert loaded.predict(X3).dtype == labels.dtype
    assert_array_equal(loaded.predict(X3), est.predict(X3))
    assert_array_equal(loaded.predict_proba(X3), est.predict_proba(X3))


def test_times_are_their_counts_in_any_byte_order_and_crafted_ones_are_refused():
    dates = np.array(["2020-01-01", "1969-12-31"], dtype=">M8[D]")  # (big-endian)
    tensors = {}
    decoded = decode(encode(dates, "attr.classes_", tensors), tensors)
    assert decoded.dtype == np.dtype("=M8[D]")
    assert_array_equal(decoded, dates)
    counts = {"k": np.array([1, 2], dtype=np.int64)}
    for data, tensors in [({"__times__": "k", "dtype": "<M8[D]"}, {"k": np.ones(2)}),
                          ({"__times__": "k", "dtype": "<M8"}, counts),
                          ({"__times__": "k", "dtype": "<i8"}, counts),
                          ({"__times__": "nothing", "dtype": "<m8[s]"}, counts)]:
        with pytest.raises(ValueError, match="bad __times__ entry"):
            decode(data, tensors)
    with pytest.raises(ValueError, match="unexpected JSON object"):
        decode({"__times__": "k", "dtype": "<M8[D]", "x": 1}, counts)


def test_optimizer_classes_of_torch_tuples_and_paths_round_trip(tmp_path, tiny):
    est = LSTMRegressor(**tiny, optimizer=torch.optim.AdamW,
                        optimizer_params={"betas": (0.8, 0.9)},
                        checkpoint=tmp_path / "run").fit(X3, X3[:, 0, 0])
    est.save(tmp_path / "m.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a path was "a parameter that is code"
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.optimizer is torch.optim.AdamW
    assert loaded.optimizer_params == {"betas": (0.8, 0.9)}
    assert loaded.checkpoint == tmp_path / "run" and isinstance(loaded.checkpoint, Path)

def test_numpy_parameters_are_saved_as_numbers(tmp_path, tiny):
    est = LSTMRegressor(**{**tiny, "hidden_size": np.int64(3), "lr": np.array(0.02)})
    est.fit(X3, X3[:, 0, 0]).save(tmp_path / "m.safetensors")
    loaded = sklstm.load(tmp_path / "m.safetensors")
    assert loaded.hidden_size == 3 and type(loaded.hidden_size) is int
    assert loaded.lr == 0.02 and type(loaded.lr) is float


def test_arrays_whose_names_make_the_same_key_are_each_saved():
    # {"a.b": x, "a": {"b": y}} put both at "….a.b": y was written over x, silently
    value = {"a.b": np.array([1.0, 2.0]), "a": {"b": np.array([3, 4, 5])},
             "c": [np.array([6.0])], "c.0": np.array([7.0])}
    tensors = {}
    data = encode(value, "attr.param.p", tensors)
    assert len(tensors) == 4
    decoded = decode(json.loads(json.dumps(data)), tensors)
    assert_array_equal(decoded["a.b"], [1.0, 2.0])
    assert_array_equal(decoded["a"]["b"], [3, 4, 5])
    assert_array_equal(decoded["c"][0], [6.0])
    assert_array_equal(decoded["c.0"], [7.0])


LONGDOUBLE = pytest.mark.skipif(np.dtype(np.longdouble).itemsize <= 8,
                                reason="np.longdouble is float64 on this platform")


@LONGDOUBLE
def test_numbers_wider_than_64_bits_are_not_saved():
    # np.longdouble (float128) arrays went to the tensors, and safetensors failed the
    # whole save with a raw "Unknown dtype"; each narrower dtype is still a tensor
    from sklstm.persistence._codec import Unsaved

    with pytest.raises(Unsaved, match="ndarray"):
        encode(np.array([0.0, 1.0], dtype=np.longdouble), "attr.classes_", {})
    tensors = {}
    for dtype in (np.bool_, np.int8, np.uint64, np.float16, np.float64):
        encode(np.zeros(2, dtype=dtype), f"k.{np.dtype(dtype).name}", tensors)
    assert len(tensors) == 5


@LONGDOUBLE
def test_labels_wider_than_64_bits_are_refused_on_save_and_history_entries_left_out(
        tmp_path, tiny):
    # float128 labels (classes_) and a callback's float128 array: the save failed with
    # safetensors' raw "SafetensorError: Unknown dtype "float128"", naming neither
    est = LSTMClassifier(**{**tiny, "device": "cpu"}).fit(
        X3, (np.arange(24) % 2).astype(np.longdouble))
    with pytest.raises(ValueError, match=r"the fitted attribute 'classes_' is an array of "
                       r"dtype float(96|128) .* numbers of at most 64 bits.*joblib.dump"):
        est.save(tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()
    est = LSTMRegressor(**{**tiny, "device": "cpu"}, callbacks=[RecordsWideNumbers()])
    est.fit(X3, X3[:, 0, 0])
    with pytest.warns(UserWarning, match=r"entries \['wide'\] are not saved.* 64 bits"):
        est.save(tmp_path / "m.safetensors")
    with pytest.warns(UserWarning, match="callbacks"):
        loaded = sklstm.load(tmp_path / "m.safetensors")
    assert "wide" not in loaded.history_[-1]
    assert_array_equal(loaded.predict(X3), est.predict(X3))


class RecordsWideNumbers(Callback):
    def on_epoch_end(self, net, **kwargs):
        net.history.record("wide", np.array([1.5], dtype=np.longdouble))


def test_values_nested_deeper_than_a_file_holds_are_not_saved_nor_loaded():
    # the recursion of encode, decode and the checks after them: a value of some 500
    # levels was saved into a file that never loaded, or failed the save with a raw
    # RecursionError; a crafted file's was refused as "maximum recursion depth exceeded"
    from sklstm.persistence._codec import MAX_DEPTH, Unsaved

    def nested(levels, wrap):
        value = 1
        for _ in range(levels):
            value = wrap(value)
        return value

    assert decode(encode(nested(MAX_DEPTH, tuple_of), "k", {}), {}) == nested(MAX_DEPTH,
                                                                              tuple_of)
    with pytest.raises(Unsaved, match=f"nested more than {MAX_DEPTH} levels"):
        encode(nested(MAX_DEPTH + 1, lambda v: [v]), "k", {})
    with pytest.raises(ValueError, match=f"a value nested more than {MAX_DEPTH} levels"):
        # (a history's values are that deep within its epochs and batches: 4 levels more)
        decode(nested(MAX_DEPTH + 5, lambda v: {"__tuple__": [v]}), {})


def tuple_of(value):
    return (value,)
