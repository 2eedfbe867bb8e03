"""The ``reinflect`` command line (typer). Commands are thin: they parse
options, call the library, and print. Heavy imports happen inside commands so
``reinflect --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from reinflect import __version__
from reinflect.errors import ReinflectError

app = typer.Typer(
    help="Morphological reinflection with a semi-supervised sequence VAE (MSVED).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
mnist_app = typer.Typer(
    help="The MNIST sanity model (M1 VAE, M2 semi-supervised) on the shared VAE core.",
    no_args_is_help=True,
)
app.add_typer(mnist_app, name="mnist")
data_app = typer.Typer(
    help="Fetch the public data sets (or copy them from a mirror) and list what is here.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")

_state = {"debug": False}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _guard(fn, *args, **kwargs):
    """Run a library call; a ReinflectError becomes one line on stderr and exit 1."""
    try:
        return fn(*args, **kwargs)
    except ReinflectError as e:
        if _state["debug"]:
            raise
        raise _fail(str(e)) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reinflect {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


class Model(str, Enum):
    m1 = "m1"
    m2 = "m2"


class Activation(str, Enum):
    softplus = "softplus"
    relu = "relu"
    tanh = "tanh"
    gated = "gated"


class Estimator(str, Enum):
    enumerate = "enumerate"
    gumbel = "gumbel"
    reinforce = "reinforce"


@mnist_app.command("train")
def mnist_train(
    out: Annotated[Path, typer.Option(help="Run directory (model.pt, metrics, pictures).")] = Path(
        "runs/mnist"
    ),
    model: Annotated[Model, typer.Option(help="m1: VAE; m2: semi-supervised.")] = Model.m2,
    labels: Annotated[int, typer.Option(help="Labeled images for M2 (equal per class).")] = 100,
    latent: Annotated[int, typer.Option(help="Dimensions of z (2 draws the manifold).")] = 50,
    hidden: Annotated[str, typer.Option(help="Hidden layer sizes, comma-separated.")] = "500",
    activation: Annotated[
        Activation, typer.Option(help="Hidden activation (gated: Dauphin et al. gated layers).")
    ] = Activation.softplus,
    epochs: Annotated[int, typer.Option(help="Passes over the training images.")] = 50,
    estimator: Annotated[
        Estimator, typer.Option(help="How M2 handles the unlabeled y.")
    ] = Estimator.enumerate,
    alpha: Annotated[
        float, typer.Option(help="Weight of the classifier term (M2; Kingma: 0.1 N).")
    ] = 5000.0,
    kl_weight: Annotated[
        float, typer.Option(help="Constant weight on KL(z) (1: the ELBO; >1 pushes class into y).")
    ] = 1.0,
    kl_warmup: Annotated[
        int, typer.Option(help="Updates of linear KL warm-up from 0 to --kl-weight (0: none).")
    ] = 0,
    dynamic_binarization: Annotated[
        bool, typer.Option(help="M2: sample binary pixels afresh for every batch.")
    ] = False,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    lr_decay: Annotated[float, typer.Option(help="Learning-rate factor per epoch.")] = 1.0,
    batch_size: Annotated[int, typer.Option(help="Images per update.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed (labeled subset and training).")] = 0,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    train_size: Annotated[int | None, typer.Option(help="Use the first N training images.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder with the data files (else REINFLECT_DATA_MIRROR).")
    ] = None,
    plots: Annotated[bool, typer.Option(help="Save PNG pictures.")] = True,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Train M1 or M2; the best validation checkpoint is tested and pictured."""
    from reinflect import config
    from reinflect.mnist import train
    from reinflect.vae import schedules

    try:
        sizes = tuple(int(h) for h in hidden.split(","))
    except ValueError:
        raise _fail(f"--hidden must be comma-separated integers, got {hidden!r}", 2) from None
    cfg = _guard(
        config.MnistConfig,
        model=model.value,
        labels=labels,
        latent=latent,
        hidden=sizes,
        epochs=epochs,
        estimator=estimator.value,
        alpha=alpha,
        lr=lr,
        activation=activation.value,
        kl=schedules.warmup(kl_weight, kl_warmup),
        dynamic_binarization=dynamic_binarization,
        lr_decay=lr_decay,
        batch_size=batch_size,
        seed=seed,
        max_minutes=minutes,
        max_steps=max_steps,
        train_size=train_size,
    )
    summary = _guard(train.train_model, cfg, out, data_dir=data_dir, progress=progress, plots=plots)
    shown = {k: v for k, v in summary.items() if k.startswith("test_")}
    typer.echo(f"saved {out / 'model.pt'}; " + ", ".join(f"{k}={v:.4f}" for k, v in shown.items()))


