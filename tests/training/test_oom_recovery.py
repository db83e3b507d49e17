"""Out-of-memory recovery: half the micro-batch, twice the accumulation, same updates."""

import warnings

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.exceptions import MemoryBudgetError, MicroBatchShrunkWarning
from sklstm.network import LSTMNetwork
from sklstm.resources import PeakMemory
from sklstm.resources.memory_budget import MemoryBudget, MemoryBudgetExceeded
from sklstm.training.net import SequenceNet
from sklstm.training.oom_recovery import out_of_memory

from ..settings import NO_BATCH_NORM, requires_cuda
from .faults import ForwardSizes, InjectOOM, InjectOOMInOptimizer, InjectValidationOOM

rng = np.random.default_rng(3)
X = rng.normal(size=(96, 40, 3)).astype(np.float32)
Y = (X[:, -5:, 0].sum(1) > 0).astype(int)
#: the training loop, compared: fixed epochs, no dropout
#: On the CPU: these budgets and messages are the CPU's (on CUDA the training data on the
#: device count against max_memory too: tests/training/test_auto_batch.py)
#: (the LSTM alone: a recovered fit is the fit at the smaller micro-batch only where no
#: batch normalization takes statistics per micro-batch)
BASE = dict(hidden_size=8, max_epochs=3, tol=None, downsample=1, random_state=0, n_threads=1,
            device="cpu", **NO_BATCH_NORM)


@pytest.mark.parametrize("Estimator", [LSTMClassifier, LSTMRegressor])
@pytest.mark.parametrize("at", [1, 7])
def test_recovered_fit_equals_a_fit_at_the_smaller_micro_batch(Estimator, at):
    y = Y if Estimator is LSTMClassifier else X[:, -3:, 1].sum(1)
    method = "predict_proba" if Estimator is LSTMClassifier else "predict"
    with pytest.warns(MicroBatchShrunkWarning, match=r"micro-batch of 32 ran out of memory "
                      r"\(CUDA out of memory\); it was redone with 16 samples and 2 "
                      r"accumulation steps: the effective batch of 32 .* Set "
                      # the fit `straight` below: batch_size=16 alone would halve the batch
                      r"batch_size=16 and accumulation_steps=2 to skip the failed step"):
        recovered = Estimator(**BASE, batch_size=32, callbacks=[
            InjectOOM(at), ("sizes", ForwardSizes())]).fit(X, y)
    straight = Estimator(**BASE, batch_size=16, accumulation_steps=2).fit(X, y)
    assert (recovered.batch_size_, recovered.accumulation_steps_) == (16, 2)
    # the last epoch ran in micro-batches of 16 (96 samples: 6 passes), not in one pass
    # of 32, which the comparison below cannot tell from them
    assert dict(recovered.net_.callbacks_)["sizes"].sizes[-6:] == [16] * 6
    assert recovered.effective_batch_size_ == straight.effective_batch_size_ == 32
    assert recovered.n_updates_ == straight.n_updates_ == 3 * 3
    [event] = recovered.memory_events_
    assert event == {"epoch": 1 + (at - 1) // 3, "batch": 1 + (at - 1) % 3, "from": 32,
                     "to": 16, "reason": "CUDA out of memory"}
    # before step `at` the micro-batch was 32: the same updates up to float rounding
    assert_allclose(getattr(recovered, method)(X), getattr(straight, method)(X),
                    rtol=1e-4, atol=1e-5)


def test_with_the_default_branch_the_warning_says_what_batch_normalization_sees():
    with pytest.warns(MicroBatchShrunkWarning, match=r"the effective batch of 32 is kept "
                      r"and the gradients add up as before, but batch normalization now "
                      r"takes its statistics over 16 samples"):
        est = LSTMClassifier(**{**BASE, "conv_channels": "auto"}, batch_size=32,
                             callbacks=[InjectOOM(2)]).fit(X, Y)
    assert (est.batch_size_, est.effective_batch_size_, est.n_updates_) == (16, 32, 9)


