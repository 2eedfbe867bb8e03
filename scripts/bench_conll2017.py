"""Train and score reinflect on CoNLL-SIGMORPHON 2017 task 1, per language and
setting, with the defaults ``reinflect train`` would choose; prints and saves
JSON plus a markdown table beside the organisers' baseline and the UZH winner
(test accuracies from ``../shared/docs/conll2017-reference.tsv``).

    python scripts/bench_conll2017.py --langs english german --settings medium low --jobs 2
    python scripts/bench_conll2017.py --subset --settings low --jobs 2 --resume
    python scripts/bench_conll2017.py --all --settings medium --jobs 2 --tag all52

Each run trains on ``<lang>-train-<setting>`` for a fixed budget (``--minutes``
per setting; one torch thread per job) and is scored on ``<lang>-dev``: greedy,
beam 8, the default decoding (beam 8 reranked with the weights training chose
on this dev file; a dev-selected number) and those weights cross-validated on
dev halves (choose on one half, score the other: the honest number at this
size), the beam's oracle, the kinds of error (:mod:`reinflect.morph.errors`)
and the dev curve by passes over the training pairs. A run that has its
``result.json`` is done; with ``--resume`` one cut off continues from its
``last.pt`` and finished ones are only read back. ``--rescore`` trains
nothing: it scores the trained runs of ``--tag`` again with today's decoding,
the reranking chosen again on dev as training now would (after a change to
decoding), into ``result_rescored.json`` and ``<tag>_rescored``. Test files are
never read.
Data: ``--data-dir`` or ``$REINFLECT_DATA_MIRROR/conll2017``.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import subprocess
import time
from pathlib import Path

from reinflect import config, download
from reinflect import training as train
from reinflect.morph import errors, predict

# The development subset of the issue "Small data": settings are chosen on it only.
SUBSET = (
    "english", "spanish", "german", "turkish", "finnish", "hungarian", "russian", "arabic",
    "navajo", "latin", "irish", "khaling",
)  # fmt: skip
SETTINGS = ("low", "medium", "high")
MINUTES = {"low": 2.0, "medium": 5.0, "high": 20.0}  # the budgets on one thread
# Beside the project, or beside the data mirror (a clone elsewhere, as sweeps run).
REFERENCES = [
    Path(__file__).resolve().parents[2] / "shared" / "docs" / "conll2017-reference.tsv",
    Path(os.environ.get("REINFLECT_DATA_MIRROR", "data")).parent
    / "docs"
    / "conll2017-reference.tsv",
]

# The training options this benchmark passes on (config.MORPH_OPTIONS names).
OPTIONS = (
    "supervised_only", "hallucinate", "unlabeled_source", "max_steps", "batch_size",
    "eval_every", "patience", "seed", "lr",
    "word_dropout", "dropout", "kl_delay", "kl_rate", "kl_cap", "unlabeled_weight",
    "wordfreq_words",
    "source_attention", "source_attention_style", "copy", "unlabeled_batch", "lr_schedule",
    "char_embedding", "encoder_hidden", "decoder_hidden", "latent", "tag_embedding",
)  # fmt: skip


def reference(paths: list[Path] = REFERENCES) -> dict[str, dict[str, float]]:
    """language -> {baseline_low, ..., uzh_medium, uzh_low} (test accuracies);
    empty, with a warning, where the reference file is not found."""
    path = next((p for p in paths if p.is_file()), None)
    if path is None:
        print(f"warning: no {paths[0].name} at {' or '.join(map(str, paths))}", flush=True)
        return {}
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f, delimiter="\t")
        return {
            r["language"]: {k: float(v) for k, v in r.items() if k != "language" and v}
            for r in rows
        }


def source_state() -> dict:
    """The commit the sweep runs and whether the tree has uncommitted changes."""
    here = Path(__file__).resolve().parents[1]

    def git(*args):
        out = subprocess.run(["git", *args], cwd=here, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(status)}


def languages(data_dir: Path | None) -> list[str]:
    """Every language with a ``-train-low`` file in the data directory."""
    _, dev = download.dataset_files("conll2017", "english", setting="low", data_dir=data_dir)
    return sorted(p.name[: -len("-train-low")] for p in dev.parent.glob("*-train-low"))


def run_dir(a, lang: str, setting: str) -> Path:
    return Path(a.runs) / a.tag / setting / lang


def job(args: tuple) -> dict:
    """Train (or resume) and score one language and setting, in its own process."""
    a, lang, setting = args
    import torch

    from reinflect.morph import train as morph_train

    torch.set_num_threads(a.threads)
    out = run_dir(a, lang, setting)
    done = out / ("result_rescored.json" if a.rescore else "result.json")
    if done.exists() and (a.resume or not a.rescore):
        return json.loads(done.read_text())
    root = Path(a.data_dir) if a.data_dir else None
    train_paths, dev = download.dataset_files("conll2017", lang, setting=setting, data_dir=root)
    minutes = a.minutes or MINUTES[setting]
    if a.rescore:
        trained = json.loads((out / "result.json").read_text())
        summary = json.loads((out / "summary.json").read_text())
        row = score(out, dev, summary, retune=True)
        row |= {"lang": lang, "setting": setting, "minutes": trained["minutes"]}
        done.write_text(json.dumps(row, indent=2) + "\n")
        return row
    run = config.resolve_morph(
        config.morph_options(a, OPTIONS)
        | {"dataset": "conll2017", "lang": lang, "setting": setting, "minutes": minutes}
    )
    summary_path = out / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
    else:
        trainer = morph_train.Trainer(
            train_path=train_paths,
            dev_path=dev,
            out_dir=out,
            model_cfg=run.model,
            train_cfg=run.train,
            lang=lang,
            progress=False,
        )
        out.mkdir(parents=True, exist_ok=True)
        # With what the training set's size chose (reinflect.morph.sizing).
        (out / "config.toml").write_text(config.to_toml(trainer.sized(run)))
        if (out / "last.pt").exists():
            trainer.resume()
        summary = trainer.fit()
    row = score(out, dev, summary) | {"lang": lang, "setting": setting, "minutes": minutes}
    done.write_text(json.dumps(row, indent=2) + "\n")
    return row


def score(out: Path, dev: Path, summary: dict, *, retune: bool = False) -> dict:
    """The dev scores of the run in ``out`` (see the module's docstring); with
    ``retune`` the default decoding is reranked with the setting chosen on dev
    now (:meth:`Predictor.tune_rerank` chooses the same), not the stored one."""
    from reinflect.morph import torch_engine

    r = torch_engine.Reinflector.load(out)
    examples = predict.read_gold(dev)
    sources, targets = [e.source for e in examples], [e.target for e in examples]
    bundles = r.file_bundles(examples, dev)
    t0 = time.perf_counter()
    greedy = [h[0][0] if h else "" for h in r.inflect(sources, bundles, beam=1)]
    scored = r.scored_beams(
        sources, bundles, beam=8, roundtrip=True, candidates=predict.RULE_CANDIDATES
    )
    decode_s = time.perf_counter() - t0

    def first(ranked):
        return [h[0][0] if h else "" for h in ranked]

    def acc(preds):
        return round(100.0 * sum(map(str.__eq__, preds, targets)) / max(len(targets), 1), 2)

    beam8 = first(scored)
    grid = predict.rerank_settings(
        predict.RERANK_GRID,
        predict.RERANK_FLOORS,
        predict.RERANK_ROUNDTRIPS,
        predict.RERANK_RULES,
        predict.RERANK_FIRSTS,
    )
    cv = predict.cross_validated_rerank(scored, targets, grid)
    if retune:
        r.setting = predict.Setting(**cv["chosen"])
    default = first(predict.rank(scored, r.setting))

    def oracle(rules: bool) -> float:
        hits = sum(
            t in [h.form for h in beam if rules or not h.added]
            for t, beam in zip(targets, scored, strict=True)
        )
        return round(100.0 * hits / max(len(targets), 1), 2)

    per_pass = summary["train_pairs"] + summary.get("hallucinated_pairs", 0)
    batch = config.resolve_morph(config_file=out / "config.toml").train.batch_size
    curve = [
        {
            "step": rec["step"],
            "passes": round(rec["step"] * batch / max(per_pass, 1), 2),
            "seconds": rec.get("seconds"),
            "dev_accuracy": rec.get("dev_accuracy"),
        }
        for rec in train.MetricsLog.read(out / "metrics.jsonl")
        if "dev_accuracy" in rec
    ]
    return {
        "greedy": acc(greedy),
        "beam8": acc(beam8),
        "default": acc(default),
        "default_cross_validated": cv["cross_validated_mean"],
        "rerank": r.setting._asdict(),
        "oracle8": oracle(False),
        # with the edit rules' forms (predict.RULE_CANDIDATES per word)
        "oracle8_rules": oracle(True),
        "errors": errors.summary(sources, targets, default),
        # What z and y carry on the dev targets (the copy's trap: near 0 / low).
        **r.latent_stats(targets, bundles),
        "train_pairs": summary["train_pairs"],
        "hallucinated_pairs": summary.get("hallucinated_pairs", 0),
        "unlabeled_words": summary["unlabeled_words"],
        "updates": summary["steps"],
        "train_seconds": round(summary["seconds"], 1),
        "dev_decode_seconds": round(decode_s, 1),
        "stop": summary["stop"],
        "curve": curve,
    }


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(sum(xs) / len(xs), 2) if xs else None


def table(rows: list[dict], ref: dict) -> str:
    head = (
        "| lang | setting | greedy | beam 8 | default | default (cv) | oracle@8 | KL(z) | tags "
        "| updates | seconds | baseline (test) | UZH (test) |\n|---|---|" + "---:|" * 11 + "\n"
    )
    lines = []
    for setting in SETTINGS:
        these = [r for r in rows if r["setting"] == setting]
        for r in these:
            base = ref.get(r["lang"], {}).get(f"baseline_{setting}")
            uzh = ref.get(r["lang"], {}).get(f"uzh_{setting}")
            lines.append(
                f"| {r['lang']} | {setting} | {r['greedy']:.1f} | {r['beam8']:.1f} "
                f"| {r['default']:.1f} | {r['default_cross_validated']:.1f} | {r['oracle8']:.1f} "
                f"| {r.get('kl_z', '-')} | {r.get('tag_accuracy', '-')} "
                f"| {r['updates']} | {r['train_seconds']:.0f} "
                f"| {'-' if base is None else base} | {'-' if uzh is None else uzh} |\n"
            )
        if these:
            m = {k: _mean(r[k] for r in these) for k in ("greedy", "beam8", "default")}
            cv = _mean(r["default_cross_validated"] for r in these)
            base = _mean(ref.get(r["lang"], {}).get(f"baseline_{setting}") for r in these)
            uzh = _mean(ref.get(r["lang"], {}).get(f"uzh_{setting}") for r in these)
            lines.append(
                f"| **mean of {len(these)}** | {setting} | {m['greedy']} | {m['beam8']} "
                f"| {m['default']} | {cv} | | | | | | {base} | {uzh} |\n"
            )
    return head + "".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--langs", nargs="+")
    which.add_argument("--subset", action="store_true", help="the 12 development languages")
    which.add_argument("--all", action="store_true", help="all 52 languages")
    p.add_argument("--settings", nargs="+", default=["medium", "low"], choices=SETTINGS)
    p.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="the budget of every run (default: low 2, medium 5, high 20)",
    )
    config.add_morph_arguments(p, OPTIONS)
    p.add_argument("--jobs", type=int, default=1, help="runs at the same time (one per core)")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--runs", default="runs/bench_conll2017")
    p.add_argument("--tag", default="defaults", help="the sweep's name (its folder and JSON)")
    p.add_argument("--resume", action="store_true", help="continue a sweep that was cut off")
    p.add_argument(
        "--rescore",
        action="store_true",
        help="train nothing: score the trained runs of --tag again with today's decoding",
    )
    a = p.parse_args()
    root = Path(a.data_dir) if a.data_dir else None
    langs = list(SUBSET) if a.subset else languages(root) if a.all else a.langs or ["english"]
    todo = [(a, lang, s) for s in a.settings for lang in langs]
    if a.rescore:
        missing = [run_dir(a, lang, s) for _, lang, s in todo]
        missing = [d for d in missing if not (d / "result.json").exists()]
        if missing:
            raise SystemExit(f"{missing[0]} has no finished run to score again")
    elif not a.resume:
        started = [run_dir(a, lang, s) for _, lang, s in todo if run_dir(a, lang, s).exists()]
        if started:
            raise SystemExit(
                f"{started[0]} exists: pass --resume to continue the sweep, or another --tag"
            )
    code = source_state()
    if code["dirty"]:
        # Each run is a fresh process that imports the package from disk: an edit
        # made while the sweep runs would reach the runs after it.
        print(
            "warning: the working tree has uncommitted changes; run sweeps from a "
            "clone of a commit (git clone . /tmp/bench && cd /tmp/bench)",
            flush=True,
        )
    ref = reference()
    rows = []
    with multiprocessing.get_context("spawn").Pool(a.jobs, maxtasksperchild=1) as pool:
        for row in pool.imap(job, todo):
            rows.append(row)
            print(
                f"{row['lang']} {row['setting']}: greedy {row['greedy']:.1f}, default "
                f"{row['default']:.1f} (cv {row['default_cross_validated']:.1f}), "
                f"{row['updates']} updates in {row['train_seconds']:.0f} s",
                flush=True,
            )
    result = {
        "machine": train.machine(),
        "code": code,
        "settings": vars(a),
        "results": rows,
        "table": table(rows, ref),
    }
    name = f"{a.tag}_rescored" if a.rescore else a.tag
    path = Path("results") / f"bench_conll2017_{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    path.with_suffix(".md").write_text(result["table"])
    print(result["table"])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
