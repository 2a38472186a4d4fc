"""A simulation that catches up in long steps follows the same physics as one read every
minute."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS, Simulation

START = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)


def twins(preset: str, soc_pct: float) -> tuple[list[datetime], Simulation, Simulation]:
    """Two equal simulations on one clock (a one-item list the test moves)."""
    clock = [START]
    made = [
        Simulation(
            clock=lambda: clock[0],
            vehicle=VEHICLE_PRESETS[preset],
            charger=CHARGER_PRESETS[preset],
            soc_pct=soc_pct,
            command_delay=timedelta(0),
        )
        for _ in range(2)
    ]
    return clock, made[0], made[1]


@pytest.mark.parametrize(
    ("preset", "soc_pct", "hours", "discharge_kw"),
    [
        ("sedan", 10.0, 3.0, None),  # below the taper and into it
        ("sedan", 10.0, 12.0, None),  # to the limit, then idle
        ("hatchback", 85.0, 2.0, None),  # inside the taper only
        ("suv_v2g", 60.0, 8.0, 11.0),  # a discharge to empty
    ],
)
def test_catch_up_matches_minute_by_minute(
    preset: str, soc_pct: float, hours: float, discharge_kw: float | None
) -> None:
    """Energy and state of charge agree within a hundredth of a percent."""
    clock, stepped, caught_up = twins(preset, soc_pct)
    if discharge_kw is not None:
        for simulation in (stepped, caught_up):
            simulation.send_command(simulation.charger_id, CommandKind.DISCHARGE, discharge_kw)
    end = START + timedelta(hours=hours)
    while clock[0] < end:
        clock[0] += timedelta(minutes=1)
        stepped.advance()
    caught_up.advance()
    assert caught_up.vehicle_state().battery_level_pct == pytest.approx(
        stepped.vehicle_state().battery_level_pct, abs=0.01
    )
    assert caught_up.energy_delivered_kwh == pytest.approx(stepped.energy_delivered_kwh, abs=0.01)
