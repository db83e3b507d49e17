"""LSTMClassifier: sequence classification."""

from __future__ import annotations

import numbers

import numpy as np
from scipy.special import softmax
from sklearn import config_context
from sklearn.base import ClassifierMixin
from sklearn.utils import assert_all_finite, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from torch import nn

from .._compat.sklearn import StrOptions
from .._param_validation import extended_signature, plain_label
from ..data.relative import ANCHORS, relative_sequences
from ..persistence._registry import register_estimator
from ..training.class_weights import ClassWeightedCrossEntropy, class_weights, weighted_chance_loss
from . import _docs
from ._base import BaseLSTM
from ._data_checks import as_targets


def _label_kind(kind):
    """Labels of one kind sort together: strings, numbers (bools included), or a type."""
    if issubclass(kind, str):
        return str
    return numbers.Number if issubclass(kind, (numbers.Number, np.number, np.bool_)) else kind


def _check_label_types(y):
    """Refuse labels that cannot be sorted into ``classes_`` together: strings beside
    numbers or None (an object array; numpy would fail with a bare TypeError, and
    scikit-learn may call it an "unknown label type"); and numbers in an object array,
    which scikit-learn calls an "unknown label type" it takes for continuous targets."""
    kinds = {_label_kind(kind) for kind in map(type, y)} if y.dtype == object else set()
    if len(kinds) > 1:
        raise _label_types_error(y)
    if kinds == {numbers.Number}:  # e.g. a pandas column of ints with dtype object
        # (NaN among them: y.astype(int) fails on it, pd.to_numeric(y) keeps it)
        fix = (_DROP_MISSING if any(map(_is_missing, y)) else
               "convert y to a numeric dtype first (e.g. y.astype(int), y.astype(bool) or "
               "pd.to_numeric(y))")
        raise ValueError(
            "Unknown label type: y holds numbers in an array of dtype object (first "
            f"{plain_label(y[0])!r}), whose type scikit-learn cannot tell; {fix}.")


#: What to do with missing labels (None, NaN, pd.NA), for the errors above and below.
_DROP_MISSING = ("drop the samples without a label first (e.g. keep = pd.notna(y), then "
                 "fit X[keep], y[keep]); y.astype(str) would make a class of them")


def _label_types_error(y):
    """The error naming each type of label in ``y``, with where it first occurs
    (scikit-learn's wording: "Mix of label input types")."""
    first = {}
    for i, label in enumerate(y):
        first.setdefault(type(label).__name__, (i, plain_label(label)))
    shown = ", ".join(f"{kind} ({label!r} at index {i})"
                      for kind, (i, label) in sorted(first.items()))
    problem = (f"Mix of label input types in y: {shown}" if len(first) > 1 else
               f"The class labels in y cannot be sorted: {shown}")
    # a pandas column of strings with missing labels (NaN, pd.NA, None) is the common
    # case: y.astype(str), the fix for a real mix, would make "nan" a class silently
    fix = (_DROP_MISSING if any(map(_is_missing, y)) else
           "convert them (e.g. y.astype(str)), or drop the samples without a label (None)")
    return ValueError(f"{problem}. Class labels must all be of one type, all strings or "
                      f"all numbers, to be sorted into classes_; {fix}.")


def _refuse_zoned_dates(y):
    """Refuse pandas' dates with a time zone (dtype ``datetime64[ns, tz]``, a Series or a
    column). numpy has no such dtype: it reads them as Timestamp objects, which
    scikit-learn calls an "unknown label type" (with the regressor as the fix), in fit
    and in its metrics (``score``) and stratified splits alike; numpy's own dates, with
    no zone, are classes everywhere, and the fix."""
    dtypes = list(y.dtypes) if hasattr(y, "columns") else [getattr(y, "dtype", None)]
    zoned = next((d for d in dtypes if getattr(d, "tz", None) is not None), None)
    if zoned is not None:
        raise ValueError(
            f"y holds dates with a time zone (dtype {zoned}), which scikit-learn cannot "
            "take for class labels (its metrics and stratified splits call them "
            "'unknown'); pass them without the zone, y.dt.tz_convert(None) (in UTC) or "
            "y.dt.tz_localize(None) (in local time), which are class labels, or as text, "
            "y.astype(str).")


def _is_missing(label):
    """Whether ``label`` is no label: None, NaN, NaT or pandas' NA (known by its type's
    name: pandas is optional)."""
    if label is None or type(label).__name__ == "NAType":
        return True
    try:
        return bool(label != label)  # NaN and NaT only
    except (TypeError, ValueError):
        return False


