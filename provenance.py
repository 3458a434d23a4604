"""Files: one atomic write for every file the project makes, and strict JSON."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

RECORD_VARIABLE = "EXERCISE9_RECORD"  # set by `make run`: its run becomes the committed one


def current_umask() -> int:
    """Return the process's file-creation mask (e.g. 0o022, giving 0644 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call write(temporary_path) in target's folder, then move the file onto `target`; if
    either fails, the temporary file is removed and `target` is left as it was."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        write(Path(temp_name))
        os.chmod(temp_name, 0o666 & ~current_umask())  # mkstemp's 0600 is for secrets
        try:
            os.replace(temp_name, target)
        except PermissionError:  # Windows: the file is open in a viewer
            message = f"cannot replace {target}: it is open in another program (a PDF viewer?)"
            raise PermissionError(
                f"{message} or write-protected. Close it and run again; "
                f"{target.name} was left as it was."
            ) from None
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)
    return target


def write_text_atomically(target: str | Path, text: str) -> Path:
    """Write UTF-8 text to `target` through write_atomically."""
    return write_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))


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
