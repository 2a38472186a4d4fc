"""Charging at a house with a fuse, solar and a capacity tariff, over 30 days of real sessions.

Sessions: the most active user of the real home charging sessions (Trondheim, Norway; see
/work/shared/data/README.md) from 1 April 2019, moved by 365 whole weeks onto the spring of 2026
(NO2 day-ahead prices in 15-minute slots), so weekdays stay weekdays. Each session's car needs
the session's real energy by the time the real car was unplugged (its departure and target); it
charges at most 11.04 kW (16 A on three phases), at least 4.14 kW (6 A) when it takes a current.

The house: EV Flex's simulated home (core/simulated_home.py) in Oslo: a daily load, 6 kWp of
rooftop solar with passing clouds, a 25 A three-phase fuse (17.25 kW) and a capacity tariff of
10 EUR per kW of each month's highest hourly import. Prices are spot prices in EUR/kWh; exported
solar earns the spot price.

The replay takes the integration's decisions with the integration's own code: the request
builder (core/plan_request.py) with the slots cut at the departure; the house as HomeSite adds
it (core/site.py): a base-load profile learned once a day from the last four weeks of the
house's hourly load, the day's expected solar (the forecast, not each cloud), this month's daily
peaks, what the meter imported since the clock hour began, the charger's minimum current and
the solar mode's dear grid; the house's joint plan of its one car (core/site_plan.py:
`plan_house`, its slots as whole currents); and the live guard (core/live_guard.py) each minute
from the meter, with the plan's power now and its expected solar share as the house's guard
gives them.
Like the controller, each quarter hour plans again from the car's real charge; a car the guard
must stop for the fuse plans again with the load the meter shows. Not replayed: the controller's
catch-up when a car falls behind its plan (its margins are for cars slower than they claim; the
simulated car charges as planned), its probes and its pauses for the car's reports.

Modes:
- on/off: the planner without the house, the car switched on at full power in the planned slots
  (what smart charging did before it knew the house);
- power-aware: the planner with the house (`site`, `charge.min_kw`), the live guard setting the
  current every minute from the meter;
- solar first: as power-aware in the "solar first" mode: the grid made dear in the plan and the
  guard following the live surplus.

Printed per mode: targets met among the reachable ones (those that charging at full power from
plug-in reaches by the departure), the car's cost (the house's cost with the car minus without,
with each month's capacity tariff), the share of the car's energy that came from solar surplus,
the highest hourly import (the peak), the minutes over the fuse, the planner's time per plan
and the sessions in which the controller had to catch up at full power. Each mode must have 0
minutes over the fuse and meet every reachable target (within 0.1 point); the run fails
otherwise. `--explain` prints each missed session: its plug-in, plug-out, the energy it needed,
and what each plan promised by the departure against what the car then took.

Sources: Sørensen, Lindberg, Sartori, Andresen (2021), Data in Brief 36:107105, CC BY 4.0;
prices: Energinet (Energi Data Service), CC BY 4.0.
"""

from bisect import bisect_right
from collections import Counter
import csv
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
import gzip
from pathlib import Path
import sys
import time as wall_time
from zoneinfo import ZoneInfo

