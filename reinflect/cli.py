"""The ``reinflect`` command line (typer). Commands are thin: they parse
options, call the library, and print. Heavy imports happen inside commands so
``reinflect --help`` stays fast.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from reinflect import __version__, config
from reinflect.errors import ReinflectError, UsageError
from reinflect.vae import schedules

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
    """Run a library call; a ReinflectError becomes one line on stderr and exit 1
    (2 for a UsageError)."""
    try:
        return fn(*args, **kwargs)
    except ReinflectError as e:
        if _state["debug"]:
            raise
        raise _fail(str(e), 2 if isinstance(e, UsageError) else 1) from None


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


MNIST = config.MnistConfig()  # the defaults of `reinflect mnist train`
OVERWRITE = typer.Option(
    "--overwrite", help="Train into an --out that already holds a run, replacing it."
)
MNIST_MODEL, MNIST_ACTIVATION = Model(MNIST.model), Activation(MNIST.activation)
MNIST_ESTIMATOR, MNIST_HIDDEN = Estimator(MNIST.estimator), ",".join(map(str, MNIST.hidden))


@mnist_app.command("train")
def mnist_train(
    out: Annotated[Path, typer.Option(help="Run directory (model.pt, metrics, pictures).")] = Path(
        "runs/mnist"
    ),
    model: Annotated[Model, typer.Option(help="m1: VAE; m2: semi-supervised.")] = MNIST_MODEL,
    labels: Annotated[
        int, typer.Option(help="Labeled images for M2 (equal per class).")
    ] = MNIST.labels,
    latent: Annotated[
        int, typer.Option(help="Dimensions of z (2 draws the manifold).")
    ] = MNIST.latent,
    hidden: Annotated[
        str, typer.Option(help="Hidden layer sizes, comma-separated.")
    ] = MNIST_HIDDEN,
    activation: Annotated[
        Activation, typer.Option(help="Hidden activation (gated: Dauphin et al. gated layers).")
    ] = MNIST_ACTIVATION,
    epochs: Annotated[int, typer.Option(help="Passes over the training images.")] = MNIST.epochs,
    estimator: Annotated[
        Estimator, typer.Option(help="How M2 handles the unlabeled y.")
    ] = MNIST_ESTIMATOR,
    alpha: Annotated[
        float, typer.Option(help="Weight of the classifier term (M2; Kingma: 0.1 N).")
    ] = MNIST.alpha,
    kl_weight: Annotated[
        float, typer.Option(help="Constant weight on KL(z) (1: the ELBO; >1 pushes class into y).")
    ] = MNIST.kl.cap,
    kl_warmup: Annotated[
        int, typer.Option(help="Updates of linear KL warm-up from 0 to --kl-weight (0: none).")
    ] = 0,
    dynamic_binarization: Annotated[
        bool, typer.Option(help="M2: sample binary pixels afresh for every batch.")
    ] = False,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = MNIST.lr,
    lr_decay: Annotated[
        float, typer.Option(help="Learning-rate factor per epoch.")
    ] = MNIST.lr_decay,
    batch_size: Annotated[int, typer.Option(help="Images per update.")] = MNIST.batch_size,
    seed: Annotated[
        int, typer.Option(help="Random seed (labeled subset and training).")
    ] = MNIST.seed,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    train_size: Annotated[int | None, typer.Option(help="Use the first N training images.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder with the data files (else REINFLECT_DATA_MIRROR).")
    ] = None,
    plots: Annotated[bool, typer.Option(help="Save PNG pictures.")] = True,
    overwrite: Annotated[bool, OVERWRITE] = False,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Train M1 or M2; the best validation checkpoint is tested and pictured."""
    from reinflect import training
    from reinflect.mnist import train

    _guard(training.refuse_existing_run, out, overwrite=overwrite)

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
    from reinflect import training

    try:
        summary = _guard(
            train.train_model, cfg, out, data_dir=data_dir, progress=progress, plots=plots
        )
    except training.Interrupted as e:  # SIGINT or SIGTERM: the best model so far is kept
        typer.echo(str(e), err=True)
        raise typer.Exit(e.code) from None
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
# Choices, from the config's tuples.
Format = Enum("Format", {v.replace("-", "_"): v for v in config.FORMATS}, type=str)
AttentionStyle = Enum("AttentionStyle", {v: v for v in config.SOURCE_ATTENTION_STYLES}, type=str)
KLKind = Enum("KLKind", {v: v for v in schedules.KL_KINDS}, type=str)


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
    """(train files, dev file) of --dataset and --lang (config.MorphDataConfig.files)."""
    data = config.MorphDataConfig(dataset=dataset, lang=lang, task=task, setting=setting)
    return _guard(data.files)


