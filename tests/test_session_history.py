"""The session history through Home Assistant: recorded at unplug, kept over restarts and for
two years, exported with ev_flex.export_sessions and in the diagnostics."""

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    CLIENT_ID,
    MockConfigEntry,
    MockUser,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.simulator import Simulation

from .prices_common import START, TZ_NAME
from .schedule_support import VEHICLE_ID, advance, set_up_simulator, vehicle_device_id

DAY = START.date().isoformat()


@pytest.fixture
def simulator_entry(
    simulator_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """The simulated car, plugged in at 40 % at 00:20 in Stockholm."""
    freezer.move_to(START)
    return simulator_entry


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, simulator_entry: MockConfigEntry) -> MockConfigEntry:
    await hass.config.async_set_time_zone(TZ_NAME)
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return simulator_entry


async def export(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, "export_sessions", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def charge_an_hour_and_unplug(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, simulation: Simulation
) -> None:
    """Smart charging is off: the car charges at once, then leaves."""
    await advance(hass, freezer, START + timedelta(hours=1))
    simulation.unplug()
    await advance(hass, freezer, START + timedelta(hours=1, minutes=5))


async def test_a_finished_session_is_recorded_and_exported(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    await charge_an_hour_and_unplug(hass, freezer, simulation)
    answer = await export(hass, start=DAY, end=DAY)
    assert answer["start"] == answer["end"] == DAY
    (session,) = answer["sessions"]
    assert session["vehicle"] == "EV Flex Simulator Sedan 75 kWh"
    assert session["vehicle_id"] == VEHICLE_ID
    assert datetime.fromisoformat(session["started_at"]) == START
    assert START + timedelta(hours=1) <= datetime.fromisoformat(session["ended_at"])
    assert session["energy_kwh"] > 5
    assert session["departure"] == START.replace(hour=7, minute=0).isoformat()
    assert session["target_soc"] == 80.0
    # An hour at full power does not take 40 % to 80 %: the departure was missed.
    assert 40 < session["soc_at_end"] < 80
    assert session["departure_met"] is False
    assert session["solar_share"] is None
    assert session["currency"] == hass.config.currency

    # One vehicle's sessions by its device; other days have none.
    device_id = vehicle_device_id(hass, loaded_entry)
    by_device = await export(hass, device_id=device_id, start=DAY, end=DAY)
    assert by_device["sessions"] == answer["sessions"]
    next_day = (START + timedelta(days=1)).date().isoformat()
    assert (await export(hass, start=next_day, end=next_day))["sessions"] == []

    # Kept over a restart, and in the diagnostics.
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert (await export(hass, start=DAY, end=DAY))["sessions"] == answer["sessions"]


async def test_sessions_are_in_the_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    await charge_an_hour_and_unplug(hass, freezer, simulation)
    # A token of the moment: the frozen clock went past the fixture's.
    refresh_token = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
    token = hass.auth.async_create_access_token(refresh_token)
    diagnostics = await get_diagnostics_for_config_entry(
        hass, lambda: hass_client(token), loaded_entry
    )
    (session,) = diagnostics["session_history"]
    assert session["vehicle_id"] == VEHICLE_ID
    assert "location" not in session


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        ("2025-10-08", "2025-10-01", "export_range_reversed"),
        ("1900-01-01", "2025-10-07", "export_range_absurd"),
        ("2025-10-01", "9999-12-31", "export_range_absurd"),
    ],
)
async def test_a_reversed_or_absurd_range_is_refused(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, start: str, end: str, key: str
) -> None:
    with pytest.raises(ServiceValidationError) as caught:
        await export(hass, start=start, end=end)
    assert caught.value.translation_key == key
    assert caught.value.translation_domain == DOMAIN


def stored(entry: MockConfigEntry, sessions: Any) -> dict[str, Any]:
    key = f"{DOMAIN}.sessions.{entry.entry_id}"
    return {"version": 1, "key": key, "data": {"sessions": sessions, "reminded": {}}}


def record(ended_at: datetime, energy: float = 10.0) -> dict[str, Any]:
    return {
        "vehicle_id": VEHICLE_ID,
        "started_at": (ended_at - timedelta(hours=8)).isoformat(),
        "ended_at": ended_at.isoformat(),
        "energy_kwh": energy,
        "energy_out_kwh": 0.0,
        "cost": 2.0,
        "savings": 0.5,
        "solar_share": None,
        "departure": None,
        "target_soc_pct": None,
        "soc_at_end_pct": None,
    }


async def test_unreadable_records_are_dropped_and_reported_old_ones_pruned(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
) -> None:
    """A record that can't be read is left out (a repair issue says so); the others load, except
    those older than two years."""
    yesterday = START - timedelta(days=1)
    three_years_ago = START - timedelta(days=3 * 365)
    bad = {**record(yesterday), "energy_kwh": "lots"}
    hass_storage[f"{DOMAIN}.sessions.{simulator_entry.entry_id}"] = stored(
        simulator_entry, [record(three_years_ago), bad, record(yesterday, 12.5)]
    )
    await hass.config.async_set_time_zone(TZ_NAME)
    simulator_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    answer = await export(hass, start="2020-01-01", end=DAY)
    assert [session["energy_kwh"] for session in answer["sessions"]] == [12.5]
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"store_unreadable_{simulator_entry.entry_id}_sessions"
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "charging session history" in issue.translation_placeholders["reset"]


async def test_a_removed_entry_forgets_its_history(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    await charge_an_hour_and_unplug(hass, freezer, simulation)
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert f"{DOMAIN}.sessions.{loaded_entry.entry_id}" in hass_storage
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert f"{DOMAIN}.sessions.{loaded_entry.entry_id}" not in hass_storage


HOUSE = "sensor.grid_power"
SOLAR = "sensor.solar_power"


async def test_charging_from_solar_surplus_shows_in_the_session(
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The house exports 40 kW before the car: all the car's charge is solar."""
    await hass.config.async_set_time_zone(TZ_NAME)
    hass.states.async_set(HOUSE, "-40", {"unit_of_measurement": "kW"})
    hass.states.async_set(SOLAR, "45", {"unit_of_measurement": "kW"})
    site = {
        "house_entity": HOUSE,
        "house_kind": "grid",
        "solar_entity": SOLAR,
        "fuse_a": 63,
        "phases": 3,
    }
    entry = await set_up_simulator(hass, simulator_entry, {"site": site})
    simulation: Simulation = entry.runtime_data.account.simulation
    await charge_an_hour_and_unplug(hass, freezer, simulation)
    (session,) = (await export(hass, start=DAY, end=DAY))["sessions"]
    assert session["energy_kwh"] > 5
    assert session["solar_share"] == 1.0
