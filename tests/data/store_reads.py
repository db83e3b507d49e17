"""A tally of what the tests' stores read."""

import numpy as np

from sklstm.data.store import SequenceStore


def count_reads(monkeypatch):
    """The positions every read of a store names (``read``, ``read_steps``), in a list
    that grows as they come, for the test that ``monkeypatch`` belongs to."""
    read_positions = []
    for name in ("read", "read_steps"):
        method = getattr(SequenceStore, name)

        def counted(self, positions, *args, _method=method, **kwargs):
            read_positions.extend(np.asarray(positions).tolist())
            return _method(self, positions, *args, **kwargs)

        monkeypatch.setattr(SequenceStore, name, counted)
    return read_positions
