"""Hypothesis strategies: sequence data in every form and dtype, labels and targets of every
kind, parameters of every numeric type, each value tagged valid or not.

A drawn value is ``(value, ok)``. A case records the names of what it made invalid
(parameters, ``"X"``, ``"y"``): the property is that a case with none fits and predicts,
and a case with some raises a ValueError or TypeError naming one of them.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import strategies as st

from sklstm._param_validation import plain_value

#: Python and numpy spellings of one number: what users pass.
INT_WRAPPERS = [int, np.int64, np.int32, np.uint8, lambda v: np.array(v)]
FLOAT_WRAPPERS = [float, np.float64, np.float32, lambda v: np.array(v, dtype=np.float64)]


@dataclass
class Case:
    """One generated call: what is passed and what is wrong with it."""

    params: dict = field(default_factory=dict)
    invalid: set = field(default_factory=set)
    X: object = None
    y: object = None
    #: how the data was made invalid: ``{"X": "nan", ...}``
    broken: dict = field(default_factory=dict)

    def set(self, name, drawn):
        value, ok = drawn
        self.params[name] = value
        if not ok:
            self.invalid.add(name)


@st.composite
def int_param(draw, low, high, *, none=False, extra=()):
    """An int in [low, high] in any spelling, or (rarely) something an int param refuses."""
    if draw(st.integers(0, 11)) == 0:
        bad = [True, False, np.bool_(True), "3", 2.5, np.float64(2.0), low - 1, [low],
               np.array([low, low]), float("nan")]
        if not none:
            bad.append(None)
        return draw(st.sampled_from(bad)), False
    choices = [draw(st.sampled_from(INT_WRAPPERS))(draw(st.integers(low, high)))]
    choices += [None] if none else []
    return draw(st.sampled_from([*choices, *extra])), True


@st.composite
def float_param(draw, low, high, *, none=False, bad=()):
    """A float in [low, high] in any spelling, or (rarely) something a float param refuses."""
    if draw(st.integers(0, 11)) == 0:
        refused = [True, "0.1", float("nan"), float("inf"), [low], *bad]
        if not none:
            refused.append(None)
        return draw(st.sampled_from(refused)), False
    value = draw(st.sampled_from(FLOAT_WRAPPERS))(draw(st.floats(low, high)))
    return draw(st.sampled_from([value, None] if none else [value])), True


@st.composite
def option_param(draw, options, refused=("bogus", 3)):
    if draw(st.integers(0, 11)) == 0:
        return draw(st.sampled_from(list(refused))), False
    return draw(st.sampled_from(list(options))), True


def estimator_params(tokens):
    """Strategies of the estimators' parameters (drawn ones are passed, the rest default)."""
    params = {
        "hidden_size": int_param(1, 5),
        "num_layers": int_param(1, 2),
        "bidirectional": option_param([True, False, np.bool_(False)], [1, "yes", None]),
        "dropout": float_param(0.0, 0.9, bad=[1.0, -0.1]),
        "pooling": option_param(["last", "mean", "max", "attention", "concat"]),
        "batch_size": int_param(1, 16),
        "accumulation_steps": int_param(1, 3),
        "seq_len": int_param(1, 8, none=True),
        "keep_steps": option_param(["last", "first"]),
        "bucketing": option_param(["auto", True, False], ["never", 2]),
        "max_epochs": int_param(1, 2),
        "tol": float_param(0.0, 0.01, none=True, bad=[-1.0]),
        "n_iter_no_change": int_param(1, 3),
        "lr": float_param(1e-4, 0.1, bad=[0.0, -0.1]),
        "optimizer": option_param(["adam", "adamw", "sgd", "rmsprop", "adagrad", "SGD"],
                                  ["adamax2", 3, None]),
        "optimizer_params": option_param([None, {}, {"foreach": False}],
                                         [[("momentum", 0.9)], {"lr": 0.1}, "fast"]),
        "weight_decay": float_param(0.0, 0.01, bad=[-1.0]),
        "gradient_clip": float_param(0.1, 10.0, none=True, bad=[0.0]),
        "lr_scaling": option_param([None, "linear", "sqrt"], ["cubic", 2]),
        "base_batch_size": int_param(1, 32),
        "warmup_epochs": int_param(0, 2),
        "early_stopping": option_param([False, True], [0, "on"]),
        "validation_fraction": float_param(0.2, 0.5, bad=[0.0, 1.0]),
        "random_state": option_param([0, np.int64(3), None, np.array(7)], ["seed", -1, 2.5]),
        "n_threads": int_param(1, 1, none=True),
        "device": option_param(["cpu", "auto"], ["tpu", 3]),
        "callbacks": option_param([None, []], [[1], "print"]),
    }
    if tokens:
        params["downsample"] = option_param(["auto", 1, np.int64(1)], [0, "half"])
        params["padding_idx"] = int_param(0, 0, none=True, extra=[25, np.int64(25)])
    else:
        params["downsample"] = int_param(1, 3, extra=["auto"])
    return params


def _ragged(rng, n, n_features, max_len):
    return [rng.normal(size=(int(rng.integers(1, max_len + 1)), n_features)) for _ in range(n)]


