"""SequenceStore: sequence data that stays on disk and is read by the batches that use it.

Why this exists: an estimator given a list of arrays, or an array it must convert,
holds all of it in memory before the first batch (2-3 million token sequences are
tens of GiB). A :class:`SequenceStore` is opened lazily (the operating system pages
in what a batch reads, as file-backed memory it can drop again), and its indexing
returns *views* (an index array, never a copy of the data), which is what
scikit-learn's fold indexing needs for k folds to cost no k copies.

Two layouts behind one interface:

* **ragged** (:meth:`SequenceStore.write`, :meth:`SequenceStore.open`): one flat array
  of every timestep and the offsets where each sequence starts, in a directory
  (:mod:`~sklstm.data.store_files` writes and reads it; opening never runs code).
* **dense** (:meth:`SequenceStore.from_array`): a 2D ``(n_samples, n_timesteps)`` or
  3D ``(n_samples, n_timesteps, n_features)`` array, typically memory-mapped
  (``np.load(path, mmap_mode="r")``, ``np.memmap``); nothing is read when wrapping.

Values keep the dtype they were stored in (int32 token ids stay int32) until a batch
converts them.
"""

from __future__ import annotations

import numpy as np

from .store_files import empty_sequences_error, read_files, write_files
from .store_layout import check_offsets, number_dtype
from .store_origin import (
    check_mapped,
    check_unchanged,
    copy_on_write,
    memmap_origin,
    open_again,
    open_memmap_origin,
    read_unchanged,
)
from .store_paths import given_path
from .store_positions import byte_chunks, checked_positions, chunk_bytes, key_positions
from .store_reading import StoreReading, float_dtype

__all__ = ["SequenceStore"]

#: Bytes one streaming pass (validation, statistics) reads at a time, as 8-byte numbers.
CHUNK_BYTES = 8 * 2**20
#: Bytes of Python objects reading one ragged sequence makes beyond its values (its view,
#: its start and end as ints: ~250, measured), counted by :meth:`SequenceStore.chunks`.
SEQUENCE_READ_BYTES = 256


