"""Actions refuse absurd numbers and times with a translated message, never a traceback."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN

from .priced_simulator import (
    PRICE_ENTITY,
    VEHICLE_ID,
    set_up,
    settle,
    vehicle_device,
)

# The simulated account reads day-ahead prices, in Oslo from 18:00.
pytestmark = pytest.mark.priced_simulator

EXPLICIT = {
    "soc": 20,
    "capacity_kwh": 60,
    "max_power_kw": 7.4,
    "target_soc": 80,
    "departure": "2026-01-14 07:00:00",
    "price_entity": PRICE_ENTITY,
}


async def call(hass: HomeAssistant, action: str, data: dict[str, Any]) -> None:
    """Call an EV Flex action as a user would."""
    await hass.services.async_call(
        DOMAIN,
        action,
        data,
        blocking=True,
        return_response=action == "plan_charging",
    )


async def refused(hass: HomeAssistant, action: str, data: dict[str, Any]) -> str:
    """The translation key of the refusal."""
    with pytest.raises(ServiceValidationError) as raised:
        await call(hass, action, data)
    assert raised.value.translation_domain == DOMAIN
    assert raised.value.translation_placeholders is not None
    return str(raised.value.translation_key)


@pytest.mark.parametrize(
    ("departure", "key"),
    [
        ("9999-12-31 23:59:59", "departure_too_far"),
        ("9999-12-31T23:59:59-12:00", "departure_too_far"),
        ("2026-02-14 19:00:00", "departure_too_far"),
        ("0001-01-01 00:00:00", "departure_in_past"),
    ],
)
async def test_departures_beyond_reason_are_refused(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    departure: str,
    key: str,
) -> None:
    """A departure at the end (or start) of time, or more than 31 days ahead, is refused by
    both actions that take one."""
    device_id = vehicle_device(hass, loaded_entry)
    assert await refused(hass, "plan_charging", {**EXPLICIT, "departure": departure}) == key
    assert (
        await refused(hass, "set_departure", {"device_id": device_id, "departure": departure})
        == key
    )
    settings = loaded_entry.runtime_data.smart_charging[VEHICLE_ID].controller.settings
    assert settings.departure_override is None


async def test_a_month_ahead_is_fine(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
) -> None:
    """Thirty days ahead (back from a holiday) is a departure like any other."""
    device_id = vehicle_device(hass, loaded_entry)
    await call(hass, "set_departure", {"device_id": device_id, "departure": "2026-02-12 07:00"})
    settings = loaded_entry.runtime_data.smart_charging[VEHICLE_ID].controller.settings
    assert settings.departure_override is not None


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"max_power_kw": "inf"}, "power_out_of_range"),
        ({"max_power_kw": 351}, "power_out_of_range"),
        ({"allow_discharge": True, "discharge_power_kw": 1e308 * 10}, "power_out_of_range"),
    ],
)
async def test_plan_charging_power_is_bounded(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    changes: dict[str, Any],
    key: str,
) -> None:
    """Infinite or absurd power is refused with a translated message."""
    assert await refused(hass, "plan_charging", {**EXPLICIT, **changes}) == key


@pytest.mark.parametrize(
    "changes",
    [{"capacity_kwh": 1e9}, {"capacity_kwh": "inf"}, {"soc": "nan"}, {"max_power_kw": "nan"}],
)
async def test_plan_charging_schema_ranges(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    changes: dict[str, Any],
) -> None:
    """The schema itself bounds capacity and percentages, and takes no NaN."""
    with pytest.raises(probatio.Invalid):
        await call(hass, "plan_charging", {**EXPLICIT, **changes})


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"power_kw": "inf"}, "power_out_of_range"),
        ({"power_kw": 1000}, "power_out_of_range"),
        ({"duration": {"days": 1_000_000_000}}, "discharge_too_long"),
        ({"duration": "1000000000:00:00"}, "discharge_too_long"),
        ({"duration": {"hours": 25}}, "discharge_too_long"),
    ],
)
async def test_discharge_bounds(
    hass: HomeAssistant,
    v2g_entry: MockConfigEntry,
    changes: dict[str, Any],
    key: str,
) -> None:
    """A discharge lasting a billion days or at infinite power is refused; nothing is kept."""
    await set_up(hass, v2g_entry)
    data = {
        "device_id": vehicle_device(hass, v2g_entry),
        "power_kw": 5,
        "duration": {"hours": 1},
        **changes,
    }
    assert await refused(hass, "discharge", data) == key
    settings = v2g_entry.runtime_data.smart_charging[VEHICLE_ID].controller.settings
    assert settings.discharge_requests == ()


async def test_pending_discharges_are_capped(
    hass: HomeAssistant,
    v2g_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Ten waiting discharges are the most; cancelling them makes room again."""
    await set_up(hass, v2g_entry)
    device_id = vehicle_device(hass, v2g_entry)
    data = {"device_id": device_id, "power_kw": 5, "duration": {"hours": 24}}
    for _ in range(10):
        await call(hass, "discharge", data)
    assert await refused(hass, "discharge", data) == "too_many_discharge_requests"
    controller = v2g_entry.runtime_data.smart_charging[VEHICLE_ID].controller
    assert len(controller.settings.discharge_requests) == 10

    await call(hass, "cancel_override", {"device_id": device_id})
    await settle(hass)
    freezer.tick(timedelta(seconds=1))
    await call(hass, "discharge", data)
    assert len(controller.settings.discharge_requests) == 1
