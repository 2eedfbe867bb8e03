"""Checkpoints: one file holding everything needed to predict or resume.

Writes are atomic (a temporary file in the same directory, fsync, then
``os.replace``), so a crash mid-write never loses the previous good file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reinflect.errors import ReinflectError

FORMAT_VERSION = 1


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then move it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_of(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Atomically write ``payload`` (plus the format version) to ``path``."""
    import torch

    atomic_write(path, lambda f: torch.save({"format_version": FORMAT_VERSION, **payload}, f))


def load(path: str | os.PathLike, *, kind: str | None = None, map_location="cpu") -> dict[str, Any]:
    """Read a checkpoint, with one clear error for a missing, corrupt or foreign file."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise ReinflectError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise ReinflectError(
            f"{path}: not a readable reinflect checkpoint ({type(e).__name__})"
        ) from e
    if not isinstance(payload, dict) or "format_version" not in payload:
        raise ReinflectError(f"{path}: not a reinflect checkpoint (no format version)")
    if payload["format_version"] != FORMAT_VERSION:
        raise ReinflectError(
            f"{path}: checkpoint format {payload['format_version']} is not supported "
            f"by this reinflect (format {FORMAT_VERSION})"
        )
    if kind is not None and payload.get("kind") != kind:
        raise ReinflectError(f"{path}: a {payload.get('kind')!r} checkpoint, expected {kind!r}")
    return payload