@mnist_app.command("evaluate")
def mnist_evaluate(
    run_dir: Annotated[Path, typer.Argument(help="Run directory or model.pt.")] = Path(
        "runs/mnist"
    ),
    split: Annotated[str, typer.Option(help="valid or test.")] = "test",
    iwae_k: Annotated[int, typer.Option(help="M1: importance samples for log p(x).")] = 500,
    data_dir: Annotated[Path | None, typer.Option(help="Folder with the data files.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Test error (M2) or ELBO and IWAE -log p(x) in nats (M1) of a trained run."""
    from reinflect.mnist import train

    if split not in ("valid", "test"):
        raise _fail(f"--split must be valid or test, got {split!r}", 2)
    result = _guard(train.evaluate, run_dir, data_dir=data_dir, split=split, iwae_k=iwae_k)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
    else:
        for k, v in result.items():
            typer.echo(f"{k}\t{v:.4f}" if isinstance(v, float) else f"{k}\t{v}")


@data_app.command("fetch")
def data_fetch(
    name: Annotated[
        str, typer.Argument(help="sigmorphon2016, conll2017, mnist or binarized_mnist.")
    ],
    lang: Annotated[list[str] | None, typer.Option(help="Only this language (repeatable).")] = None,
    dest: Annotated[
        Path | None, typer.Option(help="Target folder (default: the user cache).")
    ] = None,
    mirror: Annotated[
        Path | None,
        typer.Option(help="Copy from this folder laid out like ../shared/data (no network)."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Download a data set from its public source, or copy it from a mirror.

    Downloads are sha256-checked and resumable; --mirror (or
    $REINFLECT_DATA_MIRROR) copies from a local folder instead. Test files are
    never fetched.
    """
    from reinflect import download

    counts = _guard(download.fetch, name, langs=lang, dest=dest, mirror=mirror, progress=progress)
    typer.echo(
        f"{name}: {counts['files']} files in {counts['dest']} ({counts['downloaded']} downloaded, "
        f"{counts['copied']} copied from the mirror, {counts['present']} already present)"
    )


@data_app.command("list")
def data_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The data sets reinflect knows, and where they are present locally."""
    from reinflect import download

    rows = download.status()
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        langs = f", {r['languages']} languages" if r["languages"] else ""
        typer.echo(f"{r['name']}: {r['description']} [{r['files']} files{langs}]")
        for place in r["present"] or ["not present: reinflect data fetch " + r["name"]]:
            typer.echo(f"    {place}")


DEFAULT_MODEL = Path("runs/default")
MODELS = typer.Option(
    help="Run directory or model.pt; repeat it to predict with an ensemble of models "
    "with the same tags, or name the folder 'reinflect ensemble' wrote.",
    metavar="PATH",
    show_default=str(DEFAULT_MODEL),
)
SAMPLE_MINUTES = 9.5  # the zero-argument run stays under 10 minutes with its set-up
# The sample built by scripts/make_english_data.py, beside the package in a checkout.
ENGLISH_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "english"


class Format(str, Enum):
    auto = "auto"
    sigmorphon2016 = "sigmorphon2016"
    sigmorphon2016_t2 = "sigmorphon2016-t2"
    unimorph = "unimorph"
    unimorph_ltf = "unimorph-ltf"


class AttentionStyle(str, Enum):  # config.SOURCE_ATTENTION_STYLES
    input = "input"
    output = "output"


class KLKind(str, Enum):  # reinflect.vae.schedules.KL_KINDS, kept literal for a fast --help
    linear = "linear"
    sigmoid = "sigmoid"
    cyclical = "cyclical"
    constant = "constant"


DATASET = typer.Option(
    help="sigmorphon2016 or conll2017: take the files of --lang from the mirror or cache."
)
TASK = typer.Option(help="With --dataset sigmorphon2016: the task, 1-3.")
SETTING = typer.Option(
    help="conll2017: training size, high (default), medium or low. sigmorphon2016: "
    "restricted (task T's train file, default) or standard (tasks 1..T's train files)."
)


def _dataset_files(
    dataset: str, lang: str | None, task: int, setting: str | None
) -> tuple[list[Path], Path]:
    from reinflect import download

    if lang is None:
        raise _fail("--dataset needs --lang", 2)
    return _guard(download.dataset_files, dataset, lang, task=task, setting=setting)


RERANK = typer.Option(
    min=0.0,
    help="Order the beam by log p(form) + W log q(tags|form), the model's classifier "
    "checking each hypothesis (ours); default: the W training chose on dev; 0 (with "
    "--rerank-roundtrip 0): plain beam.",
)


def _positive(value: float | None) -> float | None:
    if value is not None and not value > 0:
        raise typer.BadParameter(f"must be > 0, got {value}")
    return value


RERANK_FLOOR = typer.Option(
    callback=_positive,
    help="Count log q(tags|form) no lower than -F nats in reranking (ours; a syncretic "
    "form's other reading cannot veto it); default: the F training chose on dev, if any; "
    "inf: none.",
)
RERANK_ROUNDTRIP = typer.Option(
    min=0.0,
    help="Also add V log p(WORD|form): how well each hypothesis lets the model rebuild "
    "the source word (ours; penalizes mangled stems); default: the V training chose on "
    "dev; 0: off.",
)
SKIP_BAD = typer.Option(
    "--skip-bad-lines", help="Leave out malformed rows (counted on stderr) instead of stopping."
)


def _decode_options(beam, rerank, rerank_floor, rerank_roundtrip) -> dict:
    """The decoding options of predict and evaluate, as ``Predictor.inflect`` takes them."""
    return {
        "beam": beam,
        "rerank": rerank,
        "rerank_floor": rerank_floor,
        "rerank_roundtrip": rerank_roundtrip,
    }


def _nonempty(word: str) -> None:
    if not word.strip():
        raise _fail(f"WORD is empty ({word!r}): give a word form", 2)


def _fmt(value: Format) -> str | None:
    return None if value == Format.auto else value.value


@app.command("train")
def morph_train(
    train: Annotated[
        list[Path] | None,
        typer.Option(
            help="Labeled training file; repeat to train on several (default: the English sample)."
        ),
    ] = None,
    dev: Annotated[Path | None, typer.Option(help="Labeled dev file, for model selection.")] = None,
    dataset: Annotated[str | None, DATASET] = None,
    task: Annotated[int, TASK] = 3,
    setting: Annotated[str | None, SETTING] = None,
    out: Annotated[Path, typer.Option(help="Run directory.")] = DEFAULT_MODEL,
    unlabeled: Annotated[
        Path | None, typer.Option(help="Extra unlabeled words, one per line.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Language (for wordfreq words).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="File format.")] = Format.auto,
    supervised_only: Annotated[
        bool, typer.Option("--supervised-only", help="No unlabeled words.")
    ] = False,
    source_attention: Annotated[
        bool, typer.Option("--source-attention", help="Attend over source characters (ours).")
    ] = False,
    source_attention_style: Annotated[
        AttentionStyle,
        typer.Option(
            help="input: keyed by the previous decoder state, into the GRU input and the "
            "output layer; output: keyed by the new state, into the output layer only "
            "(cheaper to train)."
        ),
    ] = AttentionStyle.input,
    word_dropout: Annotated[
        float, typer.Option(help="Share of decoder inputs dropped in training.")
    ] = 0.4,
    dropout: Annotated[
        float,
        typer.Option(help="Dropout on encoder outputs and decoder states in training (ours)."),
    ] = 0.0,
    hallucinate: Annotated[
        float,
        typer.Option(
            help="Hallucinated pairs (stem consonants redrawn) per real pair (ours); 0: none."
        ),
    ] = 0.0,
    match_unlabeled_lengths: Annotated[
        bool,
        typer.Option(
            "--match-unlabeled-lengths",
            help="Length-match each update's unlabeled words to its labeled batch: faster "
            "updates, not proven as good (ours).",
        ),
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Labeled pairs per update.")] = 64,
    unlabeled_weight: Annotated[
        float, typer.Option(help="Weight of the unlabeled (MSVAE) term.", min=0.0)
    ] = 0.8,
    wordfreq_words: Annotated[
        int, typer.Option(help="Unlabeled words taken from wordfreq's list of --lang.", min=0)
    ] = 20_000,
    y_kl_weight: Annotated[
        float,
        typer.Option(help="Weight of the KL(q(y|x) || p(y)) terms (MSVED's: 1).", min=0.0),
    ] = 0.0,
    kl_schedule: Annotated[
        KLKind, typer.Option(help="Shape of the KL(z) weight over updates.")
    ] = KLKind.linear,
    kl_delay: Annotated[
        int, typer.Option(help="Updates at KL(z) weight 0 before the schedule starts.", min=0)
    ] = 3_000,
    kl_rate: Annotated[
        float, typer.Option(help="Linear schedule: KL(z) weight added per update.", min=0.0)
    ] = 1.0 / 150_000,
    kl_cap: Annotated[float, typer.Option(help="Largest KL(z) weight.", min=0.0)] = 0.2,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget.")] = None,
    eval_every: Annotated[int, typer.Option(help="Updates between dev checks.")] = 500,
    patience: Annotated[int, typer.Option(help="Dev checks without gain before stopping.")] = 10,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 1e-3,
    lr_schedule: Annotated[
        str,
        typer.Option(
            help="budget: hold --lr for half of --minutes/--max-steps, then decay it "
            "linearly to zero (constant without a budget); or constant."
        ),
    ] = "budget",
    average: Annotated[
        float,
        typer.Option(
            help="Decay of the moving average of the weights that dev checks evaluate "
            "and model.pt keeps (ours); 0: the weights themselves."
        ),
    ] = 0.999,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    precision: Annotated[
        str, typer.Option(help="auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16.")
    ] = "auto",
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    skip_bad_lines: Annotated[bool, SKIP_BAD] = False,
) -> None:
    """Train the MSVED reinflection model; the best dev checkpoint is OUT/model.pt.

    With neither --train nor --dev it trains on the bundled English sample.
    Under "torchrun --nproc-per-node N -m reinflect train ..." it trains data
    parallel (gloo on CPU, nccl on CUDA). SIGINT/SIGTERM saves OUT/last.pt and
    exits 130/143; --resume continues exactly.
    """
    from reinflect import config
    from reinflect import train as training
    from reinflect.morph import train as morph_training
    from reinflect.vae import schedules

    if dataset is not None:
        if train or dev is not None:
            raise _fail("give --dataset or --train/--dev, not both", 2)
        train, dev = _dataset_files(dataset, lang, task, setting)
    elif not train and dev is None:
        train, dev = [ENGLISH_SAMPLE / "train"], ENGLISH_SAMPLE / "dev"
        lang = lang or "english"
        if not train[0].is_file():
            raise _fail(f"the English sample is missing ({train[0]}); pass --train and --dev")
        if minutes is None and max_steps is None and not resume:
            minutes = SAMPLE_MINUTES
            typer.echo(
                f"training on the bundled English sample for {minutes:g} minutes "
                "(--minutes to change)",
                err=True,
            )
    elif not train or dev is None:
        raise _fail("give both --train and --dev (or neither, for the English sample)", 2)
    mcfg = config.MorphModelConfig(
        source_attention=source_attention,
        source_attention_style=source_attention_style.value,
        word_dropout=word_dropout,
        dropout=dropout,
    )
    tcfg = config.MorphTrainConfig(
        batch_size=batch_size,
        unlabeled_batch=batch_size,
        unlabeled_weight=unlabeled_weight,
        y_kl_weight=y_kl_weight,
        wordfreq_words=wordfreq_words,
        kl=schedules.KLSchedule(kind=kl_schedule.value, delay=kl_delay, rate=kl_rate, cap=kl_cap),
        supervised_only=supervised_only,
        hallucinate=hallucinate,
        match_unlabeled_lengths=match_unlabeled_lengths,
        max_steps=max_steps,
        max_minutes=minutes,
        eval_every=eval_every,
        patience=patience,
        lr=lr,
        lr_schedule=lr_schedule,
        average=average,
        seed=seed,
        device=device,
        precision=precision,
    )
    trainer = _guard(
        morph_training.Trainer,
        train_path=train,
        dev_path=dev,
        out_dir=out,
        model_cfg=mcfg,
        train_cfg=tcfg,
        unlabeled_path=unlabeled,
        lang=lang,
        fmt=_fmt(fmt),
        progress=progress,
        skip_bad_lines=skip_bad_lines,
    )
    main = trainer.dist.main
    if not supervised_only and main:
        c = trainer.unlabeled_counts
        typer.echo(f"unlabeled words: {c.get('total', 0)} ({json.dumps(c)})", err=True)
    if resume:
        _guard(trainer.resume)
    try:
        summary = _guard(trainer.fit)
    except training.Interrupted as e:
        if main:
            typer.echo(str(e), err=True)
        raise typer.Exit(e.code) from None
    if not main:
        return
    typer.echo(
        f"best dev accuracy {summary['best_dev_accuracy']:.2f}% at step {summary['best_step']} "
        f"(greedy); saved {out / 'model.pt'}"
    )
    if summary["rerank"]:
        from reinflect.morph import predict

        w, floor, roundtrip = predict.stored_rerank(summary["rerank"])
        table = summary["rerank"]["dev_accuracy_beam8"]
        plain = f"dev beam 8: {table['0']:.2f}%, " if "0" in table else "dev beam 8 "
        chosen = f"weight {w:g}" + ("" if floor is None else f", floor {floor:g}")
        chosen += f", round trip {roundtrip:g}" if roundtrip else ""
        acc = table[predict.grid_key(w, floor, roundtrip)]
        typer.echo(f"{plain}reranked ({chosen}, chosen on dev): {acc:.2f}%")


def _predictor(models: list[Path] | None, *, engine: str = "torch"):
    """The model of ``--model``, the ensemble of several, or the ensemble a
    manifest of ``reinflect ensemble`` names (:func:`reinflect.morph.predict.load`)."""
    from reinflect.morph import predict

    models = models or [DEFAULT_MODEL]
    manifest = next((m for m in map(predict.ensemble_manifest, models) if m), None)
    if manifest is not None and len(models) > 1:
        raise _fail(f"{manifest} is an ensemble: give it as the only --model", 2)
    return _guard(predict.load, models, engine=engine)


@app.command("predict")
def morph_predict(
    word: Annotated[str | None, typer.Argument(help="The source word form.")] = None,
    tags_: Annotated[
        str | None, typer.Option("--tags", help="Target tags, full or partial (PST).")
    ] = None,
    model: Annotated[list[Path] | None, MODELS] = None,
    beam: Annotated[int, typer.Option(min=1, help="Beam size (1 = greedy).")] = 8,
    nbest: Annotated[int, typer.Option(min=1, help="Hypotheses to print.")] = 1,
    rerank: Annotated[float | None, RERANK] = None,
    rerank_floor: Annotated[float | None, RERANK_FLOOR] = None,
    rerank_roundtrip: Annotated[float | None, RERANK_ROUNDTRIP] = None,
    input_: Annotated[
        Path | None, typer.Option("--input", help="Batch mode: a file of (source, tags) rows.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Batch mode: where to write.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Input file format.")] = Format.auto,
    skip_bad_lines: Annotated[bool, SKIP_BAD] = False,
) -> None:
    """Inflect WORD for --tags, or every row of --input (written in the same format)."""
    from reinflect.morph import formats

    decode = _decode_options(beam, rerank, rerank_floor, rerank_roundtrip)

    if input_ is not None:
        if output is None:
            raise _fail("--input needs --output", 2)
        if word is not None or tags_ is not None:
            raise _fail("give WORD and --tags, or --input FILE --output FILE, not both", 2)
        r = _predictor(model)
        examples = _guard(formats.read, input_, _fmt(fmt), skip_bad=skip_bad_lines)
        detected = _fmt(fmt) or formats.detect(input_)
        bundles = _guard(r.file_bundles, examples, input_)
        out = r.predict_examples(examples, bundles, **decode)
        _guard(formats.write, output, out, detected)
        typer.echo(f"wrote {len(out)} predictions to {output}", err=True)
        return
    if word is None or tags_ is None:
        raise _fail("give WORD and --tags, or --input FILE --output FILE", 2)
    _nonempty(word)
    if nbest > beam:
        raise _fail(f"--nbest {nbest} is more than --beam {beam}: raise --beam", 2)
    r = _predictor(model, engine="auto")
    bundle, partial = _guard(r.target_bundle, word, tags_)
    if partial:
        typer.echo(f"tags: {r.render(bundle)}", err=True)
    hyps = r.inflect([word], [bundle], nbest=nbest, **decode)
    for form, logp in hyps[0]:
        typer.echo(form if nbest == 1 else f"{form}\t{logp:.4f}")


@app.command("analyze")
def morph_analyze(
    word: Annotated[str, typer.Argument(help="A word form.")],
    model: Annotated[list[Path] | None, MODELS] = None,
    top: Annotated[int, typer.Option(min=1, help="Bundles to show.")] = 5,
) -> None:
    """The most probable tag bundles of WORD under q(y|x)."""
    _nonempty(word)
    r = _predictor(model, engine="auto")
    for bundle, p in r.analyze(word, top=top):
        typer.echo(f"{p:.4f}\t{r.render(bundle)}")


@app.command("evaluate")
def morph_evaluate(
    gold: Annotated[Path | None, typer.Option(help="Gold file (with target forms).")] = None,
    dataset: Annotated[str | None, DATASET] = None,
    lang: Annotated[str | None, typer.Option(help="With --dataset: the language.")] = None,
    task: Annotated[int, TASK] = 3,
    setting: Annotated[str | None, SETTING] = None,
    model: Annotated[list[Path] | None, MODELS] = None,
    beam: Annotated[int, typer.Option(min=1, help="Beam size (1 = greedy).")] = 8,
    rerank: Annotated[float | None, RERANK] = None,
    rerank_floor: Annotated[float | None, RERANK_FLOOR] = None,
    rerank_roundtrip: Annotated[float | None, RERANK_ROUNDTRIP] = None,
    by_tag: Annotated[bool, typer.Option("--by-tag", help="Break down by tag bundle.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="Gold file format.")] = Format.auto,
    predictions: Annotated[Path | None, typer.Option(help="Also write the predictions.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    skip_bad_lines: Annotated[bool, SKIP_BAD] = False,
) -> None:
    """Accuracy, mean Levenshtein distance, chrF and counts on a gold file.

    With --dataset, the gold file is the dev file of --lang; test files are
    never read.
    """
    from reinflect.morph import predict

    if (gold is None) == (dataset is None):
        raise _fail("give --gold FILE or --dataset NAME --lang L", 2)
    if dataset is not None:
        gold = _dataset_files(dataset, lang, task, setting)[1]
    r = _predictor(model)
    result = _guard(
        predict.evaluate,
        r,
        gold,
        fmt=_fmt(fmt),
        by_tag=by_tag,
        predictions_path=predictions,
        skip_bad=skip_bad_lines,
        **_decode_options(beam, rerank, rerank_floor, rerank_roundtrip),
    )
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(
        f"accuracy {result['accuracy']:.2f}%  levenshtein {result['levenshtein']:.3f}  "
        f"chrF {result['chrf']:.2f}  ({result['correct']}/{result['total']})"
    )
    for tag, s in result.get("by_tag", {}).items():
        typer.echo(f"  {tag}\t{s['accuracy']:.2f}%\t{s['levenshtein']:.3f}\t{s['total']}")


@app.command("ensemble")
def morph_ensemble(
    model: Annotated[
        list[Path],
        typer.Option(help="A run directory or model.pt; give two or more.", metavar="PATH"),
    ],
    out: Annotated[Path, typer.Option(help="Folder for the manifest, ensemble.json.")],
    dev: Annotated[
        Path | None, typer.Option(help="Labeled dev file to choose the reranking weights on.")
    ] = None,
    dataset: Annotated[str | None, DATASET] = None,
    lang: Annotated[str | None, typer.Option(help="With --dataset: the language.")] = None,
    task: Annotated[int, TASK] = 3,
    setting: Annotated[str | None, SETTING] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Dev file format.")] = Format.auto,
    skip_bad_lines: Annotated[bool, SKIP_BAD] = False,
) -> None:
    """Bundle models with the same tags into one, with its own reranking weights.

    The weights are chosen on dev (beam 8) and written with the members' paths
    to OUT/ensemble.json; then --model OUT predicts, analyzes and evaluates with
    the ensemble.
    """
    from reinflect.morph import ensemble, predict

    if len(model) < 2:
        raise _fail("give two or more --model", 2)
    nested = next((m for m in model if predict.ensemble_manifest(m)), None)
    if nested is not None:
        raise _fail(f"{nested} is an ensemble: give its models as --model", 2)
    if dev is not None and dataset is not None:
        raise _fail("give --dev FILE or --dataset NAME --lang L, not both", 2)
    if dataset is not None:
        dev = _dataset_files(dataset, lang, task, setting)[1]
    if dev is None:
        raise _fail("give --dev FILE (or --dataset NAME --lang L) to choose the weights on", 2)
    if (out / "model.pt").exists():
        raise _fail(f"{out} holds a model (model.pt): write the ensemble to another --out", 2)
    r = _predictor(model)
    examples = _guard(predict.read_gold, dev, _fmt(fmt), skip_bad=skip_bad_lines)
    # The grid training tunes a model's weights on (predict.RERANK_GRID and the rest).
    record = r.tune_rerank(
        [e.source for e in examples],
        _guard(r.file_bundles, examples, dev),
        [e.target for e in examples],
    )
    record["dev"] = str(dev)
    path = _guard(ensemble.write_manifest, out, model, record)
    table = record["dev_accuracy_beam8"]
    chosen = predict.grid_key(r.rerank, r.rerank_floor, r.rerank_roundtrip)
    typer.echo(
        f"dev accuracy (beam 8): {table[predict.grid_key(0.0, None)]:.2f}% plain, "
        f"{table[chosen]:.2f}% reranked (weight {r.rerank:g}, floor {r.rerank_floor}, "
        f"round trip {r.rerank_roundtrip:g}); wrote {path}"
    )


def main() -> None:
    """Console-script entry point: every error is one line on stderr and a non-zero
    exit (2 for usage, 1 at run time, 130 on Ctrl-C); ``--debug`` shows tracebacks.
    Warnings of the library (skipped rows, unseen characters) go to stderr."""
    logger = logging.getLogger("reinflect")
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        logger.addHandler(_StderrHandler(logging.WARNING))
    try:
        code = app(standalone_mode=False, prog_name="reinflect")
    except typer.Abort:
        typer.echo("interrupted", err=True)
        code = 130
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        code = 130
    except Exception as e:
        code = _report(e)
    sys.exit(code if isinstance(code, int) else 0)


class _StderrHandler(logging.Handler):
    """``warning: MESSAGE`` on the current stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"{record.levelname.lower()}: {record.getMessage()}", err=True)


def _report(e: Exception) -> int:
    """One line for an exception that reached the top; its exit code."""
    if hasattr(e, "format_message") and hasattr(e, "exit_code"):  # typer's usage errors
        if type(e).__name__ == "NoArgsIsHelpError":
            e.show()
            return e.exit_code
        ctx = getattr(e, "ctx", None)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        typer.echo(f"error: {e.format_message()}{hint}", err=True)
        return e.exit_code
    if _state["debug"]:
        raise e
    if isinstance(e, ReinflectError):
        typer.echo(f"error: {e}", err=True)
    elif isinstance(e, OSError):
        typer.echo(f"error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
    else:
        typer.echo(
            f"error: {type(e).__name__}: {e} (rerun with --debug for the traceback)", err=True
        )
    return 1
