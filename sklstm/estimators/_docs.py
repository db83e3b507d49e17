"""Docstring pieces shared by LSTMClassifier and LSTMRegressor, and :func:`fill`, which
puts them in.

The parameters' entries are in :mod:`._docs_network` and :mod:`._docs_training`, by
what they set; the attributes' are here."""

import functools
import inspect
import textwrap

from ._docs_network import BRANCHES, NETWORK, TOKENS
from ._docs_training import BATCHING, OPTIMIZATION, RUNTIME

#: The "Parameters" section, its groups in the order the docstrings list them; ``{lr}``
#: and the other placeholders are each class's defaults (put in by :func:`fill`).
PARAMETERS = NETWORK + BATCHING + OPTIMIZATION + TOKENS + RUNTIME + BRANCHES

ATTRIBUTES = """\
    net_ : SequenceNet
        The fitted skorch net (``net_.module_`` is the torch module,
        ``net_.history`` the training history, ``net_.callbacks_`` the callbacks).
    history_ : skorch.History
        Shortcut for ``net_.history``.
    n_features_in_ : int
        Features per timestep; for 2D input ``(n_samples, n_timesteps)`` of
        numbers the width, as in scikit-learn; 1 for token ids.
    n_sequence_features_ : int
        Features per timestep, whatever the form of ``X`` (1 for 2D input and
        token ids): what the network reads, and what prediction checks ``X``
        against.
    feature_names_in_ : ndarray of str
        Column names, when fitted on a 2D DataFrame, or on a list of DataFrames
        (one per sequence, their features as string-named columns, which
        prediction then checks).
    downsample_ : int
        The averaging factor used (``downsample="auto"`` resolved at fit).
    ar_window_ : int or None
        The window of the linear highway used (``ar_window="auto"`` resolved at
        fit); None: none.
    conv_channels_ : tuple of int or None
        The channels of the convolutional branch used (``conv_channels="auto"``
        resolved at fit); None: no branch.
    split_level_ : bool
        Whether the fit split each sequence into its level and its shape
        (``split_level="auto"`` resolved at fit).
    effective_batch_size_ : int
        Samples per optimizer step: ``batch_size * accumulation_steps``, or the
        number of training samples when that is smaller (the batch the data
        fills, which ``lr_scaling`` scales by); with a ``BatchSizeSchedule``, that
        of the fit's last epoch (also where ``early_stopping`` keeps an earlier
        epoch's weights, whose batch is in that epoch's ``history_`` row).
    batch_size_ : int
        Micro-batch of the fit's last step: ``batch_size``, or what
        ``batch_size="auto"`` chose, halved by every out-of-memory recovery; at
        most ``effective_batch_size_`` (a micro-batch holds no more samples than
        the data have).
    accumulation_steps_ : int
        Micro-batches per optimizer step at the end of the fit,
        ``ceil(effective_batch_size_ / batch_size_)``.
    batch_size_trials_ : list of dict
        With ``batch_size="auto"``: the trial steps, ``{"batch_size": ...,
        "peak_memory": bytes}`` each.
    batch_size_search_time_ : float
        With ``batch_size="auto"``: seconds the trial steps took (part of
        ``fit_time_``).
    memory_events_ : list of dict
        One entry per out-of-memory recovery: ``epoch``, ``batch`` (its step), ``from``
        (samples of the step that did not fit), ``to`` (micro-batch after), ``reason``.
        Entries at batch 0 of the epochs done, ``reason`` "predicted over
        max_memory ...", are halvings made before training: with a fixed
        ``batch_size`` under ``max_memory`` on the CPU, trial steps predicted the step.
    n_updates_ : int
        Optimizer steps taken.
    n_epochs_ : int
        Epochs run (fewer than ``max_epochs`` once converged).
    interrupted_ : bool
        Whether Ctrl-C (KeyboardInterrupt) ended the fit; the model is then the one
        of the last complete epoch (a ``FitInterruptedWarning`` says so). A
        callback that ends the fit by raising ``KeyboardInterrupt`` (skorch's
        ``EarlyStopping``) is no interrupt: False, except under a SIGINT handler of
        the user's (or outside the main thread), where a press cannot be told from
        it.
    converged_ : bool
        Whether the convergence rule ended the fit; False when it ran all
        ``max_epochs`` (then a ``ConvergenceWarning`` said so, unless ``tol`` is
        None), and never for a fit whose training loss, or validation loss with
        ``early_stopping``, stayed at the chance level (a ``ConvergenceWarning``
        says that it did not learn, also when the rule stopped it); for a
        multi-output regression, also where one output's loss stayed at its own
        chance level (the warning names it), or a constant target. Without
        ``early_stopping`` it judges the training loss only: labels that ``X``
        does not predict, learned by heart, are converged; held-out data
        (``early_stopping=True``, cross-validation) show that.
    lr_ : float
        Learning rate used, after ``lr_scaling``.
    fit_time_ : float
        Wall-clock seconds of the training (building the tensors, moving them to
        the device, the epochs), not of the input's checks.
    peak_memory_ : int or None
        Peak memory of ``fit`` in bytes: ``torch.cuda.max_memory_allocated`` on
        CUDA; on CPU the growth of the process's peak resident set size (Linux),
        less the pages of files read meanwhile (a memory-mapped store's data),
        None where that cannot be read. See :class:`sklstm.resources.PeakMemory`.
    device_ : torch.device
        Device trained on.
    vocab_size_ : int
        Embedding rows (token input only).
"""


