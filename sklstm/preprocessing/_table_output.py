"""When a transformer's output is a table, and so has feature names and DataFrame output.

scikit-learn wraps ``transform``'s output in a DataFrame (``set_output``,
``sklearn.set_config(transform_output=...)``) only where ``get_feature_names_out``
is offered, and offers ``set_output`` on the same condition: a Pipeline's
``set_output`` fails on a step without it. The transformers of this package return
the container form they are given, and only 2D input gives a table; 3D and ragged
sequences have no table form and keep their own. Each transformer therefore offers
``get_feature_names_out`` through :func:`fitted_on_a_table`.
"""

__all__ = ["fitted_on_a_table"]


def fitted_on_a_table(estimator):
    """Whether ``estimator``'s output is a table: before fitting (so that ``set_output``
    can be called first, as a Pipeline does), and after a fit on 2D input in memory.

    Parameters
    ----------
    estimator : BaseEstimator
        A transformer that validates its input with
        :func:`~sklstm.data.validation.validate_sequences`.

    Returns
    -------
    bool
        False after a fit on 3D or ragged sequences or on a store.
    """
    return (getattr(estimator, "_fitted_form", "2d") == "2d"
            and not getattr(estimator, "_fitted_on_store", False))
