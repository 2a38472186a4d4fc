"""The smart charging controller over 30 days of real plug-ins on real prices.

Sessions: real home charging sessions (Trondheim, Norway; the data set is cited below),
the most active users of 30 days, moved by whole weeks onto recent day-ahead prices (NO2,
15-minute slots) so weekdays stay weekdays. Each session departs when the real car was unplugged;
the user sets that departure as a one-off, with a target SoC per user (80, 90 or 100 %). The car
arrives with the SoC it would need to take the session's real energy to reach that target.

The simulated car charges slower than the charger advertises (7.4 kW on an 11 kW wallbox), tapers
from 75 % and loses 12 %; the controller starts from the advertised power and a generic
efficiency and taper, and learns the truth as it goes. Day-ahead prices become visible at 13:00
local time for the next day. Commands take 5 s; the controller is polled every 5 minutes and at
every wake-up it asks for.

Each run prints:
- the share of sessions that met their departure target, among those that could (charging at
  full power from plug-in reaches the target by departure);
- the cost against the offline optimum (the planner with the true car and all prices known at
  plug-in) for those sessions;
- the total saved against charging at once;
- commands sent per session.
Run twice: with a live SoC, and with a car that reports its SoC every 30 minutes (on the half
hour) and never while charging. In that run the car also keeps reporting while away, so its last
report before a plug-in may be from during the drive home (the SoC falls evenly over a trip at
12 kW on average); the controller doesn't know how far it drove after that report. Prices are
spot prices only (EUR/kWh), without fees or VAT. A target counts as met within 0.1 point.
Sessions shorter than 30 minutes are left out (nobody sets a departure for those).

Source of the sessions: Sørensen, Lindberg, Sartori, Andresen (2021), Data in Brief 36:107105,
CC BY 4.0. Source of the prices: Energinet (Energi Data Service), CC BY 4.0.
"""

import asyncio
from bisect import bisect_right
import csv
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
import gzip
from pathlib import Path
import sys
import time as wall_time
from zoneinfo import ZoneInfo

from custom_components.ev_flex.core.account import NoOtherPathError, SimulatedAccount
from custom_components.ev_flex.core.controller import (
    ControllerSettings,
    DepartureOverride,
    Observation,
    VehicleController,
)
from custom_components.ev_flex.core.executor import CommandExecutor
from custom_components.ev_flex.core.model import CommandKind, CommandResult, VehicleState
from custom_components.ev_flex.core.planner import (
    Battery,
    ChargeSettings,
    PlanRequest,
    PriceSlot,
    Target,
    plan,
)
from custom_components.ev_flex.core.simulator import ChargerSpec, Simulation, VehicleSpec

from . import SimulatedClock

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TZ = ZoneInfo("Europe/Oslo")
ZONE = "NO2"
# 30 days of sessions, moved by 313 weeks (2019-10-07 and 2025-10-06 are both Mondays).
WINDOW_START = datetime(2019, 10, 7, tzinfo=UTC)
WINDOW = timedelta(days=30)
SHIFT = timedelta(weeks=313)
USERS = 12
TARGETS = (80.0, 90.0, 100.0)
MIN_SESSION = timedelta(minutes=30)
MIN_ARRIVAL_SOC = 5.0
POLL = timedelta(minutes=5)
REPORT_EVERY = timedelta(minutes=30)
# The trip home: the SoC falls at this average power until the plug-in (at least 10 minutes).
DRIVING_KW = 12.0
MIN_TRIP = timedelta(minutes=10)
# A target counts as met within this many percentage points (cars show whole percent).
MET_TOLERANCE_PCT = 0.1

CAR = VehicleSpec(
    make="Bench",
    model="64 kWh",
    capacity_kwh=64.0,
    onboard_charger_kw=7.4,
    taper_start_pct=75.0,
    power_at_full_kw=2.5,
    charge_efficiency=0.88,
)
ADVERTISED_KW = 11.04


@dataclass(frozen=True, kw_only=True)
class BenchSession:
    user: str
    plug_in: datetime
    plug_out: datetime
    kwh: float