class SequenceStore(StoreReading):
    """Sequences read on demand from a file: ragged (flat values + offsets) or dense.

    Make one with :meth:`write` and :meth:`open` (ragged data, token ids), or
    :meth:`from_array` (a memory-mapped 2D/3D array). Pass it as ``X`` to
    :class:`~sklstm.LSTMClassifier`, :class:`~sklstm.LSTMRegressor` and
    :class:`~sklstm.preprocessing.SequenceScaler` (also inside a Pipeline, a
    scikit-learn search or :func:`sklstm.search.tune`): they read only the batches
    they train on or predict.

    Indexing follows numpy along the sample axis: ``store[i]`` reads sequence ``i``
    (an array), ``store[key]`` with a slice, integer array or boolean mask returns a
    view (a new store sharing the file, holding only an index array).

    Parameters
    ----------
    values : ndarray
        Ragged: every timestep, ``(n_steps,)`` or ``(n_steps, n_features)``; dense:
        ``(n_samples, n_timesteps)`` or ``(n_samples, n_timesteps, n_features)``.
    offsets : ndarray of int64 or None, default=None
        Ragged layout: ``n_samples + 1`` start offsets into ``values``; None for dense.
    index : array-like of int or None, default=None
        The samples of the underlying data this view holds (None: all, in order),
        checked as ``store[index]`` checks them: negative positions count from the end,
        one beyond either end is an IndexError.
    maps : tuple of callable, default=()
        Functions applied, in order, to every sequence read as float values with the
        features on the last axis (what :meth:`map` adds).
    origin : tuple or None, default=None
        How to reopen the data after pickling without copying it (set by
        :meth:`open` and :meth:`from_array`).

    Attributes
    ----------
    lengths : ndarray of int64 of shape (n_samples,)
        Timesteps of every sequence.
    n_features : int
        Features per timestep (1 for 1D sequences and 2D dense data).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from sklstm.data import SequenceStore
    >>> path = tempfile.mkdtemp() + "/ids"
    >>> store = SequenceStore.write(path, [np.array([3, 1, 4], np.int32), np.array([1, 5])])
    >>> len(store), store.dtype, store.lengths.tolist()
    (2, dtype('int32'), [3, 2])
    >>> store[1]
    array([1, 5], dtype=int32)
    >>> fold = store[[1]]                     # a view: no data copied
    >>> type(fold).__name__, len(fold)
    ('SequenceStore', 1)
    """

    def __init__(self, values, offsets=None, *, index=None, maps=(), origin=None):
        # a plain ndarray view of a memmap: each sequence read is then a bare view
        # (~100 bytes), not a memmap object carrying the file's bookkeeping (~250)
        self._values = values.view(np.ndarray) if isinstance(values, np.memmap) else values
        self._offsets = None if offsets is None else np.asarray(offsets, dtype=np.int64)
        if offsets is not None and origin is None:  # made by hand: open() checked its own
            check_offsets(self._values, offsets)
        if index is not None:  # as a view's key: a negative one read offsets[-1]:offsets[0]
            n = len(self._values) if offsets is None else len(self._offsets) - 1
            index = checked_positions(key_positions(np.asarray(index), n), n)
        self._index = index
        self._maps = tuple(maps)
        self._origin = origin

    # -- making and opening -----------------------------------------------------
    @classmethod
    def write(cls, path, sequences, *, dtype=None, overwrite=False):
        """Write sequences to a new store directory, one at a time; return it opened.

        Sequences are appended as they come, so ``sequences`` may be a generator over
        data that never fit in memory. The directory appears only when complete (it
        is written under a temporary name and renamed).

        Parameters
        ----------
        path : str, bytes or os.PathLike
            The store's directory (a leading ``~`` is the home directory); must
            not exist unless ``overwrite``.
        sequences : iterable of array-like
            1D arrays (token ids, univariate values) or 2D ``(n_timesteps_i,
            n_features)`` arrays, all of the same ``ndim`` and feature count; a dense
            array is written row by row.
        dtype : dtype or None, default=None
            Stored dtype, a boolean, integer or float one; None keeps the first
            sequence's (int32 ids stay int32).
        overwrite : bool, default=False
            Replace an existing store at ``path`` (only a store: a file there, or a
            directory holding other files, is refused with a FileExistsError).

        Returns
        -------
        SequenceStore
            The store, opened lazily.

        Raises
        ------
        FileExistsError
            ``path`` exists and ``overwrite`` is False, or it is no store.
        ValueError
            No sequence, an empty one, one of another trailing shape or other columns
            (DataFrames), or values that ``dtype`` would change (fractions as integers,
            values beyond its range, which a narrower float would store as infinity,
            integers a float dtype does not hold exactly: 2049 in float16).
        PermissionError
            ``path``'s directory is not writable, or (``overwrite``) the store there is.
        """
        write_files(path, sequences, dtype=dtype, overwrite=overwrite)
        return cls.open(path)

    @classmethod
    def open(cls, path):
        """Open a store written by :meth:`write`; nothing but the offsets is read.

        What is read is checked first (the metadata, the offsets in full, the size of
        ``values.bin``), so a damaged store is refused here, not by a fit.

        Parameters
        ----------
        path : str, bytes or os.PathLike
            The store's directory (a leading ``~`` is the home directory).

        Returns
        -------
        SequenceStore
            The store, its values mapped from ``values.bin``.

        Raises
        ------
        FileNotFoundError
            ``path`` is not a store: not yet, if a write of it is in progress, which the
            error names (or a killed write's leftover).
        ValueError
            A store of another format or version, a damaged one (a file truncated or
            edited; the error names it), or one replaced each time it was read.
        PermissionError
            A file of the store this process may not read.
        """
        where = given_path(path, "open the store")  # (bytes, ~; absolute: found after chdir)
        # the files' stamp: a pickled view reopens the path only if they are these files
        (values, offsets), stamp = read_unchanged(lambda: read_files(where), where)
        return cls(values, offsets, origin=("store", where, stamp))

    @classmethod
    def from_array(cls, X):
        """Wrap a dense 2D or 3D array (memory-mapped, typically) without reading it.

        Parameters
        ----------
        X : ndarray or numpy.memmap
            ``(n_samples, n_timesteps)`` univariate sequences or token ids, or
            ``(n_samples, n_timesteps, n_features)``.

        Returns
        -------
        SequenceStore
            ``X`` as a dense store (no copy).

        Raises
        ------
        ValueError
            ``X`` is not 2D or 3D, has no timestep or no feature, or holds no numbers
            (an object or string dtype: a store holds booleans, integers or floats).

        Examples
        --------
        >>> import numpy as np
        >>> from sklstm.data import SequenceStore
        >>> SequenceStore.from_array(np.zeros((4, 10, 3), np.float32)).shape
        (4, 10, 3)
        """
        if isinstance(X, SequenceStore):
            return X
        if not isinstance(X, np.ndarray) or X.ndim not in (2, 3):
            raise ValueError(
                f"SequenceStore.from_array takes a 2D or 3D numpy array (or memmap); got "
                f"{type(X).__name__} with shape {getattr(X, 'shape', None)}. Write ragged "
                "data with SequenceStore.write.")
        if 0 in X.shape[1:]:  # checked here: no batch of it could reach the network
            raise empty_sequences_error("X", X.shape, dense_2d=X.ndim == 2)
        number_dtype(X.dtype)  # as in a store's files: objects and strings are no numbers
        return cls(X, origin=memmap_origin(X))

    # -- what it holds ------------------------------------------------------------
    @property
    def ragged(self):
        """Whether sequences may differ in length (the flat-values layout)."""
        return self._offsets is not None

    @property
    def dtype(self):
        """The stored dtype (float64 for a view with :meth:`map` functions on ints)."""
        return float_dtype(self._values.dtype) if self._maps else self._values.dtype

    @property
    def sequence_ndim(self):
        """Dimensions of one sequence: 1 (ids, univariate values) or 2."""
        return self._values.ndim - (0 if self.ragged else 1)

    @property
    def n_features(self):
        """Features per timestep (1 for 1D sequences)."""
        return 1 if self.sequence_ndim == 1 else int(self._values.shape[-1])

    @property
    def shape(self):
        """``(n_samples,)`` for ragged data, the array's shape for dense data."""
        return (len(self),) + (() if self.ragged else tuple(self._values.shape[1:]))

    @property
    def ndim(self):
        """``len(self.shape)``."""
        return len(self.shape)

    @property
    def nbytes(self):
        """Bytes of stored values this view's sequences hold."""
        return int(self.lengths.sum()) * self.n_features * self._values.dtype.itemsize

    @property
    def lengths(self):
        """Timesteps of every sequence (int64)."""
        if not self.ragged:
            return np.full(len(self), self._values.shape[1], dtype=np.int64)
        check_mapped(self._origin, self._offsets)  # (the offsets are mapped too)
        if self._index is None:
            return np.diff(self._offsets)
        # the view's own: np.diff of all offsets was 8 bytes per stored sequence, for
        # every pass over (or prediction of) a few sequences of a large store
        return self._offsets[self._index + 1] - self._offsets[self._index]

    def __len__(self):
        if self._index is not None:
            return len(self._index)
        return len(self._offsets) - 1 if self.ragged else len(self._values)

    def __repr__(self):
        kind = "ragged" if self.ragged else f"dense {self.shape}"
        n = len(self)
        return (f"SequenceStore({n} sequence{'' if n == 1 else 's'}, {kind}, {self.dtype}"
                f"{', mapped' if self._maps else ''})")

    # -- indexing: views --------------------------------------------------------
    def _base_positions(self, positions):
        """Positions of this view as positions of the underlying data."""
        check_mapped(self._origin, self._values, self._offsets)  # (what is read next)
        positions = checked_positions(positions, len(self))
        return positions if self._index is None else self._index[positions]

    def __getitem__(self, key):
        positions = key_positions(key, len(self))
        if isinstance(positions, int):
            return self.read([positions])[0]
        return self._view(index=self._base_positions(positions))

    def _view(self, *, index=None, maps=None):  # (no __init__: the arrays were checked)
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        if index is not None:
            view._index = np.asarray(index, dtype=np.int64)
        if maps is not None:
            view._maps = tuple(maps)
        return view

    # -- reading in chunks -------------------------------------------------------
    def chunks(self, max_bytes=None):
        """Read the whole view in order, a chunk of sequences at a time.

        For streaming passes (validation, statistics): memory stays at one chunk.

        Parameters
        ----------
        max_bytes : int or None, default=None
            Bytes a chunk's values hold at most, each counted as 8 bytes at least (but
            one sequence at least, however long); None is :data:`CHUNK_BYTES`.

        Yields
        ------
        start : int
            Position of the chunk's first sequence.
        data : ndarray or list of ndarray
            What :meth:`read` returns for the chunk.
        """
        # a ragged chunk is a list of arrays: cut by bytes alone, a pass over a million one-step
        # float32 sequences (3.8 MiB) held 252 MiB (bench_store_passes.py's one-step case)
        most = chunk_bytes(max_bytes, CHUNK_BYTES, "SequenceStore.chunks") // SEQUENCE_READ_BYTES
        for part in self.chunk_slices(max_bytes):
            step = max(1, most) if self.ragged else part.stop - part.start
            for start in range(part.start, part.stop, step):
                yield start, self.read(np.arange(start, min(start + step, part.stop)))

    def chunk_slices(self, max_bytes=None):
        """Slices of the values' bytes, without reading (:meth:`chunks` reads them, in
        more parts for many short ragged sequences).

        Parameters
        ----------
        max_bytes : int or None, default=None
            As for :meth:`chunks`.

        Yields
        ------
        slice
            Consecutive positions of this view, ``step`` None.

        Examples
        --------
        >>> import numpy as np
        >>> from sklstm.data import SequenceStore
        >>> store = SequenceStore.from_array(np.zeros((5, 3), dtype=np.int8))
        >>> list(store.chunk_slices(max_bytes=48))
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
        """
        max_bytes = chunk_bytes(max_bytes, CHUNK_BYTES, "SequenceStore.chunk_slices")
        # as the int64/float64 a pass computes in (as stored: 8x as many uint8 ids a chunk)
        step_bytes = self.n_features * max(self._values.dtype.itemsize, 8)
        yield from byte_chunks(self.lengths * step_bytes, max_bytes)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A SequenceStore is read by batches; converting it to one array would read "
            "all of it into memory. Call store.load() if that is what you want, or pass the "
            "store to an sklstm estimator (or SequenceScaler), which streams it.")

    # -- pickling: by reference to the file ---------------------------------------
    def __reduce__(self):
        if self._origin is None:  # an in-memory array: pickled with its data
            values = np.array(self._values) if copy_on_write(self._values) else self._values
            return (type(self), (values, self._offsets),
                    {"_index": self._index, "_maps": self._maps})
        return (_reopen, (self._origin,), {"_index": self._index, "_maps": self._maps})

    def __setstate__(self, state):
        self.__dict__.update(state)


def _reopen(origin):
    """The store (or dense memmap) ``origin`` names, opened again; a ValueError if its files
    changed since it was first opened (the pickled index would read other data)."""
    if origin[0] == "store":
        path, *stamp = origin[1:]  # (pickles of older sklstm: no stamp)
        store = open_again(SequenceStore.open, path)
        check_unchanged(path, stamp[0] if stamp else None, store._origin[2])
        return store
    return SequenceStore(open_memmap_origin(origin), origin=origin)
