"""Price entities shaped as the price integrations publish them, built from a known series.

The builders name the version of each integration's source they follow. The quirks are the
point: wall-clock times with fold 0 on the repeated autumn hour (GE-Spot, Pstryk), naive local
strings (Pstryk's main sensor) and Entso-e's last hour of the 25-hour day labelled with the next
day's date.
"""

from collections.abc import Callable, Sequence
import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ev_flex.core.prices import (
    ACTION_ENTSOE_PRICES,
    ACTION_NORDPOOL_PRICES,
    ACTION_TIBBER_PRICES,
    ActionResponse,
    PriceEntitySnapshot,
    PriceFormat,
    PriceReadResult,
    PriceSeries,
    PriceStatus,
    normalise_prices,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# A plain day, the spring-forward day (23 h) and the fall-back day (25 h) in Europe/Stockholm.
PLAIN_DAY = date(2025, 10, 7)
SPRING_DAY = date(2026, 3, 29)
FALL_DAY = date(2025, 10, 26)

Slot = tuple[datetime, datetime, float]


# --------------------------------------------------------------------------------------------
# Building source data from a known series


def local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def day_slots(day: date, tz: ZoneInfo, minutes: int, first_price: float = 0.1) -> list[Slot]:
    """Slots covering one local day; prices vary so that no two days are alike."""
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    slots: list[Slot] = []
    moment = start
    index = 0
    while moment < end:
        price = round(first_price + index * 0.001 + (index % 7) * 0.01, 6)
        slots.append((moment, moment + timedelta(minutes=minutes), price))
        moment += timedelta(minutes=minutes)
        index += 1
    return slots


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def hacs_nordpool(today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo) -> dict[str, Any]:
    # raw lists hold tz-aware datetime objects, as the HACS integration stores them.
    def raw(slots: Sequence[Slot]) -> list[dict[str, Any]]:
        return [{"start": local(s, tz), "end": local(e, tz), "value": p} for s, e, p in slots]

    return {
        "unit": "kWh",
        "currency": "SEK",
        "price_in_cents": False,
        "today": [p for _, _, p in today],
        "tomorrow": [p for _, _, p in tomorrow],
        "tomorrow_valid": bool(tomorrow),
        "raw_today": raw(today),
        "raw_tomorrow": raw(tomorrow),
    }


def build_hacs_nordpool(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    return PriceEntitySnapshot(
        entity_id="sensor.nordpool_kwh_se3_sek_3_10_025",
        state="1.0",
        platform="nordpool",
        attributes=hacs_nordpool(today, tomorrow, tz),
    )


def build_eds(today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo) -> PriceEntitySnapshot:
    return PriceEntitySnapshot(
        entity_id="sensor.energi_data_service",
        state="1.0",
        attributes={
            "unit": "kWh",
            "currency": "DKK",
            "use_cent": False,
            "tomorrow_valid": bool(tomorrow),
            "raw_today": [{"hour": local(s, tz), "price": p} for s, _, p in today],
            "raw_tomorrow": [{"hour": local(s, tz), "price": p} for s, _, p in tomorrow] or None,
        },
    )


def build_entsoe(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    def items(slots: Sequence[Slot]) -> list[dict[str, Any]]:
        return [{"time": str(local(s, tz)), "price": p} for s, _, p in slots]

    return PriceEntitySnapshot(
        entity_id="sensor.average_electricity_price",
        state="1.0",
        attributes={
            "unit_of_measurement": "€/kWh",
            "prices_today": items(today),
            "prices_tomorrow": items(tomorrow),
            "prices": items([*today, *tomorrow]),
        },
    )


def build_entsoe_combined(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    return PriceEntitySnapshot(
        entity_id="sensor.average_electricity_price",
        state="1.0",
        attributes={
            "unit_of_measurement": "€/kWh",
            "prices": [{"time": str(local(s, tz)), "price": p} for s, _, p in [*today, *tomorrow]],
        },
    )


def build_ge_spot(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    return PriceEntitySnapshot(
        entity_id="sensor.gespot_current_price_se3",
        state="1.0",
        attributes={
            "unit_of_measurement": "SEK/kWh",
            "currency": "SEK",
            "today_interval_prices": [{"time": local(s, tz), "value": p} for s, _, p in today],
            "tomorrow_interval_prices": [
                {"time": local(s, tz), "value": p} for s, _, p in tomorrow
            ],
        },
    )


def build_octopus(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    def rates(slots: Sequence[Slot]) -> list[dict[str, Any]]:
        return [
            {"start": local(s, tz), "end": local(e, tz), "value_inc_vat": p, "is_capped": False}
            for s, e, p in slots
        ]

    next_day = PriceEntitySnapshot(
        entity_id="event.octopus_energy_electricity_x_y_next_day_rates",
        state="2025-01-01T16:00:00+00:00",
        attributes={"rates": rates(tomorrow)},
    )
    return PriceEntitySnapshot(
        entity_id="event.octopus_energy_electricity_x_y_current_day_rates",
        state="2025-01-01T16:00:00+00:00",
        attributes={"rates": rates(today), "tariff_code": "E-1R-AGILE-24-10-01-C"},
        related=(next_day,),
    )


def build_generic(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    return PriceEntitySnapshot(
        entity_id="sensor.template_prices",
        state="1.0",
        attributes={
            "unit_of_measurement": "EUR/kWh",
            "data": [
                {"start_time": local(s, tz).isoformat(), "price": p}
                for s, _, p in [*today, *tomorrow]
            ],
        },
    )


def build_nordpool_core(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    def response(slots: Sequence[Slot]) -> ActionResponse:
        items = [
            {"start": s.isoformat(), "end": e.isoformat(), "price": round(p * 1000, 6)}
            for s, e, p in slots
        ]
        return ActionResponse(ACTION_NORDPOOL_PRICES, {"SE3": items})

    return PriceEntitySnapshot(
        entity_id="sensor.nord_pool_se3_current_price",
        state="1.0",
        platform="nordpool",
        attributes={"unit_of_measurement": "SEK/kWh"},
        action_responses=(response(today), response(tomorrow)),
    )


def build_tibber(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    items = [
        {"start_time": local(s, tz).isoformat(timespec="milliseconds"), "price": p}
        for s, _, p in [*today, *tomorrow]
    ]
    return PriceEntitySnapshot(
        entity_id="sensor.electricity_price_my_home",
        state="1.0",
        platform="tibber",
        attributes={"unit_of_measurement": "SEK/kWh"},
        action_responses=(ActionResponse(ACTION_TIBBER_PRICES, {"prices": {"My Home": items}}),),
    )


def build_entsoe_action(
    today: Sequence[Slot], tomorrow: Sequence[Slot], tz: ZoneInfo
) -> PriceEntitySnapshot:
    items = [{"timestamp": local(s, tz).isoformat(), "price": p} for s, _, p in [*today, *tomorrow]]
    return PriceEntitySnapshot(
        entity_id="sensor.current_electricity_market_price",
        state="1.0",
        platform="entsoe",
        attributes={"unit_of_measurement": "€/kWh"},
        action_responses=(ActionResponse(ACTION_ENTSOE_PRICES, {"prices": items}),),
    )


Builder = Callable[[Sequence[Slot], Sequence[Slot], ZoneInfo], PriceEntitySnapshot]
BUILDERS: dict[str, tuple[Builder, PriceFormat]] = {
    "hacs_nordpool": (build_hacs_nordpool, PriceFormat.NORDPOOL_HACS),
    "nordpool_core": (build_nordpool_core, PriceFormat.NORDPOOL_CORE),
    "energi_data_service": (build_eds, PriceFormat.ENERGI_DATA_SERVICE),
    "entsoe": (build_entsoe, PriceFormat.ENTSOE),
    "entsoe_combined": (build_entsoe_combined, PriceFormat.ENTSOE),
    "entsoe_action": (build_entsoe_action, PriceFormat.ENTSOE),
    "tibber": (build_tibber, PriceFormat.TIBBER),
    "octopus": (build_octopus, PriceFormat.OCTOPUS_ENERGY),
    "ge_spot": (build_ge_spot, PriceFormat.GE_SPOT),
    "generic": (build_generic, PriceFormat.GENERIC),
}


def read(snapshot: PriceEntitySnapshot, now: datetime, tz: tzinfo = STOCKHOLM) -> PriceReadResult:
    return normalise_prices(snapshot, tz, now)


def as_tuples(series: PriceSeries) -> list[Slot]:
    return [(s.start, s.end, s.price_per_kwh) for s in series.slots]


def assert_same_slots(series: PriceSeries, expected: Sequence[Slot]) -> None:
    got = as_tuples(series)
    assert [(s, e) for s, e, _ in got] == [(s, e) for s, e, _ in expected]
    assert [p for _, _, p in got] == pytest.approx([p for _, _, p in expected], abs=1e-9)


WARSAW = ZoneInfo("Europe/Warsaw")
CLOCK_CHANGE_DAYS = [FALL_DAY, SPRING_DAY]


def real_slots(day: date, tz: tzinfo, minutes: int, first_price: float) -> list[Slot]:
    """The market's slots of one local day, in UTC, each with its own price."""
    start, end = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    slots: list[Slot] = []
    while start < end:
        slots.append((start, start + timedelta(minutes=minutes), round(first_price, 4)))
        start += timedelta(minutes=minutes)
        first_price += 0.0123
    return slots


def wall_clock(moment: datetime, tz: ZoneInfo) -> datetime:
    """How an integration that rebuilds times from "HH:MM" writes `moment`: fold 0 always."""
    local = moment.astimezone(tz)
    return datetime(local.year, local.month, local.day, local.hour, local.minute, tzinfo=tz)


def assert_reads_exactly(result: PriceReadResult, expected: Sequence[Slot]) -> None:
    assert result.status is PriceStatus.OK, result.message
    assert result.series is not None
    got = [(s.start, s.end, s.price_per_kwh) for s in result.series.slots]
    assert [(s, e) for s, e, _ in got] == [(s, e) for s, e, _ in expected]
    assert [p for *_, p in got] == pytest.approx([p for *_, p in expected])
    assert result.series.gaps == ()


# --------------------------------------------------------------------------------------------
# GE-Spot: sensor/base.py (v1.5): {"time": datetime(y, m, d, hh, mm, tzinfo=HA zone), "value"}


def ge_spot(today: Sequence[Slot], tomorrow: Sequence[Slot]) -> PriceEntitySnapshot:
    def items(slots: Sequence[Slot]) -> list[dict[str, Any]]:
        return [{"time": wall_clock(s, STOCKHOLM), "value": round(p, 4)} for s, _, p in slots]

    return PriceEntitySnapshot(
        entity_id="sensor.gespot_current_price_se3",
        state=str(today[0][2]),
        platform="ge_spot",
        attributes={
            "currency": "SEK",
            "area": "SE3",
            "vat": "0.0%",
            "display_unit": "decimal",
            "use_subunit": False,
            "unit_of_measurement": "SEK/kWh",
            "today_interval_prices": items(today),
            "tomorrow_interval_prices": items(tomorrow),
        },
    )


# --------------------------------------------------------------------------------------------
# Pstryk: update_coordinator.py at c574ab8 writes "start" as a naive local time; sensor.py at
# e58de5c publishes today's list under the translated "All prices" attribute. The JSON sensor
# publishes prices_today/prices_tomorrow as {"start", "price"} with the wall-clock offset.


def pstryk_main(today: Sequence[Slot]) -> PriceEntitySnapshot:
    items = [
        {"start": s.astimezone(WARSAW).strftime("%Y-%m-%dT%H:%M:%S"), "price": p}
        for s, _, p in today
    ]
    ranked = sorted(items, key=lambda item: item["price"])
    return PriceEntitySnapshot(
        entity_id="sensor.pstryk_current_buy_price",
        state=str(today[0][2]),
        platform="pstryk",
        attributes={
            "unit_of_measurement": "PLN/kWh",
            "Next hour": today[1][2],
            "All prices": items,
            "Best prices": ranked[:5],
            "Worst prices": ranked[-5:],
            "Price count": len(items),
            "Tomorrow prices available": False,
        },
    )


def pstryk_json(today: Sequence[Slot], tomorrow: Sequence[Slot]) -> PriceEntitySnapshot:
    def items(slots: Sequence[Slot]) -> list[dict[str, Any]]:
        return [{"start": wall_clock(s, WARSAW).isoformat(), "price": p} for s, _, p in slots]

    return PriceEntitySnapshot(
        entity_id="sensor.pstryk_prices",
        state="ok",
        attributes={
            "unit_of_measurement": "PLN/kWh",
            "prices_today": items(today),
            "prices_tomorrow": items(tomorrow),
        },
    )


# --------------------------------------------------------------------------------------------
# Entso-e: api_client.py at d190439 times every point from the period start's offset
# (`.astimezone()`), coordinator.py at 557010f splits by `k.date()` and publishes str(k).


def entsoe_keys(days: Sequence[date], tz: ZoneInfo) -> list[datetime]:
    keys: list[datetime] = []
    for day in days:
        start = local_midnight(day, tz).astimezone(tz)
        fixed = start.astimezone(timezone(start.utcoffset() or timedelta()))
        hours = int(
            (local_midnight(day + timedelta(days=1), tz) - local_midnight(day, tz)).total_seconds()
        )
        keys += [fixed + timedelta(hours=hour) for hour in range(hours // 3600)]
    return keys


def entsoe_average_sensor(today: date, prices: dict[datetime, float]) -> PriceEntitySnapshot:
    def items(keys: Sequence[datetime]) -> list[dict[str, Any]]:
        return [{"time": str(key), "price": prices[key]} for key in keys]

    day_start = datetime.combine(today, time(0), tzinfo=STOCKHOLM)
    return PriceEntitySnapshot(
        entity_id="sensor.average_electricity_price_today",
        state="0.1",
        platform="entsoe",
        attributes={
            "unit_of_measurement": "€/kWh",
            "prices_today": items([k for k in prices if k.date() == today]),
            "prices_tomorrow": items([k for k in prices if k.date() == today + timedelta(1)]),
            "prices": items([k for k in prices if k >= day_start]),
        },
    )


def with_changes(snapshot: PriceEntitySnapshot, **changes: Any) -> PriceEntitySnapshot:
    """The snapshot with other attributes (merged) or fields."""
    attributes = dict(snapshot.attributes) | changes.pop("attributes", {})
    return dataclasses.replace(snapshot, attributes=attributes, **changes)
