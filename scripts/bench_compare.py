"""Compare the speed of two checkouts of reinflect with one protocol (the
before/after table of the speed work):

    git worktree add /tmp/before 2064174
    python scripts/bench_compare.py /tmp/before 2 runs/turkish    # CHECKOUT THREADS MODEL
    python scripts/bench_compare.py . 2 runs/turkish

Median time of 30 MSVED updates after 5 (batch 64, Turkish task 3, with and
without the unlabeled stream), and greedy / beam-8 decoding of the Turkish
dev words at batch 256 with MODEL. Prints one JSON line. Works with code from
before and after the resumable batch streams. Data:
``$REINFLECT_DATA_MIRROR/sigmorphon2016`` (default ``../shared/data``).
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import sys
import time


def _stream(data, lengths, seed):
    import torch

    if hasattr(data, "endless"):  # the code before BatchStream
        return data.endless(lengths, 64, generator=torch.Generator().manual_seed(seed))
    return data.BatchStream(lengths, 64, seed=seed)


def _time_updates(mods, root: str, supervised_only: bool) -> float:
    import torch

    config, run, data, objective = (mods[k] for k in ("config", "run", "data", "objective"))
    tr = run.Trainer(
        train_path=f"{root}/turkish-task3-train",
        dev_path=f"{root}/turkish-task3-dev",
        out_dir="/tmp/bench_compare",
        train_cfg=config.MorphTrainConfig(supervised_only=supervised_only),
        progress=False,
    )
    lab = _stream(data, [len(s) for s in tr.train_ds["source"]], 0)
    unl = _stream(data, [len(w) for w in tr.unl_ds["word"]], 1) if tr.unl_ds is not None else None

    def update() -> None:
        b = run._collate(tr.train_ds, next(lab), tr.device)
        loss, _ = objective.labeled(tr.model, b, kl_weight=0.1, temperature=1.0)
        if unl is not None:
            ub = run._collate(tr.unl_ds, next(unl), tr.device)
            u, _ = objective.unlabeled(tr.model, ub, kl_weight=0.1, temperature=1.0)
            loss = loss + 0.8 * u
        tr.opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tr.model.parameters(), 5.0)
        tr.opt.step()

    for _ in range(5):
        update()
    times = []
    for _ in range(30):
        t0 = time.perf_counter()
        update()
        times.append(time.perf_counter() - t0)
    return 64 / statistics.median(times)


# Modules renamed since: the old name, then the new one.
RENAMED = {"run": "train", "inference": "torch_engine"}


def _module(name: str):
    """reinflect's module ``name`` in the checkout on sys.path, by its old or new name."""
    if name == "config":
        return importlib.import_module("reinflect.config")
    try:
        return importlib.import_module(f"reinflect.morph.{name}")
    except ModuleNotFoundError:
        return importlib.import_module(f"reinflect.morph.{RENAMED[name]}")


def main() -> None:
    checkout, threads, model_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sys.path.insert(0, os.path.abspath(checkout))
    import torch

    torch.set_num_threads(threads)
    names = ("config", "run", "data", "objective", "inference", "formats", "tags")
    mods = {n: _module(n) for n in names}
    root = os.path.join(os.environ.get("REINFLECT_DATA_MIRROR", "../shared/data"), "sigmorphon2016")
    res = {"checkout": checkout, "threads": threads, "torch": torch.__version__}
    for mode, sup in (("semi", False), ("sup", True)):
        res[f"train_{mode}_pairs_per_s"] = round(_time_updates(mods, root, sup), 1)
    r = mods["inference"].Reinflector.load(model_dir)
    dev = mods["formats"].read(f"{root}/turkish-task3-dev")
    words = [e.source for e in dev]
    bundles = [mods["tags"].parse(e.target_tags) for e in dev]
    for beam in (1, 8):
        r.inflect(words[:256], bundles[:256], beam=beam)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            r.inflect(words, bundles, beam=beam, batch_size=256)
            runs.append(time.perf_counter() - t0)
        res[f"decode_beam{beam}_words_per_s"] = round(len(words) / statistics.median(runs), 1)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
