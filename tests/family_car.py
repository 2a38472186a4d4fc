"""The "entities I already have" account of a family car, picking a simulated account's entities
through the config flow."""

from homeassistant.config_entries import SOURCE_USER, ConfigEntry, ConfigEntryState
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from custom_components.ev_flex.const import (
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_CURRENT_ENTITY,
    CONF_CHARGER_POWER_ENTITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_CHARGING_ENTITY,
    CONF_LOCATION_ENTITY,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    CONF_SUPPORTS_DISCHARGE,
    CONF_VEHICLE_POWER_ENTITY,
    DOMAIN,
)

SIM = "ev_flex_simulator_sedan_75_kwh"
WALLBOX = "ev_flex_simulator_wallbox_22_kw"
SELECTION = {
    CONF_NAME: "Family car",
    CONF_SOC_ENTITY: f"sensor.{SIM}_battery_level",
    CONF_PLUGGED_IN_ENTITY: f"binary_sensor.{SIM}_plugged_in",
    CONF_CHARGING_ENTITY: f"binary_sensor.{SIM}_charging",
    CONF_VEHICLE_POWER_ENTITY: f"sensor.{SIM}_charge_rate",
    CONF_LOCATION_ENTITY: f"device_tracker.{SIM}_location",
    CONF_BATTERY_CAPACITY: 75,
    CONF_CHARGER_SWITCH_ENTITY: f"switch.{WALLBOX}_charging",
    CONF_CHARGER_CURRENT_ENTITY: f"number.{WALLBOX}_maximum_current",
    CONF_CHARGER_POWER_ENTITY: f"sensor.{WALLBOX}_charge_rate",
    CONF_SUPPORTS_DISCHARGE: False,
}
FAMILY = "family_car"


async def start_entities_flow(hass: HomeAssistant) -> str:
    """The config flow at the step where the entities are picked."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "entities"}
    )
    assert result["type"] is FlowResultType.FORM
    return result["flow_id"]


async def link_family_car(hass: HomeAssistant) -> ConfigEntry:
    """Link the entities account of SELECTION through the config flow; it is set up."""
    flow_id = await start_entities_flow(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, SELECTION)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    entry: ConfigEntry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def link_priced_family_car(hass: HomeAssistant, price_entity: str) -> ConfigEntry:
    """The family car's account with a price entity in its options (reloaded to apply it)."""
    entry = await link_family_car(hass)
    hass.config_entries.async_update_entry(entry, options={"price_entity": price_entity})
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    return entry
