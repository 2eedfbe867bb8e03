"""How much each reranking feature adds on a trained model, honestly: the grid's
best on the whole dev file (what training stores, a dev-selected number) and
cross-validated (choose on one half of dev, score the other, both ways, over
three random halvings). Prints and saves JSON.

    python scripts/bench_rerank.py --model runs/german --dev DATA/german-task3-dev

Several ``--model`` directories are scored as one ensemble (their mixture
decodes; see ``reinflect.morph.ensemble``).

Features, each with the grid of ``MorphTrainConfig``: ``plain`` (beam 8),
``tagger`` (weight and floor of log q(y|x')), ``tagger+roundtrip`` (and the
weight of log p(x_s|x'), the model rebuilding the source from the hypothesis),
``+rules`` (and the training pairs' edit rules: their forms added to the beam
and a bonus for a training edit; ``reinflect.morph.rules``), ``+first`` (and a
bonus for the rules' first form).
Never reads a test file unless you pass one.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from reinflect import config
from reinflect.morph import formats, predict

T = config.MorphTrainConfig
OFF = (0.0,)
# Each row: the grids of predict.rerank_settings (weight, floor, round trip, rules, first).
FEATURES = {
    "plain": (OFF, (None,), OFF, OFF, OFF),
    "tagger": (T.rerank_grid, T.rerank_floors, OFF, OFF, OFF),
    "tagger+roundtrip": (T.rerank_grid, T.rerank_floors, T.rerank_roundtrips, OFF, OFF),
    "+rules": (T.rerank_grid, T.rerank_floors, T.rerank_roundtrips, T.rerank_rules, OFF),
    "+first": (
        T.rerank_grid, T.rerank_floors, T.rerank_roundtrips, T.rerank_rules, T.rerank_firsts
    ),
}  # fmt: skip


def evaluate(scored, targets, grids, *, splits: int = 3) -> dict:
    out = {}
    for name, grid_of in grids.items():
        grid = predict.rerank_settings(*grid_of)
        out[name] = predict.cross_validated_rerank(scored, targets, grid, splits=splits)
        print(
            f"{name:18s} dev-selected {out[name]['dev_selected']:.2f} {out[name]['chosen']}  "
            f"cross-validated {out[name]['cross_validated_mean']:.2f} "
            f"{out[name]['cross_validated']}",
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
    scored = r.scored_beams(
        sources, bundles, beam=a.beam, roundtrip=True, candidates=predict.RULE_CANDIDATES
    )
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
            * sum(
                t in [h.form for h in beam if not h.added]
                for t, beam in zip(targets, scored, strict=True)
            )
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
