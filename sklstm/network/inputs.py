"""What :class:`~sklstm.network.LSTMNetwork` is built from and given, checked: its
arguments and its input (the lengths of a padded batch: :mod:`~sklstm.network.lengths`).
A wrong one is refused with the parameter's name (torch's own errors came later).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from .._param_validation import plain_value
from .pooling import POOLINGS

__all__ = ["as_flag", "as_fraction", "as_size", "as_sizes", "check_arguments", "checked_input",
           "conv_sizes", "embedded", "options"]


def as_size(value, name):
    """``value`` as a Python ``int`` when it is an integer of any kind (numpy's too, and
    a 0-d integer array); ``None`` as it is.

    Raises
    ------
    TypeError
        If it is anything else, a float or a bool included, naming ``name`` (torch named
        no parameter, "empty(): argument 'size' ... got float", or refused a bool
        ``num_layers`` only at the first batch).
    """
    value = plain_value(value)
    if value is None:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int; got {value!r} ({type(value).__name__}): "
                        "pass a whole number as an int.")
    return int(value)


def as_flag(value, name):
    """``value`` as a Python ``bool`` when it is one (numpy's too, and a 0-d bool array).

    Raises
    ------
    TypeError
        If it is anything else, naming ``name``: an int ``bidirectional`` built an LSTM
        that failed at the first batch in ``torch.lstm``'s list of signatures (only
        where no sequence was padded: the padded path passed bools of its own), and a
        string ``split_level`` was read by its truth, ``"False"`` as True.
    """
    value = plain_value(value)
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False; got {value!r} "
                        f"({type(value).__name__}): pass a bool.")
    return value


def as_fraction(value, name):
    """``value`` as a Python ``float`` within [0, 1) when it is a real number (numpy's
    too): a fraction of features dropped.

    Raises
    ------
    TypeError
        If it is not a number, or is a bool, naming ``name`` (with one layer ``True``
        was a dropout of 1; None and strings failed by "'<' not supported").
    ValueError
        If it is outside [0, 1): NaN failed at the first training batch, and 1 dropped
        every feature in training, silently (the head's output was its bias alone).
    """
    value = plain_value(value)
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, the fraction of features dropped in "
                        f"training; got {value!r} ({type(value).__name__}).")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be within [0, 1) (the fraction of features dropped "
                         f"in training; 0: none); got {value}.")
    return float(value)


def options(bidirectional, dropout, pooling, split_level):
    """:class:`~sklstm.network.LSTMNetwork`'s options that are not sizes, as Python values
    (:func:`as_flag`, :func:`as_fraction`; ``pooling`` is checked with the rest, by
    :func:`check_arguments`).

    Returns
    -------
    tuple
        ``(bidirectional, dropout, pooling, split_level)``.
    """
    return (as_flag(bidirectional, "bidirectional"), as_fraction(dropout, "dropout"),
            plain_value(pooling), as_flag(split_level, "split_level"))


def as_sizes(values, name):
    """``values``, one size per block of the convolutional branch, as a tuple of
    ``int`` (None as it is).

    Raises
    ------
    TypeError
        If ``values`` is not a sequence (an int: the estimators' shorthand), or holds
        something other than an int.
    ValueError
        If it is empty, or holds a size below 1.
    """
    if values is None:
        return None
    if isinstance(values, str) or not np.iterable(values):
        raise TypeError(f"{name} must be a sequence of ints, one per block of the "
                        f"convolutional branch, or None; got {values!r}.")
    sizes = tuple(as_size(value, name) for value in values)
    if not sizes:
        raise ValueError(f"{name} must hold one int per block of the convolutional branch; "
                         "got none (None has no branch).")
    # (torch built a 0 and failed on the first batch, inside oneDNN's convolution)
    if any(size is None or size < 1 for size in sizes):
        raise ValueError(f"{name} must hold positive ints, one per block of the "
                         f"convolutional branch; got {sizes}.")
    return sizes


def conv_sizes(conv_channels, conv_kernel_sizes):
    """The convolutional branch's ``(conv_channels, conv_kernel_sizes)`` as tuples of
    ``int`` (:func:`as_sizes`), or ``(None, None)`` where there is no branch.

    Raises
    ------
    ValueError
        If they do not hold one entry per block each, naming both (the branch's own
        message named its ``channels`` and ``kernel_sizes``, not the parameters passed).
    """
    if conv_channels is None:
        return None, None
    channels = as_sizes(conv_channels, "conv_channels")
    kernels = as_sizes(conv_kernel_sizes, "conv_kernel_sizes")
    if len(channels) != len(kernels):
        blocks = [f"{len(sizes)} block{'s' * (len(sizes) != 1)}" for sizes in (channels, kernels)]
        raise ValueError(f"conv_channels={channels} ({blocks[0]}) and conv_kernel_sizes="
                         f"{kernels} ({blocks[1]}) must hold one entry per block of the "
                         "convolutional branch: give both the same length.")
    return channels, kernels


def check_arguments(n_inputs, n_outputs, vocab_size, embedding_dim, padding_idx, pooling,
                    ar_window, ar_scale):
    """Refuse what :class:`~sklstm.network.LSTMNetwork` cannot be built from, naming
    its parameter."""
    # (n_outputs=0 built a head of no output that trained on nothing, a negative one failed
    # in torch naming no parameter; n_inputs=0 was refused as nn.LSTM's "input_size")
    # (n_inputs is not read with token ids: embedding_dim takes its place)
    read = (("n_inputs", n_inputs, "features per timestep"),) if embedding_dim is None else ()
    for name, size, meaning in (*read, ("n_outputs", n_outputs, "the head's output units")):
        if size is None or size < 1:  # (an int or None: as_size)
            raise ValueError(f"{name} must be a positive int ({meaning}); got {size}.")
    if pooling != "last" and pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {('last', *POOLINGS)}, got {pooling!r}.")
    _check_tokens(vocab_size, embedding_dim, padding_idx)
    if ar_window is not None and ar_window < 1:  # (an int or None: as_size)
        # (0 built a highway of no input, a second bias; -1 failed in torch)
        raise ValueError(f"ar_window must be a positive int (the input steps the highway "
                         f"reads) or None (no highway); got {ar_window}.")
    if ar_scale is not None and ar_window is None:  # (it was accepted and ignored)
        raise ValueError("ar_scale is what the highway divides each feature by, and there "
                         "is no highway: set ar_window too, or leave ar_scale None.")
    features = n_inputs if embedding_dim is None else embedding_dim
    # (a number failed by len(), naming nothing; a string "12" was read as 1.0 and 2.0)
    if ar_scale is not None and (isinstance(ar_scale, str) or np.ndim(ar_scale) != 1):
        raise TypeError(f"ar_scale must be a sequence of numbers, one per input feature "
                        f"({features}), or None; got {ar_scale!r}.")
    if ar_scale is not None and len(ar_scale) != features:
        raise ValueError(f"ar_scale must hold one value per input feature ({features}); got "
                         f"{len(ar_scale)}.")
    # the highway divides by it (in float32, the buffer's dtype): a zero, such as the RMS
    # of a feature that is always zero, made every output NaN, silently
    scale = None if ar_scale is None else np.array([float(s) for s in ar_scale], np.float32)
    if scale is not None and not (np.isfinite(scale) & (scale > 0)).all():
        raise ValueError("ar_scale must hold positive finite values (what the highway "
                         f"divides each feature by); got {scale.tolist()}.")


def _check_tokens(vocab_size, embedding_dim, padding_idx):
    """Refuse an embedding of token ids that cannot be built (sizes: ints or None)."""
    if (vocab_size is None) != (embedding_dim is None):
        raise ValueError("vocab_size and embedding_dim are set together (token ids) or "
                         f"not at all; got vocab_size={vocab_size!r}, "
                         f"embedding_dim={embedding_dim!r}.")
    if vocab_size is None:
        if padding_idx is not None:  # (it was accepted and ignored)
            raise ValueError("padding_idx is the token id of the padding, and there are "
                             "no token ids: set vocab_size and embedding_dim too, or leave "
                             "padding_idx None.")
        return
    # (0 built an embedding that failed at the first batch, in an empty index_select;
    # an embedding_dim of 0 was refused by nn.LSTM as its "input_size")
    for name, size, meaning in (("vocab_size", vocab_size, "the number of token ids"),
                                ("embedding_dim", embedding_dim, "each token's features")):
        if size < 1:
            raise ValueError(f"{name} must be a positive int ({meaning}); got {size}.")
    # (torch refused it by an AssertionError; negative ids count from the end, as there)
    if padding_idx is not None and not -vocab_size <= padding_idx < vocab_size:
        raise ValueError(f"padding_idx must be a token id within {-vocab_size}.."
                         f"{vocab_size - 1} (vocab_size={vocab_size}), or None; got "
                         f"{padding_idx}.")


def checked_input(network, x):
    """``x`` as the LSTM of ``network`` (an :class:`~sklstm.network.LSTMNetwork`) reads
    it: token ids (as int32 or int64: ``nn.Embedding`` refuses narrower ones, such as
    bytes) embedded (:func:`embedded`), numbers in the dtype of the weights (the LSTM
    refuses another; a bfloat16 autocast casts it again).

    Raises
    ------
    TypeError
        If token ids are not integers, or numbers are complex.
    ValueError
        If ``x`` does not have the network's shape, holds no timestep, or holds token
        ids outside the vocabulary.
    """
    if network.embedding is not None:
        if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
            raise TypeError(f"x must hold integer token ids, got {x.dtype}.")
        if x.ndim != 2:
            raise ValueError("x must hold token ids of shape (batch, n_timesteps); got "
                             f"shape {tuple(x.shape)}.")
    elif x.dtype.is_complex:  # (the cast to the weights' dtype dropped the imaginary part)
        raise TypeError(f"x must hold real numbers, got {x.dtype}; pass the real and "
                        "imaginary parts (or magnitude and phase) as features of their own.")
    elif x.ndim != 3 or x.shape[2] != network.lstm.input_size:
        raise ValueError(f"x must have shape (batch, n_timesteps, {network.lstm.input_size});"
                         f" got shape {tuple(x.shape)}.")
    if not x.shape[1]:  # (torch's LSTM: "Expected sequence length to be larger than 0")
        raise ValueError(f"x must hold at least one timestep; got shape {tuple(x.shape)}.")
    if network.embedding is None:
        return x.to(network.head.weight.dtype)
    return embedded(network.embedding, x if x.dtype in (torch.int32, torch.int64) else x.long())


def embedded(embedding, x):
    """``embedding(x)``, with an id outside the vocabulary refused by name.

    ``nn.Embedding`` refused such ids by "index out of range in self", naming neither
    the id nor the vocabulary. Its IndexError is translated rather than the ids checked
    up front: a check would read the ids' minimum and maximum into Python every batch,
    which on a GPU is a host-device wait (the estimators check the ids once, with the
    data: :mod:`sklstm.data.vocabulary`). Off the CPU an out-of-range id is a
    device-side assert, which no translation can catch.

    Raises
    ------
    ValueError
        If ``x`` holds an id outside ``0..embedding.num_embeddings - 1``, padded steps'
        included.
    """
    try:
        return embedding(x)
    except IndexError as error:
        vocab_size = embedding.num_embeddings
        low, high = (int(value) for value in torch.aminmax(x))
        if 0 <= low and high < vocab_size:
            raise
        raise ValueError(f"x holds token id {low if low < 0 else high}, outside the "
                         f"vocabulary of {vocab_size} ids (0..{vocab_size - 1}): map every "
                         "id into it, padded steps' too (pad with an id such as padding_idx "
                         "or 0), or build the network with a larger vocab_size.") from error