from custom_components.ev_flex.core.base_load import BaseLoadProfile
from custom_components.ev_flex.core.controller_guards import latest_full_power_start
from custom_components.ev_flex.core.learning import ChargeModel
from custom_components.ev_flex.core.live_guard import GuardCar, expected_solar_kw, guard
from custom_components.ev_flex.core.plan_request import PlanBasis, until_departure
from custom_components.ev_flex.core.planner import (
    ChargeSettings,
    Plan,
    PlanRequest,
    PriceSlot,
    SwitchInterval,
    plan,
)
from custom_components.ev_flex.core.simulated_home import HomeSpec, SimulatedHome
from custom_components.ev_flex.core.site import (
    GRID_VOLTAGE_V,
    SiteSettings,
    SolarMode,
    charger_min_kw,
    house_request,
    site_for_slots,
)
from custom_components.ev_flex.core.site_plan import CarAsk, plan_house

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TZ = ZoneInfo("Europe/Oslo")
ZONE = "NO2"
WINDOW_START = datetime(2019, 4, 1, tzinfo=UTC)
WINDOW = timedelta(days=30)
SHIFT = timedelta(weeks=365)
MIN_SESSION = timedelta(minutes=30)
STEP = timedelta(minutes=1)
REPLAN_EVERY = timedelta(minutes=15)
CAPACITY_KWH = 75.0
EFFICIENCY = 0.9
MAX_A, MIN_A, PHASES = 16.0, 6.0, 3
AMP_KW = PHASES * GRID_VOLTAGE_V / 1000.0
MAX_KW = MAX_A * AMP_KW
TARGET_PCT = 90.0
# A target counts as met within this many points.
MET_TOLERANCE_PCT = 0.1
# As HomeSite: the profile looks back four weeks; the meter must show this much less (kW)
# before a load seen live stops counting in the plan.
PROFILE_HISTORY = timedelta(days=28)
LIVE_LOAD_RELEASE_KW = 0.5
SITE = SiteSettings(fuse_a=25, phases=PHASES, peak_price_per_kw=10.0)
FUSE_KW = SITE.import_limit_kw or 0.0
# The controller's model of the car once it has learned it: the true power and efficiency.
CAR_MODEL = ChargeModel(
    max_kw=MAX_KW,
    efficiency=EFFICIENCY,
    efficiency_uncertainty=0.004,
    discharge_efficiency=EFFICIENCY,
    taper_knee_pct=100.0,
    taper_end_kw=MAX_KW,
    measured_bands=frozenset(range(40)),
)
MODES = {"on/off": None, "power-aware": SolarMode.CHEAPEST, "solar first": SolarMode.SOLAR_FIRST}


@dataclass(frozen=True)
class Session:
    plug_in: datetime
    plug_out: datetime
    kwh: float


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
    """The zone's day-ahead prices around the window; exported energy earns the spot price."""

    def __init__(self) -> None:
        self.slots: list[PriceSlot] = []
        begin, end = WINDOW_START + SHIFT - timedelta(days=8), WINDOW_START + SHIFT + WINDOW * 2
        with gzip.open(SHARED / "prices" / f"{ZONE}.csv.gz", "rt") as handle:
            for row in csv.DictReader(handle):
                start = datetime.fromisoformat(row["start_utc"])
                if begin <= start < end:
                    price = float(row["price"]) / 1000.0
                    slot_end = datetime.fromisoformat(row["end_utc"])
                    self.slots.append(PriceSlot(start, slot_end, price, price))
        self.starts = [slot.start for slot in self.slots]

    def price_at(self, moment: datetime) -> float:
        return self.slots[bisect_right(self.starts, moment) - 1].import_price

    def from_now(self, now: datetime, until: datetime) -> list[PriceSlot]:
        """The slots from the one holding now to the departure, the last one cut there."""
        first = bisect_right(self.starts, now) - 1
        return until_departure(self.slots[first:], until)


