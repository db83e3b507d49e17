"""BatchSizeSchedule: the effective batch grows on a plateau, the micro-batch stays."""

import copy
import math

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from skorch import NeuralNet
from skorch.callbacks import Callback

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data import BatchLoader, SequenceDataset
from sklstm.datasets import make_sequence_classification, make_sequence_regression
from sklstm.network import LSTMNetwork
from sklstm.training import BatchSizeSchedule, net_class

from ..settings import NO_BATCH_NORM
from .faults import ForwardSizes, assert_took_the_epochs

N = 40  # training samples; the micro-batch below is B
B = 4
EVENT = "effective_batch_size"


class _Scripted(Callback):
    """Records a scripted value per epoch under ``key`` (the last one repeats)."""

    def __init__(self, values, key="score"):
        self.values = values
        self.key = key

    def on_epoch_end(self, net, **kwargs):
        epoch = len(net.history) - 1  # counts on across partial_fit and resumed fits
        net.history.record(self.key, self.values[min(epoch, len(self.values) - 1)])


def _classification(n=N):
    return make_sequence_classification(n_samples=n, n_timesteps=5, n_features=2,
                                        random_state=0)


def _named(est, name):
    return dict(est.net_.callbacks_)[name]


def _fit(schedule, scores=(1.0,), Estimator=LSTMClassifier, data=None, **params):
    """An estimator fit with ``schedule`` watching a scripted ``score`` (constant by
    default: a plateau from the second epoch on)."""
    X, y = _classification() if data is None else data
    # the LSTM alone: batch normalization's statistics move the training loss from batch
    # to batch, which the scripted plateaus here must not see
    base = dict(hidden_size=4, batch_size=B, max_epochs=8, tol=None, lr=0.01, downsample=1,
                random_state=0, n_threads=1, **NO_BATCH_NORM)
    callbacks = [("scripted", _Scripted(list(scores))), ("schedule", schedule),
                 ("sizes", ForwardSizes())]
    return Estimator(**{**base, **params, "callbacks": callbacks}).fit(X, y)


def _sizes(est_or_net):
    history = est_or_net.history_ if hasattr(est_or_net, "history_") else est_or_net.history
    return history[:, EVENT]


