"""Charging at a house with a fuse, solar and a capacity tariff, over 30 days of real sessions.

Sessions: the most active user of the real home charging sessions (Trondheim, Norway; see
/work/shared/data/README.md) from 1 April 2019, moved by 365 whole weeks onto the spring of 2026
(NO2 day-ahead prices in 15-minute slots), so weekdays stay weekdays. Each session's car needs
the session's real energy by the time the real car was unplugged (its target); it charges at
most 11.04 kW (16 A on three phases), at least 4.14 kW (6 A) when it takes a current.

The house: EV Flex's simulated home (core/simulated_home.py) in Oslo: a daily load, 6 kWp of
rooftop solar with passing clouds, a 25 A three-phase fuse (17.25 kW) and a capacity tariff of
10 EUR per kW of the month's highest hourly import. The plan sees a forecast: last week's load at
the same time and the day's expected solar, not each cloud. Prices are spot prices in EUR/kWh;
exported solar earns the spot price.

Modes:
- on/off: the planner without the house, the car switched on at full power in the planned slots
  (what smart charging did before it knew the house);
- power-aware: the planner with the house (`site`, `charge.min_kw`), the live guard setting the
  current every minute from the meter;
- solar first: as power-aware, with the grid made dear in the plan and the guard following the
  live surplus.

Printed per mode: targets met among the reachable ones, the car's cost (the house's cost with the
car minus without), the share of the car's energy that came from solar surplus, the month's peak
(highest hourly average import) and the minutes over the fuse. Each mode must have 0 minutes over
the fuse and meet every reachable target; the run fails otherwise.

Sources: Sørensen, Lindberg, Sartori, Andresen (2021), Data in Brief 36:107105, CC BY 4.0;
prices: Energinet (Energi Data Service), CC BY 4.0.
"""

from bisect import bisect_right
from collections import Counter
import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import gzip
from pathlib import Path
import sys
import time as wall_time
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.ev_flex.core.live_guard import GuardCar, guard
from custom_components.ev_flex.core.planner import PlanRequest, plan
from custom_components.ev_flex.core.simulated_home import HomeSpec, SimulatedHome
from custom_components.ev_flex.core.site import SolarMode

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TZ = ZoneInfo("Europe/Oslo")
ZONE = "NO2"
WINDOW_START = datetime(2019, 4, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)
SHIFT = timedelta(weeks=365)
MIN_SESSION = timedelta(minutes=30)
STEP = timedelta(minutes=1)
CAPACITY_KWH = 75.0
EFFICIENCY = 0.9
MAX_A, MIN_A, PHASES = 16.0, 6.0, 3
MAX_KW = MAX_A * PHASES * 0.23
MIN_KW = MIN_A * PHASES * 0.23
FUSE_KW = 25 * 3 * 0.23
PEAK_PRICE_PER_KW = 10.0
TARGET_PCT = 90.0
SOLAR_PENALTY = 1000.0
MODES = ("on/off", "power-aware", "solar first")


@dataclass(frozen=True)
class Session:
    plug_in: datetime
    plug_out: datetime
    kwh: float


def load_prices() -> tuple[list[datetime], list[float]]:
    starts: list[datetime] = []
    prices: list[float] = []
    begin, end = WINDOW_START + SHIFT - timedelta(days=8), WINDOW_START + SHIFT + WINDOW * 2
    with gzip.open(SHARED / "prices" / f"{ZONE}.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            start = datetime.fromisoformat(row["start_utc"])
            if begin <= start < end:
                starts.append(start)
                prices.append(float(row["price"]) / 1000.0)
    return starts, prices


def load_sessions() -> list[Session]:
    by_user: dict[str, list[Session]] = {}
    with gzip.open(SHARED / "ev_sessions_norway_residential.csv.gz", "rt") as handle:
        for row in csv.DictReader(handle):
            plug_in = datetime.fromisoformat(row["plug_in_utc"])
            plug_out = datetime.fromisoformat(row["plug_out_utc"])
            if not WINDOW_START <= plug_in < WINDOW_START + WINDOW:
                continue
            if plug_out - plug_in < MIN_SESSION:
                continue
            session = Session(plug_in + SHIFT, plug_out + SHIFT, float(row["kwh_delivered"]))
            by_user.setdefault(row["user_id"], []).append(session)
    user = Counter({user: len(items) for user, items in by_user.items()}).most_common(1)[0][0]
    sessions = sorted(by_user[user], key=lambda s: s.plug_in)
    # One car: a session starts after the previous one ended.
    kept: list[Session] = []
    for session in sessions:
        if not kept or session.plug_in >= kept[-1].plug_out:
            kept.append(session)
    return kept


class Market:
    def __init__(self) -> None:
        self.starts, self.prices = load_prices()

    def price_at(self, moment: datetime) -> float:
        return self.prices[bisect_right(self.starts, moment) - 1]

    def slots(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime, float]]:
        first = bisect_right(self.starts, start) - 1
        found = []
        for index in range(first, len(self.starts)):
            slot_start = self.starts[index]
            if slot_start >= end:
                break
            slot_end = (
                self.starts[index + 1]
                if index + 1 < len(self.starts)
                else slot_start + timedelta(minutes=15)
            )
            found.append((slot_start, slot_end, self.prices[index]))
        return found


