"""The card's data over Home Assistant's websocket API, and the card served by the integration."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL
from homeassistant.const import ATTR_ENTITY_ID, CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_ENTITIES,
    CONF_ACCOUNT_TYPE,
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    DOMAIN,
)
from custom_components.ev_flex.frontend_card import CARD_FILE, CARD_URL, async_register_card
from custom_components.ev_flex.websocket_api import UNLOAD_WATCHERS

from .priced_simulator import CAR, PRICE_ENTITY, START, TZ, TZ_NAME, VEHICLE_ID, set_prices

pytestmark = pytest.mark.priced_simulator

CHARGER_ID = "simulator-garage-charger"


@pytest.fixture
def at_start(freezer: FrozenDateTimeFactory) -> None:
    """18:00 in Oslo, before the websocket client's token is made."""
    freezer.move_to(START)


def _device_id(hass: HomeAssistant, identifier: str) -> str:
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None
    return device.id


async def _subscribe(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, device_id: str
) -> Any:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "ev_flex/vehicle_plan/subscribe", "device_id": device_id}
    )
    return client


async def _next_event(client: Any) -> dict[str, Any]:
    message = await client.receive_json()
    assert message["type"] == "event", message
    event: dict[str, Any] = message["event"]
    return event


async def test_vehicles_for_the_card_editor(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The editor offers the vehicles, not the charger or the price service."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": "ev_flex/vehicles"})
    answer = await client.receive_json()
    assert answer["success"]
    assert answer["result"] == [
        {"device_id": _device_id(hass, VEHICLE_ID), "name": "EV Flex Simulator Sedan 75 kWh"}
    ]


