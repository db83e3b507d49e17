"""A transformer fitted on a table (2D input) and given sequences under frame output."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.pipeline import make_pipeline

from sklstm.data.store import SequenceStore
from sklstm.preprocessing import SequencePadder, SequenceResampler, SequenceScaler

TRANSFORMERS = [SequenceScaler, SequencePadder, SequenceResampler]
TABLE = np.random.default_rng(0).normal(size=(8, 6))  # 8 univariate sequences of 6 steps
SEQUENCES = {"3d": TABLE[:3, :, None], "ragged": [TABLE[0, :, None], TABLE[1, :4, None]]}


@pytest.mark.parametrize("form", list(SEQUENCES))
@pytest.mark.parametrize("Transformer", TRANSFORMERS)
def test_sequences_refused_in_words_under_frame_output(Transformer, form):
    # pandas raised "Must pass 2-d input" from inside scikit-learn's output wrapper
    fitted = Transformer().set_output(transform="pandas").fit(TABLE)
    with pytest.raises(ValueError, match=r"fitted on 2D input .* output is set to 'pandas'.*"
                                         r"set_output\(transform='default'\)"):
        fitted.transform(SEQUENCES[form])
    assert isinstance(fitted.transform(TABLE), pd.DataFrame)  # still usable


@pytest.mark.parametrize("Transformer", TRANSFORMERS)
def test_global_frame_output_is_read_too(Transformer):
    fitted = Transformer().fit(TABLE)
    with sklearn.config_context(transform_output="pandas"):
        with pytest.raises(ValueError, match="output is set to 'pandas'"):
            fitted.transform(SEQUENCES["3d"])


@pytest.mark.parametrize("form", list(SEQUENCES))
@pytest.mark.parametrize("Transformer", TRANSFORMERS)
def test_default_output_keeps_transforming_sequences(Transformer, form):
    # univariate 3D or ragged input after a 2D fit is valid: the 2D rows are sequences
    fitted = Transformer().fit(TABLE)
    out = fitted.transform(SEQUENCES[form])
    assert type(out) is type(Transformer().fit(SEQUENCES["3d"]).transform(SEQUENCES[form]))


@pytest.mark.parametrize("form", list(SEQUENCES))
@pytest.mark.parametrize("Transformer", TRANSFORMERS)
def test_a_table_after_a_fit_on_sequences_stays_an_array(Transformer, form):
    # as the docstrings say (they promised a frame for any 2D output): the fit saw no
    # columns, and a Pipeline fitted on sequences under frame output reads 2D rows too
    fitted = Transformer().set_output(transform="pandas").fit(SEQUENCES[form])
    out = fitted.transform(TABLE)
    assert isinstance(out, np.ndarray) and out.ndim == 2


def test_token_ids_padded_into_a_table_are_wrapped():
    # 1D token-id sequences pad to a 2D table: that output has a frame form
    padder = SequencePadder().set_output(transform="pandas").fit(np.ones((2, 4), dtype=int))
    out = padder.transform([np.arange(1, 4), np.arange(1, 6)])
    assert isinstance(out, pd.DataFrame) and out.shape == (2, 4)
    assert_allclose(out.to_numpy()[0], [1, 2, 3, 0])


def test_a_padder_fitted_on_token_ids_follows_frame_output():
    # 1D sequences pad to a table, but set_output="pandas" was ignored after a fit on
    # them (an array came back, get_feature_names_out was not offered)
    ids = [np.array([3, 1, 4], dtype=np.int32), np.array([1, 5])]
    padder = SequencePadder().set_output(transform="pandas")
    out = padder.fit_transform(ids)
    assert isinstance(out, pd.DataFrame) and out.dtypes.iloc[0] == np.int64
    assert list(out.columns) == list(padder.get_feature_names_out())
    assert out.to_numpy().tolist() == [[3, 1, 4], [1, 5, 0]]
    # 2D sequences give 3D output: refused in words naming the fit, not by pandas
    with pytest.raises(ValueError, match=r"fitted on 1D sequences .* 'pandas'.*Pass 1D"):
        padder.transform([seq[:, None] for seq in ids])
    # a refit on 2D sequences keeps their 3D form under the setting
    assert padder.fit_transform([seq[:, None] for seq in ids]).shape == (2, 3, 1)
    assert not hasattr(padder, "get_feature_names_out")


def test_a_store_of_univariate_sequences_is_no_table(tmp_path):
    # a 2D store has ndim 2, so it passed as a table, and scikit-learn's wrapper failed
    # with the store's TypeError telling the user to pass the store to SequenceScaler
    np.save(tmp_path / "X.npy", TABLE)
    store = SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"))
    fitted = SequenceScaler().set_output(transform="pandas").fit(TABLE)
    with pytest.raises(ValueError, match=r"no table \(a SequenceStore\)"):
        fitted.transform(store)
    assert isinstance(fitted.set_output(transform="default").transform(store), SequenceStore)


@pytest.mark.parametrize("output", ["default", "pandas", None])
@pytest.mark.parametrize("form", list(SEQUENCES))
def test_set_output_is_offered_after_a_fit_on_sequences(form, output):
    # set_output was offered only where the output is a table: after a fit on 3D or
    # ragged sequences a fitted Pipeline's set_output failed ("set_output is not
    # available"), the transformer's own with an AttributeError, whatever the setting
    pipe = make_pipeline(SequenceResampler(), SequenceScaler(), SequencePadder(length=3))
    pipe.fit(SEQUENCES[form]).set_output(transform=output)
    out = pipe.transform(SEQUENCES[form])
    # the sequences keep their form under any setting, as documented
    assert isinstance(out, np.ndarray) and out.shape == (len(SEQUENCES[form]), 3, 1)
    assert not hasattr(pipe[0], "get_feature_names_out")
    # a refit on a table follows the setting now
    assert isinstance(pipe.set_output(transform="pandas").fit_transform(TABLE), pd.DataFrame)


def test_set_output_is_offered_after_a_fit_on_a_store(tmp_path):
    np.save(tmp_path / "X.npy", TABLE[:, :, None])
    store = SequenceStore.from_array(np.load(tmp_path / "X.npy", mmap_mode="r"))
    fitted = SequenceScaler().fit(store).set_output(transform="pandas")
    assert isinstance(fitted.transform(store), SequenceStore)
