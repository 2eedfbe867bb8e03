"""Hyperparameters as small dataclasses, in one place; saved in every checkpoint.

These dataclasses are the one source of defaults: the CLI's options, the
benchmark scripts and ``--config`` TOML files all read them. A reinflection
run is a :class:`MorphRunConfig` (data, model, train); :func:`resolve_morph`
builds one from the defaults, a TOML file and options, by the one mapping of
option names to fields, :data:`MORPH_OPTIONS`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reinflect.errors import ReinflectError, UsageError, did_you_mean
from reinflect.vae import schedules


@dataclass
class MnistConfig:
    """M1 (VAE) / M2 (Kingma et al. 2014 semi-supervised) on MNIST.

    Defaults for M2 follow Kingma et al. and Pyro's SS-VAE example (one hidden
    layer of 500, z of 50, Adam); alpha weighs the classifier term of eq. 9.
    """

    model: str = "m2"  # m1 | m2
    labels: int = 100  # labeled training images (M2), equal per class
    latent: int = 50
    hidden: tuple[int, ...] = (500,)
    activation: str = "softplus"  # softplus | relu | tanh | gated
    estimator: str = "enumerate"  # enumerate | gumbel | reinforce (M2 unlabeled term)
    alpha: float = 5000.0  # Kingma et al.: 0.1 * N
    # Weight of the labeled batch mean relative to the unlabeled batch mean.
    # None: N_labeled / N_unlabeled, so each step is an unbiased estimate of
    # Kingma et al.'s objective sum_l L + sum_u U + alpha * sum_l CE (scaled by 1/N_u).
    labeled_weight: float | None = None
    epochs: int = 50
    max_steps: int | None = None  # stop after this many updates (quick runs, tests)
    batch_size: int = 200  # unlabeled (M2) or training (M1) images per update
    labeled_batch: int = 100  # labeled images per update (M2)
    lr: float = 1e-3
    lr_decay: float = 1.0  # multiplied into the learning rate after every epoch
    kl: schedules.KLSchedule = field(
        default_factory=lambda: schedules.KLSchedule(kind="constant", cap=1.0)
    )  # the ELBO; --kl-weight and --kl-warmup change it (schedules.warmup)
    temperature: float = 1.0  # Gumbel-softmax start temperature
    temperature_rate: float = 3e-5
    temperature_floor: float = 0.5
    temperature_every: int = 500
    baseline_decay: float = 0.9  # NVIL running baseline for REINFORCE
    # Sample binary pixels x ~ Bernoulli(gray) afresh for every batch (M2 inputs and
    # targets; a proper Bernoulli likelihood, and noise that keeps the classifier
    # from memorizing the few labeled images). Evaluation uses the gray images.
    dynamic_binarization: bool = False
    train_size: int | None = None  # use only the first N training images (quick runs, tests)
    seed: int = 0
    max_minutes: float | None = None  # wall-clock budget for training

    def __post_init__(self) -> None:
        if isinstance(self.kl, dict):
            self.kl = schedules.KLSchedule(**self.kl)
        self.hidden = tuple(self.hidden)
        checks = {
            "model": (self.model, ("m1", "m2")),
            "estimator": (self.estimator, ("enumerate", "gumbel", "reinforce")),
            "activation": (self.activation, ("softplus", "relu", "tanh", "gated")),
        }
        for name, (value, allowed) in checks.items():
            if value not in allowed:
                raise ReinflectError(f"--{name} must be one of {', '.join(allowed)}, got {value!r}")


PRECISIONS = ("auto", "fp32", "bf16")
LR_SCHEDULES = ("constant", "budget")
UNLABELED_SOURCES = ("none", "stem")
SOURCE_ATTENTION_STYLES = ("input", "output", "monotonic")


def add_source_attention_option(parser) -> None:
    """The benchmark scripts' ``--source-attention [STYLE]`` (argparse): off, or
    on in STYLE ("input" when none is given); see :func:`source_attention`."""
    parser.add_argument(
        "--source-attention",
        nargs="?",
        const="input",
        choices=SOURCE_ATTENTION_STYLES,
        help="attend over the source characters, in this style (default input)",
    )


def source_attention(style: str | None) -> dict:
    """MorphModelConfig arguments for source attention in ``style`` (None: off)."""
    return {
        "source_attention": style is not None,
        "source_attention_style": style or MorphModelConfig.source_attention_style,
    }


# The model's sizes (MorphModelConfig fields), chosen together by the training
# set's size unless given (reinflect.morph.sizing).
MODEL_SIZES = ("char_embedding", "encoder_hidden", "latent", "tag_embedding", "decoder_hidden")


@dataclass
class MorphModelConfig:
    """MSVED's architecture (Zhou & Neubig 2017; DESIGN.md section 2)."""

    # The sizes; None: chosen by the training set's size (reinflect.morph.sizing:
    # MSVED's 300 / 256 / 150 / 200 / 256 above its threshold, smaller below).
    char_embedding: int | None = None
    encoder_hidden: int | None = None  # per direction; the encoder state is 2x this
    latent: int | None = None
    tag_embedding: int | None = None
    decoder_hidden: int | None = None
    word_dropout: float = 0.4
    # ours: dropout on the encoder's outputs (the summary h, and the states that
    # source attention reads) and on the decoder states under the output layer.
    dropout: float = 0.0
    source_attention: bool = False  # ours: attention over the source characters
    source_attention_dim: int = 128  # its key/value size (ours)
    # How the source context enters the decoder (SOURCE_ATTENTION_STYLES):
    # "input": keyed by the previous state, into the GRU input and the output
    # layer (like the tag attention); "output": keyed by the new state, into the
    # output layer only (Luong et al. 2015 without input feeding), so training
    # computes it for all steps at once after the recurrence; "monotonic": hard
    # monotonic attention, each character emitted from one source position at or
    # after the previous one, the alignment summed out (reinflect.morph.model).
    source_attention_style: str = "input"
    # ours: a pointer-generator copy from the source (reinflect.morph.model); needs
    # source attention. Only the transductions (one word rebuilt from the other)
    # see a source; the auto-encoding rows decode from z and y alone. None: chosen
    # by the training set's size (reinflect.morph.sizing; on for small sets, with
    # source attention).
    copy: bool | None = None

    def __post_init__(self) -> None:
        if self.copy and not self.source_attention:
            raise ReinflectError("--copy needs --source-attention")
        if not 0.0 <= self.word_dropout < 1.0:
            raise ReinflectError(f"--word-dropout must be in [0, 1), got {self.word_dropout}")
        if not 0.0 <= self.dropout < 1.0:
            raise ReinflectError(f"--dropout must be in [0, 1), got {self.dropout}")
        for name in MODEL_SIZES:
            size = getattr(self, name)
            if size is not None and (not isinstance(size, int) or size < 1):
                flag = "--" + name.replace("_", "-")
                raise ReinflectError(f"{flag} must be a whole number of at least 1, got {size!r}")
        if self.source_attention_style not in SOURCE_ATTENTION_STYLES:
            raise ReinflectError(
                "--source-attention-style must be one of "
                f"{', '.join(SOURCE_ATTENTION_STYLES)}, got {self.source_attention_style!r}"
            )


