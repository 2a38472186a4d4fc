"""When the plug-in reminder is due."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import math

import pytest

from custom_components.ev_flex.core.learning import ChargeModel
from custom_components.ev_flex.core.planner.curve import ChargeCurve
from custom_components.ev_flex.core.reminder import (
    ChargeOutlook,
    ReminderReason,
    charge_curve,
    charge_time,
    hours_on_curve,
    reminder_due,
)

NOW = datetime(2026, 1, 13, 22, 0, tzinfo=UTC)
# 40 % of 75 kWh to 80 % is 30 kWh: 3 hours at 10 kW into the battery.
UNPLUGGED = ChargeOutlook(
    now=NOW,
    at_home=True,
    plugged_in=False,
    departure=NOW + timedelta(hours=5),
    target_soc_pct=80.0,
    soc_pct=40.0,
    capacity_kwh=75.0,
    charge_kw=10.0,
)


def test_charge_time_at_full_power() -> None:
    assert charge_time(UNPLUGGED) == timedelta(hours=3)
    assert charge_time(replace(UNPLUGGED, soc_pct=90.0)) == timedelta(0)


@pytest.mark.parametrize(
    "change",
    [
        {"soc_pct": None},
        {"capacity_kwh": 0.0},
        {"charge_kw": 0.0},
        {"charge_kw": float("nan")},
        {"soc_pct": float("inf")},
        {"target_soc_pct": None},
    ],
)
def test_charge_time_needs_sound_numbers(change: dict[str, object]) -> None:
    assert charge_time(replace(UNPLUGGED, **change)) is None  # type: ignore[arg-type]


def test_unplugged_reminder_comes_an_hour_before_the_last_moment() -> None:
    """Plugging in at 00:00 still makes the 03:00 departure; from 23:00 on it is time."""
    last_moment = UNPLUGGED.departure - timedelta(hours=3)  # type: ignore[operator]
    early = replace(UNPLUGGED, now=last_moment - timedelta(hours=1, minutes=1))
    assert reminder_due(early) is None
    due = replace(UNPLUGGED, now=last_moment - timedelta(hours=1))
    reminder = reminder_due(due)
    assert reminder is not None
    assert reminder.reason is ReminderReason.UNPLUGGED
    assert reminder.plug_in_by == last_moment
    assert reminder.departure == UNPLUGGED.departure
    assert reminder.target_soc_pct == 80.0
    # Too late already: a reminder all the same (the sooner the better).
    assert reminder_due(replace(UNPLUGGED, now=last_moment + timedelta(hours=1))) is not None


@pytest.mark.parametrize(
    "change",
    [
        {"at_home": False},
        {"plugged_in": None},
        {"departure": None},
        {"departure": NOW},
        {"soc_pct": 85.0},
        {"soc_pct": None},
    ],
)
def test_no_reminder_without_reason(change: dict[str, object]) -> None:
    late = replace(UNPLUGGED, now=NOW + timedelta(hours=1, minutes=30))
    assert reminder_due(replace(late, **change)) is None  # type: ignore[arg-type]


def test_plugged_in_with_a_shortfall() -> None:
    plugged = replace(UNPLUGGED, plugged_in=True, shortfall_pct=12.5)
    reminder = reminder_due(plugged)
    assert reminder is not None
    assert reminder.reason is ReminderReason.SHORTFALL
    assert reminder.shortfall_pct == 12.5
    for shortfall in (None, 0.4, float("nan")):
        assert reminder_due(replace(plugged, shortfall_pct=shortfall)) is None


# 11 kW at the grid, 90 % of it into the battery, full power to 80 %, then down to 3.3 kW at 100 %.
TAPERING = ChargeCurve.build(75.0, 11.0, ((80.0, 11.0), (100.0, 3.3)), 0.9, 75.0)


def _hours_in_small_steps(curve: ChargeCurve, start_kwh: float, end_kwh: float) -> float:
    """The same time, summed over 10 Wh steps at each step's middle power."""
    steps = round((end_kwh - start_kwh) / 0.01)
    width = (end_kwh - start_kwh) / steps
    middles = (start_kwh + (index + 0.5) * width for index in range(steps))
    return sum(width / (curve.efficiency * curve.power_limit(energy)) for energy in middles)


def test_charge_time_follows_the_taper_near_full() -> None:
    """From 70 % to 95 %: 7.5 kWh at full power, then 11.25 kWh ever slower (2.37 h in all,
    where a flat 9.9 kW would say 1.89 h)."""
    near_full = replace(UNPLUGGED, soc_pct=70.0, target_soc_pct=95.0, charge_kw=9.9)
    flat = charge_time(near_full)
    tapering = charge_time(replace(near_full, curve=TAPERING))
    assert flat is not None
    assert tapering is not None
    assert flat.total_seconds() / 3600 == pytest.approx(18.75 / 9.9)
    exact = 7.5 / 9.9 + 12.5 * math.log(5.225 / 11.0) / (5.225 - 11.0)
    assert tapering.total_seconds() / 3600 == pytest.approx(exact, rel=1e-9)
    assert exact == pytest.approx(_hours_in_small_steps(TAPERING, 52.5, 71.25), rel=1e-6)
    # Below the knee the curve is flat: the same answer as before.
    low = replace(UNPLUGGED, charge_kw=9.9)
    assert charge_time(replace(low, curve=TAPERING)) == charge_time(low)


def test_a_car_near_full_is_reminded_earlier_for_its_taper() -> None:
    """3 h 15 min before the departure, 70 % → 95 % at a flat 9.9 kW (1.9 h) leaves more than
    the hour's grace: no reminder yet. Along the taper it takes 2.37 h: time to plug in."""
    near_full = replace(
        UNPLUGGED,
        soc_pct=70.0,
        target_soc_pct=95.0,
        charge_kw=9.9,
        departure=NOW + timedelta(hours=3, minutes=15),
    )
    assert reminder_due(near_full) is None
    reminder = reminder_due(replace(near_full, curve=TAPERING))
    assert reminder is not None
    assert reminder.plug_in_by is not None
    left = near_full.departure - reminder.plug_in_by  # type: ignore[operator]
    assert left.total_seconds() / 3600 == pytest.approx(2.369, abs=0.001)


def test_the_learned_model_gives_the_planners_curve() -> None:
    model = ChargeModel(
        max_kw=11.0,
        efficiency=0.9,
        efficiency_uncertainty=0.05,
        discharge_efficiency=0.9,
        taper_knee_pct=80.0,
        taper_end_kw=3.3,
    )
    assert charge_curve(model, 75.0) == TAPERING
    assert charge_curve(model, None) is None
    assert charge_curve(model, float("nan")) is None
    assert charge_curve(replace(model, max_kw=0.0), 75.0) is None
    stalled = ChargeCurve.build(75.0, 11.0, ((80.0, 11.0), (100.0, 0.0)), 0.9, 75.0)
    assert hours_on_curve(stalled, 60.0, 75.0) == math.inf
    assert charge_time(replace(UNPLUGGED, target_soc_pct=100.0, curve=stalled)) == timedelta(
        days=365
    )
