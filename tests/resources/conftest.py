"""Fixtures shared by the tests of sklstm/resources."""

import pytest
import torch


@pytest.fixture
def two_gpus(monkeypatch):
    """torch.cuda as on a machine with two visible GPUs (nothing is allocated)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
