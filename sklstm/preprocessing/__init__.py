"""Transformers for sequence data that return the container form they receive.

Sequence data is a 3D array ``(n_samples, n_timesteps, n_features)``, a 2D array or
DataFrame ``(n_samples, n_timesteps)`` of univariate sequences, or a ragged list (or 1D
object array) of per-sample ``(n_timesteps_i, n_features)`` arrays. Validation and
rebuilding of these forms live in the data layer (``sklstm.data``), shared with the
estimators, so every transformer and estimator treats them alike.
"""

from ._padder import SequencePadder
from ._resampler import SequenceResampler
from ._scaler import SequenceScaler

__all__ = ["SequencePadder", "SequenceResampler", "SequenceScaler"]
