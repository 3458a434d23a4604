"""Files: one atomic write for every file the project makes, and strict JSON."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from pathlib import Path

RECORD_VARIABLE = "EXERCISE9_RECORD"  # set for the run that becomes the committed one
PROJECT = Path(__file__).resolve().parent


def current_umask() -> int:
    """Return the process's file-creation mask (e.g. 0o022, giving 0644 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


class NotWritten(OSError):
    """A file could not be written (disk full, read-only folder); the message says what to do."""


def not_written(target: Path, error: OSError) -> NotWritten:
    """Return the error for a file that could not be written into its folder."""
    reason = error.strerror or str(error)
    return NotWritten(
        f"could not write {target.name} into {target.parent} ({reason}). Free space on that "
        f"disk or make the folder writable, then run again; {target.name} was left as it was "
        "and nothing half-written remains."
    )


def write_atomically(target: str | Path, data: bytes | str) -> Path:
    """Write bytes (or UTF-8 text) to a temporary file in target's folder, then move it onto
    `target`; if either fails, the temporary file is removed and `target` is left as it was."""
    target, temp_name, replacing = Path(target), None, False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temp_name, 0o666 & ~current_umask())  # mkstemp's 0600 is for secrets
        replacing = True
        os.replace(temp_name, target)
    except OSError as error:
        if replacing and isinstance(error, PermissionError):  # Windows: open in a viewer
            raise PermissionError(
                f"cannot replace {target}: it is open in another program (a PDF viewer?) or "
                f"write-protected. Close it and run again; {target.name} was left as it was."
            ) from None
        raise not_written(target, error) from None
    finally:
        if temp_name and os.path.exists(temp_name):
            os.remove(temp_name)
    return target


def how_to_restore(path: str | Path, remake: str = "") -> str:
    """Return how to restore a missing or damaged committed file: git, the ZIP, or `remake`."""
    try:
        name = Path(path).resolve().relative_to(PROJECT).as_posix()  # as git names it
    except ValueError:  # outside the project
        name = Path(path).as_posix()
    also = f", or run {remake}" if remake else ""
    return f"restore it with `git checkout -- {name}` (or unzip it again){also}"


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def finite_or_none(value):
    """Return the value with every non-finite float (inf, nan) inside it replaced by None."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(document: dict) -> str:
    """Return a document as strict JSON text (inf and nan become null), indented."""
    return json.dumps(finite_or_none(document), indent=2, allow_nan=False) + "\n"
