"""The model file: one safetensors file, its JSON header, its checksum.

Layout (``FORMAT_VERSION`` 1)::

    safetensors header
        __metadata__ = {"format": "sklstm-model",
                        "sklstm": <JSON header: versions, class, params, attributes, history>,
                        "sha256": <digest of the JSON header and of every tensor>}
    tensors
        "module.<name>"   the torch module's state_dict (float32)
        "attr.<name>..."  numeric fitted arrays (classes_, target_mean_, ...)

Reading never unpickles and never imports anything the file names: safetensors parses
the binary layout (it refuses truncated files and oversized headers), ``json`` the
header. The checksum catches a file changed after it was written, by accident or by
hand (it is no signature: whoever can write the file can recompute it, which is
harmless since loading runs no code).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil

import numpy as np

from .._durable_files import flush, remove_leftovers, replace_synced, temporary_path
from .._version import __version__

__all__ = ["FORMAT", "FORMAT_VERSION", "MAX_HEADER_BYTES", "HeaderTooLarge", "read_model_file",
           "write_model_file"]

#: ``__metadata__["format"]`` of every sklstm model file.
FORMAT = "sklstm-model"

#: Version of the file layout this sklstm writes and reads. Raised (with a migration
#: from the previous version in :func:`read_model_file`) when the layout changes.
FORMAT_VERSION = 1


#: The largest header safetensors writes and reads (its ``MAX_HEADER_SIZE``, in bytes).
#: A larger one (the per-batch history of a long fit: about 1.2 million batches) failed
#: the save with safetensors' raw "header too large", naming neither the cause nor a fix.
MAX_HEADER_BYTES = 100_000_000


class HeaderTooLarge(ValueError):
    """The JSON header of a model would exceed :data:`MAX_HEADER_BYTES`."""


def _header_bytes(metadata, tensors):
    """At least the size of the header safetensors writes for ``metadata`` and
    ``tensors`` (its JSON, padded to 8 bytes), and at most a few bytes a tensor more:
    ``{"__metadata__":{...},"<key>":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},
    ...}``, each dtype counted at 4 letters, each offset at the digits of the largest.
    (Counted, as safetensors tells only by failing.)"""
    digits = len(str(sum(array.nbytes for array in tensors.values())))
    size = len(json.dumps({"__metadata__": metadata}, ensure_ascii=False,
                          separators=(",", ":")).encode())
    for key, array in tensors.items():
        entry = {key: {"dtype": "BOOL", "shape": list(array.shape), "data_offsets": [0, 0]}}
        size += len(json.dumps(entry, ensure_ascii=False, separators=(",", ":")).encode()) \
            - 1 + 2 * (digits - 1)  # (its braces less a comma; the offsets' digits)
    return size + 7


def _digest(text, tensors):
    h = hashlib.sha256(text.encode("utf-8"))
    for key in sorted(tensors):
        array = tensors[key]
        h.update(f"\0{key}\0{array.dtype.str}\0{array.shape}\0".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


def _little_endian(array):
    # (np.require, not np.ascontiguousarray: that makes a 0-d array 1-d, and batch
    # norm's 0-d step counter would come back with another shape)
    return np.require(np.asarray(array, dtype=array.dtype.newbyteorder("<")),
                      requirements="C")


def _model_path(path, action):
    """``path`` as a str, ``~`` expanded: as the CLI's storage paths, and so that a
    ``"~/models/m.safetensors"`` is not taken for a directory named ``~`` (whose
    creation the message then advised). ``action`` says what was asked, for the
    message that refuses anything but a path (``os.fsdecode``'s own named no argument,
    nor, for an open file, that its name is what is wanted)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        name = getattr(path, "name", None)
        fix = (f"pass the file's name ({name!r}), not the open file" if isinstance(name, str)
               else "give a file name such as 'model.safetensors'")
        raise TypeError(f"cannot {action}: path must be a str or os.PathLike, not "
                        f"{type(path).__name__}; {fix}.")
    return os.path.expanduser(os.fsdecode(path))


#: The kind of the temporary files of saves (:func:`~sklstm._durable_files.temporary_path`).
_TEMPORARY = "tmp"