@dataclass(kw_only=True)
class Prices:
    """Slots sorted by start, as datetimes and as the planner's price slots."""

    starts: list[datetime]
    ends: list[datetime]
    values: list[float]
    slots: list[PriceSlot]

    def index_at(self, moment: datetime) -> int:
        return bisect_right(self.starts, moment) - 1

    def visible(self, now: datetime) -> list[PriceSlot]:
        """Day-ahead prices known at `now`: today, and tomorrow from 13:00 local time (with
        the last 24 hours, as price entities show them)."""
        local = now.astimezone(TZ)
        days = 2 if local.hour >= 13 else 1
        horizon = datetime.combine(local.date() + timedelta(days=days), datetime.min.time(), TZ)
        first = max(0, self.index_at(now - timedelta(days=1)))
        last = bisect_right(self.starts, horizon.astimezone(UTC) - timedelta(seconds=1))
        return self.slots[first:last]

    def between(self, start: datetime, end: datetime) -> list[PriceSlot]:
        first = max(0, self.index_at(start))
        last = max(first + 1, bisect_right(self.starts, end - timedelta(seconds=1)))
        return self.slots[first:last]

    def cost(self, start: datetime, end: datetime, kwh: float) -> float:
        """Energy spread evenly over [start, end), priced slot by slot."""
        if kwh == 0 or end <= start:
            return 0.0
        total = (end - start).total_seconds()
        cost = 0.0
        index = max(0, self.index_at(start))
        moment = start
        while moment < end and index < len(self.starts):
            part_end = min(end, self.ends[index])
            share = (part_end - moment).total_seconds() / total
            cost += kwh * share * self.values[index]
            moment = part_end
            index += 1
        return cost