class House:
    """The simulated home as EV Flex sees it, like HomeSite: the base-load profile and this
    month's daily peaks, learned again at each local midnight from the meter's hourly means."""

    def __init__(self, home: SimulatedHome) -> None:
        self.home = home
        self.profile = BaseLoadProfile()
        self.daily_peaks_kw: dict[str, float] = {}
        self.learned_on: date | None = None
        self._hourly_load: dict[datetime, float] = {}
        # The load the meter showed when the guard had to stop the car for the fuse (kW).
        self.live_load_kw: float | None = None

    def _load_in_hour(self, hour: datetime) -> float:
        if hour not in self._hourly_load:
            self._hourly_load[hour] = self.home.average_kw("load", hour, hour + timedelta(hours=1))
        return self._hourly_load[hour]

    def learn(self, now: datetime, hourly_import_kwh: dict[datetime, float]) -> None:
        """Learn once a local day: the profile from the last four weeks, today's month's peaks."""
        today = now.astimezone(TZ).date()
        if self.learned_on == today:
            return
        self.learned_on = today
        last_hour = now.replace(minute=0, second=0, microsecond=0)
        hours = [last_hour - timedelta(hours=back) for back in range(1, 24 * 28 + 1)]
        self.profile = BaseLoadProfile.learn({h: self._load_in_hour(h) for h in hours}, TZ)
        month = today.strftime("%Y-%m")
        self.daily_peaks_kw = {}
        for hour, kwh in hourly_import_kwh.items():
            day = hour.astimezone(TZ).date()
            if day < today and day.strftime("%Y-%m") == month:
                key = day.isoformat()
                self.daily_peaks_kw[key] = max(self.daily_peaks_kw.get(key, 0.0), kwh)

    def expected_load_kw(self, start: datetime, end: datetime) -> float:
        return self.profile.average_kw(start, end, TZ)

    def expected_solar_kw(self, start: datetime, end: datetime) -> float:
        return self.home.average_kw("expected_solar", start, end)

    def surplus_kw(self, start: datetime, end: datetime) -> float:
        """Expected solar beyond the house's own load, as HomeSite.surplus_kw (kW)."""
        return max(0.0, self.expected_solar_kw(start, end) - self.expected_load_kw(start, end))

    def request(self, request: PlanRequest, mode: SolarMode, hour_import_kwh: float) -> PlanRequest:
        """The request with the house, as HomeSite.planner_request completes it: with what the
        meter imported since the clock hour began."""
        slots = [(slot.start, slot.end) for slot in request.prices]
        site = site_for_slots(
            SITE, slots, self.expected_load_kw, self.expected_solar_kw, self.daily_peaks_kw
        )
        site = replace(site, hour_import_kwh=round(hour_import_kwh, 3))
        if self.live_load_kw is not None and site.base_load_kw:
            first = max(site.base_load_kw[0], self.live_load_kw)
            site = replace(site, base_load_kw=(first, *site.base_load_kw[1:]))
        min_kw = charger_min_kw(MIN_A, PHASES, SITE.import_limit_kw)
        return house_request(request, site, min_kw, mode)


@dataclass
class Replan:
    """One plan of a session: when, from which charge, what it promised and what came of it."""

    at: datetime
    soc: float
    status: str
    # The charge the plan reaches by the departure (%).
    promised_soc: float
    # The energy the plan charges (kWh from the grid) until the next plan, and what the car took.
    planned_kwh: float
    delivered_kwh: float = 0.0


@dataclass
class SessionReplay:
    """A session as the replay saw it."""

    session: Session
    soc_at_plug_in: float
    reachable: bool
    soc: float
    replans: list[Replan] = field(default_factory=list)
    windows: tuple[SwitchInterval, ...] = ()
    # The controller's catch-up: behind the target's schedule, it charges flat out until there.
    catching_up: bool = False
    caught_up: bool = False
    slots: dict[datetime, tuple[datetime, float]] = field(default_factory=dict)
    met: bool = False

    @property
    def needed_kwh(self) -> float:
        return (TARGET_PCT - self.soc_at_plug_in) / 100.0 * CAPACITY_KWH / EFFICIENCY


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
    sessions: list[SessionReplay] = field(default_factory=list)
    # Per clock hour: the house's import (kWh), and the highest peak the plans made in it
    # expected (kW), for `--explain`.
    hourly_import_kwh: dict[datetime, float] = field(default_factory=dict)
    expected_peak_kw: dict[datetime, float] = field(default_factory=dict)


def plug_in(now: datetime, session: Session) -> SessionReplay:
    soc = max(5.0, TARGET_PCT - session.kwh * EFFICIENCY / CAPACITY_KWH * 100.0)
    # Reachable: charging at full power from plug-in meets the target by the departure.
    full_power_kwh = MAX_KW * EFFICIENCY * (session.plug_out - now).total_seconds() / 3600.0
    reachable = (TARGET_PCT - soc) / 100.0 * CAPACITY_KWH <= full_power_kwh + 1e-9
    return SessionReplay(session, soc, reachable, soc)


