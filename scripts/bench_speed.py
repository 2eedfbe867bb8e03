"""Speed of reinflect on one SIGMORPHON 2016 language; prints and saves JSON.

    python scripts/bench_speed.py                          # Turkish task 3, all parts
    python scripts/bench_speed.py --parts train decode --threads 2 --precision bf16
    python scripts/bench_speed.py --parts cli --model runs/turkish
    python scripts/bench_speed.py --parts train --lang german --setting medium --threads 1

Parts:
- ``train``: labeled pairs per second of the MSVED update (default sizes and
  batch 64), with the unlabeled stream on (as training does by default, and
  length-matched, ``--match-unlabeled-lengths``) and with ``--supervised-only``:
  from the median of ``--steps`` timed updates after ``--warmup`` ones, and
  over all of them. With ``--setting low|medium|high`` it times CoNLL-SIGMORPHON
  2017 task 1's ``<lang>-train-<setting>`` instead, in one mode, ``default``:
  every by-size default as ``reinflect train`` would choose it (at low and
  medium, the hard monotonic decoder with the copy).
- ``decode``: words per second of greedy and beam-8 decoding of the dev
  words at batch 256 and at batch 1 (``--batch1-words`` of them), with the
  model from ``--model`` or, without one, the model after the ``train`` part
  trained further for ``--decode-train-steps`` updates (an untrained model
  would decode every word to the maximum length).
- ``cli``: cold wall time (a fresh process each time; median of ``--repeats``)
  of ``reinflect predict WORD --tags T`` (the numpy engine of ``model.npz``,
  and the torch engine of a directory with ``model.pt`` only), of
  ``reinflect --help`` and of ``python -c "import torch"``.

Peak memory is the process's peak RSS (and CUDA max allocated on a GPU). Data:
``--data-dir`` or ``$REINFLECT_DATA_MIRROR/sigmorphon2016``; test files are
never read.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from reinflect import config, download
from reinflect import training as train
from reinflect.morph import formats, tags, torch_engine
from reinflect.morph import train as morph_train


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _files(a, root: Path) -> tuple[Path, Path]:
    """The training and dev files timed: SIGMORPHON 2016 task 3's, or with
    ``--setting`` CoNLL-SIGMORPHON 2017 task 1's."""
    if a.setting:
        (train_path,), dev = download.dataset_files(
            "conll2017", a.lang, setting=a.setting, data_dir=a.data_dir and Path(a.data_dir)
        )
        return train_path, dev
    return root / f"{a.lang}-task3-train", root / f"{a.lang}-task3-dev"


def _trainer(a, root: Path, out: Path, mode: str) -> morph_train.Trainer:
    options = {}
    if mode != "default":  # the mode's own choice, not the size's
        options = {
            "supervised_only": mode == "sup",
            "match_unlabeled_lengths": mode == "semi_matched",
        }
    options |= {
        "batch_size": a.batch_size,
        "device": a.device,
        "precision": a.precision,
        "average": a.average,
    }
    if a.source_attention or not a.setting:  # by size with a setting, unless given
        options |= config.source_attention(a.source_attention)
    train_path, dev_path = _files(a, root)
    run = config.resolve_morph(options)
    return morph_train.Trainer(
        train_path=train_path,
        dev_path=dev_path,
        out_dir=out,
        model_cfg=run.model,
        train_cfg=run.train,
        progress=False,
    )


def bench_train(a, root: Path, out: Path) -> tuple[dict, morph_train.Trainer]:
    result = {}
    trainer = None
    # semi_matched: --match-unlabeled-lengths, to time what matching saves.
    for mode in ("default",) if a.setting else ("semi", "semi_matched", "sup"):
        trainer = _trainer(a, root, out / mode, mode)
        trainer.model.train()
        for _ in range(a.warmup):
            trainer.train_step()
        times = []
        for _ in range(a.steps):
            _sync(trainer.device)
            t0 = time.perf_counter()
            trainer.train_step()
            _sync(trainer.device)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        mean = a.batch_size * len(times) / sum(times)
        result[mode] = {
            "labeled_pairs_per_s": round(a.batch_size / med, 1),
            "median_step_s": round(med, 4),
            # over all timed updates: long batches weigh by their time
            "labeled_pairs_per_s_overall": round(mean, 1),
            "unlabeled_words_per_step": 0
            if trainer.tcfg.supervised_only
            else trainer.tcfg.unlabeled_batch,
            "steps_timed": a.steps,
        }
        print(
            f"train {mode}: {a.batch_size / med:.1f} labeled pairs/s (median update), "
            f"{mean:.1f} overall",
            flush=True,
        )
    return result, trainer


