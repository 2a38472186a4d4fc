"""Devices of an Enode account come and go: a glitch at Enode never deletes a car."""

import logging
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import ENODE_USER, entity_id, link_site, poll, setup_entry, turn_on_smart_charging


def controller_store_keys(hass_storage: dict[str, Any], entry: MockConfigEntry) -> list[str]:
    return [key for key in hass_storage if key.startswith(f"{DOMAIN}.controller.{entry.entry_id}")]


@pytest.mark.usefixtures("polling_only")
async def test_one_empty_vehicle_list_keeps_the_car(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enode answering once with no vehicles leaves the car, its renamed entities and its smart
    charging settings alone; the entities are unavailable meanwhile and come back with it."""
    site = link_site(fake_enode)
    car = site.vehicle_id or ""
    await setup_entry(hass, enode_entry)
    battery = entity_id(hass, "sensor", f"{car}_battery_level")
    entity_registry.async_update_entity(battery, new_entity_id="sensor.my_car_battery")
    await turn_on_smart_charging(hass, car)

    fake_enode.faults.empty_lists = True
    await poll(hass, freezer)
    assert device_registry.async_get_device_by_identifier((DOMAIN, car), enode_entry.entry_id)
    assert hass.states.get("sensor.my_car_battery").state == STATE_UNAVAILABLE
    assert enode_entry.runtime_data.smart_charging[car].controller.settings.smart_charging

    fake_enode.faults.empty_lists = False
    await poll(hass, freezer)
    assert float(hass.states.get("sensor.my_car_battery").state) == pytest.approx(45, abs=1)
    assert enode_entry.runtime_data.smart_charging[car].controller.settings.smart_charging
    assert hass.states.get(entity_id(hass, "switch", f"{car}_smart_charging")).state == "on"


@pytest.mark.usefixtures("polling_only")
async def test_a_car_missing_for_a_while_is_removed_and_comes_back(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Missing from three reads in a row over half an hour, the car goes (device, entities and
    stored settings); listed again later, it gets its entities back."""
    site = link_site(fake_enode)
    car = site.vehicle_id or ""
    await setup_entry(hass, enode_entry)
    await turn_on_smart_charging(hass, car)
    # Two polls: the settings are stored a few seconds after the step a poll makes.
    await poll(hass, freezer)
    await poll(hass, freezer)
    assert controller_store_keys(hass_storage, enode_entry)

    fake_enode.faults.empty_lists = True
    # Three reads within minutes are not enough: Enode may be having a bad quarter hour.
    for _ in range(3):
        await poll(hass, freezer)
    assert device_registry.async_get_device_by_identifier((DOMAIN, car), enode_entry.entry_id)
    await poll(hass, freezer, minutes=30)
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, car), enode_entry.entry_id) is None
    )
    assert car not in enode_entry.runtime_data.smart_charging
    await hass.async_block_till_done()
    assert not controller_store_keys(hass_storage, enode_entry)
    assert er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{car}_battery_level") is None

    fake_enode.faults.empty_lists = False
    await poll(hass, freezer)
    battery = entity_id(hass, "sensor", f"{car}_battery_level")
    assert float(hass.states.get(battery).state) > 45, "charging meanwhile"
    assert hass.states.get(entity_id(hass, "switch", f"{car}_smart_charging")).state == "off"


