"""The live guard: sets each charger's current from the plan, the fuse and live solar surplus.

Every time the house meter changes (and after every controller step) `guard()` works out, for
each car charging at the house, the current it should get now:

- the plan's power while the plan charges (current control: the planned power as a current per
  phase, at least the charger's minimum);
- in the solar modes, the part of the plan expected from solar follows the live surplus
  (shared between the cars) instead, while the part the targets need from the grid stays;
- never more than keeps the house under its fuse, whatever the plan says. When even the
  minimum current is too much, the car has to stop: the guard says so (`stop_for_fuse`) and
  the caller re-plans with the live load, so the controller stops it through its own path.

Commands are rate-limited: a device gets at most one a minute, apart from lowering the current
to protect the fuse, which goes out at once. Without a reading of the house meter the guard
falls back to the plan and never raises a current by guessing.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
import math

from .site import GRID_VOLTAGE_V, MIN_CHARGE_CURRENT_A, HouseSensorKind, SolarMode

COMMAND_SPACING = timedelta(minutes=1)
# Kept free under the fuse for loads that switch on between two readings (kW).
FUSE_MARGIN_KW = 0.3
# A change smaller than this (A) is not worth a command.
CURRENT_STEP_A = 1.0
# In "solar first", a surplus of at least this share of the minimum power keeps charging at the
# minimum, topped up from the grid; "solar only" needs the whole minimum from surplus.
SOLAR_FIRST_TOP_UP_SHARE = 0.5


@dataclass(frozen=True, kw_only=True)
class GuardCar:
    """One car at the house, as the guard sees it now."""

    vehicle_id: str
    # Whether its charger takes a current; otherwise it can only be started and stopped.
    can_set_current: bool
    phases: int = 3
    min_current_a: float = MIN_CHARGE_CURRENT_A
    max_current_a: float = 32.0
    # What the charger draws now (kW) and the current it is set to (A).
    charging_kw: float = 0.0
    current_a: float | None = None
    # The power the plan wants now (kW; 0 while the plan does not charge), and the part of it
    # the plan expects from solar surplus.
    planned_kw: float = 0.0
    planned_solar_kw: float = 0.0
    mode: SolarMode = SolarMode.CHEAPEST
    last_command_at: datetime | None = None

    def kw_at(self, current_a: float) -> float:
        """The power at a current per phase (kW)."""
        return current_a * self.phases * GRID_VOLTAGE_V / 1000.0

    def current_for(self, kw: float) -> float:
        """The whole-amp current per phase that draws at most this power (A)."""
        return math.floor(kw * 1000.0 / (self.phases * GRID_VOLTAGE_V) + 1e-9)


@dataclass(frozen=True, slots=True)
class GuardCommand:
    """Set this car's charger to `current_a`; `protects_fuse` skips the rate limit."""

    vehicle_id: str
    current_a: float
    protects_fuse: bool


@dataclass(frozen=True, slots=True)
class GuardResult:
    commands: tuple[GuardCommand, ...]
    # Cars that must stop because not even the minimum current fits under the fuse.
    stop_for_fuse: tuple[str, ...]
    # The house's own power now, without the cars (kW); None without a meter reading.
    house_without_cars_kw: float | None


def house_without_cars(
    kind: HouseSensorKind, meter_kw: float | None, solar_kw: float | None, cars_kw: float
) -> float | None:
    """The house's net draw from the grid without the cars (kW; negative: exporting)."""
    if meter_kw is None:
        return None
    net = meter_kw - cars_kw
    if kind is HouseSensorKind.CONSUMPTION:
        # Consumption is not the grid: production covers part of it.
        net -= solar_kw or 0.0
    return net


def expected_solar_kw(window_kw: float, slot_kw: float, surplus_kw: float) -> float:
    """The part of the charging power now that the plan expects from solar (kW).

    The slot's planned power is the expected surplus first and the grid for the rest; charging
    it in whole amps (a little above or below that power) keeps the same shares, so over the
    slot the grid gives what the plan counted on.
    """
    if slot_kw <= 0:
        return 0.0
    return window_kw * min(1.0, max(0.0, surplus_kw) / slot_kw)


