"""Sequence datasets: synthetic generators (nothing is downloaded) and a file reader.

* generators, local and reproducible under ``random_state``:
  :func:`make_sequence_classification`, :func:`make_sequence_regression`,
  :func:`make_token_sentiment`, :func:`make_sensor_series`;
* :func:`load_dataset` reads ``X, y`` from an ``.npz`` or ``.csv`` file (what
  ``sklstm tune`` reads).
"""

from ._files import load_dataset
from ._synthetic import (
    make_sensor_series,
    make_sequence_classification,
    make_sequence_regression,
    make_token_sentiment,
)

__all__ = [
    "load_dataset",
    "make_sensor_series",
    "make_sequence_classification",
    "make_sequence_regression",
    "make_token_sentiment",
]