@pytest.mark.usefixtures("polling_only")
async def test_unreadable_entries_do_not_count_as_missing(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """While Enode lists entries EV Flex cannot read, a missing car may be one of them: it is
    kept however long that lasts."""
    site = link_site(fake_enode)
    car = site.vehicle_id or ""
    await setup_entry(hass, enode_entry)
    fake_enode.faults.empty_lists = True
    fake_enode.add_raw_vehicle("ha-user-1", {"information": {"brand": "Nameless"}})
    for _ in range(5):
        await poll(hass, freezer, minutes=15)
    assert device_registry.async_get_device_by_identifier((DOMAIN, car), enode_entry.entry_id)


@pytest.mark.usefixtures("polling_only")
async def test_removing_the_entry_deletes_the_enode_user_and_location(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, enode_entry: MockConfigEntry
) -> None:
    """Removal deletes the Enode user (and so the vendor credentials Enode keeps) and the
    charging Location EV Flex made; the devices are free to link elsewhere."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    assert fake_enode._locations
    await hass.config_entries.async_remove(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert ENODE_USER not in fake_enode._users
    assert not fake_enode._locations
    assert site.vehicle_user is None
    assert site.charger_user is None


@pytest.mark.usefixtures("polling_only")
async def test_removal_goes_ahead_when_enode_fails(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Enode failing during removal does not keep the entry; the log says what is left."""
    link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    fake_enode.faults.server_error_rate = 1.0
    await hass.config_entries.async_remove(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.config_entries.async_get_entry(enode_entry.entry_id) is None
    assert ENODE_USER in fake_enode._users
    assert "remove them in Enode's dashboard" in caplog.text


HOSTILE_ID = "../../../config/secrets/.."


@pytest.mark.usefixtures("polling_only")
async def test_hostile_vehicle_values_become_unknown(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An id with `/` and `..` never names a file outside the storage folder; NaN, infinite
    and impossible numbers read as unknown, without an error on every poll."""
    link_site(fake_enode)
    fake_enode.add_raw_vehicle(
        ENODE_USER,
        {
            "id": HOSTILE_ID,
            "vendor": "TESLA",
            "information": {"brand": "Hostile", "model": "X", "year": 1e300},
            "chargeState": {
                "batteryLevel": math.nan,
                "batteryCapacity": -75,
                "range": math.inf,
                "chargeRate": -math.inf,
                "chargeLimit": 1e308,
                "isPluggedIn": True,
            },
            "location": {"latitude": math.inf, "longitude": 10.7},
            "odometer": {"distance": -1},
            "capabilities": {},
        },
    )
    with caplog.at_level(logging.WARNING):
        await setup_entry(hass, enode_entry)
        await poll(hass, freezer)
        await poll(hass, freezer)
        await hass.config_entries.async_unload(enode_entry.entry_id)
        await hass.async_block_till_done()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    keys = controller_store_keys(hass_storage, enode_entry)
    assert len(keys) == 2, "both cars' smart charging was stored"
    assert all("/" not in key and ".." not in key for key in hass_storage)

    await hass.config_entries.async_setup(enode_entry.entry_id)
    await hass.async_block_till_done()
    for key in ("battery_level", "range"):
        state = hass.states.get(entity_id(hass, "sensor", f"{HOSTILE_ID}_{key}"))
        assert state.state == STATE_UNKNOWN, key
    tracker = hass.states.get(entity_id(hass, "device_tracker", f"{HOSTILE_ID}_location"))
    assert tracker.state == STATE_UNKNOWN


@pytest.mark.usefixtures("polling_only")
async def test_interventions_show_the_vendors_own_words(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A capability blocked by an intervention raises an issue with the vendor's title and
    description (read once); one Enode cannot describe gets the generic text; both go when the
    vendor unblocks the device."""
    site = link_site(fake_enode)
    car, charger = site.vehicle_id or "", site.charger_id or ""
    await setup_entry(hass, enode_entry)
    known = fake_enode.add_intervention(
        vendor=site.vehicle_vendor,
        vendor_type="vehicle",
        title="Activate remote access",
        description="Open the car's app and turn on *remote access*.",
    )
    fake_enode.block(car, "startCharging", known)
    fake_enode.block(charger, "setMaxCurrent", "unknown-intervention")
    await poll(hass, freezer)
    await poll(hass, freezer)
    await hass.async_block_till_done()

    entry_id = enode_entry.entry_id
    vendor_issue = issue_registry.async_get_issue(
        DOMAIN, f"vendor_intervention_{entry_id}_{car}_{known}"
    )
    assert vendor_issue is not None
    assert vendor_issue.translation_key == "vendor_intervention"
    assert vendor_issue.translation_placeholders == {
        "entry": "Model 3",
        "device": "EV Flex Simulator Sedan 75 kWh",
        "title": "Activate remote access",
        "description": "Open the car's app and turn on *remote access*.",
    }
    generic = issue_registry.async_get_issue(
        DOMAIN, f"vendor_intervention_{entry_id}_{charger}_unknown-intervention"
    )
    assert generic is not None
    assert generic.translation_key == "vendor_intervention_generic"
    asked = [path for _, path, _ in fake_enode.request_log if path.startswith("/interventions/")]
    assert sorted(asked) == sorted(
        [f"/interventions/{known}", "/interventions/unknown-intervention"]
    )

    fake_enode.unblock(car)
    fake_enode.unblock(charger)
    await poll(hass, freezer)
    assert not [i for i in issue_registry.issues.values() if "vendor_intervention" in i.issue_id]
