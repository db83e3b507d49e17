"""The fit-cost scorers' scoring argument (sklstm.search.metrics)."""

import numpy as np
import pytest

from sklstm.search import fit_stats_scorers


def test_fit_stats_scorers_refuse_an_empty_dict_of_scorings():
    # only the costs were returned, and the search failed later: no metric for refit
    with pytest.raises(ValueError, match=r"scoring=\{\} names no metric"):
        fit_stats_scorers({})


@pytest.mark.parametrize("scoring", [np.array(["accuracy", "f1"]),
                                     {np.str_("accuracy"): "accuracy", np.str_("f1"): "f1"}])
def test_fit_stats_scorers_name_numpy_scorings_by_plain_str(scoring):
    names = list(fit_stats_scorers(scoring, stats="fit_time"))
    assert names == ["accuracy", "f1", "fit_time"]
    assert all(type(name) is str for name in names)
