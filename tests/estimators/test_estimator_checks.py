"""scikit-learn's own API checks, run on both estimators at their default parameters.

Nothing is declared as an expected failure, and only ``random_state`` is set (so a
failure reproduces): what passes here is what a user gets from
``LSTMClassifier()`` and ``LSTMRegressor()``.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm import LSTMClassifier, LSTMRegressor


@parametrize_with_checks([LSTMClassifier(random_state=0), LSTMRegressor(random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)
