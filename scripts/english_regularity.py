"""Accuracy of an English model on the bundled dev split, by how regular each pair is;
prints and saves JSON.

    python scripts/english_regularity.py [--model runs/default] [--out FILE.json]

The sample splits by lemma, so every dev lemma is unseen in training. A dev pair
is *rule* when both its forms are what lemminflect's rules for unknown words
give for their cells (-s/-es/-ies, -ed/-ied, -ing, -er/-est, e-dropping,
consonant doubling), and *irregular* otherwise (dug from dig, slept, spelt,
begun). An irregular form of an unseen lemma can only be guessed from similar
training verbs (sing/sang helps ring/rang); it cannot be read off the lemma. The
report gives the accuracy of each kind, and the overall accuracy the model would
have if it got every rule pair right: the ceiling that the irregular pairs leave
at the model's current irregular accuracy. Decoding is the model's default (beam
8, reranked with its stored weight and floor); accuracy, Levenshtein and chrF
come from the project's metrics. Only the dev split is read.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import time
from pathlib import Path

from reinflect import metrics
from reinflect.morph import formats, torch_engine

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_english_data", ROOT / "scripts" / "make_english_data.py"
)
builder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(builder)


def pair_kinds(dev_rows: list[formats.Example], *, seed: int = builder.DEFAULT_SEED) -> list[str]:
    """``"rule"`` or ``"irregular"`` for each dev row, from the builder's own lemma
    choice (same seed and counts as the bundled sample)."""
    chosen, split_of = builder.choose(random.Random(seed), builder.DEFAULT_COUNTS)
    kind_of = {}  # (source, target tags, target) -> rule?
    for upos, picked in chosen.items():
        for lemma, cells in picked:
            if split_of[lemma] != "dev":
                continue
            odd = builder.irregular(lemma, upos, cells)
            for _, src in cells:
                for tags, tgt in cells:
                    key = (src, tags, tgt)
                    kind_of[key] = kind_of.get(key, True) and src not in odd and tgt not in odd
    kinds = []
    for e in dev_rows:
        key = (e.source, e.target_tags, e.target)
        if key not in kind_of:
            raise SystemExit(
                f"error: {key} is not a pair of the bundled sample's dev lemmas; "
                "was data/english rebuilt with other settings?"
            )
        kinds.append("rule" if kind_of[key] else "irregular")
    return kinds


def report(model: str, dev: str) -> dict:
    """Accuracy by kind of pair (rule / irregular) of ``model`` on ``dev``, and the ceiling."""
    rows = formats.read(dev)
    kinds = pair_kinds(rows)
    r = torch_engine.Reinflector.load(model)
    t0 = time.perf_counter()
    preds = r.inflect([e.source for e in rows], r.file_bundles(rows, dev), beam=8)
    decode_s = time.perf_counter() - t0
    scores = metrics.score([p[0][0] for p in preds], [e.target for e in rows], kinds)
    by = scores.pop("by_tag")  # grouped by kind here
    rule, odd = by["rule"], by["irregular"]
    n = scores["total"]
    return {
        "model": model,
        "dev": dev,
        "rerank": {"weight": r.rerank, "floor": r.rerank_floor},
        "all": scores,
        "kinds": by,
        "ceiling_if_every_rule_pair_right": 100.0 * (rule["total"] + odd["correct"]) / n,
        "irregular_accuracy_needed_for_95": 100.0 * (0.95 * n - rule["total"]) / odd["total"],
        "decode_seconds": decode_s,
    }


def describe(report: dict) -> str:
    """One line: each kind's accuracy, the overall one and the ceiling."""
    rule, odd = report["kinds"]["rule"], report["kinds"]["irregular"]
    return (
        f"rule pairs {rule['accuracy']:.2f}% of {rule['total']}, irregular "
        f"{odd['accuracy']:.2f}% of {odd['total']}; all {report['all']['accuracy']:.2f}%, at "
        f"most {report['ceiling_if_every_rule_pair_right']:.2f}% with every rule pair right"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="runs/default", help="run directory or model.pt")
    p.add_argument("--dev", default=str(ROOT / "data" / "english" / "dev"))
    p.add_argument("--out", default="results/english_regularity.json")
    a = p.parse_args()
    out = report(a.model, a.dev)
    print(json.dumps(out, indent=2))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"{describe(out)}; wrote {a.out}")


if __name__ == "__main__":
    main()
