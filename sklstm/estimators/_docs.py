"""Docstring pieces shared by LSTMClassifier and LSTMRegressor."""

import functools
import inspect
import textwrap

PARAMETERS = """\
    hidden_size : int, default=64
        LSTM hidden units per direction.
    num_layers : int, default=1
        Stacked LSTM layers.
    bidirectional : bool, default=False
        Also read every sequence backwards; the head sees both final states.
    dropout : float in [0, 1), default=0.0
        Dropout between stacked LSTM layers and before the output layer.
    pooling : {"concat", "last", "mean", "max", "attention"}, default="concat"
        What the output layer reads of the LSTM's outputs: ``"last"``, the
        hidden state at each sequence's last step; ``"mean"``, ``"max"``, their
        mean or maximum over all its timesteps; ``"attention"``, a learned
        weighted sum over the timesteps; ``"concat"``, the last state, the
        maximum and the mean side by side (ULMFiT's concat pooling). Padding is
        excluded from all of them. The default reads both what is at the end of
        a sequence and what is anywhere in it: ``"last"`` alone misses a pattern
        in the middle of a long series, the pooled readouts alone miss the order
        at its end (benchmarks/bench_small_data.py).
    batch_size : int or "auto", default=16
        Samples per forward/backward pass (the micro-batch). This is what must
        fit in memory. ``"auto"`` takes the largest micro-batch that fits the
        memory budget (``max_memory``) for this model and data, keeping 25 % of
        the budget (at least 8 MiB) free, capped by the number of training
        samples. It is found by trial steps on the longest sequences with a
        throwaway copy of the model (the fit itself is the one
        ``batch_size=batch_size_`` gives) and recorded in ``batch_size_``; the
        effective batch is then ``batch_size_ * accumulation_steps``.
    accumulation_steps : int, default=1
        Micro-batches whose gradients are summed before one optimizer step. The
        update equals that of one batch of ``batch_size * accumulation_steps``
        samples (the effective batch), including the last, smaller batch of an
        epoch: each micro-batch loss is weighted by its share of the effective
        batch (exactly so without a convolutional branch, ``conv_channels=None``:
        its batch normalization takes statistics per micro-batch). Use it to train
        with a batch that does not fit in memory.
    seq_len : int or None, default=None
        Keep at most this many timesteps of every sequence (see
        ``keep_steps``); None keeps all. Shorter sequences are left as they are.
        Time and memory per batch shrink in proportion.
    keep_steps : {"last", "first"}, default="last"
        Which timesteps ``seq_len`` keeps: the most recent ones (usual for
        forecasting and classification of recent behaviour) or the first ones.
    downsample : int or "auto", default="auto"
        Average every ``downsample`` consecutive timesteps into one (the last
        window takes what is left), so a sequence of ``T`` steps becomes
        ``ceil(T / downsample)`` steps long. Unlike ``seq_len`` it keeps the
        whole sequence at a coarser resolution; time and memory shrink alike.
        ``"auto"`` averages the longest training sequence down to at most 100
        steps (``ceil(T_max / 100)``; sequences of up to 100 steps are kept as
        they are), which an LSTM learns from faster and more reliably than from
        several hundred; set 1 to keep every step (e.g. for high-frequency
        signals). A ``UserWarning`` says when one sequence far longer than the
        others (more than 10 times the median) sets a factor that leaves the
        median sequence fewer than 10 steps. Applied before ``seq_len``, which
        then counts averaged steps.
        Token ids are never averaged.
    bucketing : {"auto", True, False}, default="auto"
        Batch sequences of similar length together (still shuffled every epoch
        and reproducible under ``random_state``), so less padding is computed.
        ``"auto"`` turns it on when the sequences have different lengths.
    max_epochs : int, default=200
        Most passes over the training data; the fit stops earlier once it has
        converged (``tol``).
    tol : float or None, default=1e-4
        Convergence rule (skorch's ``EarlyStopping``): stop once
        ``n_iter_no_change`` epochs in a row did not beat the best training loss
        (the validation loss with ``early_stopping``) by more than ``tol``; never
        while the training loss is still at the chance level (above 95 % of the
        loss of predicting the targets' distribution). Reaching ``max_epochs``
        first emits a ``ConvergenceWarning`` (saying that the fit did not learn,
        when it is still at chance). None runs all ``max_epochs`` epochs (with
        ``early_stopping``, any improvement then counts).
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before the fit stops.
    lr : float, default={lr}
        Learning rate, for ``base_batch_size`` samples when ``lr_scaling`` is set.
        ``LSTMClassifier``'s default is 1e-3, ``LSTMRegressor``'s 1e-2, each chosen
        by the small-data benchmark with its default network: at 1e-2 the
        classifier's convolutional branch memorizes small training sets (0.490
        against 0.970 test accuracy on subtle_plateau at 128 channels, seed 0).
        For a classifier without the branch (``conv_channels=None``) set
        ``lr=1e-2`` too: the LSTM alone learns slowly at 1e-3.
    lr_schedule : {"adaptive", "constant"}, default="adaptive"
        ``"adaptive"`` (scikit-learn MLP's ``learning_rate="adaptive"``): where
        the convergence rule would stop (``n_iter_no_change`` epochs without an
        improvement of ``tol``), the learning rate is divided by 5 instead and the
        count starts again; the fit stops at such a plateau only once the rate is
        at or below 1e-6 (or at ``max_epochs``). A fit never stops earlier than
        with ``"constant"``, which keeps ``lr`` (after ``lr_scaling`` and
        ``warmup_epochs``) for the whole fit and stops at the first plateau, as
        earlier versions of sklstm did. With ``tol=None`` there is no convergence
        rule, so no plateau either: the rate stays as with ``"constant"``. Chosen
        by the small-data benchmark (see the performance page of the docs).
    optimizer : {"adam", "adamw", "sgd", "rmsprop", "adagrad"} or torch.optim.Optimizer subclass, \
default="adam"
        First-order optimizer. Adam and AdamW use torch's fused kernel
        (``fused=True``) where the device has one, which makes each optimizer
        step several times cheaper for an LSTM's few parameter tensors.
    optimizer_params : dict or None, default=None
        Further keyword arguments for the optimizer, e.g. ``{"momentum": 0.9}`` (to
        ``set_params`` and searches: ``optimizer_params__momentum``); ``{"fused": False}``
        or a ``foreach`` value turns the fused default off. Keys must be arguments of the
        optimizer. ``"lr"`` is refused: the learning rate is the ``lr`` parameter, which
        ``lr_scaling``, ``warmup_epochs`` and ``lr_`` start from.
    weight_decay : float, default={weight_decay}
        L2 penalty passed to the optimizer (Adam's ``weight_decay``: added to the
        gradient, so it acts before Adam's scaling; AdamW's is decoupled).
        ``LSTMClassifier``'s default, 1e-4, was chosen on
        benchmarks/bench_small_data.py: without it a fit on a few dozen
        recordings sometimes settles on a solution that fits the training set and
        misses new recordings (motion, 48 recordings: 3 fits of 24 below 1.000,
        one at 0.954; with it 23 of 24 at 1.000); at 1e-3, Adam's penalty pulled
        fits of classes told apart by *when* an event comes to memorised noise
        (chance on new data). ``LSTMRegressor``'s is 0. A
        default penalty gives way to ``optimizer_params['weight_decay']`` and is
        not passed to an optimizer without one (LBFGS); a value you set is refused
        there.
    gradient_clip : float or None, default=None
        Clip the global gradient norm to this value, once per optimizer step on
        the accumulated gradient (skorch's ``GradientNormClipping``).
    lr_scaling : {None, "linear", "sqrt"}, default=None
        Scale ``lr`` with the effective batch size:
        ``lr_ = lr * (effective_batch_size_ / base_batch_size) ** p``,
        ``p=1`` for "linear" (Goyal et al., 2017, for SGD), ``p=0.5`` for
        "sqrt" (adaptive optimizers). The effective batch is the one the data
        fills, ``min(batch_size * accumulation_steps, n_train)``, where
        ``n_train`` is the number of training samples (after ``early_stopping``
        holds out ``ceil(validation_fraction * n)``): a batch of 4096 on 48
        samples steps like one of 48 and is scaled as one. Without it,
        comparing batch sizes also compares step sizes.
    base_batch_size : int, default=16
        Batch size for which ``lr`` is meant when ``lr_scaling`` is set (another
        value without ``lr_scaling`` has no effect, and warns).
    warmup_epochs : int, default=0
        Ramp the learning rate linearly up to ``lr_`` over this many epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers) and apply the convergence rule (``tol``,
        ``n_iter_no_change``) to its loss instead of the training loss; the
        weights of the best epoch are restored. Data too small for the split (a
        stratified side without a sample of every class, a class with a single
        sample, nothing left to train on) is refused before training, with the
        number of samples needed.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out when ``early_stopping`` is on.
    patience : int, default="deprecated"
        Deprecated in 0.2, removed in 0.3: use ``n_iter_no_change``, which it
        overrides (with a ``FutureWarning``) when set.
    embedding_dim : int or None, default=None
        Set for token-id input: ids pass through an ``nn.Embedding`` of this
        size. None means numeric sequences.
    vocab_size : int or None, default=None
        Number of token ids (largest id + 1). None infers it from the training
        data, up to 2**20 ids (``sklstm.data.vocabulary.MAX_INFERRED_VOCAB``: a
        larger id is refused before the embedding is built; set ``vocab_size``
        to want one that large); ids at or above it are rejected at prediction
        time. Set it for cross-validation and searches: inferred, a fold's
        vocabulary ends at its training sequences' largest id, and held-out
        sequences holding a larger one are refused (scored NaN by scikit-learn).
    padding_idx : int or None, default=0
        Token id that marks padding: it is removed wherever it appears (padded 2D
        input, lists, stores) before anything else, and its embedding stays zero;
        real tokens take the other ids. None: no id is padding. Only used with
        ``embedding_dim``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else MPS, else CPU), ``"cpu"``,
        ``"cuda"``, ``"cuda:1"``, ``"mps"``. A device that is absent (CUDA on a
        CPU-only build, an index beyond the visible GPUs) is refused before training.
    n_threads : int or None, default=None
        torch CPU threads during ``fit`` and prediction (restored afterwards);
        None leaves torch's setting. Inside joblib workers torch already uses
        ``cpu_count // n_jobs`` threads.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling, dropout and the validation
        split. The same value gives identical predictions on the CPU, also after
        ``clone``. torch's global random state is left untouched.
    verbose : int, default=0
        1 prints skorch's per-epoch table and a progress bar over each epoch's
        batches (tqdm, with elapsed time and an estimate of what is left). At any
        ``verbose``, a fit logs how far it is (epoch, elapsed seconds, training
        loss) to the ``"sklstm"`` logger at INFO level once a minute: see it with
        ``logging.basicConfig(level=logging.INFO)``.
    callbacks : list or None, default=None
        Extra skorch callbacks (instances or ``(name, callback)`` tuples, whose
        parameters are ``callbacks__<name>__<param>`` to ``set_params`` and searches),
        e.g. ``skorch.callbacks.LRScheduler``; other entries are refused with a TypeError
        before training. Deep-copied at ``fit``: the fitted copies are in ``net_.callbacks_``.
        Callbacks are code: :meth:`save` does not store them.
    checkpoint : str, os.PathLike or None, default=None
        A directory (a leading ``~`` is the home directory) where the fit writes its
        state after every epoch (weights, optimizer, history, random state; no
        pickle). A fit of the same parameters
        on the same data that finds it there continues where it stopped, with the
        result of one uninterrupted fit (for an int ``random_state``); one that had
        finished is loaded, not trained again. ``max_epochs`` may be raised to train
        further. Use one directory per fit (not inside a search).
    max_memory : int, str or None, default=None
        Memory budget of the fit, in bytes or as a string such as ``"2GiB"`` or
        ``"512MB"``. It is measured as ``peak_memory_`` is (the fit's resident-set
        growth on the CPU, torch's allocator on CUDA), and checked after every
        micro-batch. On CUDA it is also torch's cap on the allocator for the length
        of the fit (``torch.cuda.set_per_process_memory_fraction``, restored
        afterwards): a step that would need more fails at its allocation, inside
        the budget, and is shrunk (``on_oom``); a budget larger than the device is
        refused. None: no budget on the CPU (``batch_size="auto"`` then
        searches against the memory the OS has available), the device's free
        memory on CUDA (checked, not capped).
    on_oom : {"shrink", "raise"}, default="shrink"
        What a step that runs out of memory (CUDA out-of-memory, or over
        ``max_memory``) does. ``"shrink"`` redoes it with half the micro-batch and
        twice the accumulation steps, as often as needed, so the effective batch,
        the updates and the learning dynamics stay those of the fit as asked;
        a ``MicroBatchShrunkWarning`` says so and ``batch_size_`` /
        ``accumulation_steps_`` record the result. ``"raise"`` raises
        ``MemoryBudgetError`` (as does ``"shrink"`` at a micro-batch of 1); the
        estimator is left unfitted.
    precision : {"32", "bf16", "16-mixed"}, default="32"
        Arithmetic of the forward pass. ``"bf16"`` runs it under torch's autocast
        in bfloat16, the LSTM by sklstm's own cast to bfloat16 (autocast would run
        cuDNN's LSTM in float16); on the CPU, and on CUDA GPUs with bfloat16
        arithmetic (compute capability 8.0 or later) where torch has a bfloat16
        LSTM kernel: elsewhere it is refused before training.
        ``"16-mixed"`` in float16 with a gradient scaler (CUDA only). Weights,
        gradients, their accumulation and the optimizer stay float32.
    conv_channels : int, sequence of int, "auto" or None, default={conv_channels}
        A convolutional branch beside the LSTM (LSTM-FCN, Karim et al. 2017):
        one block of a 1-D convolution, batch normalization and ReLU per entry,
        with that many channels, averaged over each sequence's own steps; the
        output layer reads the LSTM's readout and these channels joined. For
        classes that are a shape (a bump, a motif) more than an order of events.
        An int ``k`` is the paper's shape ``(k, 2k, k)`` (the paper: 128), and is
        what a search space lists; None has no branch. ``"auto"``
        (``LSTMClassifier``'s default) is ``(64, 128, 64)``, for numeric input and
        token ids alike: a kernel longer than a short sequence reads zeros past
        its ends (a branch named with channels refuses such kernels instead), and
        sequences of one step get no branch; ``conv_channels_`` is the branch
        chosen. ``LSTMRegressor``'s default is None (on the benchmark's
        regressions and forecast the branch cost up to 2.5 points of R^2). With
        ``accumulation_steps > 1`` batch normalization takes its statistics per
        micro-batch (the gradients still add up over the effective batch).
    conv_kernel_sizes : sequence of int, default=(8, 5, 3)
        Kernel size of each convolution block, as many as ``conv_channels``; no
        kernel may be longer than the shortest sequence after ``seq_len`` and
        ``downsample``.
    ar_window : int, "auto" or None, default={ar_window}
        A linear autoregressive component beside the network (LSTNet's
        "highway", Lai et al. 2018): a linear map of the last ``ar_window`` steps
        the network reads (every feature, after ``seq_len`` and ``downsample``;
        relative to the anchor with ``relative``; each feature divided by its
        root mean square over the training steps, so that values in the
        thousands learn as values near 1 do), learnt with the network and added
        to its output, so a model that needs a linear function of the recent
        values (an autoregression, a trend carried on) has it directly. Its
        weights start at zero. ``"auto"`` (``LSTMRegressor``'s default) sizes it
        from the training data: over every step of the shortest sequence when
        there are at least four training sequences per weight of the map (``4 *
        steps * n_features <= n_samples``: short windows, as a forecast's), else
        none (and none for token ids); ``ar_window_`` is the window chosen. On
        benchmarks/bench_small_data.py this brings the trend forecast level with
        a ridge regression on its lags (R^2 0.987 against 0.975 without) and
        leaves the highway out where it costs accuracy (200 sequences of 200
        steps). None (``LSTMClassifier``'s default) has none. Ragged input: each
        sequence's own last steps (a shorter sequence met in prediction counts
        its missing steps as zeros); it may not be longer than the shortest
        training sequence. An int is for numeric input only (refused with
        ``embedding_dim``).
    split_level : bool or "auto", default={split_level}
        Split every sequence into its level and its shape: the LSTM and the
        convolutional branch read each sequence centred on its own mean per
        feature (its valid steps, after ``seq_len`` and ``downsample``), and the
        output layer reads the means as well, beside their readouts. A
        recording's offset of its own (a sensor's orientation, a baseline) then
        does not have to be learnt away from a few dozen examples; but beside the
        readouts' features the level counts for little, so where the level is
        what tells the targets apart the sequences must be read as they are.
        ``"auto"`` (``LSTMClassifier``'s default) decides from the training data:
        it splits numeric sequences of at least two steps unless a linear model
        of their levels alone (a ridge classifier or regression, 5-fold
        cross-validated) gets at least halfway from the trivial score to a
        perfect one; never for token ids, one-step sequences or
        ``relative="mean"`` (which has removed the level); ``split_level_`` is
        what the fit used. On benchmarks/bench_small_data.py it brings the
        gestures level with 1-NN DTW (0.998 and 0.999 against 0.962 and 0.983
        read as they are). ``LSTMRegressor``'s default is False (its regressions
        and forecast came out level, within their seeds' spread). True with
        ``embedding_dim`` or ``relative="mean"`` is refused.
"""

ATTRIBUTES = """\
    net_ : SequenceNet
        The fitted skorch net (``net_.module_`` is the torch module,
        ``net_.history`` the training history, ``net_.callbacks_`` the callbacks).
    history_ : skorch.History
        Shortcut for ``net_.history``.
    n_features_in_ : int
        Features per timestep; for 2D input ``(n_samples, n_timesteps)`` the
        width, as in scikit-learn.
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
        fills, which ``lr_scaling`` scales by); at the end of the fit, when a
        ``BatchSizeSchedule`` grew it.
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
        says that it did not learn, also when the rule stopped it).
    lr_ : float
        Learning rate used, after ``lr_scaling``.
    fit_time_ : float
        Wall-clock seconds of ``fit``.
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
            Sequences, in the same form as those passed to :meth:`fit`."""


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
