"""A :class:`~sklstm.data.store.SequenceStore` opened before its first write has put it
in place: told from a path where no store was ever written.

:meth:`SequenceStore.write <sklstm.data.store.SequenceStore.write>` and
:func:`~sklstm.data.store_csv.csv_to_store` write into a hidden temporary directory
beside the store's path, named after the writer's machine and process
(:func:`~sklstm._durable_files.temporary_path`), and rename it into place once whole.
Opened meanwhile, the store was "not a sequence store ... write one with
SequenceStore.write": a second write of data that were being written. Those temporary
directories say which process writes the store, and whether it still runs.
"""

from __future__ import annotations

from .._durable_files import LEFTOVER_AGE_S, temporary_writers

__all__ = ["CSV_TMP", "STORE_TMP", "pending_write_error"]

#: The kinds of temporary directories a store is written in (the writers name theirs
#: with these: a kind written under another name would be no pending write here).
STORE_TMP, CSV_TMP = "store-tmp", "csv-tmp"

#: What writes each kind.
_WRITERS = {STORE_TMP: "SequenceStore.write", CSV_TMP: "csv_to_store"}

#: Which writer a message names when there are several: one running, then one that
#: cannot be asked for (another machine's), then a killed one's leftover.
_FIRST = {True: 0, None: 1, False: 2}


def pending_write_error(path):
    """The error for opening ``path``, where no store is, while a write of it is under
    way or after one was killed; None where no write of it left a temporary directory.

    A writer is in progress if its process runs on this machine (``os.kill(pid, 0)``);
    one of another machine sharing the directory possibly is (its process cannot be
    asked for); one of an ended process of this machine was killed (SIGKILL, the OOM
    killer: nothing removed its directory).

    Parameters
    ----------
    path : str
        The store's directory, absolute.

    Returns
    -------
    FileNotFoundError or None
        The error to raise.
    """
    found = [(writer, how) for kind, how in _WRITERS.items()
             for writer in temporary_writers(path, kind)]
    if not found:
        return None
    (tmp, host, pid, running), how = min(found, key=lambda item: _FIRST[item[0][3]])
    if running:
        return FileNotFoundError(
            f"{path!r} is not a sequence store yet: a write of it is in progress "
            f"({how}, by process {pid} on this machine, {host}, into {tmp!r}). Wait for "
            "that write to finish, then open the store again.")
    if running is None:
        return FileNotFoundError(
            f"{path!r} is not a sequence store yet: a write of it is possibly in "
            f"progress ({how}, by process {pid} on host {host!r}, into {tmp!r}; this "
            "machine cannot ask whether that process still runs). Wait for that write to "
            "finish, then open the store again; if it was killed, remove "
            f"{tmp!r} and write the store again.")
    others = sum(writer[3] is False for writer, _ in found) - 1
    return FileNotFoundError(
        f"{path!r} is not a sequence store: a write of it was killed before it "
        f"finished ({how}, by process {pid} on this machine, {host}, which has ended), "
        f"leaving {tmp!r}{f' and {others} more' if others else ''}: the leftover of a "
        f"killed write, not a store. Write the store again with {how}; a successful "
        f"write of this path removes leftovers untouched for {LEFTOVER_AGE_S // 60} "
        f"minutes, or remove them now (rm -r {tmp!r}).")
