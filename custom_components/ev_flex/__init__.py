"""EV Flex: smart charging and vehicle-to-grid for Home Assistant."""

from datetime import timedelta

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import (
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_COMMAND_DELAY,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    DEFAULT_COMMAND_DELAY_SECONDS,
    DOMAIN,
    SIMULATOR_UPDATE_INTERVAL,
)
from .coordinator import AccountCoordinator, EvFlexConfigEntry, EvFlexRuntimeData
from .core.account import Account, SimulatedAccount
from .core.model import Location
from .core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS, Simulation
from .entity import service_device_id
from .price_source import async_setup_prices

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.DEVICE_TRACKER,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up EV Flex (actions are registered here in later releases)."""
    return True


# Simulated cars outlive a reload of their entry, as real cars do.
SIMULATIONS: HassKey[dict[str, Simulation]] = HassKey(f"{DOMAIN}_simulations")


def _simulation(hass: HomeAssistant, entry: EvFlexConfigEntry) -> Simulation:
    simulations = hass.data.setdefault(SIMULATIONS, {})
    if (simulation := simulations.get(entry.entry_id)) is None:
        data = entry.data
        preset = data[CONF_VEHICLE_PRESET]
        simulation = simulations[entry.entry_id] = Simulation(
            clock=lambda: dt_util.utcnow(),
            vehicle=VEHICLE_PRESETS[preset],
            charger=CHARGER_PRESETS[preset],
            soc_pct=data[CONF_INITIAL_SOC],
            plugged_in=data[CONF_PLUGGED_IN],
            command_delay=timedelta(
                seconds=data.get(CONF_COMMAND_DELAY, DEFAULT_COMMAND_DELAY_SECONDS)
            ),
            vehicle_id=f"{entry.unique_id}-vehicle",
            charger_id=f"{entry.unique_id}-charger",
            # The simulated car lives at the Home Assistant home.
            home=Location(latitude=hass.config.latitude, longitude=hass.config.longitude),
        )
    return simulation


def _build_account(hass: HomeAssistant, entry: EvFlexConfigEntry) -> tuple[Account, timedelta]:
    """The account behind a config entry, and how often to read it."""
    account_type = entry.data[CONF_ACCOUNT_TYPE]
    if account_type == ACCOUNT_TYPE_SIMULATOR:
        return SimulatedAccount(_simulation(hass, entry)), SIMULATOR_UPDATE_INTERVAL
    raise NotImplementedError(account_type)


async def async_setup_entry(hass: HomeAssistant, entry: EvFlexConfigEntry) -> bool:
    """Connect the account and create its devices."""
    account, update_interval = _build_account(hass, entry)
    coordinator = AccountCoordinator(hass, entry, account, update_interval)
    await coordinator.async_config_entry_first_refresh()
    # Prices are optional: without a usable price entity EV Flex still runs (and says why).
    prices = await async_setup_prices(hass, entry)
    entry.runtime_data = EvFlexRuntimeData(account=account, coordinator=coordinator, prices=prices)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: EvFlexConfigEntry) -> bool:
    """Unload the platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: EvFlexConfigEntry) -> None:
    """Forget a removed entry's simulated car."""
    hass.data.get(SIMULATIONS, {}).pop(entry.entry_id, None)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EvFlexConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing a device only when the account no longer lists it."""
    snapshot = entry.runtime_data.coordinator.data
    known = set(snapshot.vehicles) | set(snapshot.chargers)
    if entry.runtime_data.prices is not None:
        known.add(service_device_id(entry))
    return not any(
        domain == DOMAIN and device_id in known for domain, device_id in device.identifiers
    )