#: ``X`` of the prediction methods.
X_PREDICT = """\
X : array-like of shape (n_samples, n_timesteps, n_features) or \
(n_samples, n_timesteps), or list of arrays of shape (n_timesteps_i, n_features)
            Sequences with the fit's features per timestep, in any form :meth:`fit`
            takes (an array, a list of arrays, a DataFrame, a SequenceStore), not
            necessarily the fit's; their timesteps may number otherwise."""


def fill(cls):
    """Class decorator: put the shared sections into the docstrings of ``cls``.

    ``{parameters}`` and ``{attributes}`` in the class docstring, ``{X_predict}`` in
    the docstrings of its methods; ``{y_fit}`` in the docstring of ``fit``, from the
    class's ``_fit_y``.
    """
    # the defaults of the class's own (the regressor's ar_window, the classifier's lr,
    # conv_channels, split_level and weight_decay), as its signature has them
    parameters = PARAMETERS
    for name in ("ar_window", "lr", "conv_channels", "split_level", "weight_decay"):
        default = inspect.signature(cls.__init__).parameters[name].default
        parameters = parameters.replace(
            "{" + name + "}", f'"{default}"' if isinstance(default, str) else repr(default))
    cls.__doc__ = cls.__doc__.replace("{parameters}", parameters).replace(
        "{attributes}", ATTRIBUTES
    )
    for member in vars(cls).values():
        if callable(member) and member.__doc__ and "{X_predict}" in member.__doc__:
            member.__doc__ = member.__doc__.replace("{X_predict}", X_PREDICT)
    cls.fit = _fit_documenting(cls, cls._fit_y)
    return cls


def _fit_documenting(cls, y_doc):
    """The base's ``fit`` as a method of ``cls`` whose docstring says what ``y`` it takes.

    ``fit`` is one method of the base, but the targets differ (the classifier takes one
    column of labels, the regressor several outputs): the class's own method delegates
    to the base's, looked up at each call (as ``super()`` does, so that a patched or
    overridden base ``fit`` is the one that runs), and only the docstring is the
    class's. ``y_doc`` is the numpydoc entry of ``y``, put in place of ``{y_fit}``.
    """
    base_fit = cls.fit

    @functools.wraps(base_fit)
    def fit(self, X, y, **fit_params):
        return super(cls, self).fit(X, y, **fit_params)

    fit.__qualname__ = f"{cls.__name__}.fit"
    # the entry's own lines at the docstring's indentation (the placeholder's first)
    entry = textwrap.indent(inspect.cleandoc(y_doc), " " * 8).lstrip()
    fit.__doc__ = base_fit.__doc__.replace("{y_fit}", entry)
    return fit
