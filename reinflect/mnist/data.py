"""MNIST loaders: the original IDX files and the fixed binarization.

* ``mnist``: LeCun's IDX files (gzip); the 60k training images are split
  50k train / 10k valid (the last 10k), as in Kingma et al. (2014).
* ``binarized_mnist``: Larochelle & Murray's fixed binarization
  (``.amat.gz``, 50k / 10k / 10k), the density-estimation benchmark of Burda
  et al. (2016).

Images come back as ``N x 784`` float32 tensors in [0, 1], labels as int64.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from reinflect import download
from reinflect.errors import ReinflectError

IDX_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
AMAT_FILES = {s: f"binarized_mnist_{s}.amat.gz" for s in ("train", "valid", "test")}
N_VALID = 10_000
PIXELS = 784


@dataclass
class Split:
    images: torch.Tensor  # N x 784, float32 in [0, 1]
    labels: torch.Tensor | None  # N, int64 (None for the fixed binarization)


def read_idx(path: Path) -> np.ndarray:
    """Read a gzip IDX file (big-endian header: magic, then one int32 per dimension)."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ReinflectError(f"{path}: not an IDX file of unsigned bytes (bad magic number)")
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">i4", count=ndim, offset=4)
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ReinflectError(f"{path}: header says {tuple(dims)} but holds {body.size} bytes")
    return body.reshape(tuple(int(d) for d in dims))


def read_amat(path: Path) -> np.ndarray:
    """Read a gzip ``.amat``: one image per line, 784 '0'/'1' separated by spaces."""
    with gzip.open(path, "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8)
    if raw.size % (2 * PIXELS):
        raise ReinflectError(f"{path}: length {raw.size} is not a whole number of 784-pixel lines")
    # Every other byte is a digit; the ones between are spaces and the line's newline.
    bits = raw[0::2].reshape(-1, PIXELS) - ord("0")
    if bits.max(initial=0) > 1:
        raise ReinflectError(f"{path}: pixels must be 0 or 1")
    return bits


def load_mnist(data_dir: str | os.PathLike | None = None) -> dict[str, Split]:
    """``{"train", "valid", "test"}`` splits of the original MNIST (grayscale in [0, 1])."""
    root = download.locate("mnist", list(IDX_FILES.values()), data_dir)
    arr = {k: read_idx(root / f) for k, f in IDX_FILES.items()}
    images = torch.from_numpy(arr["train_images"].reshape(-1, PIXELS).astype(np.float32) / 255.0)
    labels = torch.from_numpy(arr["train_labels"].astype(np.int64))
    test_x = torch.from_numpy(arr["test_images"].reshape(-1, PIXELS).astype(np.float32) / 255.0)
    test_y = torch.from_numpy(arr["test_labels"].astype(np.int64))
    return {
        "train": Split(images[:-N_VALID], labels[:-N_VALID]),
        "valid": Split(images[-N_VALID:], labels[-N_VALID:]),
        "test": Split(test_x, test_y),
    }


def load_binarized(data_dir: str | os.PathLike | None = None) -> dict[str, Split]:
    """``{"train", "valid", "test"}`` of the fixed binarization (no labels)."""
    root = download.locate("binarized_mnist", list(AMAT_FILES.values()), data_dir)
    return {
        s: Split(torch.from_numpy(read_amat(root / f).astype(np.float32)), None)
        for s, f in AMAT_FILES.items()
    }


def balanced_labeled_subset(labels: torch.Tensor, n: int, *, seed: int) -> torch.Tensor:
    """Indices of ``n`` examples, ``n / 10`` per class, drawn with a fixed seed."""
    if n % 10:
        raise ReinflectError(f"--labels must be a multiple of 10 (equal per class), got {n}")
    g = torch.Generator().manual_seed(seed)
    picks = []
    for c in range(10):
        idx = (labels == c).nonzero().squeeze(1)
        if idx.numel() < n // 10:
            raise ReinflectError(f"only {idx.numel()} images of class {c}; cannot take {n // 10}")
        picks.append(idx[torch.randperm(idx.numel(), generator=g)[: n // 10]])
    return torch.cat(picks)
