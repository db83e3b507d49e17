"""Pruners from names (sklstm.search.pruners)."""

import optuna
import pytest

from sklstm.search import make_pruner


@pytest.mark.parametrize(("pruner", "message"), [
    # a class not called: a ValueError that said no more than "an optuna pruner"
    (optuna.pruners.MedianPruner, r"got <class '.*MedianPruner'> \(a class: call it, e.g. "
     r"MedianPruner\(\)\)"),
    (3, r"pruner must be one of \['halving', 'hyperband', 'median', 'none'\] or an "
     r"optuna.pruners.BasePruner instance, got 3$"),
])
def test_a_pruner_that_is_no_name_or_instance_is_a_type_error_with_the_fix(pruner, message):
    with pytest.raises(TypeError, match=message):
        make_pruner(pruner)


def test_pruning_is_off_with_a_second_objective_as_documented():
    assert isinstance(make_pruner(None, multi_objective="fit_time"), optuna.pruners.NopPruner)
    with pytest.warns(UserWarning, match="does not support pruning multi-objective"):
        pruner = make_pruner("median", multi_objective="fit_time")
    assert isinstance(pruner, optuna.pruners.NopPruner)
    assert isinstance(make_pruner(None), optuna.pruners.MedianPruner)
    with pytest.raises(ValueError, match="unknown pruner 'medain'"):
        make_pruner("medain")
