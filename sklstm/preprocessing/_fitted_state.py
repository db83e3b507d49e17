"""A transformer's fit either completes or leaves no fitted state, as an estimator's does.

:func:`~sklstm.data.validation.validate_sequences` records the feature bookkeeping
(``n_features_in_``, ``feature_names_in_``, the form) as it goes, and scikit-learn's
``validate_data`` records a DataFrame's names before it converts the values: a refit
refused on the way left the new records beside the old fit's (a padder fitted on
sequences of columns ``a, b`` then refused a DataFrame of text named ``p, q`` refused
the ``a, b`` sequences afterwards; a scaler's old scales met a new feature count).
"""

from contextlib import contextmanager

__all__ = ["fitting"]

#: fitted attributes whose names do not end in "_": the form validate_sequences records,
#: whether the scaler was fitted on a store, and whether the padder was fitted on 1D
#: sequences (token ids, padded into a table)
FITTED_PRIVATE = ("_fitted_form", "_fitted_on_store", "_fitted_on_1d")


@contextmanager
def fitting(transformer):
    """Run a fit of ``transformer``; where it raises, remove every fitted attribute
    (names ending in ``_`` and :data:`FITTED_PRIVATE`), so that the transformer is
    unfitted (``NotFittedError``) rather than half refitted.

    Parameters
    ----------
    transformer : BaseEstimator
        The transformer being fitted.

    Yields
    ------
    None
    """
    try:
        yield
    except BaseException:
        for name in [n for n in vars(transformer) if n.endswith("_") or n in FITTED_PRIVATE]:
            del vars(transformer)[name]
        raise
