"""Setting up, unloading and failing to set up an account."""

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.ev_flex import SIMULATIONS, async_remove_config_entry_device
from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation


async def test_load_and_unload(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """The entry loads, creates its entities, and unloads cleanly."""
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.ev_flex_simulator_sedan_75_kwh_battery_level") is not None

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED


async def test_unreachable_account_retries_setup(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulation: Simulation
) -> None:
    """An account that cannot be reached at start-up makes Home Assistant retry later."""
    simulation.set_faults(FaultSettings(account_unreachable=True))
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.SETUP_RETRY
    assert loaded_entry.error_reason_translation_key == "account_unreachable"

    simulation.set_faults(FaultSettings())
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED


async def test_removing_entry_forgets_simulation(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, simulation: Simulation
) -> None:
    """A reload keeps the simulated car's state; removing the entry discards it."""
    simulation.set_soc(77.0)
    await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.runtime_data.account.simulation is simulation

    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.entry_id not in hass.data.get(SIMULATIONS, {})


async def test_devices(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One vehicle device and one charger device, described fully."""
    devices = dr.async_entries_for_config_entry(device_registry, loaded_entry.entry_id)
    assert len(devices) == 2
    for device in sorted(devices, key=lambda device: device.name or ""):
        assert device == snapshot(name=device.name)


async def test_device_removal_only_when_gone(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """A device the account still lists cannot be removed by hand; an unknown one can."""
    vehicle = device_registry.async_get_device_by_identifier(
        (DOMAIN, "simulator-garage-vehicle"), loaded_entry.entry_id
    )
    assert vehicle is not None
    assert not await async_remove_config_entry_device(hass, loaded_entry, vehicle)

    stray = device_registry.async_get_or_create(
        config_entry_id=loaded_entry.entry_id, identifiers={(DOMAIN, "old-car")}
    )
    assert await async_remove_config_entry_device(hass, loaded_entry, stray)


async def test_vanished_device_is_removed(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A device the account stops listing is removed from the registry; offline ones stay."""
    simulation.set_faults(FaultSettings(vehicle_offline=True))
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert device_registry.async_get_device_by_identifier(
        (DOMAIN, "simulator-garage-vehicle"), loaded_entry.entry_id
    )

    # A device missing from one read may be a glitch; gone for half an hour, it goes.
    simulation.charger_id = "replacement-charger"
    for wait in (timedelta(seconds=31), timedelta(seconds=31), timedelta(minutes=30)):
        assert device_registry.async_get_device_by_identifier(
            (DOMAIN, "simulator-garage-charger"), loaded_entry.entry_id
        )
        freezer.tick(wait)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, "simulator-garage-charger"), loaded_entry.entry_id
        )
        is None
    )
    assert device_registry.async_get_device_by_identifier(
        (DOMAIN, "replacement-charger"), loaded_entry.entry_id
    ), "the new charger appears as a device by itself"


@pytest.mark.parametrize("vehicle_preset", ["hatchback", "suv_v2g"])
async def test_every_preset_loads(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """Each simulated car can be set up."""
    assert loaded_entry.state is ConfigEntryState.LOADED


async def test_simulated_car_survives_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    loaded_entry: MockConfigEntry,
    simulation: Simulation,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The simulated car's state is stored and picked up again after a restart."""
    simulation.set_soc(77.0)
    simulation.unplug()
    freezer.tick(timedelta(seconds=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # Shutting down flushes the pending save, as Home Assistant does on stop.
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert hass_storage[f"ev_flex.simulation.{loaded_entry.entry_id}"]["data"]["soc_pct"] == 77.0

    # A restart: the in-memory simulation is gone, only the store remains.
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    hass.data[SIMULATIONS].clear()
    await hass.config_entries.async_setup(loaded_entry.entry_id)
    await hass.async_block_till_done()
    restored = loaded_entry.runtime_data.account.simulation
    assert restored is not simulation
    assert restored.vehicle_state().battery_level_pct == 77.0
    assert not restored.vehicle_state().is_plugged_in


async def test_unreadable_saved_car_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    simulator_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged store does not stop the entry from loading."""
    simulator_entry.add_to_hass(hass)
    hass_storage[f"ev_flex.simulation.{simulator_entry.entry_id}"] = {
        "version": 1,
        "key": f"ev_flex.simulation.{simulator_entry.entry_id}",
        "data": {"soc_pct": "lots"},
    }
    assert await hass.config_entries.async_setup(simulator_entry.entry_id)
    await hass.async_block_till_done()
    assert "Saved data of Garage was reset" in caplog.text
    assert simulator_entry.runtime_data.account.simulation.vehicle_state().battery_level_pct == 40
