"""Schedules: endpoints, monotonicity, caps and floors."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reinflect import config
from reinflect.morph import sizing
from reinflect.vae import schedules

MSVED_TAU = dict(initial=1.0, rate=3e-5, floor=0.5, every=2000)


def test_linear_msved_schedule():
    # MSVED's: 0 for 10k updates, then 1/150k per update, cap 0.2
    s = schedules.KLSchedule(kind="linear", cap=0.2, delay=10_000, rate=1 / 150_000)
    assert schedules.kl_weight(0, s) == 0.0
    assert schedules.kl_weight(9_999, s) == 0.0
    assert schedules.kl_weight(10_000 + 15_000, s) == pytest.approx(0.1)
    assert schedules.kl_weight(10_000 + 30_000, s) == pytest.approx(0.2)
    assert schedules.kl_weight(10**7, s) == 0.2
    # reinflect's default on a large set: the same from update 3,000 (chosen by size)
    _, train, _ = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), 12_800)
    d = train.kl
    assert schedules.kl_weight(2_999, d) == 0.0
    assert schedules.kl_weight(3_000 + 15_000, d) == pytest.approx(0.1)
    # on a small one: from the start, the cap within a few hundred updates
    _, train, notes = sizing.choose(config.MorphModelConfig(), config.MorphTrainConfig(), 100)
    assert schedules.kl_weight(0, train.kl) == 0.0
    assert schedules.kl_weight(100, train.kl) == pytest.approx(0.1)
    assert schedules.kl_weight(10**6, train.kl) == 0.2
    assert any(n.startswith("KL(z) weight: from update 0") for n in notes)
    # what the user gave is kept
    user = config.MorphTrainConfig(kl=schedules.KLSchedule(kind="linear", cap=0.2, delay=7))
    _, train, _ = sizing.choose(config.MorphModelConfig(), user, 100)
    assert (train.kl.delay, train.kl.rate) == (7, 1e-4)
    with pytest.raises(ValueError, match="not chosen"):
        schedules.kl_weight(5, config.MorphTrainConfig().kl)
    # a bare schedule is the plain ELBO
    assert schedules.kl_weight(0, schedules.KLSchedule()) == 1.0


def test_constant_sigmoid_cyclical_shapes():
    assert schedules.kl_weight(123, schedules.KLSchedule(kind="constant", cap=0.7)) == 0.7
    sig = schedules.KLSchedule(kind="sigmoid", cap=1.0, delay=0, midpoint=1000, steepness=0.01)
    assert schedules.kl_weight(1000, sig) == pytest.approx(0.5)
    assert schedules.kl_weight(0, sig) < 0.01 and schedules.kl_weight(5000, sig) > 0.99
    cyc = schedules.KLSchedule(kind="cyclical", cap=1.0, delay=0, period=100, ratio=0.5)
    assert [schedules.kl_weight(t, cyc) for t in (0, 25, 50, 99, 100, 125)] == [
        0.0, 0.5, 1.0, 1.0, 0.0, 0.5,
    ]  # fmt: skip


@given(
    kind=st.sampled_from(schedules.KL_KINDS),
    cap=st.floats(0, 5),
    delay=st.integers(0, 1000),
    step=st.integers(0, 10**6),
)
def test_kl_weight_stays_within_zero_and_cap(kind, cap, delay, step):
    s = schedules.KLSchedule(kind=kind, cap=cap, delay=delay, period=500)
    assert 0.0 <= schedules.kl_weight(step, s) <= cap + 1e-12


@pytest.mark.parametrize("kind", ["linear", "sigmoid"])
def test_monotone_non_decreasing(kind):
    s = schedules.KLSchedule(kind=kind, delay=100, rate=1e-3, midpoint=500, steepness=0.01)
    ws = [schedules.kl_weight(t, s) for t in range(0, 3000, 7)]
    assert all(a <= b for a, b in zip(ws, ws[1:], strict=False))


def test_temperature_msved_floor_and_refresh():
    tau = MSVED_TAU
    assert schedules.temperature(0, **tau) == 1.0
    assert schedules.temperature(1999, **tau) == 1.0  # refreshed only every 2000 updates
    assert schedules.temperature(2000, **tau) == pytest.approx(math.exp(-3e-5 * 2000))
    assert schedules.temperature(10**6, **tau) == 0.5
    taus = [schedules.temperature(t, **tau) for t in range(0, 100_000, 500)]
    assert all(a >= b for a, b in zip(taus, taus[1:], strict=False))
    assert min(taus) >= 0.5


def test_bad_schedule_settings_name_the_value():
    with pytest.raises(ValueError, match="unknown KL schedule 'cosine'"):
        schedules.KLSchedule(kind="cosine")
    with pytest.raises(ValueError, match="floor must be positive"):
        schedules.temperature(0, **{**MSVED_TAU, "floor": 0})


def test_warmup_helper():
    s = schedules.warmup(2.0, 100)
    assert [schedules.kl_weight(t, s) for t in (0, 50, 100, 1000)] == [0.0, 1.0, 2.0, 2.0]
    assert schedules.warmup(1.0, 0).kind == "constant"


def test_budget_lr_factor_holds_then_decays_linearly_to_zero():
    assert schedules.budget_lr_factor(0.0) == schedules.budget_lr_factor(0.5) == 1.0
    assert schedules.budget_lr_factor(0.75) == pytest.approx(0.5)
    assert schedules.budget_lr_factor(1.0) == 0.0 and schedules.budget_lr_factor(1.2) == 0.0
    assert schedules.budget_lr_factor(0.6, hold=0.0) == pytest.approx(0.4)
