"""Parameter docs of the network: its size, its readout, token input, the branches
beside the LSTM (shared by LSTMClassifier and LSTMRegressor, put together in
:mod:`._docs`)."""

#: The LSTM and what its output layer reads.
NETWORK = """\
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
"""

#: Token-id input.
TOKENS = """\
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
        real tokens take the other ids (``fit`` warns where it sits between two
        tokens of a sequence: ids counted from 0, whose token 0 would be lost). None:
        no id is padding. Only used with ``embedding_dim``.
"""

#: The convolutional branch, the linear highway, the level split.
BRANCHES = """\
    conv_channels : int, sequence of int, "auto" or None, default={conv_channels}
        A convolutional branch beside the LSTM (LSTM-FCN, Karim et al. 2017):
        one block of a 1-D convolution, batch normalization and ReLU per entry,
        with that many channels, averaged over each sequence's own steps; the
        output layer reads the LSTM's readout and these channels joined. For
        classes that are a shape (a bump, a motif) more than an order of events.
        An int ``k`` is the paper's shape ``(k, 2k, k)`` (the paper: 128), and is
        what a search space lists; None has no branch. ``"auto"``
        (``LSTMClassifier``'s default) is ``(64, 128, 64)`` for numeric input: a
        kernel longer than a short sequence reads zeros past its ends (a branch
        named with channels refuses such kernels instead), and sequences of one
        step get no branch. Token ids get none: on the sentences of
        :func:`~sklstm.datasets.make_token_sentiment` the branch made the fit
        3-4x slower for a held-out accuracy of 0.82 and 0.97 against 0.95 and 1.00
        without it (two settings, means of three seeds;
        benchmarks/bench_token_conv.py); named channels build it. ``conv_channels_``
        is the branch chosen. ``LSTMRegressor``'s default is None (on the benchmark's
        regressions and forecast the branch cost up to 2.5 points of R^2). With
        ``accumulation_steps > 1`` (or a micro-batch halved by an out-of-memory
        recovery) batch normalization takes its statistics per micro-batch (the
        gradients still add up over the effective batch), so ``batch_size=16,
        accumulation_steps=4`` is another fit than ``batch_size=64`` (after 10
        epochs on 128 series: held-out probabilities up to 0.39 apart, accuracy
        0.92-0.93 against 0.69-0.75 on shapes at any position;
        benchmarks/bench_conv_accumulation.py). Set ``conv_channels=None`` where
        they must be one fit (they then agree to 1e-8).
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
