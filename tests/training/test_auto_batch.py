"""batch_size="auto": the largest micro-batch under the budget, and an unchanged fit."""

import re

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from sklstm import LSTMClassifier
from sklstm.exceptions import MemoryBudgetError, MicroBatchShrunkWarning
from sklstm.training.auto_batch import MARGIN, MARGIN_BYTES, _run_steps

from ..settings import in_fresh_process, requires_cuda

rng = np.random.default_rng(5)
X = rng.normal(size=(400, 60, 3)).astype(np.float32)
Y = (X[:, -5:, 0].sum(1) > 0).astype(int)
RAGGED = [rng.normal(size=(int(n), 3)).astype(np.float32) for n in rng.integers(5, 120, 300)]
Y_RAGGED = np.array([s[-3:, 0].sum() > 0 for s in RAGGED]).astype(int)
#: On the CPU, where the budget reads the resident set; the CUDA variants are at the end
#: (the budgets below are sized for the LSTM alone: the classifier's default
#: convolutional branch needs 1 MiB for its weights and Adam's state; the branch with
#: batch_size="auto": tests/network/test_conv.py)
BASE = dict(hidden_size=32, max_epochs=1, tol=None, downsample=1, random_state=0, n_threads=1,
            device="cpu", conv_channels=None)
MiB = 2**20


@pytest.fixture(autouse=True)
def _no_earlier_trials(monkeypatch):
    """Each test's trial steps start at TRIAL_SIZES, whatever fits ran before it."""
    monkeypatch.setattr("sklstm.training.auto_batch._TRIED", {})


def _auto(max_memory, X_=X, y_=Y, **params):
    return LSTMClassifier(**BASE, batch_size="auto", max_memory=max_memory, **params).fit(X_, y_)


def _chosen(est, accumulation_steps=1):
    """The micro-batch the search chose. A process whose heap earlier tests fragmented
    can still run a step over the budget, which on_oom="shrink" redoes in micro-batches
    of half the samples that step held (the same updates): ``batch_size_`` is then the
    half, and the event's ``from`` the samples of that step, fewer than the micro-batch
    chosen where it was the epoch's last, partial batch. The effective batch keeps the
    size asked for."""
    if not est.memory_events_:
        return est.batch_size_
    return est.effective_batch_size_ // accumulation_steps


def test_a_larger_budget_gives_a_larger_micro_batch_within_the_budget():
    small, large = _auto("24MiB"), _auto("64MiB")
    assert 1 <= _chosen(small) < _chosen(large) <= len(X)
    for est, budget in [(small, 24 * 2**20), (large, 64 * 2**20)]:
        # the trial steps' line predicts the chosen size under the budget less the margin
        (s1, m1), (s2, m2) = [(t["batch_size"], t["peak_memory"])
                              for t in est.batch_size_trials_]
        predicted = m1 + (m2 - m1) / (s2 - s1) * (_chosen(est) - s1)
        assert predicted <= budget - max(MARGIN * budget, MARGIN_BYTES)
        assert est.effective_batch_size_ == _chosen(est)  # accumulation_steps=1


def test_the_fit_is_the_one_of_the_chosen_batch_size():
    auto = _auto("40MiB", accumulation_steps=2)
    events, chosen = auto.memory_events_, _chosen(auto, accumulation_steps=2)
    fixed = LSTMClassifier(**BASE, batch_size=chosen, accumulation_steps=2).fit(X, Y)
    # (the effective batch is what the data fill: at most the 400 samples)
    assert auto.effective_batch_size_ == fixed.effective_batch_size_ == min(2 * chosen, len(X))
    assert auto.lr_ == fixed.lr_
    # the same fit; after a shrink the same updates summed over more micro-batches
    assert_allclose(auto.predict_proba(X), fixed.predict_proba(X), rtol=0 if not events
                    else 1e-4, atol=0 if not events else 1e-5)


def test_ragged_data_are_sized_by_their_longest_sequences():
    auto = _auto("24MiB", RAGGED, Y_RAGGED)
    # the trial steps ran on the longest sequences: a batch of them fits
    longest = sorted(RAGGED, key=len)[-auto.batch_size_:]
    fixed = LSTMClassifier(**BASE, batch_size=auto.batch_size_, max_memory="24MiB",
                           on_oom="raise").fit(longest, np.arange(len(longest)) % 2)
    assert fixed.peak_memory_ <= 24 * 2**20


