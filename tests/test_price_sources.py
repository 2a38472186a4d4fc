"""Price integrations as they really are, through Home Assistant: registry, states and actions.

Each price integration's entity gets the registry entry its own code creates (platform and
unique-id scheme), the state its sensor writes, and response-only actions answer like the real
ones, around both clock changes.
"""

from datetime import UTC, date, datetime, time, timedelta
import json
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.prices import PriceStatus
from custom_components.ev_flex.price_source import CONF_PRICE_ENTITY

from .core.price_shapes import (
    FALL_DAY,
    PLAIN_DAY,
    SPRING_DAY,
    entsoe_keys,
    ge_spot,
    pstryk_main,
    real_slots,
)
from .prices_common import (
    EXPORT_SENSOR,
    HACS_NORDPOOL,
    IMPORT_SENSOR,
    PriceAction,
    effective_import,
    registry_entity,
    set_hacs_nordpool,
    setup_with,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
CET = ZoneInfo("Europe/Oslo")


@pytest.fixture
def platforms() -> list[Platform]:
    """The sensor platform only."""
    return [Platform.SENSOR]


def import_price(hass: HomeAssistant) -> float:
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    return float(state.state)


def prices_status(entry: MockConfigEntry) -> PriceStatus:
    status: PriceStatus = entry.runtime_data.prices.status
    return status


# --------------------------------------------------------------------------------------------
# Core Nord Pool (home-assistant/core nordpool/services.py at 077feb1): one delivery day (CET) per
# call, answered per area as UTC ISO start/end and a price per MWh; an unpublished day raises.


def nord_pool_market(first_day: date, days: int) -> dict[date, list[tuple[datetime, datetime]]]:
    """Delivery days in CET with their quarter-hours, in UTC."""
    return {
        day: [(s, e) for s, e, _ in real_slots(day, CET, 15, 0.0)]
        for day in (first_day + timedelta(days=n) for n in range(days))
    }


def mwh_price(start: datetime) -> float:
    """A price per MWh that differs in every quarter-hour of the year."""
    return round(20.0 + (start.timestamp() // 900) % 1000 / 10, 2)


@pytest.mark.parametrize("day", [PLAIN_DAY, FALL_DAY, SPRING_DAY])
async def test_nordpool_core_east_of_cet_asks_every_delivery_day(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    day: date,
) -> None:
    """In Helsinki the local day starts at 23:00 CET the day before: that delivery day is asked."""
    freezer.move_to(datetime.combine(day, time(0, 20), tzinfo=HELSINKI))
    entity_id, nordpool_entry = registry_entity(
        hass, "nordpool", "FI-current_price", "nord_pool_fi_current_price"
    )
    market = nord_pool_market(day - timedelta(days=1), 3)

    def respond(data: Any) -> dict[str, Any]:
        # The real action's schema (cv.date) turns the text into a date.
        asked = date.fromisoformat(str(data["date"]))
        if asked not in market:
            raise HomeAssistantError("No prices for that date")
        return {
            "FI": [
                {"start": s.isoformat(), "end": e.isoformat(), "price": mwh_price(s)}
                for s, e in market[asked]
            ]
        }

    action = PriceAction(hass, "nordpool.get_prices_for_date", respond)
    hass.states.async_set(entity_id, "0.05", {"unit_of_measurement": "EUR/kWh"})
    entry = await setup_with(hass, simulator_entry, entity_id, time_zone="Europe/Helsinki")

    assert [str(c["date"]) for c in action.calls] == [
        str(day + timedelta(days=n)) for n in (-1, 0, 1)
    ]
    assert {c["config_entry"] for c in action.calls} == {nordpool_entry.entry_id}
    now = datetime.combine(day, time(0, 20), tzinfo=HELSINKI)
    quarter = now.astimezone(UTC).replace(minute=15)
    assert import_price(hass) == pytest.approx(effective_import(mwh_price(quarter) / 1000))
    assert prices_status(entry) is PriceStatus.OK
    series = entry.runtime_data.prices.data.series
    assert series.start <= datetime.combine(day, time(0), tzinfo=HELSINKI)
    assert series.end >= datetime.combine(day + timedelta(days=2), time(0), tzinfo=HELSINKI)
    assert series.gaps == ()


async def test_nordpool_core_unpublished_next_delivery_day_keeps_the_others(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Before tomorrow's auction its delivery day fails; it is asked again until it answers.

    Today's delivery day already reaches 01:00 tomorrow in Helsinki, which must not count as
    having tomorrow's prices.
    """
    freezer.move_to(datetime.combine(PLAIN_DAY, time(9), tzinfo=HELSINKI))
    entity_id, _ = registry_entity(hass, "nordpool", "FI-current_price", "np_fi")
    market = nord_pool_market(PLAIN_DAY - timedelta(days=1), 3)
    published = {PLAIN_DAY - timedelta(days=1), PLAIN_DAY}

    def respond(data: Any) -> dict[str, Any]:
        asked = date.fromisoformat(str(data["date"]))
        if asked not in published:
            raise HomeAssistantError("No prices for that date")
        items = [
            {"start": s.isoformat(), "end": e.isoformat(), "price": 50} for s, e in market[asked]
        ]
        return {"FI": items}

    action = PriceAction(hass, "nordpool.get_prices_for_date", respond)
    hass.states.async_set(entity_id, "0.05")
    entry = await setup_with(hass, simulator_entry, entity_id, time_zone="Europe/Helsinki")

    series = entry.runtime_data.prices.data.series
    assert series.start <= datetime.combine(PLAIN_DAY, time(0), tzinfo=HELSINKI)
    assert series.end == datetime.combine(PLAIN_DAY + timedelta(days=1), time(0), tzinfo=CET)
    assert series.ends_early
    assert len(action.calls) == 3

    published.add(PLAIN_DAY + timedelta(days=1))
    freezer.move_to(datetime.combine(PLAIN_DAY, time(13, 5), tzinfo=HELSINKI))
    hass.states.async_set(entity_id, "0.06")
    await hass.async_block_till_done()
    assert len(action.calls) == 6
    assert not entry.runtime_data.prices.data.series.ends_early


# --------------------------------------------------------------------------------------------
# Entso-e (JaccoR/hass-entso-e): services.py at 15b0050 and coordinator.py at 557010f. The
# action answers from the coordinator's cache when both the start and the end date have more than
# 20 labelled hours; otherwise it fetches from ENTSO-e.


class EntsoeCache:
    """The Entso-e coordinator's data around a day, labelled as its API client labels them."""

    def __init__(self, today: date) -> None:
        days = [today - timedelta(days=1), today, today + timedelta(days=1)]
        self.data = {
            key: round(0.05 + n * 0.001, 5) for n, key in enumerate(entsoe_keys(days, STOCKHOLM))
        }
        self.network_fetches = 0

    def respond(self, data: Any) -> dict[str, Any]:
        start = datetime.fromisoformat(data["start"])
        end = datetime.fromisoformat(data["end"])

        def labelled(day: date) -> int:
            return sum(1 for key in self.data if key.date() == day)

        if labelled(start.date()) <= 20 or labelled(end.date()) <= 20:
            self.network_fetches += 1
        return {
            "prices": [
                {"timestamp": key.isoformat(), "price": price}
                for key, price in self.data.items()
                if start.date() <= key.date() <= end.date()
            ]
        }


@pytest.mark.parametrize(
    "today", [PLAIN_DAY, FALL_DAY - timedelta(days=1), FALL_DAY, SPRING_DAY - timedelta(days=1)]
)
async def test_entsoe_action_asks_whole_cached_days(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    today: date,
) -> None:
    """Today and tomorrow come from the cache; a 25-hour tomorrow includes its last hour."""
    freezer.move_to(datetime.combine(today, time(15, 5), tzinfo=STOCKHOLM))
    entity_id, _ = registry_entity(
        hass, "entsoe", "entsoe.current_price", "current_electricity_market_price"
    )
    cache = EntsoeCache(today)
    action = PriceAction(hass, "entsoe.get_energy_prices", cache.respond)
    hass.states.async_set(entity_id, "0.1", {"unit_of_measurement": "EUR/kWh"})
    entry = await setup_with(hass, simulator_entry, entity_id)

    assert len(action.calls) == 1
    series = entry.runtime_data.prices.data.series
    assert prices_status(entry) is PriceStatus.OK
    assert series.end == datetime.combine(today + timedelta(days=2), time(0), tzinfo=STOCKHOLM)
    assert series.gaps == ()
    # Only the eve of the 25-hour day needs the day after, which the cache cannot answer.
    assert cache.network_fetches == (1 if today == FALL_DAY - timedelta(days=1) else 0)


async def test_entsoe_action_failure_reads_the_average_sensor(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A failing action: the lists of the same entry's average-price sensor are read instead."""
    freezer.move_to(datetime.combine(PLAIN_DAY, time(15, 5), tzinfo=STOCKHOLM))
    entity_id, entsoe_entry = registry_entity(
        hass, "entsoe", "entsoe.current_price", "current_electricity_market_price"
    )
    registry = er.async_get(hass)
    # A sibling without lists comes first and is passed over.
    lowest = registry.async_get_or_create(
        "sensor", "entsoe", "entsoe.min_price", config_entry=entsoe_entry
    )
    hass.states.async_set(lowest.entity_id, "0.02", {"unit_of_measurement": "EUR/kWh"})
    average = registry.async_get_or_create(
        "sensor",
        "entsoe",
        "entsoe.avg_price",
        suggested_object_id="average_electricity_price",
        config_entry=entsoe_entry,
    )
    cache = EntsoeCache(PLAIN_DAY)
    day_start = datetime.combine(PLAIN_DAY, time(0), tzinfo=STOCKHOLM)

    def items(keys: list[datetime]) -> list[dict[str, Any]]:
        return [{"time": str(key), "price": cache.data[key]} for key in keys]

    hass.states.async_set(
        average.entity_id,
        "0.1",
        {
            "unit_of_measurement": "EUR/kWh",
            "prices_today": items([k for k in cache.data if k.date() == PLAIN_DAY]),
            "prices_tomorrow": items([k for k in cache.data if k.date() > PLAIN_DAY]),
            "prices": items([k for k in cache.data if k >= day_start]),
        },
    )

    def broken(data: Any) -> dict[str, Any]:
        raise HomeAssistantError("ENTSO-e API unreachable")

    PriceAction(hass, "entsoe.get_energy_prices", broken)
    hass.states.async_set(entity_id, "0.1", {"unit_of_measurement": "EUR/kWh"})
    entry = await setup_with(hass, simulator_entry, entity_id)

    assert prices_status(entry) is PriceStatus.OK
    now_key = datetime.combine(PLAIN_DAY, time(15), tzinfo=STOCKHOLM)
    assert import_price(hass) == pytest.approx(effective_import(cache.data[now_key]))
    assert not [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN]


# --------------------------------------------------------------------------------------------
# Attribute sources whose repeated autumn hour comes twice with the same offset


@pytest.mark.parametrize(
    ("platform", "unique_id", "time_zone"),
    [
        # GE-Spot's unique ids (sensor/base.py): gespot_{sensor_type}_{area}.
        ("ge_spot", "gespot_current_price_se3", "Europe/Stockholm"),
        # Pstryk's unique ids (sensor.py): pstryk_{price_type}_price.
        ("pstryk", "pstryk_buy_price", "Europe/Warsaw"),
    ],
)
async def test_second_pass_of_the_autumn_hour(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    platform: str,
    unique_id: str,
    time_zone: str,
) -> None:
    """At 02:30 on the second pass EV Flex shows the second pass's price, not an error.

    GE-Spot's times carry the first pass's offset; Pstryk's main sensor has no offset at all.
    """
    second_pass = datetime(2025, 10, 26, 1, 30, tzinfo=UTC)
    freezer.move_to(second_pass)
    entity_id, _ = registry_entity(hass, platform, unique_id, unique_id)
    zone = ZoneInfo(time_zone)
    today = real_slots(FALL_DAY, zone, 15 if platform == "ge_spot" else 60, 0.3)
    if platform == "ge_spot":
        built = ge_spot(today, real_slots(FALL_DAY + timedelta(days=1), zone, 15, 1.1))
    else:
        built = pstryk_main(today)
    hass.states.async_set(entity_id, built.state, dict(built.attributes))
    entry = await setup_with(hass, simulator_entry, entity_id, time_zone=time_zone)

    assert prices_status(entry) in (PriceStatus.OK, PriceStatus.AWAITING)
    price = next(p for s, e, p in today if s <= second_pass < e)
    assert import_price(hass) == pytest.approx(effective_import(price))
    assert not [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN]
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    assert state.attributes["source_format"] == platform


# --------------------------------------------------------------------------------------------
# Huge price lists and bursts of changes


async def test_huge_price_list_is_capped(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """100,000 quarter-hours: 14 days are read, and the attribute holds today and tomorrow."""
    now = datetime.combine(PLAIN_DAY, time(9, 5), tzinfo=STOCKHOLM)
    freezer.move_to(now)
    start = datetime.combine(PLAIN_DAY, time(0), tzinfo=STOCKHOLM).astimezone(UTC)
    quarter = timedelta(minutes=15)
    raw = [
        {
            "start": (start + n * quarter).astimezone(STOCKHOLM),
            "end": (start + (n + 1) * quarter).astimezone(STOCKHOLM),
            "value": round(0.5 + (n % 96) / 100, 3),
        }
        for n in range(100_000)
    ]
    hass.states.async_set(
        HACS_NORDPOOL,
        "0.5",
        {"unit": "kWh", "currency": "SEK", "raw_today": raw, "raw_tomorrow": []},
    )
    entry = await setup_with(hass, simulator_entry, HACS_NORDPOOL)

    series = entry.runtime_data.prices.data.series
    assert prices_status(entry) is PriceStatus.OK
    assert series.start == start
    assert series.end == now + timedelta(days=14, minutes=10)
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    shown = state.attributes["prices"]
    assert len(shown) == 2 * 96
    assert shown[0]["start"] == "2025-10-07T00:00:00+02:00"
    assert shown[-1]["end"] == "2025-10-09T00:00:00+02:00"
    assert len(json.dumps(shown)) < 30_000


async def test_a_burst_of_price_changes_is_read_once(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Twenty state changes in a row make one read, of the last state."""
    freezer.move_to(datetime.combine(PLAIN_DAY, time(9, 5), tzinfo=STOCKHOLM))
    today = real_slots(PLAIN_DAY, STOCKHOLM, 15, 0.3)
    set_hacs_nordpool(hass, today)
    entry = await setup_with(hass, simulator_entry, HACS_NORDPOOL)
    coordinator = entry.runtime_data.prices
    updates: list[float | None] = []
    entry.async_on_unload(
        coordinator.async_add_listener(
            lambda: updates.append(coordinator.data.series.slots[0].price_per_kwh)
        )
    )

    for step in range(20):
        set_hacs_nordpool(hass, [(s, e, p + step) for s, e, p in today])
    await hass.async_block_till_done()

    assert updates == [pytest.approx(today[0][2] + 19)]

    set_hacs_nordpool(hass, today)
    await hass.async_block_till_done()
    assert updates[-1] == pytest.approx(today[0][2])
    assert len(updates) == 2


# --------------------------------------------------------------------------------------------
# Amber Electric (core amberelectric: sensor.py at 016cbe4, services.py at 058a67d)

SYDNEY = ZoneInfo("Australia/Sydney")


def amber_interval(start: datetime, per_kwh: float) -> dict[str, Any]:
    """One interval as Amber's sensors and action write it (start one second past the boundary)."""
    end = start + timedelta(minutes=30)
    return {
        "duration": 30,
        "date": start.astimezone(SYDNEY).date().isoformat(),
        "nem_date": end.astimezone(ZoneInfo("Australia/Brisbane")).isoformat(),
        "per_kwh": per_kwh,
        "spot_per_kwh": round(per_kwh / 3, 5),
        "start_time": (start + timedelta(seconds=1)).isoformat(),
        "end_time": end.isoformat(),
        "renewables": 40,
        "spike_status": "none",
        "descriptor": "low",
    }


@pytest.mark.parametrize("channel", ["general", "feed_in"])
async def test_amber_current_sensor_with_forecasts_action(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    channel: str,
) -> None:
    """The current interval from the sensor, the rest from amberelectric.get_forecasts."""
    now = datetime(2025, 10, 7, 10, 5, tzinfo=SYDNEY)
    freezer.move_to(now)
    current_start = datetime(2025, 10, 7, 10, 0, tzinfo=SYDNEY).astimezone(UTC)
    # Amber's unique ids: "<site id>-<key>-<channel>".
    entity_id, amber_entry = registry_entity(
        hass, "amberelectric", f"01FG0AGP818PXK0DWHXJRRT2DH-current-{channel}", "home_price"
    )
    forecasts = [
        amber_interval(current_start + n * timedelta(minutes=30), round(0.2 + n / 1000, 4))
        for n in range(1, 48)
    ]

    def respond(data: Any) -> dict[str, Any]:
        assert set(data) == {"site_id", "channel_type"}
        return {"forecasts": forecasts}

    action = PriceAction(hass, "amberelectric.get_forecasts", respond)
    current = amber_interval(current_start, 0.25)
    hass.states.async_set(
        entity_id,
        "0.25",
        {**current, "estimate": False, "channel_type": channel, "unit_of_measurement": "$/kWh"},
    )
    entry = await setup_with(hass, simulator_entry, entity_id, time_zone="Australia/Sydney")

    assert action.calls == [{"site_id": amber_entry.entry_id, "channel_type": channel}]
    assert import_price(hass) == pytest.approx(effective_import(0.25))
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    assert state.attributes["unit_of_measurement"] == "AUD/kWh"
    series = entry.runtime_data.prices.data.series
    assert series.gaps == ()
    assert series.start == current_start
    assert series.end == current_start + timedelta(hours=24)
    assert series.includes_vat is True


async def test_amber_forecast_sensor_before_its_first_forecasts(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Without forecasts the sensor has no attributes: its unique id names the channel."""
    freezer.move_to(datetime(2025, 10, 7, 10, 5, tzinfo=SYDNEY))
    entity_id, amber_entry = registry_entity(
        hass, "amberelectric", "01FG0AGP818PXK0DWHXJRRT2DH-forecasts-feed_in", "home_feed_in"
    )
    action = PriceAction(hass, "amberelectric.get_forecasts", lambda data: {"forecasts": []})
    hass.states.async_set(entity_id, "unknown")
    entry = await setup_with(hass, simulator_entry, entity_id, time_zone="Australia/Sydney")

    assert action.calls == [{"site_id": amber_entry.entry_id, "channel_type": "feed_in"}]
    assert prices_status(entry) is PriceStatus.NO_PRICES


# --------------------------------------------------------------------------------------------
# EnergyZero (core energyzero, services.py at 0b87a2a) and easyEnergy (core easyenergy,
# services.py at a95e0f3): the actions take whole dates (start and end are read as dates),
# incl_vat is required, and prices come back as str(datetime) in UTC.

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


class DutchPrices:
    """A response-only action answering whole Amsterdam dates like the real libraries."""

    def __init__(self, hass: HomeAssistant, action: str, minutes: int, first: float) -> None:
        self.minutes = minutes
        self.first = first
        self.handler = PriceAction(hass, action, self.respond)

    def slots(self, start: date, end: date) -> list[tuple[datetime, datetime, float]]:
        slots = []
        day = start
        while day <= end:
            slots += real_slots(day, AMSTERDAM, self.minutes, self.first)
            day += timedelta(days=1)
        return slots

    def respond(self, data: Any) -> dict[str, Any]:
        assert isinstance(data["incl_vat"], bool)
        start = datetime.fromisoformat(data["start"]).date()
        end = datetime.fromisoformat(data["end"]).date()
        return {"prices": [{"timestamp": str(s), "price": p} for s, _, p in self.slots(start, end)]}


@pytest.mark.parametrize("day", [PLAIN_DAY, FALL_DAY, SPRING_DAY])
async def test_energyzero_action(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    day: date,
) -> None:
    """Today and tomorrow without VAT, read on both clock-change days."""
    now = datetime.combine(day, time(15, 5), tzinfo=AMSTERDAM)
    freezer.move_to(now)
    entity_id, source = registry_entity(
        hass, "energyzero", "01JEZ_today_energy_current_hour_price", "current_electricity_price"
    )
    prices = DutchPrices(hass, "energyzero.get_energy_prices", 15, 0.05)
    hass.states.async_set(entity_id, "0.1", {"unit_of_measurement": "€/kWh"})
    entry = await setup_with(hass, simulator_entry, entity_id, time_zone="Europe/Amsterdam")

    assert prices.handler.calls == [
        {
            "config_entry": source.entry_id,
            "incl_vat": False,
            "start": datetime.combine(day, time(0), tzinfo=AMSTERDAM).isoformat(),
            "end": datetime.combine(day + timedelta(days=1), time(0), tzinfo=AMSTERDAM).isoformat(),
        }
    ]
    expected = prices.slots(day, day + timedelta(days=1))
    series = entry.runtime_data.prices.data.series
    assert [(s.start, s.end, s.price_per_kwh) for s in series.slots] == expected
    assert prices_status(entry) is PriceStatus.OK
    assert series.includes_vat is False
    spot = next(p for s, e, p in expected if s <= now < e)
    assert import_price(hass) == pytest.approx(effective_import(spot))


@pytest.mark.parametrize("day", [PLAIN_DAY, FALL_DAY, SPRING_DAY])
async def test_easyenergy_usage_and_return_prices(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    day: date,
) -> None:
    """The usage sensor is the import price; the return sensor's prices are the export price."""
    now = datetime.combine(day, time(15, 5), tzinfo=AMSTERDAM)
    freezer.move_to(now)
    source = MockConfigEntry(domain="easyenergy", title="easyEnergy")
    source.add_to_hass(hass)
    registry = er.async_get(hass)
    # easyEnergy's unique ids: "<entry id>_<service type>_<key>".
    usage, ret = (
        registry.async_get_or_create(
            "sensor",
            "easyenergy",
            f"{source.entry_id}_{kind}_current_hour_price",
            config_entry=source,
        ).entity_id
        for kind in ("today_energy_usage", "today_energy_return")
    )
    usage_prices = DutchPrices(hass, "easyenergy.get_energy_usage_prices", 60, 0.1)
    return_prices = DutchPrices(hass, "easyenergy.get_energy_return_prices", 60, 0.04)
    for entity_id in (usage, ret):
        hass.states.async_set(entity_id, "0.1", {"unit_of_measurement": "€/kWh"})
    entry = await setup_with(
        hass,
        simulator_entry,
        usage,
        time_zone="Europe/Amsterdam",
        tariff={"export": {"kind": "entity", "entity_id": ret}},
    )

    assert len(usage_prices.handler.calls) == 1
    assert len(return_prices.handler.calls) == 1
    slot = entry.runtime_data.prices.data.slot_at(now)
    hour = next(n for n, (s, e, _) in enumerate(usage_prices.slots(day, day)) if s <= now < e)
    assert slot.spot == pytest.approx(usage_prices.slots(day, day)[hour][2])
    assert slot.export_price == pytest.approx(return_prices.slots(day, day)[hour][2])
    export = hass.states.get(EXPORT_SENSOR)
    assert export is not None
    assert float(export.state) == pytest.approx(slot.export_price)


# --------------------------------------------------------------------------------------------
# Integrations without prices ahead


@pytest.mark.parametrize(
    ("platform", "unique_id", "name", "alternative"),
    [
        ("zonneplan_one", "zonneplan_electricity_current_price", "Zonneplan", "EnergyZero"),
        # The spotprices2ha package: a REST sensor of api.spot-hinta.fi's current price.
        ("rest", "spot_hinta_price_now", "Spot-hinta.fi", "Nord Pool"),
    ],
)
async def test_sources_without_prices_ahead_are_refused_with_a_way_out(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    platform: str,
    unique_id: str,
    name: str,
    alternative: str,
) -> None:
    """Choosing such a sensor names what it lacks and what to use instead."""
    entity = er.async_get(hass).async_get_or_create("sensor", platform, unique_id)
    hass.states.async_set(entity.entity_id, "0.31", {"unit_of_measurement": "€/kWh"})
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "price_source"}
    )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PRICE_ENTITY: entity.entity_id}
    )

    assert result["errors"] == {CONF_PRICE_ENTITY: "no_future_prices"}
    details = result["description_placeholders"]["details"]
    assert f"{name}, which publishes only the current price" in details
    assert alternative in details