def _kwh(windows: tuple[SwitchInterval, ...], start: datetime, end: datetime) -> float:
    """The energy the windows charge over [start, end) (kWh; windows may end mid-minute)."""
    energy = 0.0
    for window in windows:
        overlap = (min(end, window.end) - max(start, window.start)).total_seconds()
        if overlap > 0 and window.mode == "charge":
            energy += window.kw * overlap / 3600.0
    return energy


def _window_kw(windows: tuple[SwitchInterval, ...], now: datetime) -> float:
    """The power of the charge window holding now, as the house's guard reads the plan."""
    return next((w.kw for w in windows if w.mode == "charge" and w.start <= now < w.end), 0.0)


def replan(
    totals: Totals, car: SessionReplay, now: datetime, market: Market, house: House, mode: str
) -> None:
    """Plan from now at the car's real charge, as the controller does."""
    session = car.session
    slots = market.from_now(now, session.plug_out)
    basis = PlanBasis(
        capacity_kwh=CAPACITY_KWH,
        charge=ChargeSettings(max_kw=MAX_KW, efficiency=EFFICIENCY),
        departure=session.plug_out,
        target_soc_pct=TARGET_PCT,
    )
    request = basis.request(now, round(car.soc, 3), slots)
    solar_mode = MODES[mode]
    clock = wall_time.perf_counter()
    if solar_mode is None:
        result = plan(request)
    else:
        # The house's joint plan, of this one car: its plan in whole amps and real prices.
        began = now.replace(minute=0, second=0, microsecond=0)
        imported = totals.hourly_import_kwh.get(began, 0.0)
        ask = CarAsk("car", request, house.request(request, solar_mode, imported), amp_kw=AMP_KW)
        planned = plan_house([ask])["car"]
        assert planned is not None
        result = planned
    totals.plan_seconds += wall_time.perf_counter() - clock
    totals.plans += 1
    if result.peak_kw is not None:
        hour = now.replace(minute=0, second=0, microsecond=0)
        totals.expected_peak_kw[hour] = max(totals.expected_peak_kw.get(hour, 0.0), result.peak_kw)
    car.windows = result.switch_times
    car.slots = {slot.start: (slot.end, slot.charge_kw) for slot in result.slots}
    next_plan = now + REPLAN_EVERY - timedelta(minutes=now.minute % 15, seconds=now.second)
    car.replans.append(
        Replan(
            at=now,
            soc=car.soc,
            status=result.status.value,
            promised_soc=_promised_soc(result, car.soc, session.plug_out),
            planned_kwh=_kwh(car.windows, now, next_plan),
        )
    )


def _promised_soc(result: Plan, soc: float, departure: datetime) -> float:
    return next((s.soc_pct_end for s in reversed(result.slots) if s.end <= departure), soc)


@dataclass
class Charger:
    """The charger as the guard sees it: its current, its last command, what it draws."""

    current_a: float = MAX_A
    last_command_at: datetime | None = None
    drawing_kw: float = 0.0


def _expected_solar_share(car: SessionReplay, house: House, now: datetime, kw: float) -> float:
    """The part of the plan's power now expected from solar, as the house's guard reckons it."""
    for start, (end, slot_kw) in car.slots.items():
        if start <= now < end:
            return expected_solar_kw(kw, slot_kw, house.surplus_kw(start, end))
    return 0.0