# 10**400: a budget past floats is accepted (parse_memory) and was an OverflowError here
@pytest.mark.parametrize("budget", ["4GiB", 10**400], ids=["4GiB", "10**400"])
def test_the_cap_is_the_number_of_samples(budget):
    est = _auto(budget, X[:50], Y[:50])
    assert est.batch_size_ == 50 and est.n_updates_ == 1


def test_a_trial_step_the_cpu_allocator_refuses_counts_as_out_of_memory(monkeypatch):
    # the CPU allocator's failure is a plain RuntimeError (not torch's OutOfMemoryError),
    # which ended the fit where a trial step of fewer samples fits
    def refused_above_4(plan, size, batches):
        if size > 4:
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] err == 0. "
                               "DefaultCPUAllocator: can't allocate memory: you tried to "
                               "allocate 1073741824 bytes. Error code 12")
        _run_steps(plan, size, batches)

    monkeypatch.setattr("sklstm.training.auto_batch._run_steps", refused_above_4)
    est = _auto("64MiB", X[:100], Y[:100])
    assert [t["peak_memory"] for t in est.batch_size_trials_][1] == float("inf")
    assert est.batch_size_ == 4  # the trial step that ran


def test_other_errors_of_a_trial_step_are_not_taken_for_out_of_memory(monkeypatch):
    def broken(plan, size, batches):
        raise RuntimeError("something else")

    monkeypatch.setattr("sklstm.training.auto_batch._run_steps", broken)
    with pytest.raises(RuntimeError, match="something else"):
        _auto("64MiB", X[:100], Y[:100])


def test_accumulation_counts_the_effective_batch_a_step_holds():
    # a fit's step holds the copy of its whole effective batch (batch_size_ *
    # accumulation_steps samples; at the turn of a batch, the next one's as well) while
    # it steps on a micro-batch: the trial steps held a micro-batch only, and chose the
    # micro-batch of accumulation_steps=1 (280 samples of 64 features under 48 MiB with
    # 8 steps, whose steps then needed 66 MiB). Wide sequences and a tiny LSTM: the
    # copies are most of a step's memory, so 16 steps leave room for a fraction of
    # the micro-batch of 1 (about a fifth)
    wide = rng.normal(size=(500, 30, 128)).astype(np.float32)
    y = (wide[:, -1, 0] > 0).astype(int)
    one, many = (LSTMClassifier(**{**BASE, "hidden_size": 4}, batch_size="auto",
                                max_memory="48MiB", accumulation_steps=k).fit(wide, y)
                 for k in (1, 16))
    assert 2 * _chosen(many, accumulation_steps=16) < _chosen(one)
    # from a micro-batch of 32 on, a step of 16 holds all 500 samples: the memory bends
    # there, and the second trial is made there (not past it, where a line through it
    # would fall below the steps in between)
    # (the first trial at 5: `one` ran one at 4, see the test below)
    assert [t["batch_size"] for t in many.batch_size_trials_] == [5, 32]


def test_a_later_fit_of_the_same_kind_tries_micro_batches_no_earlier_trial_ran():
    # the CPU's LSTM kernels (oneDNN) keep a cache per shape of step for the process's
    # life: a second fit's trials at the first's 4 and 64 samples reused it and read
    # about half the memory the fit's own steps then took (600 sequences of 100 steps,
    # hidden_size=4, max_memory="40MB", accumulation_steps=3: 197 chosen by the first
    # fit, 338 by the second, whose steps took 53 MiB and were halved mid-fit), so in
    # a batch-size study every fit after the first chose too large a micro-batch
    first, second, third = (_auto("64MiB", X[:200], Y[:200]) for _ in range(3))
    sizes = [[t["batch_size"] for t in est.batch_size_trials_] for est in (first, second, third)]
    assert sizes[0] == [4, 64]
    assert len({size for trial in sizes for size in trial}) == 6


@pytest.mark.parametrize("accumulation_steps", [1, 3])
def test_the_partial_micro_batch_counts_with_the_full_ones(monkeypatch, accumulation_steps):
    # a fit whose last micro-batch is partial runs two shapes of step, and on the CPU the
    # second one's memory comes on top of the first's (oneDNN's buffers per shape, the
    # heap): the line's micro-batch of 47 left 24 samples for the last one (400 % 47; with
    # 3 steps, 400 % 141 % 47), and such fits went over max_memory in that last step.
    # The trial steps read an exact line here (1 MiB a sample over 1 MiB): the chosen
    # micro-batch and the partial one together must stay under the budget less the margin
    import sklstm.training.net as net_module

    monkeypatch.setattr("sklstm.training.auto_batch._trial_step",
                        lambda plan, dataset, idx, size, budget: (1 + size) * MiB)
    shapes = set()
    step = net_module.SequenceNet.train_step_single

    def counted(self, batch, *args, **kwargs):
        shapes.add(len(batch[0]))
        return step(self, batch, *args, **kwargs)

    monkeypatch.setattr(net_module.SequenceNet, "train_step_single", counted)
    est = _auto("64MiB", accumulation_steps=accumulation_steps)
    target = 64 * MiB - max(MARGIN * 64 * MiB, MARGIN_BYTES)
    assert (1 + sum(shapes)) * MiB <= target  # every shape of step the fit ran
    assert est.batch_size_ == max(shapes) == 40  # (47 ... 41 leave a tail: 40 none)


