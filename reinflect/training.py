"""Model-agnostic training utilities: seeding, devices and precision, data
parallelism, interruption, non-finite losses, metric logs, budgets."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import random
import signal
import time
from pathlib import Path

import torch

from reinflect import checkpoint
from reinflect.config import PRECISIONS
from reinflect.errors import ReinflectError

log = logging.getLogger(__name__)

MAX_BAD_BATCHES = 5  # non-finite losses in a row before training stops


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


# What a training run writes into its folder; a second run there would replace it.
RUN_FILES = ("model.pt", "model.npz", "last.pt", "metrics.jsonl", "summary.json")


def refuse_existing_run(out: Path, *, resume: bool = False, overwrite: bool = False) -> None:
    """Refuse to train into ``out`` where a run already is, unless it is to be
    continued (``resume``) or replaced (``overwrite``)."""
    if resume or overwrite or not Path(out).is_dir():
        return
    there = [name for name in RUN_FILES if (Path(out) / name).exists()]
    if there:
        again = "--resume to continue it, " if "last.pt" in there else ""
        raise ReinflectError(
            f"{out} already holds a run ({', '.join(there)}): give {again}--overwrite to "
            "replace it, or another --out"
        )


def seed_everything(seed: int) -> None:
    """Seed Python, and torch (CPU and CUDA) so a CPU run is reproducible."""
    random.seed(seed)
    torch.manual_seed(seed)


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` is CUDA when present, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ReinflectError(f"--device must be auto, cpu or cuda[:N], got {name!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ReinflectError(
            f"--device {name}: no CUDA device here (torch {torch.__version__}); "
            "use --device cpu or auto"
        )
    return device


def autocast(device: torch.device, precision: str = "auto"):
    """The one switch for mixed precision: a context for the forward pass.

    ``auto`` is bf16 autocast on a CUDA device that supports it and fp32
    elsewhere; ``bf16`` asks for bf16 autocast on any device (on CPU it pays
    where the processor has bf16 instructions, AVX512-BF16 or AMX).
    """
    if precision not in PRECISIONS:
        raise ReinflectError(
            f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    if precision == "auto":
        bf16_ok = device.type == "cuda" and torch.cuda.is_bf16_supported()
        precision = "bf16" if bf16_ok else "fp32"
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def is_out_of_memory(error: BaseException) -> bool:
    """A CUDA or CPU allocation failure (torch raises several types for it)."""
    if isinstance(error, torch.cuda.OutOfMemoryError | MemoryError):
        return True
    text = str(error)
    return isinstance(error, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text
    )


class Distributed:
    """Data parallelism under ``torchrun`` (WORLD_SIZE > 1 in the environment):
    the process group (nccl on CUDA, gloo on CPU), this process's rank and its
    device. A single process is rank 0 of 1 and needs none of it."""

    def __init__(self, device: torch.device) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = device
        if self.world > 1:
            import torch.distributed as dist

            if device.type == "cuda":
                local = int(os.environ.get("LOCAL_RANK", self.rank))
                count = torch.cuda.device_count()
                if local >= count:
                    # NCCL refuses two ranks on one GPU; say so before it does.
                    raise ReinflectError(
                        f"process {local} of this machine has no GPU of its own ({count} "
                        f"CUDA device(s)): use torchrun --nproc-per-node {count} or less, "
                        "or --device cpu (gloo)"
                    )
                self.device = torch.device("cuda", local)
                torch.cuda.set_device(self.device)
            if not dist.is_initialized():
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        """Only the main process writes checkpoints, logs and progress."""
        return self.rank == 0

    def any(self, *flags: bool) -> list[bool]:
        """Each flag, true if it is true on any rank (so all ranks decide alike)."""
        if self.world == 1:
            return list(flags)
        import torch.distributed as dist

        t = torch.tensor([float(f) for f in flags], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return [bool(v) for v in t.tolist()]


class Interrupted(Exception):
    """Training stopped by SIGINT or SIGTERM after writing a resumable checkpoint;
    the process should exit with ``code`` (128 + the signal number)."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.code = 128 + signum