def load_prices() -> Prices:
    start = WINDOW_START + SHIFT - timedelta(days=1)
    end = WINDOW_START + SHIFT + WINDOW + timedelta(days=4)
    starts: list[datetime] = []
    ends: list[datetime] = []
    values: list[float] = []
    slots: list[PriceSlot] = []
    with gzip.open(SHARED / "prices" / f"{ZONE}.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            slot_start = datetime.fromisoformat(row["start_utc"].replace("Z", "+00:00"))
            if not start <= slot_start < end:
                continue
            slot_end = datetime.fromisoformat(row["end_utc"].replace("Z", "+00:00"))
            price = float(row["price"]) / 1000.0  # EUR/MWh -> EUR/kWh
            starts.append(slot_start)
            ends.append(slot_end)
            values.append(price)
            slots.append(PriceSlot(slot_start, slot_end, price))
    return Prices(starts=starts, ends=ends, values=values, slots=slots)


def load_sessions() -> tuple[list[list[BenchSession]], int]:
    by_user: dict[str, list[BenchSession]] = {}
    with gzip.open(SHARED / "ev_sessions_norway_residential.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            plug_in = datetime.fromisoformat(row["plug_in_utc"].replace("Z", "+00:00"))
            if not WINDOW_START <= plug_in < WINDOW_START + WINDOW:
                continue
            plug_out = datetime.fromisoformat(row["plug_out_utc"].replace("Z", "+00:00"))
            by_user.setdefault(row["user_id"], []).append(
                BenchSession(
                    user=row["user_id"],
                    plug_in=plug_in + SHIFT,
                    plug_out=plug_out + SHIFT,
                    kwh=float(row["kwh_delivered"]),
                )
            )
    busiest = sorted(by_user, key=lambda user: (-len(by_user[user]), user))[:USERS]
    skipped = 0
    users: list[list[BenchSession]] = []
    for user in busiest:
        kept: list[BenchSession] = []
        for session in sorted(by_user[user], key=lambda s: s.plug_in):
            overlaps = bool(kept) and session.plug_in < kept[-1].plug_out
            if session.plug_out - session.plug_in < MIN_SESSION or overlaps:
                skipped += 1
                continue
            kept.append(session)
        users.append(kept)
    return users, skipped


def arrival_soc(session: BenchSession, target: float) -> float:
    stored = session.kwh * CAR.charge_efficiency
    return max(MIN_ARRIVAL_SOC, target - stored / CAR.capacity_kwh * 100.0)


def full_power_run(
    soc: float, start: datetime, end: datetime, target: float, prices: Prices
) -> tuple[float, float]:
    """Charging at full power from `start` until the target or `end`: final SoC and cost."""
    step = timedelta(minutes=1)
    moment, cost = start, 0.0
    while moment < end and soc < target:
        length = min(step, end - moment)
        hours = length.total_seconds() / 3600.0
        power = min(ADVERTISED_KW, CAR.accepted_power_kw(soc))
        stored = min(power * hours * CAR.charge_efficiency, (target - soc) / 100 * CAR.capacity_kwh)
        grid = stored / CAR.charge_efficiency
        cost += prices.cost(moment, moment + length, grid)
        soc += stored / CAR.capacity_kwh * 100.0
        moment += length
    return soc, cost


def offline_optimum(session: BenchSession, soc: float, target: float, prices: Prices) -> float:
    """The planner with the true car and every price of the session known at plug-in."""
    request = PlanRequest(
        now=session.plug_in,
        battery=Battery(capacity_kwh=CAR.capacity_kwh, soc_pct=soc, max_soc_pct=100.0),
        charge=ChargeSettings(
            max_kw=CAR.onboard_charger_kw,
            efficiency=CAR.charge_efficiency,
            taper=(
                (CAR.taper_start_pct, CAR.onboard_charger_kw),
                (100.0, CAR.power_at_full_kw),
            ),
        ),
        targets=(Target(by=session.plug_out, soc_pct=target),),
        prices=tuple(prices.between(session.plug_in, session.plug_out)),
    )
    return plan(request).cost


@dataclass(kw_only=True)
class StaleSoc:
    """Reports SoC only every 30 minutes, and never while charging."""

    last: tuple[float, datetime] | None = None

    def report_trip(
        self,
        away_since: datetime,
        plug_in: datetime,
        soc_before: float,
        soc_after: float,
        trip: timedelta,
    ) -> None:
        """The car's last report before the plug-in: made on the 30-minute grid after it was
        unplugged, maybe while still driving home (the SoC falls evenly during the trip)."""
        step = REPORT_EVERY.total_seconds()
        at = datetime.fromtimestamp(plug_in.timestamp() // step * step, UTC)
        trip = min(trip, plug_in - away_since)
        trip_start = plug_in - trip
        if at < away_since or (self.last is not None and at <= self.last[1]):
            return
        share = 0.0 if at <= trip_start else (at - trip_start) / trip
        self.last = (soc_before + share * (soc_after - soc_before), at)

    def filter(self, vehicle: VehicleState, now: datetime) -> VehicleState:
        on_grid = now.timestamp() % REPORT_EVERY.total_seconds() == 0
        if (self.last is None or on_grid) and not vehicle.charge_rate_kw:
            self.last = (vehicle.battery_level_pct or 0.0, now)
        if self.last is None:
            return replace(vehicle, battery_level_pct=None, last_seen=None)
        return replace(vehicle, battery_level_pct=self.last[0], last_seen=self.last[1])


@dataclass(kw_only=True)
class Metered:
    """The grid meter of the simulated car at its last reading."""

    at: datetime
    kwh: float


@dataclass(kw_only=True)
class RunResult:
    sessions: int = 0
    feasible: int = 0
    met: int = 0
    missed: list[str] = field(default_factory=list)
    cost: float = 0.0
    optimum: float = 0.0
    at_once: float = 0.0
    cost_all: float = 0.0
    at_once_all: float = 0.0
    commands: int = 0
    steps: int = 0
    # (session, final SoC, cost, offline optimum) of sessions that could meet their target.
    details: list[tuple[BenchSession, float, float, float]] = field(default_factory=list)


async def run_user(
    sessions: list[BenchSession], target: float, prices: Prices, stale: bool, result: RunResult
) -> None:
    clock = SimulatedClock(sessions[0].plug_in - timedelta(hours=1))
    sim = Simulation(
        clock=clock,
        vehicle=CAR,
        charger=ChargerSpec(),
        soc_pct=target,  # as if the last charge (before the month) reached the target
        plugged_in=False,
        command_delay=timedelta(seconds=5),
    )
    account = SimulatedAccount(sim)

    async def send(kind: CommandKind, value: float | None, tried: tuple[str, ...]) -> CommandResult:
        if tried:
            raise NoOtherPathError("the charger is the only path")
        return await account.async_send_command(sim.charger_id, kind, value)

    executor = CommandExecutor(
        send_command=send,
        command_status=account.async_command_status,
        clock=clock,
        sleep=clock.sleep,
    )
    base_settings = ControllerSettings(
        smart_charging=True, departure_time=None, target_soc_pct=target
    )
    controller = VehicleController(executor=executor, tz=TZ, settings=base_settings)
    reporting = StaleSoc() if stale else None
    metered = Metered(at=clock.now, kwh=sim.energy_delivered_kwh)

    def meter() -> float:
        """Energy since the last reading, priced over the time it flowed."""
        kwh = sim.energy_delivered_kwh
        cost = prices.cost(metered.at, clock.now, kwh - metered.kwh)
        metered.at, metered.kwh = clock.now, kwh
        return cost

    async def tick() -> datetime:
        snapshot = sim.snapshot()
        vehicle = snapshot.vehicles[sim.vehicle_id]
        if reporting is not None:
            vehicle = reporting.filter(vehicle, clock.now)
        observation = Observation.from_states(
            vehicle, snapshot.chargers[sim.charger_id], at_charging_location=True
        )
        decision = controller.update(clock.now, observation, prices.visible(clock.now))
        result.steps += 1
        before = clock.now
        await controller.async_execute()
        if clock.now != before:
            snapshot = sim.snapshot()
            vehicle = snapshot.vehicles[sim.vehicle_id]
            if reporting is not None:
                vehicle = reporting.filter(vehicle, clock.now)
            observation = Observation.from_states(
                vehicle, snapshot.chargers[sim.charger_id], at_charging_location=True
            )
            decision = controller.update(clock.now, observation, prices.visible(clock.now))
            result.steps += 1
        return decision.wake_at

    away_since = clock.now
    await tick()  # Home Assistant runs before the first plug-in: it sees the car away
    for session in sessions:
        soc = arrival_soc(session, target)
        meter()
        soc_before = sim.vehicle_state().battery_level_pct or 0.0
        clock.now = session.plug_in
        if reporting is not None:
            trip_kwh = abs(soc_before - soc) / 100.0 * CAR.capacity_kwh
            trip = max(MIN_TRIP, timedelta(hours=trip_kwh / DRIVING_KW))
            reporting.report_trip(away_since, session.plug_in, soc_before, soc, trip)
        sim.set_soc(soc)
        metered.at, metered.kwh = clock.now, sim.energy_delivered_kwh
        sim.plug_in()
        controller.settings = replace(
            base_settings, departure_override=DepartureOverride(at=session.plug_out)
        )
        sent_before = executor.state.commands_sent
        session_cost = 0.0
        wake = await tick()
        while clock.now < session.plug_out:
            step_seconds = POLL.total_seconds()
            next_poll = datetime.fromtimestamp(
                (clock.now.timestamp() // step_seconds + 1) * step_seconds, UTC
            )
            clock.now = max(
                clock.now + timedelta(seconds=1), min(wake, next_poll, session.plug_out)
            )
            session_cost += meter()
            if clock.now >= session.plug_out:
                break
            wake = await tick()
            session_cost += meter()
        final_soc = sim.vehicle_state().battery_level_pct or 0.0
        sim.unplug()
        away_since = clock.now
        await tick()
        result.commands += executor.state.commands_sent - sent_before

        could_soc, at_once_cost = full_power_run(
            soc, session.plug_in, session.plug_out, target, prices
        )
        result.sessions += 1
        result.cost_all += session_cost
        result.at_once_all += at_once_cost
        if could_soc >= target - 1e-6:
            result.feasible += 1
            if final_soc >= target - MET_TOLERANCE_PCT:
                result.met += 1
            else:
                result.missed.append(
                    f"{session.user} {session.plug_in:%m-%d %H:%M}: {final_soc:.2f} < {target:g}"
                )
            optimum = offline_optimum(session, soc, target, prices)
            result.cost += session_cost
            result.at_once += at_once_cost
            result.optimum += optimum
            result.details.append((session, final_soc, session_cost, optimum))


async def run(stale: bool, users: list[list[BenchSession]], prices: Prices) -> RunResult:
    result = RunResult()
    for index, sessions in enumerate(users):
        if sessions:
            await run_user(sessions, TARGETS[index % len(TARGETS)], prices, stale, result)
    return result


def report(title: str, result: RunResult, seconds: float) -> None:
    share = result.met / result.feasible * 100.0 if result.feasible else 0.0
    over = (result.cost / result.optimum - 1.0) * 100.0 if result.optimum else 0.0
    print(f"-- {title}")
    print(f"sessions: {result.sessions}, could meet their target: {result.feasible}")
    print(
        f"met their departure target: {result.met}/{result.feasible} = {share:.2f} % (goal >= 99 %)"
    )
    for line in result.missed[:10]:
        print(f"   missed: {line}")
    print(
        f"cost of those sessions: {result.cost:.2f} EUR, offline optimum {result.optimum:.2f} EUR, "
        f"{over:+.2f} % (goal within 1 %)"
    )
    print(
        f"saved against charging at once: {result.at_once_all - result.cost_all:.2f} EUR of "
        f"{result.at_once_all:.2f} EUR ({(1 - result.cost_all / result.at_once_all) * 100:.1f} %)"
    )
    print(f"commands per session: {result.commands / max(1, result.sessions):.2f}")
    print(f"controller steps: {result.steps}, run time {seconds:.1f} s")


async def main() -> None:
    prices = load_prices()
    users, skipped = load_sessions()
    count = sum(len(sessions) for sessions in users)
    print(
        f"{count} sessions of {len(users)} users, {WINDOW.days} days from "
        f"{(WINDOW_START + SHIFT).date()} on {ZONE} day-ahead prices "
        f"({skipped} sessions under {MIN_SESSION.seconds // 60} min or overlapping skipped)"
    )
    modes = [("live SoC", False), ("SoC every 30 min, never while charging", True)]
    if len(sys.argv) > 1:
        modes = [mode for mode in modes if sys.argv[1] in mode[0]]
    for title, stale in modes:
        started = wall_time.perf_counter()
        result = await run(stale, users, prices)
        report(title, result, wall_time.perf_counter() - started)


if __name__ == "__main__":
    asyncio.run(main())
