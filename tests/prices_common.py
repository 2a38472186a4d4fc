"""Price entities as the price integrations publish them, for the Home Assistant tests."""

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.price_source import CONF_PRICE_ENTITY, CONF_TARIFF

TZ_NAME = "Europe/Stockholm"
TZ = ZoneInfo(TZ_NAME)
# A Tuesday in October; 00:20 local is inside the second quarter-hour of the day.
TODAY = date(2025, 10, 7)
TOMORROW = TODAY + timedelta(days=1)
START = datetime(2025, 10, 7, 0, 20, tzinfo=TZ)

HACS_NORDPOOL = "sensor.nordpool_kwh_se3_sek_3_10_025"
IMPORT_SENSOR = "sensor.ev_flex_garage_import_price"
EXPORT_SENSOR = "sensor.ev_flex_garage_export_price"
BATTERY = "sensor.ev_flex_simulator_sedan_75_kwh_battery_level"

# Fixed costs 0.1, grid fee 0.2 (0.5 on weekdays 17:00-20:00), VAT 25 %.
TARIFF: dict[str, Any] = {
    "import": {
        "spot_multiplier": 1.0,
        "adders": [{"name": "fixed", "per_kwh": 0.1}],
        "grid_fees": {
            "default_per_kwh": 0.2,
            "periods": [
                {
                    "name": "Peak",
                    "per_kwh": 0.5,
                    "start": "17:00",
                    "end": "20:00",
                    "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                }
            ],
        },
        "vat_percent": 25.0,
    },
    "export": {"kind": "spot", "factor": 0.9, "fee_per_kwh": 0.05},
}

Slot = tuple[datetime, datetime, float]


def effective_import(spot: float, grid_fee: float = 0.2) -> float:
    """What TARIFF makes of a spot price."""
    return (spot + 0.1 + grid_fee) * 1.25


def spot_export(spot: float) -> float:
    """What TARIFF's export (spot x 0.9 - 0.05) makes of a spot price."""
    return spot * 0.9 - 0.05


def day_slots(day: date, minutes: int = 15, base: float = 0.5) -> list[Slot]:
    """Slots over one local day with a different price in each."""
    start = datetime.combine(day, time(0), tzinfo=TZ)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=TZ)
    slots: list[Slot] = []
    moment = start
    index = 0
    while moment < end:
        after = (moment.astimezone(ZoneInfo("UTC")) + timedelta(minutes=minutes)).astimezone(TZ)
        slots.append((moment, after, round(base + index * 0.01, 4)))
        moment = after
        index += 1
    return slots


def price_at(slots: list[Slot], moment: datetime) -> float:
    """The price of the slot containing `moment`."""
    return next(price for start, end, price in slots if start <= moment < end)


def hacs_nordpool_attributes(today: list[Slot], tomorrow: list[Slot]) -> dict[str, Any]:
    """The attributes of the HACS nordpool sensor (ISO strings in the raw lists)."""

    def raw(slots: list[Slot]) -> list[dict[str, Any]]:
        return [
            {"start": start.isoformat(), "end": end.isoformat(), "value": price}
            for start, end, price in slots
        ]

    return {
        "unit": "kWh",
        "currency": "SEK",
        "price_in_cents": False,
        "unit_of_measurement": "SEK/kWh",
        "tomorrow_valid": bool(tomorrow),
        "raw_today": raw(today),
        "raw_tomorrow": raw(tomorrow),
    }


def set_hacs_nordpool(
    hass: HomeAssistant,
    today: list[Slot],
    tomorrow: list[Slot] | None = None,
    entity_id: str = HACS_NORDPOOL,
) -> None:
    """Publish a HACS nordpool state, as the integration does on each update."""
    hass.states.async_set(
        entity_id, str(today[0][2]), hacs_nordpool_attributes(today, tomorrow or [])
    )


def action_items(
    slots: list[Slot],
    start_key: str,
    price_key: str,
    *,
    end_key: str | None = None,
    scale: float = 1.0,
) -> list[dict[str, Any]]:
    """Slots as an action lists them: UTC ISO times, optional end, prices scaled."""
    items: list[dict[str, Any]] = []
    for start, end, price in slots:
        item: dict[str, Any] = {
            start_key: start.astimezone(ZoneInfo("UTC")).isoformat(),
            price_key: round(price * scale, 6),
        }
        if end_key is not None:
            item[end_key] = end.astimezone(ZoneInfo("UTC")).isoformat()
        items.append(item)
    return items


class PriceAction:
    """A response-only action registered in Home Assistant, answering from a script."""

    def __init__(self, hass: HomeAssistant, action: str, respond: Any) -> None:
        self.calls: list[dict[str, Any]] = []
        self.respond = respond
        domain, _, service = action.partition(".")

        async def handle(call: ServiceCall) -> ServiceResponse:
            self.calls.append(dict(call.data))
            return self.respond(call.data)  # type: ignore[no-any-return]

        hass.services.async_register(
            domain, service, handle, supports_response=SupportsResponse.ONLY
        )


def registry_entity(
    hass: HomeAssistant, platform: str, unique_id: str, object_id: str
) -> tuple[str, MockConfigEntry]:
    """A price integration's config entry and its entity's registry entry."""
    source_entry = MockConfigEntry(domain=platform, title=platform)
    source_entry.add_to_hass(hass)
    entity = er.async_get(hass).async_get_or_create(
        "sensor", platform, unique_id, suggested_object_id=object_id, config_entry=source_entry
    )
    return entity.entity_id, source_entry


async def setup_with(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    entity_id: str,
    time_zone: str = TZ_NAME,
    tariff: dict[str, Any] = TARIFF,
) -> MockConfigEntry:
    """The simulated account following `entity_id` with `tariff`, in `time_zone`."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={CONF_PRICE_ENTITY: entity_id, CONF_TARIFF: tariff},
    )
    await hass.config.async_set_time_zone(time_zone)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
