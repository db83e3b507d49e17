"""Fitting and predicting on data read by batches: a memory-mapped array or a store.

What the estimators promise (docs/memory_and_throughput.rst, "Data larger than
memory"): the same model as on the data in memory, with only batches (and one chunk
of a validation pass) read at a time.
"""

import threading

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data import store as store_module
from sklstm.data.store import SequenceStore
from sklstm.preprocessing import SequenceScaler

from ..settings import TINY, requires_cuda

CPU = dict(TINY, device="cpu")


def _memmap(X, tmp_path, name="X"):
    # a file of its own: rewriting a mapped file under its mapping is a bus error
    np.save(tmp_path / f"{name}.npy", X)
    return np.load(tmp_path / f"{name}.npy", mmap_mode="r")


def _ragged(rng, n=60, features=2):
    return [rng.normal(size=(int(k), features)) for k in rng.integers(3, 25, size=n)]


def _cases(tmp_path):
    """``{name: (estimator, in-memory X, streamed X, y)}`` of every kind of input."""
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(60, 12, 3)).astype(np.float32)
    y_dense = np.where(dense[:, -3:, 0].sum(axis=1) > 0, "up", "down")
    ragged = _ragged(rng)
    y_ragged = np.array([s[-2:, 0].sum() for s in ragged])
    ids = [rng.integers(1, 40, size=int(k)).astype(np.int32) for k in rng.integers(2, 15, 60)]
    y_ids = np.array([int(s[-1] > 20) for s in ids])
    padded = rng.integers(0, 40, size=(60, 9)).astype(np.int32)
    padded[:, 0] = 1  # no row of padding only (id 0)
    y_padded = (padded[:, 1] > 20).astype(int)
    cases = [
        ("memmap 3d", LSTMClassifier(**CPU), dense, _memmap(dense, tmp_path), y_dense),
        ("store ragged", LSTMRegressor(**CPU, bucketing=True), ragged,
         SequenceStore.write(tmp_path / "r", ragged), y_ragged),
        # split_level="auto" reads every sequence's level in one pass of the store
        ("split store", LSTMClassifier(**CPU), ragged,
         SequenceStore.write(tmp_path / "r3", ragged), y_ragged > 0),
        ("relative", LSTMRegressor(**CPU, relative="last", seq_len=10, downsample=2), ragged,
         SequenceStore.write(tmp_path / "r2", ragged), y_ragged),
        # a mean anchor has no float32 value: both subtract it in float64, round once
        ("relative mean", LSTMRegressor(**CPU, relative="mean", downsample=2), ragged,
         SequenceStore.write(tmp_path / "r4", ragged), y_ragged),
        ("tokens", LSTMClassifier(**CPU, embedding_dim=3, seq_len=8), ids,
         SequenceStore.write(tmp_path / "t", ids), y_ids),
        ("token memmap", LSTMClassifier(**CPU, embedding_dim=3, early_stopping=True,
                                        validation_fraction=0.2), padded,
         _memmap(padded, tmp_path, "ids"), y_padded),
    ]
    return {name: rest for name, *rest in cases}


def _outputs(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=requires_cuda)])
@pytest.mark.parametrize("case", ["memmap 3d", "store ragged", "split store", "relative",
                                  "relative mean", "tokens", "token memmap"])
def test_streamed_input_trains_the_same_model(case, device, tmp_path):
    # on CUDA the data in memory go to the device whole, the streamed ones are copied
    # batch by batch: the same batches (cut to the same length) of the same values reach
    # the same kernels, so the model is the same there too, bit for bit
    est, in_memory, streamed, y = _cases(tmp_path)[case]
    a = est.set_params(device=device).fit(in_memory, y)
    out_a = _outputs(a, in_memory)
    b = type(est)(**est.get_params()).fit(streamed, y)
    np.testing.assert_array_equal(_outputs(b, streamed), out_a)
    np.testing.assert_array_equal(_outputs(b, in_memory), out_a)  # either way round
    assert b.score(streamed, y) == a.score(in_memory, y)


