"""A network whose parameters cannot fit is refused before anything is allocated."""

import numpy as np
import pytest
import torch

from sklstm import LSTMClassifier, LSTMRegressor
from sklstm.exceptions import MemoryBudgetError

rng = np.random.default_rng(0)
X = rng.normal(size=(20, 5, 2)).astype(np.float32)
TOKENS = rng.integers(1, 50, size=(20, 5))
Y = np.arange(20) % 2

#: name -> (parameters, X, the start of the message). 40000 units make 6.4e9 LSTM weights
#: (4 * h * (2 + h) + 8 * h) besides the head's 3 * h * 2 + 2 (concat pooling, 2 classes),
#: the classifier's default convolutional branch (67,200 for one input feature) and the
#: head's weights for the level of each feature (2 x 2: split_level="auto" splits here).
CASES = {
    "hidden_size": ({"hidden_size": 40000}, X, r"hidden_size=40000 makes a network of "
                    r"6,400,947,206 parameters \(6,400,640,000 in the LSTM\); its weights, "
                    r"their gradients and the Adam optimizer's state \(4 copies\) need "
                    r"95\.4 GiB"),
    "sgd keeps no state": ({"hidden_size": 40000, "optimizer": "sgd"}, X,
                           r"hidden_size=40000 makes .* the SGD optimizer's state "
                           r"\(2 copies\) need 47\.7 GiB"),
    "layers": ({"hidden_size": 2000, "num_layers": 40, "bidirectional": True}, X,
               r"hidden_size=2000, num_layers=40, bidirectional=True makes a network"),
    # 128 weights in layer 0 and 160 in each later one (4 * 4 * (4 + 4) + 8 * 4); counted
    # from two built layers (nn.LSTM building 2**40 of them, even on meta, never returned)
    "2**40 layers": ({"hidden_size": 4, "num_layers": np.int64(2**40)}, X,
                     r"hidden_size=4, num_layers=1099511627776 makes a network of "
                     r"[\d,]+ parameters \(175,921,860,444,128 in the LSTM\)"),
    "embedding": ({"embedding_dim": 64, "vocab_size": 10**9}, TOKENS,
                  r"vocab_size=1000000000 x embedding_dim=64 makes a network of "
                  r"64,000,033,666 parameters \(64,000,000,000 in the token embedding\)"),
}

#: what the fit can have -> (max_memory, the end of the message)
LIMITS = {
    "max_memory": ("8GiB", r"more than max_memory=8\.0 GiB allows\. .*, or raise max_memory\."),
    "host": (None, r"more than the 16\.0 GiB this machine has available\. "),
    # a budget above the host's memory: the host bounds the fit (the 47.7 GiB of SGD's
    # case were allocated, max_memory alone was compared)
    "host below max_memory": ("64GiB", r"more than the 16\.0 GiB this machine has "
                              r"available \(less than max_memory=64\.0 GiB\)\. Lower"),
}


@pytest.mark.parametrize("limit", sorted(LIMITS))
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_network_too_large_is_refused_before_anything_is_allocated(case, limit, monkeypatch):
    params, X_, start = CASES[case]
    max_memory, end = LIMITS[limit]
    monkeypatch.setattr("sklstm.resources.memory_budget._available_cpu_bytes",
                        lambda: 16 * 2**30)

    def train(*args, **kwargs):  # its warm-up step would build the network
        raise AssertionError("the fit reached training")

    monkeypatch.setattr("sklstm.estimators._base.train", train)
    est = LSTMClassifier(**params, device="cpu", max_memory=max_memory, max_epochs=1)
    made = []  # the device of every parameter a module registers during the fit

    def register(module, name, param):
        made.append(param.device.type)
        # a count that builds every layer fails here rather than running for hours
        assert len(made) < 1000, "the network was built parameter by parameter"

    hook = torch.nn.modules.module.register_module_parameter_registration_hook(register)
    try:
        # torch's allocator raised a bare RuntimeError when the network was built
        with pytest.raises(MemoryBudgetError, match=f"^LSTMClassifier: {start}.*{end}"):
            est.fit(X_, Y)
    finally:
        hook.remove()
    # counted on the meta device: no weight was allocated (which would take minutes, or
    # the process)
    assert made and set(made) == {"meta"}
    assert not hasattr(est, "classes_")


@pytest.mark.parametrize("params", [{"hidden_size": 10**9},
                                    {"conv_channels": 2**40, "conv_kernel_sizes": (3, 3, 3)}])
def test_a_network_beyond_what_torch_can_count_is_refused_as_too_large(params):
    # torch's bare "Storage size calculation overflowed" when the size was counted
    with pytest.raises(MemoryBudgetError, match=r"more bytes than torch can count .* "
                                                "Nothing was allocated"):
        LSTMClassifier(**params, device="cpu", max_epochs=1).fit(X, Y)


def test_a_linear_autoregressive_part_too_large_is_named(monkeypatch):
    # 50 steps x 200 features x 600,000 outputs: 6e9 weights in ar_window's linear map,
    # next to a one-unit LSTM
    monkeypatch.setattr("sklstm.estimators._base.train", None)  # never reached
    y = np.zeros((4, 600_000), dtype=np.float32)
    y[0] = 1
    est = LSTMRegressor(hidden_size=1, pooling="last", ar_window=50, device="cpu",
                        max_memory="8GiB")
    with pytest.raises(MemoryBudgetError, match=(
            r"^LSTMRegressor: ar_window=50 x 200 features x 600000 outputs makes a network "
            r"of 6,001,800,812 parameters \(6,000,600,000 in the linear autoregressive "
            r"part\); .* Lower ar_window, or raise max_memory")):
        est.fit(np.zeros((4, 50, 200), dtype=np.float32), y)


def test_a_need_just_over_the_budget_is_not_said_to_equal_it():
    # the default convolutional branch with Adam needs 1,077,728 bytes (1.03 MiB): over
    # max_memory="1MiB" it read "need 1.0 MiB, more than max_memory=1.0 MiB allows"
    with pytest.raises(MemoryBudgetError, match=r"need 1,0[5-9]\d,\d{3} bytes, more than "
                       r"max_memory=1,048,576 bytes allows\."):
        LSTMClassifier(hidden_size=4, max_memory="1MiB", device="cpu").fit(X, Y)
