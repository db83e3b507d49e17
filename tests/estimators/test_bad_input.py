"""Bad input and bad hyperparameters: clear errors before any training starts."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklstm import LSTMClassifier, LSTMRegressor

from ..settings import traced_peak

rng = np.random.default_rng(0)
X3 = rng.normal(size=(20, 5, 2)).astype(np.float32)
Y_CLASS = np.arange(20) % 2
Y_REG = rng.normal(size=20)


def _with(values, index, value):
    out = np.array(values, dtype=float)
    out[index] = value
    return out


BAD_DATA = {
    "nan in X": (_with(X3, (3, 1, 0), np.nan), Y_CLASS, ValueError, "Input X contains NaN"),
    "inf in X": (_with(X3, (3, 1, 0), np.inf), Y_CLASS, ValueError, "Input X contains inf"),
    # scikit-learn's "Input y contains NaN." named neither the sample nor the fix
    "nan in y": (X3, _with(Y_REG, 4, np.nan), ValueError,
                 r"Input y contains NaN at sample 4 \(1 of 20 targets .*keep = "
                 r"numpy.isfinite\(y\), then X\[keep\], y\[keep\]\) or fill them in"),
    "inf in y": (X3, _with(Y_REG, 4, np.inf), ValueError, "Input y contains infinity at sample 4"),
    "nan in 2D y": (X3, _with(np.c_[Y_REG, Y_REG], (6, 1), np.nan), ValueError,
                    r"NaN at sample 6 .*keep = numpy.isfinite\(y\).all\(axis=1\)"),
    "1D X": (np.ones(20), Y_CLASS, ValueError, "got 1D input.*Reshape your data"),
    "4D X": (np.ones((20, 3, 2, 2)), Y_CLASS, ValueError, "got 4D input"),
    "zero samples": (np.ones((0, 5, 2)), np.array([]), ValueError, "0 sample"),
    "length mismatch": (X3, Y_CLASS[:-1], ValueError, "inconsistent numbers of samples"),
    # a (5, 2) sequence with its one target was "X has 5 samples but y has 1", no fix
    "one sequence without its batch axis": (X3[0], Y_CLASS[:1], ValueError,
                                            r"X has 5 samples but y has 1; .* pass X\[None\], "
                                            r"of shape \(1, 5, 2\)\.$"),
    "non-numeric X": (np.array([["a", "b"]] * 20), Y_CLASS, ValueError, "string|numeric"),
    "y is None": (X3, None, ValueError, "requires y"),
    "zero timesteps": (np.ones((20, 0, 2)), Y_CLASS, ValueError, "at least one timestep"),
    "text in y": (X3, np.array(["a"] * 20), ValueError, None),
    "3D y": (X3, np.zeros((20, 1, 2)), ValueError, None),
    "ragged y": (X3, [[1.0]] * 19 + [[1.0, 2.0]], ValueError,
                 "y must be an array of targets, one per sequence"),
    "labels of mixed types": (X3, np.array(["a", None] * 10, dtype=object), ValueError, None),
    # numpy makes a 0D array of an object that is no array: "got 0D input with shape ()"
    "dict X": (dict(enumerate(X3)), Y_CLASS, ValueError,
               r"X must be an array of sequences.*; got a dict \(pass list\(X.values\(\)\) "),
    "text X": ("abcdefghijklmnopqrst", Y_CLASS, ValueError, r"; got a str\.$"),
    # an iterable numpy cannot read, or no array at all: scikit-learn's TypeError
    # ("X and y must be sequences of samples (Expected sequence or array-like, got
    # <class 'map'>)") named neither which nor the fix that prediction gives
    "map X": (map(np.asarray, X3), Y_CLASS, ValueError,
              r"X must be an array of sequences.*; got a map \(pass list\(X\)\)\.$"),
    "zip X": (zip(X3), Y_CLASS, ValueError, r"; got a zip \(pass list\(X\)\)\.$"),
    "X is None": (None, Y_CLASS, ValueError, r"X must be an array of sequences.*; got None\.$"),
    "generator y": (X3, (v for v in Y_CLASS), ValueError,
                    r"^y must be an array of targets, one per sequence; got a generator "
                    r"\(pass list\(y\)\)\.$"),
    "scalar y": (X3, 1, ValueError, r"^y must be an array of targets.*; got a int\.$"),
    "0D array y": (X3, np.array(1), ValueError, r"^y must be an array of targets.*; got a 0D "
                   r"array\.$"),
    # trained on the values under the mask, silently (a masked X is refused as NaN)
    "masked y": (X3, np.ma.masked_array(Y_CLASS, mask=np.arange(20) == 3), ValueError,
                 r"^y is a masked array whose target of sample 3 is masked, .*"
                 r"keep = ~np\.ma\.getmaskarray\(y\)"),
    "masked 2D y": (X3, np.ma.masked_array(np.c_[Y_CLASS, Y_CLASS], mask=[[0, 0]] * 5
                                           + [[0, 1]] * 15), ValueError,
                    r"^y is a masked array whose target of sample 5 is masked"),
    # (scikit-learn's "y should be a 1d array, got an array of shape () instead")
    "dict_values y": (X3, dict(enumerate(Y_CLASS)).values(), ValueError,
                      r"^y must be an array of targets.*; got a dict_values \(pass list\(y\)\)"),
    "dict y": (X3, dict(enumerate(Y_CLASS)), ValueError,
               r"^y must be .*; got a dict \(pass list\(y\.values\(\)\) for its values\)\.$"),
    # scikit-learn's "Complex data not supported" went on to print the whole array
    "complex X": (X3 + 1j, Y_CLASS, ValueError,
                  r"^Complex data not supported: X holds complex numbers; .*"
                  r"np\.stack\(\[X\.real, X\.imag\], axis=-1\)"),
    "complex ragged X": ([s + 1j for s in X3], Y_CLASS, ValueError,
                         r"^Complex data not supported: sequence 0 of X holds complex numbers"),
    "complex y": (X3, Y_CLASS + 0j, ValueError, None),
    # (AttributeError: 'bool' object has no attribute 'astype')
    "sparse sequences": ([sp.csr_matrix(s) for s in X3], Y_CLASS, TypeError,
                         r"does not accept sparse input: .*\[s\.toarray\(\) for s in X\]"),
    # (the regressor called it "y must be 1D or 2D; got 0D with shape ()")
    "sparse y": (X3, sp.csr_matrix(Y_CLASS[:, None]), TypeError,
                 r"Sparse data was passed for y, but dense data is required. Use '.toarray\(\)'"),
}

#: The message per estimator where it differs (found by tests/properties: they did not
#: name y).
BAD_Y_MESSAGES = {
    ("text in y", "LSTMRegressor"): "y holds non-numeric values .*for class labels use "
                                   "LSTMClassifier",
    ("text in y", "LSTMClassifier"): "at least 2 classes in y",
    ("3D y", "LSTMRegressor"): r"y must be 1D or 2D; got 3D with shape \(20, 1, 2\)",
    ("3D y", "LSTMClassifier"): r"y should be a 1d array of class labels, got a 3D array",
    # numpy's bare "'<' not supported between instances of 'NoneType' and 'str'" before
    ("labels of mixed types", "LSTMRegressor"): "y holds non-numeric values",
    ("complex y", "LSTMRegressor"): r"^Complex data not supported: y holds complex .* as "
                                    r"two outputs",
    ("complex y", "LSTMClassifier"): r"^Complex data not supported: y holds complex .*pass "
                                     r"y\.real",
    ("labels of mixed types", "LSTMClassifier"): (
        r"Mix of label input types in y: NoneType \(None at index 1\), str \('a' at index "
        r"0\)\. Class labels must all be of one type, all strings or all numbers"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
def test_bad_data_is_rejected_before_training(case, Estimator):
    X, y, error, message = BAD_DATA[case]
    message = message or BAD_Y_MESSAGES[case, Estimator.__name__]
    if case == "nan in y" and Estimator is LSTMClassifier:
        y = _with(Y_CLASS, 4, np.nan)
    if case == "nan in 2D y" and Estimator is LSTMClassifier:
        y = _with(np.c_[Y_CLASS], (6, 0), np.nan)
    est = Estimator(max_epochs=1)
    with pytest.raises(error, match=message):
        est.fit(X, y)
    assert not hasattr(est, "net_")  # nothing was trained


def test_one_class_only():
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class"):
        LSTMClassifier(max_epochs=1).fit(X3, np.zeros(20))


@pytest.mark.parametrize(("y", "message"), [
    (Y_REG, r"Unknown label type.*\(in y; for continuous targets use LSTMRegressor"),
    # scikit-learn's bare "y should be a 1d array, got an array of shape (20, 2)" before
    (np.c_[Y_CLASS, Y_CLASS], r"LSTMClassifier is single-output: .*shape \(20, 2\).* "
     r"use LSTMRegressor; .*sklearn\.multioutput\.MultiOutputClassifier"),
], ids=["continuous", "several columns"])
def test_targets_for_another_estimator_name_it(y, message):
    with pytest.raises(ValueError, match=message):
        LSTMClassifier(max_epochs=1).fit(X3, y)


@pytest.mark.parametrize(("missing", "labels"), [
    (None, "ab"), (np.nan, "ab"), ("pd.NA", "ab"),
    # numbers of dtype object: the fix named was y.astype(int), which fails on NaN
    (np.nan, [1.0, 2.0])], ids=["None", "NaN", "pd.NA", "NaN among numbers"])
def test_missing_labels_are_told_to_be_dropped_not_made_a_class(missing, labels):
    # a pandas column of labels with gaps: the fix named was y.astype(str), which makes
    # "nan" a class of its own
    pd = pytest.importorskip("pandas")
    y = np.array([labels[label] for label in Y_CLASS], dtype=object)
    y[3] = pd.NA if missing == "pd.NA" else missing
    est = LSTMClassifier(max_epochs=1)
    with pytest.raises(ValueError, match=r"^(Mix of label input types in y: .* at index 3\)|"
                       r"Unknown label type: y holds numbers in an array of dtype object).*; "
                       r"drop the samples without a label first \(e\.g\. keep = "
                       r"pd\.notna\(y\), then fit X\[keep\], y\[keep\]\); y\.astype\(str\) "
                       r"would make a class of them\.$"):
        est.fit(X3, pd.Series(y))
    assert not hasattr(est, "net_")


def test_labels_of_two_types_are_told_to_be_converted():
    y = np.array(["a" if label else 1 for label in Y_CLASS], dtype=object)
    with pytest.raises(ValueError, match=r"^Mix of label input types in y: int \(1 at index "
                       r"0\), str \('a' at index 1\)\..*; convert them \(e\.g\. "
                       r"y\.astype\(str\)\)"):
        LSTMClassifier(max_epochs=1).fit(X3, y)


@pytest.mark.parametrize(("y", "message"), [
    # scikit-learn's check_array cast them to numbers of their unit, silently (pandas 3's
    # microseconds, pandas 2's nanoseconds)
    (np.arange(20).astype("timedelta64[s]"), r"^y holds durations \(dtype timedelta64\[s\]\); "
     r"LSTMRegressor needs numbers, .* y / np\.timedelta64\(1, 'h'\) for hours\.$"),
    (np.datetime64("2020-01-01") + np.arange(20), r"^y holds dates \(dtype datetime64\[D\]\); "
     r".* \(y - start\) / np\.timedelta64\(1, 'h'\) for hours since a date start\.$"),
    # scikit-learn's "Found array with 0 feature(s) (shape=(20, 0))", not naming y
    (np.zeros((20, 0)), r"^y has no columns \(shape \(20, 0\)\): pass at least one target"),
], ids=["durations", "dates", "no columns"])
def test_regression_targets_that_are_no_numbers_are_refused(y, message):
    est = LSTMRegressor(max_epochs=1)
    with pytest.raises(ValueError, match=message):
        est.fit(X3, y)
    assert not hasattr(est, "net_")


def test_fit_documents_the_targets_each_estimator_takes():
    # one fit docstring, shared; y's entry is each estimator's own
    assert "y : array-like of shape (n_samples,)\n" in LSTMClassifier.fit.__doc__
    assert "MultiOutputClassifier" in LSTMClassifier.fit.__doc__
    assert ("y : array-like of shape (n_samples,) or (n_samples, n_outputs)\n"
            in LSTMRegressor.fit.__doc__)


@pytest.mark.parametrize(("y", "error", "message"), [
    # scikit-learn's "Unknown label type: unknown ... continuous values" before
    (Y_CLASS.astype(object), ValueError,
     r"Unknown label type: y holds numbers in an array of dtype object \(first 0\).*"
     r"y\.astype\(int\)"),
    # "The class labels in y cannot be sorted" before: bytes sort; scikit-learn's own
    # TypeError says what to do
    (np.where(Y_CLASS == 1, b"a", b"b"), TypeError,
     "labels represented as bytes is not supported. Convert the labels to a string"),
], ids=["numbers of dtype object", "bytes"])
def test_labels_scikit_learn_cannot_type_say_how_to_convert_them(y, error, message):
    est = LSTMClassifier(max_epochs=1)
    with pytest.raises(error, match=message):
        est.fit(X3, y)
    assert not hasattr(est, "net_")



@pytest.mark.skipif(not hasattr(np, "dtypes") or not hasattr(np.dtypes, "StringDType"),
                    reason="numpy 2's StringDType")
def test_labels_of_numpy_variable_width_strings_are_read_as_strings(tiny):
    # numpy 2's StringDType: scikit-learn's label checks failed on it with numpy's
    # "dtype argument must be a NumPy dtype", naming neither y nor a fix
    y = np.array(np.where(Y_CLASS == 1, "up", "down"), dtype=np.dtypes.StringDType())
    est = LSTMClassifier(**tiny, device="cpu").fit(X3, y)
    assert est.classes_.tolist() == ["down", "up"]
    assert set(est.predict(X3).tolist()) <= {"down", "up"}


BAD_PARAMS = [
    ("batch_size", 0, ValueError, r"'batch_size' parameter of LSTMClassifier must be an int in "
     r"the range \[1, inf\) or a str among \{'auto'\}\. Got 0"),
    ("batch_size", "max", ValueError, r"'batch_size' .* a str among \{'auto'\}\. Got 'max'"),
    ("max_memory", "lots", ValueError, r"max_memory='lots' is not a memory size; write bytes "
     r"or a number with a unit"),
    ("max_memory", "2 GiBs", ValueError, r"max_memory='2 GiBs' is not a memory size"),
    ("max_memory", "0GB", ValueError, r"max_memory='0GB' must be a positive size"),
    ("max_memory", -5, ValueError, r"'max_memory' .* an int in the range \[1, inf\)"),
    ("max_memory", 2.5e9, TypeError, r"'max_memory' .* Got 2500000000\.0"),
    ("on_oom", "retry", ValueError, r"'on_oom' .* a str among \{.*'raise'.*\}"),
    ("precision", "fp8", ValueError, r"'precision' .* a str among"),
    ("precision", "16-mixed", ValueError, r"precision='16-mixed' \(float16 with a gradient "
     r"scaler\) needs a CUDA device, but the fit runs on cpu; use precision='bf16'"),
    ("batch_size", -3, ValueError, r"'batch_size' .* must be an int in the range \[1, inf\)"),
    ("batch_size", 2.5, TypeError, r"'batch_size' .* must be an int .* Got 2\.5"),
    ("batch_size", True, TypeError, r"'batch_size' .* must be an int .* Got True"),
    # bools are no floats either (found by tests/properties)
    ("lr", True, TypeError, r"'lr' .* must be a float in the range \(0.0, inf\)\. Got True"),
    ("weight_decay", np.bool_(True), TypeError, r"'weight_decay' .* Got True"),
    ("batch_size", np.array([16, 32]), TypeError, r"'batch_size' .* Got array"),
    ("accumulation_steps", 0, ValueError, r"'accumulation_steps' .* range \[1, inf\)"),
    ("accumulation_steps", "2", TypeError, r"'accumulation_steps' .* Got '2'"),
    ("seq_len", 0, ValueError, r"'seq_len' .* must be an int in the range \[1, inf\) or None"),
    ("seq_len", 1.5, TypeError, r"'seq_len' .* or None\. Got 1\.5"),
    ("device", "tpu", ValueError, "Unknown device 'tpu'"),
    ("device", 3, TypeError, r"'device' .* instance of 'str' or an instance of .*device"),
    ("optimizer", "adamax2", ValueError, "unknown optimizer 'adamax2'"),
    ("dropout", 1.0, ValueError, r"'dropout' .* a float in the range \[0.0, 1.0\)"),
    ("lr", 0.0, ValueError, r"'lr' .* a float in the range \(0.0, inf\)"),
    ("lr_scaling", "cubic", ValueError, r"'lr_scaling' .* a str among \{.*\} or None"),
    ("keep_steps", "middle", ValueError, r"'keep_steps' .* a str among"),
    ("validation_fraction", 1.0, ValueError, r"'validation_fraction' .* range \(0.0, 1.0\)"),
    # 0 with early_stopping=False (its default) was refused with the range only, as if
    # it held out a share: with early_stopping=False nothing is held out
    ("validation_fraction", 0.0, ValueError, r"'validation_fraction' .* range \(0.0, 1.0\), "
     r"the share of the training data early_stopping=True holds out \(with "
     r"early_stopping=False nothing is held out, whatever its value: leave it at its "
     r"default, 0.1\)\. Got 0.0"),
    ("optimizer_params", [("momentum", 0.9)], TypeError, r"'optimizer_params' .* 'dict'"),
    ("callbacks", "print", TypeError, r"'callbacks' .* 'list'"),
    # one kernel size (a 0-d array too) was "must be an array-like. Got 3 instead" alone
    ("conv_kernel_sizes", np.array(3), ValueError, r"array-like\. Got 3 instead\. 3 is a "
     r"single value; conv_kernel_sizes takes .* e\.g\. conv_kernel_sizes=\[3\]\.$"),
    ("conv_kernel_sizes", 3, TypeError, r"conv_kernel_sizes=\[3\]\.$"),
    ("vocab_size", 100, ValueError, "vocab_size is only used for token input"),
    ("weight_decay", 0.1, ValueError, "both set the L2 penalty"),
    ("class_weight", "auto", ValueError, r"'class_weight' .* a str among \{'balanced'\}"),
    ("class_weight", {0: -1.0}, ValueError, r"class_weight\[0\] is -1\.0; .* >= 0"),
    # the labels are ints: "0" would silently weigh nothing
    ("class_weight", {"0": 2.0}, ValueError, r"keys that are not class labels of y \('0'\) "
     r"while classes 0, 1 have no weight"),
]


@pytest.mark.parametrize(("param", "value", "error", "message"), BAD_PARAMS,
                         ids=[f"{p}={v!r}" for p, v, *_ in BAD_PARAMS])
def test_bad_hyperparameter(param, value, error, message):
    # on the CPU: the refusal of "16-mixed" is the CPU's (valid on CUDA:
    # tests/training/test_precision.py::test_cuda_mixed_precision_fits); the others are
    # refused before the device is used
    est = LSTMClassifier(max_epochs=1, device="cpu").set_params(**{param: value})
    if param == "weight_decay":  # the conflict needs both places set
        est.set_params(optimizer_params={"weight_decay": 0.2})
    with pytest.raises(error, match=message):
        est.fit(X3, Y_CLASS)
    assert not hasattr(est, "net_")


def test_cuda_requested_without_cuda():
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    est = LSTMClassifier(device="cuda", max_epochs=1)
    with pytest.raises(ValueError, match="no CUDA device is available"):
        est.fit(X3, Y_CLASS)
    assert not hasattr(est, "net_")


@pytest.fixture
def one_old_gpu(monkeypatch):
    """torch answers as on a machine with one 80 GiB GPU of compute capability 7.5 (no
    bfloat16): what is asked here must be refused before anything runs on it."""
    import torch

    for name, value in [("is_available", lambda: True), ("device_count", lambda: 1),
                        ("mem_get_info", lambda device=None: (70 * 2**30, 80 * 2**30)),
                        ("get_device_capability", lambda device=None: (7, 5)),
                        ("get_device_name", lambda device=None: "Tesla T4")]:
        monkeypatch.setattr(torch.cuda, name, value)


@pytest.mark.parametrize(("params", "message"), [
    ({"device": "cuda:7"}, r"device='cuda:7' asks for CUDA device 7, but only 1 CUDA "
     r"device\(s\) are visible"),
    ({"device": "cuda", "max_memory": "100GiB"}, r"LSTMClassifier: max_memory=100.0 GiB "
     r"is more than cuda has \(80.0 GiB in all\); set at most that, or None"),
    ({"device": "cuda", "precision": "bf16"}, r"precision='bf16' runs the LSTM in "
     r"bfloat16, but Tesla T4 \(compute capability 7.5\) has no bfloat16 arithmetic "
     r"of its own \(8.0 or later\); use precision='16-mixed' \(float16 with a gradient "
     r"scaler\) or '32'"),
], ids=["absent index", "max_memory above the device", "bf16 on an old GPU"])
def test_what_the_gpu_cannot_do_is_refused_before_training(one_old_gpu, params, message):
    est = LSTMClassifier(max_epochs=1, **params)
    with pytest.raises(ValueError, match=message):
        est.fit(X3, Y_CLASS)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize(
    ("X_new", "message"),
    [
        (X3[:, :, :1], "X has 1 features, but LSTMClassifier is expecting 2"),
        (X3[:, :, 0], "X has 1 features, but LSTMClassifier is expecting 2 features as "
         r"input\. 2D X holds univariate sequences"),
        (np.ones(5), "got 1D input"),
        (X3[0], r"2D X holds univariate sequences .*for a single sequence of shape "
         r"\(n_timesteps, n_features\) = \(5, 2\), pass np\.asarray\(X\)\[None\]\."),
        (None, r"X must be an array of sequences.*; got None\.$"),
        ((x for x in X3), r"; got a generator \(pass list\(X\)\)\.$"),
    ],
    ids=["wrong feature count", "2D after 3D", "1D", "one sequence alone", "None",
         "generator"],
)
def test_bad_input_at_predict(X_new, message, tiny):
    est = LSTMClassifier(**tiny).fit(X3, Y_CLASS)
    with pytest.raises(ValueError, match=message):
        est.predict(X_new)


def test_wrong_width_at_predict_for_2d_input(tiny):
    est = LSTMRegressor(**tiny).fit(X3[:, :, 0], Y_REG)
    with pytest.raises(ValueError, match=r"X has 4 features, but LSTMRegressor is expecting 5 "
                                         r".* as 3D, np\.asarray\(X\)\[:, :, None\]"):
        est.predict(X3[:, :4, 0])
    assert est.predict(X3[:, :4, :1]).shape == (20,)  # as the message says


@pytest.mark.parametrize(("params", "X"), [
    ({"batch_size": 0}, X3),  # refused by the constraints, before fit's body (kept the old fit)
    ({"max_memory": "lots"}, X3),  # by check_params
    ({"optimizer_params": {"eps": -1.0}}, X3),  # by the optimizer
    ({}, _with(X3, (3, 1, 0), np.nan)),  # by the data checks
], ids=["constraint", "check_params", "optimizer_params", "data"])
def test_a_refused_refit_leaves_no_fitted_state(params, X, tiny):
    est = LSTMClassifier(**tiny).fit(X3, Y_CLASS)
    with pytest.raises(ValueError):
        est.set_params(**params).fit(X, Y_CLASS)
    assert not [name for name in vars(est) if name.endswith("_")]


def test_predictions_beyond_float64_are_refused_not_returned_as_inf(tiny):
    # targets of scale 1e300 and X far outside the training range: the network's outputs
    # are finite, but mapped back to y's units (times target_scale_) they overflowed to
    # inf, returned with numpy's overflow warning only
    X = X3.astype(np.float64)
    est = LSTMRegressor(**tiny, ar_window=2, device="cpu").fit(X, 1e300 * X[:, -1, 0])
    assert np.isfinite(est.predict(X)).all()
    with pytest.raises(ValueError, match=r"LSTMRegressor's predictions for sequence 0 of X "
                       r"are beyond float64's range .*scale X as for training"):
        est.predict(1e12 * X)


def test_x_padded_with_nan_is_refused_without_copies_of_it():
    # the mistake the message names (padding with NaN): the search for the first NaN
    # held a float64 copy of X, a mask of it and argwhere's list of every NaN's position,
    # 5.5 times X's memory (1,062 MiB beyond a 191 MiB X) before the error could be told
    X = np.zeros((4000, 50, 10), dtype=np.float32)
    X[2000:, 25:] = np.nan
    est = LSTMRegressor(max_epochs=1, device="cpu")

    def refused():
        with pytest.raises(ValueError, match=r"^Input X contains NaN at sample 2000, "
                                             r"timestep 25, feature 0: fill"):
            est.fit(X, np.zeros(len(X)))

    refused()  # (what the first fit imports is not counted below)
    _, peak = traced_peak(refused)
    assert peak < X.nbytes / 2  # (about 2 MB: scikit-learn's own check of X)
