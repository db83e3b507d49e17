"""scikit-learn's own API checks, run on both estimators."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm import LSTMClassifier, LSTMRegressor

# Small, fast settings that still learn sklearn's check datasets well enough to
# pass the score thresholds of check_classifiers_train / check_regressors_train.
FAST = dict(hidden_size=16, max_epochs=30, lr=0.01, batch_size=16, random_state=0)


@parametrize_with_checks([LSTMClassifier(**FAST), LSTMRegressor(**FAST)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
