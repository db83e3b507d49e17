"""The fitted feature bookkeeping of :mod:`~sklstm.data.validation`: recorded in fit,
checked afterwards, and a refusal that says which layout the data likely has and
how to pass it instead (in memory and memory-mapped alike)."""

from __future__ import annotations

from .containers import RAGGED_FORMS
from .input_errors import feature_count_error, no_samples_error

__all__ = ["other_width_hint", "record_or_check", "record_store"]


def other_width_hint(n_columns):
    """The fix for 2D data of another width than the 2D fit's ``n_columns``."""
    return (" 2D X holds univariate sequences, one column per timestep, as many as in fit "
            f"({n_columns}); pass sequences of another length as 3D, "
            "np.asarray(X)[:, :, None] (np.asarray: a DataFrame too).")


def _layout_hint(form, shape, expected):
    """The likelier layout of data of ``form`` (and ``shape``: of the array, or of
    sequence 0 of a list) whose features per timestep differ from the ``expected``."""
    if form == "2d" and shape is not None and shape[1] == expected:
        # one sequence (n_timesteps, n_features) passed alone, of the fitted width
        # (np.asarray: a DataFrame's own X[None] is a KeyError)
        return (" 2D X holds univariate sequences (n_samples, n_timesteps); for a single "
                f"sequence of shape (n_timesteps, n_features) = {tuple(shape)}, pass "
                "np.asarray(X)[None].")
    if form == "2d":
        return (" 2D X holds univariate sequences (n_samples, n_timesteps); pass a 3D "
                "array (n_samples, n_timesteps, n_features).")
    if form == "3d" and shape is not None and shape[1] == expected:
        # laid out channels first (sktime's and aeon's layout): its steps read as features
        return (f" X has shape {tuple(shape)}: if it is laid out (n_samples, n_features, "
                "n_timesteps), pass X.transpose(0, 2, 1).")
    if form in RAGGED_FORMS and shape is not None and shape[0] == expected:
        return (f" Sequence 0 of X has shape {tuple(shape)}: if the sequences are laid "
                "out (n_features, n_timesteps), pass [seq.T for seq in X].")
    return ""


def record_or_check(estimator, reset, fitted_form, n_features, form, shape=None):
    """Record the features per timestep of the data of ``form`` in fit (``reset``),
    else refuse data with another count than the fit's, with the likelier fix.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives (or holds) ``n_sequence_features_`` and ``_fitted_form``.
    reset : bool
        True in fit.
    fitted_form : {"2d", "sequences", "tokens"}
        The form recorded in fit.
    n_features : int
        Features per timestep of the data.
    form : str
        The container form of the data (:func:`~sklstm.data.containers.sequence_form`).
    shape : tuple or None, default=None
        The data's shape, or that of its sequence 0 for a ragged form: for the hint.
    """
    if reset:
        estimator.n_sequence_features_ = n_features
        estimator._fitted_form = fitted_form
        if fitted_form != "2d":
            # (feature_names_in_ is record_or_check_columns's, of every form but 2D)
            estimator.n_features_in_ = n_features
        return
    expected = estimator.n_sequence_features_
    if n_features != expected:
        raise feature_count_error(n_features, type(estimator).__name__, expected,
                                  _layout_hint(form, shape, expected))


#: What the estimators do, of a store too, in place of a step that reads X whole.
_STREAMED_INSTEAD = {
    "SequenceResampler": "without this step, the estimators' downsample parameter "
                         "averages the steps of a store as it does "
                         "(LSTMRegressor(downsample=factor)); ",
    "SequencePadder": "without this step, the estimators read sequences of any length, "
                      "of a store too, and cut them with their seq_len parameter (with "
                      "keep_steps='last' as truncating='pre' does); ",
}


def record_store(estimator, store, reset, tokens, stream):
    """Check what can be checked of the SequenceStore ``store`` without reading it,
    and keep the feature bookkeeping, with the hints of data in memory. The values are
    checked where they are read, in one pass (:func:`~sklstm.data.store_scan.scan_store`)."""
    name = type(estimator).__name__
    if not stream:
        raise TypeError(
            f"{name} reads X whole, and X is a SequenceStore, meant to be read by batches. "
            "LSTMClassifier, LSTMRegressor and SequenceScaler stream it; "
            f"{_STREAMED_INSTEAD.get(name, '')}for this step call X.load() if the data "
            "fit in memory.")
    if len(store) == 0:
        raise no_samples_error(name, store.shape)
    if not tokens and not store.ragged and store.ndim == 2:
        # a 2D array of univariate sequences keeps scikit-learn's rule for 2D data,
        # as in memory: its width is n_features_in_
        if reset:
            estimator.n_features_in_ = store.shape[1]
        elif estimator._fitted_form == "2d" and store.shape[1] != estimator.n_features_in_:
            raise feature_count_error(store.shape[1], name, estimator.n_features_in_,
                                      other_width_hint(estimator.n_features_in_))
        record_or_check(estimator, reset, "2d", 1, "2d", store.shape)
        return
    if tokens:
        record_or_check(estimator, reset, "tokens", 1, "tokens")
        return
    # (the hints of the same data in memory: a 3D array's, or a list's of sequence 0)
    form, shape = (("list", (int(store.lengths[0]), store.n_features)) if store.ragged
                   else ("3d", store.shape))
    record_or_check(estimator, reset, "sequences", store.n_features, form, shape)