@dataclass
class MorphTrainConfig:
    """Training of the reinflection model; MSVED's defaults, Adam instead of Adadelta."""

    batch_size: int = 64  # labeled pairs per update
    unlabeled_batch: int | None = None  # unlabeled words per update; None: batch_size
    unlabeled_weight: float = 0.8
    alpha: float = 1.0  # classifier term on labeled targets
    # ours: the weight of the y-KL terms KL(q(y|x) || p(y)) (source and unlabeled
    # words). MSVED's 1 pulls q(y|x) towards uniform against the classifier term,
    # so the Gumbel samples of y_s are mostly wrong bundles (results/README.md).
    y_kl_weight: float = 0.0
    # no unlabeled words (no MSVAE term); None: chosen by the training set's size
    # (reinflect.morph.sizing: off at low and large sizes, on at about 1,000 pairs).
    supervised_only: bool | None = None
    # ours: hallucinated pairs per real pair in a pass (stem consonants redrawn,
    # reinflect.morph.hallucinate); 0: none; None: chosen by the training set's
    # size (reinflect.morph.sizing).
    hallucinate: float | None = None
    # ours: draw each update's unlabeled words length-matched to its labeled batch
    # (reinflect.morph.data.BatchStream.take): faster updates, but not as good per
    # update in the comparisons of results/README.md; off.
    match_unlabeled_lengths: bool = False
    # ours: the source an unlabeled word is rebuilt from, with source attention.
    # "none": none (MSVED's MSVAE term: from z and y alone; a decoder that copies
    # must not see the word it rebuilds). "stem": the word with a random ending
    # cut off (reinflect.morph.objective.cut_endings), so the decoder learns to
    # copy a stem and write the ending its tags y ~ q(y|x) call for. None: chosen
    # by the training set's size (reinflect.morph.sizing).
    unlabeled_source: str | None = None
    # MSVED's KL(z) schedule (linear, cap 0.2); its delay and rate are chosen by
    # the training set's size (reinflect.morph.sizing: MSVED's rate 1/150k from
    # update 3,000 on large sets, from the start and faster on small ones).
    kl: schedules.KLSchedule = field(
        default_factory=lambda: schedules.KLSchedule(kind="linear", cap=0.2, delay=None, rate=None)
    )
    temperature: float = 1.0
    temperature_rate: float = 3e-5
    temperature_floor: float = 0.5
    temperature_every: int = 2000
    # Adam's learning rate; None: by the training set's size (reinflect.morph.sizing)
    lr: float | None = None
    # budget: with --minutes or --max-steps, hold lr for the first half of the
    # budget, then decay it linearly to zero at its end (ours; without a budget
    # it is constant); or constant.
    lr_schedule: str = "budget"
    clip: float = 5.0
    # ours: the decay of an exponential moving average of the weights, which is
    # what dev checks evaluate and model.pt keeps (train.WeightAverage); 0: off.
    average: float = 0.999
    max_steps: int | None = None
    max_minutes: float | None = None
    # updates between dev checks (greedy exact match); None: a few passes over the
    # pairs (reinflect.morph.sizing)
    eval_every: int | None = None
    patience: int = 10  # dev checks without improvement before stopping
    max_length: int = 50
    wordfreq_words: int = 20_000  # from wordfreq where the language has a list
    # ours: after training, the weight of log q(y|x') in ranking the beam is
    # chosen from these on dev (beam 8) and stored with the model; () skips it.
    rerank_grid: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    # ours: with it, the floor under log q (nats; None: none), chosen the same way
    rerank_floors: tuple[float | None, ...] = (None, 5.0, 2.0)
    # ours: and the weight of log p(source|hypothesis), the round trip (0: off)
    rerank_roundtrips: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0)
    # ours: and the weight of the training pairs' edit rules (morph.rules; 0: off)
    rerank_rules: tuple[float, ...] = (0.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    # ours: and the weight of the rules' first form (morph.rules; 0: off)
    rerank_firsts: tuple[float, ...] = (0.0, 2.0, 4.0, 8.0)
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto: bf16 autocast on CUDA, fp32 on CPU (see train.autocast)

    def __post_init__(self) -> None:
        if isinstance(self.kl, dict):
            self.kl = schedules.KLSchedule(**self.kl)
        if self.unlabeled_batch is None:
            self.unlabeled_batch = self.batch_size
        self.rerank_grid = tuple(self.rerank_grid)
        self.rerank_floors = tuple(self.rerank_floors)
        self.rerank_roundtrips = tuple(self.rerank_roundtrips)
        self.rerank_rules = tuple(self.rerank_rules)
        self.rerank_firsts = tuple(self.rerank_firsts)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ReinflectError(
                f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if self.unlabeled_source is not None and self.unlabeled_source not in UNLABELED_SOURCES:
            raise ReinflectError(
                f"--unlabeled-source must be one of {', '.join(UNLABELED_SOURCES)}, "
                f"got {self.unlabeled_source!r}"
            )
        if self.precision not in PRECISIONS:
            raise ReinflectError(
                f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if not 0.0 <= self.average < 1.0:
            raise ReinflectError(f"--average must be in [0, 1) (0: off), got {self.average}")
        for flag, value in (
            ("--batch-size", self.batch_size),
            ("--unlabeled-batch", self.unlabeled_batch),
            ("--eval-every", self.eval_every),
            ("--max-steps", self.max_steps),
            ("--patience", self.patience),
            ("--max-length", self.max_length),
        ):
            if value is not None and not (isinstance(value, int) and value >= 1):
                raise ReinflectError(f"{flag} must be a whole number >= 1, got {value!r}")
        for flag, value in (
            ("--minutes", self.max_minutes),
            ("--lr", self.lr),
            ("--clip", self.clip),
        ):
            if value is not None and not value > 0.0:
                raise ReinflectError(f"{flag} must be > 0, got {value}")
        if self.hallucinate is not None and not self.hallucinate >= 0.0:
            raise ReinflectError(f"--hallucinate must be >= 0 (0: off), got {self.hallucinate}")


def to_dict(cfg) -> dict:
    """A plain-Python dict (safe for ``torch.load(weights_only=True)`` and JSON)."""
    out = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


# -- a whole reinflection run: data, model, training ----------------------------------

FORMATS = ("auto", "sigmorphon2016", "sigmorphon2016-t2", "unimorph", "unimorph-ltf")
# The sample built by scripts/make_english_data.py, beside the package in a checkout,
# and the budget of a run on it without options (under 10 minutes with its set-up).
ENGLISH_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "english"
SAMPLE_MINUTES = 9.5


@dataclass
class MorphDataConfig:
    """The files of a run: ``train`` and ``dev``, or a data set by name (``dataset``,
    ``lang``, ``task``, ``setting``); neither: the bundled English sample."""

    train: list[str] = field(default_factory=list)
    dev: str | None = None
    dataset: str | None = None  # sigmorphon2016 | conll2017
    lang: str | None = None  # the language (wordfreq words; with dataset, its files)
    task: int = 3  # sigmorphon2016: the task, 1-3
    # conll2017: high (default), medium or low; sigmorphon2016: restricted
    # (task T's train file, default) or standard (tasks 1..T's train files)
    setting: str | None = None
    format: str = "auto"
    unlabeled: str | None = None  # extra unlabeled words, one per line
    skip_bad_lines: bool = False

    def __post_init__(self) -> None:
        self.train = [str(t) for t in ([self.train] if isinstance(self.train, str) else self.train)]
        for name in ("dev", "unlabeled"):
            if getattr(self, name) is not None:
                setattr(self, name, str(getattr(self, name)))
        if self.format not in FORMATS:
            raise ReinflectError(
                f"--format must be one of {', '.join(FORMATS)}, got {self.format!r}"
            )

    def files(self) -> tuple[list[Path], Path]:
        """(train files, dev file): the given ones, the data set's (found on disk, see
        :func:`reinflect.download.dataset_files`), or the English sample's."""
        if self.dataset is not None:
            if self.train or self.dev is not None:
                raise UsageError("give --dataset or --train/--dev, not both")
            if self.lang is None:
                raise UsageError("--dataset needs --lang")
            from reinflect import download

            return download.dataset_files(
                self.dataset, self.lang, task=self.task, setting=self.setting
            )
        if self.uses_sample:
            train = ENGLISH_SAMPLE / "train"
            if not train.is_file():
                raise ReinflectError(
                    f"the English sample is missing ({train}); pass --train and --dev"
                )
            return [train], ENGLISH_SAMPLE / "dev"
        if not self.train or self.dev is None:
            raise UsageError("give both --train and --dev (or neither, for the English sample)")
        return [Path(t) for t in self.train], Path(self.dev)

    @property
    def uses_sample(self) -> bool:
        return self.dataset is None and not self.train and self.dev is None


@dataclass
class MorphRunConfig:
    """Everything that defines a reinflection run; a run directory keeps it as
    ``config.toml``, so ``--config RUN/config.toml`` repeats the run."""

    data: MorphDataConfig = field(default_factory=MorphDataConfig)
    model: MorphModelConfig = field(default_factory=MorphModelConfig)
    train: MorphTrainConfig = field(default_factory=MorphTrainConfig)


def sample_defaults(run: MorphRunConfig, *, resume: bool = False) -> float | None:
    """A run on the bundled English sample (no data given) is English and, given
    no budget, trains for :data:`SAMPLE_MINUTES`: returns those minutes when it
    set them, else None."""
    if not run.data.uses_sample:
        return None
    run.data.lang = run.data.lang or "english"
    t = run.train
    if t.max_minutes is None and t.max_steps is None and not resume:
        t.max_minutes = SAMPLE_MINUTES
        return t.max_minutes
    return None


# Option name (the CLI's, with "-" as "_"; the scripts' too) -> its field:
# (section, field) or (section, field, subfield). The one mapping of options to config.
MORPH_OPTIONS: dict[str, tuple[str, ...]] = {
    **{n: ("data", n) for n in ("train", "dev", "dataset", "lang", "task", "setting")},
    **{n: ("data", n) for n in ("format", "unlabeled", "skip_bad_lines")},
    **{
        n: ("model", n)
        for n in (
            "source_attention",
            "source_attention_style",
            "copy",
            "word_dropout",
            "dropout",
            "char_embedding",
            "encoder_hidden",
            "decoder_hidden",
            "latent",
            "tag_embedding",
        )
    },
    **{
        n: ("train", n)
        for n in (
            "supervised_only",
            "hallucinate",
            "match_unlabeled_lengths",
            "unlabeled_source",
            "batch_size",
            "unlabeled_batch",
            "unlabeled_weight",
            "wordfreq_words",
            "y_kl_weight",
            "max_steps",
            "eval_every",
            "patience",
            "lr",
            "lr_schedule",
            "average",
            "seed",
            "device",
            "precision",
        )
    },
    "minutes": ("train", "max_minutes"),
    "kl_schedule": ("train", "kl", "kind"),
    "kl_delay": ("train", "kl", "delay"),
    "kl_rate": ("train", "kl", "rate"),
    "kl_cap": ("train", "kl", "cap"),
}
NONE = "none"  # how TOML, which has no null, writes None inside a list (rerank_floors)


def _tree(cfg) -> dict:
    """A config as nested plain dicts (lists for tuples)."""
    out = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        out[f.name] = (
            _tree(v) if dataclasses.is_dataclass(v) else (list(v) if isinstance(v, tuple) else v)
        )
    return out


def option_default(name: str):
    """The default of option ``name`` (:data:`MORPH_OPTIONS`)."""
    value: Any = _tree(MorphRunConfig())
    for key in MORPH_OPTIONS[name]:
        value = value[key]
    return value


def _accepts(hint, value) -> bool:
    """Whether ``value`` (from TOML) is of the field type ``hint`` (None always is)."""
    if value is None:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_accepts(h, value) for h in typing.get_args(hint) if h is not type(None))
    kind = typing.get_origin(hint) or hint
    if kind in (tuple, list):
        return isinstance(value, tuple | list)
    if kind is float:
        kind = (float, int)
    return isinstance(value, bool) == (hint is bool) and isinstance(value, kind)


def _type_name(hint) -> str:
    """``float`` for ``float | None``: the type a TOML value must have."""
    named = [h for h in typing.get_args(hint) if h is not type(None)] or [hint]
    return " or ".join((typing.get_origin(h) or h).__name__ for h in named)


def _check_keys(tree: dict, cfg, where: str, prefix: str = "") -> None:
    """Every key of ``tree`` is a field of ``cfg`` with a value of its type."""
    fields = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    hints = typing.get_type_hints(type(cfg))
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if key not in fields:
            raise ReinflectError(f"{where}: unknown option {name}{did_you_mean(key, fields)}")
        default = fields[key]
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise ReinflectError(f"{where}: {name} must be a table")
            _check_keys(value, default, where, f"{name}.")
        elif not _accepts(hints[key], value):
            raise ReinflectError(f"{where}: {name} must be {_type_name(hints[key])}, got {value!r}")


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(base[k], v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return out


def _build(tree: dict) -> MorphRunConfig:
    train = dict(tree["train"])
    if "rerank_floors" in train:
        train["rerank_floors"] = [None if f == NONE else f for f in train["rerank_floors"]]
    return MorphRunConfig(
        data=MorphDataConfig(**tree["data"]),
        model=MorphModelConfig(**tree["model"]),
        train=MorphTrainConfig(**train),
    )


def read_toml(path: str | os.PathLike) -> dict:
    """The tables of a ``--config`` file, checked against the config's fields."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            tree = tomllib.load(f)
    except OSError as e:
        raise ReinflectError(f"--config {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ReinflectError(f"{path}: not a TOML file ({e})") from None
    _check_keys(tree, MorphRunConfig(), str(path))
    return tree


def resolve_morph(
    options: dict[str, Any] | None = None, *, config_file: str | os.PathLike | None = None
) -> MorphRunConfig:
    """The run that the defaults, then ``config_file`` (TOML, tables ``[data]``,
    ``[model]``, ``[train]``, ``[train.kl]``), then ``options`` (by
    :data:`MORPH_OPTIONS` name; None values are left out) define.
    ``batch_size`` also sets ``unlabeled_batch`` unless that is given too."""
    tree = _tree(MorphRunConfig())
    tree["train"]["unlabeled_batch"] = None  # follows batch_size unless given
    if config_file is not None:
        tree = _merge(tree, read_toml(config_file))
    for name, value in (options or {}).items():
        if name not in MORPH_OPTIONS:
            raise ReinflectError(f"unknown option {name}{did_you_mean(name, MORPH_OPTIONS)}")
        if value is None:
            continue
        *path, last = MORPH_OPTIONS[name]
        node = tree
        for key in path:
            node = node[key]
        node[last] = value
        if name == "batch_size" and "unlabeled_batch" not in (options or {}):
            tree["train"]["unlabeled_batch"] = value
    return _build(tree)


# The options whose default (None) is chosen from the training set's size when
# the data is read (reinflect.morph.sizing).
SIZED = (
    "copy",
    "supervised_only",
    "hallucinate",
    "eval_every",
    "kl_delay",
    "kl_rate",
    "lr",
    *MODEL_SIZES,
)

# Types of the options whose default is None, for argparse.
_NONE_TYPES = {
    "max_steps": int,
    "minutes": float,
    "unlabeled_batch": int,
    "hallucinate": float,
    "eval_every": int,
    "copy": bool,
    "supervised_only": bool,
    "kl_delay": int,
    "kl_rate": float,
    "lr": float,
    **dict.fromkeys(MODEL_SIZES, int),
}


def add_morph_arguments(parser, names) -> None:
    """Options ``--NAME`` of :data:`MORPH_OPTIONS` for a script's argparse
    ``parser``, their help showing the config's default; an option not given is
    None, so :func:`morph_options` passes on only the given ones."""
    for name in names:
        default = option_default(name)
        flag = "--" + name.replace("_", "-")
        if _NONE_TYPES.get(name) is bool:  # on, off or by size
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help="(default: by size)"
            )
        elif isinstance(default, bool):
            parser.add_argument(flag, action="store_true", default=None, help="(default: off)")
        else:
            kind = _NONE_TYPES.get(name, type(default))
            shown = "by size" if name in SIZED else default
            parser.add_argument(flag, type=kind, default=None, help=f"(default: {shown})")


def morph_options(args, names) -> dict[str, Any]:
    """The options of ``names`` given on a script's command line (argparse ``args``)."""
    return {n: getattr(args, n) for n in names if getattr(args, n) is not None}


def to_toml(run: MorphRunConfig) -> str:
    """The run as TOML that :func:`resolve_morph` reads back (None values left out)."""
    import tomli_w

    def clean(tree: dict) -> dict:
        out = {}
        for k, v in tree.items():
            if isinstance(v, dict):
                out[k] = clean(v)
            elif isinstance(v, list):
                out[k] = [NONE if x is None else x for x in v]
            elif v is not None:
                out[k] = v
        return out

    return tomli_w.dumps(clean(_tree(run)))
