"""Checkpoints: one file holding everything needed to predict or resume.

Writes are atomic (a temporary file in the same directory, fsync, then
``os.replace``), so a crash mid-write never loses the previous good file.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reinflect.errors import ReinflectError

FORMAT_VERSION = 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, then move it into
    place, readable as the user's umask allows (as ``open`` would make it). A
    full disk is one error naming ``path``; the temporary file is removed and
    what ``path`` held before is untouched."""
    path = Path(path)
    if path.is_dir():
        raise ReinflectError(f"{path}: is a folder; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        before = "; the file there before is intact" if path.exists() else ""
        raise_if_full(e, path, before)
        raise


def raise_if_full(e: BaseException, path: str | os.PathLike, said: str = "") -> None:
    """A full disk (or quota) met while writing ``path``: raise the one error
    that names it (``said`` added); any other error: return."""
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        raise ReinflectError(f"no space left on device writing {path}{said}") from None


def write_text(path: str | os.PathLike, text: str) -> None:
    """:func:`atomic_write` of ``text`` as UTF-8."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that writes killed midway (SIGKILL, power)
    left in ``folder``; the ones removed."""
    folder = Path(folder)
    stale = sorted(folder.glob(".*.tmp")) if folder.is_dir() else []
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


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

    # Serialised in memory first, so a full disk is an OSError of the write
    # (torch's own writer reports it as an opaque RuntimeError).
    buffer = io.BytesIO()
    torch.save({"format_version": FORMAT_VERSION, **payload}, buffer)
    atomic_write(path, lambda f: f.write(buffer.getbuffer()))


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
