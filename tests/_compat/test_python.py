"""Warnings of a fit are shown at the caller's line, not inside sklstm, skorch or the
fit wrapper of scikit-learn: where a user's warning filters and eyes look."""

import sys
import warnings

import numpy as np
import pytest
import sklearn.pipeline
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

import sklstm._compat.python as compat
from sklstm import LSTMClassifier
from sklstm.exceptions import WarmupOutlastsFitWarning
from sklstm.preprocessing import SequenceScaler

X = np.random.default_rng(0).normal(size=(30, 6, 2)).astype(np.float32)
Y = np.arange(30) % 2
#: two epochs: a ConvergenceWarning from the end of training; warmup_epochs=3 one from
#: its plan (the two were three and seven frames below fit before)
SHORT = dict(max_epochs=2, warmup_epochs=3, hidden_size=4, device="cpu", random_state=0)


def _fit_warnings(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return {(w.category, w.filename) for w in caught if "LSTMClassifier" in str(w.message)}


@pytest.fixture(params=[
    False, pytest.param(True, marks=pytest.mark.skipif(
        sys.version_info < (3, 12), reason="skip_file_prefixes came with Python 3.12"))],
    ids=["stack_walk", "skip_file_prefixes"], autouse=True)
def branch(request, monkeypatch):
    """Each test on both ways of finding the caller: the stack walk (before 3.12) runs
    on every Python, not only where it is the one used."""
    monkeypatch.setattr(compat, "SKIP_FILE_PREFIXES", request.param)


def test_a_fit_s_warnings_point_at_the_call():
    found = _fit_warnings(lambda: LSTMClassifier(**SHORT).fit(X, Y))
    assert found == {(WarmupOutlastsFitWarning, __file__), (ConvergenceWarning, __file__)}


def test_in_a_pipeline_they_point_at_the_pipeline():
    found = _fit_warnings(lambda: make_pipeline(SequenceScaler(),
                                                LSTMClassifier(**SHORT)).fit(X, Y))
    assert {filename for _, filename in found} == {sklearn.pipeline.__file__}


def test_a_warning_inside_a_context_manager_of_the_fit_points_at_the_call(monkeypatch):
    # the host-memory setting warns inside a @contextmanager of sklstm's: the frames of
    # contextlib between it and the fit were taken for the caller's
    monkeypatch.setenv("SKLSTM_HOST_MALLOC", "off")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        LSTMClassifier(**{**SHORT, "warmup_epochs": 0, "tol": None}).fit(X, Y)
    assert {w.filename for w in caught if "SKLSTM_HOST_MALLOC" in str(w.message)} == {__file__}
