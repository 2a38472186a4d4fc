"""Charge rates: the vehicle's is negative while discharging, as the charger's, and both are
rounded alike."""

from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_ENTITIES,
    CONF_ACCOUNT_TYPE,
    CONF_BATTERY_CAPACITY,
    CONF_CHARGER_POWER_ENTITY,
    CONF_CHARGER_SWITCH_ENTITY,
    CONF_PLUGGED_IN_ENTITY,
    CONF_SOC_ENTITY,
    CONF_VEHICLE_POWER_ENTITY,
    DOMAIN,
)
from custom_components.ev_flex.core.model import CommandKind
from custom_components.ev_flex.core.simulator import Simulation

from .priced_simulator import (
    set_up,
    settle,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

SUV = "ev_flex_simulator_suv_99_kwh_bidirectional"


async def test_simulated_car_discharging_has_a_negative_rate(
    hass: HomeAssistant,
    v2g_entry: MockConfigEntry,
) -> None:
    """The charger discharges the car: the car's rate is the charger's, below zero."""
    await set_up(hass, v2g_entry)
    simulation: Simulation = v2g_entry.runtime_data.account.simulation
    simulation.set_soc(90.0)
    simulation.send_command(simulation.charger_id, CommandKind.DISCHARGE, 5.0)
    await settle(hass)
    await v2g_entry.runtime_data.coordinator.async_refresh()
    await settle(hass)
    charger_rate = float(
        hass.states.get("sensor.ev_flex_simulator_bidirectional_wallbox_11_kw_charge_rate").state
    )
    assert charger_rate == -5.0
    assert float(hass.states.get(f"sensor.{SUV}_charge_rate").state) == charger_rate


async def set_up_van(hass: HomeAssistant, car_kw: str, charger_w: str) -> None:
    """An entities account whose car and charger report these powers, plugged in."""
    hass.states.async_set("sensor.car_soc", "70", {"unit_of_measurement": "%"})
    hass.states.async_set("binary_sensor.car_plugged_in", "on")
    hass.states.async_set("sensor.car_power", car_kw, {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.charger_power", charger_w, {"unit_of_measurement": "W"})
    hass.states.async_set("switch.charger", "on")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Van",
        unique_id="entities-van",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_ENTITIES,
            CONF_NAME: "Van",
            CONF_SOC_ENTITY: "sensor.car_soc",
            CONF_PLUGGED_IN_ENTITY: "binary_sensor.car_plugged_in",
            CONF_VEHICLE_POWER_ENTITY: "sensor.car_power",
            CONF_CHARGER_POWER_ENTITY: "sensor.charger_power",
            CONF_CHARGER_SWITCH_ENTITY: "switch.charger",
            CONF_BATTERY_CAPACITY: 60,
        },
    )
    await set_up(hass, entry)


async def test_car_reporting_zero_while_discharging_shows_the_chargers_rate(
    hass: HomeAssistant,
) -> None:
    """Cars that report 0 kW while the charger they are plugged into discharges them get the
    charger's negative rate; charging, the car's own reading stays."""
    await set_up_van(hass, "0", "-11040")
    assert hass.states.get("sensor.van_charge_rate").state == "-11.04"
    assert hass.states.get("sensor.van_charger_charge_rate").state == "-11.04"

    hass.states.async_set("sensor.car_power", "7.2", {"unit_of_measurement": "kW"})
    hass.states.async_set("sensor.charger_power", "7400", {"unit_of_measurement": "W"})
    await settle(hass)
    assert hass.states.get("sensor.van_charge_rate").state == "7.2"


async def test_power_is_rounded_alike_on_car_and_charger(hass: HomeAssistant) -> None:
    """Readings with float noise show to 10 W, on the car and on the charger."""
    await set_up_van(hass, "7.359999999", "7360.0000001")
    assert hass.states.get("sensor.van_charge_rate").state == "7.36"
    assert hass.states.get("sensor.van_charger_charge_rate").state == "7.36"
