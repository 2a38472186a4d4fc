"""When the plug-in reminder is due."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.reminder import (
    ChargeOutlook,
    ReminderReason,
    charge_time,
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
