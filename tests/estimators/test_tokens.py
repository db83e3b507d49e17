"""Token-id input: embedding, padded and ragged forms, vocabulary, bad ids."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.datasets import make_token_sentiment

from ..settings import NEIGHBOUR_RTOL

VOCAB = 30


@pytest.fixture(scope="module")
def sentences():
    """Ragged sentences, the same sentences padded with id 0, and labels."""
    kwargs = dict(n_samples=64, vocab_size=VOCAB, length_range=(3, 14), random_state=0)
    X, y = make_token_sentiment(**kwargs)
    X_padded, _ = make_token_sentiment(padded=True, **kwargs)
    return X, X_padded, y


@pytest.fixture(params=["classifier", "regressor"])
def case(request, sentences):
    """(estimator class, target) per estimator type; the regression target
    counts the sentence's low ids, which needs the embedding."""
    X, _, y = sentences
    if request.param == "classifier":
        return LSTMClassifier, y
    return LSTMRegressor, np.array([np.sum(x < 10) for x in X], dtype=np.float32)


def _output(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _fit(Estimator, X, y, tiny, **params):
    return Estimator(**tiny, embedding_dim=4, **params).fit(X, y)


def test_embedding_holds_the_inferred_vocabulary(sentences, case, tiny):
    X, _, _ = sentences
    Estimator, y = case
    est = _fit(Estimator, X, y, tiny)
    top = max(int(x.max()) for x in X)
    assert est.vocab_size_ == top + 1
    embedding = est.net_.module_.embedding
    assert embedding.num_embeddings == top + 1 and embedding.embedding_dim == 4
    # the padding id's vector stays zero through training: it is no token
    assert not embedding.weight[0].detach().any()
    assert _output(est, X).shape[0] == len(X)


def test_given_vocab_size_is_used(sentences, case, tiny):
    X, _, _ = sentences
    Estimator, y = case
    est = _fit(Estimator, X, y, tiny, vocab_size=50)
    assert est.vocab_size_ == 50 == est.net_.module_.embedding.num_embeddings
    _output(est, [np.array([49, 1])])  # ids the training data lacked, inside the vocabulary


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_and_ragged_tokens_give_the_same_model(sentences, case, tiny, bidirectional):
    X, X_padded, _ = sentences
    Estimator, y = case
    ragged = _fit(Estimator, X, y, tiny, bidirectional=bidirectional)
    padded = _fit(Estimator, X_padded, y, tiny, bidirectional=bidirectional)
    extra = np.pad(X_padded, ((0, 0), (0, 9)))  # more padding columns change nothing
    reference = _output(ragged, X)
    for est, data in ((padded, X_padded), (ragged, X_padded), (padded, X), (ragged, extra)):
        assert_allclose(_output(est, data), reference, rtol=1e-5, atol=1e-7)


def test_padding_ids_are_removed_wherever_they_are(sentences, tiny, tmp_path, monkeypatch):
    # a list's rows of one length were read as a padded array and lost their padding
    # ids, other lists kept them: a sentence's prediction changed with its companions
    from sklstm.data import SequenceStore

    # float32 on CUDA too, as for numeric batch neighbours (test_variable_length.py)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    X, _, y = sentences
    est = _fit(LSTMClassifier, X, y, tiny)
    sentence, other = np.array([0, 5, 0, 7, 9]), np.array([3, 4])
    reference = est.predict_proba([np.array([5, 7, 9])])[0]
    for data in ([sentence], [sentence, other], [sentence, sentence[:2], other]):
        store = SequenceStore.write(tmp_path / f"s{len(data)}", data)
        for given in (data, store):
            assert_allclose(est.predict_proba(given)[0], reference, rtol=NEIGHBOUR_RTOL,
                            atol=NEIGHBOUR_RTOL / 10)


def test_custom_padding_id(sentences, tiny):
    X, X_padded, y = sentences
    shifted = np.where(X_padded == 0, VOCAB, X_padded)  # pad with a new id instead of 0
    est = _fit(LSTMClassifier, shifted, y, tiny, padding_idx=VOCAB)
    assert est.vocab_size_ == VOCAB + 1  # the padding id has an (all-zero) row
    assert not est.net_.module_.embedding.weight[VOCAB].detach().any()
    assert_allclose(est.predict_proba(shifted), est.predict_proba(X), rtol=1e-5)


def _ragged(*rows):
    return [np.array(r) for r in rows]


# (X at fit, X at predict or None, fit params, error type, message)
BAD_TOKENS = {
    "negative id": (_ragged([1, 2], [3, 4], [5, -1]), None, {}, ValueError,
                    "Sequence 2 of X contains the negative token id -1"),
    "negative id, padded": (np.array([[1, 2], [3, -2], [5, 0]]), None, {}, ValueError,
                            "Sequence 1 of X contains the negative token id -2"),
    "float ids": (_ragged([1, 2, 3], [1.0, 2.5]), None, {}, TypeError,
                  "Sequence 1 of X has dtype float64"),
    "float ids, padded": (np.array([[1.0, 2.0], [3.0, 0.0]]), None, {}, TypeError,
                          "Sequence 0 of X has dtype float64"),
    "id beyond vocab_size at fit": (
        _ragged([1, 2], [3], [4, 11], [12, 1]), None, {"vocab_size": 10}, ValueError,
        r"Sequence 2 of X contains token id 11, but the vocabulary has 10 ids .*raise vocab_size"),
    "unseen id at predict": (
        _ragged([1, 2], [3, 4], [5, 6], [7, 8]), _ragged([1], [2, 9], [20]), {}, ValueError,
        r"Sequence 1 of X contains token id 9, but the vocabulary has 9 ids .*map unseen tokens"),
    "all-padding row": (np.array([[1, 2], [0, 0], [3, 0]]), None, {}, ValueError,
                        r"Sequence 1 of X is empty \(only padding id 0\)"),
    "empty sequence": (_ragged([1, 2], [3], []), None, {}, ValueError,
                       r"Sequence 2 of X is empty \(0 timesteps\); every sequence needs"),
    "empty sequence at predict": (_ragged([1, 2], [3, 4]), _ragged([1], [], [2]), {},
                                  ValueError, "Sequence 1 of X is empty"),
    "2D sequence in the list": (_ragged([1, 2], [[3, 4]]), None, {}, ValueError,
                                "Sequence 1 of X has shape"),
    # embedding_dim is set: "use embedding_dim for token ids" was no fix
    "words, not ids": ([np.array(["good", "movie"]), np.array(["bad"])], None, {}, TypeError,
                       "has non-numeric dtype <U5; .* map the words to ids first"),
    # pd.DataFrame of id lists of different lengths: its NaN padding was refused as "dtype
    # float64", to be cast .astype(int), which pandas refuses for NaN
    "NaN padding of a table": (
        pd.DataFrame([[1, 2, 3], [4, 5], [6, 7]]), None, {}, ValueError,
        r"^X holds NaN at sequence 1, timestep 2, where token ids are expected: .* fill "
        r"the padding with padding_idx=0, which is removed \(X\.fillna\(0\)\.astype\(int\)\)"),
    "NaN padding without padding_idx": (
        np.array([[1.0, 2.0], [3.0, np.nan], [4.0, 5.0]]), None, {"padding_idx": None},
        ValueError, r"set padding_idx to an id that is no token .*np\.nan_to_num\(X, "
        r"nan=0\)\.astype\(int\)\), or pass the sequences as a list of 1D id arrays"),
    # a missing id (None in a list, pd.NA of an Int64 array) was "dtype float64", to be
    # cast with .astype(int), which makes NaN a large negative id
    "missing id in a list": (
        [[1, 2], [3, None, 4], [5]], None, {}, ValueError,
        r"^Sequence 1 of X holds a missing token id \(NaN, None or pd.NA\) at timestep 1; "
        "token ids are integers: drop the missing tokens"),
    "pd.NA id at predict": (
        _ragged([1, 2], [3, 4]), pd.Series([pd.array([1, None], dtype="Int64")]), {},
        ValueError, r"^Sequence 0 of X holds a missing token id .* at timestep 1"),
    # (check_ragged was handed array(None, dtype=object) and showed it so)
    "missing sequence": ([[1, 2], None], None, {}, ValueError,
                         r"^Sequence 1 of X is None, not a sequence of timesteps; a missing"),
    # a Python int beyond int64: "dtype float64", cast with .astype(int), which overflows
    "id beyond int64 in a list": ([[1, 2], [3, 2**70]], None, {}, ValueError,
                                  r"^Sequence 1 of X contains token id 2**70, beyond int64"
                                  .replace("2**70", str(2**70))),
    # pandas' nullable Int64 table: pd.NA as NaN, so the same message
    "pd.NA padding at predict": (
        np.array([[1, 2], [3, 4], [5, 6]]), pd.DataFrame([[1, 2], [3, None]], dtype="Int64"),
        {}, ValueError, r"^X holds NaN at sequence 1, timestep 1, where token ids"),
}


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_bad_token_input_names_the_sequence(name, tiny):
    X_fit, X_predict, params, error, message = BAD_TOKENS[name]
    y = np.arange(len(X_fit)) % 2
    est = LSTMClassifier(**{**tiny, "max_epochs": 1}, embedding_dim=2, **params)
    if X_predict is None:
        with pytest.raises(error, match=message):
            est.fit(X_fit, y)
        assert not hasattr(est, "net_")
    else:
        est.fit(X_fit, y)
        with pytest.raises(error, match=message):
            est.predict(X_predict)


@pytest.mark.parametrize("form", ["list of object arrays", "2D object array", "Series"])
def test_object_arrays_of_integer_ids_are_read_as_ids(form, sentences, tiny):
    # np.array(id_lists, dtype=object) holds Python ints, which were read as float64 and
    # refused: "has dtype float64; token ids must be integers"
    X, X_padded, y = sentences
    objects = {"list of object arrays": [np.array(x.tolist(), dtype=object) for x in X],
               "2D object array": np.array(X_padded.tolist(), dtype=object),
               "Series": pd.Series([np.array(x.tolist(), dtype=object) for x in X])}[form]
    est = _fit(LSTMClassifier, objects, y, tiny)
    assert est.vocab_size_ == max(int(x.max()) for x in X) + 1
    assert_allclose(est.predict_proba(objects), _fit(LSTMClassifier, X, y, tiny)
                    .predict_proba(X), rtol=1e-5, atol=1e-7)


def test_a_padding_id_between_tokens_warns_at_fit(sentences, tiny):
    # ids counted from 0 (np.unique's inverse, CountVectorizer's vocabulary_) lost every
    # token 0 to padding_idx=0, silently
    X, X_padded, y = sentences
    counted_from_0 = [x - 1 for x in X]
    inside = [i for i, x in enumerate(counted_from_0)  # a 0 between two tokens
              if "p" in "".join("pt"[bool(v)] for v in x).strip("p")]
    assert 0 < len(inside) < len(X)
    with pytest.warns(UserWarning, match=rf"^{len(inside)} of the {len(X)} sequences of X "
                      rf"hold the padding id 0 between other ids \(sequence {inside[0]} "
                      r"first\), .*shift the ids by one \(ids \+ 1\), or set padding_idx=None"):
        _fit(LSTMClassifier, counted_from_0, y, tiny)
    pre_padded = np.array([np.roll(row, -int(np.sum(row > 0))) for row in X_padded])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # padding before or after the tokens is padding
        for data, params in ((X_padded, {}), (pre_padded, {}),
                             (counted_from_0, {"padding_idx": None})):
            _fit(LSTMClassifier, data, y, tiny, **params)


def test_token_ids_a_training_fold_lacks_say_how_to_set_vocab_size(tiny):
    # cross-validation with vocab_size=None: "refit with a larger vocab_size" alone, where
    # the refit is each fold's, on a vocabulary inferred from it again
    from sklearn.model_selection import KFold, cross_val_score

    ids = np.where(np.arange(20)[:, None] < 10, [1, 2, 3, 1], [1, 2, 7, 1])
    est = LSTMClassifier(embedding_dim=2, **tiny)
    with pytest.raises(ValueError, match=r"token id 7, but the vocabulary has 4 ids .* under "
                       r"cross-validation \(or any split\) the whole data's vocabulary, .*"
                       r"vocab_size=int\(max\(map\(max, X\)\)\) \+ 1 "):
        cross_val_score(est, ids, np.arange(20) % 2, cv=KFold(2), error_score="raise")
    # the fix as the message writes it
    est.set_params(vocab_size=int(max(map(max, ids))) + 1)
    assert len(cross_val_score(est, ids, np.arange(20) % 2, cv=KFold(2), error_score="raise")) == 2