async def test_plan_per_slot_with_prices_and_controls(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """The first event holds the plan slot by slot, the known prices and the control entities;
    the charging it plans takes every cheap night hour and no dear evening one."""
    client = await _subscribe(hass, hass_ws_client, _device_id(hass, VEHICLE_ID))
    assert (await client.receive_json())["success"]
    event = await _next_event(client)
    assert event["problem"] is None
    assert event["status"] == "disabled"
    assert event["entities"] == {
        "smart_charging": f"switch.{CAR}_smart_charging",
        "v2g": f"switch.{CAR}_vehicle_to_grid",
        "departure_time": f"time.{CAR}_departure_time",
        "target_soc": f"number.{CAR}_target_charge",
        "state": f"sensor.{CAR}_smart_charging_state",
    }
    prices = event["prices"]
    assert datetime.fromisoformat(prices[0]["start"]) <= START
    assert datetime.fromisoformat(prices[-1]["end"]) == START.replace(hour=0) + timedelta(days=2)
    slots = event["plan"]["slots"]
    charging = [datetime.fromisoformat(s["start"]) for s in slots if s["charge_kw"] > 0]
    assert charging
    hours = {moment.astimezone(TZ).hour for moment in charging}
    assert {2, 3, 4} <= hours, "every cheap hour charges"
    assert not hours & {17, 18, 19, 20}, "no dear evening hour does"
    assert slots[-1]["soc_pct_end"] >= event["plan"]["summary"]["target_soc_pct"]
    assert event["soc_pct"] == pytest.approx(40.0)
    assert event["can_discharge"] is False, "no V2G control for a car that cannot discharge"


@pytest.mark.parametrize("vehicle_preset", ["suv_v2g"])
async def test_bidirectional_car_gets_its_v2g_control(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A car and charger that can discharge offer the vehicle-to-grid switch on the card."""
    (vehicle_id,) = loaded_entry.runtime_data.smart_charging
    client = await _subscribe(hass, hass_ws_client, _device_id(hass, vehicle_id))
    assert (await client.receive_json())["success"]
    event = await _next_event(client)
    assert event["can_discharge"] is True
    assert (
        event["entities"]["v2g"]
        == "switch.ev_flex_simulator_suv_99_kwh_bidirectional_vehicle_to_grid"
    )


async def test_plan_follows_the_controller(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Turning smart charging on sends a new event with the plan the car now follows."""
    client = await _subscribe(hass, hass_ws_client, _device_id(hass, VEHICLE_ID))
    assert (await client.receive_json())["success"]
    await _next_event(client)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    event = await _next_event(client)
    assert event["status"] != "disabled"
    followed = loaded_entry.runtime_data.smart_charging[VEHICLE_ID].controller.state.plan
    assert followed is not None
    assert [slot["charge_kw"] for slot in event["plan"]["slots"]] == [
        round(slot.charge_kw, 2) for slot in followed.slots
    ]
    assert event["departure"] is not None
    assert event["target_soc_pct"] == event["plan"]["summary"]["target_soc_pct"]


async def test_a_fault_in_the_card_view_leaves_the_step_alone(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the card's message cannot be made, the entities still follow the controller."""
    client = await _subscribe(hass, hass_ws_client, _device_id(hass, VEHICLE_ID))
    assert (await client.receive_json())["success"]
    await _next_event(client)

    def broken(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise ValueError("a plan the card cannot read")

    monkeypatch.setattr("custom_components.ev_flex.websocket_api.plan_answer", broken)
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(f"sensor.{CAR}_smart_charging_state").state != "disabled"
    assert "The EV Flex card could not show the plan" in caplog.text


async def test_unknown_vehicle_and_device_that_is_not_one(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """A removed vehicle and a charger both answer not_found, which the card explains."""
    for device_id in ("no-such-device", _device_id(hass, CHARGER_ID)):
        client = await _subscribe(hass, hass_ws_client, device_id)
        answer = await client.receive_json()
        assert not answer["success"]
        assert answer["error"]["code"] == "not_found"


async def test_without_prices_the_card_says_so(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """Prices gone: no plan, and the reason why."""
    hass.states.async_set(PRICE_ENTITY, "unavailable", {})
    await hass.async_block_till_done(wait_background_tasks=True)
    client = await _subscribe(hass, hass_ws_client, _device_id(hass, VEHICLE_ID))
    assert (await client.receive_json())["success"]
    event = await _next_event(client)
    assert event["problem"] == "no_prices"
    assert event["plan"] is None
    assert event["prices"] == []


async def test_before_the_first_battery_reading_the_card_says_so(
    hass: HomeAssistant, at_start: None, hass_ws_client: WebSocketGenerator
) -> None:
    """A car whose battery level is unknown has prices but no plan yet, and the card says why."""
    await hass.config.async_set_time_zone(TZ_NAME)
    set_prices(hass)
    hass.states.async_set("sensor.van_soc", "unknown", {"unit_of_measurement": "%"})
    hass.states.async_set("binary_sensor.van_plugged_in", "on")
    hass.states.async_set("switch.wallbox", "off")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Van",
        unique_id="entities-van",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_ENTITIES,
            CONF_NAME: "Van",
            CONF_SOC_ENTITY: "sensor.van_soc",
            CONF_PLUGGED_IN_ENTITY: "binary_sensor.van_plugged_in",
            CONF_CHARGER_SWITCH_ENTITY: "switch.wallbox",
            CONF_BATTERY_CAPACITY: 60,
        },
        options={"price_entity": PRICE_ENTITY},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    (vehicle_id,) = entry.runtime_data.smart_charging
    client = await _subscribe(hass, hass_ws_client, _device_id(hass, vehicle_id))
    assert (await client.receive_json())["success"]
    event = await _next_event(client)
    assert event["problem"] == "no_reading"
    assert event["plan"] is None
    assert event["prices"], "the prices still show"
    assert event["soc_pct"] is None


async def test_unload_tells_the_card_and_unsubscribe_stops_events(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    """An unloaded entry ends the subscription with a last word; one ended by the card sends
    nothing more and leaves nothing behind."""
    device_id = _device_id(hass, VEHICLE_ID)
    charging = loaded_entry.runtime_data.smart_charging[VEHICLE_ID]
    ended = await _subscribe(hass, hass_ws_client, device_id)
    for _ in range(3):
        subscribed = await ended.receive_json()
        await _next_event(ended)
        unsubscribe = {"type": "unsubscribe_events", "subscription": subscribed["id"]}
        await ended.send_json_auto_id(unsubscribe)
        assert (await ended.receive_json())["success"]
        await ended.send_json_auto_id(
            {"type": "ev_flex/vehicle_plan/subscribe", "device_id": device_id}
        )
    subscribed = await ended.receive_json()
    await _next_event(ended)
    await ended.send_json_auto_id({"type": "unsubscribe_events", "subscription": subscribed["id"]})
    assert (await ended.receive_json())["success"]
    assert not hass.data[UNLOAD_WATCHERS][charging], "cards that left leave nothing behind"

    client = await _subscribe(hass, hass_ws_client, device_id)
    assert (await client.receive_json())["success"]
    await _next_event(client)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert await _next_event(client) == {"problem": "unavailable"}
    assert charging not in hass.data[UNLOAD_WATCHERS]
    await ended.send_json_auto_id({"type": "ping"})
    assert (await ended.receive_json())["type"] == "pong", "no event after unsubscribing"


async def test_card_is_served_and_loaded_by_the_frontend(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """The frontend loads the card on every dashboard, under a URL that changes with it."""
    assert await async_setup_component(hass, "frontend", {})
    assert await async_setup_component(hass, DOMAIN, {})
    urls = [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if url.startswith(CARD_URL)]
    assert len(urls) == 1
    assert urls[0].startswith(f"{CARD_URL}?v=")
    client = await hass_client()
    response = await client.get(urls[0])
    assert response.status == 200
    assert await response.read() == CARD_FILE.read_bytes()
    assert "customElements.define" in CARD_FILE.read_text()


async def test_missing_card_module_leaves_setup_alone(
    hass: HomeAssistant, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An install that lost the card's module still works, says so, and offers no card."""
    assert await async_setup_component(hass, "frontend", {})
    await async_register_card(hass, tmp_path / "ev-flex-card.js")
    assert not [url for url in hass.data[DATA_EXTRA_MODULE_URL].urls if CARD_URL in url]
    assert "The EV Flex card is missing" in caplog.text
