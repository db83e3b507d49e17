"""``sklstm tune``'s options refused before anything is read or written
(sklstm/_cli_checks.py); tests/search/test_cli_errors.py has the rest of its refusals."""

import pytest

from .helpers import assert_refused, run_tune


@pytest.mark.parametrize("pruner", ["median", "hyperband", "halving"])
def test_a_pruner_for_a_multi_objective_study_is_refused(pruner, npz_path, capsys, tmp_path):
    # it was dropped with a UserWarning and its source line, after the data were read and
    # the study made: a study the user asked to prune ran every trial to its end
    code, _, err = run_tune(capsys, tmp_path, npz_path, "--pruner", pruner,
                            "--multi-objective", "fit_time")
    assert_refused(code, err, f"--pruner {pruner} cannot prune a --multi-objective study",
                   tmp_path, ["data.npz"])
