"""Parameter docs of the training: batching and sequence lengths, the optimization,
where and how it runs (shared by LSTMClassifier and LSTMRegressor, put together in
:mod:`._docs`)."""

#: Micro-batches, accumulation, and the lengths of the sequences read.
BATCHING = """\
    batch_size : int or "auto", default=16
        Samples per forward/backward pass (the micro-batch). This is what must
        fit in memory. ``"auto"`` takes the largest micro-batch that fits the
        memory budget (``max_memory``) for this model and data, but no more than
        the device has free on CUDA or the OS has available on the CPU (also the
        bound without ``max_memory``), keeping 25 % of that bound (at least 8 MiB)
        free, capped by the number of training samples. It is found by trial
        steps on the longest sequences with a throwaway copy of the model, each
        holding its effective batch (``batch_size * accumulation_steps``) as the
        fit does (the fit itself is the one ``batch_size=batch_size_`` gives),
        and recorded in ``batch_size_``; the effective batch is then
        ``batch_size_ * accumulation_steps``, capped by the number of training
        samples (``effective_batch_size_``). The largest batch makes the fastest
        epoch but the fewest optimizer steps: on a small data set it is the whole
        set, one step an epoch, which learns less within ``max_epochs`` (300
        samples of three blobs: training accuracy 0.80 against 0.93 at the default
        16, neither ``converged_``; ``python benchmarks/bench_auto_batch_small.py``,
        2026-12-07); raise ``max_epochs`` or ``lr`` with it.
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
"""

#: Epochs, convergence, the optimizer and its learning rate, early stopping.
OPTIMIZATION = """\
    max_epochs : int, default=200
        Most passes over the training data; the fit stops earlier once it has
        converged (``tol``).
    tol : float or None, default=1e-4
        Convergence rule (skorch's ``EarlyStopping``): stop once
        ``n_iter_no_change`` epochs in a row did not beat the best training loss
        (the validation loss with ``early_stopping``) by more than ``tol``; never
        while the training loss is still at the chance level (above 95 % of the
        loss of predicting the targets' distribution: the training split's, with
        ``early_stopping``). Reaching ``max_epochs``
        first emits a ``ConvergenceWarning`` (saying that the fit did not learn,
        when it is still at chance). A stop with ``tol`` above a tenth of that
        chance level (unscaled small targets) is no convergence either: the rule
        cannot see the falls left, and the warning says which ``tol`` would. None
        runs all ``max_epochs`` epochs (with ``early_stopping``, any improvement
        then counts).
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
        earlier versions of sklstm did. With ``tol=None`` and
        ``early_stopping=False`` there is no stopping rule, so no plateau either:
        the rate stays as with ``"constant"`` (which then warns that it has no
        effect). Chosen
        by the small-data benchmark (see the performance page of the docs). A
        learning-rate scheduler among ``callbacks`` compounds with these divisions
        (and with ``warmup_epochs``' ramp): use ``"constant"`` for it alone.
    optimizer : {"adam", "adamw", "sgd", "rmsprop", "adagrad"} or torch.optim.Optimizer subclass, \
default="adam"
        First-order optimizer. Adam and AdamW use torch's fused kernel
        (``fused=True``) where the device has one, which makes each optimizer
        step several times cheaper for an LSTM's few parameter tensors.
    optimizer_params : dict or None, default=None
        Further keyword arguments for the optimizer, e.g. ``{"momentum": 0.9}`` (to
        ``set_params`` and searches: ``optimizer_params__momentum``); ``{"fused": False}``
        or a ``foreach`` value turns the fused default off (``foreach`` and ``fused``
        must be True, False or None). Keys must be arguments of the optimizer.
        ``"lr"`` is refused: the learning rate is the ``lr`` parameter, which
        ``lr_scaling``, ``warmup_epochs`` and ``lr_`` start from; so is
        ``maximize=True`` (each step would raise the loss the fit lowers).
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
        samples steps like one of 48 and is scaled as one. With a
        ``BatchSizeSchedule`` callback, the effective batch the fit starts with
        (the schedule's later batches keep ``lr_``; ``effective_batch_size_`` is
        the last). Without it, comparing batch sizes also compares step sizes.
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
"""

#: Device, threads, seeds, logging, callbacks, checkpoints, memory, precision.
RUNTIME = """\
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
        ``clone``. torch's global random state is left untouched. A numpy
        ``Generator`` is refused, as by scikit-learn: pass a seed drawn from it.
    verbose : int, default=0
        1 prints skorch's per-epoch table and a progress bar over each epoch's
        batches (tqdm, with elapsed time and an estimate of what is left). At any
        ``verbose``, a fit logs how far it is (epoch, elapsed seconds, training
        loss; within an epoch longer than a minute, its batch) to the ``"sklstm"``
        logger at INFO level once a minute: see it with
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
        further; below the epochs the directory holds, the fit is refused. Use one
        directory per fit (not inside a search).
    max_memory : int, str or None, default=None
        Memory budget of the fit, in bytes or as a string such as ``"2GiB"`` or
        ``"512MB"``. It is measured as ``peak_memory_`` is (the fit's resident-set
        growth on the CPU, torch's allocator on CUDA), and checked after every
        micro-batch. On CUDA it is also torch's cap on the allocator for the length
        of the fit (``torch.cuda.set_per_process_memory_fraction``, restored
        afterwards): a step that would need more fails at its allocation, inside
        the budget, and is shrunk (``on_oom``); a budget larger than the device is
        refused. On the CPU a budget above what the OS has available is accepted,
        but ``batch_size="auto"`` and the check of the network's size before
        training (weights, gradients and optimizer state) keep within what is
        available. None: no budget on the CPU (``batch_size="auto"`` then
        searches against the memory the OS has available), the device's free
        memory on CUDA (checked, not capped).
    on_oom : {"shrink", "raise"}, default="shrink"
        What a step that runs out of memory (CUDA out-of-memory, or over
        ``max_memory``) does. ``"shrink"`` redoes it with half the micro-batch and
        twice the accumulation steps, as often as needed, so the effective batch,
        the updates and the learning dynamics stay those of the fit as asked;
        a ``MicroBatchShrunkWarning`` says so and ``batch_size_`` /
        ``accumulation_steps_`` record the result. ``"raise"`` raises
        ``MemoryBudgetError`` (as does ``"shrink"`` at a micro-batch of 1, or when
        the optimizer's own update ran out of memory, which a smaller batch does not
        help); the estimator is left unfitted.
    precision : {"32", "bf16", "16-mixed"}, default="32"
        Arithmetic of the forward pass. ``"bf16"`` runs it under torch's autocast
        in bfloat16, the LSTM by sklstm's own cast to bfloat16 (autocast would run
        cuDNN's LSTM in float16); on the CPU, and on CUDA GPUs with bfloat16
        arithmetic (compute capability 8.0 or later) where torch has a bfloat16
        LSTM kernel: elsewhere it is refused before training.
        ``"16-mixed"`` in float16 with a gradient scaler (CUDA only). Weights,
        gradients, their accumulation and the optimizer stay float32.
"""