@contextlib.contextmanager
def catch_signals():
    """While training, SIGINT and SIGTERM only set ``caught[0]`` to the signal
    number, so the loop can finish its step and checkpoint; the previous
    handlers come back afterwards. (A no-op outside the main thread.)"""
    caught: list[int | None] = [None]

    def handler(signum, frame):
        caught[0] = signum

    sigs = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {s: signal.signal(s, handler) for s in sigs}
    except ValueError:  # not the main thread
        previous = {}
    try:
        yield caught
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def kept_note(kept: Path, check: str) -> str:
    """What a stopped run kept: ``kept`` (the best model's file, written at each
    ``check`` that improved) or nothing yet."""
    if Path(kept).is_file():
        return f"{kept} holds the best model so far"
    return f"no model was saved (no {check} came before)"


class BadBatches:
    """Non-finite losses in a row: each is skipped with a warning, and at
    ``limit`` in a row training stops with an error saying whether ``kept``
    (the best model's file) holds anything."""

    def __init__(self, kept: Path, *, check: str = "dev check", limit: int = MAX_BAD_BATCHES):
        """``check``: what writes ``kept``, as the error names it."""
        self.kept, self.check_name, self.limit, self.in_row = Path(kept), check, limit, 0

    def check(self, finite: bool, step: int) -> bool:
        """Whether the batch of ``step`` counts (its loss was finite)."""
        if finite:
            self.in_row = 0
            return True
        self.in_row += 1
        log.warning("non-finite loss at step %d: batch skipped", step)
        if self.in_row >= self.limit:
            kept = kept_note(self.kept, self.check_name)
            raise ReinflectError(
                f"the loss was NaN or infinite for {self.in_row} batches in a row "
                f"(last at step {step}); training stopped. {kept}; try a lower --lr"
            )
        return False


class MetricsLog:
    """Appends one JSON object per line to ``path`` (a run's ``metrics.jsonl``)."""

    def __init__(self, path: str | os.PathLike, *, resume_at: int = 0) -> None:
        """A new log, or (``resume_at`` > 0) the log of a run resumed at that
        step: its rows after the step (written after the checkpoint, before a
        kill) are dropped, so the resumed rows are not there twice."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = []
        if resume_at > 0 and self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    if json.loads(line).get("step", 0) <= resume_at:
                        kept.append(line + "\n")
                except json.JSONDecodeError:  # a row cut off by the kill
                    continue
        checkpoint.write_text(self.path, "".join(kept))

    def write(self, record: dict) -> None:
        try:
            with self.path.open("a") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
        except OSError as e:  # a row cut off here is dropped on --resume
            checkpoint.raise_if_full(e, self.path)
            raise

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
    """Detached scalar tensors -> floats, in one read from the device."""
    values = torch.stack([v.detach().float() for v in stats.values()]).tolist()
    return dict(zip(stats, values, strict=True))


class WeightAverage:
    """An exponential moving average of a model's weights (Polyak averaging), on
    ``torch.optim.swa_utils.AveragedModel``: ``update(model)`` after every
    optimizer step; ``model`` is the averaged copy, for evaluation and saving.

    The first update copies the weights; after n updates the next one has decay
    ``min(decay, (1 + n) / (10 + n))``, so the early averages are not dominated
    by the initial weights. The update count lives on the CPU: an update reads
    nothing back from a GPU.
    """

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        from torch.optim.swa_utils import AveragedModel

        self.decay = decay
        self._avg = AveragedModel(model, multi_avg_fn=self._lerp, use_buffers=True)
        self._avg.n_averaged = self._avg.n_averaged.cpu()

    @property
    def model(self) -> torch.nn.Module:
        return self._avg.module

    @torch.no_grad()
    def _lerp(self, averaged: list[torch.Tensor], current: list[torch.Tensor], _n) -> None:
        n = int(self._avg.n_averaged)
        torch._foreach_lerp_(averaged, current, 1.0 - min(self.decay, (1 + n) / (10 + n)))

    def update(self, model: torch.nn.Module) -> None:
        self._avg.update_parameters(model)

    @property
    def updates(self) -> int:
        """Updates so far; with ``model``'s weights, all a resumed average needs."""
        return int(self._avg.n_averaged)

    @updates.setter
    def updates(self, n: int) -> None:
        self._avg.n_averaged.fill_(n)
