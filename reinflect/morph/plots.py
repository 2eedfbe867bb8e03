"""Pictures of what a reinflection model learned (PNG; needs the ``plot`` extra),
and the error table of its dev predictions.

* ``curves.png``  -- from ``metrics.jsonl``: dev accuracy (averaged and plain
  weights) against updates and against wall time, the loss terms, KL(z) with
  its weight, and the Gumbel temperature.
* ``latent.png``  -- z = mu(x) of the dev target forms, projected to 2-D by
  PCA: coloured by lemma (paradigms should cluster if z holds the lemma) and
  by one tag dimension (they should not cluster by it).
* ``tags.png``    -- per tag dimension, the confusion of q(y|x)'s most probable
  value against the gold value of each dev target form (rows sum to 1).
* ``errors.md``   -- the dev predictions' error kinds
  (:mod:`reinflect.morph.errors`: copied source, wrong affix, garbled stem)
  with examples.

Written at the end of ``reinflect train`` when matplotlib is installed, and
on demand by ``reinflect plot RUN``.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from reinflect import checkpoint, plotting, training
from reinflect.morph import errors as error_kinds
from reinflect.morph import formats

LEMMAS_SHOWN = 10  # lemmas with their own colour in latent.png (the rest grey)
DIMENSIONS_SHOWN = 12  # tag dimensions drawn in tags.png


def curves(metrics_path: Path, path: Path) -> bool:
    """``curves.png`` from the dev-check records of ``metrics_path``; False when
    there are none."""
    records = [r for r in training.MetricsLog.read(metrics_path) if "step" in r]
    if not records:
        return False
    plt = plotting.pyplot()
    steps = [r["step"] for r in records]

    def series(key):
        return [r.get(key, math.nan) for r in records]

    fig, axes = plt.subplots(1, 5, figsize=(19, 3.4))
    for x, label, ax in ((steps, "updates", axes[0]), (series("seconds"), "seconds", axes[1])):
        ax.plot(x, series("dev_accuracy"), marker=".", label="averaged weights")
        ax.plot(x, series("dev_accuracy_unaveraged"), marker=".", label="plain weights")
        ax.set_xlabel(label)
        ax.set_ylabel("dev accuracy (%, greedy)")
        ax.legend(fontsize=7)
    ax = axes[2]
    for key, name in (
        ("loss", "loss"),
        ("log_px", "-log p(x_t|z,y) labeled"),
        ("u_log_px", "-log p(x|z,y) unlabeled"),
        ("ce", "tagger cross-entropy"),
    ):
        values = series(key)
        if any(not math.isnan(v) for v in values):
            sign = -1.0 if key.endswith("log_px") else 1.0
            ax.plot(steps, [sign * v for v in values], label=name)
    ax.set_yscale("symlog")
    ax.set_xlabel("updates")
    ax.set_title("loss terms (nats per word)", fontsize=9)
    ax.legend(fontsize=7)
    ax = axes[3]
    ax.plot(steps, series("kl_z"), label="KL(z) labeled")
    if any(not math.isnan(v) for v in series("u_kl_z")):
        ax.plot(steps, series("u_kl_z"), label="KL(z) unlabeled")
    ax.set_xlabel("updates")
    ax.set_ylabel("nats")
    ax.legend(fontsize=7, loc="upper left")
    weight = ax.twinx()
    weight.plot(steps, series("kl_weight"), color="black", linestyle="--", label="KL(z) weight")
    weight.set_ylabel("KL(z) weight")
    weight.legend(fontsize=7, loc="lower right")
    ax = axes[4]
    ax.plot(steps, series("temperature"))
    ax.set_xlabel("updates")
    ax.set_title("Gumbel-softmax temperature", fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plotting.save(fig, path, dpi=90)
    return True


def _pca(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first two principal components of the rows of ``x`` and the share of
    the variance each explains."""
    centred = x - x.mean(0)
    u, s, _ = np.linalg.svd(centred, full_matrices=False)
    var = s**2 / max((s**2).sum(), 1e-12)
    xy = np.zeros((len(x), 2))
    k = min(2, len(s))  # one word, or one dimension: the rest stays 0
    xy[:, :k] = u[:, :k] * s[:k]
    return xy, np.pad(var[:k], (0, 2 - k))


def _tag_dimension(bundles: list[dict[str, str]]) -> str | None:
    """The dimension whose values vary most among ``bundles`` (highest entropy)."""
    best, best_h = None, 0.0
    for dim in sorted({d for b in bundles for d in b}):
        counts = Counter(b.get(dim, "-") for b in bundles)
        n = sum(counts.values())
        h = -sum(c / n * math.log(c / n) for c in counts.values())
        if h > best_h:
            best, best_h = dim, h
    return best


