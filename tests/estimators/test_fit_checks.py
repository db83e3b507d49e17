"""Settings checked before training: callbacks, optimizer_params, early stopping on tiny
data, the cap on an inferred vocabulary."""

import warnings

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback, LRScheduler

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.data.vocabulary import MAX_INFERRED_VOCAB
from sklstm.training.setup import RESERVED_CALLBACK_NAMES

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 5, 2)).astype(np.float32)
Y = np.arange(20) % 2


class Marker(Callback):
    """Does nothing; a valid callback."""


BAD_CALLBACKS = [
    ([1], TypeError, r"callbacks\[0\] is 1: it \(int\) is not a Callback"),
    ([Marker(), "print"], TypeError, r"callbacks\[1\] is 'print'.*skorch Callback instance"),
    ([("a", 1)], TypeError, r"callbacks\[0\] is \('a', 1\): its second item \(int\)"),
    ([(1, Marker())], TypeError, r"a tuple, but not \(str, Callback\)"),
    ([("a", Marker(), 3)], TypeError, r"a tuple, but not \(str, Callback\)"),
    ([Marker], TypeError, r"is a class, not an instance \(write Marker\(\)\)"),
    ([("a", Marker()), ("a", Marker())], ValueError, "two entries of callbacks are named 'a'"),
    ([("convergence", Marker())], ValueError, "'convergence' .* is taken"),
    # skorch's own (it said "duplicate user-set callback name", of a name set once)
    ([("print_log", Marker())], ValueError, "'print_log' .* is taken .* choose another"),
]


@pytest.mark.parametrize(("callbacks", "error", "message"), BAD_CALLBACKS)
def test_bad_callbacks_are_refused_before_training(callbacks, error, message, tiny):
    est = LSTMClassifier(**tiny, callbacks=callbacks)
    with pytest.raises(error, match=message):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


@pytest.mark.parametrize("verbose", [0, 1])
def test_every_callback_a_fit_adds_itself_is_reserved(tiny, verbose):
    est = LSTMClassifier(**{**tiny, "verbose": verbose}).fit(X, Y)
    added = {name for name, _ in est.net_.callbacks_}
    assert added <= set(RESERVED_CALLBACK_NAMES)
    # (a quiet fit drops skorch's print_log: it flushed a stdout there may not be)
    quiet = set() if verbose else {"print_log"}
    assert {name for name, _ in est.net_.get_default_callbacks()} - quiet <= added


def test_good_callbacks_train(tiny):
    sched = LRScheduler("StepLR", step_size=1)
    est = LSTMClassifier(**tiny, callbacks=[Marker(), ("sched", sched)]).fit(X, Y)
    names = dict(est.net_.callbacks_)
    assert "sched" in names and any(n.startswith("user_0_Marker") for n in names)


def test_lr_in_optimizer_params_is_refused(tiny):
    """lr_ reports the rate used: optimizer_params['lr'] would override it unseen."""
    est = LSTMClassifier(**tiny, optimizer_params={"lr": 0.5})
    with pytest.raises(ValueError, match=r"optimizer_params\['lr'\]=0.5 conflicts .* set lr=0.5"):
        est.fit(X, Y)


def test_lr_reaches_the_optimizer_and_lr_(tiny):
    est = LSTMClassifier(**{**tiny, "lr": np.float32(0.25)}, lr_scaling="linear",
                         base_batch_size=4, optimizer="sgd").fit(X, Y)
    assert est.lr_ == pytest.approx(0.25 * 8 / 4)
    assert est.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(est.lr_)


