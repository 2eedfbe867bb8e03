"""Benchmark the MNIST sanity models; prints and saves JSON.

    python scripts/bench_mnist.py m2 --labels 100 600 --epochs 50
    python scripts/bench_mnist.py m1 --minutes 30 --iwae-k 500
    python scripts/bench_mnist.py estimators --epochs 30

Needs the MNIST data (``--data-dir`` or REINFLECT_DATA_MIRROR). Each part
writes ``results/bench_mnist_<part>.json`` (override with ``--json``) with the
settings, the machine, wall times and the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from reinflect import config
from reinflect import training as train
from reinflect.mnist import data, objective
from reinflect.mnist import train as mnist_train
from reinflect.vae import estimators, schedules


def train_one(cfg: config.MnistConfig, out: Path, data_dir, iwae_k: int = 0) -> dict:
    t0 = time.perf_counter()
    summary = mnist_train.train_model(cfg, out, data_dir=data_dir, progress=False)
    if iwae_k:
        t1 = time.perf_counter()
        summary |= mnist_train.evaluate(out, data_dir=data_dir, iwae_k=iwae_k)
        summary["iwae_seconds"] = round(time.perf_counter() - t1, 1)
    summary["wall_seconds"] = round(time.perf_counter() - t0, 1)
    summary["curve"] = [
        {k: r[k] for k in r if k in ("epoch", "seconds", "valid_error", "valid_elbo", "loss")}
        for r in train.MetricsLog.read(out / "metrics.jsonl")
    ]
    return summary


def grad_variance(model, images: torch.Tensor, estimator: str, *, repeats: int, baseline=None):
    """Per-coordinate variance of d(-U)/d(classifier) over ``repeats`` draws, summed.

    The batch and weights are fixed, so the spread is the estimator's own
    noise (z noise included for every estimator).
    """
    params = list(model.classifier.parameters())
    grads = []
    for _ in range(repeats):
        loss, _ = objective.m2_unlabeled(model, images, estimator=estimator, baseline=baseline)
        g = torch.autograd.grad(loss, params)
        grads.append(torch.cat([x.flatten() for x in g]))
    g = torch.stack(grads)
    return g, float(g.var(0).sum()) if repeats > 1 else 0.0


def estimator_variance(run_dir: Path, data_dir, *, repeats: int = 50, batch: int = 100) -> dict:
    model, cfg = mnist_train.load_model(run_dir)
    torch.manual_seed(cfg.seed)
    x = data.load_mnist(data_dir)["valid"].images[:batch]
    out = {}
    g_enum, var = grad_variance(model, x, "enumerate", repeats=repeats)
    mean_enum = g_enum.mean(0)
    sq = float(mean_enum.norm() ** 2)
    out["enumerate"] = {"grad_variance": var, "variance_over_squared_mean": var / sq}
    # The baseline only centres here (no scaling), so all estimators target the
    # same gradient and their variances compare directly.
    base = estimators.RunningBaseline(decay=cfg.baseline_decay, standardize=False)
    for _ in range(20):  # warm the running mean
        grad_variance(model, x, "reinforce", repeats=1, baseline=base)
    for name, est, b in [
        ("gumbel", "gumbel", None),
        ("reinforce", "reinforce", None),
        ("reinforce+baseline", "reinforce", base),
    ]:
        g, var = grad_variance(model, x, est, repeats=repeats, baseline=b)
        bias = float((g.mean(0) - mean_enum).norm() / mean_enum.norm())
        out[name] = {
            "grad_variance": var,
            "variance_over_squared_mean": var / sq,
            "relative_distance_to_exact_mean": bias,
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("part", choices=["m1", "m2", "estimators"])
    p.add_argument("--labels", type=int, nargs="+", default=[100])
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--minutes", type=float, default=None, help="wall budget per training run")
    p.add_argument("--iwae-k", type=int, default=500)
    p.add_argument("--hidden", default="500")
    p.add_argument("--latent", type=int, default=50)
    p.add_argument(
        "--activation", default="softplus", choices=["softplus", "relu", "tanh", "gated"]
    )
    p.add_argument("--alpha", type=float, default=5000.0)
    p.add_argument("--kl-weight", type=float, default=1.0, help="weight on KL(z) (its cap)")
    p.add_argument("--kl-warmup", type=int, default=0, help="updates of linear KL warm-up")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--dynamic-binarization", action="store_true")
    p.add_argument(
        "--labeled-weight", type=float, default=None, help="M2 labeled-batch weight (N_l/N_u)"
    )
    p.add_argument("--lr-decay", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=50, help="gradient draws for the variance")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--runs", default="runs/bench_mnist")
    p.add_argument("--json", default=None)
    p.add_argument(
        "--variance-only",
        action="store_true",
        help="estimators: reuse the trained runs, recompute the gradient variances",
    )
    a = p.parse_args()

    hidden = tuple(int(h) for h in a.hidden.split(","))
    common = dict(
        latent=a.latent,
        hidden=hidden,
        activation=a.activation,
        epochs=a.epochs,
        alpha=a.alpha,
        lr=a.lr,
        kl=(
            schedules.KLSchedule(
                kind="linear", cap=a.kl_weight, delay=0, rate=a.kl_weight / a.kl_warmup
            )
            if a.kl_warmup
            else schedules.KLSchedule(kind="constant", cap=a.kl_weight)
        ),
        lr_decay=a.lr_decay,
        dynamic_binarization=a.dynamic_binarization,
        labeled_weight=a.labeled_weight,
        batch_size=a.batch_size,
        seed=a.seed,
        max_minutes=a.minutes,
    )
    runs = Path(a.runs)
    result = {"part": a.part, "machine": train.machine(), "settings": vars(a), "results": {}}
    if a.part == "m2":
        for n in a.labels:
            cfg = config.MnistConfig(model="m2", labels=n, **common)
            s = train_one(cfg, runs / f"m2_{n}", a.data_dir)
            result["results"][str(n)] = s
            print(
                f"M2 {n} labels: test error {100 * s['test_error']:.2f}% in {s['wall_seconds']} s"
            )
    elif a.part == "m1":
        cfg = config.MnistConfig(model="m1", **common)
        s = train_one(cfg, runs / "m1", a.data_dir, iwae_k=a.iwae_k)
        result["results"]["m1"] = s
        print(
            f"M1: test ELBO {s['test_elbo']:.2f}, IWAE(k={a.iwae_k}) log p(x) "
            f"{s['test_log_likelihood']:.2f} nats; train {s['train_seconds']} s"
        )
    else:
        old = {}
        path = Path(a.json or "results/bench_mnist_estimators.json")
        if a.variance_only:
            old = json.loads(path.read_text())["results"]
            result["settings"] = json.loads(path.read_text())["settings"] | {"variance_only": True}
        for est in ("enumerate", "gumbel", "reinforce"):
            cfg = config.MnistConfig(model="m2", labels=a.labels[0], estimator=est, **common)
            if a.variance_only:
                s = old[est]
            else:
                s = train_one(cfg, runs / f"est_{est}", a.data_dir)
            s["gradient"] = estimator_variance(runs / f"est_{est}", a.data_dir, repeats=a.repeats)
            result["results"][est] = s
            print(f"{est}: test error {100 * s['test_error']:.2f}% in {s['wall_seconds']} s")
        # Gradient variances of all estimators at one common point: the enumerate model.
        v = estimator_variance(runs / "est_enumerate", a.data_dir, repeats=a.repeats)
        result["results"]["variance_at_enumerate_model"] = v
        for k, d in v.items():
            print(f"  grad variance ({k}): {d['grad_variance']:.4g}")
    for r in result["results"].values():
        if isinstance(r, dict) and "curve" in r:
            errs = [c["valid_error"] for c in r["curve"] if "valid_error" in c]
            if errs:
                r["median_valid_error_last5"] = statistics.median(errs[-5:])
    path = Path(a.json or f"results/bench_mnist_{a.part}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