@pytest.mark.parametrize("kwargs, expected", [
    # a constant score: epoch 1 improves, every later one does not
    (dict(patience=2), [4, 4, 4, 8, 8, 16, 16, 32]),
    (dict(patience=1, factor=3), [4, 4, 12, 36, 40, 40, 40, 40]),  # capped at N
    (dict(patience=1, max_batch_size=10), [4, 4, 8, 10, 10, 10, 10, 10]),
    # a max_batch_size above N caps at N too: the history recorded 64 and 128 for
    # epochs whose steps held the 40 samples there are
    (dict(patience=1, max_batch_size=1000), [4, 4, 8, 16, 32, 40, 40, 40]),
    (dict(patience=1, cooldown=2), [4, 4, 8, 8, 8, 16, 16, 16]),
    (dict(patience=1), [4, 4, 8, 16, 32, 40, 40, 40]),
    (dict(patience=8), [4] * 8),
])
def test_grows_by_factor_after_patience_epochs_without_improvement(kwargs, expected):
    est = _fit(BatchSizeSchedule(monitor="score", **kwargs))
    assert _sizes(est) == expected
    history = est.history_
    # every epoch's optimizer steps are of the recorded effective batch ...
    for epoch, size in zip(history, expected, strict=True):
        steps = [row["train_batch_size"] for row in epoch["batches"]]
        assert steps == [size] * (N // size) + ([N % size] if N % size else [])
        assert epoch["train_batch_count"] == math.ceil(N / size)
    assert est.n_updates_ == sum(math.ceil(N / size) for size in expected)
    # ... while every forward/backward pass stays a micro-batch of at most B samples
    sizes = _named(est, "sizes")
    assert max(sizes.sizes) == B
    assert sum(sizes.sizes) == N * len(expected)
    assert sizes.batches == est.n_updates_
    assert est.net_.micro_batch_size == B
    assert est.net_.batch_size == expected[-1]  # the batch the last epoch trained with


def test_the_batch_stays_while_the_monitor_improves():
    est = _fit(BatchSizeSchedule(monitor="score", patience=1),
               scores=[1.0 / (epoch + 1) for epoch in range(8)])
    assert _sizes(est) == [B] * 8
    assert est.history_[-1, "train_batch_count"] == N // B


@pytest.mark.parametrize("mode, threshold, expected", [
    ("abs", 0.1, [4, 4, 4, 4, 4, 4]),  # every step of 0.2 or more beats 0.1
    ("rel", 0.1, [4, 4, 4, 8, 8, 8]),  # 9.5 and 9.2 are not 10 % below 10; 9.0 is not
    ("rel", 1e-4, [4, 4, 4, 4, 4, 4]),
])
def test_threshold_modes_as_in_torch(mode, threshold, expected):
    schedule = BatchSizeSchedule(monitor="score", patience=2, threshold=threshold,
                                 threshold_mode=mode)
    est = _fit(schedule, scores=[10.0, 9.5, 9.2, 9.0, 8.0, 8.0], max_epochs=6)
    assert _sizes(est) == expected


def test_training_loss_plateau_grows_the_batch():
    """The default monitor: the training loss of a net that cannot learn (lr tiny)."""
    est = _fit(BatchSizeSchedule(patience=2), lr=1e-9, max_epochs=6)
    assert _sizes(est) == [4, 4, 4, 8, 8, 16]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_with_early_stopping_watches_the_validation_loss():
    data = make_sequence_regression(n_samples=N, n_timesteps=5, n_features=2, random_state=0)
    schedule = BatchSizeSchedule(monitor="valid_loss", factor=4, patience=1)
    est = _fit(schedule, Estimator=LSTMRegressor, data=data, early_stopping=True,
               validation_fraction=0.2, lr=1e-9, max_epochs=5)
    n_train = N - 8
    # capped by the training part of the split (32), not by all 40 samples
    assert _sizes(est) == [4, 4, 16, 32, 32]
    assert est.history_[:, "train_batch_count"] == [8, 8, 2, 1, 1]
    assert max(_named(est, "sizes").sizes) == B
    assert sum(_named(est, "sizes").sizes) == n_train * 5


def test_valid_loss_without_a_validation_split_is_a_clear_error():
    # the estimators refuse it before training (sklstm.training.setup.check_validation_callbacks)
    with pytest.raises(ValueError, match=r"callbacks\[1\] \(BatchSizeSchedule\) watches "
                                         r"monitor='valid_loss'.*early_stopping=True"):
        _fit(BatchSizeSchedule(monitor="valid_loss"))
    # a net of one's own: at the end of its first epoch
    net = _net(B, B, callbacks=[BatchSizeSchedule(monitor="valid_loss")])
    with pytest.raises(ValueError, match=r"'valid_loss' is not in the history.*validation"):
        net.fit(_dataset(), None)


# -- the update of a grown epoch -------------------------------------------------------

def _net(batch_size, micro_batch_size, callbacks=(), max_epochs=1, start_epoch=0):
    return net_class()(
        LSTMNetwork, module__n_inputs=2, module__n_outputs=2, module__hidden_size=6,
        criterion=torch.nn.CrossEntropyLoss, optimizer=torch.optim.Adam, lr=0.05,
        batch_size=batch_size, micro_batch_size=micro_batch_size,
        iterator_train=BatchLoader, iterator_train__shuffle=True, iterator_train__seed=7,
        iterator_train__start_epoch=start_epoch, iterator_valid=BatchLoader,
        train_split=None, callbacks=list(callbacks), max_epochs=max_epochs, verbose=0)


def _dataset(n=N):
    X, y = _classification(n)
    return SequenceDataset(torch.from_numpy(X), torch.from_numpy(y.astype(np.int64)))


def _scheduled_net(micro_batch_size=B, max_epochs=3, patience=1):
    return _net(B, micro_batch_size, max_epochs=max_epochs, callbacks=[
        ("scripted", _Scripted([1.0])),
        ("schedule", BatchSizeSchedule(monitor="score", patience=patience)),
        ("sizes", ForwardSizes())])


def _continued(state_from, batch_size, micro_batch_size, start_epoch):
    """A fresh net with ``batch_size`` that starts from ``state_from``'s weights and
    optimizer state and draws the batch order of epoch ``start_epoch``."""
    net = _net(batch_size, micro_batch_size, start_epoch=start_epoch).initialize()
    net.module_.load_state_dict(state_from.module_.state_dict())
    # a copy: Adam would go on updating the moment tensors it was handed in place
    net.optimizer_.load_state_dict(copy.deepcopy(state_from.optimizer_.state_dict()))
    return net.partial_fit(_dataset(), None)


def _params(net):
    return [p.detach().clone() for p in net.module_.parameters()]


def test_a_grown_epoch_is_the_update_of_a_fit_started_with_that_batch():
    data = _dataset()
    torch.manual_seed(0)
    grown = _scheduled_net().fit(data, None)  # epochs of 4, 4, then 8 samples a step
    assert _sizes(grown) == [4, 4, 8]
    torch.manual_seed(0)
    two = _net(B, B, max_epochs=2).fit(data, None)  # the state before the third epoch
    fresh = _continued(two, batch_size=8, micro_batch_size=B, start_epoch=2)
    for a, b in zip(_params(grown), _params(fresh), strict=True):
        assert torch.equal(a, b)
    # one pass of 8 samples per step: the same update up to float rounding
    single = _continued(two, batch_size=8, micro_batch_size=None, start_epoch=2)
    for a, b in zip(_params(grown), _params(single), strict=True):
        assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    # the comparison can fail: a third epoch at the old batch trains differently
    kept = _continued(two, batch_size=B, micro_batch_size=B, start_epoch=2)
    assert not all(torch.allclose(a, b, atol=1e-4)
                   for a, b in zip(_params(grown), _params(kept), strict=True))


def test_a_net_without_accumulation_keeps_its_batch_as_micro_batch():
    torch.manual_seed(0)
    net = _scheduled_net(micro_batch_size=None, max_epochs=4).fit(_dataset(), None)
    assert _sizes(net) == [4, 4, 8, 16]
    assert net.micro_batch_size == B and net.batch_size == 16
    assert max(dict(net.callbacks_)["sizes"].sizes) == B


def test_a_continued_fit_goes_on_as_one_uninterrupted_fit():
    data = _dataset()
    whole = _scheduled_net(max_epochs=6, patience=2).fit(data, None)
    part = _scheduled_net(max_epochs=3, patience=2).fit(data, None)
    assert _sizes(part) == [4, 4, 4] and part.batch_size == B  # the growth is pending
    part.partial_fit(data, None)
    assert _sizes(part) == _sizes(whole) == [4, 4, 4, 8, 8, 16]


def test_a_resumed_checkpointed_fit_equals_an_uninterrupted_one(tmp_path):
    # the training loss: the checkpoint stores each epoch's history row before the
    # user's callbacks run, so a score a callback records would be missing from it
    schedule = BatchSizeSchedule(patience=1, threshold=0.02)
    X, _ = _classification()
    whole = _fit(schedule, max_epochs=6)
    part = _fit(schedule, max_epochs=3, checkpoint=tmp_path / "fit")
    resumed = _fit(schedule, max_epochs=6, checkpoint=tmp_path / "fit")
    assert_took_the_epochs(resumed, part.history_[:, "dur"])
    # when the training loss plateaus depends on the data's draw; what the resumed fit
    # must show is the growth of the uninterrupted one, and a growth after the
    # checkpointed epochs, which needs the schedule's restored state
    assert _sizes(resumed) == _sizes(whole)
    assert _sizes(whole)[-1] > _sizes(whole)[2]
    assert_allclose(resumed.predict_proba(X), whole.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_a_fit_loaded_from_its_checkpoint_reports_the_batch_it_grew_to(tmp_path):
    # a finished fit is loaded, not trained: the schedule never ran to set the batch,
    # and effective_batch_size_ was the batch the fit started with (4, not the 16 it
    # had grown to)
    schedule = BatchSizeSchedule(patience=1, threshold=0.02)
    first = _fit(schedule, max_epochs=6, checkpoint=tmp_path / "fit")
    loaded = _fit(schedule, max_epochs=6, checkpoint=tmp_path / "fit")
    assert_took_the_epochs(loaded, first.history_[:, "dur"])
    # how far it grew depends on the data's draw; that it grew is what the test needs
    assert _sizes(loaded)[-1] == first.effective_batch_size_ > B
    for name in ("effective_batch_size_", "batch_size_", "accumulation_steps_"):
        assert getattr(loaded, name) == getattr(first, name), name


@pytest.mark.parametrize("event_name", [EVENT, "batch"])
def test_a_resumed_bucketed_fit_replays_each_epoch_with_the_batch_it_had(tmp_path,
                                                                         event_name):
    # bucketed orders depend on the batch size: the epochs done were replayed with the
    # first one, so the resumed fit drew other batches (probabilities 0.1 apart); so
    # they were still where the schedule records the batch under another event_name
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(n), 2)).astype(np.float32) for n in rng.integers(2, 30, 120)]
    y = np.array([x[-1, 0] > 0 for x in X]).astype(int)
    # the scripted plateau
    schedule = BatchSizeSchedule(monitor="score", patience=1, event_name=event_name)
    common = dict(data=(X, y), bucketing=True)
    whole = _fit(schedule, max_epochs=6, **common)
    part = _fit(schedule, max_epochs=5, checkpoint=tmp_path / "fit", **common)
    resumed = _fit(schedule, max_epochs=6, checkpoint=tmp_path / "fit", **common)
    assert_took_the_epochs(resumed, part.history_[:, "dur"])
    sizes = [est.history_[:, event_name] for est in (resumed, whole)]
    assert sizes[0] == sizes[1] == [4, 4, 8, 16, 32, 64]
    assert_allclose(resumed.predict_proba(X), whole.predict_proba(X), rtol=1e-5, atol=1e-6)