RERANK = typer.Option(
    min=0.0,
    help="Order the beam by log p(form) + W log q(tags|form), the model's classifier "
    "checking each hypothesis (ours); default: the W training chose on dev; 0 (with "
    "--rerank-roundtrip 0 and --rerank-rules 0): plain beam.",
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
RERANK_RULES = typer.Option(
    min=0.0,
    help="Also add the forms the training pairs' edit rules make of WORD for these "
    "tags, and R to each form whose edit (its changed prefix and suffix) a training "
    "pair of the same tags has (ours; helps most at small sizes); default: the R "
    "training chose on dev; 0: off.",
)
RERANK_FIRST = typer.Option(
    min=0.0,
    help="Also add the edit rules' forms, and P to their first (the edit of the training "
    "words most like WORD at its two ends) (ours); default: the P training chose on "
    "dev; 0: off.",
)
SKIP_BAD = typer.Option(
    "--skip-bad-lines", help="Leave out malformed rows (counted on stderr) instead of stopping."
)


LOOKUP = typer.Option(
    "--lookup/--no-lookup",
    help="A word and tags that training held give training's form (ours); "
    "--no-lookup: the model alone.",
)


def _decode_options(
    beam, rerank, rerank_floor, rerank_roundtrip, rerank_rules, rerank_first, lookup
) -> dict:
    """The decoding options of predict and evaluate, as ``Predictor.inflect`` takes them."""
    return {
        "beam": beam,
        "rerank": rerank,
        "rerank_floor": rerank_floor,
        "rerank_roundtrip": rerank_roundtrip,
        "rerank_rules": rerank_rules,
        "rerank_first": rerank_first,
        "lookup": lookup,
    }


def _nonempty(word: str) -> None:
    if not word.strip():
        raise _fail(f"WORD is empty ({word!r}): give a word form", 2)


def _fmt(value: Format) -> str | None:
    return None if value == Format.auto else value.value


def _default(name: str):
    """The default of train option ``name``: the config's (the one source of defaults)."""
    return config.option_default(name)


DEFAULT_FORMAT = Format(_default("format"))
DEFAULT_ATTENTION_STYLE = AttentionStyle(_default("source_attention_style"))
DEFAULT_KL_KIND = KLKind(_default("kl_schedule"))


def _given(ctx: typer.Context, param: str) -> bool:
    """Whether ``param`` was given on the command line or in the environment."""
    source = ctx.get_parameter_source(param)  # typer's click, not always the click module's
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


@app.command("train")
def morph_train(
    ctx: typer.Context,
    train: Annotated[
        list[Path] | None,
        typer.Option(
            help="Labeled training file; repeat to train on several (default: the English sample)."
        ),
    ] = None,
    dev: Annotated[Path | None, typer.Option(help="Labeled dev file, for model selection.")] = None,
    dataset: Annotated[str | None, DATASET] = None,
    task: Annotated[int, TASK] = _default("task"),
    setting: Annotated[str | None, SETTING] = None,
    out: Annotated[Path, typer.Option(help="Run directory.")] = DEFAULT_MODEL,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="A TOML file of options ([data], [model], [train], [train.kl]; any field of "
            "--print-config); options given here override it. RUN/config.toml repeats a run.",
        ),
    ] = None,
    print_config: Annotated[
        bool,
        typer.Option("--print-config", help="Print the resolved configuration as TOML and exit."),
    ] = False,
    unlabeled: Annotated[
        Path | None, typer.Option(help="Extra unlabeled words, one per line.")
    ] = None,
    lang: Annotated[str | None, typer.Option(help="Language (for wordfreq words).")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="File format.")] = DEFAULT_FORMAT,
    supervised_only: Annotated[
        bool | None,
        typer.Option(
            "--supervised-only/--semi-supervised",
            help="Train on the labeled pairs alone, or with unlabeled words too. Default: by "
            "the training set's size (semi-supervised, but supervised-only between 500 and "
            "2,000 pairs, unless --unlabeled is given).",
            show_default=False,
        ),
    ] = _default("supervised_only"),
    source_attention: Annotated[
        bool, typer.Option("--source-attention", help="Attend over source characters (ours).")
    ] = _default("source_attention"),
    source_attention_style: Annotated[
        AttentionStyle,
        typer.Option(
            help="input: keyed by the previous decoder state, into the GRU input and the "
            "output layer; output: keyed by the new state, into the output layer only "
            "(cheaper to train); monotonic: hard monotonic attention, each character "
            "emitted from one source position, left to right (the alignment summed out)."
        ),
    ] = DEFAULT_ATTENTION_STYLE,
    copy: Annotated[
        bool | None,
        typer.Option(
            "--copy/--no-copy",
            help="Copy source characters (a pointer-generator, ours; needs --source-attention). "
            "Default: by the training set's size (on for small sets, with source attention).",
            show_default=False,
        ),
    ] = _default("copy"),
    word_dropout: Annotated[
        float, typer.Option(help="Share of decoder inputs dropped in training.")
    ] = _default("word_dropout"),
    dropout: Annotated[
        float,
        typer.Option(help="Dropout on encoder outputs and decoder states in training (ours)."),
    ] = _default("dropout"),
    hallucinate: Annotated[
        float | None,
        typer.Option(
            help="Hallucinated pairs (stem consonants redrawn) per real pair (ours); 0: none. "
            "Default: by the training set's size.",
            show_default=False,
        ),
    ] = _default("hallucinate"),
    match_unlabeled_lengths: Annotated[
        bool,
        typer.Option(
            "--match-unlabeled-lengths",
            help="Length-match each update's unlabeled words to its labeled batch: faster "
            "updates, not proven as good (ours).",
        ),
    ] = _default("match_unlabeled_lengths"),
    unlabeled_source: Annotated[
        str | None,
        typer.Option(
            help="What an unlabeled word is rebuilt from besides z and y, with source "
            "attention: none (MSVED), or stem: the word with a random ending cut off (ours). "
            "Default: by the training set's size.",
            show_default=False,
        ),
    ] = _default("unlabeled_source"),
    batch_size: Annotated[
        int, typer.Option(help="Labeled pairs (and unlabeled words) per update.")
    ] = _default("batch_size"),
    unlabeled_weight: Annotated[
        float, typer.Option(help="Weight of the unlabeled (MSVAE) term.", min=0.0)
    ] = _default("unlabeled_weight"),
    wordfreq_words: Annotated[
        int, typer.Option(help="Unlabeled words taken from wordfreq's list of --lang.", min=0)
    ] = _default("wordfreq_words"),
    y_kl_weight: Annotated[
        float,
        typer.Option(help="Weight of the KL(q(y|x) || p(y)) terms (MSVED's: 1).", min=0.0),
    ] = _default("y_kl_weight"),
    kl_schedule: Annotated[
        KLKind, typer.Option(help="Shape of the KL(z) weight over updates.")
    ] = DEFAULT_KL_KIND,
    kl_delay: Annotated[
        int | None,
        typer.Option(
            help="Updates at KL(z) weight 0 before the schedule starts. Default: by the "
            "training set's size.",
            min=0,
            show_default=False,
        ),
    ] = _default("kl_delay"),
    kl_rate: Annotated[
        float | None,
        typer.Option(
            help="Linear schedule: KL(z) weight added per update. Default: by the training "
            "set's size.",
            min=0.0,
            show_default=False,
        ),
    ] = _default("kl_rate"),
    kl_cap: Annotated[float, typer.Option(help="Largest KL(z) weight.", min=0.0)] = _default(
        "kl_cap"
    ),
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Wall-clock budget.")] = None,
    eval_every: Annotated[
        int | None,
        typer.Option(
            help="Updates between dev checks. Default: about four passes over the pairs.",
            show_default=False,
        ),
    ] = _default("eval_every"),
    patience: Annotated[
        int, typer.Option(help="Dev checks without gain before stopping.")
    ] = _default("patience"),
    lr: Annotated[
        float | None,
        typer.Option(
            help="Adam learning rate. Default: by the training set's size.", show_default=False
        ),
    ] = _default("lr"),
    lr_schedule: Annotated[
        str,
        typer.Option(
            help="budget: hold --lr for half of --minutes/--max-steps, then decay it "
            "linearly to zero (constant without a budget); or constant."
        ),
    ] = _default("lr_schedule"),
    average: Annotated[
        float,
        typer.Option(
            help="Decay of the moving average of the weights that dev checks evaluate "
            "and model.pt keeps (ours); 0: the weights themselves."
        ),
    ] = _default("average"),
    seed: Annotated[int, typer.Option(help="Random seed.")] = _default("seed"),
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = _default("device"),
    precision: Annotated[
        str, typer.Option(help="auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16.")
    ] = _default("precision"),
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT/last.pt.")] = False,
    overwrite: Annotated[bool, OVERWRITE] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    plots: Annotated[
        bool, typer.Option(help="Draw OUT/*.png at the end (needs the plot extra).")
    ] = True,
    skip_bad_lines: Annotated[bool, SKIP_BAD] = _default("skip_bad_lines"),
) -> None:
    """Train the MSVED reinflection model; the best dev checkpoint is OUT/model.pt.

    With neither --train nor --dev it trains on the bundled English sample.
    Every option can also come from a --config TOML file; OUT/config.toml
    keeps the resolved configuration. Under "torchrun --nproc-per-node N -m
    reinflect train ..." it trains data parallel (gloo on CPU, nccl on CUDA).
    SIGINT/SIGTERM saves OUT/last.pt and exits 130/143; --resume continues exactly.
    """
    # The options given (not left at their defaults) override the --config file.
    given = {
        ("format" if param == "fmt" else param): value.value if isinstance(value, Enum) else value
        for param, value in ctx.params.items()
        if ("format" if param == "fmt" else param) in config.MORPH_OPTIONS and _given(ctx, param)
    }
    run_cfg = _guard(config.resolve_morph, given, config_file=config_file)
    minutes = config.sample_defaults(run_cfg, resume=resume)
    if minutes is not None and not print_config:
        typer.echo(
            f"training on the bundled English sample for {minutes:g} minutes (--minutes to change)",
            err=True,
        )
    if print_config:
        typer.echo(config.to_toml(run_cfg), nl=False)
        return
    _train_run(run_cfg, out=out, resume=resume, overwrite=overwrite, progress=progress, plots=plots)


