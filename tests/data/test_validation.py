"""One rule for what a fitted estimator or transformer accepts (sklstm.data.validation).

Any form whose features per timestep match the fit; 2D input is univariate sequences,
and after a 2D fit its width must equal ``n_features_in_``.
"""

import warnings
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.preprocessing import SequencePadder, SequenceResampler, SequenceScaler

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
    # 3D and ragged X of no likelier layout: scikit-learn's words, then the fix
    fix = (rf"^X has 3 features, but {cls} is expecting 2 features as input\. Pass "
           r"sequences with the 2 features per timestep of the fit, in its order\.$")
    with pytest.raises(ValueError, match=fix):
        _output(est, [np.ones((4, 3))])
    with pytest.raises(ValueError, match=fix):
        _output(est, np.ones((3, 4, 3)))


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


@pytest.mark.parametrize("given", ["bfloat16", "requires_grad", "list_requires_grad",
                                   "object_requires_grad", "series_requires_grad",
                                   "object_bfloat16"])
def test_torch_tensors_are_read_as_the_arrays_they_hold(given):
    # scikit-learn's check_array read them through __array__: "Got unsupported
    # ScalarType BFloat16", "Can't call numpy() on Tensor that requires grad"; so did
    # the checks of a 1D object array or a Series of them (a list was read)
    import torch

    X = torch.from_numpy(np.random.default_rng(0).normal(size=(16, 5, 2)).astype(np.float32))
    y = np.arange(16) % 2
    grads = [x.clone().requires_grad_() for x in X]
    tensors = {"bfloat16": X.bfloat16(), "requires_grad": X.clone().requires_grad_(),
               "list_requires_grad": grads,
               "object_requires_grad": _object_column(grads),
               "series_requires_grad": pd.Series(grads, index=np.arange(16)[::-1]),
               "object_bfloat16": _object_column([x.bfloat16() for x in X])}[given]
    as_array = X.bfloat16().float().numpy() if "bfloat16" in given else X.numpy()
    params = dict(hidden_size=2, max_epochs=1, tol=None, random_state=0, device="cpu",
                  n_threads=1)
    est = LSTMClassifier(**params).fit(tensors, y)
    reference = LSTMClassifier(**params).fit(as_array, y)
    np.testing.assert_array_equal(est.predict_proba(tensors), reference.predict_proba(as_array))


def nested_sequences(sequences, layout="strided", requires_grad=False):
    """``sequences`` as one torch nested tensor, the PyTorch form of ragged sequences."""
    import torch

    if layout == "jagged" and not hasattr(torch, "jagged"):
        pytest.skip("this torch has no jagged layout of nested tensors")
    with warnings.catch_warnings():  # (the strided layout is called a prototype)
        warnings.simplefilter("ignore", UserWarning)
        return torch.nested.nested_tensor(list(sequences), requires_grad=requires_grad,
                                          layout=getattr(torch, layout))


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(("layout", "requires_grad"),
                         [("strided", False), ("strided", True), ("jagged", False)])
def test_a_nested_tensor_is_read_as_the_list_of_its_sequences(name, layout,
                                                              requires_grad, tiny):
    # torch failed on it: "NestedTensorImpl doesn't support sizes" (strided), ".numpy()
    # is not supported for tensor subclasses" (jagged)
    import torch

    rng = np.random.default_rng(0)
    sequences = [torch.from_numpy(rng.normal(size=(n, 2)).astype(np.float32))
                 for n in (5, 3, 6, 4)]
    X, y = nested_sequences(sequences, layout, requires_grad), np.array([0, 1, 0, 1])
    est = ESTIMATORS[name](tiny).fit(X, y)
    reference = ESTIMATORS[name](tiny).fit(sequences, y)
    for got, expected in zip(_output(est, X), _output(reference, sequences), strict=True):
        np.testing.assert_array_equal(got, expected)


