"""The README's zero-argument run, measured: ``reinflect train`` on the bundled English
sample with nothing else, then the README's example predictions, dev accuracy (new
regular lemmas) and the trained irregular pairs (``scripts/english_regularity.py``);
prints and saves JSON.

    python scripts/bench_english_zero_arg.py [--out-dir runs/default] [--json FILE.json]

Training runs as its own process (``reinflect train --no-progress``; the flag only
hides the progress bar), so the wall time and peak RSS are those a user sees.
``--out-dir`` other than ``runs/default`` is passed on as ``--out``; the examples
then read that model with ``--model``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from reinflect import training

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RUN = "runs/default"
EXAMPLES = (
    ("plays", "PST"),
    ("go", "PST"),
    ("went", "NFIN"),
    ("mice", "SG"),
    ("mouse", "N;PL"),
    ("keen", "SPRL"),
    ("be", "V;PST"),
    ("good", "ADJ;CMPR"),
    ("child", "N;PL"),
    ("Kafka", "N;PL"),
    ("sing", "PST"),
    ("ring", "PST"),
)
_spec = importlib.util.spec_from_file_location(
    "english_regularity", ROOT / "scripts" / "english_regularity.py"
)
regularity = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(regularity)


def reinflect(*args: str) -> subprocess.CompletedProcess:
    """``reinflect ARGS`` in this interpreter's environment; stops the script on failure."""
    cmd = [sys.executable, "-m", "reinflect", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"reinflect {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out-dir", default=DEFAULT_RUN, help="run directory of the training")
    p.add_argument("--json", default="results/english_zero_arg.json")
    a = p.parse_args()
    model = ["--model", a.out_dir] if a.out_dir != DEFAULT_RUN else []
    train = ["train", "--no-progress"] + (["--out", a.out_dir] if model else [])
    t0 = time.perf_counter()
    reinflect(*train)
    wall = time.perf_counter() - t0
    peak_rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    summary = json.loads((ROOT / a.out_dir / "summary.json").read_text(encoding="utf-8"))
    predictions = {}
    for word, tags in EXAMPLES:
        shown = reinflect("predict", word, "--tags", tags, *model).stdout.strip()
        predictions[f"{word} --tags {tags}"] = shown
        print(f"{word} --tags {tags}: {shown}")
    sample = ROOT / "data" / "english"
    report = regularity.report(
        str(ROOT / a.out_dir), str(sample / "dev"), str(sample / "irregular")
    )
    result = {
        "command": "reinflect " + " ".join(train),
        "machine": training.machine(),
        "wall_seconds_total": round(wall, 1),
        "peak_rss_mib": round(peak_rss_mib),
        "summary": summary,
        "predictions": predictions,
        "regularity": report,
    }
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(
        f"train {wall:.0f} s ({summary['steps']} updates, peak RSS {peak_rss_mib:.0f} MiB); "
        f"best greedy {summary['best_dev_accuracy']:.2f}% at update {summary['best_step']}; "
        f"{regularity.describe(report)}; wrote {a.json}"
    )


if __name__ == "__main__":
    main()
