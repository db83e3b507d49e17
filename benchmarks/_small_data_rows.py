"""The configurations behind the rows of ``bench_small_data.py``: which rows exist, the
defaults with one parameter changed (``VARIANTS``), and the reference's search space."""

from __future__ import annotations

from optuna.distributions import CategoricalDistribution, FloatDistribution
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau

from sklstm.training.convergence import STOPPER

#: scikit-learn MLP's learning_rate="adaptive": the rate divided by 5 once the training
#: loss has not fallen by tol (1e-4) for 2 epochs (torch counts the third as the miss).
_PLATEAU = {"policy": ReduceLROnPlateau, "monitor": "train_loss", "factor": 0.2,
            "patience": 2, "threshold": 1e-4, "threshold_mode": "abs"}
PLATEAU_LR = LRScheduler(**_PLATEAU)


class GatedPlateauLR(LRScheduler):
    """PLATEAU_LR that keeps the rate while the training loss is at the chance level:
    a lower rate there only makes the starting plateau harder to leave."""

    def on_epoch_end(self, net, **kwargs):
        stopper = dict(net.callbacks_).get(STOPPER)
        if stopper is None or stopper.left_chance(net):
            super().on_epoch_end(net, **kwargs)


GATED_PLATEAU_LR = GatedPlateauLR(**_PLATEAU)
#: The classifier's defaults before its convolutional branch (issue 17, 2026-12-05),
#: which read the sequences as they are, without an L2 penalty.
_LSTM_ONLY = {"conv_channels": None, "lr": 1e-2, "split_level": False, "weight_decay": 0.0}
#: lr_schedule="constant": the defaults before issue 17 chose "adaptive".
_BEFORE = {"lr_schedule": "constant", **_LSTM_ONLY}
ROWS = ("defaults", "tune", "reference", "lstmfcn", "dtw_1nn", "ridge_ar", "naive")
#: Rows of the defaults with one parameter changed (not run unless asked for).
VARIANTS = {"last": {"pooling": "last"}, "max": {"pooling": "max"},
            "mean": {"pooling": "mean"}, "attention": {"pooling": "attention"},
            "full_resolution": {"downsample": 1},
            # LSTM-FCN's convolutional branch, (64, 128, 64) channels
            "conv": {"conv_channels": 64},
            # regularization of the readout (the gesture tasks: training accuracy 1.000,
            # test 0.95-0.99 against 1-NN DTW's 1.000)
            "dropout_0.3": {"dropout": 0.3}, "dropout_0.5": {"dropout": 0.5},
            # LSTNet's linear highway (the forecasts against ridge AR)
            "ar_8": {"ar_window": 8}, "ar_24": {"ar_window": 24}, "ar_48": {"ar_window": 48},
            # the window sized from the data (the whole sequence where there are four
            # training sequences per weight, else none)
            "ar_auto": {"ar_window": "auto"},
            # subtle_plateau (issue 17): LSTM-FCN's branch at the paper's sizes at full
            # resolution, and the conv branch at the defaults' resolution
            "conv_128": {"conv_channels": 128},
            # the classifier's defaults before conv_channels="auto" and lr=1e-3, and the
            # branch at the LSTM's rate (what the "conv" row measured before)
            "lstm_only": _LSTM_ONLY,
            "conv_lr_1e-2": {"conv_channels": 64, "lr": 1e-2, "split_level": False},
            # the classifier's defaults before split_level="auto" (sequences as they
            # are), and the split forced where "auto" would not split
            "no_split": {"split_level": False}, "split": {"split_level": True},
            # the classifier's defaults before weight_decay=1e-3 (no penalty), a
            # stronger one, and AdamW's decoupled penalty at AdamW's own default
            "no_weight_decay": {"weight_decay": 0.0},
            "weight_decay_1e-2": {"weight_decay": 1e-2},
            "adamw_1e-2": {"optimizer": "adamw", "weight_decay": 1e-2},
            # a tenth of it, the default since session 14: Adam's coupled penalty at 1e-3
            # pulled fits of classes that differ by when a bump comes to memorised noise
            "weight_decay_1e-4": {"weight_decay": 1e-4},
            **{f"weight_decay_1e-4_model_seed_{k}": {"weight_decay": 1e-4, "random_state": k}
               for k in range(6)},
            # one data set, other model seeds (random_state k: the fit-to-fit spread)
            **{f"model_seed_{k}": {"random_state": k} for k in range(6)},
            **{f"no_weight_decay_model_seed_{k}": {"weight_decay": 0.0, "random_state": k}
               for k in range(6)},
            "conv_128_full": {"conv_channels": 128, "downsample": 1},
            # the defaults before issue 17 (a constant rate, a stop at the first
            # plateau), and the candidates measured against them, each changing those
            "constant_lr": _BEFORE,
            "patience_20": {**_BEFORE, "n_iter_no_change": 20},
            "patience_30": {**_BEFORE, "n_iter_no_change": 30},
            "lr_3e-3": {**_BEFORE, "lr": 3e-3}, "batch_8": {**_BEFORE, "batch_size": 8},
            "hidden_128": {**_BEFORE, "hidden_size": 128},
            # MLP's adaptive rate as its docstring words it (a fall after 2 flat epochs)
            "adaptive": {**_BEFORE, "callbacks": [("lr_on_plateau", PLATEAU_LR)]},
            "adaptive_20": {**_BEFORE, "callbacks": [("lr_on_plateau", PLATEAU_LR)],
                            "n_iter_no_change": 20},
            "adaptive_gated": {**_BEFORE, "callbacks": [("lr_on_plateau", GATED_PLATEAU_LR)]},
            "adaptive_gentle": {**_BEFORE, "callbacks": [("lr_on_plateau", GatedPlateauLR(
                **{**_PLATEAU, "factor": 0.5, "patience": 4}))]}}


#: The reference's random search: wider than tune()'s default space.
REFERENCE_SPACE = {
    "lstm__pooling": ["last", "mean", "max", "attention", "concat"],
    "lstm__lr": FloatDistribution(1e-3, 5e-2, log=True),
    "lstm__hidden_size": [16, 32, 64, 128],
    "lstm__num_layers": [1, 2],
    "lstm__bidirectional": [False, True],
    "lstm__dropout": [0.0, 0.1, 0.3],
    "lstm__batch_size": [8, 16, 32, 64],
    "lstm__downsample": ["auto", 1, 2, 4, 8],
    "lstm__gradient_clip": [None, 1.0],
    "lstm__n_iter_no_change": [10, 20],
}


def sklearn_space():
    """REFERENCE_SPACE for ParameterSampler: lists as they are, the lr as log-uniform."""
    from scipy.stats import loguniform

    space = {}
    for name, spec in REFERENCE_SPACE.items():
        if isinstance(spec, FloatDistribution):
            space[name] = loguniform(spec.low, spec.high)
        elif isinstance(spec, CategoricalDistribution):
            space[name] = list(spec.choices)
        else:
            space[name] = spec
    return space