# -- parameters ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(factor=1), "factor"),
    (dict(factor=2.0), "factor"),
    (dict(factor=True), "factor"),
    (dict(patience=0), "patience"),
    (dict(threshold=-1e-3), "threshold"),
    (dict(threshold=float("nan")), "threshold"),
    (dict(threshold=1.0), "threshold=1.0 with threshold_mode='rel'"),
    (dict(threshold_mode="relative"), "threshold_mode"),
    (dict(cooldown=-1), "cooldown"),
    (dict(max_batch_size=0), "max_batch_size"),
    (dict(max_batch_size=8.0), "max_batch_size"),
    (dict(monitor=""), "monitor must be a non-empty"),
    (dict(monitor=None), "monitor"),
    (dict(event_name=3), "event_name"),
])
def test_bad_parameters_raise_before_training(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        BatchSizeSchedule(**kwargs).initialize()
    counter = ForwardSizes()
    net = _net(B, B, callbacks=[("sizes", counter), ("schedule", BatchSizeSchedule(**kwargs))])
    with pytest.raises((ValueError, TypeError), match=match):
        net.fit(_dataset(), None)
    assert not getattr(counter, "sizes", [])  # no forward pass ran
    with pytest.raises((ValueError, TypeError), match=match):
        _fit(BatchSizeSchedule(**kwargs))


@pytest.mark.parametrize("kwargs, match", [
    (dict(factor=2.0), r"Got 2\.0 instead\. 2\.0 is a float; pass the int 2\."),
    (dict(factor=np.float64(4.0)), r"Got 4\.0 instead\. 4\.0 is a float; pass the int 4\."),
    (dict(factor=np.array(3.0)), r"Got 3\.0 instead\. 3\.0 is a float; pass the int 3\."),
    (dict(max_batch_size=np.linspace(8, 16, 2)[0]), r"8\.0 is a float; pass the int 8\."),
    (dict(patience=True), r"Got True instead\. True is a bool, which sklstm does not count "
                          r"as 1; pass 1\."),
    (dict(cooldown=np.bool_(False)), r"False is a bool, .*; pass 0\."),
])
def test_a_mistyped_int_is_refused_saying_what_to_pass(kwargs, match):
    # scikit-learn's words alone ("Got 2.0 instead"), where the estimators' parameters
    # say why and what to write
    (name,) = kwargs
    with pytest.raises(ValueError, match=rf"'{name}' parameter of BatchSizeSchedule.*{match}"):
        BatchSizeSchedule(**kwargs).initialize()
    # a bool that stands for a number refused too keeps scikit-learn's words
    with pytest.raises(ValueError, match=r"Got True instead\.$"):
        BatchSizeSchedule(factor=True).initialize()


def test_numpy_scalars_are_accepted():
    schedule = BatchSizeSchedule(monitor="score", factor=np.int64(2), patience=np.int32(1),
                                 threshold=np.float32(0.0), cooldown=np.int64(0),
                                 max_batch_size=np.int64(10))
    assert _sizes(_fit(schedule, max_epochs=5)) == [4, 4, 8, 10, 10]


def test_max_batch_size_below_the_starting_batch_fails_before_any_step():
    counter = ForwardSizes()
    net = _net(B, B, callbacks=[("sizes", counter),
                                ("schedule", BatchSizeSchedule(max_batch_size=2))])
    with pytest.raises(ValueError, match="max_batch_size=2 is below the net's effective "
                                         "batch of 4"):
        net.fit(_dataset(), None)
    assert counter.batches == 0


def test_a_net_without_micro_batches_is_refused():
    X, y = _classification()
    net = NeuralNet(LSTMNetwork, module__n_inputs=2, module__n_outputs=2,
                    criterion=torch.nn.CrossEntropyLoss, train_split=None, max_epochs=1,
                    callbacks=[BatchSizeSchedule()], verbose=0)
    with pytest.raises(TypeError, match="gradient accumulation"):
        net.fit(X, y.astype(np.int64))


def test_the_users_callback_is_not_modified_by_the_fit():
    schedule = BatchSizeSchedule(monitor="score", patience=1)
    before = copy.deepcopy(vars(schedule))
    est = _fit(schedule, max_epochs=4)
    assert vars(schedule) == before  # no state, no fitted attribute
    fitted = _named(est, "schedule")
    assert fitted is not schedule and fitted.best_ == 1.0
    # a second fit (and a clone's) starts afresh: the same schedule again
    assert _sizes(est.fit(*_classification())) == _sizes(clone(est).fit(*_classification()))
    assert _sizes(est) == [4, 4, 8, 16]


def test_defaults_and_params_round_trip():
    schedule = BatchSizeSchedule()
    assert schedule.get_params() == dict(
        monitor="train_loss", factor=2, patience=5, threshold=1e-4, threshold_mode="rel",
        cooldown=0, max_batch_size=None, event_name="effective_batch_size")
    assert clone(schedule).get_params() == schedule.get_params()


def test_no_convergence_warning_is_caused_by_the_schedule():
    """The schedule does not touch the stopping rule: a fit that converges still does."""
    import warnings

    # (a model that learns: one that stays at the chance level is never converged)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # (room for the default lr_schedule="adaptive": 7 falls of the rate by 5, from
        # 0.05 to its floor 1e-6, each after 3 flat epochs, before the stop)
        est = _fit(BatchSizeSchedule(patience=1), lr=0.05, tol=1e-2, n_iter_no_change=3,
                   max_epochs=100)
    sizes = _sizes(est)
    assert est.converged_ and len(est.history_) < 100
    assert len(sizes) == len(est.history_)  # recorded for the epoch the stopper ended too
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_effective_batch_size_is_the_last_epochs_where_early_stopping_keeps_an_earlier():
    # the documented meaning: the fit as it ended (as n_epochs_, batch_size_), which a
    # continued fit goes on with; the kept epoch's batch is in that epoch's history row
    est = _fit(BatchSizeSchedule(patience=1), lr=1e-9, max_epochs=6, early_stopping=True,
               validation_fraction=0.2)
    kept = next(cb for _, cb in est.net_.callbacks_ if hasattr(cb, "best_epoch_")).best_epoch_
    assert est.effective_batch_size_ == _sizes(est)[-1] == 32
    assert _sizes(est)[kept - 1] == 4 and est.net_.batch_size == 32