def _object_column(sequences):
    column = np.empty(len(sequences), dtype=object)
    for i, seq in enumerate(sequences):  # (an assignment of the list would broadcast)
        column[i] = seq
    return column


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
    X = np.array(X, dtype=object if isinstance(value, Decimal) else float)
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
    # (numpy's "cannot convert signaling NaN to float" before; a list's "non-numeric")
    "2d Decimal sNaN": (_with_value(UNIVARIATE[:, :, 0], (5, 4), Decimal("sNaN")),
                        "NaN at sample 5, timestep 4"),
    "ragged Decimal sNaN": ([x[:4 + i % 2] for i, x in
                             enumerate(_with_value(UNIVARIATE, (7, 1, 0), Decimal("sNaN")))],
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


TIMES = {
    "3d datetimes": np.datetime64("2024-01-01", "ns") + np.zeros((24, 6, 1), "m8[h]"),
    "2d timedeltas": np.arange(24 * 6).reshape(24, 6).astype("m8[s]"),
    "DataFrame": pd.DataFrame({"t": pd.date_range("2024", periods=24, tz="UTC"),
                               "x": np.arange(24.0)}),
    "list": [np.zeros((4, 1), "M8[s]")] * 24,
}


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("case", TIMES)
def test_datetimes_and_timedeltas_are_refused_with_a_unit_to_pass(name, case, tiny):
    # a 2D or 3D array of them trained as counts of nanoseconds, silently; a DataFrame
    # got numpy's "could not be promoted" or float()'s "not 'Timedelta'"; a list's
    # sequences were "non-numeric" with a fix for categories
    where = {"DataFrame": "X holds datetimes .*in column 't'",
             "list": "Sequence 0 of X holds datetimes"}.get(case, "X holds")
    with pytest.raises(TypeError, match=rf"^{where}.*where numbers are expected.*"
                                        r"np.timedelta64\(1, 's'\)"):
        ESTIMATORS[name](tiny).fit(TIMES[case], Y)
    if case != "DataFrame":
        fitted = ESTIMATORS[name](tiny).fit(UNIVARIATE[:, :, 0] if "2d" in case else
                                            UNIVARIATE, Y)
        with pytest.raises(TypeError, match="where numbers are expected"):
            _output(fitted, TIMES[case])


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("fill", [np.nan, 0.0], ids=["NaN fill", "zero fill"])
def test_a_dataframe_of_sparse_columns_is_refused_as_sparse_input(name, fill, tiny):
    # scikit-learn's "fill value must be 0 when converting to COO matrix" before, for
    # pandas' default fill value
    frame = pd.DataFrame(UNIVARIATE[:, :, 0], columns=[f"t{i}" for i in range(6)])
    sparse = frame.astype({"t2": pd.SparseDtype(np.float32, fill)})
    with pytest.raises(TypeError, match=r"does not accept sparse input: X has sparse "
                                        r"columns\. Pass a dense DataFrame \(X.astype\(float\)\)"):
        ESTIMATORS[name](tiny).fit(sparse, Y)
    assert len(_output(ESTIMATORS[name](tiny).fit(sparse.astype(float), Y), frame)) == 24


@pytest.mark.parametrize("name", ESTIMATORS)
def test_an_empty_list_among_sequences_is_called_empty(name, tiny):
    # "has shape (0,); each sequence in a list must be 2D ... seq.reshape(-1, 1)" before
    X = [x.tolist() for x in UNIVARIATE[:3]]
    X[1] = []
    with pytest.raises(ValueError, match=r"^Sequence 1 of X is empty \(0 timesteps\)"):
        ESTIMATORS[name](tiny).fit(X, Y[:3])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_errors_about_a_series_of_sequences_name_its_index_label(name, tiny):
    # only the position before, which a filtered or shuffled column's X[2] does not select
    column = pd.Series(list(UNIVARIATE[:3]), index=[40, 7, 12])
    column[12] = np.full((6, 2), 0.5)
    with pytest.raises(ValueError, match=r"^Sequence 2 \(index label 12\) of X has 2 "
                                         "features but sequence 0 has 1"):
        ESTIMATORS[name](tiny).fit(column, Y[:3])
    column[12] = column[40][:0]
    with pytest.raises(ValueError, match=r"^Sequence 2 \(index label 12\) of X is empty"):
        ESTIMATORS[name](tiny).fit(column, Y[:3])
    with pytest.raises(ValueError, match=r"^Sequence 2 of X is empty"):  # labels = positions
        ESTIMATORS[name](tiny).fit(column.reset_index(drop=True), Y[:3])


def test_errors_about_a_series_of_token_ids_name_its_index_label(tiny):
    ids = pd.Series([np.array([1, 2]), np.array([-1, 3])], index=["a", "b"])
    with pytest.raises(ValueError, match=r"^Sequence 1 \(index label 'b'\) of X contains the "
                                         "negative token id -1"):
        LSTMClassifier(**tiny, embedding_dim=2).fit(ids, Y[:2])


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(("item", "shown"), [(None, "None"), (np.nan, "nan"), (pd.NA, "<NA>")])
def test_a_missing_sequence_is_called_missing(name, item, shown, tiny):
    # "has shape (); each sequence in a list must be 2D ... seq.reshape(-1, 1)" before: a
    # column of sequences with a row missing (a merge, a reindex) holds NaN there
    X = pd.Series([UNIVARIATE[0], item], index=["a", "b"])
    with pytest.raises(ValueError, match=rf"^Sequence 1 \(index label 'b'\) of X is {shown}, "
                                         r"not a sequence of timesteps; a missing sequence .*"
                                         r"X.dropna\(\)"):
        ESTIMATORS[name](tiny).fit(X, Y[:2])
    with pytest.raises(ValueError, match=r"^Sequence 1 of X is 5, not a sequence .* 2D"):
        ESTIMATORS[name](tiny).fit([UNIVARIATE[0], 5], Y[:2])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_dict_among_sequences_is_refused_as_non_numeric(name, tiny):
    # AttributeError: 'bool' object has no attribute 'astype' before (pd.NA's check of
    # a 0D array of objects)
    with pytest.raises(TypeError, match=r"^Sequence 1 of X has non-numeric dtype object"):
        ESTIMATORS[name](tiny).fit([UNIVARIATE[0], {"x": 1.0}], Y[:2])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_an_iterable_of_sequences_is_told_to_become_a_list(name, tiny):
    # only a generator was told to pass list(X); dict views (and map, zip) got no fix
    X = {"a": UNIVARIATE[0], "b": UNIVARIATE[1]}.values()
    with pytest.raises(ValueError, match=r"got a dict_values \(pass list\(X\)\)\.$"):
        ESTIMATORS[name](tiny).fit(X, Y[:2])


SPANS = {
    "period column": (pd.DataFrame({"t": pd.period_range("2024-01", periods=24, freq="M"),
                                    "x": np.arange(24.0)}),
                      r"^X holds periods \(period\[M\], in column 't'\).*astype\('int64'\)"),
    "interval column": (pd.DataFrame({"t": pd.interval_range(0, 24), "x": np.arange(24.0)}),
                        r"^X holds intervals .*in column 't'\).*IntervalIndex\(column\)\.mid"),
    "list of tables": ([pd.DataFrame({"t": pd.period_range("2024-01", periods=4, freq="D")})]
                       * 24, r"^Sequence 0 of X holds periods \(period\[D\], in column 't'\)"),
    "3d objects": (np.full((24, 6, 1), pd.Period("2024-01", freq="M"), dtype=object),
                   r"^X holds periods \(object\), where numbers are expected"),
}


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("case", SPANS)
def test_periods_and_intervals_are_refused_with_the_numbers_to_pass(name, case, tiny):
    # float()'s bare TypeError ("not 'Period'"); a list's sequences were "non-numeric"
    # with a fix for categories
    X, match = SPANS[case]
    with pytest.raises(TypeError, match=match):
        ESTIMATORS[name](tiny).fit(X, Y)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_list_of_tables_names_their_time_and_text_columns(name, tiny):
    # "Sequence 0 of X has non-numeric dtype object" before, naming no column: a table
    # per sequence (groupby) with its time column left in
    table = pd.DataFrame({"time": pd.date_range("2024", periods=4, freq="h"),
                          "x": np.arange(4.0)})
    with pytest.raises(TypeError, match=r"^Sequence 0 of X holds datetimes \(datetime64\[.*\], "
                                        r"in column 'time'\)"):
        ESTIMATORS[name](tiny).fit([table, table], Y[:2])
    text = table.drop(columns="time").assign(site="a")
    with pytest.raises(TypeError, match=r"^Sequence 0 of X has non-numeric dtype object \(in "
                                        r"columns \['site'\]\)"):
        ESTIMATORS[name](tiny).fit([text, text], Y[:2])


def test_a_list_of_series_is_told_a_reshape_that_a_series_has():
    # "seq.reshape(-1, 1)" before: a pandas Series has no reshape
    series = [pd.Series(np.arange(5.0)), pd.Series(np.arange(3.0))]
    with pytest.raises(ValueError, match=r"np\.asarray\(seq\)\.reshape\(-1, 1\)"):
        SequenceScaler().fit(series)
    fixed = [np.asarray(s).reshape(-1, 1) for s in series]
    assert SequenceScaler().fit(fixed).n_features_in_ == 1


@pytest.mark.parametrize("name", ["classifier", "regressor"])
def test_a_list_of_integer_sequences_is_told_of_embedding_dim(name, tiny):
    # told only to reshape, token ids trained as magnitudes: a model of nothing
    ids = [[3, 1, 4, 1], [5, 9, 2], [6, 5]]
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\); token ids are not reshaped but "
                                         r"read by an estimator with embedding_dim set\.$"):
        ESTIMATORS[name](tiny).fit(ids, Y[:3])
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)\.$"):  # numbers: no ids
        ESTIMATORS[name](tiny).fit([np.asarray(s, dtype=float) for s in ids], Y[:3])


