"""How fast the planner is, next to HiGHS on the identical problems.

Two cases on real day-ahead prices (DK1, 15-minute slots, Source: Energinet):
- 96 slots, charge only: 75 kWh at 30 %, 11 kW, 80 % by the end of the day.
- 192 slots, V2G and taper: 10 kW discharge down to 30 % with wear cost, taper above 80 %,
  80 % by 07:00 each morning.
- 192 slots with a house (site): a synthetic daily load and solar curve, a 25 A three-phase
  fuse (17.3 kW), V2G and taper as above; then with a capacity tariff on top (without and with
  the taper); with a 4.14 kW minimum charging power, without and with the tariff; then with
  the month's peak below the evening load and a fuller car, so V2G shaves the evening hours and
  how each hour's quarters share its import matters; then two cars (the second a smaller one
  without V2G) sharing the fuse and the tariff (`plan_site`), and three (a small third car due
  the second morning); and the two cars with minimum powers (4.14 and 1.38 kW: 6 A on three
  phases and on one); and those two for an evening (16:00-22:00, 24 slots) without V2G,
  where the slots each car charges in are searched, also with the first car charging from
  60 % to 95 % into a taper that falls below its minimum.
Each case runs from several start days. The planner's time is `plan(request)` (also shown with
the JSON parsing and output of the command-line tool); the HiGHS time
covers building the MILP from the request and solving it (one solve, shortfall penalised). The
costs of both are printed too, as a check that they agree. `scripts/bench planner --case=KEY`
(repeatable) runs only the named cases: charge, v2g, house, house-minimum, tariff,
tariff-minimum, tariff-taper, shaving, two-cars, three-cars, two-cars-minimum,
two-cars-minimum-evening, two-cars-minimum-taper.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
import gzip
import math
from pathlib import Path
import statistics
import sys
import time
from typing import Any

from custom_components.ev_flex.core.planner import PlanRequest, SiteRequest, plan, plan_site
from tests.core.planner_reference import build_model, solve_reference, unbeaten_reference

PRICES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "prices" / "DK1.csv.gz"
START_DAYS = [datetime(2026, 1, 5, 16, 0, tzinfo=UTC) + timedelta(days=9 * i) for i in range(12)]
REPEATS = 5
# The house cases are slower: every third start day, three runs each.
SITE_START_DAYS = START_DAYS[::3]
SITE_REPEATS = 3
VAT = 0.25
GRID_FEE = 0.12


def _load_prices() -> dict[datetime, float]:
    """Spot prices per 15-minute slot start, in EUR/kWh."""
    prices: dict[datetime, float] = {}
    with gzip.open(PRICES, "rt") as handle:
        next(handle)
        for line in handle:
            start, end, price, _source = line.strip().split(",")
            begin = datetime.fromisoformat(start)
            if begin.year < 2026:
                continue
            finish = datetime.fromisoformat(end)
            if finish - begin == timedelta(minutes=15):
                prices[begin] = float(price) / 1000.0
    return prices


def _request(spot: dict[datetime, float], start: datetime, slots: int, v2g: bool) -> dict[str, Any]:
    local = start.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+01:00").tzinfo)
    items = []
    for i in range(slots):
        begin = local + timedelta(minutes=15 * i)
        price = spot[begin.astimezone(UTC)]
        item = {
            "start": begin.isoformat(),
            "end": (begin + timedelta(minutes=15)).isoformat(),
            "import": round((price + GRID_FEE) * (1.0 + VAT), 5),
        }
        if v2g:
            item["export"] = round(price, 5)
        items.append(item)
    now = local + timedelta(minutes=7)
    morning = (local + timedelta(days=1)).replace(hour=7, minute=0)
    request: dict[str, Any] = {
        "now": now.isoformat(),
        "battery": {"capacity_kwh": 75.0, "soc_pct": 30.0, "max_soc_pct": 100.0},
        "charge": {"max_kw": 11.0, "efficiency": 0.9},
        "targets": [{"by": (local + timedelta(hours=slots // 4)).isoformat(), "soc_pct": 80.0}],
        "prices": items,
    }
    if v2g:
        request["charge"]["taper"] = [[80.0, 11.0], [100.0, 3.0]]
        request["discharge"] = {
            "max_kw": 10.0,
            "efficiency": 0.9,
            "min_soc_pct": 30.0,
            "wear_cost_per_kwh": 0.02,
        }
        request["targets"] = [
            {"by": morning.isoformat(), "soc_pct": 80.0},
            {"by": (morning + timedelta(days=1)).isoformat(), "soc_pct": 80.0},
        ]
        request["protective_soc_pct"] = 20.0
    return request


def _house(begin: datetime) -> tuple[float, float]:
    """A plausible winter house: (load, solar) in kW at this local time."""
    hour = begin.hour + begin.minute / 60.0
    load = 0.4
    if 6.5 <= hour < 9.0:
        load = 1.6
    elif 9.0 <= hour < 17.0:
        load = 0.8
    elif 17.0 <= hour < 22.0:
        load = 2.4
    solar = max(0.0, 2.5 * math.cos((hour - 12.5) / 3.5 * math.pi / 2.0)) if 9 <= hour < 16 else 0.0
    return load, round(solar, 3)


def _site_request(
    spot: dict[datetime, float],
    start: datetime,
    peak: bool,
    cars: int,
    taper: bool = False,
    shaving: bool = False,
    min_kw: float = 0.0,
    second_min_kw: float = 0.0,
    slots: int = 192,
    filling: bool = False,
) -> dict[str, Any]:
    # The two days' horizon with V2G; a shorter one (an evening) without.
    data = _request(spot, start, slots, v2g=slots == 192)
    if min_kw > 0.0:
        data["charge"]["min_kw"] = min_kw
    if filling:
        # The first car charges into its taper, which falls below the minimum above 92 %.
        data["charge"]["taper"] = [[70.0, 11.0], [100.0, 1.5]]
        data["battery"]["soc_pct"] = 60.0
        data["targets"][-1]["soc_pct"] = 95.0
    loads: list[float] = []
    solar: list[float] = []
    for item in data["prices"]:
        load, sun = _house(datetime.fromisoformat(item["start"]))
        loads.append(load)
        solar.append(sun)
    site: dict[str, Any] = {"base_load_kw": loads, "solar_kw": solar, "import_limit_kw": 17.3}
    if peak and not taper:
        data["charge"].pop("taper", None)
    if peak:
        # A capacity tariff per kW of the month's highest hour, spread over the horizon's days.
        site["peak_price_per_kw"] = 1.5
        site["current_peak_kw"] = 5.0
    if shaving:
        # A month's peak below the evening load, and a car with energy to spare: V2G keeps
        # the evening hours down, and how each hour's quarters share its import matters.
        site["current_peak_kw"] = 1.5
        data["battery"]["soc_pct"] = 70.0
        for target in data["targets"]:
            target["soc_pct"] = 60.0
    data["site"] = site
    if cars == 1:
        return data
    first = {key: data[key] for key in ("battery", "charge", "discharge", "targets") if key in data}
    if "protective_soc_pct" in data:
        first["protective_soc_pct"] = data["protective_soc_pct"]
    second = {
        "battery": {"capacity_kwh": 40.0, "soc_pct": 50.0},
        "charge": {"max_kw": 7.4, "efficiency": 0.9},
        "targets": [{"by": data["targets"][0]["by"], "soc_pct": 90.0}],
    }
    if second_min_kw > 0.0:
        second["charge"]["min_kw"] = second_min_kw
    vehicles = [{"id": "first", **first}, {"id": "second", **second}]
    if cars >= 3:
        # A small city car on a slow charger, to be at 95 % by the second morning.
        vehicles.append(
            {
                "id": "third",
                "battery": {"capacity_kwh": 30.0, "soc_pct": 40.0},
                "charge": {"max_kw": 3.7, "efficiency": 0.9},
                "targets": [{"by": data["targets"][-1]["by"], "soc_pct": 95.0}],
            }
        )
    return {"now": data["now"], "prices": data["prices"], "site": site, "vehicles": vehicles}


def _site_case(
    name: str,
    spot: dict[datetime, float],
    peak: bool,
    cars: int,
    taper: bool = False,
    shaving: bool = False,
    min_kw: float = 0.0,
    second_min_kw: float = 0.0,
    repeats: int = SITE_REPEATS,
    slots: int = 192,
    filling: bool = False,
) -> None:
    ours: list[float] = []
    worst_gap = 0.0
    for start in SITE_START_DAYS:
        data = _site_request(
            spot, start, peak, cars, taper, shaving, min_kw, second_min_kw, slots, filling
        )
        if cars == 1:
            request = PlanRequest.from_dict(data)
            planner_ms, result = _median_ms(lambda request=request: plan(request), repeats)
            models = [build_model(request)]
            targets = list(result.targets)
        else:
            site_request = SiteRequest.from_dict(data)
            planner_ms, result = _median_ms(lambda r=site_request: plan_site(r), repeats)
            models = [build_model(site_request.vehicle_request(i)) for i in range(cars)]
            targets = [t for v in result.vehicles for t in v.plan.targets]
        # Solved again without presolve where the plan beats it (HiGHS's presolve has called
        # a dearer point optimal).
        shortfall = 0.0 if all(t.met for t in targets) else math.inf
        reference = unbeaten_reference(models, shortfall, result.cost)  # type: ignore[arg-type]
        ours.append(planner_ms)
        gap = (result.cost - reference.cost) / max(1.0, abs(reference.cost))
        worst_gap = max(worst_gap, gap)
    print(f"{name}: {len(SITE_START_DAYS)} start days x {repeats} runs")
    print(f"  planner median      {statistics.median(ours):8.2f} ms  (max {max(ours):.2f} ms)")
    print(f"  worst cost gap      {worst_gap:.2e} (relative, above the HiGHS optimum)")


def _median_ms(action: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(repeats):
        began = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - began) * 1000.0)
    return statistics.median(times), result


def _case(name: str, spot: dict[datetime, float], slots: int, v2g: bool) -> None:
    ours: list[float] = []
    json_path: list[float] = []
    highs: list[float] = []
    worst_gap = 0.0
    for start in START_DAYS:
        data = _request(spot, start, slots, v2g)
        request = PlanRequest.from_dict(data)
        planner_ms, result = _median_ms(lambda request=request: plan(request))
        json_ms, _ = _median_ms(lambda data=data: plan(PlanRequest.from_dict(data)).to_dict())
        json_path.append(json_ms)
        highs_ms, reference = _median_ms(
            lambda request=request: solve_reference(build_model(request), stages=1)  # type: ignore[arg-type]
        )
        ours.append(planner_ms)
        highs.append(highs_ms)
        gap = abs(result.cost - reference.cost) / max(1.0, abs(reference.cost))
        worst_gap = max(worst_gap, gap)
    planner_median = statistics.median(ours)
    highs_median = statistics.median(highs)
    print(f"{name}: {len(START_DAYS)} start days x {REPEATS} runs")
    print(f"  planner median      {planner_median:8.2f} ms  (max {max(ours):.2f} ms)")
    json_median = statistics.median(json_path)
    print(f"  with JSON in/out    {json_median:8.2f} ms  (from_dict + plan + to_dict)")
    print(f"  HiGHS median        {highs_median:8.2f} ms  (build + solve, max {max(highs):.2f} ms)")
    print(f"  HiGHS / planner     {highs_median / planner_median:8.1f} x")
    print(f"  worst cost gap      {worst_gap:.2e} (relative)")


_TARIFF = "192 slots, house + solar + fuse + capacity tariff"
# The house cases by key: the name printed, and `_site_case`'s options.
_SITE_CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("house", "192 slots, house + solar + fuse, V2G + taper", {"peak": False}),
    # 6 A on three phases: the charger's minimum current.
    (
        "house-minimum",
        "192 slots, house + solar + fuse, V2G + taper, 4.14 kW minimum",
        {"peak": False, "min_kw": 4.14},
    ),
    ("tariff", f"{_TARIFF}, V2G", {"peak": True}),
    ("tariff-minimum", f"{_TARIFF}, V2G, 4.14 kW minimum", {"peak": True, "min_kw": 4.14}),
    ("tariff-taper", f"{_TARIFF}, V2G + taper", {"peak": True, "taper": True}),
    (
        "shaving",
        f"{_TARIFF} under the evening load, V2G shaving",
        {"peak": True, "shaving": True},
    ),
    ("two-cars", "192 slots, two cars, house + solar + fuse + capacity tariff", {"cars": 2}),
    ("three-cars", "192 slots, three cars, house + solar + fuse + capacity tariff", {"cars": 3}),
    # The same two cars for an evening without V2G: the site's programme, not turns.
    (
        "two-cars-evening",
        "24 slots (16:00-22:00), two cars, no V2G, house + solar + fuse + capacity tariff",
        {"cars": 2, "slots": 24},
    ),
    # Both chargers take a current: 6 A on three phases and on one. Seconds per plan, one run.
    (
        "two-cars-minimum",
        "192 slots, two cars with 4.14 and 1.38 kW minimums, house + solar + fuse + tariff",
        {"cars": 2, "min_kw": 4.14, "second_min_kw": 1.38, "repeats": 1},
    ),
    # The same cars plugged in for an evening without V2G: the slots each charges in searched.
    (
        "two-cars-minimum-evening",
        "24 slots (16:00-22:00), two cars with 4.14 and 1.38 kW minimums, no V2G, house + tariff",
        {"cars": 2, "min_kw": 4.14, "second_min_kw": 1.38, "slots": 24},
    ),
    # The first car from 60 % to 95 %, into a taper that falls below its minimum.
    (
        "two-cars-minimum-taper",
        "24 slots (16:00-22:00), two cars with minimums, the first into its taper, house + tariff",
        {"cars": 2, "min_kw": 4.14, "second_min_kw": 1.38, "slots": 24, "filling": True},
    ),
]


def _cases(spot: dict[datetime, float]) -> list[tuple[str, Callable[[], None]]]:
    """Every case by a short key (`--case=KEY`), ready to run."""
    cases: list[tuple[str, Callable[[], None]]] = [
        ("charge", partial(_case, "96 slots, charge only", spot, 96, False)),
        ("v2g", partial(_case, "192 slots, V2G + taper", spot, 192, True)),
    ]
    for key, name, options in _SITE_CASES:
        settings = {"peak": True, "cars": 1, **options}
        cases.append((key, partial(_site_case, name, spot, **settings)))
    return cases


def main() -> None:
    """Every case; `--case=KEY` (repeatable) runs only those, e.g.
    `scripts/bench planner --case=tariff --case=tariff-taper`."""
    wanted = {word.split("=", 1)[1] for word in sys.argv[1:] if word.startswith("--case=")}
    spot = _load_prices()
    cases = _cases(spot)
    unknown = wanted - {key for key, _ in cases}
    if unknown:
        keys = ", ".join(key for key, _ in cases)
        raise SystemExit(f"unknown case {', '.join(sorted(unknown))}; the cases: {keys}")
    for key, run in cases:
        if not wanted or key in wanted:
            run()


if __name__ == "__main__":
    main()