def _among(all_classes, classes, encoded):
    """``(encoded, all_classes)``: the indices ``encoded`` into ``classes`` as indices
    into ``all_classes``, the sorted labels that hold them (``_profile_classes``)."""
    at = np.minimum(np.searchsorted(all_classes, classes), len(all_classes) - 1)
    if not np.array_equal(all_classes[at], classes):  # (a guard: drawn from the same y)
        raise ValueError(f"classes {classes[all_classes[at] != classes][:5].tolist()} of y "
                         "are not among the classes of the data profiled.")
    return at[encoded], all_classes


@register_estimator
@_docs.fill
class LSTMClassifier(ClassifierMixin, BaseLSTM):
    """LSTM classifier for sequences, trained by skorch.

    Binary and multiclass; labels of any type (strings too). Batch size,
    gradient accumulation and sequence length are ordinary hyperparameters, so
    sklearn searches can select them.

    Parameters
    ----------
{parameters}
    relative : {None, "mean", "last"}, default=None
        Read each sequence relative to itself: subtract from every sequence its
        anchor per feature, the mean of its valid timesteps (``"mean"``) or the
        values of its last valid timestep (``"last"``), in fit and prediction
        alike (the input side of RevIN, Kim et al. 2022). For classes that are a
        shape whatever the recording's level: a per-recording offset (a sensor's
        orientation, a baseline) is then not something the network must learn
        to ignore from a few dozen examples. Not for classes that differ by
        level (the level is removed). Anchors are taken from the steps the
        network reads (after ``downsample`` and ``seq_len``), respecting the
        lengths of ragged input. Numeric input only (refused with
        ``embedding_dim``, and where every training sequence has a single step,
        which it would make 0). None (default) feeds the sequences as they are.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, as in scikit-learn's classifiers: a
        dict ``{label: weight}`` (classes it leaves out weigh 1), or
        ``"balanced"``, ``n_samples / (n_classes * np.bincount(y))``, so that a
        rare class counts as much as a common one. For imbalanced classes, where
        an unweighted fit can settle on the majority class (score such fits with
        ``scoring="balanced_accuracy"``). The weights are rescaled to average 1
        over the training samples, so the loss, ``lr`` and ``tol`` keep their
        scale, and the loss is the mean of the weighted per-sample losses, so
        gradient accumulation stays exact. Weighted training shifts
        ``predict_proba`` towards the classes weighted up. Weights are finite
        numbers >= 0; a weight of 0 leaves a class out of the loss, and at least
        two classes of ``y`` need a positive weight (else a ValueError before
        training). None (default): all classes weigh 1.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted, in the dtype of ``y`` (pandas' nullable labels,
        ``boolean`` or ``Int64``, in their numpy dtype: True, not 1.0), which
        :meth:`predict` returns.
{attributes}
    See Also
    --------
    LSTMRegressor : The regression counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 8, 2)).astype("float32")
    >>> y = np.where(X[:, -1, 0] > 0, "up", "down")
    >>> clf = LSTMClassifier(hidden_size=8, max_epochs=3, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **BaseLSTM._parameter_constraints, "relative": [StrOptions(set(ANCHORS)), None],
        "class_weight": [StrOptions({"balanced"}), dict, None]}

    def __init__(self, *, relative=None, class_weight=None, lr=1e-3, conv_channels="auto",
                 split_level="auto", weight_decay=1e-4, **params):
        self._check_init_keywords(params)
        super().__init__(lr=lr, conv_channels=conv_channels, split_level=split_level,
                         weight_decay=weight_decay, **params)
        self.relative = relative
        self.class_weight = class_weight

    # lr, conv_channels, split_level and weight_decay: the base's parameters, in their
    # places, with the classifier's own defaults (LSTM-FCN's branch trains at 1e-3; the
    # level beside the shape; an L2 penalty that steadies fits on a few dozen
    # recordings: issue 17's benchmark)
    __init__.__signature__ = extended_signature(
        BaseLSTM.__init__, relative=None, class_weight=None, lr=1e-3, conv_channels="auto",
        split_level="auto", weight_decay=1e-4)

    # what prediction reads of relative, as the fit fixed it (in _sequence_params)
    _prediction_settings = ("relative",)

    #: The classes of the whole ``y``, which profile_batch_sizes sets on its profiled
    #: fits (a private hook: no parameter, no fitted attribute, dropped by ``clone``).
    #: Those train on a few samples drawn from ``y``, which hold some of its classes:
    #: the output layer they built was smaller than the fit on ``y`` builds, and
    #: differed by batch size (400 samples of 100 classes, hidden_size=4: 67,516
    #: parameters at batch 2, 73,520 at batch 64, 75,100 in the fit). Not a parameter of
    #: ``__init__``: no fit of the user's has a use for classes its ``y`` lacks.
    _profile_classes = None

    #: ``y`` of :meth:`fit`, put into its docstring (``_docs.fill``)
    _fit_y = """
        y : array-like of shape (n_samples,)
            Class labels, one per sequence, all of one type (strings too). A single
            column ``(n_samples, 1)`` is raveled, with a ``DataConversionWarning``.
            The classifier is single-output: ``y`` of several columns is refused (for
            several labels per sequence fit one classifier per column, e.g. with
            ``sklearn.multioutput.MultiOutputClassifier``).
        """

    def _network_input(self, seqs, settings):
        """Each sequence relative to its anchor (``relative``; absent from models saved
        before it); the targets have no offset."""
        how = settings.get("relative")
        return (seqs if how is None else relative_sequences(seqs, how)[0]), None

    def _encode_y(self, y):
        y, shape = as_targets(y)
        if len(shape) > 2:
            raise ValueError(f"y should be a 1d array of class labels, got a {len(shape)}D "
                             f"array of shape {shape} instead.")
        if len(shape) == 2 and shape[1] != 1:  # (a single column is raveled below)
            # scikit-learn's own message says only "should be a 1d array": name the
            # estimators that take several targets
            raise ValueError(
                f"{type(self).__name__} is single-output: y should be a 1d array of class "
                f"labels (or a single column), got an array of shape {shape} instead. For "
                "multi-output regression use LSTMRegressor; for several labels per "
                "sequence fit one classifier per column (e.g. "
                "sklearn.multioutput.MultiOutputClassifier(LSTMClassifier())).")
        _refuse_zoned_dates(y)  # (before column_or_1d makes them objects)
        try:
            y = column_or_1d(y, warn=True)
        except ValueError as exc:
            if "Complex data not supported" not in str(exc):
                raise
            # (scikit-learn's message goes on to print all of y)
            raise ValueError("Complex data not supported: y holds complex numbers; class "
                             "labels are numbers or strings: pass y.real where the "
                             "imaginary parts are 0.") from None
        if y.dtype.kind == "T":
            # numpy 2's variable-width strings (StringDType): scikit-learn's label checks
            # failed on them in numpy's words ("dtype argument must be a NumPy dtype");
            # read as the Python strings they hold, as a pandas column of strings is (a
            # missing one, its na_object, is then refused as such below)
            y = y.astype(object)
        if y.dtype.kind in "fc":
            # whatever assume_finite says, as X is: a NaN label was called "continuous"
            with config_context(assume_finite=False):
                assert_all_finite(y, input_name="y")
        if y.dtype.kind in "mM" and np.isnat(y).any():
            # as NaN is refused above: np.unique made NaT a class of its own, silently
            raise ValueError(f"y holds NaT (a missing time) at index "
                             f"{np.flatnonzero(np.isnat(y))[0]}, a sample without a label; "
                             f"{_DROP_MISSING}.")
        _check_label_types(y)
        try:  # (its TypeError about bytes labels says what to do: it stands)
            check_classification_targets(y)
        except ValueError as exc:
            raise ValueError(f"{exc} (in y; for continuous targets use LSTMRegressor)") from exc
        try:
            classes, encoded = np.unique(y, return_inverse=True)
        except TypeError as exc:  # numpy's "'<' not supported": labels that do not sort
            raise _label_types_error(y) from exc
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in y, but y "
                f"contains only one class: {plain_label(classes[0])!r}."
            )
        if self._profile_classes is not None:
            encoded, classes = _among(self._profile_classes, classes, encoded)
        return encoded.astype(np.int64), {"classes_": classes}

    _loss = nn.CrossEntropyLoss

    def _n_outputs(self, target):
        return len(target["classes_"])

    def _criterion(self, y_train, target, checked):
        if checked["class_weight"] is None:
            return super()._criterion(y_train, target, checked)
        classes = target["classes_"]
        return ClassWeightedCrossEntropy, class_weights(
            checked["class_weight"], classes, y_train, type(self).__name__)

    def _trivial_loss(self, y_train, weights):
        # cross-entropy of predicting the class frequencies (as weighted): their entropy
        # (the weights have one per class, those y_train lacks too: _profile_classes)
        n_classes = int(y_train.max()) + 1 if weights is None else len(weights)
        return weighted_chance_loss(y_train, weights, n_classes)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class for each sequence; columns follow
            ``classes_``.
        """
        return softmax(self._forward(X), axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log of :meth:`predict_proba`, computed stably from the network
            outputs; columns follow ``classes_``.
        """
        logits = self._forward(X)
        return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)

    def predict(self, X):
        """Most probable class of each sequence.

        Parameters
        ----------
        {X_predict}

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted class label of each sequence, one of ``classes_``.
        """
        logits = self._forward(X)  # checks fitted state before classes_ is read
        return self.classes_[np.argmax(logits, axis=1)]