def test_only_batches_and_chunks_are_read(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    store = SequenceStore.write(tmp_path / "s", _ragged(rng, n=200))
    y = rng.normal(size=200)
    reads, threads = [], set()

    def recording(method):
        def read(self, positions, *args):
            reads.append(len(positions))
            threads.add(threading.current_thread().name)
            return method(self, positions, *args)
        return read

    for name in ("read", "read_steps"):  # sequence by sequence, or in one gather
        monkeypatch.setattr(SequenceStore, name, recording(getattr(SequenceStore, name)))
    monkeypatch.setattr(store_module, "CHUNK_BYTES", 2000)  # validation chunks of ~8 rows
    est = LSTMRegressor(**dict(CPU, batch_size=16)).fit(store, y)
    est.predict(store)
    assert max(reads) <= 16 and sum(reads) >= 4 * 200  # a scan, 2 epochs, a prediction
    # training batches are read ahead, on the loader's reading thread
    assert any(name.startswith("sklstm-read-ahead") for name in threads)


def test_a_pipeline_scales_the_store_by_the_batch(tmp_path):
    rng = np.random.default_rng(2)
    ragged = [s * 50 + 7 for s in _ragged(rng)]
    y = np.array([s[-1, 0] for s in ragged])
    store = SequenceStore.write(tmp_path / "s", ragged)
    pipe = make_pipeline(SequenceScaler(), LSTMRegressor(**CPU))
    expected = pipe.fit(ragged, y).predict(ragged)
    np.testing.assert_array_equal(pipe.fit(store, y).predict(store), expected)
    assert isinstance(pipe[0].transform(store), SequenceStore)  # a mapped view


def test_a_checkpoint_of_the_data_in_memory_resumes_on_the_store(tmp_path):
    rng = np.random.default_rng(3)
    ragged = _ragged(rng)
    y = rng.normal(size=len(ragged))
    params = dict(CPU, checkpoint=str(tmp_path / "ckpt"))
    LSTMRegressor(**params).fit(ragged, y)
    store = SequenceStore.write(tmp_path / "s", ragged)
    resumed = LSTMRegressor(**dict(params, max_epochs=3)).fit(store, y)
    assert resumed.n_epochs_ == 3  # the two epochs done were taken, one more trained
    whole = LSTMRegressor(**dict(CPU, max_epochs=3)).fit(ragged, y)
    np.testing.assert_allclose(resumed.predict(store), whole.predict(ragged), rtol=1e-5,
                               atol=1e-6)


def test_auto_batch_size_measures_on_batches_of_the_store(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 10, 2)).astype(np.float32)
    y = X[:, -1, 0] > 0
    est = LSTMClassifier(**dict(CPU, batch_size="auto", max_memory="256MiB"))
    est.fit(_memmap(X, tmp_path), y)
    assert est.batch_size_trials_ and np.isfinite(est.predict_proba(X)).all()


@pytest.mark.parametrize("bad, match", [
    (np.array([[[1.0]], [[np.nan]]]), "sequence 1"),
    (np.array([[[1.0]], [[1e39]]]), "float32's range"),
    (np.array([[[1.0]], [[np.inf]]], np.float16), "sequence 1"),  # (was trained on)
])
def test_bad_values_are_refused_before_training(bad, match, tmp_path):
    est = LSTMClassifier(**CPU)
    with pytest.raises(ValueError, match=match):
        est.fit(_memmap(bad, tmp_path), [0, 1])
    assert not hasattr(est, "net_")


def test_a_2d_memmap_keeps_the_width_rule_of_2d_arrays(tmp_path):
    X = np.random.default_rng(5).normal(size=(30, 6)).astype(np.float32)
    est = LSTMClassifier(**CPU).fit(_memmap(X, tmp_path), X[:, -1] > 0)
    assert est.n_features_in_ == 6 and est.n_sequence_features_ == 1
    with pytest.raises(ValueError, match="X has 5 features, but LSTMClassifier is expecting 6"):
        est.predict(X[:, :5])
    assert est.predict(_memmap(X, tmp_path, "again")).shape == (30,)


def _numpy_typed(params):
    """Every int and float param as the numpy scalar a grid written with np.array gives."""
    kinds = {int: np.int64, float: np.float64}
    return {k: kinds[type(v)](v) if type(v) in kinds else v for k, v in params.items()}


def test_defaults_with_numpy_params_learn_a_store_as_its_list(tmp_path):
    # what users get: every default, only token input declared and a seed, all as numpy
    # scalars; on whatever device "auto" picks
    rng = np.random.default_rng(6)
    ids = [rng.integers(1, 30, size=int(k)).astype(np.int32) for k in rng.integers(5, 30, 120)]
    y = np.array(["has 3" if (s == 3).any() else "no 3" for s in ids])
    params = LSTMClassifier(embedding_dim=8, random_state=0).get_params()
    streamed = LSTMClassifier(**_numpy_typed(params)).fit(
        SequenceStore.write(tmp_path / "t", ids), y)
    in_memory = LSTMClassifier(**params).fit(ids, y)
    assert streamed.converged_ and streamed.score(ids, y) >= 0.9
    assert streamed.n_epochs_ == in_memory.n_epochs_
    np.testing.assert_allclose(streamed.predict_proba(ids), in_memory.predict_proba(ids),
                               rtol=1e-5, atol=1e-6)  # the same fit (same kernels, order)


def test_a_store_of_1d_numbers_is_refused_as_a_list_of_them(tmp_path):
    seqs = [np.arange(5.0), np.arange(3.0)]
    est = LSTMRegressor(**CPU)
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        est.fit(seqs, [0.0, 1.0])
    with pytest.raises(ValueError, match=r"1D sequences.*reshape\(-1, 1\).*embedding_dim"):
        est.fit(SequenceStore.write(tmp_path / "s", seqs), [0.0, 1.0])
    assert not hasattr(est, "net_")
