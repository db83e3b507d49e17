"""One rule for what a fitted estimator or transformer accepts (sklstm.data.validation).

Any form whose features per timestep match the fit; 2D input is univariate sequences,
and after a 2D fit its width must equal ``n_features_in_``.
"""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequencePadder, SequenceScaler

rng = np.random.default_rng(0)
UNIVARIATE = rng.normal(size=(24, 6, 1)).astype(np.float32)
Y = np.arange(24) % 2

ESTIMATORS = {
    "classifier": lambda tiny: LSTMClassifier(**tiny),
    "regressor": lambda tiny: LSTMRegressor(**tiny),
    "scaler": lambda tiny: SequenceScaler(),
    "padder": lambda tiny: SequencePadder(length=6),
}


def _output(est, X):
    return est.predict(X) if hasattr(est, "predict") else est.transform(X)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_2d_and_3d_univariate_input_are_interchangeable(name, tiny):
    fitted_3d = ESTIMATORS[name](tiny).fit(UNIVARIATE, Y)
    fitted_2d = ESTIMATORS[name](tiny).fit(UNIVARIATE[:, :, 0], Y)
    assert (fitted_3d.n_features_in_, fitted_3d.n_sequence_features_) == (1, 1)
    assert (fitted_2d.n_features_in_, fitted_2d.n_sequence_features_) == (6, 1)
    out_3d, out_2d = _output(fitted_3d, UNIVARIATE), _output(fitted_3d, UNIVARIATE[:, :, 0])
    assert_allclose(np.squeeze(out_3d), np.squeeze(out_2d))
    # after a 2D fit, 3D and ragged univariate input of any length are accepted
    _output(fitted_2d, UNIVARIATE[:, :4])
    _output(fitted_2d, [x[:3] for x in UNIVARIATE])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_input_with_other_features_per_step_is_refused(name, tiny):
    X = rng.normal(size=(24, 6, 2)).astype(np.float32)
    est = ESTIMATORS[name](tiny).fit(X, Y)
    cls = type(est).__name__
    with pytest.raises(ValueError, match=f"X has 1 features, but {cls} is expecting 2 features "
                                         "as input. 2D X holds univariate sequences"):
        _output(est, X[:, :, 0])
    with pytest.raises(ValueError, match=f"X has 3 features, but {cls} is expecting 2"):
        _output(est, [np.ones((4, 3))])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_2d_width_must_match_a_2d_fit(name, tiny):
    est = ESTIMATORS[name](tiny).fit(UNIVARIATE[:, :, 0], Y)
    with pytest.raises(ValueError, match=f"X has 5 features, but {type(est).__name__} is "
                                         "expecting 6 features as input"):
        _output(est, UNIVARIATE[:, :5, 0])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_feature_names_do_not_outlive_a_2d_fit(name, tiny):
    frame = pd.DataFrame(UNIVARIATE[:, :, 0], columns=[f"t{i}" for i in range(6)])
    est = ESTIMATORS[name](tiny).fit(frame, Y)
    assert list(est.feature_names_in_) == list(frame.columns)
    est.fit(UNIVARIATE, Y)
    assert not hasattr(est, "feature_names_in_")


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("X", [[], np.empty((0, 6, 1)), np.empty((0, 6))],
                         ids=["list", "3d", "2d"])
def test_no_samples_has_one_wording(name, X, tiny):
    est = ESTIMATORS[name](tiny)
    message = (r"Found array with 0 sample\(s\) \(shape=\(0,.*\) while a minimum of 1 is "
               f"required by {type(est).__name__}")
    with pytest.raises(ValueError, match=message):
        est.fit(X, np.array([]))


@pytest.mark.parametrize("name", ["classifier", "regressor", "scaler"])
@pytest.mark.parametrize("shape", [(10, 0, 2), (10, 6, 0)], ids=["no steps", "no features"])
def test_empty_sequences_have_one_wording_in_memory_and_on_disk(name, shape, tiny, tmp_path):
    # a memmap or a store reached torch's "Expected sequence length to be larger than 0"
    from sklstm.data import SequenceStore

    np.save(tmp_path / "x.npy", np.zeros(shape, np.float32))
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    message = rf"X has shape \({shape[0]}, {shape[1]}, {shape[2]}\): every sequence needs"
    for make in (lambda: np.zeros(shape, np.float32), lambda: mapped,
                 lambda: SequenceStore.from_array(mapped)):
        with pytest.raises(ValueError, match=message):
            ESTIMATORS[name](tiny).fit(make(), Y[:10])


@pytest.mark.parametrize("name", ["classifier", "regressor", "scaler"])
@pytest.mark.parametrize("make", [np.zeros, lambda shape: pd.DataFrame(np.zeros(shape)),
                                  lambda shape: np.zeros(shape).tolist()],
                         ids=["array", "DataFrame", "nested list"])