def latent(reinflector, examples: list[formats.Example], bundles, path: Path) -> None:
    """``latent.png``: z = mu(target form) of the dev rows, PCA to 2-D."""
    plt = plotting.pyplot()
    words = [e.target for e in examples]
    mu, _ = reinflector.latents(words)
    xy, var = _pca(mu)
    lemmas = [e.source for e in examples]
    top = [lemma for lemma, _ in Counter(lemmas).most_common(LEMMAS_SHOWN)]
    dim = _tag_dimension(bundles)
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    cmap = plt.get_cmap("tab10")
    ax = axes[0]
    rest = [i for i, lemma in enumerate(lemmas) if lemma not in top]
    ax.scatter(xy[rest, 0], xy[rest, 1], s=5, color="lightgrey", label="other lemmas")
    for j, lemma in enumerate(top):
        idx = [i for i, x in enumerate(lemmas) if x == lemma]
        ax.scatter(xy[idx, 0], xy[idx, 1], s=14, color=cmap(j % 10), label=lemma)
    ax.set_title(f"z = mu(x) of dev forms, by lemma ({LEMMAS_SHOWN} largest paradigms)")
    ax.legend(fontsize=7, markerscale=1.5)
    ax = axes[1]
    values = [b.get(dim, "(absent)") if dim else "-" for b in bundles]
    for j, (value, _) in enumerate(Counter(values).most_common(10)):
        idx = [i for i, v in enumerate(values) if v == value]
        ax.scatter(xy[idx, 0], xy[idx, 1], s=6, color=cmap(j % 10), label=value)
    ax.set_title(f"the same, by {dim} (should not cluster if z holds the lemma)")
    ax.legend(fontsize=7, markerscale=2)
    for ax in axes:
        ax.set_xlabel(f"PC 1 ({100 * var[0]:.0f}% of variance)")
        ax.set_ylabel(f"PC 2 ({100 * var[1]:.0f}%)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    plotting.save(fig, path, dpi=90)


def tag_confusion(reinflector, examples: list[formats.Example], bundles, path: Path) -> None:
    """``tags.png``: per dimension, q(y|x)'s most probable value against the gold
    value of each dev target form (row-normalised; the diagonal is right)."""
    plt = plotting.pyplot()
    schema = reinflector.schema
    _, probs = reinflector.latents([e.target for e in examples])
    gold = np.array([schema.encode(b) for b in bundles])
    dims = [k for k, d in enumerate(schema.dimensions) if len(set(gold[:, k])) > 1]
    dims = dims[:DIMENSIONS_SHOWN] or list(range(min(len(schema.dimensions), DIMENSIONS_SHOWN)))
    cols = min(4, len(dims))
    rows = math.ceil(len(dims) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[len(dims) :]:
        ax.axis("off")
    for ax, k in zip(axes.flat, dims, strict=False):
        dim = schema.dimensions[k]
        names = schema.values[dim]
        n = len(names)
        m = np.zeros((n, n))
        np.add.at(m, (gold[:, k], probs[k].argmax(1)), 1.0)
        acc = 100.0 * np.trace(m) / max(m.sum(), 1.0)
        m = m / np.maximum(m.sum(1, keepdims=True), 1.0)
        ax.imshow(m, cmap="Blues", vmin=0, vmax=1)
        labels = ["-" if i == 0 else v for i, v in enumerate(names)]
        ax.set_xticks(range(n), labels, rotation=90, fontsize=6)
        ax.set_yticks(range(n), labels, fontsize=6)
        ax.set_xlabel("q(y|x) most probable", fontsize=7)
        ax.set_ylabel("gold", fontsize=7)
        ax.set_title(f"{dim}: {acc:.0f}% right", fontsize=9)
    fig.tight_layout()
    plotting.save(fig, path, dpi=90)


def error_table(examples: list[formats.Example], forms: list[str], path: Path) -> dict:
    """``errors.md``: the error kinds of ``forms`` (predicted for the dev rows
    ``examples``), with examples; returns :func:`reinflect.morph.errors.summary`."""
    s = error_kinds.summary(
        [e.source for e in examples], [e.target for e in examples], forms, examples=8
    )
    n = max(len(examples), 1)
    lines = [
        "# Errors on dev (the default decoding)",
        "",
        "| kind | words | share | examples: source -> predicted (gold) |",
        "|---|---:|---:|---|",
    ]
    for kind in error_kinds.KINDS:
        shown = "; ".join(s["examples"].get(kind, [])).replace("|", "\\|")
        count = s["counts"][kind]
        lines.append(f"| {kind} | {count} | {100.0 * count / n:.1f}% | {shown} |")
    checkpoint.write_text(path, "\n".join(lines) + "\n")
    return s


def save_all(
    run_dir: str | Path, dev_path: str | Path | None = None, *, errors: bool = True
) -> list[str]:
    """Write every picture that applies to the run in ``run_dir`` and, with
    ``errors``, ``errors.md`` (decoding the dev file); the dev file is
    ``dev_path``, else the run's ``config.toml``'s. Returns the names written."""
    from reinflect import config
    from reinflect.morph import predict, torch_engine

    plotting.pyplot()  # fail before any work without matplotlib
    run_dir = Path(run_dir)
    written = []
    if (run_dir / "metrics.jsonl").is_file() and curves(
        run_dir / "metrics.jsonl", run_dir / "curves.png"
    ):
        written.append("curves.png")
    if dev_path is None:
        run = config.resolve_morph(config_file=run_dir / "config.toml")
        dev_path = run.data.files()[1]
    r = torch_engine.Reinflector.load(run_dir)
    r.quiet_unknown = True
    examples = predict.read_gold(dev_path)
    bundles = r.file_bundles(examples, dev_path)
    latent(r, examples, bundles, run_dir / "latent.png")
    tag_confusion(r, examples, bundles, run_dir / "tags.png")
    written += ["latent.png", "tags.png"]
    if errors:
        forms = [p.target for p in r.predict_examples(examples, bundles)]
        error_table(examples, forms, run_dir / "errors.md")
        written.append("errors.md")
    return written