def bench_decode(a, root: Path, reinflector: torch_engine.Reinflector) -> dict:
    dev = formats.read(root / f"{a.lang}-task3-dev")
    words = [e.source for e in dev]
    bundles = [tags.parse(e.target_tags) for e in dev]
    result = {"dev_words": len(words)}
    # Reranking's cost does not depend on its weights: 1.0 and 0.25 stand for any > 0.
    for name, beam, rerank, roundtrip in (
        ("greedy", 1, 0.0, 0.0),
        ("beam8", 8, 0.0, 0.0),
        ("beam8_reranked", 8, 1.0, 0.0),
        ("beam8_reranked_roundtrip", 8, 1.0, 0.25),
    ):
        kw = {"beam": beam, "rerank": rerank, "rerank_roundtrip": roundtrip}
        reinflector.inflect(words[:256], bundles[:256], **kw)  # warm-up
        runs = []
        for _ in range(a.repeats):
            _sync(reinflector.device)
            t0 = time.perf_counter()
            preds = reinflector.inflect(words, bundles, batch_size=256, **kw)
            _sync(reinflector.device)
            runs.append(time.perf_counter() - t0)
        acc = 100.0 * sum(p[0][0] == e.target for p, e in zip(preds, dev, strict=True)) / len(dev)
        n1 = min(a.batch1_words, len(words))
        t0 = time.perf_counter()
        reinflector.inflect(words[:n1], bundles[:n1], batch_size=1, **kw)
        one = time.perf_counter() - t0
        result[name] = {
            "words_per_s_batch256": round(len(words) / statistics.median(runs), 1),
            "words_per_s_batch1": round(n1 / one, 1),
            "dev_accuracy": round(acc, 2),
        }
        print(f"decode {name}: {result[name]}", flush=True)
    return result


def bench_cli(a, model_dir: Path, root: Path) -> dict:
    exe = shutil.which("reinflect") or f"{sys.executable} -m reinflect"
    first = formats.read(root / f"{a.lang}-task3-dev")[0]
    predict = [*exe.split(), "predict", first.source, "--tags", first.target_tags]
    predict += ["--model", str(model_dir)]
    result = {}
    for name, cmd in (("predict", predict), ("help", [*exe.split(), "--help"])):
        times = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        result[f"{name}_cold_s"] = round(statistics.median(times), 3)
        result[f"{name}_runs_s"] = [round(t, 3) for t in times]
        print(f"cli {name}: median {statistics.median(times):.3f} s", flush=True)
    # The torch engine: the model directory without its numpy twin (the call
    # writes the twin again, as it does for a run trained by an older version).
    times = []
    for _ in range(a.repeats):
        bare = Path(tempfile.mkdtemp(prefix="bench_cli_"))
        shutil.copy(model_dir / "model.pt", bare / "model.pt")
        cmd = [*predict[:-1], str(bare)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
        shutil.rmtree(bare)
    result["predict_torch_engine_cold_s"] = round(statistics.median(times), 3)
    print(f"cli predict, torch engine: median {statistics.median(times):.3f} s", flush=True)
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch"], check=True)
        times.append(time.perf_counter() - t0)
    result["import_torch_s"] = round(statistics.median(times), 3)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", nargs="+", default=["train", "decode", "cli"])
    p.add_argument("--lang", default="turkish")
    p.add_argument(
        "--setting",
        choices=("low", "medium", "high"),
        help="time CoNLL-SIGMORPHON 2017 task 1's training set of this size (train part only)",
    )
    p.add_argument("--data-dir", default=None)
    p.add_argument("--model", default=None, help="a trained run for decode and cli")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--decode-train-steps", type=int, default=300)
    p.add_argument("--batch1-words", type=int, default=100)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="auto")
    config.add_source_attention_option(p)
    p.add_argument(
        "--average",
        type=float,
        default=config.MorphTrainConfig.average,
        help="weight-average decay (0: off), to time its cost",
    )
    p.add_argument("--json", default="results/bench_speed.json")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.setting and set(a.parts) != {"train"}:
        p.error("--setting times the train part only: give --parts train")
    root = None
    if not a.setting:
        root = download.locate("sigmorphon2016", [f"{a.lang}-task3-train"], a.data_dir)
    tmp = Path(tempfile.mkdtemp(prefix="bench_speed_"))
    report: dict = {
        "machine": train.machine(),
        "settings": vars(a),
        "language": a.lang,
    }
    trainer = None
    if "train" in a.parts:
        report["train"], trainer = bench_train(a, root, tmp)
    model_dir = Path(a.model) if a.model else None
    if model_dir is None and ({"decode", "cli"} & set(a.parts)):
        trainer = trainer or _trainer(a, root, tmp / "semi", "semi")
        t0 = time.perf_counter()
        for _ in range(a.decode_train_steps):
            trainer.train_step()
        trainer.save("model.pt", full=False)
        model_dir = trainer.out
        report["decode_model"] = {
            "trained_steps": trainer.step,
            "train_seconds": round(time.perf_counter() - t0, 1),
        }
    if "decode" in a.parts:
        r = torch_engine.Reinflector.load(model_dir, device=str(train.pick_device(a.device)))
        report["decode"] = bench_decode(a, root, r)
    if "cli" in a.parts:
        report["cli"] = bench_cli(a, model_dir, root)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if torch.cuda.is_available():
        report["cuda_max_allocated_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    out = Path(a.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
