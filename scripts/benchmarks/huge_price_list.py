"""Reading a price entity with 100,000 quarter-hour slots (about 1,040 days) on every update.

The entity is a HACS nordpool sensor whose `raw_today` holds every slot from local midnight on
(as a misbehaving integration or template could publish), once with datetime objects (as the
integration writes them) and once with ISO strings (a template sensor). Prints, per update: the
time to read
and normalise the entity, to apply a tariff with export prices from the same entity, and to build
the price sensor's `prices` attribute, and the size of that attribute as JSON. These all run in
Home Assistant's event loop.
"""

from datetime import UTC, datetime, time, timedelta
import json
import time as wall_time
from zoneinfo import ZoneInfo

from custom_components.ev_flex.core.prices import PriceEntitySnapshot, normalise_prices
from custom_components.ev_flex.core.tariff import (
    ExportKind,
    ExportTariff,
    Tariff,
    apply_tariff,
    chart_slots,
)

TZ = ZoneInfo("Europe/Stockholm")
SLOTS = 100_000
NOW = datetime(2025, 10, 7, 9, 5, tzinfo=TZ)


def snapshot(as_text: bool) -> PriceEntitySnapshot:
    start = datetime.combine(NOW.date(), time(0), tzinfo=TZ).astimezone(UTC)
    quarter = timedelta(minutes=15)

    def moment(n: int) -> datetime | str:
        local = (start + n * quarter).astimezone(TZ)
        return local.isoformat() if as_text else local

    raw = [
        {"start": moment(n), "end": moment(n + 1), "value": round(0.5 + (n % 96) / 100, 3)}
        for n in range(SLOTS)
    ]
    return PriceEntitySnapshot(
        entity_id="sensor.nordpool_kwh_se3_sek_3_10_025",
        state="0.5",
        attributes={"unit": "kWh", "currency": "SEK", "raw_today": raw, "raw_tomorrow": []},
    )


def run(as_text: bool) -> None:
    entity = snapshot(as_text)
    tariff = Tariff(export_tariff=ExportTariff(kind=ExportKind.ENTITY, entity_id=entity.entity_id))

    began = wall_time.perf_counter()
    result = normalise_prices(entity, TZ, NOW)
    read = wall_time.perf_counter() - began
    assert result.series is not None, result.message

    began = wall_time.perf_counter()
    priced = apply_tariff(result.series, tariff, TZ, result.series)
    priced_time = wall_time.perf_counter() - began

    began = wall_time.perf_counter()
    attribute = [
        {
            "start": slot.start.astimezone(TZ).isoformat(),
            "end": slot.end.astimezone(TZ).isoformat(),
            "price": round(slot.import_price, 5),
            "spot": round(slot.spot, 5),
        }
        for slot in chart_slots(priced, NOW, TZ)
    ]
    size = len(json.dumps(attribute))
    attribute_time = wall_time.perf_counter() - began

    print(f"entity slots: {SLOTS} ({'ISO strings' if as_text else 'datetime objects'})")
    print(f"slots kept: {len(result.series.slots)}")
    print(f"read and normalise: {read:.3f} s")
    print(f"tariff with export from the entity: {priced_time:.3f} s")
    print(f"prices attribute: {len(attribute)} slots, {size / 1000:.1f} kB, {attribute_time:.3f} s")


def main() -> None:
    run(as_text=False)
    run(as_text=True)


if __name__ == "__main__":
    main()