@pytest.mark.parametrize("budget", ["4MiB", "8MiB"])  # not even the margin is left
def test_a_budget_nothing_fits_is_refused_before_training(budget):
    est = LSTMClassifier(**BASE, batch_size="auto", max_memory=budget)
    # a step of one sample would fit these budgets (a fixed batch_size=1 trains under
    # them): what it misses is the budget less the margin, and the message says so
    with pytest.raises(MemoryBudgetError, match=r"batch_size='auto': a training step with a "
                       r"micro-batch of 1 sample\(s\) needs more than the memory budget of "
                       rf"{budget[0]}.0 MiB on cpu once batch_size='auto' keeps 8.0 MiB of "
                       r"it free \(its safety margin\)\. Raise max_memory, or give "
                       "batch_size a number"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


def test_without_max_memory_the_refusal_speaks_of_no_budget(monkeypatch):
    # on the CPU without max_memory the search is made against what the host has
    # available; the message told to "Raise max_memory", which was never set
    monkeypatch.setattr("sklstm.resources.memory_budget._available_cpu_bytes",
                        lambda: 4 * MiB)
    with pytest.raises(MemoryBudgetError, match=r"needs more than the memory available on "
                       r"cpu once .*\. Free memory on cpu") as caught:
        LSTMClassifier(**BASE, batch_size="auto").fit(X, Y)
    assert "max_memory" not in str(caught.value)


def test_data_over_a_bound_that_is_no_budget_do_not_speak_of_max_memory():
    # on CUDA without max_memory the bound is the device's free memory (budget.limit):
    # the message called it "max_memory=..."; the objects stand in for a CUDA fit's
    from types import SimpleNamespace

    from sklstm.resources.memory_budget import MemoryBudget
    from sklstm.training.auto_batch import choose_batch

    budget = MemoryBudget.__new__(MemoryBudget)
    budget.enforced, budget.limit, budget.max_memory = True, 10 * MiB, None
    budget.device, budget.used = "cuda:0", lambda: 12 * MiB
    plan = SimpleNamespace(name="LSTMClassifier", batch_size=8)
    with pytest.raises(MemoryBudgetError, match=r"the training data alone take 12.0 MiB, "
                       r"more than the 10.0 MiB free on cuda:0; free memory there") as caught:
        choose_batch(plan, SimpleNamespace(on_accelerator=True), budget)
    assert "max_memory" not in str(caught.value)


#: the fit of the next test, in a process of its own: in one that ran many tests, memory
#: that earlier tests freed but kept resident (the C heap, oneDNN's scratchpad) can take
#: a 1-sample step without any growth of the resident set, the CPU budget's measure
_TINY_BUDGET_FIT = """
import json, warnings
from sklstm import LSTMClassifier
from sklstm.exceptions import MemoryBudgetError, MicroBatchShrunkWarning
from tests.training.test_auto_batch import BASE, X, Y

est = LSTMClassifier(**{**BASE, "hidden_size": 8}, batch_size=64, max_memory="32KiB")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        est.fit(X, Y)
        error = None
    except MemoryBudgetError as exc:
        error = str(exc)
print(json.dumps({"error": error, "fitted": hasattr(est, "net_"), "shrunk": any(
    issubclass(w.category, MicroBatchShrunkWarning) for w in caught)}))
"""


def test_a_fixed_batch_over_a_tiny_budget_shrinks_to_one_sample_then_fails():
    # 8 units: the weights, gradients and Adam's state (7 KiB) pass the check before
    # training (hidden_size=32 needs 77 KiB), a step's activations do not
    outcome = in_fresh_process(_TINY_BUDGET_FIT)
    assert outcome["shrunk"] and not outcome["fitted"]
    assert re.search(r"micro-batch of 1 sample\(s\) brought the fit's memory \(.*\) to "
                     r"[\d.]+ [KMG]iB on cpu, more than max_memory=32\.0 KiB, the memory "
                     r"budget set for this fit; raise max_memory", outcome["error"] or "")


def test_auto_cannot_be_combined_with_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="batch_size='auto' may choose another micro-batch"):
        LSTMClassifier(**BASE, batch_size="auto", checkpoint=tmp_path).fit(X, Y)


