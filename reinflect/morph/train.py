"""Training of the MSVED reinflection model.

Labeled batches and unlabeled batches are interleaved one to one (MSVED:
20 + 20 words; larger here). The dev set is decoded greedily every
``eval_every`` updates; the best dev exact-match checkpoint is kept in
``model.pt`` (atomic write) and the latest state in ``last.pt`` for
``--resume``: model, optimizer, RNG states and the position of both batch
streams, so a resumed run continues exactly where it stopped. SIGINT or
SIGTERM finishes the current update, writes ``last.pt`` and exits 130 / 143.
Metrics go to ``metrics.jsonl``.

Under ``torchrun`` the model is wrapped in DistributedDataParallel: every rank
takes its share of each global batch, gradients are averaged, and only rank 0
writes. A non-finite loss skips its batch (on all ranks) with a warning, and
stops training when it keeps happening; ``model.pt`` is only ever replaced by
a better checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import signal
import sys
from pathlib import Path

import torch

from reinflect import checkpoint, config
from reinflect import training as train
from reinflect.errors import ReinflectError
from reinflect.morph import checkpoint as morph_checkpoint
from reinflect.morph import (
    corpus,
    data,
    hallucinate,
    objective,
    plots,
    predict,
    sizing,
    torch_engine,
)
from reinflect.morph import model as morph_model
from reinflect.vae import schedules

log = logging.getLogger(__name__)


# MorphTrainConfig fields that shape the batches: --resume keeps them.
STREAM_OPTIONS = (
    "batch_size",
    "unlabeled_batch",
    "hallucinate",
    "seed",
    "match_unlabeled_lengths",
    "unlabeled_source",
)


def _collate(ds, idx: list[int], device) -> dict[str, torch.Tensor]:
    return _tensors(ds[idx], device)


def _tensors(rows: dict[str, list], device) -> dict[str, torch.Tensor]:
    """Columns of dataset rows -> padded tensors on ``device``."""
    out = {}
    for key in ("source", "target", "word"):
        if key in rows:
            out[key], out[f"{key}_len"] = data.pad(rows[key])
    if "tags" in rows:
        out["tags"] = torch.tensor(rows["tags"])
    if device.type == "cuda":  # pinned host memory lets the copy overlap compute
        return {k: v.pin_memory().to(device, non_blocking=True) for k, v in out.items()}
    return out


class _Objective(torch.nn.Module):
    """The training loss as a module, so DistributedDataParallel can wrap it."""

    def __init__(self, model: morph_model.MSVED) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        batch,
        unlabeled_batch,
        *,
        kl_weight,
        y_kl_weight,
        temperature,
        alpha,
        unlabeled_weight,
    ):
        shared = dict(
            kl_weight=kl_weight, y_kl_weight=y_kl_weight, temperature=temperature, alpha=alpha
        )
        if unlabeled_batch is None:
            return objective.labeled(self.model, batch, **shared)
        return objective.semi(
            self.model, batch, unlabeled_batch, unlabeled_weight=unlabeled_weight, **shared
        )


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
        skip_bad_lines: bool = False,
    ) -> None:
        self.mcfg = model_cfg or config.MorphModelConfig()
        self.tcfg = train_cfg or config.MorphTrainConfig()
        if self.tcfg.supervised_only is None and unlabeled_path is not None:
            # a list of words the user gave is used whatever the size
            self.tcfg = dataclasses.replace(self.tcfg, supervised_only=False)
        self.out = Path(out_dir)
        self.progress = progress
        train.seed_everything(self.tcfg.seed)
        self.dist = train.Distributed(train.pick_device(self.tcfg.device))
        self.device = self.dist.device
        self.corpus = corpus.Corpus.read(
            train_path,
            dev_path,
            fmt=fmt,
            skip_bad=skip_bad_lines,
            lang=lang,
            unlabeled_words=self.tcfg.supervised_only is not True,  # None: the size decides
            unlabeled_path=unlabeled_path,
            wordfreq_words=self.tcfg.wordfreq_words,
            warn=self.dist.main,
        )
        c = self.corpus  # its parts by their names, as the loop and the tests use them
        self.train_paths, self.train_ex, self.dev_ex = c.train_paths, c.train_ex, c.dev_ex
        self.schema, self.vocab, self.lang = c.schema, c.vocab, c.lang
        self.dev_bundles, self.train_ds, self.unl_ds = c.dev_bundles, c.train_ds, c.unl_ds
        self.unlabeled_words, self.unlabeled_counts = c.unlabeled_words, c.unlabeled_counts
        self.warned: set[str] = set()  # dev words warned of unseen characters
        self.known = predict.known_pairs(self.train_ex)  # stored: prediction looks them up
        # The defaults left to the training set's size, and what they came to.
        self.mcfg, self.tcfg, self.chosen = sizing.choose(self.mcfg, self.tcfg, len(self.train_ex))
        for line in self.chosen if self.dist.main else ():
            log.info("by size: %s", line)
        if self.tcfg.supervised_only and self.unl_ds is not None:  # the size turned them off
            self.unl_ds, self.unlabeled_words, self.unlabeled_counts = None, [], {}
        if self.tcfg.unlabeled_source != "none" and not self.mcfg.source_attention:
            raise ReinflectError(
                f"--unlabeled-source {self.tcfg.unlabeled_source} needs source attention "
                "(--source-attention)"
            )
        self.model = morph_model.MSVED(
            vocab_size=len(self.vocab), tag_sizes=self.schema.sizes, cfg=self.mcfg
        ).to(self.device)
        # What dev checks evaluate and model.pt keeps: the moving average of the
        # weights, or the weights themselves.
        self.average = (
            train.WeightAverage(self.model, self.tcfg.average) if self.tcfg.average else None
        )
        self.objective: torch.nn.Module = _Objective(self.model)
        if self.dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.objective = DistributedDataParallel(self.objective)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.tcfg.lr)
        shard = {"rank": self.dist.rank, "world": self.dist.world}
        # Bucketed by the longer word of each pair: the encoder and the four
        # reconstructions run to the longest word of the batch (on Turkish 89% of
        # the decoder steps are real characters, against 66% by source length).
        pair_lengths = [
            max(len(s), len(t))
            for s, t in zip(self.train_ds["source"], self.train_ds["target"], strict=True)
        ]
        # Stem hallucination (ours): indices past the real pairs stand for
        # hallucinated versions of pairs, redrawn each time they are used.
        self.halluc = None
        self.n_hallucinated = 0
        if self.tcfg.hallucinate > 0:
            self.halluc = hallucinate.Hallucinator(
                [(e.source, e.target) for e in self.train_ex], lambda c: self.vocab.encode(c)[0]
            )
            if len(self.halluc):
                self.n_hallucinated = round(self.tcfg.hallucinate * len(self.train_ex))
            log.info(
                "%d hallucinated pairs per pass, from %d pairs with a stem to replace",
                self.n_hallucinated,
                len(self.halluc),
            )
        elif len(self.train_ex) <= sizing.SMALL and self.dist.main:
            log.warning(
                "only %d training pairs and --hallucinate 0: on sets this small "
                "hallucination is the default (reinflect.morph.sizing)",
                len(self.train_ex),
            )
        self.lab_stream = data.BatchStream(
            pair_lengths + [pair_lengths[b] for b in self._hallucination_bases()],
            self.tcfg.batch_size,
            seed=self.tcfg.seed,
            **shard,
        )
        self.unl_stream = (
            data.BatchStream(
                [len(w) for w in self.unl_ds["word"]],
                self.tcfg.unlabeled_batch,
                seed=self.tcfg.seed + 1,
                window=data.MATCH_WINDOW if self.tcfg.match_unlabeled_lengths else 1,
                **shard,
            )
            if self.unl_ds is not None
            else None
        )
        self.step = 0
        self.best = -1.0
        self.best_step = 0
        self.dev_forms: list[str] | None = None  # the default decoding's dev forms, at the end
        self.bad_checks = 0
        self.elapsed = 0.0

    def sized(self, run: config.MorphRunConfig) -> config.MorphRunConfig:
        """``run`` with this trainer's model and training configs: what the
        training set's size chose filled in (what ``config.toml`` keeps)."""
        return dataclasses.replace(run, model=self.mcfg, train=self.tcfg)

    def _hallucination_bases(self, idx=None) -> list[int]:
        """The real pair behind each hallucinated index (``idx``: all of them)."""
        n = len(self.train_ex)
        idx = range(n, n + self.n_hallucinated) if idx is None else idx
        return [self.halluc.bases[(i - n) % len(self.halluc)] for i in idx]

    def _labeled_batch(self, idx: list[int]) -> dict[str, torch.Tensor]:
        """The labeled batch of stream indices ``idx``, hallucinated pairs drawn
        with a generator seeded by the step (so ``--resume`` repeats them)."""
        n = len(self.train_ex)
        fake = [r for r, i in enumerate(idx) if i >= n]
        if not fake:
            return _collate(self.train_ds, idx, self.device)
        bases = list(idx)
        for r, b in zip(fake, self._hallucination_bases([idx[r] for r in fake]), strict=True):
            bases[r] = b
        rows = self.train_ds[bases]
        rng = random.Random(self.tcfg.seed * 1_000_003 + self.step)
        for r in fake:
            rows["source"][r], rows["target"][r] = self.halluc.apply(
                bases[r], rows["source"][r], rows["target"][r], rng
            )
        return _tensors(rows, self.device)

    def _unlabeled_batch(self, idx: list[int]) -> dict[str, torch.Tensor]:
        """The unlabeled batch of stream indices ``idx``; with
        ``--unlabeled-source stem``, each word's stem length, drawn with a
        generator seeded by the step (so ``--resume`` repeats them)."""
        rows = self.unl_ds[idx]
        out = _tensors(rows, self.device)
        if self.tcfg.unlabeled_source == "stem":
            rng = random.Random(self.tcfg.seed * 1_000_033 + self.step)
            keep = objective.cut_endings([len(w) for w in rows["word"]], rng)
            out["stem_len"] = torch.tensor(keep, device=self.device)
        return out

    @property
    def kept_model(self) -> morph_model.MSVED:
        """The model that dev checks evaluate and ``model.pt`` holds."""
        return self.average.model if self.average is not None else self.model

    # -- checkpoints -------------------------------------------------------------

    def payload(self, *, full: bool) -> dict:
        p = morph_checkpoint.payload(
            weights=self.kept_model.state_dict(),
            model_cfg=self.mcfg,
            train_cfg=self.tcfg,
            vocab_proto=self.vocab.proto,
            schema=self.schema,
            step=self.step,
            best_dev_accuracy=self.best,
            lang=self.lang,
            known=self.known,
        )
        if full:
            p |= {
                "optimizer": self.opt.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "labeled_stream": self.lab_stream.state_dict(),
                "best_step": self.best_step,
                "bad_checks": self.bad_checks,
                "elapsed": self.elapsed,
            }
            if self.unl_stream is not None:
                p["unlabeled_stream"] = self.unl_stream.state_dict()
            if self.average is not None:
                # "model" holds the average; these are the weights being trained.
                p["trained_model"] = morph_checkpoint.cpu_weights(self.model.state_dict())
                p["average_updates"] = self.average.updates
            if torch.cuda.is_available():
                p["cuda_rng"] = torch.cuda.get_rng_state_all()
        return p

    def save(self, name: str, *, full: bool) -> None:
        if self.dist.main:
            payload = self.payload(full=full)
            if name == "model.pt":
                self._write_model(payload)
            else:
                checkpoint.save(self.out / name, payload)

    def _write_model(self, payload: dict) -> None:
        """``model.pt`` and its torch-free twin for fast predictions."""
        morph_checkpoint.write_model(self.out, payload)

    def resume(self) -> None:
        path = self.out / "last.pt"
        p = morph_checkpoint.load(path)
        if p["schema"] != self.schema.to_dict() or p["vocab"] != self.vocab.proto:
            raise ReinflectError(f"{path}: was trained on other data; cannot resume")
        if ("unlabeled_stream" in p) != (self.unl_stream is not None):
            was = "with" if "unlabeled_stream" in p else "without"
            flag = "--semi-supervised" if was == "with" else "--supervised-only"
            raise ReinflectError(f"{path}: was trained {was} unlabeled words; resume with {flag}")
        saved, now = p.get("model_config", {}), config.to_dict(self.mcfg)
        other = [
            f"{k}={saved[k]!r}, not {now[k]!r}" for k in now if k in saved and saved[k] != now[k]
        ]
        if other:
            raise ReinflectError(
                f"{path}: was trained with other model options ({'; '.join(other)}); "
                "resume with the same options"
            )
        # The batches are drawn from streams whose state last.pt holds: these
        # options must stay; the budget, lr and checks may change.
        saved, now = p.get("train_config", {}), config.to_dict(self.tcfg)
        other = [
            f"--{k.replace('_', '-')} {saved[k]!r}, not {now[k]!r}"
            for k in STREAM_OPTIONS
            if k in saved and saved[k] != now[k]
        ]
        if other:
            raise ReinflectError(
                f"{path}: was trained with {'; '.join(other)}; resume with the same options"
            )
        try:
            self.model.load_state_dict(p.get("trained_model", p["model"]))
            if self.average is not None:
                if "average_updates" in p:
                    self.average.model.load_state_dict(p["model"])
                    self.average.updates = p["average_updates"]
                else:  # trained without averaging until now: the average starts here
                    self.average = train.WeightAverage(self.model, self.tcfg.average)
        except RuntimeError:
            raise ReinflectError(
                f"{path}: its model has other sizes or options than these; cannot resume"
            ) from None
        self.opt.load_state_dict(p["optimizer"])
        torch.set_rng_state(p["torch_rng"])
        if "cuda_rng" in p and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(p["cuda_rng"])
        self.lab_stream.load_state_dict(p["labeled_stream"])
        if self.unl_stream is not None:
            self.unl_stream.load_state_dict(p["unlabeled_stream"])
        self.step, self.best, self.best_step = p["step"], p["best_dev_accuracy"], p["best_step"]
        self.bad_checks, self.elapsed = p["bad_checks"], p["elapsed"]

    # -- evaluation --------------------------------------------------------------

    def dev_accuracy(self, model: morph_model.MSVED | None = None) -> float:
        """Greedy exact match on dev of ``model`` (default: the kept model)."""
        model = self.kept_model if model is None else model
        model.eval()
        r = torch_engine.Reinflector(model, self.vocab, self.schema, self.device)
        r.warned = self.warned  # each dev word's unseen characters once per run
        preds = r.inflect([e.source for e in self.dev_ex], self.dev_bundles, beam=1)
        correct = sum(p[0][0] == e.target for p, e in zip(preds, self.dev_ex, strict=True))
        model.train()
        return 100.0 * correct / len(self.dev_ex)

    def tune_rerank(self) -> dict | None:
        """Choose the reranking weight (``predict.Predictor``) for the best model on
        dev with beam 8, and store it in ``model.pt`` and its twin."""
        path = self.out / "model.pt"
        if not self.tcfg.rerank_grid or not path.is_file():
            return None
        payload = morph_checkpoint.load(path)
        r = torch_engine.Reinflector.from_payload(payload, self.device)
        r.warned = self.warned
        payload["rerank"] = r.tune_rerank(
            [e.source for e in self.dev_ex],
            self.dev_bundles,
            [e.target for e in self.dev_ex],
            grid=self.tcfg.rerank_grid,
            floors=self.tcfg.rerank_floors,
            roundtrips=self.tcfg.rerank_roundtrips,
            rules=self.tcfg.rerank_rules,
            firsts=self.tcfg.rerank_firsts,
        )
        self._write_model(payload)
        self.dev_forms = r.tuned_forms
        log.info("reranking %s chosen on dev (beam 8)", r.setting.describe())
        return payload["rerank"]

    # -- training ----------------------------------------------------------------

    def train_step(
        self, *, out_of_time: bool = False, signalled: bool = False
    ) -> tuple[dict[str, float] | None, bool, bool]:
        """One update on the next labeled (and unlabeled) batch.

        Returns (the loss terms, or None when the batch was skipped for a
        non-finite loss; ``out_of_time`` and ``signalled``, each true if it is
        on any rank, so that all ranks stop at the same step).
        """
        t = self.tcfg
        klw = schedules.kl_weight(self.step, t.kl)
        tau = schedules.temperature(
            self.step,
            initial=t.temperature,
            rate=t.temperature_rate,
            floor=t.temperature_floor,
            every=t.temperature_every,
        )
        batch = self._labeled_batch(next(self.lab_stream))
        ub = (
            # With --match-unlabeled-lengths, unlabeled words no longer than the
            # labeled batch where they can be (the joint pass decodes all rows to
            # the longest of them); otherwise the next batch of the pass.
            self._unlabeled_batch(self.unl_stream.take(self.lab_stream.last_length))
            if self.unl_stream is not None
            else None
        )
        try:
            with train.autocast(self.device, t.precision):
                loss, stats = self.objective(
                    batch,
                    ub,
                    kl_weight=klw,
                    y_kl_weight=t.y_kl_weight,
                    temperature=tau,
                    alpha=t.alpha,
                    unlabeled_weight=t.unlabeled_weight,
                )
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.clip)
            # One read of the device per step (a non-finite loss or gradient skips
            # the update), and one agreement between ranks.
            finite = bool(torch.isfinite(loss) & torch.isfinite(norm))
            bad, out_of_time, signalled = self.dist.any(not finite, out_of_time, signalled)
            if not bad:
                self.opt.step()
                if self.average is not None:
                    self.average.update(self.model)
        except Exception as e:
            if train.is_out_of_memory(e):
                raise ReinflectError(
                    f"out of memory on {self.device} at step {self.step} with --batch-size "
                    f"{t.batch_size}; try --batch-size {max(1, t.batch_size // 2)}"
                ) from None
            raise
        self.step += 1
        if bad:
            return None, out_of_time, signalled
        record = train.stats_to_floats(stats) | {"kl_weight": klw, "temperature": tau}
        return record | {"lr": self.opt.param_groups[0]["lr"]}, out_of_time, signalled

    def _set_lr(self, elapsed: float) -> None:
        """The budget schedule: progress is the larger of the step and time fractions."""
        t = self.tcfg
        progress = 0.0
        if t.max_steps:
            progress = self.step / t.max_steps
        if t.max_minutes:
            progress = max(progress, elapsed / (60.0 * t.max_minutes))
        lr = t.lr * schedules.budget_lr_factor(progress)
        for group in self.opt.param_groups:
            group["lr"] = lr

    def fit(self) -> dict:
        from tqdm.auto import tqdm

        t = self.tcfg
        if self.step == 0:
            # The global torch RNG drives dropout, Gumbel and z samples: seed it here
            # too, so a run depends only on its seed (resume restores the state instead).
            train.seed_everything(t.seed)
        self.out.mkdir(parents=True, exist_ok=True)
        metrics = None
        if self.dist.main:
            for p in checkpoint.remove_stale_temps(self.out):
                log.info("removed %s, left by a write that was cut off", p)
            metrics = train.MetricsLog(self.out / "metrics.jsonl", resume_at=self.step)
        # The bar on a terminal; in a log, one line per dev check instead.
        show_bar = self.progress and self.dist.main and sys.stderr.isatty()
        budget = train.Budget(None if t.max_minutes is None else t.max_minutes - self.elapsed / 60)
        start_elapsed = self.elapsed
        self.model.train()
        bar = tqdm(
            total=t.max_steps,
            initial=self.step,
            disable=not show_bar,
            desc="train",
        )
        sums: dict[str, float] = {}
        n = 0
        bad = train.BadBatches(self.out / "model.pt")
        dev = self.best
        stop_reason = "max_steps"
        with train.catch_signals() as caught:
            while t.max_steps is None or self.step < t.max_steps:
                if t.lr_schedule == "budget":
                    self._set_lr(start_elapsed + budget.elapsed)
                stats, out_of_time, signalled = self.train_step(
                    out_of_time=budget.exhausted(), signalled=caught[0] is not None
                )
                if bad.check(stats is not None, self.step):
                    n += 1
                    for k, v in stats.items():
                        sums[k] = sums.get(k, 0.0) + v
                bar.update(1)
                if stats is not None and self.step % 10 == 0:
                    bar.set_postfix(
                        loss=f"{stats['loss']:.2f}",
                        trans=f"{stats['transduction']:.2f}",
                        klw=f"{stats['kl_weight']:.3f}",
                        tau=f"{stats['temperature']:.2f}",
                        dev=f"{dev:.1f}",
                    )
                if signalled:
                    # A signal here or on another rank: keep the run resumable.
                    self.elapsed = start_elapsed + budget.elapsed
                    self.save("last.pt", full=True)
                    bar.close()
                    signum = caught[0] or signal.SIGTERM
                    raise train.Interrupted(
                        signum,
                        f"interrupted at step {self.step}; {self.out / 'last.pt'} saved, "
                        "continue with --resume",
                    )
                last = out_of_time or self.step == t.max_steps  # the budget ends here
                if self.step % t.eval_every == 0 or last:
                    dev = self.dev_accuracy()
                    self.elapsed = start_elapsed + budget.elapsed
                    record = {k: v / max(n, 1) for k, v in sums.items()}
                    record |= {
                        "step": self.step,
                        "dev_accuracy": dev,
                        "seconds": round(self.elapsed, 1),
                        "labeled_pairs": self.step * t.batch_size,
                    }
                    if self.average is not None:
                        record["dev_accuracy_unaveraged"] = self.dev_accuracy(self.model)
                    if metrics is not None:
                        metrics.write(record)
                        if self.progress and not show_bar:  # in place of the bar
                            print(
                                f"step {self.step}: dev {dev:.2f}% (greedy), {self.elapsed:.0f} s",
                                file=sys.stderr,
                                flush=True,
                            )
                    sums, n = {}, 0
                    if dev > self.best:
                        self.best, self.best_step, self.bad_checks = dev, self.step, 0
                        self.save("model.pt", full=False)
                    else:
                        self.bad_checks += 1
                    self.save("last.pt", full=True)
                    # Early stopping only where the run would have gone on: a budget
                    # that ends at this very check is the reason given.
                    if self.bad_checks >= t.patience and not last:
                        stop_reason = "early_stopping"
                        break
                if out_of_time:
                    stop_reason = "time_budget"
                    break
        bar.close()
        rerank = self.tune_rerank() if self.dist.main else None
        kinds = None
        if self.dev_forms is not None:  # the default decoding's errors on dev
            kinds = plots.error_table(self.dev_ex, self.dev_forms, self.out / "errors.md")
        summary = {
            "best_dev_accuracy": self.best,
            "best_step": self.best_step,
            "steps": self.step,
            "seconds": round(self.elapsed, 1),
            "stop": stop_reason,
            "train_pairs": len(self.train_ex),
            "hallucinated_pairs": self.n_hallucinated,
            "unlabeled_words": len(self.unlabeled_words),
            "unlabeled_counts": self.unlabeled_counts,
            "tag_dimensions": dict(zip(self.schema.dimensions, self.schema.sizes, strict=True)),
            "device": str(self.device),
            "processes": self.dist.world,
            "rerank": rerank,
            "dev_errors": kinds and kinds["counts"],
        }
        if self.dist.main:
            checkpoint.write_text(self.out / "summary.json", json.dumps(summary, indent=2) + "\n")
        return summary


