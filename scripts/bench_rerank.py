"""How much each reranking feature adds on a trained model, honestly: the grid's
best on the whole dev file (what training stores, a dev-selected number) and
cross-validated (choose on one half of dev, score the other, both ways, over
three random halvings). Prints and saves JSON.

    python scripts/bench_rerank.py --model runs/german --dev DATA/german-task3-dev

Several ``--model`` directories are scored as one ensemble (their mixture
decodes; see ``reinflect.morph.ensemble``).

Features, each with the grid of ``MorphTrainConfig``: ``plain`` (beam 8),
``tagger`` (weight and floor of log q(y|x')), ``tagger+roundtrip`` (and the
weight of log p(x_s|x'), the model rebuilding the source from the hypothesis).
Never reads a test file unless you pass one.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path

import torch

from reinflect import config
from reinflect.morph import formats, predict

FEATURES = {
    "plain": ((0.0,), (None,), (0.0,)),
    "tagger": (config.MorphTrainConfig.rerank_grid, config.MorphTrainConfig.rerank_floors, (0.0,)),
    "tagger+roundtrip": (
        config.MorphTrainConfig.rerank_grid,
        config.MorphTrainConfig.rerank_floors,
        config.MorphTrainConfig.rerank_roundtrips,
    ),
}


def accuracy(scored, targets, rows, setting) -> float:
    return predict.rerank_accuracy([scored[i] for i in rows], [targets[i] for i in rows], setting)


def best(scored, targets, rows, grid):
    """The grid's first setting with the best accuracy on ``rows`` (the order of
    ``Predictor.tune_rerank``: smallest round trip, weight, then floor)."""
    return max(grid, key=lambda g: accuracy(scored, targets, rows, g))


def evaluate(scored, targets, grids, *, splits: int = 3) -> dict:
    rows = list(range(len(targets)))
    out = {}
    for name, (weights, floors, roundtrips) in grids.items():
        grid = predict.rerank_settings(weights, floors, roundtrips)
        chosen = best(scored, targets, rows, grid)
        cv = []
        for seed in range(splits):
            shuffled = rows[:]
            random.Random(seed).shuffle(shuffled)
            halves = shuffled[: len(rows) // 2], shuffled[len(rows) // 2 :]
            hits = 0.0
            for a, b in ((0, 1), (1, 0)):
                g = best(scored, targets, halves[a], grid)
                hits += accuracy(scored, targets, halves[b], g) * len(halves[b])
            cv.append(round(hits / len(rows), 3))
        out[name] = {
            "dev_selected": round(accuracy(scored, targets, rows, chosen), 3),
            "chosen": {"weight": chosen[0], "floor": chosen[1], "roundtrip": chosen[2]},
            "cross_validated": cv,
            "cross_validated_mean": round(sum(cv) / len(cv), 3),
        }
        print(
            f"{name:18s} dev-selected {out[name]['dev_selected']:.2f} {chosen}  "
            f"cross-validated {out[name]['cross_validated_mean']:.2f} {cv}",
            flush=True,
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--model", required=True, nargs="+", help="run directory or model.pt (several: an ensemble)"
    )
    p.add_argument("--dev", required=True, help="the dev file (with gold forms)")
    p.add_argument("--beam", type=int, default=8)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default=None, help="where to save (default: print only)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    r = predict.load(a.model)
    examples = formats.read(a.dev)
    bundles = r.file_bundles(examples, a.dev)
    sources, targets = [e.source for e in examples], [e.target for e in examples]
    t0 = time.perf_counter()
    r.scored_beams(sources, bundles, beam=a.beam)
    t1 = time.perf_counter()
    scored = r.scored_beams(sources, bundles, beam=a.beam, roundtrip=True)
    t2 = time.perf_counter()
    result = {
        "model": a.model[0] if len(a.model) == 1 else a.model,
        "dev": Path(a.dev).name,
        "rows": len(examples),
        "beam": a.beam,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "seconds_beam_and_tagger": round(t1 - t0, 2),
        "seconds_beam_tagger_and_roundtrip": round(t2 - t1, 2),
        "oracle": round(
            100.0
            * sum(t in [f for f, *_ in h] for t, h in zip(targets, scored, strict=True))
            / max(len(targets), 1),
            3,
        ),
        "features": evaluate(scored, targets, FEATURES),
    }
    print(
        f"oracle@{a.beam} {result['oracle']:.2f}; decode {result['seconds_beam_and_tagger']} s, "
        f"with the round trip {result['seconds_beam_tagger_and_roundtrip']} s"
    )
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {a.json}")


if __name__ == "__main__":
    main()
