"""Where data sets live on disk, and the local mirror.

A data set ``NAME`` is looked for, in order, in an explicit ``--data-dir``,
in ``$REINFLECT_DATA_MIRROR/NAME`` (a directory laid out like the project's
``../shared/data``), and in the user cache ``~/.cache/reinflect/data/NAME``.
"""

from __future__ import annotations

import os
from pathlib import Path

from reinflect.errors import DataMissingError

MIRROR_ENV = "REINFLECT_DATA_MIRROR"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reinflect" / "data"


def candidates(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for data set ``name``, in order."""
    if data_dir is not None:
        return [Path(data_dir)]
    found = []
    mirror = os.environ.get(MIRROR_ENV)
    if mirror:
        found.append(Path(mirror) / name)
    found.append(cache_root() / name)
    return found


def locate(name: str, files: list[str], data_dir: str | os.PathLike | None = None) -> Path:
    """The first candidate directory holding all of ``files``; a clear error otherwise."""
    tried = candidates(name, data_dir)
    for d in tried:
        if all((d / f).is_file() for f in files):
            return d
    missing = [f for f in files if not (tried[0] / f).is_file()]
    where = ", ".join(str(d) for d in tried)
    raise DataMissingError(
        f"{name} data not found (looked in {where}; {tried[0]} lacks {', '.join(missing)}): "
        f"pass --data-dir DIR, or set {MIRROR_ENV} to a folder that holds {name}/"
    )