def _train_run(run_cfg, *, out: Path, resume: bool, overwrite: bool, progress: bool, plots: bool):
    from reinflect import training
    from reinflect.morph import train as morph_training

    main = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 reports
    try:
        summary = _guard(
            morph_training.run,
            run_cfg,
            out=out,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            pictures=plots,
            report=lambda line: typer.echo(line, err=True),
        )
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

        setting = predict.stored_rerank(summary["rerank"])
        table = summary["rerank"]["dev_accuracy_beam8"]
        plain = f"dev beam 8: {table['0']:.2f}%, " if "0" in table else "dev beam 8 "
        acc = table[setting.key]
        typer.echo(f"{plain}reranked ({setting.describe()}, chosen on dev): {acc:.2f}%")


def _predictor(models: list[Path] | None, *, engine: str = "torch"):
    """The model of ``--model``, the ensemble of several, or the ensemble a
    manifest of ``reinflect ensemble`` names (:func:`reinflect.morph.predict.load`)."""
    from reinflect.morph import predict

    return _guard(predict.load, models or [DEFAULT_MODEL], engine=engine)


def _writable_output(path: Path, flag: str, inputs: dict[str, Path]) -> None:
    """Refuse an output that is a folder or one of the inputs (it would be lost)."""
    if path.is_dir():
        raise _fail(f"{flag} {path}: is a folder; give a file name", 2)
    for name, given in inputs.items():
        same = path.exists() and given.exists() and os.path.samefile(path, given)
        if same or path.resolve() == given.resolve():
            raise _fail(f"{flag} {path} is the {name} file; it would be overwritten", 2)


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
    rerank_rules: Annotated[float | None, RERANK_RULES] = None,
    rerank_first: Annotated[float | None, RERANK_FIRST] = None,
    lookup: Annotated[bool, LOOKUP] = True,
    input_: Annotated[
        Path | None, typer.Option("--input", help="Batch mode: a file of (source, tags) rows.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Batch mode: where to write.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Input file format.")] = Format.auto,
    skip_bad_lines: Annotated[bool, SKIP_BAD] = False,
) -> None:
    """Inflect WORD for --tags, or every row of --input (written in the same format)."""
    from reinflect.morph import formats

    decode = _decode_options(
        beam, rerank, rerank_floor, rerank_roundtrip, rerank_rules, rerank_first, lookup
    )

    if input_ is not None:
        if output is None:
            raise _fail("--input needs --output", 2)
        if word is not None or tags_ is not None:
            raise _fail("give WORD and --tags, or --input FILE --output FILE, not both", 2)
        _writable_output(output, "--output", {"--input": input_})
        # the file first: a bad one is named before a model is loaded
        examples = _guard(formats.read, input_, _fmt(fmt), skip_bad=skip_bad_lines)
        r = _predictor(model)
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