@pytest.mark.parametrize(("ids", "message"), [
    (np.ones((24, 5)), r"^Sequence 0 of X has dtype float64; .*\.astype\(int\)"),
    (np.ones((24, 5), bool), r"^Sequence 0 of X has dtype bool; .*\.astype\(int\)"),
    (np.ones((24, 5, 1), int), r"^Token input must be a padded 2D array .* shape \(24, 5, 1\)"),
])
def test_a_memmap_of_token_ids_is_refused_as_the_array_it_is(ids, message, tiny, tmp_path):
    # wrapped in a store, np.load(mmap_mode="r") of float ids was "X is a SequenceStore
    # of dtype float64 ... (write the store with an integer dtype)": a store never made
    np.save(tmp_path / "ids.npy", ids)
    mapped = np.load(tmp_path / "ids.npy", mmap_mode="r")
    for X in (ids, mapped):
        with pytest.raises((TypeError, ValueError), match=message):
            LSTMRegressor(**tiny, embedding_dim=2).fit(X, Y)


@pytest.mark.parametrize("fitted_on_numbers", [False, True])
@pytest.mark.parametrize("Transformer", [SequencePadder, SequenceResampler, SequenceScaler])
def test_text_categories_are_refused_in_words(Transformer, fitted_on_numbers):
    # check_array(dtype="numeric") left a frame with a categorical column objects: the
    # padder returned the text, the scaler and resampler failed with numpy's bare
    # "could not convert string to float"
    frame = pd.DataFrame({"a": pd.Categorical(["x", "y"]), "b": [1.0, 2.0]})
    transformer = Transformer()
    if fitted_on_numbers:
        transformer.fit(pd.DataFrame({"a": [0.0, 1.0], "b": [1.0, 2.0]}))
    with pytest.raises(ValueError, match=r"X holds non-numeric values.*encode categories first"):
        (transformer.transform if fitted_on_numbers else transformer.fit)(frame)


@pytest.mark.parametrize("Transformer", [SequencePadder, SequenceResampler, SequenceScaler])
def test_numeric_categories_are_read_as_numbers(Transformer):
    frame = pd.DataFrame({"a": pd.Categorical([1.0, 2.0]), "b": [3.0, 4.0]})
    out = Transformer().fit_transform(frame)
    assert out.dtype == np.float64
    assert_allclose(out, Transformer().fit_transform(frame.astype(float)))
