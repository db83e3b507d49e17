"""When a transformer's output is a table, and so has feature names and DataFrame output.

scikit-learn wraps ``transform``'s output in a DataFrame (``set_output``,
``sklearn.set_config(transform_output=...)``) only where ``get_feature_names_out``
is offered, and offers ``set_output`` on the same condition (a Pipeline's
``set_output`` fails on a step without it). The transformers of this package return
the container form they are given, and only 2D input gives a table; 3D and ragged
sequences have no table form and keep their own. Each transformer therefore offers
``get_feature_names_out`` through :func:`fitted_on_a_table`, and ``set_output``
whatever the fit (:class:`SetOutputMixin`).

A transformer fitted on a table may still be given 3D or ragged sequences later (2D
input is univariate sequences, so 3D input with one feature is valid). scikit-learn
then wraps that output too, and pandas fails with "Must pass 2-d input":
:func:`table_output` refuses such output in words when a frame was asked for.
"""

import inspect

from sklearn.base import TransformerMixin

from .._compat.sklearn import transform_output
from ..data.store import SequenceStore

__all__ = ["SetOutputMixin", "fitted_on_a_table", "table_output"]

# scikit-learn's set_output, without the ``available_if`` condition it is offered on
# (update_wrapper's public ``__wrapped__``; the function itself where it has none).
# None where neither is a plain function: set_output is then scikit-learn's, as offered.
_set_output = inspect.getattr_static(TransformerMixin, "set_output")
_set_output = getattr(_set_output, "__wrapped__", _set_output)
_set_output = _set_output if inspect.isfunction(_set_output) else None


class SetOutputMixin:
    """``set_output`` offered whatever the fit; listed before ``TransformerMixin``.

    scikit-learn offers it only where ``get_feature_names_out`` is, which these
    transformers offer only after a fit on a table: after a fit on 3D or ragged
    sequences (or a store), a fitted Pipeline's ``set_output`` failed ("set_output is
    not available"), ``transform="default"`` too. Such output keeps its form under any
    setting: scikit-learn wraps only the output of a transformer with feature names.
    """

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            The container of 2D output after a fit on 2D input (3D and ragged
            sequences keep their form); None leaves the setting unchanged.

        Returns
        -------
        self : estimator instance
            The transformer.
        """
        if _set_output is None:
            return super().set_output(transform=transform)
        return _set_output(self, transform=transform)


def fitted_on_a_table(estimator):
    """Whether ``estimator``'s output is a table: before fitting (so that ``set_output``
    can be called first, as a Pipeline does), after a fit on 2D input in memory, and
    after a :class:`~sklstm.preprocessing.SequencePadder`'s fit on 1D sequences (token
    ids), which it pads into a 2D table (``set_output="pandas"`` was ignored there).

    Parameters
    ----------
    estimator : BaseEstimator
        A transformer that validates its input with
        :func:`~sklstm.data.validation.validate_sequences`.

    Returns
    -------
    bool
        False after a fit on 3D or ragged sequences of 2D arrays, or on a store.
    """
    return ((getattr(estimator, "_fitted_form", "2d") == "2d"
             or getattr(estimator, "_fitted_on_1d", False))
            and not getattr(estimator, "_fitted_on_store", False))


def table_output(estimator, output):
    """``transform``'s ``output``, refused where scikit-learn would wrap a non-table.

    Parameters
    ----------
    estimator : BaseEstimator
        The transformer, fitted.
    output : object
        What its ``transform`` computed.

    Returns
    -------
    object
        ``output``, unchanged: a 2D array, or any output of a transformer whose output
        is no table or is not wrapped (``set_output(transform="default")``).

    Raises
    ------
    ValueError
        When the transformer's output is a table after its fit (see
        :func:`fitted_on_a_table`), its output is set to a frame
        (``"pandas"``, ``"polars"``) and ``output`` is not a 2D array (3D, ragged, a
        store, even one of univariate sequences).
    """
    # a store of univariate sequences has ndim 2 but no frame form: scikit-learn's wrapper
    # failed on it with the store's own TypeError, whose remedy (pass the store to
    # SequenceScaler) was what the user had done
    is_table = getattr(output, "ndim", None) == 2 and not isinstance(output, SequenceStore)
    if is_table or not fitted_on_a_table(estimator):
        return output
    container = transform_output(estimator)
    if container == "default":
        return output
    shape = getattr(output, "shape", None)
    got = (f"a {type(output).__name__}" if isinstance(output, SequenceStore)
           else f"shape {tuple(shape)}" if shape is not None
           else f"a list of {len(output)}" if isinstance(output, list)
           else f"a {type(output).__name__}")
    fitted_on, given = (
        ("1D sequences (token ids, padded into a table)", "1D sequences")
        if getattr(estimator, "_fitted_on_1d", False) else
        ("2D input (a table, one column per timestep)", "2D input"))
    raise ValueError(
        f"{type(estimator).__name__} was fitted on {fitted_on} and its output is set to "
        f"{container!r}, but this X gives sequences that are no table ({got}). Pass "
        f"{given} as in fit, fit on the 3D or ragged sequences themselves (their form is "
        "kept whatever the output setting), or set_output(transform='default').")