@app.command("plot")
def morph_plot(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")] = DEFAULT_MODEL,
    dev: Annotated[
        Path | None, typer.Option(help="Labeled dev file (default: the run's config.toml's).")
    ] = None,
) -> None:
    """Draw RUN's pictures (curves.png, latent.png, tags.png) and its dev errors (errors.md)."""
    from reinflect.morph import plots

    if not (run_dir / "model.pt").is_file():
        raise _fail(f"{run_dir}: no model.pt (not a finished run directory)")
    try:
        written = _guard(plots.save_all, run_dir, dev)
    except ImportError as e:
        raise _fail(str(e)) from None
    typer.echo("wrote " + ", ".join(str(run_dir / name) for name in written))


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
    rerank_rules: Annotated[float | None, RERANK_RULES] = None,
    rerank_first: Annotated[float | None, RERANK_FIRST] = None,
    lookup: Annotated[bool, LOOKUP] = True,
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
    if predictions is not None:
        _writable_output(predictions, "--predictions", {"--gold": gold})
    from reinflect.morph import formats

    _guard(formats.check_file, gold)  # named before a model is loaded
    r = _predictor(model)
    result = _guard(
        predict.evaluate,
        r,
        gold,
        fmt=_fmt(fmt),
        by_tag=by_tag,
        predictions_path=predictions,
        skip_bad=skip_bad_lines,
        **_decode_options(
            beam, rerank, rerank_floor, rerank_roundtrip, rerank_rules, rerank_first, lookup
        ),
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
    typer.echo(
        f"dev accuracy (beam 8): {table[predict.Setting().key]:.2f}% plain, "
        f"{table[r.setting.key]:.2f}% reranked ({r.setting.describe()}); wrote {path}"
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
