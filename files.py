"""File helpers for everything the repo writes (checkpoints, the mel cache, filelists, pictures, audio):
atomic writes, and output folders that fail with a clear error. No torch, no data pipeline: a vocoder's
checkpoint module can write its files without importing either.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write through a temp file in the same folder, then os.replace: readers see all or nothing.

    The temp file is hidden (`.<name>.<random>.tmp`); a kill mid-write leaves only it behind, never a
    half file under `path`'s name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes files private (0600); give the usual mode
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def make_output_directory(path: str | Path) -> Path:
    """Create a folder for outputs (and its parents); a clear error if it cannot be made or written to."""
    directory = Path(path)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot create output directory {directory}: {error.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"output directory {directory} is not writable")
    return directory
