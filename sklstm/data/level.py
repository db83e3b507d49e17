"""Whether a fit splits every sequence into its level and its shape (``split_level``).

Split (:func:`sklstm.network.level.split_level`), the network reads each sequence's
shape and its head the level beside it: offsets of each recording's own stop mattering
(issue 17's gestures rise to 1-NN DTW's accuracy), but the level counts for little
beside the readouts' features. Where the level is what tells the targets apart (the
same shape in two classes one unit apart), a split network learns the noise of the
shapes instead and predicts at chance on new data (measured: 0.56 of 32 held-out
recordings after 100 epochs, 1.000 read as they are;
``benchmarks/bench_split_level.py``). So ``"auto"`` asks the training data first: a
linear model of the levels alone, cross-validated, and keeps the sequences as they are when it gets
at least halfway from the trivial score to a perfect one. No library has this check;
it is a few lines of scikit-learn.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import RidgeClassifier, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["checked_rows", "level_tells_the_target", "resolve_split_level"]

#: Sequences the check reads at most (a seeded random sample of the training set, not
#: evenly spaced rows, which would alias with labels in a periodic order): the levels
#: of a few thousand sequences say as much as those of millions, in milliseconds.
MAX_CHECKED = 20_000


def checked_rows(n_samples):
    """The rows of ``n_samples`` the check reads, in order; None for all of them."""
    if n_samples <= MAX_CHECKED:
        return None
    return np.sort(np.random.default_rng(0).choice(n_samples, MAX_CHECKED, replace=False))


def level_tells_the_target(levels, y, classification):
    """Whether a linear model of the levels alone predicts the targets well.

    Parameters
    ----------
    levels : ndarray of shape (n_samples, n_features)
        Each sequence's mean per feature.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Encoded class labels, or regression targets.
    classification : bool
        A ridge classifier scored by accuracy (trivial score: the majority class's
        share), or ridge regression scored by R^2 (trivial score: 0), on the
        standardized levels. Both are solved in closed form: no iterations that could
        stop short and warn (a ``catch_warnings`` here would change the warning filters
        of fits running in other threads), the same answer on every machine.

    Returns
    -------
    bool
        True when its 5-fold cross-validated score is at least halfway from the
        trivial score to a perfect one; False too when there are too few samples to
        cross-validate (fewer than two per class; for regression, fewer than ten: two
        per fold).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(60) % 2
    >>> level_tells_the_target((y + rng.normal(0, 0.1, 60))[:, None], y, True)
    True
    >>> level_tells_the_target(rng.normal(size=(60, 1)), y, True)
    False
    """
    levels = np.asarray(levels, dtype=np.float64)
    rows = checked_rows(len(levels))
    if rows is not None:
        levels, y = levels[rows], np.asarray(y)[rows]
    if classification:
        counts = np.unique(y, return_counts=True)[1]
        if counts.min() < 2:
            return False
        trivial = counts.max() / counts.sum()
        model = RidgeClassifier()
        cv = StratifiedKFold(min(5, int(counts.min())))
    else:
        if len(levels) < 10:  # R^2 of a fold needs two samples (one warns, and is NaN)
            return False
        trivial = 0.0
        model, cv = RidgeCV(alphas=np.logspace(-3, 3, 7)), KFold(5)
    score = cross_val_score(make_pipeline(StandardScaler(), model), levels, y, cv=cv,
                            error_score="raise").mean()
    return bool(score >= trivial + (1 - trivial) / 2)


def resolve_split_level(split_level, seqs, y, classification, relative=None):
    """What ``split_level`` stands for in this fit.

    Parameters
    ----------
    split_level : bool or "auto"
        The estimator's parameter (already checked).
    seqs : Sequences
        The training sequences as the network reads them.
    y : ndarray
        The encoded training targets.
    classification : bool
        Whether the estimator is a classifier.
    relative : str or None, default=None
        The estimator's ``relative``: ``"mean"`` has removed the level already.

    Returns
    -------
    bool
        ``split_level`` itself when a bool; for ``"auto"``: True for numeric
        sequences of at least two steps that keep their level, unless their levels
        alone tell the targets apart (:func:`level_tells_the_target`).

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm.data.timesteps import Sequences
    >>> rng = np.random.default_rng(0)
    >>> y = np.arange(40) % 2
    >>> offsets = rng.normal(size=(40, 1, 1))  # levels of their own, not of the class
    >>> shapes = np.sin(np.linspace(0, 6, 12))[None, :, None] * (1 + y[:, None, None])
    >>> seqs = Sequences((shapes + offsets).astype("float32"), None, 1, "3d")
    >>> resolve_split_level("auto", seqs, y, True)
    True
    >>> levels = 3 * y[:, None, None] + 0.1 * offsets  # the class is the level
    >>> seqs = Sequences((shapes + levels).astype("float32"), None, 1, "3d")
    >>> resolve_split_level("auto", seqs, y, True), resolve_split_level(True, seqs, y, True)
    (False, True)
    """
    if split_level != "auto":
        return bool(split_level)
    if seqs.form == "tokens" or seqs.shortest < 2 or relative == "mean":
        return False
    # the levels of the sample the check reads only: computed for every sequence first,
    # they were a pass over the whole of a store (millions of sequences read from disk
    # for the 20,000 the check keeps); a store's fit has them from its scan
    rows = checked_rows(len(seqs))
    if rows is not None:
        y = np.asarray(y)[rows]
    return not level_tells_the_target(seqs.means(rows), y, classification)