# -- on CUDA -------------------------------------------------------------------------
# The budget counts torch's tensor memory on the device: the training data moved there
# and whatever else the process holds there (other tests' tensors too), and torch's
# allocator is capped at it for the fit. hidden_size=256 over 200 steps: about 1-2 MiB of
# saved activations a sample (an estimate: not measured on a GPU), so the budgets below
# leave room for tens to hundreds of samples.
X_LONG = rng.normal(size=(1024, 200, 3)).astype(np.float32)
Y_LONG = (X_LONG[:, -5:, 0].sum(1) > 0).astype(int)
CUDA_PARAMS = dict(BASE, hidden_size=256, device="cuda")


@requires_cuda
def test_on_cuda_a_larger_budget_gives_a_larger_micro_batch_and_the_fit_stays_within():
    held = torch.cuda.memory_allocated()
    budgets = [held + 256 * MiB, held + 1024 * MiB]
    small, large = (LSTMClassifier(**CUDA_PARAMS, batch_size="auto", max_memory=budget).fit(
        X_LONG, Y_LONG) for budget in budgets)
    assert 1 <= _chosen(small) < _chosen(large) <= len(X_LONG)
    for est, budget in [(small, budgets[0]), (large, budgets[1])]:
        assert est.device_.type == "cuda" and est.effective_batch_size_ == _chosen(est)
        assert est.peak_memory_ <= budget  # the allocator's cap: never over, for no step


@requires_cuda
def test_on_cuda_a_budget_the_data_and_one_sample_cannot_fit_is_refused_before_training():
    # the data alone, when they go to the device, or a step of one sample: either is
    # refused before the first epoch
    est = LSTMClassifier(**CUDA_PARAMS, batch_size="auto",
                         max_memory=torch.cuda.memory_allocated() + MiB)
    with pytest.raises(MemoryBudgetError, match=r"the training data alone take|a training "
                       r"step with a micro-batch of 1 sample\(s\) needs more than"):
        est.fit(X_LONG, Y_LONG)
    assert not hasattr(est, "net_")


def test_the_second_trial_step_stays_within_the_budget(monkeypatch):
    # the trial of 64 samples ran whatever the budget: under max_memory="16MiB" it took
    # 68 MiB for a micro-batch of 5 chosen. The trial steps read an exact line here
    # (1 MiB a sample over 1 MiB)
    monkeypatch.setattr("sklstm.training.auto_batch._trial_step",
                        lambda plan, dataset, idx, size, budget: (1 + size) * MiB)
    est = _auto("16MiB")
    target = 16 * MiB - max(MARGIN * 16 * MiB, MARGIN_BYTES)
    assert [t["batch_size"] for t in est.batch_size_trials_] == [4, 6]
    assert max(t["peak_memory"] for t in est.batch_size_trials_) <= target
    assert est.batch_size_ == 5  # the line's 7, as before (7 and 6 leave a tail: 5 none)


# -- a fixed batch_size under max_memory on the CPU ------------------------------------
# The budget is a check after each step, not a cap: a step over it took the memory
# first (batch_size=512 under max_memory="64MiB": 380 MiB, then four halvings to 32).
# The trial steps' line predicts the first step; the fit starts at the halving
# on_oom="shrink" would reach.


def _fixed(batch_size, max_memory, **params):
    return LSTMClassifier(**{**BASE, **params}, batch_size=batch_size, max_memory=max_memory)


def _exact_line(monkeypatch):
    """Trial steps that read 1 MiB a sample over 1 MiB; returns their micro-batches."""
    sizes = []

    def trial(plan, dataset, idx, size, budget):
        sizes.append(size)
        return (1 + size) * MiB

    monkeypatch.setattr("sklstm.training.auto_batch._trial_step", trial)
    return sizes


