"""Files that are not, or no longer, what ``save`` wrote: a clear ValueError, no code run."""

import builtins
import importlib
import json
import os
import pickle
import sys
import threading

import joblib
import numpy as np
import pytest
import torch
from safetensors.numpy import save_file

import sklstm
from sklstm import LSTMClassifier
from sklstm.persistence import FORMAT, FORMAT_VERSION

from .helpers import read_raw, rewrite_header

X = np.random.default_rng(0).normal(size=(20, 5, 2)).astype(np.float32)
Y = np.arange(20) % 2


@pytest.fixture
def saved(tmp_path, tiny):
    path = tmp_path / "model.safetensors"
    LSTMClassifier(**tiny).fit(X, Y).save(path)
    return path


class CreatesMarker:
    """Unpickling this object calls ``open(marker, "w")``: code from the file would run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["pickle", "joblib"])
def test_a_pickle_under_the_models_name_is_refused_unrun(writer, tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.safetensors"
    if writer == "pickle":
        path.write_bytes(pickle.dumps(CreatesMarker(marker)))
    else:
        joblib.dump(CreatesMarker(marker), path)
    pickle.loads(path.read_bytes()) if writer == "pickle" else joblib.load(path)
    assert marker.exists()  # the payload does run under pickle...
    marker.unlink()
    with pytest.raises(ValueError, match=r"is not an sklstm model file.*looks like a pickle"):
        sklstm.load(path)
    assert not marker.exists()  # ...and not under sklstm.load


@pytest.mark.parametrize("keep", [0, 3, 8, 100, -1])
def test_a_truncated_file_is_refused(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[:keep] if keep >= 0 else data[:-7])
    with pytest.raises(ValueError, match=r"is not an sklstm model file \(written by "
                       r"estimator.save\): unreadable or truncated"):
        sklstm.load(saved)


def test_a_changed_weight_is_detected(saved):
    data = bytearray(saved.read_bytes())
    data[-3] ^= 0xFF  # a byte of the last tensor
    saved.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum does not match: the file was modified"):
        sklstm.load(saved)


def test_a_changed_header_is_detected(saved):
    data = saved.read_bytes()
    saved.write_bytes(data.replace(b'\\"hidden_size\\":4', b'\\"hidden_size\\":5'))
    assert saved.read_bytes() != data
    with pytest.raises(ValueError, match="checksum does not match"):
        sklstm.load(saved)


EDITS = {
    "parameters that do not match the weights": (
        lambda h: h["params"].update(hidden_size=5), "module tensor .* saved parameters"),
    "a parameter out of its range": (
        lambda h: h["params"].update(hidden_size=-1), "'hidden_size' parameter"),
    "an attribute that is not a fitted attribute": (
        lambda h: h["attributes"].update(__class__=1), "unexpected attribute '__class__'"),
    "a method overwritten": (
        lambda h: h["attributes"].update(predict=1), "unexpected attribute 'predict'"),
    "an unknown class": (lambda h: h.update({"class": "os.system"}),
                         "unknown estimator class 'os.system'"),
    "an unknown JSON tag": (lambda h: h["params"].update(lr={"__pickle__": "x"}),
                            r"unexpected JSON object with keys \['__pickle__'\]"),
    "a tensor reference to nothing": (
        lambda h: h["attributes"].update(classes_={"__tensor__": "attr.nothing"}),
        "bad __tensor__ entry"),
    # a section missing, or not a JSON object: the message was only "'params'", or
    # "'list' object has no attribute 'items'"
    "no parameters": (lambda h: h.pop("params"),
                      "its header has no 'params' entry, which every file estimator.save "
                      "writes has"),
    "no history": (lambda h: h.pop("history"), "its header has no 'history' entry"),
    "attributes a list": (lambda h: h.update(attributes=[]),
                          "its header's 'attributes' entry is a list, but must be a JSON "
                          "object"),
    "unsaved parameters a list": (lambda h: h.update(unsaved_params=["lr"]),
                                  "its header's 'unsaved_params' entry is a list, but must "
                                  "be a JSON object"),
    # parameters the network is built without (a loaded model predicts without them):
    # they loaded, and the first refit failed on them
    "callbacks named in the file": (
        lambda h: h["params"].update(callbacks=["skorch.callbacks.Checkpoint"]),
        r"the parameter callbacks is \['skorch.callbacks.Checkpoint'\], but a model file "
        r"holds no callbacks .*set them with set_params after loading"),
    "callbacks a string": (lambda h: h["params"].update(callbacks="os.system"),
                           "the parameter callbacks is 'os.system', but a model file holds "
                           "no callbacks"),
    "random_state a string": (lambda h: h["params"].update(random_state="a"),
                              r"The 'random_state' parameter of LSTMClassifier must be .* "
                              r"Got 'a' instead.*load the file estimator.save wrote"),
    "a device torch does not name": (
        lambda h: h["params"].update(device="bogus"),
        r"the parameter device is 'bogus', which names no torch device .*load the file "
        "estimator.save wrote"),
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_a_deliberately_edited_file_is_refused(saved, name):
    change, message = EDITS[name]
    rewrite_header(saved, change)
    with pytest.raises(ValueError, match=f"not a valid sklstm model file: .*{message}"):
        sklstm.load(saved)


def test_an_extra_module_tensor_is_refused(saved):
    rewrite_header(saved, lambda h: None,
                   lambda t: t.update({"module.extra": np.zeros(3, np.float32)}))
    with pytest.raises(ValueError, match=r"unexpected module tensors \['extra'\]"):
        sklstm.load(saved)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_are_refused(saved, value):
    # a fit never leaves them (one that diverges raises): they loaded, and prediction
    # failed later blaming the input's range
    def spoil(tensors):
        tensors["module.head.bias"] = np.full_like(tensors["module.head.bias"], value)

    rewrite_header(saved, lambda h: None, spoil)
    with pytest.raises(ValueError, match=r"not a valid sklstm model file: module tensor "
                                         r"'head.bias' holds NaN or infinite values"):
        sklstm.load(saved)


@pytest.mark.parametrize("where", ["classes_", "history"])
def test_string_arrays_of_a_width_no_fit_makes_are_refused_unallocated(saved, where):
    # numpy gives every entry of a "<U" array the width the file names: a few bytes of
    # JSON took gigabytes, or failed with a raw MemoryError; three entries of 128 MiB (in
    # the history three arrays, each within the bound, together beyond it)
    def wide(labels):
        return {"__array__": labels, "dtype": f"<U{2**25}"}

    def widen(header):
        if where == "classes_":
            header["attributes"]["classes_"] = wide(["a", "b", "c"])
        else:
            header["history"][0]["__dict__"].update({f"note{i}": wide(["a"]) for i in range(3)})

    rewrite_header(saved, widen)
    with pytest.raises(ValueError, match=r"not a valid sklstm model file: its arrays of "
                                         r"strings would take 0\.375 GiB of memory"):
        sklstm.load(saved)


@pytest.mark.parametrize(("version", "message"), [
    (FORMAT_VERSION + 1, r"in model format 2; this sklstm .* reads format 1\. Upgrade sklstm"),
    (0, "in model format 0; .* Load it with the sklstm version that wrote it"),
    ("1", "in model format '1'"),
])
def test_another_format_version_is_refused_clearly(saved, version, message):
    rewrite_header(saved, lambda h: h.update(format_version=version))
    with pytest.raises(ValueError, match=message):
        sklstm.load(saved)


def test_other_files(tmp_path):
    plain = tmp_path / "weights.safetensors"
    save_file({"w": np.zeros(2, np.float32)}, str(plain))
    with pytest.raises(ValueError, match="a safetensors file, but without sklstm's metadata"):
        sklstm.load(plain)
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    with pytest.raises(ValueError, match="not an sklstm model file"):
        sklstm.load(text)
    with pytest.raises(FileNotFoundError, match="no sklstm model file at"):
        sklstm.load(tmp_path / "missing.safetensors")
    with pytest.raises(IsADirectoryError, match="is a directory, not an sklstm model file"):
        sklstm.load(tmp_path)  # "no sklstm model file at" a directory that is there


@pytest.mark.parametrize(("metadata", "message"), [
    (None, "a safetensors file, but without sklstm's metadata"),
    ({"format": FORMAT}, ""),  # (unreadable; or, where numpy holds it, without the rest)
], ids=["another program's", "sklstm's"])
def test_a_file_of_tensors_numpy_cannot_hold_is_refused(tmp_path, metadata, message):
    # float8 (as in quantized language models): safetensors asks numpy for the dtype by
    # name, a raw AttributeError. Another program's file is refused before its tensors
    # are read (a language model's gigabytes were all read first).
    header = {"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]},
              **({} if metadata is None else {"__metadata__": metadata})}
    text = json.dumps(header).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(len(text).to_bytes(8, "little") + text + b"\0\0")
    with pytest.raises(ValueError, match=f"is not an sklstm model file .*{message}"):
        sklstm.load(path)


@pytest.mark.parametrize("writer", [
    lambda path, est: torch.save(est.net_.module_.state_dict(), path),
    lambda path, est: joblib.dump(est, path, compress="xz"),
    lambda path, est: joblib.dump(est, path, compress=("zlib", 1)),
], ids=["torch.save", "joblib xz", "joblib zlib level 1"])
def test_a_torch_or_compressed_joblib_file_is_named_as_such(writer, saved):
    # safetensors read their first bytes as a header size: "header too large", and
    # the file was taken for a damaged model file
    writer(saved, sklstm.load(saved))
    with pytest.raises(ValueError, match=r"looks like (a zip archive \(as torch\.save "
                                         r"writes\)|a joblib file): sklstm.load never "
                                         "unpickles"):
        sklstm.load(saved)


def test_what_is_no_path_is_refused_naming_the_fix(saved):
    est = sklstm.load(saved)
    # os.fsdecode's "expected str, bytes or os.PathLike object, not int" named neither
    # the argument nor, for an open file, that its name is wanted
    with open(saved, "rb") as f, pytest.raises(
            TypeError, match=r"cannot load a model: path must be a str or os.PathLike, not "
                             r"BufferedReader; pass the file's name \('.*model.safetensors'\)"):
        sklstm.load(f)
    with pytest.raises(TypeError, match=r"cannot save the model: path must be a str or "
                                        r"os.PathLike, not NoneType; give a file name"):
        est.save(None)
    with pytest.raises(TypeError, match=r"cannot load a model: .*, not int"):
        sklstm.load(3)


def test_two_threads_saving_to_one_path_both_succeed(saved):
    """Each thread writes a temporary file of its own (they shared one: one removed it
    under the other, whose save failed with "No such file or directory")."""
    est, errors, start = sklstm.load(saved), [], threading.Barrier(2)

    def save_repeatedly():
        start.wait()
        for _ in range(30):
            try:
                est.save(saved)
            except OSError as error:
                errors.append(error)

    threads = [threading.Thread(target=save_repeatedly) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert os.listdir(saved.parent) == [saved.name]
    assert sklstm.load(saved).hidden_size == est.hidden_size


def test_save_replaces_a_file_whole(saved, tiny):
    """The new file is written beside the old one and renamed over it."""
    before = read_raw(saved)[0]["sha256"]
    LSTMClassifier(**{**tiny, "hidden_size": 3}).fit(X, Y).save(saved)
    assert read_raw(saved)[0]["sha256"] != before
    assert os.listdir(saved.parent) == [saved.name]
    assert sklstm.load(saved).hidden_size == 3


def test_a_file_another_sklstm_wrote_names_it_when_refused(saved):
    # a newer sklstm's fit setting, in a file of the same format: the message blamed an
    # edit of the file, and not the version
    def newer(header):
        header["sklstm_version"] = "99.0"
        header["attributes"]["_sequence_params"]["__dict__"]["new_setting"] = 1

    rewrite_header(saved, newer)
    with pytest.raises(ValueError, match=r"'_sequence_params' has the entries .*new_setting"
                       r".* It was written by sklstm 99\.0, and this is sklstm .*: load it "
                       r"with the version that wrote it\."):
        sklstm.load(saved)
    rewrite_header(saved, lambda h: h.update(sklstm_version=sklstm.__version__))
    with pytest.raises(ValueError, match=r"new_setting") as refused:
        sklstm.load(saved)
    assert "written by sklstm" not in str(refused.value)


def test_loading_a_valid_file_unpickles_imports_and_evaluates_nothing(saved, monkeypatch):
    """What keeps a crafted file from running code: no unpickler, no ``torch.load``, no
    import of a module the process had not imported, no ``eval``/``exec``."""
    expected = sklstm.load(saved).predict_proba(X)  # (what a first load imports lazily)
    calls = []

    def refuse(name):
        def refused(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"load called {name}")
        return refused

    real_import = builtins.__import__

    def known_only(name, *args, **kwargs):
        if name not in sys.modules:
            calls.append(f"import {name}")
        return real_import(name, *args, **kwargs)

    for module, names in ((pickle, ("loads", "load", "Unpickler")), (torch, ("load",)),
                          (joblib, ("load",)), (importlib, ("import_module",)),
                          (builtins, ("eval", "exec"))):
        for name in names:
            monkeypatch.setattr(module, name, refuse(f"{module.__name__}.{name}"))
    monkeypatch.setattr(builtins, "__import__", known_only)
    loaded = sklstm.load(saved)
    monkeypatch.undo()
    assert calls == []
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
