"""Memory sizes written for people (format_bytes); parse_memory's tests are in
test_memory_budget.py, which re-exports it."""

import numpy as np
import pytest

from sklstm.resources.memory_sizes import format_bytes


@pytest.mark.parametrize(("n", "expected"), [
    (0, "0 B"), (1023, "1023 B"), (2**10, "1.0 KiB"), (1536, "1.5 KiB"),
    # rounded up to the next unit's first figure: written in that unit
    (2**20 - 1, "1.0 MiB"), (2**30 - 1, "1.0 GiB"), (2**20 - 2**10, "1023.0 KiB"),
    (3 * 2**20, "3.0 MiB"), (np.int64(5 * 2**30), "5.0 GiB"), (2**40, "1024.0 GiB"),
])
def test_format_bytes_writes_the_unit_of_the_rounded_figure(n, expected):
    assert format_bytes(n) == expected
