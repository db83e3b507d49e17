"""A :class:`~sklstm.data.store.SequenceStore` overwrite killed between its two renames,
finished by the next open or write of the store (:func:`finish_replace`).

``SequenceStore.write(path, ..., overwrite=True)`` writes the new store whole into its
temporary directory (:func:`~sklstm._durable_files.temporary_path`), renames the store
at ``path`` aside to that name plus :data:`OLD`, renames the new one to ``path``, then
removes the old one (:func:`remove_replaced`). A kill in between (SIGKILL, the OOM
killer, a power cut) left no store at ``path``: opening it called the whole new store
"the leftover of a killed write" and advised removing it, while the old store stayed
hidden beside it for good (no write removed a ``.old``), a store's size each time.
"""

from __future__ import annotations

import contextlib
import os
import shutil

from .._durable_files import replace_synced, sync_directory, temporary_writers
from .store_pending import STORE_TMP

__all__ = ["OLD", "finish_replace", "remove_replaced"]

#: What the temporary directory's name gets for the store it replaces, while replaced.
OLD = ".old"


def remove_replaced(old):
    """Remove the store renamed aside to ``old``, once the new one is in place: best
    effort (the write succeeded), a link to a store as a link (its store kept; rmtree
    refuses links, and ``ignore_errors`` left it hidden for good)."""
    if os.path.islink(old):
        with contextlib.suppress(OSError):
            os.remove(old)
    else:
        shutil.rmtree(old, ignore_errors=True)


def finish_replace(path, last_file):
    """Put a store back at ``path`` where a killed overwrite left none.

    Where nothing is at ``path`` and a writer of it that has ended on this machine left
    both its temporary directory and the store it renamed aside (``<tmp>.old``): the new
    store, whole when it holds ``last_file`` (a write makes it last, by rename), is
    renamed into place and the old one removed, as the write would have done; a new
    store that is not whole (no ``last_file``: never so from a write of this sklstm)
    gives the old store back instead. Writers that still run (this process's other
    threads included) or of other machines are left alone: theirs are renames under way.
    Two processes finishing one store at once: the second finds it done (its renames
    fail and are ignored).

    Parameters
    ----------
    path : str
        The store's directory, absolute.
    last_file : str
        The name of the file a store's write makes last (its metadata).

    Returns
    -------
    bool
        Whether a store was put back at ``path``.
    """
    if os.path.lexists(path):  # (the usual case: one stat)
        return False
    for tmp, _, _, running in temporary_writers(path, STORE_TMP):
        old = tmp + OLD
        if running is not False or not os.path.lexists(old):
            continue
        with contextlib.suppress(OSError):  # (finished by another process meanwhile)
            if os.path.isfile(os.path.join(tmp, last_file)):
                replace_synced(tmp, path)
                remove_replaced(old)
            else:
                os.replace(old, path)
                sync_directory(os.path.dirname(path), best_effort=True)
        return os.path.lexists(path)
    return False
