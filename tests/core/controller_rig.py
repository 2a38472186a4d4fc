"""A test rig: the controller driving the simulator through the executor, on a manual clock.

Nothing sleeps: the executor's sleep moves the clock, and the rig jumps the clock to the
controller's next wake-up (or the next poll, whichever comes first).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta, tzinfo

from custom_components.ev_flex.core.account import NoOtherPathError, SimulatedAccount
from custom_components.ev_flex.core.controller import (
    ControllerSettings,
    Decision,
    Observation,
    SmartChargingState,
    VehicleController,
)
from custom_components.ev_flex.core.executor import (
    CommandExecutor,
    RetryPolicy,
)
from custom_components.ev_flex.core.model import CommandKind, CommandResult, VehicleState
from custom_components.ev_flex.core.planner import PriceSlot
from custom_components.ev_flex.core.simulator import ChargerSpec, Simulation, VehicleSpec

from .manual_clock import ManualClock


def quarter_prices(
    start: datetime, values: Sequence[float], *, export: Sequence[float] | None = None
) -> list[PriceSlot]:
    """Price slots as the tariff layer gives them, 15 minutes each from `start`."""
    return [
        PriceSlot(
            start=start + timedelta(minutes=15 * index),
            end=start + timedelta(minutes=15 * (index + 1)),
            import_price=value,
            export_price=None if export is None else export[index],
        )
        for index, value in enumerate(values)
    ]


@dataclass(kw_only=True)
class StaleReporting:
    """A car that reports SoC only on a fixed grid, and never while charging."""

    every: timedelta = timedelta(minutes=30)
    last: tuple[float, datetime] | None = None
    # A car that never tells its SoC at all.
    silent: bool = False

    def filter(self, vehicle: VehicleState, now: datetime) -> VehicleState:
        on_grid = (now - datetime(2000, 1, 1, tzinfo=UTC)) % self.every == timedelta(0)
        charging = bool(vehicle.charge_rate_kw)
        if (
            not self.silent
            and (self.last is None or on_grid)
            and not charging
            and vehicle.battery_level_pct is not None
        ):
            self.last = (vehicle.battery_level_pct, now)
        if self.last is None:
            return replace(vehicle, battery_level_pct=None, last_seen=None)
        return replace(vehicle, battery_level_pct=self.last[0], last_seen=self.last[1])


@dataclass(kw_only=True)
class Rig:
    """The simulator, an account, an executor and a controller, stepped together."""

    clock: ManualClock
    simulation: Simulation
    controller: VehicleController
    prices: Callable[[datetime], list[PriceSlot]]
    stale: StaleReporting | None = None
    advertised_kw: float | None = None
    at_charging_location: bool = True
    grid_outage: bool = False
    poll: timedelta = timedelta(minutes=5)
    decisions: list[Decision] = field(default_factory=list)
    # Commands as sent, with the time they were sent.
    sent: list[tuple[datetime, CommandKind, float | None]] = field(default_factory=list)
    # Money paid for grid energy so far (each reading's energy at the price of its slot).
    energy_cost: float = 0.0
    _metered: tuple[datetime, float] | None = None

    @property
    def sim(self) -> Simulation:
        return self.simulation

    def observe(self) -> Observation:
        snapshot = self.simulation.snapshot()
        vehicle = snapshot.vehicles[self.simulation.vehicle_id]
        charger = snapshot.chargers[self.simulation.charger_id]
        if self.stale is not None:
            vehicle = self.stale.filter(vehicle, self.clock.now)
        return Observation.from_states(
            vehicle,
            charger,
            at_charging_location=self.at_charging_location,
            advertised_charge_kw=self.advertised_kw,
            grid_outage=self.grid_outage,
        )

    def meter(self) -> None:
        """Price the energy that flowed since the last reading."""
        now, kwh = self.clock.now, self.simulation.energy_delivered_kwh
        if self._metered is not None and kwh > self._metered[1]:
            price = _import_price(self.prices(self._metered[0]), self._metered[0])
            self.energy_cost += (kwh - self._metered[1]) * price
        self._metered = (now, kwh)

    async def tick(self) -> Decision:
        """One controller pass: observe, decide, execute, and look again if commands ran."""
        self.meter()
        now = self.clock.now
        decision = self.controller.update(now, self.observe(), self.prices(now))
        self.decisions.append(decision)
        before = self.controller.executor.state.to_dict()
        await self.controller.async_execute()
        self.meter()
        if self.controller.executor.state.to_dict() != before or self.clock.now != now:
            decision = self.controller.update(
                self.clock.now, self.observe(), self.prices(self.clock.now)
            )
            self.decisions.append(decision)
        return decision

    async def run_until(self, end: datetime) -> Decision:
        """Step until `end`; the clock visits every poll point and every wake-up."""
        decision = await self.tick()
        while self.clock.now < end:
            next_poll = _next_grid(self.clock.now, self.poll)
            target = min(decision.wake_at, next_poll, end)
            if target <= self.clock.now:
                target = self.clock.now + timedelta(seconds=1)
            self.clock.now = target
            decision = await self.tick()
        return decision

    @property
    def commands_sent(self) -> int:
        return self.controller.executor.state.commands_sent


def _import_price(prices: Sequence[PriceSlot], moment: datetime) -> float:
    for item in prices:
        if item.start <= moment < item.end:
            return item.import_price
    return 0.0


def _next_grid(now: datetime, step: timedelta) -> datetime:
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    return origin + ((now - origin) // step + 1) * step


def make_rig(
    *,
    start: datetime,
    prices: Callable[[datetime], list[PriceSlot]] | list[PriceSlot],
    settings: ControllerSettings,
    vehicle: VehicleSpec | None = None,
    soc_pct: float = 40.0,
    plugged_in: bool = True,
    stale: bool = False,
    advertised_kw: float | None = None,
    tz: tzinfo = UTC,
    command_delay: timedelta = timedelta(seconds=5),
    charger_can_discharge: bool = False,
    policy: RetryPolicy | None = None,
) -> Rig:
    """A ready rig; commands go to the charger (it can start, stop and discharge any car)."""
    clock = ManualClock(start)
    simulation = Simulation(
        clock=clock,
        vehicle=vehicle,
        charger=ChargerSpec(can_discharge=charger_can_discharge),
        soc_pct=soc_pct,
        plugged_in=plugged_in,
        command_delay=command_delay,
    )
    account = SimulatedAccount(simulation)
    sent: list[tuple[datetime, CommandKind, float | None]] = []

    async def send(kind: CommandKind, value: float | None, tried: tuple[str, ...]) -> CommandResult:
        if tried:
            # The charger is the only path.
            raise NoOtherPathError("only the charger")
        sent.append((clock.now, kind, value))
        return await account.async_send_command(simulation.charger_id, kind, value)

    executor = CommandExecutor(
        send_command=send,
        command_status=account.async_command_status,
        clock=clock,
        sleep=clock.sleep,
        policy=policy or RetryPolicy(),
    )
    controller = VehicleController(executor=executor, tz=tz, settings=settings)
    if callable(prices):
        price_source = prices
    else:
        fixed = prices

        def price_source(_now: datetime) -> list[PriceSlot]:
            return fixed

    return Rig(
        clock=clock,
        simulation=simulation,
        controller=controller,
        prices=price_source,
        stale=StaleReporting() if stale else None,
        advertised_kw=advertised_kw,
        sent=sent,
    )


# An evening plug-in: the car comes home at 17:00 UTC and leaves at 07:00 the next morning.

START = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
DEPARTURE = datetime(2026, 1, 16, 7, 0, tzinfo=UTC)


def night_prices(*, cheap_from: int = 1, cheap_to: int = 5, hours: int = 36) -> list[PriceSlot]:
    """Expensive evening, cheap night hours, middling otherwise (from 17:00 UTC)."""
    values: list[float] = []
    for quarter in range(hours * 4):
        hour = (17 + quarter // 4) % 24
        if cheap_from <= hour < cheap_to:
            values.append(0.10)
        elif 17 <= hour < 21:
            values.append(0.40)
        else:
            values.append(0.25)
    return quarter_prices(START, values)


def smart(**changes: object) -> ControllerSettings:
    """Smart charging on: 80 % by 07:00, with these changes."""
    settings = ControllerSettings(
        smart_charging=True, departure_time=time(7, 0), target_soc_pct=80.0
    )
    return ControllerSettings.from_dict({**settings.to_dict(), **changes})


def current(rig: Rig) -> SmartChargingState:
    """The state after the latest step (a call, so type checkers don't narrow it)."""
    return rig.decisions[-1].status


def statuses(rig: Rig) -> list[SmartChargingState]:
    """The distinct states in the order they appeared."""
    seen: list[SmartChargingState] = []
    for decision in rig.decisions:
        if not seen or seen[-1] is not decision.status:
            seen.append(decision.status)
    return seen