def test_repeated_failures_halve_again_and_odd_sizes_round_up():
    with pytest.warns(MicroBatchShrunkWarning):
        est = LSTMClassifier(**BASE, batch_size=24, callbacks=[InjectOOM(2, times=2)]).fit(X, Y)
    assert [(e["from"], e["to"]) for e in est.memory_events_] == [(24, 12), (12, 6)]
    assert (est.batch_size_, est.accumulation_steps_, est.effective_batch_size_) == (6, 4, 24)
    with pytest.warns(MicroBatchShrunkWarning):
        odd = LSTMClassifier(**BASE, batch_size=17, callbacks=[InjectOOM(1)]).fit(X, Y)
    assert (odd.batch_size_, odd.accumulation_steps_, odd.effective_batch_size_) == (9, 2, 17)


def test_a_micro_batch_above_the_data_halves_the_samples_a_pass_held():
    # batch_size=256 on 96 samples runs each step in one pass of 96: halving 256 redid
    # that same pass (a step out of memory again, and a warning of "256 -> 128")
    with pytest.warns(MicroBatchShrunkWarning, match=r"micro-batch of 96 ran out of memory "
                      r".* redone with 48 samples and 2 accumulation steps"):
        est = LSTMClassifier(**BASE, batch_size=256, callbacks=[InjectOOM(1)]).fit(X, Y)
    assert [(e["from"], e["to"]) for e in est.memory_events_] == [(96, 48)]
    assert (est.batch_size_, est.accumulation_steps_, est.effective_batch_size_) == (48, 2, 96)


def test_on_oom_raise_leaves_the_estimator_unfitted():
    est = LSTMClassifier(**BASE, batch_size=32, on_oom="raise", callbacks=[InjectOOM(2)])
    with pytest.raises(MemoryBudgetError, match=r"micro-batch of 32 sample\(s\) ran out of "
                       r"memory \(CUDA out of memory\) on cpu; on_oom='shrink' would have"):
        est.fit(X, Y)
    assert not hasattr(est, "net_") and not hasattr(est, "batch_size_")


def test_out_of_memory_at_one_sample_is_a_clear_error():
    est = LSTMClassifier(**BASE, batch_size=2, callbacks=[InjectOOM(1, times=5)])
    with pytest.warns(MicroBatchShrunkWarning), pytest.raises(
            MemoryBudgetError, match=r"micro-batch of 1 sample\(s\) ran out of memory .* free "
            r"memory on cpu \(other processes or tensors\), shorten the sequences"):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("on_oom", ["shrink", "raise"])