def _guarded_kw(
    car: SessionReplay,
    charger: Charger,
    house: House,
    now: datetime,
    house_kw: float,
    solar_mode: SolarMode,
) -> float | None:
    """The car's power this minute under the live guard; None when it must stop for the fuse."""
    planned = _window_kw(car.windows, now) if car.soc < TARGET_PCT else 0.0
    solar_share = _expected_solar_share(car, house, now, planned)
    if car.catching_up:
        # Charging for the target, not the plan: full power, none of it left to the sun.
        planned, solar_share = MAX_KW, 0.0
    decided = guard(
        now,
        house_kw=house_kw,
        import_limit_kw=FUSE_KW,
        cars=[
            GuardCar(
                vehicle_id="car",
                can_set_current=True,
                phases=PHASES,
                min_current_a=MIN_A,
                max_current_a=MAX_A,
                charging_kw=charger.drawing_kw,
                current_a=charger.current_a,
                planned_kw=planned,
                planned_solar_kw=solar_share,
                mode=solar_mode,
                last_command_at=charger.last_command_at,
            )
        ],
    )
    for command in decided.commands:
        charger.current_a, charger.last_command_at = command.current_a, now
    if decided.stop_for_fuse:
        return None
    # The controller charges while the plan does; the guard sets how fast.
    return min(MAX_KW, charger.current_a * AMP_KW) if planned > 0 else 0.0


def _charge(car: SessionReplay, kw: float) -> float:
    """Charge the car for a minute at up to this power; returns the power it took (kW)."""
    hours = STEP.total_seconds() / 3600.0
    room = max(0.0, (TARGET_PCT - car.soc) / 100.0 * CAPACITY_KWH)
    kw = min(kw, room / EFFICIENCY / hours)
    car.soc += kw * hours * EFFICIENCY / CAPACITY_KWH * 100.0
    if car.replans:
        car.replans[-1].delivered_kwh += kw * hours
    return kw


def _car_minute(
    car: SessionReplay, charger: Charger, house: House, now: datetime, house_kw: float, mode: str
) -> float | None:
    """What the car draws this minute (kW); None when the guard stopped it for the fuse."""
    solar_mode = MODES[mode]
    latest = latest_full_power_start(
        CAR_MODEL, car.soc, TARGET_PCT, CAPACITY_KWH, car.session.plug_out
    )
    car.catching_up = latest is not None and (car.catching_up or now >= latest)
    car.caught_up |= car.catching_up
    hours = STEP.total_seconds() / 3600.0
    if solar_mode is None:
        # Switched on and off at full power: the windows' energy over the minute.
        planned = MAX_KW if car.catching_up else _kwh(car.windows, now, now + STEP) / hours
        return _charge(car, planned)
    if house.live_load_kw is not None and house_kw < house.live_load_kw - LIVE_LOAD_RELEASE_KW:
        house.live_load_kw = None
    kw = _guarded_kw(car, charger, house, now, house_kw, solar_mode)
    return None if kw is None else _charge(car, kw)


def _monthly_peaks(hourly_import_kwh: dict[datetime, float]) -> dict[str, float]:
    peaks: dict[str, float] = {}
    for hour, kwh in hourly_import_kwh.items():
        month = hour.astimezone(TZ).strftime("%Y-%m")
        peaks[month] = max(peaks.get(month, 0.0), kwh)
    return peaks


def run(mode: str, sessions: list[Session], market: Market, home: SimulatedHome) -> Totals:
    totals = Totals()
    house = House(home)
    charger = Charger()
    hourly_import = totals.hourly_import_kwh
    hours = STEP.total_seconds() / 3600.0
    queue = list(sessions)
    now, end = WINDOW_START + SHIFT, WINDOW_START + SHIFT + WINDOW
    car: SessionReplay | None = None
    while now < end:
        house.learn(now, hourly_import)
        if car is None and queue and queue[0].plug_in <= now:
            car = plug_in(now, queue.pop(0))
            totals.sessions.append(car)
            totals.reachable += car.reachable
            replan(totals, car, now, market, house, mode)
        elif car is not None and car.soc < TARGET_PCT and now.minute % 15 == 0:
            # Like the controller, each quarter hour plans again from the car's real charge.
            replan(totals, car, now, market, house, mode)
        load, solar = home.house_load_kw(now), home.solar_kw(now)
        car_kw = 0.0
        if car is not None:
            drawn = _car_minute(car, charger, house, now, load - solar, mode)
            if drawn is None:
                # Stopped for the fuse: plan again with the load the meter shows.
                house.live_load_kw = load - solar
                replan(totals, car, now, market, house, mode)
            car_kw = drawn or 0.0
        charger.drawing_kw = car_kw
        net_with = load - solar + car_kw
        # Import paid and export earned at the spot price: the car's part is its own power.
        totals.cost += hours * market.price_at(now) * car_kw
        totals.car_kwh += car_kw * hours
        totals.solar_kwh += min(car_kw, max(0.0, solar - load)) * hours
        totals.minutes_over_fuse += net_with > FUSE_KW + 1e-9
        hour = now.replace(minute=0, second=0, microsecond=0)
        hourly_import[hour] = hourly_import.get(hour, 0.0) + max(0.0, net_with) * hours
        now += STEP
        if car is not None and now >= car.session.plug_out:
            car.met = car.soc >= TARGET_PCT - MET_TOLERANCE_PCT
            totals.met += car.met
            car = None
    peaks = _monthly_peaks(hourly_import)
    totals.peak_kw = max(peaks.values())
    totals.cost += SITE.peak_price_per_kw * sum(peaks.values())
    return totals


