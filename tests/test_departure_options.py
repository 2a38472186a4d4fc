"""The options of each vehicle's departures: its calendar and where reminders go."""

from typing import Any

from aiohttp.test_utils import TestClient
from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import CONF_DEPARTURES
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import link_site, setup_entry

VEHICLE_ID = "simulator-garage-vehicle"


async def open_departures(hass: HomeAssistant, entry: MockConfigEntry) -> ConfigFlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert "departures" in result["menu_options"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "departures"}
    )


async def submit(hass: HomeAssistant, result: ConfigFlowResult, data: dict[str, Any]) -> Any:
    return await hass.config_entries.options.async_configure(result["flow_id"], data)


async def save(hass: HomeAssistant, menu: ConfigFlowResult) -> None:
    assert menu["type"] is FlowResultType.MENU
    result = await submit(hass, menu, {"next_step_id": "save"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def test_calendar_and_reminder_target_are_checked_and_saved(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """One vehicle: its form comes at once. The notify choices are notify entities and
    legacy notify actions (not the entity action itself)."""
    hass.states.async_set("calendar.family", "off")
    hass.states.async_set("notify.kitchen_display", "unknown")

    async def legacy(_call: ServiceCall) -> None:
        """A legacy notify action, as the mobile app registers one."""

    hass.services.async_register("notify", "mobile_app_phone", legacy)
    hass.services.async_register("notify", "send_message", legacy)
    form = await open_departures(hass, loaded_entry)
    assert form["step_id"] == "vehicle_departures"
    assert form["description_placeholders"] == {"vehicle": "EV Flex Simulator Sedan 75 kWh"}
    notify_field = next(key for key in form["data_schema"].schema if key == "notify")
    options = form["data_schema"].schema[notify_field].config["options"]
    assert options == ["notify.kitchen_display", "notify.mobile_app_phone"]

    result = await submit(hass, form, {"calendar": "sensor.family"})
    assert result["errors"] == {"calendar": "wrong_domain"}
    result = await submit(hass, result, {"calendar": "calendar.nothing"})
    assert result["errors"] == {"calendar": "entity_not_found"}
    menu = await submit(
        hass, result, {"calendar": "calendar.family", "notify": "notify.mobile_app_phone"}
    )
    await save(hass, menu)
    assert loaded_entry.options[CONF_DEPARTURES] == {
        VEHICLE_ID: {"calendar": "calendar.family", "notify": "notify.mobile_app_phone"}
    }

    # Reopened, the form shows what was saved; emptied, the vehicle's options go.
    form = await open_departures(hass, loaded_entry)
    suggested = {
        str(key): key.description["suggested_value"]
        for key in form["data_schema"].schema
        if key.description
    }
    assert suggested == {"calendar": "calendar.family", "notify": "notify.mobile_app_phone"}
    await save(hass, await submit(hass, form, {}))
    assert CONF_DEPARTURES not in loaded_entry.options


async def test_with_two_cars_the_vehicle_is_picked_first(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    link_site(fake_enode, "sedan")
    hatchback = link_site(fake_enode, "hatchback")
    await setup_entry(hass, enode_entry)
    hass.states.async_set("calendar.work", "off")
    picker = await open_departures(hass, enode_entry)
    assert picker["step_id"] == "departures"
    assert hatchback.vehicle_id is not None
    form = await submit(hass, picker, {"vehicle": hatchback.vehicle_id})
    assert form["step_id"] == "vehicle_departures"
    await save(hass, await submit(hass, form, {"calendar": "calendar.work"}))
    assert enode_entry.options[CONF_DEPARTURES] == {
        hatchback.vehicle_id: {"calendar": "calendar.work"}
    }


async def test_an_unloaded_entry_offers_no_departures(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    simulator_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(simulator_entry.entry_id)
    assert "departures" not in result["menu_options"]
