"""Annealing schedules as pure functions of the update step.

KL annealing (Bowman et al. 2016, "Generating Sentences from a Continuous
Space") keeps the posterior from collapsing early; the cyclical schedule is
Fu et al. (2019). The Gumbel temperature schedule is Jang et al. (2017,
section 4.1): tau = max(floor, tau0 * exp(-rate * t)), with t refreshed every
N steps. The settings a model uses (MSVED's, Zhou & Neubig 2017, for
reinflection) are defaults of :mod:`reinflect.config`, not of this module:
a bare ``KLSchedule()`` is the plain ELBO (weight 1 throughout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

KL_KINDS = ("constant", "linear", "sigmoid", "cyclical")


@dataclass(frozen=True)
class KLSchedule:
    """Settings of the KL-weight schedule (see :func:`kl_weight`).

    ``delay`` steps at weight 0 (not for ``constant``), then:
    linear   -- ``rate`` per step up to ``cap``;
    sigmoid  -- cap / (1 + exp(-steepness * (t - midpoint))), t counted after the delay;
    cyclical -- cycles of ``period`` steps, rising linearly over the first
                ``ratio`` of each cycle to ``cap`` and holding there.
    """

    kind: str = "constant"
    cap: float = 1.0
    delay: int | None = 0  # None: not chosen yet (reinflect.morph.sizing chooses it)
    rate: float | None = 1e-4
    midpoint: int = 20_000
    steepness: float = 2.5e-4
    period: int = 20_000
    ratio: float = 0.5

    def __post_init__(self) -> None:
        if self.kind not in KL_KINDS:
            raise ValueError(
                f"unknown KL schedule {self.kind!r}; choose one of {', '.join(KL_KINDS)}"
            )
        if self.cap < 0:
            raise ValueError(f"KL cap must be >= 0, got {self.cap}")


def warmup(cap: float, steps: int) -> KLSchedule:
    """A linear warm-up from 0 to ``cap`` over ``steps`` updates (constant when 0)."""
    if steps <= 0:
        return KLSchedule(kind="constant", cap=cap)
    return KLSchedule(kind="linear", cap=cap, delay=0, rate=cap / steps)


def kl_weight(step: int, schedule: KLSchedule) -> float:
    """The KL weight at update ``step`` (0-based); always within [0, cap]."""
    s = schedule
    if s.kind == "constant":
        return s.cap
    if s.delay is None or s.rate is None:
        raise ValueError(
            "the KL schedule's delay and rate are not chosen (sizing.choose sets them)"
        )
    t = step - s.delay
    if t < 0:
        return 0.0
    if s.kind == "linear":
        return min(s.cap, t * s.rate)
    if s.kind == "sigmoid":
        x = -s.steepness * (t - s.midpoint)
        return s.cap / (1.0 + math.exp(min(x, 700.0)))
    # cyclical
    phase = (t % s.period) / s.period
    return s.cap * min(1.0, phase / s.ratio)


def temperature(step: int, *, initial: float, rate: float, floor: float, every: int) -> float:
    """Gumbel-softmax temperature max(floor, initial * exp(-rate * t)).

    ``t`` is ``step`` rounded down to a multiple of ``every``, so the
    temperature changes only every ``every`` updates (MSVED: 2000).
    """
    if floor <= 0:
        raise ValueError(f"temperature floor must be positive, got {floor}")
    t = (step // every) * every if every > 0 else step
    return max(floor, initial * math.exp(-rate * t))


def budget_lr_factor(progress: float, *, hold: float = 0.5) -> float:
    """The learning-rate factor at ``progress`` (0..1) of a known training budget:
    1 for the first ``hold`` of it, then linear down to 0 at its end."""
    if progress <= hold:
        return 1.0
    return max(0.0, (1.0 - progress) / (1.0 - hold))
