"""Whether several cars ever take the house over its fuse or export limit, in random draws.

Each draw (seeded, so every run draws the same) is a house with a load and solar over 4 to 24
slots of an hour or a quarter hour, two or three cars (some with V2G and a minimum power), a
fuse near the cars' power together, an export limit and a capacity tariff by chance. A plan
counts as over a limit when in any slot the house's grid power, summed as the site plan's
checks sum it (the house, then each car's charge minus discharge in turn), is above
`max(import_limit_kw, load)` or below `-max(export_limit_kw, -load)` by any amount at all.

`scripts/bench site_limits` runs 300 draws of two cars and 150 of three; `--draws=N` sets the
two-car count (three cars get half), `--seed=S` another set of draws.
"""

from datetime import UTC, datetime, timedelta
import random
import sys
import time
from typing import Any

from custom_components.ev_flex.core.planner import SitePlan, SiteRequest, plan_site

START = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def _draw(rng: random.Random, cars: int) -> dict[str, Any]:
    minutes = rng.choice([15, 60])
    count = rng.randint(4, 24)
    imports = [round(rng.uniform(0.0, 0.6), 4) for _ in range(count)]
    exports = [round(price * rng.uniform(0.2, 1.0), 4) for price in imports]
    prices = []
    for i, (imp, exp) in enumerate(zip(imports, exports, strict=True)):
        begin = START + timedelta(minutes=minutes * i)
        prices.append(
            {
                "start": begin.isoformat(),
                "end": (begin + timedelta(minutes=minutes)).isoformat(),
                "import": imp,
                "export": exp,
            }
        )
    vehicles = []
    for index in range(cars):
        capacity = rng.choice([30.0, 40.0, 60.0, 75.0])
        max_kw = rng.choice([3.7, 7.4, 11.0, round(rng.uniform(2.0, 11.0), 3)])
        vehicle: dict[str, Any] = {
            "id": f"car{index}",
            "battery": {"capacity_kwh": capacity, "soc_pct": round(rng.uniform(0.0, 90.0), 3)},
            "charge": {"max_kw": max_kw, "efficiency": round(rng.uniform(0.85, 1.0), 4)},
            "targets": [
                {
                    "by": (START + timedelta(minutes=minutes * rng.randint(1, count))).isoformat(),
                    "soc_pct": round(rng.uniform(20.0, 100.0), 3),
                }
            ],
        }
        if rng.random() < 0.3:
            vehicle["charge"]["min_kw"] = round(min(max_kw, rng.uniform(1.0, 4.2)), 3)
        if rng.random() < 0.5:
            vehicle["discharge"] = {
                "max_kw": round(rng.uniform(1.0, 10.0), 3),
                "efficiency": round(rng.uniform(0.85, 1.0), 4),
                "min_soc_pct": round(rng.uniform(0.0, 40.0), 3),
                "wear_cost_per_kwh": round(rng.uniform(0.0, 0.04), 4),
            }
        vehicles.append(vehicle)
    loads = [round(rng.uniform(0.0, 6.0), 3) for _ in range(count)]
    solar = [round(max(0.0, rng.uniform(-4.0, 8.0)), 3) for _ in range(count)]
    together = sum(v["charge"]["max_kw"] for v in vehicles)
    # Near the cars' power together, so the fuse binds in most slots; never below a minimum.
    fuse = together * rng.uniform(0.5, 1.1) + rng.uniform(0.0, 3.0)
    fuse = max(fuse, *(v["charge"].get("min_kw", 0.0) for v in vehicles))
    site: dict[str, Any] = {
        "base_load_kw": loads,
        "solar_kw": solar,
        "import_limit_kw": round(fuse, 3),
    }
    if rng.random() < 0.5:
        site["export_limit_kw"] = round(rng.uniform(0.0, 8.0), 3)
    if rng.random() < 0.5:
        site["peak_price_per_kw"] = round(rng.uniform(0.1, 3.0), 3)
        site["current_peak_kw"] = round(rng.uniform(0.0, 8.0), 3)
    return {"now": START.isoformat(), "prices": prices, "site": site, "vehicles": vehicles}


def over_limits(request: SiteRequest, result: SitePlan) -> float:
    """How far (kW) the house goes over its import or export limit in its worst slot; 0 or
    below when it keeps to both."""
    site = request.site
    offset = len(request.prices) - len(result.slots)
    top = site.import_limit_kw
    bottom = site.export_limit_kw
    worst = -float("inf")
    for t in range(len(result.slots)):
        load = site.base_load_kw[offset + t] - site.solar_kw[offset + t]
        grid = load
        for vehicle in result.vehicles:
            slot = vehicle.plan.slots[t]
            grid += slot.charge_kw - slot.discharge_kw
        if top is not None:
            worst = max(worst, grid - max(top, load))
        if bottom is not None:
            worst = max(worst, -grid - max(bottom, -load))
    return worst


def _run(cars: int, draws: int, seed: int) -> None:
    rng = random.Random(seed * 1000 + cars)
    over = 0
    worst = 0.0
    worst_draw = -1
    began = time.process_time()
    for index in range(draws):
        request = SiteRequest.from_dict(_draw(rng, cars))
        excess = over_limits(request, plan_site(request))
        if excess > 0.0:
            over += 1
            if excess > worst:
                worst, worst_draw = excess, index
    took = time.process_time() - began
    print(f"{cars} cars: {draws} draws (seed {seed}), {took:.1f} s CPU")
    print(f"  plans over a limit  {over}")
    where = f" (draw {worst_draw})" if worst_draw >= 0 else ""
    print(f"  worst excess        {worst:.3e} kW{where}")


def main() -> None:
    options = dict(word[2:].split("=", 1) for word in sys.argv[1:] if word.startswith("--"))
    draws = int(options.get("draws", "300"))
    seed = int(options.get("seed", "1"))
    _run(2, draws, seed)
    _run(3, draws // 2, seed)


if __name__ == "__main__":
    main()