def test_a_fixed_batch_predicted_over_the_budget_starts_at_the_halving_shrink_reaches(
        monkeypatch):
    # the line keeps 47 samples within 64 MiB less its margin (48 MiB): 200 -> 25
    _exact_line(monkeypatch)
    with pytest.warns(MicroBatchShrunkWarning, match=r"micro-batch of 200 is predicted over "
                      r"max_memory: trial steps keep 47 sample\(s\) within 48.0 MiB .*; the "
                      r"fit starts with 25 samples and 8 accumulation steps"):
        est = _fixed(200, "64MiB").fit(X, Y)
    assert [(e["epoch"], e["batch"], e["from"], e["to"]) for e in est.memory_events_] == [
        (0, 0, 200, 100), (0, 0, 100, 50), (0, 0, 50, 25)]  # before the first step
    assert (est.batch_size_, est.effective_batch_size_) == (25, 200)
    # the updates of the effective batch of 200 in micro-batches of 25
    same = LSTMClassifier(**BASE, batch_size=25, accumulation_steps=8).fit(X, Y)
    assert_allclose(est.predict_proba(X), same.predict_proba(X), rtol=1e-6, atol=1e-7)


def _over_line(monkeypatch):
    """Trial steps that read 2 MiB a sample over 1 MiB (far more than this tiny fit's
    steps take)."""
    monkeypatch.setattr("sklstm.training.auto_batch._trial_step",
                        lambda plan, dataset, idx, size, budget: (1 + 2 * size) * MiB)


def test_with_on_oom_raise_a_fixed_batch_is_refused_where_a_trial_step_went_over(
        monkeypatch):
    # the trial step of 4 samples read 9 MiB of max_memory="8MiB": a measurement, not
    # the line's estimate, refuses the fit before training
    _over_line(monkeypatch)
    est = _fixed(200, "8MiB", on_oom="raise")
    with pytest.raises(MemoryBudgetError, match=r"micro-batch of 200 sample\(s\) is predicted "
                       r"over max_memory: trial steps keep 3 sample\(s\) within 8.0 MiB \(a "
                       r"trial step of 4 took 9.0 MiB\)\. Set batch_size=2, or on_oom='shrink'"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


def test_with_on_oom_raise_a_fit_only_predicted_over_is_not_refused(monkeypatch):
    # the line puts a step of 200 at 401 MiB of 256 MiB, but no trial step went over:
    # the line runs high (a fit that peaked at 116.5 MiB was refused under 128.2 MiB),
    # so the check after each step decides, and this fit's steps take a few MiB
    _over_line(monkeypatch)
    est = _fixed(200, "256MiB", on_oom="raise").fit(X, Y)
    assert est.memory_events_ == [] and est.batch_size_ == 200


def test_a_resumed_fit_logs_its_halvings_before_its_first_step(monkeypatch, tmp_path):
    # at batch 0 of the epochs done, as memory_events_ says: a resumed fit logged them
    # at the batch count of its checkpoint's last epoch
    _exact_line(monkeypatch)
    for max_epochs in (1, 2):  # (the second resumes the first's checkpoint)
        with pytest.warns(MicroBatchShrunkWarning, match="is predicted over max_memory"):
            est = _fixed(200, "64MiB", max_epochs=max_epochs, checkpoint=tmp_path).fit(X, Y)
    assert [(e["epoch"], e["batch"]) for e in est.memory_events_] == [(1, 0)] * 3


def test_a_fixed_batch_predicted_to_fit_trains_as_without_a_budget(monkeypatch):
    # one trial step: 4 samples' 5 MiB show a step of 38 within 48 MiB
    sizes = _exact_line(monkeypatch)
    est = _fixed(32, "64MiB").fit(X, Y)
    assert sizes == [4] and est.memory_events_ == [] and est.batch_size_ == 32
    free = _fixed(32, None).fit(X, Y)
    assert_allclose(est.predict_proba(X), free.predict_proba(X), rtol=0, atol=0)


def test_without_max_memory_a_fixed_batch_runs_no_trial_step(monkeypatch):
    sizes = _exact_line(monkeypatch)
    _fixed(200, None).fit(X, Y)
    assert sizes == []


def test_a_fixed_batch_over_the_budget_starts_within_it():
    # the first step of 400 samples took 106 MiB of max_memory="24MiB", then was halved
    # three times to 50; the trial steps' line starts the fit at a halving of it
    est = _fixed(400, "24MiB", hidden_size=64)
    with pytest.warns(MicroBatchShrunkWarning, match="is predicted over max_memory"):
        est.fit(X, Y)
    assert est.memory_events_[0]["epoch"] == 0 and est.batch_size_ < 400
    # no step of 400 ran (the peak itself is the budget check's to hold: a later step
    # over it on a fragmented heap is halved again, as any fit's)
    assert not [e for e in est.memory_events_ if e["epoch"] > 0 and e["from"] == 400]
