"""The sklstm.search package: its public names, and those that moved elsewhere."""

import pytest

import sklstm.search
from sklstm.datasets import load_dataset
from sklstm.search.trial_budget import TrialBudget


def test_load_dataset_moved_to_datasets_and_the_old_name_warns():
    assert "load_dataset" not in sklstm.search.__all__
    with pytest.warns(FutureWarning, match=r"moved to sklstm\.datasets\.load_dataset; the old "
                                           r"path stops working in sklstm 0\.3"):
        assert sklstm.search.load_dataset is load_dataset
    with pytest.warns(FutureWarning):
        from sklstm.search import load_dataset as old
    assert old is load_dataset


def test_the_trial_budget_lives_in_trial_budget():
    assert sklstm.search.TrialBudget is TrialBudget
