"""Parameters that another one's value switches off: set so, they cannot change the fit.

``lr_schedule`` says what the stopping rule does at a plateau, and with ``tol=None``
and ``early_stopping=False`` there is no rule (:func:`~sklstm.training.convergence.
stopping_callback` adds none); ``validation_fraction`` says what ``early_stopping``
holds out. Any value of such a parameter trains alike there: a checkpoint written
with one resumes with another (it was refused as "another fit"), while the parameter
that switches it off is compared as any other.

Written by hand because the switches are sklstm's own parameters: no library knows
which of them another one leaves unused.
"""

from __future__ import annotations

import contextlib

__all__ = ["SWITCHED_OFF", "unused_params"]


def _no_stopping_rule(p):
    return p["tol"] is None and not p["early_stopping"]


#: parameter -> ``off(params)``: whether the estimator's parameters ``params`` (as
#: given) leave it unused
SWITCHED_OFF = {
    "base_batch_size": lambda p: p["lr_scaling"] is None,  # lr is used as it is
    "padding_idx": lambda p: p["embedding_dim"] is None,  # numeric input: its lengths pad
    # no convolutional branch ("auto" builds none on token ids)
    "conv_kernel_sizes": lambda p: p["conv_channels"] is None or (
        isinstance(p["conv_channels"], str) and p.get("embedding_dim") is not None),
    "keep_steps": lambda p: p["seq_len"] is None,  # every step is kept
    "n_iter_no_change": _no_stopping_rule,
    "lr_schedule": _no_stopping_rule,
    "validation_fraction": lambda p: not p["early_stopping"],  # nothing is held out
    "relative_target": lambda p: p["relative"] is None,  # (LSTMRegressor's) no anchor
}


def unused_params(params):
    """The parameters among ``params`` that others among them switch off.

    Parameters
    ----------
    params : Mapping
        The estimator's parameters, as given (a switch ``params`` lacks counts as on:
        the parameter it switches is used).

    Returns
    -------
    set of str

    Examples
    --------
    >>> sorted(unused_params({"tol": None, "early_stopping": False,
    ...                       "lr_schedule": "constant", "validation_fraction": 0.2}))
    ['lr_schedule', 'validation_fraction']
    >>> unused_params({"tol": 1e-4, "early_stopping": False, "lr_schedule": "constant"})
    set()
    """
    unused = set()
    for param, off in SWITCHED_OFF.items():
        with contextlib.suppress(KeyError):  # (a switch it lacks)
            if param in params and off(params):
                unused.add(param)
    return unused