def test_2d_data_without_timesteps_has_the_package_wording(name, make, tiny, tmp_path):
    # scikit-learn's own wording before (numpy's "at least one array or dtype is
    # required" for a DataFrame); its estimator checks match the part it keeps
    from sklstm.data import SequenceStore

    np.save(tmp_path / "x.npy", np.zeros((10, 0), np.float32))
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    message = (r"^X has shape \(10, 0\): every sequence needs at least one timestep and one "
               r"feature\. .*0 feature\(s\) \(shape=\(10, 0\)\) while a minimum of 1 is "
               r"required\.$")
    for X in (make((10, 0)), mapped):
        with pytest.raises(ValueError, match=message):
            ESTIMATORS[name](tiny).fit(X, Y[:10])
    with pytest.raises(ValueError, match=message):
        SequenceStore.from_array(mapped)
    fitted = ESTIMATORS[name](tiny).fit(UNIVARIATE[:, :, 0], Y)
    with pytest.raises(ValueError, match=message):
        _output(fitted, make((10, 0)))


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("make", [list, lambda seqs: np.array([*seqs, None], dtype=object)[:-1]],
                         ids=["list", "object array"])
def test_ragged_sequences_without_features_are_refused(name, make, tiny):
    # torch's "input_size must be greater than zero" mid-setup before; a scaler took them
    X = make([np.zeros((5, 0)), np.zeros((3, 0))])
    with pytest.raises(ValueError, match=r"^Sequence 0 of X has shape \(5, 0\): every "
                                         "sequence needs at least one timestep and one feature"):
        ESTIMATORS[name](tiny).fit(X, Y[:2])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_sequence_whose_timesteps_differ_in_width_is_named(name, tiny):
    # numpy's "setting an array element with a sequence ... inhomogeneous shape" before,
    # naming no sequence
    X = [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]]]
    with pytest.raises(ValueError, match=r"^Sequence 1 of X is not a rectangular array .*"
                                         "every timestep of a sequence must have the same "
                                         "number of features"):
        ESTIMATORS[name](tiny).fit(X, Y[:2])


@pytest.mark.parametrize("name", ["classifier", "scaler"])
def test_no_samples_in_a_dataframe_has_the_one_wording(name, tiny):
    est = ESTIMATORS[name](tiny)
    message = (r"^Found array with 0 sample\(s\) \(shape=\(0, 0\)\) while a minimum of 1 is "
               f"required by {type(est).__name__}")
    with pytest.raises(ValueError, match=message):
        est.fit(pd.DataFrame(), np.array([]))


@pytest.mark.parametrize("given", ["bfloat16", "requires_grad", "list_requires_grad"])
def test_torch_tensors_are_read_as_the_arrays_they_hold(given):
    # scikit-learn's check_array read them through __array__: "Got unsupported
    # ScalarType BFloat16", "Can't call numpy() on Tensor that requires grad"
    import torch

    X = torch.from_numpy(np.random.default_rng(0).normal(size=(16, 5, 2)).astype(np.float32))
    y = np.arange(16) % 2
    tensors = {"bfloat16": X.bfloat16(), "requires_grad": X.clone().requires_grad_(),
               "list_requires_grad": [x.clone().requires_grad_() for x in X]}[given]
    as_array = X.bfloat16().float().numpy() if given == "bfloat16" else X.numpy()
    params = dict(hidden_size=2, max_epochs=1, tol=None, random_state=0, device="cpu",
                  n_threads=1)
    est = LSTMClassifier(**params).fit(tensors, y)
    reference = LSTMClassifier(**params).fit(as_array, y)
    np.testing.assert_array_equal(est.predict_proba(tensors), reference.predict_proba(as_array))


def _object_table(column):
    cells = np.empty((len(column), 1), dtype=object)
    for i, seq in enumerate(column):  # (an assignment of the list would broadcast)
        cells[i, 0] = seq
    return cells


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("make", [lambda column: pd.DataFrame({"signal": column}),
                                  _object_table], ids=["DataFrame", "object array"])
def test_a_table_with_sequences_in_its_cells_says_how_to_pass_them(name, make, tiny):
    # numpy's "setting an array element with a sequence" before, naming no cell or fix
    column = [np.ones((5, 2)), np.ones((3, 2))]
    where = "row 0 of column 'signal'" if make is not _object_table else r"X\[0, 0\]"
    with pytest.raises(ValueError, match=rf"^X holds a sequence of shape \(5, 2\) in a cell "
                                         rf"\({where}\).* list\(df\[column\]\)"):
        ESTIMATORS[name](tiny).fit(make(column), Y[:2])