def run(
    run_cfg: config.MorphRunConfig,
    *,
    out: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    pictures: bool = True,
    report=log.info,
) -> dict:
    """Train the run ``run_cfg`` defines into ``out`` (what ``reinflect train``
    does): refuse a finished run's folder unless ``resume`` or ``overwrite``,
    read the data, let the training set's size choose what was left to it,
    keep ``out/config.toml``, train and, with ``pictures`` and matplotlib,
    draw :mod:`reinflect.morph.plots`' pictures. ``report`` gets each line worth
    telling (what the size chose, the unlabeled words). Returns the summary
    (``summary.json``); raises :class:`reinflect.training.Interrupted` on
    SIGINT/SIGTERM after writing ``last.pt``."""
    out = Path(out)
    train.refuse_existing_run(out, resume=resume, overwrite=overwrite)
    train_files, dev_file = run_cfg.data.files()
    data = run_cfg.data
    trainer = Trainer(
        train_path=train_files,
        dev_path=dev_file,
        out_dir=out,
        model_cfg=run_cfg.model,
        train_cfg=run_cfg.train,
        unlabeled_path=data.unlabeled,
        lang=data.lang,
        fmt=None if data.format == "auto" else data.format,
        progress=progress,
        skip_bad_lines=data.skip_bad_lines,
    )
    main = trainer.dist.main
    # What the training set's size chose is the run's: config.toml repeats it.
    run_cfg = trainer.sized(run_cfg)
    for line in trainer.chosen if main else ():
        report(f"by size: {line}")
    if not run_cfg.train.supervised_only and main:
        c = trainer.unlabeled_counts
        report(f"unlabeled words: {c.get('total', 0)} ({json.dumps(c)})")
    if resume:
        trainer.resume()
    if main:
        out.mkdir(parents=True, exist_ok=True)
        checkpoint.write_text(out / "config.toml", config.to_toml(run_cfg))
    summary = trainer.fit()
    if main and pictures:
        try:
            shown = plots.save_all(out, dev_file, errors=False)
        except (ImportError, ReinflectError) as e:  # the model is saved: say why, go on
            report(f"no pictures: {e}")
        else:
            report(f"pictures: {', '.join(str(out / name) for name in shown)}")
    return summary