@pytest.mark.parametrize(("params", "error", "message"), [
    ({"optimizer": "adam", "optimizer_params": {"momentum": 0.9}}, TypeError,
     "'momentum', which Adam does not take; its arguments are"),
    ({"optimizer_params": {1: 0.9}}, TypeError, "optimizer_params keys must be str"),
    ({"optimizer_params": {"params": []}}, ValueError, "must not contain 'params'"),
    # values: torch's bare errors before, one ("yes") only in the fused step, mid-fit
    ({"optimizer_params": {"betas": 0.9}}, TypeError,
     r"optimizer_params\['betas'\]=0.9 must be a tuple of 2 numbers \(the default of Adam's "
     r"betas is \(0.9, 0.999\)\)"),
    ({"optimizer_params": {"amsgrad": "yes"}}, TypeError,
     r"optimizer_params\['amsgrad'\]='yes' must be True or False"),
    ({"optimizer_params": {"weight_decay": "0.1"}}, TypeError, "must be a number"),
    ({"optimizer_params": {"eps": -1.0}}, ValueError,
     r"optimizer_params=\{'eps': -1.0\} is refused by Adam: Invalid epsilon value"),
    ({"optimizer": "sgd", "optimizer_params": {"momentum": -1}}, ValueError,
     "refused by SGD: Invalid momentum value"),
    ({"optimizer_params": {"fused": True, "foreach": True}}, ValueError,
     "refused by Adam: `fused` and `foreach` cannot be `True` together"),
    # torch's constructor takes these: its step raised mid-fit, or (max_iter) never moved
    ({"optimizer": torch.optim.LBFGS, "optimizer_params": {"line_search_fn": "wolfe"}},
     ValueError, r"optimizer_params\['line_search_fn'\]='wolfe' must be None or "
                 "'strong_wolfe' for LBFGS"),
    ({"optimizer": torch.optim.LBFGS, "optimizer_params": {"history_size": 0}}, ValueError,
     r"\['history_size'\]=0 must be a positive integer for LBFGS"),
    ({"optimizer": torch.optim.LBFGS, "optimizer_params": {"max_iter": 0}}, ValueError,
     r"\['max_iter'\]=0 must be a positive integer .* never moves the weights"),
    ({"optimizer": torch.optim.LBFGS, "optimizer_params": {"max_eval": 0.5}}, ValueError,
     r"\['max_eval'\]=0.5 must be None or a positive integer"),
    ({"optimizer_params": {"differentiable": True}}, ValueError,
     r"\['differentiable'\]=True must be False for Adam"),
    ({"optimizer": torch.optim.SparseAdam}, ValueError,
     "SparseAdam updates sparse gradients only.*use optimizer='adam'"),
    # SGD's check (not 0.0 <= momentum) lets NaN through: the fit diverged at its first step
    ({"optimizer": "sgd", "optimizer_params": {"momentum": np.nan}}, ValueError,
     r"optimizer_params\['momentum'\]=nan is, or holds, NaN"),
    ({"optimizer_params": {"betas": (np.float32("nan"), 0.9)}}, ValueError, "holds, NaN"),
])
def test_bad_optimizer_params(params, error, message, tiny):
    est = LSTMClassifier(**tiny, **params)
    with pytest.raises(error, match=message):
        est.fit(X, Y)
    assert not hasattr(est, "net_")


def test_numpy_values_in_optimizer_params_reach_the_optimizer_as_python_values(tiny):
    # np.bool_ failed in the fused Adam step (torch's kernel takes bool only)
    # numpy scalars in a tuple: Adam refused "betas must be either both floats or both Tensors"
    for betas in (np.array([0.8, 0.9]), (np.float64(0.8), 0.9)):
        params = {"amsgrad": np.bool_(True), "betas": betas, "eps": np.float32(1e-6)}
        est = LSTMClassifier(**tiny, optimizer_params=params).fit(X, Y)
        group = est.net_.optimizer_.param_groups[0]
        assert group["amsgrad"] is True and group["betas"] == (0.8, 0.9)
    assert type(group["eps"]) is float
    assert isinstance(est.optimizer_params["amsgrad"], np.bool_)  # the parameter untouched


@pytest.mark.parametrize(("optimizer", "params"), [
    (torch.optim.LBFGS, {"line_search_fn": "strong_wolfe", "max_iter": 2, "max_eval": 3,
                         "history_size": 5}),
    (torch.optim.LBFGS, {"line_search_fn": None, "max_iter": 1}),
    # its default: None was refused as "no number"
    pytest.param(getattr(torch.optim, "Adafactor", None), {"eps": (None, 1e-3)},
                 marks=pytest.mark.skipif(not hasattr(torch.optim, "Adafactor"),
                                          reason="torch.optim.Adafactor is new in torch 2.5")),
])
def test_optimizer_params_torch_checks_when_stepping_train_when_valid(optimizer, params, tiny):
    est = LSTMClassifier(**tiny, optimizer=optimizer, optimizer_params=params).fit(X, Y)
    assert est.net_.optimizer_.param_groups[0].items() >= params.items()


def test_optimizer_params_of_the_optimizer_are_used(tiny):
    est = LSTMClassifier(**tiny, optimizer="sgd", optimizer_params={"momentum": 0.5}).fit(X, Y)
    assert est.net_.optimizer_.param_groups[0]["momentum"] == 0.5