def _wanted_kw(car: GuardCar, surplus_kw: float) -> float:
    """What the car should draw before the fuse is considered (kW).

    In the solar modes the part of the plan expected from solar follows the live surplus
    instead; the part from the grid (what the targets need) stays.
    """
    if car.mode is SolarMode.CHEAPEST:
        return car.planned_kw
    from_grid = max(0.0, car.planned_kw - car.planned_solar_kw)
    wanted = from_grid + max(0.0, surplus_kw)
    minimum = car.kw_at(car.min_current_a)
    if 0 < wanted < minimum:
        top_up = car.mode is SolarMode.SOLAR_FIRST and wanted >= SOLAR_FIRST_TOP_UP_SHARE * minimum
        return minimum if top_up or from_grid > 0 else 0.0
    return wanted


def guard(
    now: datetime,
    *,
    house_kw: float | None,
    import_limit_kw: float | None,
    cars: Sequence[GuardCar],
) -> GuardResult:
    """The currents to set now. `house_kw` is the house without the cars (kW)."""
    if house_kw is None:
        # No meter: follow the plan, but never raise a current on a guess.
        following_plan = [
            command
            for car in cars
            if (command := _command(now, car, car.planned_kw, lower_only=True, fuse=False))
            is not None
        ]
        return GuardResult(tuple(following_plan), (), None)
    headroom = math.inf if import_limit_kw is None else import_limit_kw - FUSE_MARGIN_KW - house_kw
    solar_cars = [car for car in cars if car.mode is not SolarMode.CHEAPEST]
    surplus_each = max(0.0, -house_kw) / len(solar_cars) if solar_cars else 0.0
    commands: list[GuardCommand] = []
    stops: list[str] = []
    for car in cars:
        wanted = _wanted_kw(car, surplus_each)
        if wanted <= 0 and car.charging_kw > 0 and car.mode is not SolarMode.CHEAPEST:
            # A cloud while the plan charges from solar (only the controller stops the car):
            # as little as the charger allows.
            wanted = car.kw_at(car.min_current_a)
        allowed = min(wanted, max(0.0, headroom))
        if wanted > 0 and allowed < car.kw_at(car.min_current_a) - 1e-9:
            if car.charging_kw > 0 or car.planned_kw > 0:
                stops.append(car.vehicle_id)
                # Until its controller stops it: as little as the charger allows.
                minimum = _command(
                    now, car, car.kw_at(car.min_current_a), lower_only=True, fuse=True
                )
                if minimum is not None:
                    commands.append(minimum)
                headroom -= car.kw_at(car.min_current_a) if car.charging_kw > 0 else 0.0
            continue
        headroom -= allowed
        fuse = allowed < wanted - 1e-9
        if (command := _command(now, car, allowed, lower_only=False, fuse=fuse)) is not None:
            commands.append(command)
    return GuardResult(tuple(commands), tuple(stops), house_kw)


def _command(
    now: datetime, car: GuardCar, kw: float, *, lower_only: bool, fuse: bool
) -> GuardCommand | None:
    """The command that brings the car's current to this power, if one is due now."""
    if not car.can_set_current or kw <= 0:
        return None
    current = min(car.max_current_a, max(car.min_current_a, car.current_for(kw)))
    if car.current_a is not None and abs(current - car.current_a) < CURRENT_STEP_A:
        return None
    lowering = car.current_a is None or current < car.current_a
    if lower_only and not lowering:
        return None
    protects_fuse = lowering and fuse
    recent = car.last_command_at is not None and now - car.last_command_at < COMMAND_SPACING
    if recent and not protects_fuse:
        return None
    return GuardCommand(car.vehicle_id, current, protects_fuse)