def _request(
    now: datetime,
    session: Session,
    soc: float,
    market: Market,
    home: SimulatedHome,
    mode: str,
) -> dict[str, Any]:
    slots = market.slots(now, session.plug_out)
    penalty = SOLAR_PENALTY if mode == "solar first" else 0.0
    request: dict[str, Any] = {
        "now": now.isoformat(),
        "battery": {"capacity_kwh": CAPACITY_KWH, "soc_pct": soc},
        "charge": {"max_kw": MAX_KW, "efficiency": EFFICIENCY},
        "targets": [{"by": session.plug_out.isoformat(), "soc_pct": TARGET_PCT}],
        "prices": [
            {"start": s.isoformat(), "end": e.isoformat(), "import": p + penalty, "export": p}
            for s, e, p in slots
        ],
    }
    # Without a discharge setting the export price only values solar surplus.
    if mode != "on/off":
        request["charge"]["min_kw"] = MIN_KW
        request["site"] = {
            # The forecast: last week's load at this time, and the day's expected solar.
            "base_load_kw": [
                round(home.average_kw("load", s - timedelta(days=7), e - timedelta(days=7)), 3)
                for s, e, _ in slots
            ],
            "solar_kw": [round(home.average_kw("expected_solar", s, e), 3) for s, e, _ in slots],
            "import_limit_kw": FUSE_KW,
            "peak_price_per_kw": PEAK_PRICE_PER_KW,
            "current_peak_kw": 0.0,
        }
    return request


def _on_intervals(result: dict[str, Any]) -> list[tuple[datetime, datetime, float]]:
    return [
        (datetime.fromisoformat(i["start"]), datetime.fromisoformat(i["end"]), float(i["kw"]))
        for i in result.get("switch_times", [])
        if i.get("mode", "charge") == "charge"
    ]


def _average_kw(
    intervals: list[tuple[datetime, datetime, float]], start: datetime, end: datetime
) -> float:
    """The planned power averaged over [start, end) (intervals start and end mid-minute)."""
    energy = 0.0
    for on, off, kw in intervals:
        overlap = (min(end, off) - max(start, on)).total_seconds()
        if overlap > 0:
            energy += kw * overlap
    return energy / (end - start).total_seconds()


@dataclass
class Totals:
    reachable: int = 0
    met: int = 0
    cost: float = 0.0
    car_kwh: float = 0.0
    solar_kwh: float = 0.0
    minutes_over_fuse: int = 0
    plan_seconds: float = 0.0
    plans: int = 0
    peak_kw: float = 0.0


def _grid_cost(net_kw: float, price: float, hours: float) -> float:
    """Import paid and export earned at the spot price (a negative cost)."""
    return hours * price * net_kw


def _on_replan_boundary(now: datetime) -> bool:
    return now.minute % 15 == 0 and now.second == 0


def _replan(
    totals: Totals,
    now: datetime,
    session: Session,
    soc: float,
    market: Market,
    home: SimulatedHome,
    mode: str,
) -> list[tuple[datetime, datetime, float]]:
    clock = wall_time.perf_counter()
    result = plan(PlanRequest.from_dict(_request(now, session, soc, market, home, mode)))
    totals.plan_seconds += wall_time.perf_counter() - clock
    totals.plans += 1
    return _on_intervals(result.to_dict())


