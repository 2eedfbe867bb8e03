"""Training of the MSVED reinflection model.

Labeled batches and unlabeled batches are interleaved one to one (MSVED:
20 + 20 words; larger here). The dev set is decoded greedily every
``eval_every`` updates; the best dev exact-match checkpoint is kept in
``model.pt`` (atomic write) and the latest state in ``last.pt`` for
``--resume``. Metrics go to ``metrics.jsonl``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from pathlib import Path

import torch

from reinflect import checkpoint, config, train
from reinflect.errors import ReinflectError
from reinflect.morph import data, formats, inference, objective, tags, unlabeled, vocab
from reinflect.morph import model as morph_model
from reinflect.vae import schedules

log = logging.getLogger(__name__)


def guess_language(path: str | os.PathLike) -> str | None:
    """``turkish-task3-train`` -> ``turkish``; ``english-train-high`` -> ``english``."""
    m = re.match(r"([a-z-]+?)-(task\d|train|dev)", Path(path).name)
    return m.group(1) if m else None


def _collate(ds, idx: list[int], device) -> dict[str, torch.Tensor]:
    rows = ds[idx]
    out = {}
    for key in ("source", "target", "word"):
        if key in rows:
            ids, lengths = data.pad(rows[key])
            out[key], out[f"{key}_len"] = ids.to(device), lengths.to(device)
    if "tags" in rows:
        out["tags"] = torch.tensor(rows["tags"], device=device)
    return out


class Trainer:
    """Holds everything a run needs; ``fit()`` trains until a stop condition."""

    def __init__(
        self,
        *,
        train_path,
        dev_path,
        out_dir,
        model_cfg: config.MorphModelConfig | None = None,
        train_cfg: config.MorphTrainConfig | None = None,
        unlabeled_path=None,
        lang: str | None = None,
        fmt: str | None = None,
        progress: bool = True,
    ) -> None:
        self.mcfg = model_cfg or config.MorphModelConfig()
        self.tcfg = train_cfg or config.MorphTrainConfig()
        self.out = Path(out_dir)
        self.progress = progress
        train.seed_everything(self.tcfg.seed)
        self.device = train.pick_device(self.tcfg.device)
        train_path = unlabeled.refuse_test(train_path)
        dev_path = unlabeled.refuse_test(dev_path)
        self.train_ex = formats.read(train_path, fmt)
        self.dev_ex = formats.read(dev_path, fmt)
        for name, exs, path in (
            ("train", self.train_ex, train_path),
            ("dev", self.dev_ex, dev_path),
        ):
            covered = [e.line for e in exs if e.target is None]
            if covered:
                raise ReinflectError(f"{path}:{covered[0]}: no target form in a {name} file")
        self.schema = tags.Schema.build(
            [e.target_tags for e in self.train_ex + self.dev_ex], where=str(train_path)
        )
        # Only training bundles count for partial-tag resolution.
        self.schema.bundles = tags.Schema.build([e.target_tags for e in self.train_ex]).bundles
        words = [w for e in self.train_ex for w in (e.source, e.target)]
        self.vocab = vocab.Vocab.build(words)
        self.lang = lang or guess_language(train_path)
        charset = {c for w in words for c in w}
        self.unlabeled_words: list[str] = []
        self.unlabeled_counts: dict[str, int] = {}
        if not self.tcfg.supervised_only:
            files = unlabeled.sibling_files(train_path) or [train_path, dev_path]
            self.unlabeled_words, self.unlabeled_counts = unlabeled.pool(
                charset=charset,
                files=files,
                lang=self.lang,
                wordfreq_n=self.tcfg.wordfreq_words,
                user_list=unlabeled_path,
            )
        self.train_ds = data.labeled_dataset(
            self.train_ex, self.vocab, self.schema, where=str(train_path)
        )
        self.unl_ds = (
            data.unlabeled_dataset(self.unlabeled_words, self.vocab)
            if self.unlabeled_words
            else None
        )
        self.model = morph_model.MSVED(
            vocab_size=len(self.vocab), tag_sizes=self.schema.sizes, cfg=self.mcfg
        ).to(self.device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.tcfg.lr)
        self.gen = torch.Generator().manual_seed(self.tcfg.seed)
        self.step = 0
        self.best = -1.0
        self.best_step = 0
        self.bad_checks = 0
        self.elapsed = 0.0

    # -- checkpoints -------------------------------------------------------------

    def payload(self, *, full: bool) -> dict:
        p = {
            "kind": inference.KIND,
            "model_config": config.to_dict(self.mcfg),
            "train_config": {**config.to_dict(self.tcfg), "kl": config.to_dict(self.tcfg.kl)},
            "model": {k: v.detach().cpu() for k, v in self.model.state_dict().items()},
            "vocab": self.vocab.proto,
            "schema": self.schema.to_dict(),
            "step": self.step,
            "best_dev_accuracy": self.best,
            "lang": self.lang,
        }
        if full:
            p |= {
                "optimizer": self.opt.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "batch_rng": self.gen.get_state(),
                "best_step": self.best_step,
                "bad_checks": self.bad_checks,
                "elapsed": self.elapsed,
            }
        return p

    def resume(self) -> None:
        p = checkpoint.load(self.out / "last.pt", kind=inference.KIND)
        if p["schema"] != self.schema.to_dict() or p["vocab"] != self.vocab.proto:
            raise ReinflectError(
                f"{self.out / 'last.pt'}: was trained on other data; cannot resume"
            )
        self.model.load_state_dict(p["model"])
        self.opt.load_state_dict(p["optimizer"])
        torch.set_rng_state(p["torch_rng"])
        self.gen.set_state(p["batch_rng"])
        self.step, self.best, self.best_step = p["step"], p["best_dev_accuracy"], p["best_step"]
        self.bad_checks, self.elapsed = p["bad_checks"], p["elapsed"]

    # -- evaluation --------------------------------------------------------------

    def dev_accuracy(self) -> float:
        self.model.eval()
        r = inference.Reinflector(self.model, self.vocab, self.schema, self.device)
        bundles = [tags.parse(e.target_tags) for e in self.dev_ex]
        preds = r.inflect([e.source for e in self.dev_ex], bundles, beam=1)
        correct = sum(p[0][0] == e.target for p, e in zip(preds, self.dev_ex, strict=True))
        self.model.train()
        return 100.0 * correct / len(self.dev_ex)

    # -- training ----------------------------------------------------------------

    def fit(self) -> dict:
        from tqdm.auto import tqdm

        t = self.tcfg
        if self.step == 0:
            # The global torch RNG drives dropout, Gumbel and z samples: seed it here
            # too, so a run depends only on its seed (resume restores the state instead).
            train.seed_everything(t.seed)
        self.out.mkdir(parents=True, exist_ok=True)
        metrics = train.MetricsLog(self.out / "metrics.jsonl", append=self.step > 0)
        budget = train.Budget(None if t.max_minutes is None else t.max_minutes - self.elapsed / 60)
        start_elapsed = self.elapsed
        lab_iter = data.endless(
            [len(s) for s in self.train_ds["source"]], t.batch_size, generator=self.gen
        )
        unl_iter = (
            data.endless(
                [len(w) for w in self.unl_ds["word"]], t.unlabeled_batch, generator=self.gen
            )
            if self.unl_ds is not None
            else None
        )
        amp = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if self.device.type == "cuda"
            else contextlib.nullcontext()
        )
        self.model.train()
        bar = tqdm(total=t.max_steps, initial=self.step, disable=not self.progress, desc="train")
        sums: dict[str, float] = {}
        n = 0
        dev = self.best
        stop_reason = "max_steps"
        while t.max_steps is None or self.step < t.max_steps:
            klw = schedules.kl_weight(self.step, t.kl)
            tau = schedules.temperature(
                self.step,
                initial=t.temperature,
                rate=t.temperature_rate,
                floor=t.temperature_floor,
                every=t.temperature_every,
            )
            batch = _collate(self.train_ds, next(lab_iter), self.device)
            with amp:
                loss, stats = objective.labeled(
                    self.model, batch, kl_weight=klw, temperature=tau, alpha=t.alpha
                )
                if unl_iter is not None:
                    ub = _collate(self.unl_ds, next(unl_iter), self.device)
                    u_loss, u_stats = objective.unlabeled(
                        self.model, ub, kl_weight=klw, temperature=tau
                    )
                    loss = loss + t.unlabeled_weight * u_loss
                    stats = (
                        stats | {f"u_{k}": v for k, v in u_stats.items()} | {"loss": loss.detach()}
                    )
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.clip)
            self.opt.step()
            self.step += 1
            n += 1
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + float(v)
            bar.update(1)
            if self.step % 10 == 0:
                bar.set_postfix(
                    loss=f"{loss.item():.2f}",
                    trans=f"{float(stats['transduction']):.2f}",
                    klw=f"{klw:.3f}",
                    tau=f"{tau:.2f}",
                    dev=f"{dev:.1f}",
                )
            out_of_time = budget.exhausted()
            if self.step % t.eval_every == 0 or out_of_time or self.step == t.max_steps:
                dev = self.dev_accuracy()
                self.elapsed = start_elapsed + budget.elapsed
                record = {k: v / n for k, v in sums.items()}
                record |= {
                    "step": self.step,
                    "dev_accuracy": dev,
                    "kl_weight": klw,
                    "temperature": tau,
                    "seconds": round(self.elapsed, 1),
                    "labeled_pairs": self.step * t.batch_size,
                }
                metrics.write(record)
                sums, n = {}, 0
                if dev > self.best:
                    self.best, self.best_step, self.bad_checks = dev, self.step, 0
                    checkpoint.save(self.out / "model.pt", self.payload(full=False))
                else:
                    self.bad_checks += 1
                checkpoint.save(self.out / "last.pt", self.payload(full=True))
                if self.bad_checks >= t.patience:
                    stop_reason = "early_stopping"
                    break
            if out_of_time:
                stop_reason = "time_budget"
                break
        bar.close()
        summary = {
            "best_dev_accuracy": self.best,
            "best_step": self.best_step,
            "steps": self.step,
            "seconds": round(self.elapsed, 1),
            "stop": stop_reason,
            "train_pairs": len(self.train_ex),
            "unlabeled_words": len(self.unlabeled_words),
            "unlabeled_counts": self.unlabeled_counts,
            "tag_dimensions": dict(zip(self.schema.dimensions, self.schema.sizes, strict=True)),
            "device": str(self.device),
        }
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        return summary
