"""Old import paths keep working for a deprecation cycle, with a FutureWarning."""

import importlib

import pytest

import sklstm.data
import sklstm.resources.memory_budget
import sklstm.training


@pytest.mark.parametrize("old, name, new", [
    ("sklstm._data.batching", "BatchLoader", sklstm.data),
    ("sklstm._data.tensors", "SequenceDataset", sklstm.data),
    ("sklstm.dataset", "SequenceDataset", sklstm.data),
    ("sklstm.resources.budget", "MemoryBudget", sklstm.resources.memory_budget),
])
def test_an_old_module_path_warns_and_gives_the_same_object(old, name, new):
    module = importlib.import_module(old)
    with pytest.warns(FutureWarning, match=f"import {name} from"):
        assert getattr(module, name) is getattr(new, name)


@pytest.mark.parametrize("name", ["BatchLoader", "SequenceDataset"])
def test_the_data_classes_moved_from_training_to_data(name):
    with pytest.warns(FutureWarning, match=f"sklstm.data.{name}"):
        assert getattr(sklstm.training, name) is getattr(sklstm.data, name)
    assert name not in sklstm.training.__all__ and name in sklstm.data.__all__


@pytest.mark.parametrize("name", ["FastSequenceNet", "net_class", "fast_epoch_supported"])
def test_the_second_training_loops_names_warn_and_still_work(name):
    with pytest.warns(FutureWarning, match=f"sklstm.training.{name} was removed"):
        value = getattr(sklstm.training, name)
    assert name not in sklstm.training.__all__
    if name == "FastSequenceNet":
        assert value is sklstm.training.SequenceNet
    elif name == "net_class":
        assert value() is sklstm.training.SequenceNet
    else:
        assert value() in (True, False)


def test_a_pickle_of_the_second_loops_net_loads_as_the_one_loops():
    module = importlib.import_module("sklstm.training._fast_epoch")
    with pytest.warns(FutureWarning):
        assert module.FastSequenceNet is sklstm.training.SequenceNet
