"""Hyperparameters as small dataclasses, in one place; saved in every checkpoint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from reinflect.errors import ReinflectError
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
    )
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
SOURCE_ATTENTION_STYLES = ("input", "output")


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
    return {"source_attention": style is not None, "source_attention_style": style or "input"}


@dataclass
class MorphModelConfig:
    """MSVED's architecture (Zhou & Neubig 2017; DESIGN.md section 2)."""

    char_embedding: int = 300
    encoder_hidden: int = 256  # per direction; the encoder state is 2x this
    latent: int = 150
    tag_embedding: int = 200
    decoder_hidden: int = 256
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
    # computes it for all steps at once after the recurrence.
    source_attention_style: str = "input"

    def __post_init__(self) -> None:
        if not 0.0 <= self.word_dropout < 1.0:
            raise ReinflectError(f"--word-dropout must be in [0, 1), got {self.word_dropout}")
        if not 0.0 <= self.dropout < 1.0:
            raise ReinflectError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.source_attention_style not in SOURCE_ATTENTION_STYLES:
            raise ReinflectError(
                "--source-attention-style must be one of "
                f"{', '.join(SOURCE_ATTENTION_STYLES)}, got {self.source_attention_style!r}"
            )


@dataclass
class MorphTrainConfig:
    """Training of the reinflection model; MSVED's defaults, Adam instead of Adadelta."""

    batch_size: int = 64  # labeled pairs per update
    unlabeled_batch: int = 64  # unlabeled words per update
    unlabeled_weight: float = 0.8
    alpha: float = 1.0  # classifier term on labeled targets
    # ours: the weight of the y-KL terms KL(q(y|x) || p(y)) (source and unlabeled
    # words). MSVED's 1 pulls q(y|x) towards uniform against the classifier term,
    # so the Gumbel samples of y_s are mostly wrong bundles; 0 trained faster and
    # better on English and Hungarian (README, "How it works").
    y_kl_weight: float = 0.0
    supervised_only: bool = False
    # ours: hallucinated pairs per real pair in a pass (stem consonants redrawn,
    # reinflect.morph.hallucinate); 0: none.
    hallucinate: float = 0.0
    # ours: draw each update's unlabeled words length-matched to its labeled batch
    # (reinflect.morph.data.BatchStream.take): 19% more labeled pairs/s on Turkish,
    # but about a point lower per update on Spanish in two comparisons; off.
    match_unlabeled_lengths: bool = False
    # ours: the KL(z) term from update 3,000 (MSVED's 10k; rate and cap theirs).
    # Turkish at 35 minutes then keeps climbing where the 10k delay fell by
    # half a point before its KL(z) term came in (README, "How it works").
    kl: schedules.KLSchedule = field(default_factory=lambda: schedules.KLSchedule(delay=3_000))
    temperature: float = 1.0
    temperature_rate: float = 3e-5
    temperature_floor: float = 0.5
    temperature_every: int = 2000
    lr: float = 1e-3
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
    eval_every: int = 500  # updates between dev checks (greedy exact match)
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
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto: bf16 autocast on CUDA, fp32 on CPU (see train.autocast)

    def __post_init__(self) -> None:
        if isinstance(self.kl, dict):
            self.kl = schedules.KLSchedule(**self.kl)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ReinflectError(
                f"--lr-schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}"
            )
        if self.precision not in PRECISIONS:
            raise ReinflectError(
                f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}"
            )
        if not 0.0 <= self.average < 1.0:
            raise ReinflectError(f"--average must be in [0, 1) (0: off), got {self.average}")
        if not self.hallucinate >= 0.0:
            raise ReinflectError(f"--hallucinate must be >= 0 (0: off), got {self.hallucinate}")


def to_dict(cfg) -> dict:
    """A plain-Python dict (safe for ``torch.load(weights_only=True)`` and JSON)."""
    out = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}
