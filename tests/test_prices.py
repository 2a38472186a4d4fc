"""The price source in Home Assistant: price entities, actions, timers, sensors and repairs."""

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder.db_schema import StateAttributes
from homeassistant.const import (
    EVENT_HOMEASSISTANT_STARTED,
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import (
    CoreState,
    Event,
    HomeAssistant,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.translation import async_get_translations, async_load_integrations
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex import async_remove_config_entry_device
from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.plan_request import current_slots
from custom_components.ev_flex.core.prices import PriceStatus
from custom_components.ev_flex.diagnostics import async_get_config_entry_diagnostics
from custom_components.ev_flex.entity import service_device_id
from custom_components.ev_flex.price_source import (
    CONF_PRICE_ENTITY,
    CONF_TARIFF,
    MIN_REFETCH_INTERVAL,
    PriceCoordinator,
    PriceEntityReader,
)
from custom_components.ev_flex.sensor import PriceSensor

from .prices_common import (
    BATTERY,
    EXPORT_SENSOR,
    HACS_NORDPOOL,
    IMPORT_SENSOR,
    START,
    TARIFF,
    TODAY,
    TOMORROW,
    TZ,
    TZ_NAME,
    PriceAction,
    Slot,
    action_items,
    day_slots,
    effective_import,
    hacs_nordpool_attributes,
    price_at,
    registry_entity,
    set_hacs_nordpool,
    setup_with,
    spot_export,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "prices"
TODAY_SLOTS = day_slots(TODAY)
TOMORROW_SLOTS = day_slots(TOMORROW, base=1.5)


@pytest.fixture
def platforms() -> list[Platform]:
    """The sensor platform only."""
    return [Platform.SENSOR]


@pytest.fixture
def price_options() -> dict[str, Any]:
    """The entry's options: the HACS nordpool sensor with the test tariff."""
    return {CONF_PRICE_ENTITY: HACS_NORDPOOL, CONF_TARIFF: TARIFF}


@pytest.fixture
def start_time() -> datetime:
    """When the test starts."""
    return START


@pytest.fixture
def price_states(hass: HomeAssistant) -> None:
    """The price entities that exist before EV Flex is set up."""
    set_hacs_nordpool(hass, TODAY_SLOTS)


@pytest.fixture
def simulator_entry(
    simulator_entry: MockConfigEntry,
    price_options: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    start_time: datetime,
) -> MockConfigEntry:
    """The simulated account with price options, at the start time."""
    freezer.move_to(start_time)
    return MockConfigEntry(
        domain=simulator_entry.domain,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options=price_options,
        version=1,
        minor_version=1,
    )


@pytest.fixture
async def loaded_entry(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, price_states: None
) -> MockConfigEntry:
    """The simulated account with prices, set up in Stockholm."""
    await hass.config.async_set_time_zone(TZ_NAME)
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    return simulator_entry


def prices_of(entry: MockConfigEntry) -> PriceCoordinator:
    prices = entry.runtime_data.prices
    assert prices is not None
    return prices  # type: ignore[no-any-return]


def value(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


async def advance_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime) -> None:
    freezer.move_to(moment)
    async_fire_time_changed(hass, moment)
    await hass.async_block_till_done()


def issue_ids(hass: HomeAssistant) -> set[str]:
    return {issue_id for domain, issue_id in ir.async_get(hass).issues if domain == DOMAIN}


# --------------------------------------------------------------------------------------------
# Reading attribute-based price entities


async def test_import_price_from_hacs_nordpool(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """The sensor shows the tariffed price of the current quarter, in the entity's currency."""
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    spot = price_at(TODAY_SLOTS, START)
    assert float(state.state) == pytest.approx(effective_import(spot))
    assert state.attributes["unit_of_measurement"] == "SEK/kWh"
    assert state.attributes["device_class"] == "monetary"
    assert "state_class" not in state.attributes
    assert state.attributes["status"] == "awaiting"
    assert state.attributes["awaiting_tomorrow"] is True
    assert state.attributes["source_format"] == "nordpool_hacs"
    assert state.attributes["price_entity"] == HACS_NORDPOOL
    assert state.attributes["spot_price"] == pytest.approx(spot)
    assert state.attributes["grid_fee"] == pytest.approx(0.2)
    series = state.attributes["prices"]
    assert len(series) == 96
    assert series[0] == {
        "start": "2025-10-07T00:00:00+02:00",
        "end": "2025-10-07T00:15:00+02:00",
        "price": pytest.approx(effective_import(0.5)),
        "spot": 0.5,
    }
    # 17:00-20:00 on a Tuesday is the peak grid-fee period.
    peak = next(item for item in series if item["start"] == "2025-10-07T17:00:00+02:00")
    assert peak["price"] == pytest.approx(effective_import(peak["spot"], grid_fee=0.5))

    export = hass.states.get(EXPORT_SENSOR)
    assert export is not None
    assert float(export.state) == pytest.approx(spot_export(spot))
    assert export.attributes["export_kind"] == "spot"
    assert export.attributes["prices"][0]["price"] == pytest.approx(spot_export(0.5))
    assert "spot" not in export.attributes["prices"][0]


async def test_state_change_is_pushed(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """Tomorrow's prices and corrected prices show as soon as the entity changes."""
    prices = prices_of(loaded_entry)
    assert prices.update_interval is None
    assert prices.status is PriceStatus.AWAITING

    set_hacs_nordpool(hass, TODAY_SLOTS, TOMORROW_SLOTS)
    await hass.async_block_till_done()
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    assert state.attributes["status"] == "ok"
    assert state.attributes["awaiting_tomorrow"] is False
    assert len(state.attributes["prices"]) == 192

    corrected = [(start, end, price + 1.0) for start, end, price in TODAY_SLOTS]
    set_hacs_nordpool(hass, corrected, TOMORROW_SLOTS)
    await hass.async_block_till_done()
    assert value(hass, IMPORT_SENSOR) == pytest.approx(effective_import(price_at(corrected, START)))


async def test_slot_boundary_refresh(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The price moves on at the next quarter without any new state from the entity."""
    prices = prices_of(loaded_entry)
    boundary = datetime(2025, 10, 7, 0, 30, tzinfo=TZ)
    assert prices.next_refresh == boundary

    await advance_to(hass, freezer, boundary - timedelta(seconds=1))
    assert value(hass, IMPORT_SENSOR) == pytest.approx(
        effective_import(price_at(TODAY_SLOTS, START))
    )

    await advance_to(hass, freezer, boundary)
    assert value(hass, IMPORT_SENSOR) == pytest.approx(
        effective_import(price_at(TODAY_SLOTS, boundary))
    )
    assert prices.next_refresh == boundary + timedelta(minutes=15)


async def test_stale_at_end_then_midnight_timer(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """When the last slot ends, the sensor goes unavailable; then only midnight is timed."""
    prices = prices_of(loaded_entry)
    set_hacs_nordpool(hass, TODAY_SLOTS[:4])  # prices only until 01:00
    await hass.async_block_till_done()
    end = datetime(2025, 10, 7, 1, 0, tzinfo=TZ)

    await advance_to(hass, freezer, end)
    assert prices.status is PriceStatus.STALE
    assert hass.states.get(IMPORT_SENSOR).state == STATE_UNAVAILABLE
    assert prices.priced_slots == ()
    assert prices.data.slot_at(end - timedelta(minutes=1)) is None
    assert current_slots(prices.priced_slots, dt_util.utcnow()) == []
    assert prices.next_refresh == datetime(2025, 10, 8, 0, 0, tzinfo=TZ)
    # Stale data is a state of the data, not a broken entity: no repair issue.
    assert issue_ids(hass) == set()


async def test_midnight_turns_tomorrow_into_today(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """At local midnight yesterday's "tomorrow" is today, so tomorrow is awaited again."""
    set_hacs_nordpool(hass, TODAY_SLOTS, TOMORROW_SLOTS)
    await hass.async_block_till_done()
    prices = prices_of(loaded_entry)
    assert prices.status is PriceStatus.OK

    await advance_to(hass, freezer, datetime(2025, 10, 7, 23, 50, tzinfo=TZ))
    midnight = datetime(2025, 10, 8, 0, 0, tzinfo=TZ)
    assert prices.next_refresh == midnight
    await advance_to(hass, freezer, midnight)
    assert prices.status is PriceStatus.AWAITING
    assert value(hass, IMPORT_SENSOR) == pytest.approx(effective_import(1.5))


async def test_planner_prices(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The controller gets contiguous import and export prices from the current slot on."""
    prices = prices_of(loaded_entry)
    planner = current_slots(prices.priced_slots, dt_util.utcnow())
    assert len(planner) == 95  # from 00:15 to the end of today
    first = planner[0]
    assert (first.start, first.end) == (
        datetime(2025, 10, 7, 0, 15, tzinfo=TZ),
        datetime(2025, 10, 7, 0, 30, tzinfo=TZ),
    )
    assert first.import_price == pytest.approx(effective_import(0.51))
    assert first.export_price == pytest.approx(spot_export(0.51))
    assert len(prices.priced_slots) == 96
    later = current_slots(prices.priced_slots, datetime(2025, 10, 7, 23, 50, tzinfo=TZ))
    assert [item.start for item in later] == [datetime(2025, 10, 7, 23, 45, tzinfo=TZ)]


async def test_unavailable_entity_means_no_prices(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """An unavailable price entity: price sensors unavailable, the car's sensors unaffected."""
    hass.states.async_set(HACS_NORDPOOL, STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert prices_of(loaded_entry).status is PriceStatus.NO_PRICES
    assert hass.states.get(IMPORT_SENSOR).state == STATE_UNAVAILABLE
    assert hass.states.get(EXPORT_SENSOR).state == STATE_UNAVAILABLE
    assert hass.states.get(BATTERY).state == "40.0"
    assert issue_ids(hass) == set()

    set_hacs_nordpool(hass, TODAY_SLOTS)
    await hass.async_block_till_done()
    assert hass.states.get(IMPORT_SENSOR).state != STATE_UNAVAILABLE


async def test_gap_is_unknown(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """A slot without a price is a gap: the sensor is unknown there, not made up."""
    gapped = [
        (start, end, price) for start, end, price in TODAY_SLOTS if start.hour != 0
    ] + TODAY_SLOTS[:1]
    set_hacs_nordpool(hass, sorted(gapped))
    await hass.async_block_till_done()
    assert hass.states.get(IMPORT_SENSOR).state == STATE_UNKNOWN
    assert current_slots(prices_of(loaded_entry).priced_slots, dt_util.utcnow()) == []


# --------------------------------------------------------------------------------------------
# Every attribute format, from the documented fixtures


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "name",
    [
        "nordpool_hacs",
        "energi_data_service",
        "entsoe",
        "ge_spot",
        "generic_forecast_cents",
        "generic_ev_smart_charging",
        "octopus_energy",
    ],
)
async def test_attribute_formats(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    name: str,
) -> None:
    """Each integration's entity, set as a real state, gives its first price through the sensor."""
    fixture = _fixture(name)
    source = fixture["snapshot"]
    await hass.config.async_set_time_zone(fixture["tz"])
    freezer.move_to(datetime.fromisoformat(fixture["now"]))
    hass.states.async_set(source["entity_id"], source["state"], source["attributes"])
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={CONF_PRICE_ENTITY: source["entity_id"], CONF_TARIFF: {}},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    expected = fixture["expected"]
    now = dt_util.utcnow()
    current = next(
        price
        for start, end, price in expected["slots"]
        if datetime.fromisoformat(start) <= now < datetime.fromisoformat(end)
    )
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    assert float(state.state) == pytest.approx(current)
    assert state.attributes["source_format"] == expected["format"]
    assert state.attributes["status"] == expected["status"]
    assert state.attributes["unit_of_measurement"] == f"{expected['currency']}/kWh"
    assert len(state.attributes["prices"]) == len(expected["slots"])
    assert hass.states.get(EXPORT_SENSOR) is None


@pytest.mark.parametrize(
    "price_options",
    [
        {
            CONF_PRICE_ENTITY: "event.octopus_energy_electricity_19l_1200_current_day_rates",
            CONF_TARIFF: {},
        }
    ],
)
async def test_octopus_next_day_rates(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """Octopus Energy's next-day rates entity extends the current-day one, and is followed."""
    current_id = "event.octopus_energy_electricity_19l_1200_current_day_rates"
    next_id = "event.octopus_energy_electricity_19l_1200_next_day_rates"

    def rates(day_slots_: list[Slot]) -> dict[str, Any]:
        return {
            "rates": [
                {
                    "start": s.isoformat(),
                    "end": e.isoformat(),
                    "value_inc_vat": p,
                    "is_capped": False,
                }
                for s, e, p in day_slots_
            ]
        }

    hass.states.async_set(current_id, "2025-10-06T16:05:12+00:00", rates(day_slots(TODAY, 30)))
    await hass.config.async_set_time_zone(TZ_NAME)
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(IMPORT_SENSOR)
    assert state.attributes["status"] == "awaiting"
    assert state.attributes["unit_of_measurement"] == "GBP/kWh"

    hass.states.async_set(next_id, "2025-10-07T16:05:12+00:00", rates(day_slots(TOMORROW, 30)))
    await hass.async_block_till_done()
    state = hass.states.get(IMPORT_SENSOR)
    assert state.attributes["status"] == "ok"
    assert len(state.attributes["prices"]) == 96


# --------------------------------------------------------------------------------------------
# Integrations whose prices come from actions


async def test_nordpool_core_action(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Core Nord Pool: today and tomorrow are asked with the sensor's entry, priced per MWh.

    While tomorrow is missing the action is asked again at most every few minutes; once both
    days are known, state changes don't call it until the day rolls over.
    """
    entity_id, nordpool_entry = registry_entity(
        hass, "nordpool", "SE3-current_price", "nord_pool_se3_current_price"
    )
    published = {"tomorrow": False}

    def respond(data: Any) -> dict[str, Any]:
        day = str(data["date"])
        if day == str(TODAY):
            slots = TODAY_SLOTS
        elif day == str(TOMORROW) and published["tomorrow"]:
            slots = TOMORROW_SLOTS
        else:
            return {"SE3": [], "SE4": []}
        items = action_items(slots, "start", "price", end_key="end", scale=1000)
        return {"SE3": items, "SE4": [dict(item, price=0.0) for item in items]}

    action = PriceAction(hass, "nordpool.get_prices_for_date", respond)
    hass.states.async_set(entity_id, "0.51", {"unit_of_measurement": "SEK/kWh"})
    entry = await setup_with(hass, simulator_entry, entity_id)

    assert [(c["config_entry"], str(c["date"])) for c in action.calls] == [
        (nordpool_entry.entry_id, "2025-10-07"),
        (nordpool_entry.entry_id, "2025-10-08"),
    ]
    state = hass.states.get(IMPORT_SENSOR)
    # SE3 is read (from the sensor's unique id), not SE4; MWh prices become kWh prices.
    assert float(state.state) == pytest.approx(effective_import(0.51))
    assert state.attributes["unit_of_measurement"] == "SEK/kWh"
    assert state.attributes["source_format"] == "nordpool_core"
    assert state.attributes["status"] == "awaiting"

    # A state change soon after: the cached response is used.
    hass.states.async_set(entity_id, "0.52", {"unit_of_measurement": "SEK/kWh"})
    await hass.async_block_till_done()
    assert len(action.calls) == 2

    # Tomorrow is published; the next read after the minimum interval fetches it.
    published["tomorrow"] = True
    await advance_to(hass, freezer, START + MIN_REFETCH_INTERVAL + timedelta(minutes=5))
    assert len(action.calls) == 4
    assert prices_of(entry).status is PriceStatus.OK

    # Complete now: neither state changes nor slot boundaries call the action again ...
    hass.states.async_set(entity_id, "0.53", {"unit_of_measurement": "SEK/kWh"})
    await advance_to(hass, freezer, datetime(2025, 10, 7, 12, 0, tzinfo=TZ))
    await advance_to(hass, freezer, datetime(2025, 10, 7, 12, 15, tzinfo=TZ))
    assert len(action.calls) == 4
    # ... until the local day changes.
    published["tomorrow"] = False
    await advance_to(hass, freezer, datetime(2025, 10, 8, 0, 0, tzinfo=TZ))
    assert [str(c["date"]) for c in action.calls[4:]] == ["2025-10-08", "2025-10-09"]


async def test_nordpool_core_tomorrow_failure_keeps_today(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """A call for tomorrow that crashes does not throw away today's prices."""
    entity_id, _ = registry_entity(hass, "nordpool", "SE3-current_price", "np")

    def respond(data: Any) -> dict[str, Any]:
        if str(data["date"]) == str(TOMORROW):
            # A bug in the other integration, not a HomeAssistantError.
            raise KeyError("SE3")
        return {"SE3": action_items(TODAY_SLOTS, "start", "price", end_key="end", scale=1000)}

    PriceAction(hass, "nordpool.get_prices_for_date", respond)
    hass.states.async_set(entity_id, "0.51")
    entry = await setup_with(hass, simulator_entry, entity_id)
    assert prices_of(entry).status is PriceStatus.AWAITING
    assert value(hass, IMPORT_SENSOR) == pytest.approx(effective_import(0.51))


async def test_tibber_action(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> None:
    """Tibber: one call for today and tomorrow; the home is found by its nickname."""
    entity_id, _ = registry_entity(hass, "tibber", "home-id-1", "electricity_price_cabin")

    def respond(data: Any) -> dict[str, Any]:
        items = action_items(TODAY_SLOTS + TOMORROW_SLOTS, "start_time", "price")
        return {"prices": {"Home": [dict(i, price=9.0) for i in items], "Cabin": items}}

    action = PriceAction(hass, "tibber.get_prices", respond)
    hass.states.async_set(
        entity_id, "0.51", {"unit_of_measurement": "NOK/kWh", "app_nickname": "Cabin"}
    )
    entry = await setup_with(hass, simulator_entry, entity_id)

    assert action.calls == [
        {"start": "2025-10-07T00:00:00+02:00", "end": "2025-10-09T00:00:00+02:00"}
    ]
    state = hass.states.get(IMPORT_SENSOR)
    assert float(state.state) == pytest.approx(effective_import(0.51))
    assert state.attributes["unit_of_measurement"] == "NOK/kWh"
    assert state.attributes["source_format"] == "tibber"
    assert prices_of(entry).status is PriceStatus.OK


async def test_tibber_home_from_device_name(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """Without a nickname attribute, the Tibber device's name picks the home."""
    source_entry = MockConfigEntry(domain="tibber", title="Tibber")
    source_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=source_entry.entry_id, identifiers={("tibber", "h2")}, name="Cabin"
    )
    entity_id = (
        er.async_get(hass)
        .async_get_or_create(
            "sensor", "tibber", "h2", config_entry=source_entry, device_id=device.id
        )
        .entity_id
    )
    PriceAction(
        hass,
        "tibber.get_prices",
        lambda data: {
            "prices": {
                "Home": action_items(TODAY_SLOTS, "start_time", "price", scale=3),
                "Cabin": action_items(TODAY_SLOTS, "start_time", "price"),
            }
        },
    )
    hass.states.async_set(entity_id, "0.51", {"unit_of_measurement": "NOK/kWh"})
    await setup_with(hass, simulator_entry, entity_id)
    assert value(hass, IMPORT_SENSOR) == pytest.approx(effective_import(0.51))


async def test_entsoe_action(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> None:
    """An Entso-e sensor without price lists: its action is asked for today and tomorrow."""
    entity_id, entsoe_entry = registry_entity(
        hass, "entsoe", "current_price", "current_electricity_market_price"
    )
    action = PriceAction(
        hass,
        "entsoe.get_energy_prices",
        lambda data: {"prices": action_items(TODAY_SLOTS, "timestamp", "price")},
    )
    hass.states.async_set(entity_id, "0.51", {"unit_of_measurement": "€/kWh"})
    await setup_with(hass, simulator_entry, entity_id)

    assert action.calls == [
        {
            "config_entry": entsoe_entry.entry_id,
            "start": "2025-10-07T00:00:00+02:00",
            "end": "2025-10-08T00:00:00+02:00",
        }
    ]
    state = hass.states.get(IMPORT_SENSOR)
    assert float(state.state) == pytest.approx(effective_import(0.51))
    assert state.attributes["unit_of_measurement"] == "EUR/kWh"
    assert state.attributes["source_format"] == "entsoe"


async def test_action_failure_then_recovery(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """A failing action means no prices (no exception, no repair); it is asked again later."""
    entity_id, _ = registry_entity(hass, "entsoe", "current_price", "entsoe_price")
    broken = {"yes": True}

    def respond(data: Any) -> dict[str, Any]:
        if broken["yes"]:
            raise HomeAssistantError("ENTSO-e API unreachable")
        return {"prices": action_items(TODAY_SLOTS + TOMORROW_SLOTS, "timestamp", "price")}

    action = PriceAction(hass, "entsoe.get_energy_prices", respond)
    hass.states.async_set(entity_id, "0.51")
    entry = await setup_with(hass, simulator_entry, entity_id)
    prices = prices_of(entry)
    assert prices.status is PriceStatus.NO_PRICES
    assert "ENTSO-e API unreachable" in prices.data.message
    assert hass.states.get(IMPORT_SENSOR).state == STATE_UNAVAILABLE
    assert issue_ids(hass) == set()

    broken["yes"] = False
    await advance_to(hass, freezer, START + MIN_REFETCH_INTERVAL)
    hass.states.async_set(entity_id, "0.52")
    await hass.async_block_till_done()
    assert len(action.calls) == 2
    assert prices.status is PriceStatus.OK


async def test_missing_action_and_missing_entry(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """No registered action, or an entity without a config entry: no prices, and a reason."""
    entity_id, _ = registry_entity(hass, "tibber", "home-id-1", "tibber_price")
    hass.states.async_set(entity_id, "0.51")
    entry = await setup_with(hass, simulator_entry, entity_id)
    prices = prices_of(entry)
    assert prices.status is PriceStatus.NO_PRICES
    assert "tibber.get_prices" in prices.data.message

    orphan = er.async_get(hass).async_get_or_create("sensor", "nordpool", "SE1-current_price")
    hass.states.async_set(orphan.entity_id, "0.51")
    read = await PriceEntityReader(hass, orphan.entity_id).async_read(dt_util.utcnow(), TZ)
    assert read.result.status is PriceStatus.NO_PRICES
    assert read.action_error is not None
    assert "belongs to no config entry" in read.action_error


async def test_entity_not_loaded_yet(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> None:
    """A registered entity without a state (its integration still loading) is just no prices.

    No repair issue, and no action call until the entity is there and available.
    """
    entity_id, _ = registry_entity(hass, "nordpool", "SE3-current_price", "np")
    action = PriceAction(
        hass,
        "nordpool.get_prices_for_date",
        lambda data: {"SE3": action_items(TODAY_SLOTS, "start", "price", end_key="end")},
    )
    entry = await setup_with(hass, simulator_entry, entity_id)
    prices = prices_of(entry)
    assert prices.status is PriceStatus.NO_PRICES
    assert "has no state yet" in prices.data.message
    assert issue_ids(hass) == set()

    hass.states.async_set(entity_id, STATE_UNAVAILABLE)
    await hass.async_block_till_done()
    assert action.calls == []

    hass.states.async_set(entity_id, "0.51")
    await hass.async_block_till_done()
    assert len(action.calls) == 2
    assert prices.status is PriceStatus.AWAITING


# --------------------------------------------------------------------------------------------
# Repairs


async def test_vanished_entity_raises_and_clears_issue(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """A price entity that disappears gives a repair issue; the car's entities keep working."""
    issue_id = f"price_entity_missing_{loaded_entry.entry_id}_import"
    hass.states.async_remove(HACS_NORDPOOL)
    await hass.async_block_till_done()

    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "price_entity_missing_import"
    assert issue.translation_placeholders["entity_id"] == HACS_NORDPOOL
    assert issue.severity is ir.IssueSeverity.WARNING
    strings = await async_get_translations(hass, "en", "issues", {DOMAIN})
    for key in (
        "price_entity_missing_import",
        "price_entity_missing_export",
        "price_entity_unreadable_import",
        "price_entity_unreadable_export",
    ):
        assert "{entity_id}" in strings[f"component.{DOMAIN}.issues.{key}.description"]
    assert hass.states.get(IMPORT_SENSOR).state == STATE_UNAVAILABLE
    assert hass.states.get(BATTERY).state == "40.0"

    set_hacs_nordpool(hass, TODAY_SLOTS)
    await hass.async_block_till_done()
    assert issue_ids(hass) == set()
    assert hass.states.get(IMPORT_SENSOR).state != STATE_UNAVAILABLE


@pytest.mark.parametrize(
    ("language", "details"),
    [
        ("en", "at raw_today[0], the data is not laid out as expected (found: begin, cost)"),
        (
            "de",
            "bei raw_today[0] sind die Daten nicht wie erwartet aufgebaut (gefunden: begin, cost)",
        ),
    ],
)
async def test_format_change_raises_and_clears_issue(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, language: str, details: str
) -> None:
    """Price data that can no longer be read raises a repair issue naming the problem, in the
    server's language, with the entity and the keys found as they are."""
    # The server's language changes, and Home Assistant loads its texts.
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    attributes = hacs_nordpool_attributes(TODAY_SLOTS, [])
    attributes["raw_today"] = [{"begin": "08:00", "cost": "cheap"}]
    hass.states.async_set(HACS_NORDPOOL, "0.5", attributes)
    await hass.async_block_till_done()

    issue_id = f"price_entity_unreadable_{loaded_entry.entry_id}_import"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["details"] == f"{HACS_NORDPOOL}: {details}"
    assert prices_of(loaded_entry).status is PriceStatus.INVALID
    assert hass.states.get(IMPORT_SENSOR).state == STATE_UNAVAILABLE

    set_hacs_nordpool(hass, TODAY_SLOTS)
    await hass.async_block_till_done()
    assert issue_ids(hass) == set()


async def test_disabled_entity_counts_as_gone(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """A price entity the user disabled will never have prices: that is a repair issue."""
    entity_id, _ = registry_entity(hass, "nordpool", "SE3-current_price", "np")
    er.async_get(hass).async_update_entity(entity_id, disabled_by=er.RegistryEntryDisabler.USER)
    entry = await setup_with(hass, simulator_entry, entity_id)
    assert f"price_entity_missing_{entry.entry_id}_import" in issue_ids(hass)
    assert "disabled" in prices_of(entry).data.message


async def test_missing_at_startup_waits_for_started(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """While Home Assistant starts, a missing price entity may still come: no issue yet."""
    hass.set_state(CoreState.not_running)
    entry = await setup_with(hass, simulator_entry, "sensor.not_there_yet")
    assert issue_ids(hass) == set()

    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert issue_ids(hass) == {f"price_entity_missing_{entry.entry_id}_import"}


async def test_unload_removes_issues_and_timers(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Unloading the entry drops its repair issues (setup raises them again) and its timer."""
    hass.states.async_remove(HACS_NORDPOOL)
    await hass.async_block_till_done()
    assert issue_ids(hass)
    prices = prices_of(loaded_entry)

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_ids(hass) == set()
    assert prices.next_refresh is None


# --------------------------------------------------------------------------------------------
# Export prices


@pytest.mark.parametrize(
    "price_options",
    [
        {
            CONF_PRICE_ENTITY: HACS_NORDPOOL,
            CONF_TARIFF: {"export": {"kind": "fixed", "fixed_per_kwh": 0.07}},
        }
    ],
)
async def test_fixed_export_price(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """A fixed export price, with the plain spot price as the import price."""
    assert value(hass, EXPORT_SENSOR) == pytest.approx(0.07)
    assert value(hass, IMPORT_SENSOR) == pytest.approx(price_at(TODAY_SLOTS, START))


EXPORT_ENTITY = "sensor.export_prices"


@pytest.mark.parametrize(
    "price_options",
    [
        {
            CONF_PRICE_ENTITY: HACS_NORDPOOL,
            CONF_TARIFF: {"export": {"kind": "entity", "entity_id": EXPORT_ENTITY}},
        }
    ],
)
async def test_export_price_entity(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """Export prices from a second entity; losing it affects only the export sensor."""
    assert hass.states.get(EXPORT_SENSOR).state == STATE_UNAVAILABLE
    assert f"price_entity_missing_{loaded_entry.entry_id}_export" in issue_ids(hass)

    export_slots = day_slots(TODAY, 60, base=0.03)
    hass.states.async_set(
        EXPORT_ENTITY,
        "0.03",
        {
            "unit_of_measurement": "SEK/kWh",
            "prices": [{"start": s.isoformat(), "price": p} for s, _, p in export_slots],
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(EXPORT_SENSOR)
    assert float(state.state) == pytest.approx(0.03)
    assert state.attributes["status"] == "awaiting"
    assert len(state.attributes["prices"]) == 96
    assert issue_ids(hass) == set()
    assert prices_of(loaded_entry).priced_slots[0].export_price == pytest.approx(0.03)

    hass.states.async_remove(EXPORT_ENTITY)
    await hass.async_block_till_done()
    assert hass.states.get(EXPORT_SENSOR).state == STATE_UNAVAILABLE
    assert hass.states.get(IMPORT_SENSOR).state != STATE_UNAVAILABLE
    assert prices_of(loaded_entry).priced_slots[0].export_price is None


# --------------------------------------------------------------------------------------------
# Entities, device and recorder


async def test_price_sensors_snapshot(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The price sensors and the EV Flex service device they belong to."""
    set_hacs_nordpool(hass, TODAY_SLOTS[:4])  # a short series keeps the snapshot readable
    await hass.async_block_till_done()
    for entity_id in (IMPORT_SENSOR, EXPORT_SENSOR):
        entry = entity_registry.async_get(entity_id)
        assert entry == snapshot(name=f"{entity_id}-entry")
        assert hass.states.get(entity_id) == snapshot(name=f"{entity_id}-state")
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, service_device_id(loaded_entry)), loaded_entry.entry_id
    )
    assert device is not None
    assert device.entry_type is dr.DeviceEntryType.SERVICE
    assert device == snapshot(name="service-device")


async def test_series_is_not_recorded(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The recorder drops the series attribute but keeps the status attributes."""
    assert "prices" in PriceSensor._unrecorded_attributes
    state = hass.states.get(IMPORT_SENSOR)
    assert state is not None
    assert state.state_info is not None
    assert "prices" in state.state_info["unrecorded_attributes"]
    event: Event[Any] = Event(
        EVENT_STATE_CHANGED, {"entity_id": IMPORT_SENSOR, "old_state": None, "new_state": state}
    )
    recorded = json.loads(StateAttributes.shared_attrs_bytes_from_event(event, None))
    assert "prices" not in recorded
    assert recorded["status"] == "awaiting"
    assert len(json.dumps(state.attributes["prices"])) > 5000


async def test_dropped_price_options_remove_entities(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """Without an export price the export sensor goes; without a price entity, both go."""
    hass.config_entries.async_update_entry(
        loaded_entry, options={CONF_PRICE_ENTITY: HACS_NORDPOOL, CONF_TARIFF: {}}
    )
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert entity_registry.async_get(EXPORT_SENSOR) is None
    assert entity_registry.async_get(IMPORT_SENSOR) is not None

    hass.config_entries.async_update_entry(loaded_entry, options={})
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.runtime_data.prices is None
    assert entity_registry.async_get(IMPORT_SENSOR) is None
    assert hass.states.get(BATTERY) is not None


async def test_service_device_not_removable_while_used(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """The service device can't be deleted by hand while prices are configured."""
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, service_device_id(loaded_entry)), loaded_entry.entry_id
    )
    assert device is not None
    assert not await async_remove_config_entry_device(hass, loaded_entry, device)


async def test_broken_stored_tariff_falls_back(
    hass: HomeAssistant, simulator_entry: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    """A corrupt stored tariff is logged and replaced by the plain spot price."""
    set_hacs_nordpool(hass, TODAY_SLOTS)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={CONF_PRICE_ENTITY: HACS_NORDPOOL, CONF_TARIFF: {"import": {"vat_percent": 500}}},
    )
    await hass.config.async_set_time_zone(TZ_NAME)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert value(hass, IMPORT_SENSOR) == pytest.approx(price_at(TODAY_SLOTS, START))
    assert "Stored tariff is invalid" in caplog.text


async def test_diagnostics_show_price_status(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Diagnostics say where prices come from and how many slots are known."""
    diagnostics = await async_get_config_entry_diagnostics(hass, loaded_entry)
    prices = diagnostics["prices"]
    assert prices["status"] == "awaiting"  # today only: tomorrow is not out yet
    assert prices["awaiting_tomorrow"] is True
    assert prices["price_entity"] == loaded_entry.options["price_entity"]
    assert prices["slots"] == len(prices_of(loaded_entry).priced_slots) > 0