def _with_value(X, where, value):
    X = np.array(X, dtype=float)
    X[where] = value
    return X


#: X -> the place its first non-finite value is named at
NON_FINITE = {
    "3d NaN": (_with_value(UNIVARIATE, (3, 2, 0), np.nan),
               "NaN at sample 3, timestep 2, feature 0"),
    "2d infinity": (_with_value(UNIVARIATE[:, :, 0], (5, 4), -np.inf),
                    "infinity at sample 5, timestep 4"),
    "DataFrame NaN": (pd.DataFrame(_with_value(UNIVARIATE[:, :, 0], (1, 0), np.nan)),
                      "NaN at sample 1, timestep 0"),
    "ragged NaN": ([x[:4 + i % 2] for i, x in
                    enumerate(_with_value(UNIVARIATE, (7, 1, 0), np.nan))],
                   "NaN at sequence 7, timestep 1, feature 0"),
}


@pytest.mark.parametrize("name", ["classifier", "regressor", "scaler"])  # the padder pads NaN
@pytest.mark.parametrize("case", NON_FINITE)
def test_nan_and_infinity_are_placed_and_told_how_to_fix(name, case, tiny):
    # scikit-learn's "Input X contains NaN." (placed nowhere; its advice, an imputer or
    # HistGradientBoosting, reads no sequences), or "NaN or infinity in sequence 7"
    X, place = NON_FINITE[case]
    fix = (r"fill missing values along time .* not padded with NaN\.$" if "NaN" in place
           else r"replace infinite values .* drop the samples holding them\.$")
    with pytest.raises(ValueError, match=rf"^Input X contains {place}[:;] {fix}"):
        ESTIMATORS[name](tiny).fit(X, Y)
    fitted = ESTIMATORS[name](tiny).fit(UNIVARIATE[:, :, 0] if "2d" in case else UNIVARIATE, Y)
    with pytest.raises(ValueError, match=rf"^Input X contains {place}"):
        _output(fitted, X)


def test_a_table_with_token_sequences_in_its_cells_is_not_called_non_numeric(tiny):
    # "Sequence 0 of X has non-numeric dtype object ... use embedding_dim" before, to a
    # fit that had set embedding_dim
    X = pd.DataFrame({"ids": [np.array([1, 2, 3]), np.array([4])]})
    with pytest.raises(ValueError, match=r"^X holds a sequence of shape \(3,\) in a cell "
                                         r"\(row 0 of column 'ids'\)"):
        LSTMClassifier(**tiny, embedding_dim=2).fit(X, Y[:2])
    est = LSTMClassifier(**tiny, embedding_dim=2).fit(list(X["ids"]), Y[:2])  # the fix
    assert est.predict(X["ids"]).shape == (2,)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_sequences_laid_out_features_first_are_told_to_transpose(name, tiny):
    # "Sequence 1 of X has 8 features but sequence 0 has 5" before: their steps were
    # read as features, and nothing said so
    X = [rng.normal(size=(n, 3)) for n in (5, 8)]
    transpose = r"if the sequences are laid out \(n_features, n_timesteps\), pass \[seq.T"
    with pytest.raises(ValueError, match=f"Both have 3 rows: {transpose}"):
        ESTIMATORS[name](tiny).fit([x.T for x in X], Y[:2])
    est = ESTIMATORS[name](tiny).fit(X, Y[:2])
    with pytest.raises(ValueError, match=rf"Sequence 0 of X has shape \(3, 5\): {transpose}"):
        _output(est, [X[0].T])
    with pytest.raises(ValueError, match=r"X has shape \(2, 3, 5\): if it is laid out "
                                         r"\(n_samples, n_features, n_timesteps\), pass "
                                         r"X.transpose\(0, 2, 1\)"):
        _output(est, np.stack([x[:5].T for x in X]))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_structured_array_is_told_to_become_one_feature_per_field(name, tiny, tmp_path):
    # numpy's "Cannot cast array data from dtype([('a', '<f4'), ...])" before, no fix
    records = np.zeros((24, 6), dtype=[("a", "f4"), ("b", "f4")])
    np.save(tmp_path / "records.npy", records)
    for X in (records, np.load(tmp_path / "records.npy", mmap_mode="r")):
        with pytest.raises(TypeError, match=r"structured dtype with the fields a, b.*"
                                            r"structured_to_unstructured"):
            ESTIMATORS[name](tiny).fit(X, Y)
    from numpy.lib.recfunctions import structured_to_unstructured
    assert _output(ESTIMATORS[name](tiny).fit(structured_to_unstructured(records), Y),
                   records.view(np.float32).reshape(24, 6, 2)).shape[0] == 24
