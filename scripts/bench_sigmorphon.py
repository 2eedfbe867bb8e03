"""Train and score MSVED on SIGMORPHON 2016 task 3, per language; prints and saves
JSON plus a markdown table.

    python scripts/bench_sigmorphon.py --langs turkish hungarian navajo --minutes 15
    python scripts/bench_sigmorphon.py --langs turkish --modes semi --source-attention

For each language and mode (``semi``: labeled + unlabeled words; ``sup``:
``--supervised-only``) it trains on ``<lang>-task3-train`` for ``--minutes``,
selects on dev (greedy), then decodes dev with beam 8: accuracy and mean
Levenshtein, plain and reranked (the model's classifier and the round trip,
with the weights that training chose on the same dev file, so the reranked
number is selected on dev as well), and the beam's oracle (how often the gold
form is among the 8).
``--score-only`` scores the runs already in ``--runs``; ``--resume`` continues
runs cut off before their ``--minutes`` (from ``last.pt``, exactly, the time
already spent counting against the budget). Test files are never
read. Data: ``--data-dir`` or ``$REINFLECT_DATA_MIRROR/<dataset>``.

``--dataset conll2017 --setting medium`` does the same on CoNLL-SIGMORPHON
2017 task 1 (``<lang>-train-<setting>``, ``<lang>-dev``):

    python scripts/bench_sigmorphon.py --dataset conll2017 --setting medium \\
        --langs spanish --modes semi --minutes 8 --hallucinate 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from reinflect import config, download
from reinflect import training as train
from reinflect.morph import formats, predict, torch_engine
from reinflect.morph import train as morph_train

MED_STANDARD = {
    "arabic": 96.52, "finnish": 96.56, "georgian": 98.87, "german": 95.60, "hungarian": 99.50,
    "maltese": 87.83, "navajo": 96.20, "russian": 89.91, "spanish": 97.96, "turkish": 99.31,
}  # fmt: skip


# The training options this benchmark passes on (config.MORPH_OPTIONS names).
OPTIONS = (
    "eval_every", "batch_size", "patience", "seed", "match_unlabeled_lengths", "lr",
    "lr_schedule", "word_dropout", "dropout", "hallucinate", "kl_delay", "y_kl_weight",
    "average", "precision",
)  # fmt: skip


def dataset(a, lang: str, root: Path | None):
    return download.dataset_files(a.dataset, lang, task=3, setting=a.setting, data_dir=root)


def run_dir(a, lang: str, mode: str) -> Path:
    return Path(a.runs) / f"{lang}_{mode}{_attention_tag(a)}"


def _attention_tag(a) -> str:
    """``_srcattn`` (style "input") or ``_srcattn_output``; empty without."""
    if not a.source_attention:
        return ""
    return "_srcattn" + ("" if a.source_attention == "input" else f"_{a.source_attention}")


def one(lang: str, mode: str, a, root: Path | None) -> dict:
    train_paths, dev = dataset(a, lang, root)
    out = run_dir(a, lang, mode)
    options = config.morph_options(a, OPTIONS) | config.source_attention(a.source_attention)
    run = config.resolve_morph(
        options | {"supervised_only": mode == "sup", "minutes": a.minutes, "max_steps": a.max_steps}
    )
    t0 = time.perf_counter()
    trainer = morph_train.Trainer(
        train_path=train_paths,
        dev_path=dev,
        out_dir=out,
        model_cfg=run.model,
        train_cfg=run.train,
        progress=a.progress,
    )
    (out / "config.toml").parent.mkdir(parents=True, exist_ok=True)
    (out / "config.toml").write_text(config.to_toml(trainer.sized(run)))
    if a.resume and (out / "last.pt").exists():
        trainer.resume()
    setup = time.perf_counter() - t0
    summary = trainer.fit()
    return score(lang, mode, a, out, dev, train_paths, summary, setup)


def score(lang, mode, a, out: Path, dev: Path, train_paths, summary: dict, setup=None) -> dict:
    """Beam-8 dev scores of the run in ``out``: plain, and reranked with the weight,
    floor and round-trip weight chosen on this dev file (tuned here for runs made before training
    did it, or with ``--retune-rerank``)."""
    r = torch_engine.Reinflector.load(out)
    examples = formats.read(dev)
    sources, bundles = [e.source for e in examples], r.file_bundles(examples, dev)
    if summary.get("rerank") is None or a.retune_rerank:
        summary["rerank"] = r.tune_rerank(sources, bundles, [e.target for e in examples]) | {
            "tuned_after_training": True
        }
    t1 = time.perf_counter()
    plain = predict.evaluate(r, dev, beam=8, rerank=0.0, rerank_roundtrip=0.0)
    decode_s = time.perf_counter() - t1
    scores = predict.evaluate(r, dev, beam=8)
    beams = r.inflect(sources, bundles, beam=8, nbest=8, rerank=0.0, rerank_roundtrip=0.0)
    in_beam = sum(e.target in [f for f, _ in b] for e, b in zip(examples, beams, strict=True))
    curve = [
        {
            k: rec[k]
            for k in ("step", "seconds", "dev_accuracy", "dev_accuracy_unaveraged")
            if k in rec
        }
        for rec in train.MetricsLog.read(out / "metrics.jsonl")
    ]
    return {
        "lang": lang,
        "dataset": a.dataset,
        "setting": a.setting,
        "mode": mode,
        "source_attention": bool(a.source_attention),
        "source_attention_style": a.source_attention,
        "dev_accuracy_beam8": plain["accuracy"],
        "dev_levenshtein_beam8": plain["levenshtein"],
        "dev_chrf_beam8": plain["chrf"],
        "rerank_weight": r.rerank,
        "rerank_floor": r.rerank_floor,
        "rerank_roundtrip": r.rerank_roundtrip,
        "rerank_tuned_after_training": bool(summary["rerank"].get("tuned_after_training")),
        "rerank_grid_dev_accuracy": summary["rerank"]["dev_accuracy_beam8"],
        "dev_accuracy_beam8_reranked": scores["accuracy"],
        # the share of dev rows whose gold form is among the 8 of the beam: the
        # most that any ranking of the beam could reach
        "dev_oracle_beam8": 100.0 * in_beam / max(len(examples), 1),
        "dev_levenshtein_beam8_reranked": scores["levenshtein"],
        "best_dev_accuracy_greedy": summary["best_dev_accuracy"],
        "med_standard_test": MED_STANDARD.get(lang) if a.dataset == "sigmorphon2016" else None,
        "train_files": [p.name for p in train_paths],
        "train_pairs": summary["train_pairs"],
        "hallucinated_pairs": summary.get("hallucinated_pairs", 0),
        "unlabeled_words": summary["unlabeled_words"],
        "steps": summary["steps"],
        "train_seconds": summary["seconds"],
        "labeled_pairs_per_second": summary["steps"]
        * (a.batch_size or config.option_default("batch_size"))
        / max(summary["seconds"], 1e-9),
        "setup_seconds": None if setup is None else round(setup, 1),
        "dev_decode_seconds_beam8": round(decode_s, 1),
        "stop": summary["stop"],
        "curve": curve,
    }


def _rerank_label(row: dict) -> str:
    floor, roundtrip = row.get("rerank_floor"), row.get("rerank_roundtrip")
    label = f"{row['rerank_weight']:g}" + ("" if floor is None else f", {floor:g}")
    return label + (f", rt {roundtrip:g}" if roundtrip else "")


def table(rows: list[dict]) -> str:
    head = "| lang | mode | dev acc (beam 8) | reranked (w, floor, rt) | dev Lev. | oracle@8 "
    head += "| MED std (test) | pairs/s | train s | stop |\n"
    head += "|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n"
    return head + "".join(
        f"| {r['lang']} | {r['mode']} | {r['dev_accuracy_beam8']:.2f} "
        f"| {r['dev_accuracy_beam8_reranked']:.2f} ({_rerank_label(r)}) "
        f"| {r['dev_levenshtein_beam8_reranked']:.3f} | {r['dev_oracle_beam8']:.2f} "
        f"| {r['med_standard_test'] or '-'} | {r['labeled_pairs_per_second']:.0f} "
        f"| {r['train_seconds']:.0f} | {r['stop']} |\n"
        for r in rows
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--langs", nargs="+", default=["turkish", "hungarian", "navajo"])
    p.add_argument("--modes", nargs="+", default=["sup", "semi"], choices=["sup", "semi"])
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--max-steps", type=int, default=None)
    config.add_source_attention_option(p)
    config.add_morph_arguments(p, OPTIONS)
    p.add_argument("--dataset", default="sigmorphon2016", choices=list(download.SETTINGS))
    p.add_argument(
        "--setting",
        default=None,
        choices=sorted({s for v in download.SETTINGS.values() for s in v}),
        help="sigmorphon2016: restricted (default) or standard; conll2017: high (default), "
        "medium or low",
    )
    p.add_argument("--data-dir", default=None)
    p.add_argument("--runs", default="runs/bench_sigmorphon")
    p.add_argument("--json", default=None)
    p.add_argument("--progress", action="store_true")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue runs already in --runs from their last.pt (a run cut off by a signal "
        "or a lost machine) up to the same --minutes in all; runs without one start afresh",
    )
    p.add_argument(
        "--score-only",
        action="store_true",
        help="score the runs already in --runs (no training); tune the reranking weight "
        "on dev for runs made before training did it",
    )
    p.add_argument(
        "--retune-rerank",
        action="store_true",
        help="with --score-only: choose the reranking weights on dev again "
        "(runs trained before floors or round trips existed); the JSON says it was tuned "
        "after training",
    )
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    root = Path(a.data_dir) if a.data_dir else None
    rows = []
    for lang in a.langs:
        for mode in a.modes:
            if a.score_only:
                out = run_dir(a, lang, mode)
                train_paths, dev = dataset(a, lang, root)
                summary = json.loads((out / "summary.json").read_text())
                rows.append(score(lang, mode, a, out, dev, train_paths, summary))
            else:
                rows.append(one(lang, mode, a, root))
            r = rows[-1]
            print(
                f"{lang} {mode}: dev {r['dev_accuracy_beam8']:.2f}% (reranked "
                f"{r['dev_accuracy_beam8_reranked']:.2f}%) in {r['train_seconds']:.0f} s"
            )
    result = {
        "machine": train.machine(),
        "settings": vars(a),
        "results": rows,
        "table": table(rows),
    }
    tag = "_".join(a.langs) + _attention_tag(a)
    tag += "_standard" if a.setting == "standard" else ""
    tag = tag if a.dataset == "sigmorphon2016" else f"{a.dataset}_{a.setting or 'high'}_{tag}"
    path = Path(a.json or f"results/bench_sigmorphon_{tag}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    path.with_suffix(".md").write_text(table(rows))
    print(table(rows))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
