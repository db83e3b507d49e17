"""sklstm._plain_values: numpy scalars and 0-d arrays become the Python values they
hold, whatever their precision."""

import numpy as np
import pytest

from sklstm._plain_values import plain_params, plain_value


@pytest.mark.parametrize("value", [np.longdouble(0.25), np.array(np.longdouble(0.25)),
                                   np.array(np.longdouble(0.25), dtype=object)])
def test_a_longdouble_becomes_the_float_it_rounds_to(value):
    """np.longdouble's item() is the longdouble itself: it reached torch, the fitted
    lr_ and the messages as np.longdouble('0.25')."""
    plain = plain_value(value)
    assert type(plain) is float and plain == 0.25
    assert type(plain_params({"lr": value})["lr"]) is float


@pytest.mark.parametrize(("value", "written"), [
    (np.float32(0.2), 0.2), (np.array(0.03, dtype=np.float32), 0.03),
    (np.float16(0.1), 0.1), (np.float32(1e-30), 1e-30), (np.float32(16), 16.0)])
def test_a_float32_becomes_the_number_written(value, written):
    """Not its binary expansion: np.float32(0.2).item() is 0.20000000298023224."""
    plain = plain_value(value)
    assert type(plain) is float and plain == written
