"""Times as targets: dates with a time zone are no numbers for the regressor and no
labels scikit-learn takes for the classifier; a missing time (NaT) is no label."""

import datetime

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor

X3 = np.random.default_rng(0).normal(size=(20, 5, 2)).astype(np.float32)
Y_CLASS = np.arange(20) % 2


def test_time_zone_aware_dates_as_targets_are_refused_as_dates():
    # numpy reads them as objects, past the check of datetime64 y above: scikit-learn's
    # check_array made them microseconds since 1970, trained on without a word
    # (predictions near 1.6e15)
    pd = pytest.importorskip("pandas")
    y = pd.Series(pd.date_range("2020-01-01", periods=20, freq="h", tz="UTC"))
    for target in (y, y.to_frame()):
        est = LSTMRegressor(max_epochs=1, device="cpu")
        with pytest.raises(ValueError, match=r"^y holds dates \(dtype datetime64\[.*, UTC\]\); "
                           r"LSTMRegressor needs numbers"):
            est.fit(X3, target)
        assert not hasattr(est, "net_")


def test_time_zone_aware_date_labels_are_refused_naming_the_dates_that_are_labels(tiny):
    # "Unknown label type ... for continuous targets use LSTMRegressor" before, where
    # numpy's dates are labels; scikit-learn's metrics and stratified splits call these
    # "unknown" too, so the fix is the dates without their zone
    pd = pytest.importorskip("pandas")
    y = pd.Series(pd.date_range("2020-01-01", periods=2, tz="UTC")[Y_CLASS])
    for labels in (y, y.to_frame()):
        est = LSTMClassifier(**tiny)
        with pytest.raises(ValueError, match=r"^y holds dates with a time zone \(dtype "
                           r"datetime64\[.*, UTC\]\), .*y\.dt\.tz_convert\(None\) \(in UTC\)"):
            est.fit(X3, labels)
        assert not hasattr(est, "net_")
    est = LSTMClassifier(**tiny).fit(X3, y.dt.tz_convert(None))
    assert est.classes_.dtype.kind == "M" and est.score(X3, y.dt.tz_convert(None)) >= 0


@pytest.mark.parametrize("labels", [np.datetime64("2020-01-01") + Y_CLASS,
                                    np.timedelta64(1, "h") * Y_CLASS], ids=["dates", "durations"])
def test_missing_time_labels_are_refused_not_made_a_class(labels):
    # np.unique made NaT a class of its own, silently (NaN labels are refused)
    labels = labels.copy()
    labels[3] = np.datetime64("NaT") if labels.dtype.kind == "M" else np.timedelta64("NaT")
    est = LSTMClassifier(max_epochs=1)
    with pytest.raises(ValueError, match=r"^y holds NaT \(a missing time\) at index 3, a "
                       r"sample without a label; drop the samples without a label first"):
        est.fit(X3, labels)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("labels", [
    [datetime.date(2020, 1, 1 + c) for c in Y_CLASS.tolist()],
    [datetime.datetime(2020, 1, 1, 3 + c) for c in Y_CLASS.tolist()],
    [datetime.timedelta(hours=1 + c) for c in Y_CLASS.tolist()],
], ids=["dates", "datetimes", "durations"])
def test_time_labels_as_python_objects_are_told_to_become_numpy_s(labels, tiny):
    # "neither numbers nor class labels: pass numbers to regress on" before, where
    # numpy's are labels; scikit-learn's type_of_target calls these "unknown" (its
    # metrics and stratified splits refuse them), so numpy's are the fix
    numpy_dtype = "timedelta64" if isinstance(labels[0], datetime.timedelta) else "datetime64"
    est = LSTMClassifier(**tiny)
    with pytest.raises(ValueError, match=r"^y holds (dates|durations) as Python objects .*"
                       rf"np\.asarray\(y, dtype='{numpy_dtype}'\)"):
        est.fit(X3, labels)
    assert not hasattr(est, "net_")
    fixed = np.asarray(labels, dtype=numpy_dtype)
    assert est.fit(X3, fixed).predict(X3).dtype == fixed.dtype
