"""Sequence datasets: synthetic generators (nothing is downloaded) and a file reader.

* generators, local and reproducible under ``random_state``:
  :func:`make_sequence_classification`, :func:`make_sequence_regression`,
  :func:`make_token_sentiment`, :func:`make_sensor_series` (an int seeds a numpy
  Generator, so distinct seeds give distinct data; a RandomState instance advances,
  None is numpy's global one, as in scikit-learn; a numpy Generator is refused);
* the hard cases of small real data: :func:`make_shape_in_series` (a shape in the
  middle of a long series), :func:`make_motion_recordings` (a few dozen multichannel
  recordings, optionally ragged), :func:`make_drift_regression` (a target on a small
  scale), :func:`make_subtle_shape` (two classes told apart by a small bump on a
  long smooth background, where a fit first sits at chance) and
  :func:`make_trending_series` (one series with a trend, to window and forecast past
  the levels seen in training); for a shape at any position in a long series use
  ``make_shape_in_series(position="anywhere")``;
* :func:`load_dataset` reads ``X, y`` from an ``.npz`` or ``.csv`` file (what
  ``sklstm tune`` reads); :func:`sklstm.data.store_csv.csv_to_store` converts a
  ``.csv`` file into a :class:`~sklstm.data.SequenceStore` a chunk at a time (data
  larger than memory).
"""

from ._files import load_dataset
from ._hard_cases import make_drift_regression, make_motion_recordings, make_shape_in_series
from ._long_series import make_subtle_shape, make_trending_series
from ._synthetic import (
    make_sensor_series,
    make_sequence_classification,
    make_sequence_regression,
    make_token_sentiment,
)

__all__ = [
    "load_dataset",
    "make_drift_regression",
    "make_motion_recordings",
    "make_sensor_series",
    "make_sequence_classification",
    "make_sequence_regression",
    "make_shape_in_series",
    "make_subtle_shape",
    "make_token_sentiment",
    "make_trending_series",
]
