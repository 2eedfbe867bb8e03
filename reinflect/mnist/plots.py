"""Pictures of what the MNIST models learned (PNG; needs the ``plot`` extra).

* ``samples.png``   -- x ~ p(x|z) (M2: and y ~ p(y)), z ~ N(0, I): Bernoulli means.
* ``analogies.png`` -- M2 only: each row holds z fixed (inferred from a test
  image, shown in the first column) while y runs over 0..9 (Kingma et al.
  2014, figure 1).
* ``manifold.png``  -- 2-D latents only: p(x|z) over a grid of z at the
  Gaussian's quantiles (Kingma & Welling 2014, figure 4).
* ``curves.png``    -- the training curves of ``metrics.jsonl``.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from reinflect import plotting
from reinflect import training as train
from reinflect.mnist import data
from reinflect.mnist import model as mnist_model


def _tile(images: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """``(rows*cols) x 784`` -> one ``(28 rows) x (28 cols)`` image."""
    grid = images.view(rows, cols, 28, 28).permute(0, 2, 1, 3)
    return grid.reshape(rows * 28, cols * 28)


def _save_image(img: torch.Tensor, path: Path, title: str) -> None:
    plt = plotting.pyplot()
    h, w = img.shape
    fig, ax = plt.subplots(figsize=(w / 56 + 0.4, h / 56 + 0.6), dpi=100)
    ax.imshow(img.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    plotting.save(fig, path, bbox_inches="tight")


@torch.inference_mode()
def samples(model, path: Path, *, n: int = 100, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, model.latent, generator=gen)
    if isinstance(model, mnist_model.M2):
        y = torch.nn.functional.one_hot(torch.arange(n) % 10, 10).float()
        x = torch.sigmoid(model.decode(z, y))
        title = "M2 samples: column = class y, z ~ N(0, I)"
    else:
        x = torch.sigmoid(model.decode(z))
        title = "M1 samples, z ~ N(0, I)"
    side = int(math.sqrt(n))
    _save_image(_tile(x, side, n // side), path, title)


@torch.inference_mode()
def analogies(model: mnist_model.M2, images: torch.Tensor, path: Path, *, rows: int = 10) -> None:
    x = images[:rows]
    y_hat = torch.nn.functional.one_hot(model.classify(x).argmax(-1), 10).float()
    z = model.posterior(x, y_hat).mu  # style of each test image
    ys = torch.eye(10).repeat(rows, 1)
    out = torch.sigmoid(model.decode(z.repeat_interleave(10, 0), ys)).view(rows, 10, -1)
    grid = torch.cat([x.unsqueeze(1), out], dim=1).view(-1, 784)
    _save_image(_tile(grid, rows, 11), path, "M2 analogies: test image | z fixed, y = 0..9")


@torch.inference_mode()
def manifold(model, path: Path, *, side: int = 20, label: int | None = None) -> None:
    # Quantiles of N(0, 1) so the grid covers the prior's mass evenly.
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, side))
    z = torch.stack(torch.meshgrid(q, q, indexing="ij"), dim=-1).view(-1, 2)
    if isinstance(model, mnist_model.M2):
        y = torch.nn.functional.one_hot(torch.full((len(z),), label or 0), 10).float()
        x = torch.sigmoid(model.decode(z, y))
    else:
        x = torch.sigmoid(model.decode(z))
    _save_image(_tile(x, side, side), path, "2-D latent manifold")


def curves(metrics_path: Path, path: Path) -> None:
    plt = plotting.pyplot()
    records = train.MetricsLog.read(metrics_path)
    if not records:
        return
    keys = [
        k for k in ("loss", "valid_error", "valid_elbo", "unlabeled_elbo", "ce") if k in records[0]
    ]
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 2.8), squeeze=False)
    epochs = [r["epoch"] for r in records]
    for ax, k in zip(axes[0], keys, strict=True):
        ax.plot(epochs, [r[k] for r in records], marker=".")
        ax.set_title(k, fontsize=9)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plotting.save(fig, path)


def save_all(run_dir: str | Path, *, splits: dict[str, data.Split] | None = None) -> list[str]:
    """Write every picture that applies to the run in ``run_dir``; returns the file names."""
    from reinflect.mnist import train

    run_dir = Path(run_dir)
    model, cfg = train.load_model(run_dir)
    written = []
    samples(model, run_dir / "samples.png", seed=cfg.seed)
    written.append("samples.png")
    if isinstance(model, mnist_model.M2) and splits is not None:
        analogies(model, splits["test"].images, run_dir / "analogies.png")
        written.append("analogies.png")
    if model.latent == 2:
        manifold(model, run_dir / "manifold.png")
        written.append("manifold.png")
    if (run_dir / "metrics.jsonl").is_file():
        curves(run_dir / "metrics.jsonl", run_dir / "curves.png")
        written.append("curves.png")
    return written
