"""Reading a :class:`~sklstm.data.store.SequenceStore`'s sequences: :class:`StoreReading`,
the store's methods that read the values a view holds (whole sequences, or the kept
steps of a batch in one gather) and pass them through its :meth:`~StoreReading.map`
functions. The layout, views and pickling are :mod:`sklstm.data.store`'s."""

from __future__ import annotations

import numpy as np

from .steps import keep_steps, step_positions

__all__ = ["StoreReading", "float_dtype"]


class StoreReading:
    """Mixin of :class:`~sklstm.data.store.SequenceStore`: its reads. Uses the store's
    ``_values``, ``_offsets``, ``_maps``, ``ragged``, ``_base_positions``, ``_view`` and
    ``chunks``."""

    def map(self, func):
        """A view whose sequences are ``func(sequence)`` when read.

        Parameters
        ----------
        func : callable
            Takes and returns a float array of one shape, with the features on the
            last axis: one whole sequence ``(n_timesteps, n_features)`` of a ragged
            store (before ``seq_len`` cuts it), or a batch of sequences ``(n_samples,
            n_timesteps, n_features)`` of a dense one; it may change its argument in
            place (it gets a copy). Another shape is a ValueError when read: the
            store's lengths and features are the stored data's. Pickled with the
            store, so a module-level function or :func:`functools.partial` of one
            travels to the worker processes of a parallel search.

        Returns
        -------
        SequenceStore
            A view of the same sequences, read through ``func``.
        """
        return self._view(maps=(*self._maps, func))

    def read(self, positions):
        """The sequences at ``positions`` of this view, read from the file.

        Parameters
        ----------
        positions : array-like of int
            Positions in this view.

        Returns
        -------
        ndarray or list of ndarray
            Dense: one array ``(len(positions), ...)``; ragged: one array per sequence
            (views of the file's pages unless :meth:`map` functions made copies).
        """
        base = self._base_positions(positions)
        if not self.ragged:
            return self._mapped(self._values[base], batched=True)
        starts, ends = self._offsets[base], self._offsets[base + 1]
        seqs = [self._values[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]
        return [self._mapped(seq, batched=False) for seq in seqs] if self._maps else seqs

    def __iter__(self):
        for _, chunk in self.chunks():
            yield from chunk

    def load(self):
        """Everything in memory: a dense array, or a list of arrays for ragged data.

        Returns
        -------
        ndarray or list of ndarray
            A dense view's array, or one array per sequence.
        """
        if not self.ragged:
            return self.read(np.arange(len(self)))
        return [np.array(seq) for seq in self]

    def read_steps(self, positions, n_steps=None, keep="last"):
        """At most ``n_steps`` timesteps of each sequence at ``positions``, gathered
        in one read: ``(steps, counts)``.

        What a padded batch of a ragged store needs, without a Python loop over its
        sequences: the timesteps kept of every sequence, one after the other, and how
        many each has. One gather from the file (numpy's, which releases the GIL)
        costs a fraction of slicing every sequence one by one.

        Parameters
        ----------
        positions : array-like of int
            Positions in this view.
        n_steps : int or None, default=None
            Timesteps kept of each sequence; None keeps all.
        keep : {"last", "first"}, default="last"
            Which timesteps ``n_steps`` keeps.

        Returns
        -------
        steps : ndarray
            ``(counts.sum(),)`` or ``(counts.sum(), n_features)``, of the sequences as
            :meth:`read` gives them: the :meth:`map` functions applied to each whole
            sequence before it is cut to ``n_steps``.
        counts : ndarray of int64
            Timesteps of each sequence in ``steps``.
        """
        if not self.ragged:
            raise TypeError("read_steps reads a ragged store; read a dense one with read().")
        _check_steps_kept(n_steps, keep)
        if self._maps:
            # a map is given a sequence (map's contract): applied to the kept steps of
            # several sequences one after the other, a function of the whole sequence (its
            # mean, say) read the batch's steps, and a fit another model than store[i] gives
            seqs = [keep_steps(seq, n_steps, keep) for seq in self.read(positions)]
            counts = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
            if not seqs:
                return np.empty((0, *self._values.shape[1:]), self.dtype), counts
            return np.concatenate(seqs), counts
        base = self._base_positions(positions)
        starts, ends = self._offsets[base], self._offsets[base + 1]
        if n_steps is not None:
            if keep == "last":
                starts = np.maximum(starts, ends - n_steps)
            else:
                ends = np.minimum(ends, starts + n_steps)
        counts = ends - starts
        # the flat index of every kept step: its sequence's start plus its position
        return self._values[np.repeat(starts, counts) + step_positions(counts)], counts

    def _mapped(self, values, batched):
        if not self._maps:
            return values
        values = np.array(values, dtype=float_dtype(values.dtype))  # a copy: maps may write
        flat = values.ndim == (2 if batched else 1)  # no feature axis: give it one
        out = values[..., None] if flat else values
        for func in self._maps:
            shape, out = out.shape, func(out)
            if getattr(out, "shape", None) != shape:
                # the store's lengths and n_features are the stored data's: a fit would
                # pad a shortened sequence as if it were whole, or fail in numpy's words
                raise ValueError(
                    f"SequenceStore.map: {getattr(func, '__name__', repr(func))} returned "
                    f"{getattr(out, 'shape', type(out).__name__)} for values of shape "
                    f"{shape}; a map keeps the shape (a value for every value read). To "
                    "change lengths or features, write the new sequences to a store: "
                    "SequenceStore.write(path, (func(seq) for seq in store)).")
        return out[..., 0] if flat else out


def _check_steps_kept(n_steps, keep):
    """A ValueError unless ``n_steps`` and ``keep`` are what :meth:`StoreReading.read_steps`
    takes: any other ``keep`` read the first steps, and 0 steps read none here but every
    step of a mapped view (``seq[-0:]``), a negative number numpy's words."""
    if keep not in ("last", "first"):
        raise ValueError(f"keep={keep!r} is not one of 'last', 'first' (the timesteps "
                         "n_steps keeps of each sequence).")
    if n_steps is not None and not (isinstance(n_steps, (int, np.integer))
                                    and not isinstance(n_steps, bool) and n_steps > 0):
        raise ValueError(f"n_steps={n_steps!r} is no positive integer; pass the timesteps "
                         "kept of each sequence, or None to keep them all.")


def float_dtype(dtype):
    """The dtype :meth:`StoreReading.map` functions are given: float16, float32 and
    float64 stay (a store's values keep their dtype, as in-memory floats do through
    SequenceScaler: float16 values were scaled to float64 from a store only); other
    numbers (ints, booleans, long doubles) are read as float64."""
    return dtype if dtype in (np.float16, np.float32, np.float64) else np.dtype(np.float64)
