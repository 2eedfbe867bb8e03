"""What an English model knows: new regular words (dev) and the irregular forms it
was trained on; prints and saves JSON.

    python scripts/english_regularity.py [--model runs/default] [--out FILE.json]

The bundled sample (``scripts/make_english_data.py``) puts every lemma with an
irregular form into training with all its pairs and splits the regular lemmas,
so dev accuracy measures generalisation to unseen regular words (goal: 97%)
and ``data/english/irregular``, the training pairs whose target is irregular
(went, mice, better), whether the model reproduces them (goal: 99%): as
``reinflect predict`` answers (a pair seen in training gives training's
form) and by the model alone (``--no-lookup``). Also
shown: the README's examples (mouse N;PL, be V;PST, good ADJ;CMPR, child
N;PL, and Kafka N;PL, with a character never seen in training). Decoding is
the model's default (beam 8, reranked with its stored weights); accuracy,
Levenshtein and chrF come from the project's metrics.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import reinflect

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [
    ("mouse", "N;PL"),
    ("be", "V;PST"),
    ("good", "ADJ;CMPR"),
    ("child", "N;PL"),
    ("go", "V;V.PTCP;PST"),
    ("Kafka", "N;PL"),
    ("plays", "PST"),
]


def report(model: str, dev: str, irregular: str) -> dict:
    """Dev and irregular-pair scores of ``model`` and its forms for :data:`EXAMPLES`."""
    m = reinflect.load(model, engine="torch")
    out: dict = {"model": model}
    runs = (("dev", dev, True), ("irregular", irregular, True))
    runs += (("irregular_model_alone", irregular, False),)
    for name, path, lookup in runs:
        t0 = time.perf_counter()
        out[name] = m.evaluate(path, lookup=lookup) | {"file": path}
        out[name]["seconds"] = round(time.perf_counter() - t0, 2)
    out["examples"] = {f"{w} {t}": m.inflect(w, t) for w, t in EXAMPLES}
    out["examples_model_alone"] = {f"{w} {t}": m.inflect(w, t, lookup=False) for w, t in EXAMPLES}
    return out


def describe(r: dict) -> str:
    shown = ", ".join(f"{k} -> {v}" for k, v in r["examples"].items())
    return (
        f"dev (new regular lemmas) {r['dev']['accuracy']:.2f}%, trained irregular pairs "
        f"{r['irregular']['accuracy']:.2f}% (the model alone "
        f"{r['irregular_model_alone']['accuracy']:.2f}%); {shown}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="runs/default", help="run directory or model.pt")
    p.add_argument("--dev", default=str(ROOT / "data" / "english" / "dev"))
    p.add_argument("--irregular", default=str(ROOT / "data" / "english" / "irregular"))
    p.add_argument("--out", default="results/english_regularity.json")
    a = p.parse_args()
    out = report(a.model, a.dev, a.irregular)
    print(json.dumps(out, indent=2))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"{describe(out)}; wrote {a.out}")


if __name__ == "__main__":
    main()