def run(mode: str, sessions: list[Session], market: Market, home: SimulatedHome) -> Totals:
    totals = Totals()
    hourly_import: dict[datetime, float] = {}
    hours = STEP.total_seconds() / 3600.0
    start, end = WINDOW_START + SHIFT, WINDOW_START + SHIFT + WINDOW
    queue = list(sessions)
    now = start
    active: Session | None = None
    soc = 0.0
    intervals: list[tuple[datetime, datetime, float]] = []
    current_a = MAX_A
    last_command: datetime | None = None
    while now < end:
        if active is None and queue and queue[0].plug_in <= now:
            active = queue.pop(0)
            soc = max(5.0, TARGET_PCT - active.kwh * EFFICIENCY / CAPACITY_KWH * 100.0)
            # The plan's target applies at the last slot boundary before the plug-out.
            deadline = market.slots(now, active.plug_out)[-1][0]
            if deadline <= now:
                deadline = active.plug_out
            totals.reachable += (TARGET_PCT - soc) / 100 * CAPACITY_KWH <= (
                MAX_KW * EFFICIENCY * (deadline - now).total_seconds() / 3600
            )
            intervals = _replan(totals, now, active, soc, market, home, mode)
        elif active is not None and soc < TARGET_PCT and _on_replan_boundary(now):
            # Like the controller, each quarter hour plans again from the car's real charge.
            intervals = _replan(totals, now, active, soc, market, home, mode)
        load, solar = home.house_load_kw(now), home.solar_kw(now)
        car_kw = 0.0
        if active is not None:
            planned = _average_kw(intervals, now, now + STEP)
            if soc >= TARGET_PCT:
                planned = 0.0
            car_kw = planned
            if mode != "on/off":
                car = GuardCar(
                    vehicle_id="car",
                    can_set_current=True,
                    max_current_a=MAX_A,
                    charging_kw=min(planned, current_a * PHASES * 0.23),
                    current_a=current_a,
                    planned_kw=planned,
                    planned_solar_kw=0.0,
                    mode=SolarMode.SOLAR_FIRST if mode == "solar first" else SolarMode.CHEAPEST,
                    last_command_at=last_command,
                )
                decided = guard(now, house_kw=load - solar, import_limit_kw=FUSE_KW, cars=[car])
                for command in decided.commands:
                    current_a, last_command = command.current_a, now
                if decided.stop_for_fuse:
                    car_kw = 0.0
                elif planned > 0 or (mode == "solar first" and decided.commands):
                    car_kw = min(MAX_KW, current_a * PHASES * 0.23)
            stored = car_kw * hours * EFFICIENCY
            room = (TARGET_PCT - soc) / 100 * CAPACITY_KWH
            if stored > room:
                car_kw = max(0.0, room / EFFICIENCY / hours)
                stored = room
            soc += stored / CAPACITY_KWH * 100.0
        net_without, net_with = load - solar, load - solar + car_kw
        price = market.price_at(now)
        totals.cost += _grid_cost(net_with, price, hours) - _grid_cost(net_without, price, hours)
        totals.car_kwh += car_kw * hours
        totals.solar_kwh += min(car_kw, max(0.0, solar - load)) * hours
        totals.minutes_over_fuse += net_with > FUSE_KW + 1e-9
        hour = now.replace(minute=0, second=0, microsecond=0)
        hourly_import[hour] = hourly_import.get(hour, 0.0) + max(0.0, net_with) * hours
        now += STEP
        if active is not None and now >= active.plug_out:
            totals.met += soc >= TARGET_PCT - 0.1
            active = None
    totals.peak_kw = max(hourly_import.values())
    totals.cost += PEAK_PRICE_PER_KW * totals.peak_kw
    return totals


def main() -> int:
    market = Market()
    sessions = load_sessions()
    home = SimulatedHome(tz=TZ, spec=HomeSpec(latitude=59.91, longitude=10.75, seed=7))
    print(
        f"{len(sessions)} sessions of one car, {WINDOW.days} days from "
        f"{(WINDOW_START + SHIFT).date()}, {ZONE} prices, 25 A three-phase fuse, 6 kWp solar"
    )
    print(
        f"{'mode':<12} {'targets met':>12} {'cost EUR':>9} {'solar %':>8} "
        f"{'peak kW':>8} {'min over fuse':>14} {'ms/plan':>8}"
    )
    failed = False
    for mode in MODES:
        totals = run(mode, sessions, market, home)
        peak = totals.peak_kw
        share = 100.0 * totals.solar_kwh / totals.car_kwh if totals.car_kwh else 0.0
        print(
            f"{mode:<12} {totals.met:>5}/{totals.reachable:<6} {totals.cost:>9.2f} "
            f"{share:>8.1f} {peak:>8.2f} {totals.minutes_over_fuse:>14} "
            f"{1000 * totals.plan_seconds / max(1, totals.plans):>8.1f}"
        )
        failed |= totals.minutes_over_fuse > 0 or totals.met < totals.reachable
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
