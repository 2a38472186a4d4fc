"""How long a simulated car saved long ago takes to catch up when it is restored.

A restore simulates the time that passed since the save, on Home Assistant's event loop. Each
case saves a car, moves the clock on by the given time and restores it, five times; the median
wall time is printed with the state of charge reached. Cases: plugged in and charging from 10 %
(the charging curve is followed through the taper), idle and unplugged, and a bidirectional car
discharging to empty.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import statistics
import time

from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS, Simulation

RUNS = 5
SAVED_AT = datetime(2025, 1, 1, tzinfo=UTC)


def _restore_after(
    preset: str, prepare: Callable[[Simulation], None], away: timedelta
) -> tuple[float, float]:
    now = SAVED_AT
    saved = Simulation(
        clock=lambda: now,
        vehicle=VEHICLE_PRESETS[preset],
        charger=CHARGER_PRESETS[preset],
        soc_pct=10.0,
        plugged_in=True,
        command_delay=timedelta(0),
    )
    prepare(saved)
    stored = saved.to_dict()
    now = SAVED_AT + away
    restored = Simulation(
        clock=lambda: now,
        vehicle=VEHICLE_PRESETS[preset],
        charger=CHARGER_PRESETS[preset],
        command_delay=timedelta(0),
    )
    started = time.perf_counter()
    restored.restore(stored)
    elapsed = time.perf_counter() - started
    return elapsed, restored.vehicle_state().battery_level_pct or 0.0


def _charging(_simulation: Simulation) -> None:
    """A fresh plug-in charges."""


def _unplugged(simulation: Simulation) -> None:
    simulation.unplug()


def _discharging(simulation: Simulation) -> None:
    simulation.set_soc(90.0)
    simulation.send_command(simulation.charger_id, CommandKind.DISCHARGE, 11.0)


def main() -> None:
    """Print the median catch-up time per case."""
    cases = [
        ("charging", "sedan", _charging),
        ("unplugged", "sedan", _unplugged),
        ("discharging", "suv_v2g", _discharging),
    ]
    for away in (timedelta(hours=1), timedelta(days=30), timedelta(days=365)):
        for name, preset, prepare in cases:
            runs = [_restore_after(preset, prepare, away) for _ in range(RUNS)]
            median = statistics.median(elapsed for elapsed, _soc in runs)
            print(
                f"{name:12} saved {away.days:3d} d {away.seconds // 3600:2d} h ago: "
                f"{median * 1000:8.2f} ms, SoC {runs[0][1]:6.2f} %"
            )


if __name__ == "__main__":
    main()