def explain(totals: Totals) -> None:
    """Each reachable session that missed its target: what each plan promised, what came; and
    the hours whose import passed the peak every plan made in them expected."""
    over = sorted(
        (
            (totals.hourly_import_kwh[hour] - expected, hour, expected)
            for hour, expected in totals.expected_peak_kw.items()
            if totals.hourly_import_kwh.get(hour, 0.0) > expected + 0.1
        ),
        reverse=True,
    )
    for excess, hour, expected in over[:5]:
        print(
            f"  hour {hour.astimezone(TZ):%m-%d %H:%M}: {expected + excess:.2f} kW imported, "
            f"the plans made in it expected a peak of {expected:.2f} kW"
        )
    if over:
        print(f"  {len(over)} hours passed their plans' expected peak by more than 0.1 kW")
    for car in totals.sessions:
        if car.met or not car.reachable:
            continue
        session = car.session
        print(
            f"  missed: plugged in {session.plug_in:%m-%d %H:%M}, out {session.plug_out:%H:%M}, "
            f"{car.needed_kwh:.2f} kWh needed from {car.soc_at_plug_in:.2f} %, "
            f"{car.soc:.2f} % at the plug-out"
        )
        for item in car.replans:
            print(
                f"    {item.at:%H:%M} at {item.soc:6.2f} %: {item.status:<9} promises "
                f"{item.promised_soc:6.2f} %, {item.planned_kwh:5.3f} kWh by the next plan, "
                f"{item.delivered_kwh:5.3f} kWh taken"
            )


def main() -> int:
    verbose = "--explain" in sys.argv[1:]
    market = Market()
    sessions = load_sessions()
    home = SimulatedHome(tz=TZ, spec=HomeSpec(latitude=59.91, longitude=10.75, seed=7))
    print(
        f"{len(sessions)} sessions of one car, {WINDOW.days} days from "
        f"{(WINDOW_START + SHIFT).date()}, {ZONE} prices, 25 A three-phase fuse, 6 kWp solar"
    )
    print(
        f"{'mode':<12} {'targets met':>12} {'cost EUR':>9} {'solar %':>8} "
        f"{'peak kW':>8} {'min over fuse':>14} {'ms/plan':>8} {'caught up':>10}"
    )
    failed = False
    for mode in MODES:
        totals = run(mode, sessions, market, home)
        share = 100.0 * totals.solar_kwh / totals.car_kwh if totals.car_kwh else 0.0
        print(
            f"{mode:<12} {totals.met:>5}/{totals.reachable:<6} {totals.cost:>9.2f} "
            f"{share:>8.1f} {totals.peak_kw:>8.2f} {totals.minutes_over_fuse:>14} "
            f"{1000 * totals.plan_seconds / max(1, totals.plans):>8.1f} "
            f"{sum(car.caught_up for car in totals.sessions):>10}"
        )
        failed |= totals.minutes_over_fuse > 0 or totals.met < totals.reachable
        if verbose:
            explain(totals)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