@pytest.mark.parametrize(("n", "fraction", "y", "message"), [
    (5, 0.1, None, r"holds out validation_fraction=0.1 of the 5 training samples \(1\), so the "
     r"stratified validation side .* 2 classes in y\. .* at least 11 samples; .* raise "
     "validation_fraction"),
    (8, 0.8, None, "training side .* lower validation_fraction"),
    (20, 0.3, np.r_[np.zeros(19), 1], r"class 1\.0 has only 1 sample in y"),
])
def test_early_stopping_on_too_few_samples(n, fraction, y, message, tiny):
    y = Y[:n] if y is None else y
    est = LSTMClassifier(**tiny, early_stopping=True, validation_fraction=fraction)
    with pytest.raises(ValueError, match=message):
        est.fit(X[:n], y)
    assert not hasattr(est, "net_")


def test_early_stopping_needs_what_the_message_says(tiny):
    """The sample count the message names is enough (and one fewer is not)."""
    est = LSTMClassifier(**tiny, early_stopping=True, validation_fraction=0.1)
    X_many, y_many = np.repeat(X, 2, axis=0), np.arange(40) % 2
    est.fit(X_many[:11], y_many[:11])
    with pytest.raises(ValueError, match="at least 11 samples"):
        est.fit(X_many[:10], y_many[:10])


def test_early_stopping_regressor_needs_a_training_sample(tiny):
    est = LSTMRegressor(**tiny, early_stopping=True, validation_fraction=0.5)
    with pytest.raises(ValueError, match="leaves no sample to train on; lower validation_"):
        est.fit(X[:1], Y[:1].astype(float))
    est.fit(X[:2], Y[:2].astype(float))  # one sample each side is enough


def test_inferred_vocabulary_is_capped(tiny):
    over = [np.array([1, 2]), np.array([3, MAX_INFERRED_VOCAB])] * 3
    est = LSTMClassifier(**tiny, embedding_dim=1)
    with pytest.raises(ValueError, match=rf"Sequence 1 of X contains token id {MAX_INFERRED_VOCAB}"
                       r": with vocab_size=None .* set vocab_size"):
        est.fit(over, np.arange(6) % 2)
    # asked for explicitly, the same ids are fine
    est.set_params(vocab_size=MAX_INFERRED_VOCAB + 1).fit(over, np.arange(6) % 2)
    assert est.vocab_size_ == MAX_INFERRED_VOCAB + 1


def test_a_huge_id_fails_before_any_embedding_is_built(tiny, monkeypatch):
    def no_embedding(*args, **kwargs):
        raise AssertionError("an embedding was built")

    monkeypatch.setattr(torch.nn.Embedding, "__init__", no_embedding)
    est = LSTMClassifier(**tiny, embedding_dim=6)
    with pytest.raises(ValueError, match="contains token id 1000000000"):
        est.fit([np.array([1, 2]), np.array([10**9, 4])], [0, 1])


@pytest.mark.parametrize(("params", "message"), [
    ({"padding_idx": 10**9}, "padding_idx=1000000000 needs an embedding of 1000000001 rows"),
    ({"padding_idx": 12, "vocab_size": 10}, "padding_idx=12 is not an id of the vocabulary"),
])
def test_padding_id_outside_the_vocabulary(params, message, tiny):
    est = LSTMClassifier(**tiny, embedding_dim=2, **params)
    with pytest.raises(ValueError, match=message):
        est.fit([np.array([1, 2]), np.array([3, 4])], [0, 1])


def test_vocab_size_does_not_survive_a_refit_on_numbers(tiny):
    est = LSTMClassifier(**tiny, embedding_dim=2).fit([np.array([1, 2]), np.array([3])], [0, 1])
    assert est.vocab_size_ == 4
    est.set_params(embedding_dim=None).fit(X, Y)
    assert not hasattr(est, "vocab_size_")
    assert est.net_.module_.embedding is None


@pytest.mark.parametrize(("Est", "params", "warning"), [
    (LSTMClassifier, {"patience": 2}, FutureWarning),
    (LSTMRegressor, {"base_batch_size": 8}, UserWarning),
])
def test_warnings_about_the_parameters_point_at_the_call_of_fit(Est, params, warning, tiny):
    # (not at scikit-learn's wrapper of fit: filters by module, and the line a warning
    # shows, are the user's)
    with pytest.warns(warning) as record:
        Est(**tiny, **params).fit(X, Y)
    assert [w.filename for w in record if w.category is warning] == [__file__]


