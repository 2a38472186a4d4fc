"""How long a house's joint plan takes, and what the event loop pays for it.

Cars as the controller asks for them (learned taper, 6 A minimum on three phases) in a house with
a base load, solar, a 25 A three-phase fuse and a capacity tariff, on a day of real 15-minute
day-ahead prices (DK1, Source: Energinet). `plan_house` runs in Home Assistant's executor; the
event loop only looks the plan up (`HousePlans.ask`). A car without a house plans inline.
The plan shown for a car that follows none (the card, `plan_charging`) is made in the executor
too; the event loop only checks that it was made for the same inputs (`same_ask`).
"""

import contextlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
import gzip
import math
from pathlib import Path
import statistics
import time
from typing import Any

from custom_components.ev_flex.core.controller import PlanPendingError
from custom_components.ev_flex.core.planner import (
    Battery,
    ChargeSettings,
    PlanRequest,
    PriceSlot,
    SiteSpec,
    Target,
    plan,
)
from custom_components.ev_flex.core.site_plan import (
    CarAsk,
    HousePlans,
    finish_plan,
    plan_house,
    same_ask,
)

PRICES = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "prices" / "DK1.csv.gz"
START = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
SLOTS = 56
RUNS = 5


def _prices() -> tuple[PriceSlot, ...]:
    slots: list[PriceSlot] = []
    with gzip.open(PRICES, "rt") as handle:
        next(handle)
        for line in handle:
            start, end, price, _source = line.strip().split(",")
            begin = datetime.fromisoformat(start)
            if begin >= START and len(slots) < SLOTS:
                slots.append(
                    PriceSlot(begin, datetime.fromisoformat(end), float(price) / 1000.0, 0.02)
                )
    return tuple(slots)


def _ask(vehicle_id: str, prices: tuple[PriceSlot, ...], soc: float, target: float) -> CarAsk:
    request = PlanRequest(
        now=START + timedelta(minutes=3),
        battery=Battery(capacity_kwh=75.0, soc_pct=soc),
        charge=ChargeSettings(max_kw=11.0, efficiency=0.9, taper=((80.0, 11.0), (100.0, 3.0))),
        prices=prices,
        targets=(Target(by=prices[-1].end, soc_pct=target),),
    )
    count = len(prices)
    site = SiteSpec(
        base_load_kw=tuple(round(1.0 + 0.6 * math.sin(i / 9), 3) for i in range(count)),
        solar_kw=(0.0,) * count,
        import_limit_kw=17.25,
        peak_price_per_kw=5.0,
        current_peak_kw=6.0,
    )
    completed = replace(request, charge=replace(request.charge, min_kw=4.14), site=site)
    return CarAsk(vehicle_id, request, completed)


def _median_ms(run: Any, runs: int = RUNS) -> float:
    times: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000.0


def main() -> None:
    prices = _prices()
    first, second = _ask("first", prices, 30.0, 85.0), _ask("second", prices, 40.0, 80.0)
    print(f"{len(prices)} slots of 15 minutes, medians of {RUNS} runs")
    alone = _median_ms(lambda: plan(first.request))
    print(f"one car, no house, inline:            {alone:8.1f} ms")
    one = _median_ms(lambda: plan_house([first]))
    print(f"one car in the house, executor:       {one:8.1f} ms")
    two = _median_ms(lambda: plan_house([first, second]))
    print(f"two cars in the house, executor:      {two:8.1f} ms")
    house = HousePlans()
    for ask in (first, second):
        with contextlib.suppress(PlanPendingError):
            house.ask(ask)
    wanted = house.wanted()
    assert wanted is not None
    house.deliver(wanted, plan_house(wanted))
    lookup = _median_ms(lambda: house.ask(first), runs=200)
    print(f"the event loop's look-up of a plan:   {lookup:8.3f} ms")
    shown = _median_ms(lambda: finish_plan(first, plan(first.completed)))
    print(f"the plan shown for a car, executor:   {shown:8.1f} ms")
    # The card asks again at the next step: a minute later, the same inputs.
    later = replace(
        first, request=replace(first.request, now=first.request.now + timedelta(minutes=1))
    )
    check = _median_ms(lambda: same_ask(first, later), runs=200)
    print(f"the event loop's check of it:         {check:8.3f} ms")


if __name__ == "__main__":
    main()
