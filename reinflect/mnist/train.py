"""Training and evaluation of the MNIST sanity models.

M1 trains on the fixed binarization (Larochelle & Murray) and is selected on
the validation ELBO; M2 trains on grayscale MNIST with ``labels`` labeled
images (equal per class, fixed seed) and all 50k training images as
unlabeled data, and is selected on validation error. Test numbers are
computed once, from the selected checkpoint.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch

from reinflect import checkpoint, config
from reinflect import training as train
from reinflect.mnist import data, objective
from reinflect.mnist import model as mnist_model
from reinflect.vae import estimators, schedules

log = logging.getLogger(__name__)
KIND = "mnist"


def _load_data(cfg: config.MnistConfig, data_dir) -> dict[str, data.Split]:
    splits = data.load_binarized(data_dir) if cfg.model == "m1" else data.load_mnist(data_dir)
    if cfg.train_size is not None:
        tr = splits["train"]
        n = cfg.train_size
        splits["train"] = data.Split(tr.images[:n], None if tr.labels is None else tr.labels[:n])
    return splits


@torch.inference_mode()
def m2_error(model: mnist_model.M2, split: data.Split, batch: int = 2000) -> float:
    """Classification error of argmax q(y|x) on ``split``, in [0, 1]."""
    model.eval()
    wrong = 0
    for i in range(0, len(split.images), batch):
        pred = model.classify(split.images[i : i + batch]).argmax(-1)
        wrong += int((pred != split.labels[i : i + batch]).sum())
    return wrong / len(split.images)


@torch.inference_mode()
def m1_bounds(model: mnist_model.M1, images: torch.Tensor, *, iwae_k: int = 0, batch: int = 500):
    """Mean ELBO (one z sample) and, with ``iwae_k`` > 0, the IWAE log p(x) estimate, in nats."""
    model.eval()
    elbos, lls = [], []
    for i in range(0, len(images), batch):
        x = images[i : i + batch]
        elbos.append(objective.m1_loss(model, x)[1]["elbo"] * len(x))
        if iwae_k:
            lls.append(objective.m1_log_likelihood(model, x, samples=iwae_k).sum())
    out = {"elbo": float(sum(elbos)) / len(images)}
    if iwae_k:
        out["log_likelihood"] = float(sum(lls)) / len(images)
        out["iwae_k"] = iwae_k
    return out


def _validate(model, cfg, splits) -> tuple[dict, float]:
    """Validation metrics and the score to maximize."""
    if cfg.model == "m2":
        err = m2_error(model, splits["valid"])
        return {"valid_error": err}, -err
    b = m1_bounds(model, splits["valid"].images)
    return {"valid_elbo": b["elbo"]}, b["elbo"]


def train_model(
    cfg: config.MnistConfig,
    out_dir: str | os.PathLike,
    *,
    data_dir=None,
    progress: bool = True,
    plots: bool = True,
) -> dict:
    """Train, keep the best validation checkpoint in ``out_dir/model.pt``, then test it.

    Writes ``metrics.jsonl`` (one record per epoch), ``summary.json`` and PNG
    pictures into ``out_dir``; returns the summary.
    """
    from tqdm.auto import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train.seed_everything(cfg.seed)
    splits = _load_data(cfg, data_dir)
    model = mnist_model.build(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=cfg.lr_decay)
    baseline = estimators.RunningBaseline(decay=cfg.baseline_decay)
    metrics = train.MetricsLog(out / "metrics.jsonl")
    budget = train.Budget(cfg.max_minutes)

    pool = splits["train"]
    labeled_idx = None
    if cfg.model == "m2":
        labeled_idx = data.balanced_labeled_subset(pool.labels, cfg.labels, seed=cfg.seed)
    n = len(pool.images)
    labeled_weight = cfg.labeled_weight
    if labeled_weight is None:
        labeled_weight = cfg.labels / n
    g = torch.Generator().manual_seed(cfg.seed)

    def binarize(x: torch.Tensor) -> torch.Tensor:
        return torch.bernoulli(x, generator=g) if cfg.dynamic_binarization else x

    step, best, best_epoch = 0, -float("inf"), -1
    stop = False
    bad = train.BadBatches(out / "model.pt", check="validation")
    with train.catch_signals() as caught:
        for epoch in range(1, cfg.epochs + 1):
            model.train()
            perm = torch.randperm(n, generator=g)
            sums: dict[str, float] = {}
            n_batches = 0
            batches = range(0, n - cfg.batch_size + 1, cfg.batch_size)
            bar = tqdm(
                batches, desc=f"epoch {epoch}/{cfg.epochs}", disable=not progress, leave=False
            )
            for i in bar:
                x = binarize(pool.images[perm[i : i + cfg.batch_size]])
                klw = schedules.kl_weight(step, cfg.kl)
                if cfg.model == "m1":
                    loss, stats = objective.m1_loss(model, x, kl_weight=klw)
                else:
                    tau = schedules.temperature(
                        step,
                        initial=cfg.temperature,
                        rate=cfg.temperature_rate,
                        floor=cfg.temperature_floor,
                        every=cfg.temperature_every,
                    )
                    lab = labeled_idx[
                        torch.randint(len(labeled_idx), (cfg.labeled_batch,), generator=g)
                    ]
                    l_loss, l_stats = objective.m2_labeled(
                        model,
                        binarize(pool.images[lab]),
                        pool.labels[lab],
                        alpha=cfg.alpha,
                        kl_weight=klw,
                    )
                    u_loss, u_stats = objective.m2_unlabeled(
                        model,
                        x,
                        estimator=cfg.estimator,
                        kl_weight=klw,
                        temperature=tau,
                        baseline=baseline,
                    )
                    loss = u_loss + labeled_weight * l_loss
                    stats = {
                        "loss": loss.detach(),
                        "labeled_elbo": l_stats["elbo"],
                        "ce": l_stats["ce"],
                    }
                    stats |= {"unlabeled_elbo": u_stats["elbo"], "kl_y": u_stats["kl_y"]}
                opt.zero_grad(set_to_none=True)
                loss.backward()
                step += 1
                if bad.check(bool(torch.isfinite(loss)), step):  # else skipped
                    opt.step()
                    n_batches += 1
                    for k, v in train.stats_to_floats(stats).items():
                        sums[k] = sums.get(k, 0.0) + v
                if progress and step % 20 == 0:
                    bar.set_postfix(loss=f"{float(loss):.1f}", klw=f"{klw:.2f}")
                if caught[0] is not None:
                    bar.close()
                    kept = train.kept_note(out / "model.pt", "validation")
                    raise train.Interrupted(
                        caught[0],
                        f"interrupted at step {step} (epoch {epoch}); {kept}; "
                        "an MNIST run does not resume: train again to continue",
                    )
                if budget.exhausted() or (cfg.max_steps is not None and step >= cfg.max_steps):
                    stop = True
                    break
            sched.step()
            record = {k: v / max(1, n_batches) for k, v in sums.items()}
            valid, score = _validate(model, cfg, splits)
            record |= valid | {"epoch": epoch, "step": step, "seconds": round(budget.elapsed, 1)}
            metrics.write(record)
            if progress:
                shown = ", ".join(f"{k}={v:.4g}" for k, v in valid.items())
                tqdm.write(f"epoch {epoch}: loss={record.get('loss', float('nan')):.2f} {shown}")
            if score > best:
                best, best_epoch = score, epoch
                checkpoint.save(
                    out / "model.pt",
                    {
                        "kind": KIND,
                        "config": config.to_dict(cfg),
                        "model": model.state_dict(),
                        "step": step,
                        "epoch": epoch,
                    },
                )
            if stop:
                break

    summary = {
        "config": config.to_dict(cfg),
        "epochs_run": epoch,
        "steps": step,
        "best_epoch": best_epoch,
        "train_seconds": round(budget.elapsed, 1),
    }
    summary |= evaluate(out / "model.pt", data_dir=data_dir, splits=splits)
    checkpoint.write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    if plots:
        from reinflect.mnist import plots as mnist_plots

        summary["pictures"] = mnist_plots.save_all(out, splits=splits)
    return summary


def load_model(
    path: str | os.PathLike,
) -> tuple[mnist_model.M1 | mnist_model.M2, config.MnistConfig]:
    """The model and config of an MNIST checkpoint (``model.pt`` or its run directory)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.pt"
    payload = checkpoint.load(path, kind=KIND)
    cfg = config.MnistConfig(**payload["config"])
    model = mnist_model.build(cfg)
    model.load_state_dict(payload["model"])
    model.eval()
    return model, cfg


def evaluate(
    path: str | os.PathLike,
    *,
    data_dir=None,
    split: str = "test",
    iwae_k: int = 0,
    splits: dict[str, data.Split] | None = None,
) -> dict:
    """Test error (M2), or ELBO and IWAE log-likelihood in nats (M1), on ``split``."""
    model, cfg = load_model(path)
    if splits is None:
        splits = _load_data(cfg, data_dir)
    part = splits[split]
    if cfg.model == "m2":
        return {f"{split}_error": m2_error(model, part)}
    b = m1_bounds(model, part.images, iwae_k=iwae_k)
    return {k if k == "iwae_k" else f"{split}_{k}": v for k, v in b.items()}