def write_model_file(path, header, tensors):
    """Write ``header`` (JSON data) and ``tensors`` (name -> ndarray) to ``path``.

    The file is written next to ``path``, flushed to disk and renamed over it, and the
    rename flushed (best effort), so an interrupted save, or a crash of the system,
    leaves the previous file (or none), never a truncated one; the temporary file of a
    save killed on this machine is removed by the next save. It gets the permissions
    ``open`` gives a new file (the umask's), or those of the file it replaces. A
    symbolic link is written through; a device or a pipe is written into.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; a leading ``~`` is the home directory.
    header : dict
        JSON-serializable header (finite floats only).
    tensors : dict of str to ndarray
        Arrays of numeric dtype.

    Raises
    ------
    FileNotFoundError
        The directory ``path`` names does not exist (nothing is written).
    NotADirectoryError
        The directory ``path`` names is a file (nothing is written).
    TypeError
        ``path`` is not a str or os.PathLike (an open file, say).
    ValueError
        ``path`` is empty.
    HeaderTooLarge
        The header would exceed :data:`MAX_HEADER_BYTES` (nothing is written): a
        ``ValueError``.
    PermissionError
        ``path`` is a file that cannot be written (read-only): it is kept, as
        ``open(path, "wb")`` keeps it.
    OSError
        The file cannot be written there (a directory of that name, no permission).
    """
    from safetensors.numpy import save

    path = _model_path(path, "save the model")
    if not path:
        raise ValueError("cannot save the model to '': it names no file; give a file name "
                         "such as 'model.safetensors'.")
    # checked here: the errors of the write name the temporary file, not the user's path
    directory = os.path.dirname(path) or os.curdir
    if os.path.exists(directory) and not os.path.isdir(directory):
        # (it was "does not exist; create it first (os.makedirs)", which fails on it)
        raise NotADirectoryError(f"cannot save the model to {path!r}: {directory!r} is a "
                                 "file, not a directory; save into a directory.")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save the model to {path!r}: the directory "
                                f"{directory!r} does not exist; create it first "
                                "(os.makedirs) or save elsewhere.")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save the model to {path!r}: it is a directory; "
                                "give a file name such as 'model.safetensors'.")
    # refused as open(path, "wb") refuses it: renamed over, a model made read-only to
    # keep it was replaced, in silence, and kept its read-only mode
    if os.path.isfile(path) and not os.access(os.path.realpath(path), os.W_OK):
        raise PermissionError(f"cannot save the model to {path!r}: the file cannot be "
                              "written (read-only, or another user's); make it writable "
                              "(os.chmod) to replace it, or save elsewhere.")
    tensors = {key: _little_endian(value) for key, value in tensors.items()}
    text = json.dumps(header, allow_nan=False, sort_keys=True, separators=(",", ":"))
    metadata = {"format": FORMAT, "sklstm": text, "sha256": _digest(text, tensors)}
    size = _header_bytes(metadata, tensors)
    if size > MAX_HEADER_BYTES:
        raise HeaderTooLarge(
            f"cannot save the model to {path!r}: its header (parameters, fitted attributes "
            f"and training history as JSON) would take {size} bytes, more than the "
            f"{MAX_HEADER_BYTES} a safetensors file holds; pickle the estimator "
            "(joblib.dump) instead.")
    data = save(tensors, metadata=metadata)
    # the file a symbolic link names is replaced, as open(path, "wb") would write it
    # (the link itself was replaced by a file, and the file it named kept the old model)
    target = os.path.realpath(path)
    # a device or a pipe (os.devnull) is written into: renamed over, it was replaced by
    # a regular file where its directory was writable (as root, /dev/null itself), and
    # the save failed for want of that permission elsewhere
    in_place = os.path.exists(target) and not os.path.isfile(target)
    # one temporary name per thread: two threads saving to one path (the fits of a
    # threaded search, say) wrote the same temporary file, and one removed it under the
    # other, whose save failed with "No such file or directory". Short whatever the
    # file's name: a name near the system's limit failed with "File name too long"
    tmp = target if in_place else temporary_path(target, _TEMPORARY)
    try:
        # written with open, not safetensors' save_file: that creates its files
        # readable by their owner only (0600), so a model saved for a server running as
        # another user could not be read by it
        with open(tmp, "wb") as f:
            f.write(data)
            if not in_place:
                # on disk before the rename: after a crash the name could point at data
                # the system had not written yet (a pipe or a device has no fsync)
                flush(f)
        if not in_place:
            if os.path.exists(target):
                shutil.copymode(target, tmp)
            # the rename flushed too (its directory): else a crash could bring back the
            # model before, or no file at all, after the save had returned
            replace_synced(tmp, target)
            remove_leftovers(target, _TEMPORARY)
    except OSError as exc:  # e.g. no permission: about this path, not the temporary one
        reason = exc.strerror or exc
        if not in_place and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            # the directory's permission, not the file's, that the save needs: a bare
            # "Permission denied" named a file its user could write
            reason = (f"{reason}: the directory {os.path.dirname(target)!r} cannot be "
                      "written (a model is written to a new file beside its name, then "
                      "renamed over it); save into a directory you can write to, or make "
                      "it writable")
        raise type(exc)(f"cannot save the model to {path!r}: {reason}") from exc
    finally:
        if not in_place and os.path.exists(tmp):
            os.remove(tmp)


