"""The values a :class:`~sklstm.data.store.SequenceStore` writes, as its stored dtype:
a cast that would change them (fractions to integers, ids beyond the dtype's range,
integers a float does not hold exactly, finite values a narrower float makes infinite)
is refused, naming the sequence and the dtype to store instead
(:func:`stored_values`; :mod:`~sklstm.data.store_files` writes what it returns)."""

from __future__ import annotations

import numpy as np

__all__ = ["stored_values"]


def stored_values(seq, dtype, i):
    """``seq`` as the C-ordered ``dtype`` array written, refusing a cast that would
    change values: floats to ints, ids beyond the dtype, integers a float rounds (2049
    in float16), finite values that become infinite in a narrower float (1e5 in
    float16, 1e39 in float32). Real values rounding to a narrower float is no change
    refused: float32 features are a normal choice."""
    # integers to any integer dtype: the range check below decides (numpy's "same_kind"
    # refuses int64 to uint16, the usual way of storing ids below 65,536 compactly)
    integers = seq.dtype.kind in "biu" and dtype.kind in "iu"
    if not (integers or np.can_cast(seq.dtype, dtype, casting="same_kind")):
        raise ValueError(f"Sequence {i} has dtype {seq.dtype}, which cannot be stored as "
                         f"{dtype} without changing values; round or cast it first.")
    if dtype.kind in "iu" and seq.size:
        info = np.iinfo(dtype)
        if seq.min() < info.min or seq.max() > info.max:
            raise ValueError(f"Sequence {i} holds values in [{seq.min()}, {seq.max()}], "
                             f"beyond {dtype}'s range [{info.min}, {info.max}]; store a "
                             "wider dtype.")
    with np.errstate(over="ignore"):  # an overflow is refused below, in words
        out = np.ascontiguousarray(seq, dtype=dtype)
    if dtype.kind == "f" and seq.dtype != dtype:
        # (infinity and NaN of the input stay theirs: a fit names them)
        overflowed = np.isinf(out) & np.isfinite(seq)
        if overflowed.any():
            raise ValueError(f"Sequence {i} holds {seq[overflowed][0]}, beyond {dtype}'s "
                             f"range (+-{np.finfo(dtype).max:.5g}); store a wider dtype.")
        if seq.dtype.kind in "iu":
            _check_exact_integers(seq, out, i)
    return out


def _check_exact_integers(seq, out, i):
    """Refuse integers (token ids) that the float array ``out`` does not hold exactly:
    a float keeps every integer only up to ``2**(nmant + 1)`` (2048 in float16, 2**24
    in float32, 2**53 in float64); beyond, 2049 is stored as 2048, another token."""
    # (by hand: numpy checks casts by dtype only, and "same_kind" lets int64 to float16 by)
    exact = 2 ** (np.finfo(out.dtype).nmant + 1)
    low, high = int(seq.min()), int(seq.max())  # (Python ints: exact comparisons)
    if -exact <= low and high <= exact:  # the usual case: no other pass over seq
        return
    with np.errstate(invalid="ignore"):  # (a float beyond seq's dtype: masked below)
        changed = out.astype(seq.dtype) != seq
    # a float at 2**63 or above (int64's largest rounded up) has no int64 to compare
    # with: numpy's cast there is the platform's, and it is no value of seq anyway
    changed |= out >= np.float64(2.0 ** (8 * seq.itemsize - (seq.dtype.kind == "i")))
    if changed.any():
        big = max(-low, high)
        wider = [f"a wider dtype ({f.dtype}, exact up to {2 ** (f.nmant + 1):,}) or " for f in
                 map(np.finfo, (np.float32, np.float64))
                 if f.bits > 8 * out.itemsize and big <= 2 ** (f.nmant + 1)][:1]
        raise ValueError(
            f"Sequence {i} holds {seq[changed][0]}, which {out.dtype} stores as "
            f"{out[changed][0]} ({int(changed.sum())} value(s) changed): {out.dtype} "
            f"holds every integer exactly only up to {exact:,}. Store "
            f"{''.join(wider)}an integer dtype ({seq.dtype}, as given).")