@st.composite
def numeric_X(draw, n, case):
    """Numeric sequences in one of the container forms, maybe made invalid (``"X"``)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    form = draw(st.sampled_from(["3d", "2d", "list", "tuple", "object", "frame", "nested"]))
    n_steps, n_features = draw(st.integers(1, 8)), draw(st.integers(1, 3))
    scale = draw(st.sampled_from([1.0, 1e3, 1e-3]))
    dtype = draw(st.sampled_from(["float32", "float64", "int64", "int32", "float16", "bool"]))

    def cast(a):
        return (a > 0) if dtype == "bool" else (a * scale).astype(dtype)

    if form in ("list", "tuple", "object"):
        seqs = [cast(s) for s in _ragged(rng, n, n_features, n_steps)]
        X = tuple(seqs) if form == "tuple" else seqs
        if form == "object":
            X = np.empty(n, dtype=object)
            X[:] = [None] * n
            for i, s in enumerate(seqs):
                X[i] = s
    else:
        X = cast(rng.normal(size=(n, n_steps) if form in ("2d", "frame")
                            else (n, n_steps, n_features)))
        if form == "frame":
            X = pd.DataFrame(X, columns=[f"t{i}" for i in range(n_steps)])
        elif form == "nested":
            X = X.tolist()
    broken = draw(st.sampled_from([None] * 24 + ["nan", "inf", "1d", "4d", "strings", "sparse",
                                                 "empty sequence", "feature mismatch"]))
    if broken == "feature mismatch" and n == 1:  # needs two sequences to disagree
        broken = "4d"
    if broken is None:
        return X
    case.invalid.add("X")
    case.broken["X"] = broken
    if broken in ("nan", "inf"):
        X = rng.normal(size=(n, n_steps, n_features))
        X[0, 0, 0] = np.nan if broken == "nan" else np.inf
        return X
    return {
        "1d": lambda: rng.normal(size=n),
        "4d": lambda: rng.normal(size=(n, 2, 2, 2)),
        "strings": lambda: np.full((n, n_steps), "a"),
        "sparse": lambda: sp.csr_matrix(rng.normal(size=(n, n_steps))),
        "empty sequence": lambda: [np.zeros((0, n_features)),
                                   *_ragged(rng, n - 1, n_features, 4)],
        "feature mismatch": lambda: [np.zeros((2, n_features + 1)),
                                     *_ragged(rng, n - 1, n_features, 4)],
    }[broken]()


@st.composite
def token_X(draw, n, case):
    """Token ids, ragged or padded with ``padding_idx`` (0 by default)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    dtype = draw(st.sampled_from(["int64", "int32", "uint8", "uint16"]))
    rows = [rng.integers(1, 20, size=int(rng.integers(1, 8))).astype(dtype) for _ in range(n)]
    broken = draw(st.sampled_from([None] * 12 + ["negative", "floats", "huge", "empty"]))
    if broken is not None:
        case.invalid.add("X")
        if broken == "negative":
            rows[-1] = np.array([3, -2])
        elif broken == "floats":
            rows[-1] = np.array([1.5, 2.0])
        elif broken == "huge":
            rows[-1] = np.array([1, 2**21])
        else:
            rows[-1] = np.array([], dtype=np.int64)
    padding = case.params.get("padding_idx", 0)
    zero = np.ndim(padding) == 0 and isinstance(plain_value(padding), int) \
        and not isinstance(plain_value(padding), bool) and plain_value(padding) == 0
    if broken is None and zero and draw(st.booleans()):
        width = max(len(r) for r in rows)
        return np.array([np.pad(r.astype(np.int64), (0, width - len(r))) for r in rows])
    return rows


@st.composite
def labels(draw, n, case):
    """Classification labels of 2-3 classes (every class present), maybe made invalid."""
    k = draw(st.integers(2, min(3, n)))
    kind = draw(st.sampled_from(["int", "str", "bool", "float", "object", "numpy int"]))
    classes = {"int": [0, 1, 2], "str": ["a", "b", "c"], "bool": [False, True, True],
               "float": [1.0, 2.0, 3.0], "object": np.array(["x", "y", "z"], dtype=object),
               "numpy int": np.array([5, 7, 9], dtype=np.int16)}[kind]
    k = min(k, 2) if kind == "bool" else k
    order = draw(st.permutations(list(range(n))))
    y = np.asarray(classes)[np.arange(n) % k][order]
    broken = draw(st.sampled_from([None] * 20 + ["one class", "mismatch", "2d", "3d", "nan",
                                                 "continuous"]))
    if broken is None:
        return y
    case.invalid.add("y")
    return {"one class": lambda: np.asarray(classes)[np.zeros(n, dtype=int)],
            "mismatch": lambda: y[:-1],
            "2d": lambda: np.stack([y, y], axis=1),
            "3d": lambda: y.reshape(n, 1, 1),
            "nan": lambda: np.r_[np.full(n - 1, 1.0), np.nan],
            "continuous": lambda: np.linspace(0.1, 0.7, n)}[broken]()


@st.composite
def targets(draw, n, case):
    """Regression targets, 1-D or 2-D, on any scale, maybe made invalid."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n_outputs = draw(st.sampled_from([None, 1, 2]))
    scale = draw(st.sampled_from([1.0, 1e3, 1e-3]))
    shape = (n,) if n_outputs is None else (n, n_outputs)
    y = rng.normal(size=shape) * scale
    y = y.astype(draw(st.sampled_from(["float64", "float32"])))
    if draw(st.booleans()):
        y = y.tolist()
    broken = draw(st.sampled_from([None] * 20 + ["nan", "inf", "mismatch", "3d", "strings"]))
    if broken is None:
        return y
    case.invalid.add("y")
    y = np.asarray(y, dtype=np.float64)
    if broken in ("nan", "inf"):
        y.flat[0] = np.nan if broken == "nan" else np.inf
        return y
    return {"mismatch": lambda: y[:-1], "3d": lambda: y.reshape(n, 1, -1),
            "strings": lambda: np.array(["a"] * n)}[broken]()