def test_out_of_memory_in_the_optimizer_update_is_not_redone(on_oom):
    # the step was redone at half the micro-batch: after an update that had moved the
    # weights, Adam stepped twice (its step count 10 after 9 updates, its moments and the
    # weights moved again), and the batch was not what ran out
    est = LSTMClassifier(**BASE, batch_size=32, on_oom=on_oom,
                         callbacks=[InjectOOMInOptimizer(2)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", MicroBatchShrunkWarning)
        with pytest.raises(MemoryBudgetError, match=(
                r"^The Adam optimizer's update ran out of memory \(CUDA out of memory\) on "
                r"cpu, after the gradients of a micro-batch of 32 sample\(s\) were computed\."
                r" The update may have been partly applied, so the step was not redone, and "
                r"a smaller batch would not help: .* free memory on cpu .*, use a smaller "
                r"model \(hidden_size, num_layers\), or an optimizer with less state")):
            est.fit(X, Y)
    assert not hasattr(est, "net_") and not hasattr(est, "memory_events_")


def test_a_recovered_step_leaves_the_optimizer_state_of_one_step_per_update():
    # an out-of-memory in the backward pass (InjectOOM) is redone: Adam counts one step
    # per update, as a fit that never ran out does
    with pytest.warns(MicroBatchShrunkWarning):
        est = LSTMClassifier(**BASE, batch_size=32, callbacks=[InjectOOM(2)]).fit(X, Y)
    steps = {float(s["step"]) for s in est.net_.optimizer_.state.values()}
    assert steps == {est.n_updates_} == {9}


@pytest.mark.parametrize("cpu", [False, True], ids=["cuda-error", "cpu-allocator"])
def test_a_validation_step_out_of_memory_is_evaluated_in_halves(cpu):
    # skorch's validation step at the epoch's end raised torch's bare error: 24 held-out
    # samples in one batch, of which no more than 10 fit, are evaluated in 4 x 6
    kw = dict(**BASE, batch_size=32, early_stopping=True, validation_fraction=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MicroBatchShrunkWarning)  # (no training step shrank)
        est = LSTMClassifier(**kw, callbacks=[("oom", InjectValidationOOM(10, cpu))]).fit(X, Y)
    plain = LSTMClassifier(**kw).fit(X, Y)
    oom = dict(est.net_.callbacks_)["oom"]
    # 24 and then 12 ran out once; the size that fitted was kept for the later epochs
    assert (oom.raised_, oom.sizes_) == (2, [6] * 12)
    assert est.memory_events_ == [] and est.batch_size_ == 32
    assert est.net_.iterator_valid__batch_size == 6  # later predictions fit too
    # exact: the same history rows and losses, the same fit
    assert est.history_[:, "batches", :, "valid_batch_size"] == [[24]] * 3
    assert_allclose(est.history_[:, "valid_loss"], plain.history_[:, "valid_loss"],
                    rtol=1e-5)
    assert_allclose(est.predict_proba(X), plain.predict_proba(X), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("options", [
    {"ignore_index": 2}, {"weight": torch.tensor([1.0, 3.0, 10.0])}],
    ids=["ignore_index", "weight"])
def test_validation_halves_of_torchs_weighted_mean_give_the_batchs_loss(options):
    """torch's ``CrossEntropyLoss`` with ``ignore_index`` or ``weight`` divides by the
    summed weights of the targets it keeps: halves weighted by their share of the
    samples gave another loss than the whole batch, and a half whose targets were all
    ignored a NaN one (0/0)."""
    torch.manual_seed(0)
    net = SequenceNet(LSTMNetwork, module__n_inputs=3, module__n_outputs=3,
                      module__hidden_size=4, criterion=torch.nn.CrossEntropyLoss,
                      **{f"criterion__{k}": v for k, v in options.items()},
                      device="cpu").initialize()
    y = torch.as_tensor((X[:24, -1, :2] > 0).sum(1))
    y[:6] = 2  # (the first of four chunks of 6: every target ignored)
    batch = (torch.as_tensor(X[:24]), y)
    whole = net.validation_step(batch)
    net.__dict__["_valid_chunk"] = 6  # (what a validation step out of memory leaves)
    halves = net.validation_step(batch)
    assert_allclose(halves["loss"].item(), whole["loss"].item(), rtol=1e-6)
    assert_allclose(halves["y_pred"], whole["y_pred"], rtol=1e-6, atol=1e-7)


def test_a_validation_step_of_one_sample_out_of_memory_is_a_clear_error():
    est = LSTMClassifier(**BASE, batch_size=32, early_stopping=True,
                         callbacks=[InjectValidationOOM(0)])
    with pytest.raises(MemoryBudgetError, match=(
            r"^A validation step of one sample ran out of memory \(CUDA out of memory\) on "
            r"cpu: .* To fit: free memory on cpu .*, shorten the sequences")):
        est.fit(X, Y)
    assert not hasattr(est, "net_") and not hasattr(est, "memory_events_")


def test_other_runtime_errors_are_not_taken_for_out_of_memory():
    class Broken(Callback):
        def on_grad_computed(self, net, **kwargs):
            raise RuntimeError("something else")

    with pytest.raises(RuntimeError, match="something else"):
        LSTMClassifier(**BASE, callbacks=[Broken()]).fit(X, Y)


def test_a_real_cpu_budget_keeps_the_effective_batch():
    # what a micro-batch of ~128 needs on this data: measured, not guessed
    probe = LSTMClassifier(**{**BASE, "max_epochs": 1}, batch_size=128).fit(
        np.repeat(X, 6, axis=0), np.repeat(Y, 6))
    X_big, Y_big = np.repeat(X, 6, axis=0), np.repeat(Y, 6)  # 576 samples
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est = LSTMClassifier(**BASE, batch_size=512, max_memory=int(probe.peak_memory_ * 1.3)
                             ).fit(X_big, Y_big)
    shrunk = [w for w in caught if issubclass(w.category, MicroBatchShrunkWarning)]
    # (halved before the first step where the trial steps predict it over the budget,
    # "predicted over max_memory ...", else once a step went over)
    assert shrunk and "over max_memory" in est.memory_events_[0]["reason"]
    assert est.effective_batch_size_ == 512 and est.batch_size_ < 512
    assert est.batch_size_ * est.accumulation_steps_ == 512
    same = LSTMClassifier(**BASE, batch_size=est.batch_size_,
                          accumulation_steps=512 // est.batch_size_).fit(X_big, Y_big)
    assert_allclose(est.predict_proba(X_big), same.predict_proba(X_big), rtol=1e-4, atol=1e-5)


@requires_cuda
def test_on_cuda_max_memory_is_a_cap_no_step_exceeds_and_the_effective_batch_is_kept():
    # A micro-batch of 512 of 200 steps at hidden_size=512 needs over 1 GiB of saved
    # activations (an estimate; not measured on a GPU), over a budget of 128 MiB beyond
    # what the process holds on the device. torch's allocator is capped at the budget
    # for the fit: the over-budget step fails at its allocation and is redone smaller.
    X_big = np.repeat(np.repeat(X, 8, axis=0), 5, axis=1)  # 768 samples of 200 steps
    Y_big = np.repeat(Y, 8)
    params = dict(BASE, hidden_size=512, max_epochs=1, device="cuda")
    LSTMClassifier(**params, batch_size=8).fit(X_big[:16], Y_big[:16])  # the one-off set-up
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    budget = torch.cuda.memory_allocated() + 128 * 2**20
    with pytest.warns(MicroBatchShrunkWarning):
        est = LSTMClassifier(**params, batch_size=512, max_memory=budget).fit(X_big, Y_big)
    assert torch.cuda.max_memory_reserved() <= budget  # not even the failed step went over
    assert est.peak_memory_ <= budget
    assert est.effective_batch_size_ == 512 and est.batch_size_ < 512
    assert est.batch_size_ * est.accumulation_steps_ == 512
    assert all(e["reason"].startswith(("CUDA out of memory", "over max_memory"))
               for e in est.memory_events_)


@pytest.mark.parametrize(("max_memory", "bound", "in_message", "advice"), [
    (None, "the 139.0 GiB free on cuda", "", "Free memory on cuda"),
    (4 * 2**30, "the memory budget of 4.0 GiB on cuda",
     " under max_memory=4.0 GiB, the memory budget set for this fit", "Raise max_memory"),
], ids=["no max_memory", "max_memory"])
def test_the_raise_message_speaks_of_a_budget_only_when_one_was_set(monkeypatch, max_memory,
                                                                    bound, in_message, advice):
    # on CUDA a fit without max_memory is bounded by the device's free memory; the message
    # called that "memory budget 139.0 GiB". Nothing here runs on CUDA: the budget reads
    # the device's free memory through the function replaced below, and no net is built.
    monkeypatch.setattr("sklstm.resources.memory_budget._cuda_free", lambda d: 139 * 2**30)
    budget = MemoryBudget(max_memory, PeakMemory(torch.device("cuda")))
    assert budget.limit == (max_memory or 139 * 2**30) and budget.describe() == bound
    net = SequenceNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=1,
                      criterion=torch.nn.MSELoss, memory_budget=budget, on_oom="raise",
                      device="cuda")
    message = str(net._memory_error(64, "CUDA out of memory"))
    assert message.startswith(f"A training step with a micro-batch of 64 sample(s) ran out "
                              f"of memory (CUDA out of memory) on cuda{in_message}; ")
    assert ("budget" in message) == (max_memory is not None)
    # (no max_memory to raise where none was set)
    refused = str(budget.error(1, "LSTMClassifier"))
    assert f"needs more than {bound}. {advice}" in refused
    assert ("max_memory" in refused) == (max_memory is not None)
    net.on_oom = "shrink"  # a shrinking fit gives up at one sample: the same advice
    given_up = str(net._memory_error(1, "CUDA out of memory"))
    assert ("raise max_memory" in given_up) == (max_memory is not None)
    assert ("free memory on cuda" in given_up) == (max_memory is None)


@pytest.mark.parametrize(("max_memory", "bound", "advice"), [
    (2 * 2**20, "max_memory=2.0 MiB, the memory budget set for this fit", "raise max_memory"),
    (None, "the 139.0 GiB free on cuda as the fit began",
     "free memory on cuda (other processes or tensors)"),
], ids=["max_memory", "no max_memory"])
def test_a_step_over_the_budget_says_in_one_sentence_what_the_fit_held_and_the_bound(
        monkeypatch, max_memory, bound, advice):
    # the budget counts all the fit holds (model, optimizer state, cached buffers): "a
    # micro-batch of 1 sample(s) needed 5.0 MiB" put it all on one sample
    # it read "ran out of memory (over max_memory, 4.8 MiB used) (memory budget 1.9 MiB)",
    # and a CUDA fit without max_memory was said to be over max_memory. As above, nothing
    # runs on CUDA.
    monkeypatch.setattr("sklstm.resources.memory_budget._cuda_free", lambda d: 139 * 2**30)
    budget = MemoryBudget(max_memory, PeakMemory(torch.device("cuda")))
    net = SequenceNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=1,
                      criterion=torch.nn.MSELoss, memory_budget=budget, on_oom="shrink",
                      device="cuda")
    reason = out_of_memory(MemoryBudgetExceeded(5 * 2**20))
    assert reason == "over max_memory, 5.0 MiB used"  # memory_events_' reason: as it was
    assert str(net._memory_error(1, reason)) == (
        "A training step with a micro-batch of 1 sample(s) brought the fit's memory (model, "
        f"optimizer state, cached buffers and the step's own) to 5.0 MiB on cuda, more "
        f"than {bound}; {advice}, shorten the sequences (seq_len, downsample), or use a "
        "smaller model (hidden_size, num_layers).")
    assert str(net._validation_memory_error(reason)).startswith(
        "A validation step of one sample brought the fit's memory (model, optimizer state, "
        f"cached buffers and the step's own) to 5.0 MiB on cuda, more than {bound}: ")


@pytest.mark.parametrize("message", [
    "[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 911360 bytes. Error code 12 (Cannot allocate memory)",
    # torch's wording on Windows (and in older releases): a bare RuntimeError, not shrunk
    "[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory: "
    "you tried to allocate 911360 bytes.",
])
def test_the_cpu_allocators_failure_is_out_of_memory_in_both_wordings(message):
    assert out_of_memory(RuntimeError(message)) == "CPU out of memory"
    assert out_of_memory(RuntimeError("not enough memory for the joke")) is None


def test_the_classifiers_plain_cross_entropy_is_shared_by_its_samples():
    # its steps launch no kernels for their shares: a plain float share per micro-batch
    from sklstm.training.oom_recovery import kept_weights, weighted_parts

    y = torch.tensor([0, 1, 2, 1])
    assert kept_weights(torch.nn.CrossEntropyLoss(), y) is None
    shares = [share for _, share in weighted_parts(torch.nn.CrossEntropyLoss(),
                                                   (torch.zeros(4, 3, 1), y), 3)]
    assert shares == [0.75, 0.25]
    assert kept_weights(torch.nn.CrossEntropyLoss(ignore_index=1), y).tolist() == [1, 0, 1, 0]
