"""The repair of a journal's record cut short: under the journal's lock, which a press
never leaves behind."""

import os
import signal

import optuna
import pytest

from sklstm.search import journal_repair
from sklstm.search.storage import resolve_storage


def test_a_press_as_the_journal_lock_is_taken_leaves_no_lock_link(default_ctrl_c, tmp_path,
                                                                   monkeypatch):
    # the press landed as the lock looked for a record cut short (a write in a trial):
    # the link stayed, and the worker's own next write (the trial's end), and every
    # other worker's, waited 30 s for Optuna to break it
    path = str(tmp_path / "s.journal")
    trial = optuna.create_study(storage=resolve_storage(path)).ask()

    def pressed(journal):
        monkeypatch.undo()
        signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(journal_repair, "_cut_short_bytes_dropped", pressed)
    with pytest.raises(KeyboardInterrupt):
        trial.set_user_attr("a", 1)
    assert sorted(os.listdir(tmp_path)) == ["s.journal"]
