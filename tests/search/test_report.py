"""What a study looks like from a terminal (sklstm.search.report)."""

import optuna

from sklstm.search import results_table


def test_results_table_keeps_a_failure_of_several_lines_on_its_row():
    # the reason's other lines were printed under the first column, breaking the table
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5))
    study.add_trial(optuna.trial.create_trial(
        state=optuna.trial.TrialState.FAIL,
        user_attrs={"fail_reason": "ValueError: first line\n  second line\nthird"}))
    lines = results_table(study).splitlines()
    assert len(lines) == 3
    assert lines[2].endswith("ValueError: first line second line third")


def test_results_table_names_the_trial_a_reused_duplicate_repeats():
    # its fit time (its twin's, copied) was shown as if it had fitted
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5, user_attrs={"mean_fit_time": 2.0}))
    study.add_trial(optuna.trial.create_trial(
        value=0.5, user_attrs={"mean_fit_time": 2.0, "duplicate_of": 0}))
    header, first, second = (line.split() for line in results_table(study).splitlines())
    assert header[-1] == "duplicate_of"
    assert (first[0], first[-1]) == ("0", "-")
    assert (second[0], second[-1]) == ("1", "0")