@pytest.mark.parametrize(("params", "match"), [
    ({"conv_channels": None, "conv_kernel_sizes": np.array([3, 3])},
     r"conv_kernel_sizes=\(3, 3\) has no effect without a convolutional branch"),
    ({"padding_idx": np.int64(3)}, r"padding_idx=3 has no effect without embedding_dim"),
])
def test_a_parameter_another_switches_off_warns_that_it_does_nothing(params, match, tiny):
    # silently ignored before, where vocab_size without embedding_dim is refused (and
    # base_batch_size without lr_scaling warned: tests/training/test_plan.py)
    with pytest.warns(UserWarning, match=match) as caught:
        LSTMClassifier(**tiny, **params).fit(X, Y)
    assert len([w for w in caught if "has no effect" in str(w.message)]) == 1
    with warnings.catch_warnings():  # at their defaults, or where they apply: no warning
        warnings.filterwarnings("error", message=".*has no effect")
        LSTMClassifier(**{**tiny, "conv_channels": None}).fit(X, Y)
        LSTMClassifier(**tiny, conv_channels=(2, 2), conv_kernel_sizes=(3, 3),
                       embedding_dim=2, padding_idx=3).fit([[1, 2, 4, 5]] * 20, Y)


@pytest.mark.parametrize(("params", "match"), [
    ({"n_iter_no_change": np.int64(3)},
     r"n_iter_no_change=3 has no effect with tol=None and early_stopping=False"),
    ({"lr_schedule": np.str_("constant")},
     r"lr_schedule='constant' has no effect with tol=None and early_stopping=False"),
    ({"validation_fraction": np.float32(0.3)},
     r"validation_fraction=0.3 has no effect with early_stopping=False, which holds out"),
])
def test_a_stopping_setting_without_a_stopping_rule_warns_that_it_does_nothing(
        params, match, tiny):
    # accepted and ignored without a word: tiny's tol=None adds no stopping rule, and
    # without early_stopping nothing is held out
    assert tiny["tol"] is None
    with pytest.warns(UserWarning, match=match):
        LSTMClassifier(**tiny, **params).fit(X, Y)
    with warnings.catch_warnings():  # where they apply: no warning
        warnings.filterwarnings("error", message=".*has no effect")
        LSTMClassifier(**{**tiny, "tol": 1e-3}, n_iter_no_change=3,
                       lr_schedule="constant").fit(X, Y)
        LSTMClassifier(**tiny, early_stopping=True, validation_fraction=0.3,
                       n_iter_no_change=3, lr_schedule="constant").fit(X, Y)


@pytest.mark.parametrize(("Est", "params", "match"), [
    (LSTMRegressor, {"relative_target": np.int64(1)},
     r"relative_target=1 has no effect with relative=None, which subtracts no anchor"),
    (LSTMClassifier, {"keep_steps": np.str_("first")},
     r"keep_steps='first' has no effect with seq_len=None, which keeps every timestep"),
])
def test_an_anchor_column_or_a_cut_end_without_what_uses_it_warns(Est, params, match, tiny):
    # accepted and ignored without a word: relative_target only picks the anchor that
    # relative subtracts, keep_steps only the end that seq_len cuts to
    with pytest.warns(UserWarning, match=match):
        Est(**tiny, **params).fit(X, Y)
    with warnings.catch_warnings():  # where they apply: no warning
        warnings.filterwarnings("error", message=".*has no effect")
        LSTMRegressor(**tiny, relative="last", relative_target=1).fit(X, Y)
        LSTMClassifier(**tiny, seq_len=3, keep_steps="first").fit(X, Y)


@pytest.mark.parametrize(("scale", "match"), [
    ([1e4, 1.0, 1e-3], r"root mean squares from [\d.]+ to [\d.]+e\+03; an LSTM learns "
                       r"poorly .* make_pipeline\(SequenceScaler\(\), LSTMClassifier\(\.\.\.\)\)"),
    ([300.0, 300.0], r"root mean squares up to \d{3};"),
], ids=["far_apart", "large"])
def test_features_far_from_unit_scale_are_told_to_be_scaled(scale, match, tiny):
    # three features of 1e4, 1 and 1e-3: the default fit scored 0.65-0.69 (train 1.0,
    # converged), 0.90-0.92 after SequenceScaler; nothing said so
    with pytest.warns(UserWarning, match=match):
        LSTMClassifier(**tiny).fit(X[:, :, :1] * scale, Y)
    with warnings.catch_warnings():  # unit scale, and token ids of any size: no warning
        warnings.filterwarnings("error", message=".*root mean squares")
        LSTMClassifier(**tiny).fit(X, Y)
        LSTMClassifier(**tiny, embedding_dim=2).fit(np.arange(100).reshape(20, 5) * 50, Y)