#: The first bytes of the files people take for model files, and what they are: a
#: pickle, joblib's compressed pickles (zlib, gzip, bz2, xz/lzma, lz4), torch.save's
#: zip archive of a pickle. (Their own first 8 bytes are no safetensors header size:
#: safetensors called them "header too large", and the file looked damaged.)
_PICKLES = {b"\x80": "a pickle or joblib file",
            **{b"\x78" + level: "a joblib file" for level in (b"\x01", b"\x5e", b"\x9c", b"\xda")},
            b"\x1f\x8b": "a joblib file", b"BZh": "a joblib file",
            b"\xfd7zXZ\x00": "a joblib file", b"\x5d\x00\x00": "a joblib file",
            b"\x04\x22\x4d\x18": "a joblib file",
            b"PK\x03\x04": "a zip archive (as torch.save writes)"}


def _not_a_model(path, reason, head=b""):
    hint = ""
    kind = next((kind for magic, kind in _PICKLES.items() if head.startswith(magic)), None)
    if kind is not None:
        hint = (f" It looks like {kind}: sklstm.load never unpickles (that could run "
                "code); open pickles you trust with joblib.load or torch.load.")
    return ValueError(
        f"{path} is not an sklstm model file (written by estimator.save): {reason}.{hint}"
    )


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def _read_raw(path):
    from safetensors import SafetensorError, safe_open

    with open(path, "rb") as f:
        head = f.read(8)
    try:
        with safe_open(path, framework="np") as f:
            metadata = f.metadata() or {}
            # only an sklstm file's: the tensors of another (gigabytes of a language
            # model's) were all read into memory before it was refused
            tensors = ({key: f.get_tensor(key) for key in f.keys()}
                       if metadata.get("format") == FORMAT else {})
    # (AttributeError: a dtype numpy lacks, such as float8, which safetensors asked
    # numpy for by name)
    except (SafetensorError, OSError, ValueError, TypeError, AttributeError) as exc:
        raise _not_a_model(path, f"unreadable or truncated ({exc})", head) from exc
    return metadata, tensors


def read_model_file(path):
    """The JSON header and tensors of an sklstm model file, checked.

    Parameters
    ----------
    path : str or os.PathLike
        The file written by :func:`write_model_file`; a leading ``~`` is the home
        directory.

    Returns
    -------
    header : dict
        The JSON header.
    tensors : dict of str to ndarray
        The arrays.

    Raises
    ------
    TypeError
        ``path`` is not a str or os.PathLike (an open file, say).
    FileNotFoundError
        No file at ``path``.
    IsADirectoryError
        ``path`` is a directory.
    ValueError
        The file is not an sklstm model file, is truncated or was modified after it
        was written, or has another format version.
    """
    path = _model_path(path, "load a model")
    if os.path.isdir(path):  # (a checkpoint directory, say: not a model file)
        raise IsADirectoryError(f"{path!r} is a directory, not an sklstm model file; name "
                                "the file that estimator.save wrote (a resumable fit's "
                                "checkpoint directory is read by fit, not by load).")
    if os.path.exists(path) and not os.path.isfile(path):  # (it was "no model file at")
        raise _not_a_model(path, "it is a named pipe or a device, not a regular file (a "
                           "model file is read in place, by mapping it into memory); copy "
                           "it to a file and load that")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no sklstm model file at {path!r}")
    metadata, tensors = _read_raw(path)
    if metadata.get("format") != FORMAT or "sklstm" not in metadata:
        raise _not_a_model(path, "a safetensors file, but without sklstm's metadata")
    text = metadata["sklstm"]
    try:
        header = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise _not_a_model(path, f"its header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _not_a_model(path, "its header is not a JSON object")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        written = header.get("sklstm_version", "an unknown version")
        newer = isinstance(version, int) and not isinstance(version, bool) \
            and version > FORMAT_VERSION
        raise ValueError(
            f"{path} was written by sklstm {written} in model format {version!r}; this "
            f"sklstm ({__version__}) reads format {FORMAT_VERSION}. "
            + ("Upgrade sklstm to load it (pip install -U sklstm)." if newer else
               "Load it with the sklstm version that wrote it, and save it again.")
        )
    # after the version: another format may checksum differently
    if metadata.get("sha256") != _digest(text, tensors):
        raise _not_a_model(path, "its checksum does not match: the file was modified or "
                           "damaged after it was written; save the model again")
    return header, tensors
