"""Names and numbers as the user sees them: entity ids of one pattern per entry, calendar
events that name the car, and power rounded the same way everywhere."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.translation import async_load_integrations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.entity import service_device_id

from .priced_simulator import (
    CAR,
    START,
    VEHICLE_ID,
    set_up,
    turn_on_smart_charging,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

EXPORT = {"export": {"kind": "spot", "factor": 1.0, "fee_per_kwh": 0.0}}


async def test_each_entrys_price_sensors_follow_its_name(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A second entry (with an export price the first lacks) gets ids of the same pattern,
    and each service device carries its entry's name."""
    cabin = MockConfigEntry(
        domain=DOMAIN,
        title="Cabin",
        unique_id="simulator-cabin",
        data={**loaded_entry.data, CONF_NAME: "Cabin"},
        options={**loaded_entry.options, "tariff": EXPORT},
    )
    await set_up(hass, cabin)

    def price_sensors(entry: MockConfigEntry) -> list[str]:
        return sorted(
            entity.entity_id
            for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
            if entity.unique_id.startswith(service_device_id(entry))
        )

    assert price_sensors(loaded_entry) == ["sensor.ev_flex_garage_import_price"]
    assert price_sensors(cabin) == [
        "sensor.ev_flex_cabin_export_price",
        "sensor.ev_flex_cabin_import_price",
    ]
    for entry, name in ((loaded_entry, "EV Flex Garage"), (cabin, "EV Flex Cabin")):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, service_device_id(entry)), entry.entry_id
        )
        assert device is not None
        assert device.name == name


@pytest.mark.parametrize(
    ("language", "summary", "description"),
    [
        ("en", "Charge EV Flex Simulator Sedan 75 kWh at {kw} kW", "Planned by EV Flex"),
        ("de", "EV Flex Simulator Sedan 75 kWh mit {kw} kW laden", "Von EV Flex geplant"),
    ],
)
async def test_calendar_events_name_the_car_and_its_power(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    language: str,
    summary: str,
    description: str,
) -> None:
    """An event says which car charges and at what power, to 10 W, in the server's language
    and with its decimal separator."""
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    await turn_on_smart_charging(hass, freezer)
    plan = loaded_entry.runtime_data.smart_charging[VEHICLE_ID].controller.state.plan
    assert plan is not None
    answer = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": f"calendar.{CAR}_charging_plan",
            "start_date_time": START,
            "end_date_time": START + timedelta(days=1),
        },
        blocking=True,
        return_response=True,
    )
    assert answer is not None
    events = answer[f"calendar.{CAR}_charging_plan"]["events"]  # type: ignore[index]
    assert events
    planned = {round(window.kw, 2) for window in plan.switch_times}
    separator = "," if language == "de" else "."
    assert {event["summary"] for event in events} <= {
        summary.format(kw=f"{kw:g}".replace(".", separator)) for kw in planned
    }
    assert {event["description"] for event in events} == {description}
