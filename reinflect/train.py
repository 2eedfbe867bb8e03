"""Model-agnostic training utilities: seeding, devices, metric logs, budgets."""

from __future__ import annotations

import json
import os
import platform
import random
import time
from pathlib import Path

import torch


def machine() -> dict:
    """What a benchmark ran on."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
    }


def seed_everything(seed: int) -> None:
    """Seed Python, and torch (CPU and CUDA) so a CPU run is reproducible."""
    random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` is CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class MetricsLog:
    """Appends one JSON object per line to ``path`` (a run's ``metrics.jsonl``)."""

    def __init__(self, path: str | os.PathLike, *, append: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not append:
            self.path.write_text("")

    def write(self, record: dict) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")

    @staticmethod
    def read(path: str | os.PathLike) -> list[dict]:
        return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


class Budget:
    """A wall-clock budget in minutes (``None``: unlimited)."""

    def __init__(self, minutes: float | None) -> None:
        self.start = time.perf_counter()
        self.minutes = minutes

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def exhausted(self) -> bool:
        return self.minutes is not None and self.elapsed >= 60.0 * self.minutes


def stats_to_floats(stats: dict[str, torch.Tensor]) -> dict[str, float]:
    return {k: float(v) for k, v in stats.items()}
