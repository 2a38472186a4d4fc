"""Base entities for EV Flex devices."""

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .commands import EvFlexCommands, command_errors
from .const import DOMAIN
from .coordinator import AccountCoordinator, EvFlexConfigEntry
from .core.controller import ControllerSettings, Decision
from .core.model import ChargerState, CommandKind, CommandResult, VehicleState
from .core.pairing import EvSystem
from .helpers import charger_name, charger_own_name, vehicle_name, vehicle_own_name
from .price_source import PriceCoordinator
from .site import HomeSite
from .smart_charging import VehicleSmartCharging, new_vehicle_signal
from .texts import cached_texts


class EvFlexDeviceEntity(CoordinatorEntity[AccountCoordinator]):
    """An entity of one vehicle or charger of an account."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: AccountCoordinator,
        device_id: str,
        description: EntityDescription,
    ) -> None:
        """Attach the entity to its device."""
        super().__init__(coordinator)
        self.entity_description = description
        self.device_id = device_id
        self._attr_unique_id = f"{device_id}_{description.key}"

    @property
    def available(self) -> bool:
        """Unavailable when the account or this device cannot be reached."""
        device = self._device_or_none()
        return super().available and device is not None and device.online

    def _device_or_none(self) -> VehicleState | ChargerState | None:
        raise NotImplementedError

    @property
    def device_name(self) -> str:
        """The device's name, for messages."""
        raise NotImplementedError

    @property
    def commands(self) -> EvFlexCommands:
        """The entry's command path."""
        return self.coordinator.config_entry.runtime_data.commands

    async def async_refresh_account(self) -> None:
        """Read the account now, so a command's effect shows.

        Not the debounced request: two quick commands must both show their effect.
        """
        await self.coordinator.async_refresh()

    @command_errors
    async def async_send_command(
        self, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Send a command to this device, with translated errors, then refresh the account."""
        return await self.commands.async_send_to_device(
            self.device_id, self.device_name, kind, value
        )


def vehicle_device_info(vehicle: VehicleState) -> DeviceInfo:
    """The vehicle's device; every entity of the vehicle describes it the same way, so it is
    named correctly whichever platform registers it first. Without a name of its own it is
    "Vehicle" in the server's language."""
    own = vehicle_own_name(vehicle)
    return DeviceInfo(
        identifiers={(DOMAIN, vehicle.vehicle_id)},
        manufacturer=vehicle.make,
        model=vehicle.model,
        model_id=str(vehicle.year) if vehicle.year else None,
        name=own or None,
        translation_key=None if own else "vehicle",
    )


class EvFlexVehicleEntity(EvFlexDeviceEntity):
    """An entity of a vehicle."""

    def __init__(
        self, coordinator: AccountCoordinator, vehicle_id: str, description: EntityDescription
    ) -> None:
        """Describe the vehicle device."""
        super().__init__(coordinator, vehicle_id, description)
        self._attr_device_info = vehicle_device_info(coordinator.data.vehicles[vehicle_id])

    def _device_or_none(self) -> VehicleState | None:
        return self.coordinator.data.vehicles.get(self.device_id)

    @property
    def device_name(self) -> str:
        """The vehicle's name."""
        return vehicle_name(self.coordinator.data.vehicles[self.device_id], cached_texts(self.hass))

    @property
    def system(self) -> EvSystem | None:
        """The vehicle's EV system (None only before the first pairing update)."""
        return self.coordinator.systems.get(self.device_id)

    @property
    def vehicle(self) -> VehicleState:
        """The vehicle as last reported, merged with the data of the charger it is plugged into."""
        system = self.system
        if system is not None:
            return system.vehicle
        return self.coordinator.data.vehicles[self.device_id]


class EvFlexChargerEntity(EvFlexDeviceEntity):
    """An entity of a home charger."""

    def __init__(
        self, coordinator: AccountCoordinator, charger_id: str, description: EntityDescription
    ) -> None:
        """Describe the charger device."""
        super().__init__(coordinator, charger_id, description)
        charger = coordinator.data.chargers[charger_id]
        own = charger_own_name(charger)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, charger_id)},
            manufacturer=charger.make,
            model=charger.model,
            serial_number=charger.serial_number,
            name=own or None,
            translation_key=None if own else "charger",
        )

    def _device_or_none(self) -> ChargerState | None:
        return self.coordinator.data.chargers.get(self.device_id)

    @property
    def device_name(self) -> str:
        """The charger's name."""
        return charger_name(self.coordinator.data.chargers[self.device_id], cached_texts(self.hass))

    @property
    def charger(self) -> ChargerState:
        """The charger as last reported."""
        return self.coordinator.data.chargers[self.device_id]


def async_setup_device_entities(
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    vehicle_entities: Callable[[AccountCoordinator, str], Iterable[Entity]],
    charger_entities: Callable[[AccountCoordinator, str], Iterable[Entity]],
) -> None:
    """Add entities for every device now, and for devices that appear later."""
    coordinator = entry.runtime_data.coordinator
    known: set[str] = set()

    @callback
    def add_new_devices() -> None:
        # A device that was removed and comes back gets its entities again.
        known.intersection_update(
            coordinator.data.vehicles.keys() | coordinator.data.chargers.keys()
        )
        entities: list[Entity] = []
        for vehicle_id in coordinator.data.vehicles.keys() - known:
            known.add(vehicle_id)
            entities.extend(vehicle_entities(coordinator, vehicle_id))
        for charger_id in coordinator.data.chargers.keys() - known:
            known.add(charger_id)
            entities.extend(charger_entities(coordinator, charger_id))
        if entities:
            async_add_entities(entities)

    add_new_devices()
    entry.async_on_unload(coordinator.async_add_listener(add_new_devices))


def service_device_id(entry: EvFlexConfigEntry) -> str:
    """The identifier of an entry's "EV Flex <entry>" service device (prices)."""
    return f"{entry.unique_id or entry.entry_id}_service"


def site_device_id(entry: EvFlexConfigEntry) -> str:
    """The identifier of an entry's house device (fuse, solar and peak)."""
    return f"{entry.unique_id or entry.entry_id}_site"


class EvFlexSiteEntity(Entity):
    """An entity of the entry's house: reads the site, follows its readings."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, site: HomeSite, description: EntityDescription) -> None:
        """Attach the entity to the entry's house device."""
        self.site = site
        self.entity_description = description
        entry = site.entry
        device_id = site_device_id(entry)
        self._attr_unique_id = f"{device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_id)},
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="EV Flex",
            model=cached_texts(site.hass)("device_house_model"),
            # Named after its entry, in the server's language.
            translation_key="house",
            translation_placeholders={"entry": entry.title},
        )

    async def async_added_to_hass(self) -> None:
        """Follow the house's readings."""
        self.async_on_remove(self.site.async_add_state_listener(self.async_write_ha_state))


def simulated_home_device_id(entry: EvFlexConfigEntry) -> str:
    """The identifier of a simulated account's home device (its grid and solar meters)."""
    return f"{entry.unique_id or entry.entry_id}_home"


class EvFlexPriceEntity(CoordinatorEntity[PriceCoordinator]):
    """An entity of the entry's "EV Flex <entry>" service device, fed by its price source."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: PriceCoordinator, description: EntityDescription) -> None:
        """Attach the entity to the entry's service device."""
        super().__init__(coordinator)
        self.entity_description = description
        device_id = service_device_id(coordinator.config_entry)
        self._attr_unique_id = f"{device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device_id)},
            entry_type=DeviceEntryType.SERVICE,
            manufacturer="EV Flex",
            # Shown on the device page, which otherwise says "<unknown>".
            model=cached_texts(coordinator.hass)("device_prices_model"),
            # Named after its entry, so each entry's price sensors get ids of one pattern.
            name=f"EV Flex {coordinator.config_entry.title}",
        )


class SmartChargingEntity(Entity):
    """An entity of one vehicle's smart charging: it reads the controller's latest decision and
    state, and changes its settings."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, charging: VehicleSmartCharging, description: EntityDescription) -> None:
        """Attach to the vehicle's device."""
        self.charging = charging
        self.entity_description = description
        self._attr_unique_id = f"{charging.vehicle_id}_{description.key}"
        vehicle = charging.coordinator.data.vehicles[charging.vehicle_id]
        self._attr_device_info = vehicle_device_info(vehicle)

    async def async_added_to_hass(self) -> None:
        """Follow the controller's steps."""
        self.async_on_remove(self.charging.async_add_listener(self._handle_step))

    @callback
    def _handle_step(self) -> None:
        self.async_write_ha_state()

    @property
    def decision(self) -> Decision | None:
        """The latest step's answer."""
        return self.charging.controller.decision

    @property
    def settings(self) -> ControllerSettings:
        """The vehicle's smart-charging settings."""
        return self.charging.controller.settings

    @callback
    def change_settings(self, settings: ControllerSettings) -> None:
        """Take the new settings and step at once, so the plan follows."""
        self.charging.controller.settings = settings
        self.charging.async_run()


def charging_currency(charging: VehicleSmartCharging) -> str:
    """The currency of the prices (or Home Assistant's)."""
    prices = charging.entry.runtime_data.prices
    if prices is not None and prices.data is not None:
        return prices.data.currency
    return charging.hass.config.currency


def async_setup_smart_charging_entities(
    entry: EvFlexConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make_entities: Callable[[VehicleSmartCharging], Iterable[Entity]],
) -> None:
    """Add a platform's smart-charging entities for every vehicle now, and for later ones."""

    @callback
    def add(charging: VehicleSmartCharging) -> None:
        async_add_entities(make_entities(charging))

    for charging in entry.runtime_data.smart_charging.values():
        add(charging)
    entry.async_on_unload(
        async_dispatcher_connect(
            entry.runtime_data.coordinator.hass, new_vehicle_signal(entry), add
        )
    )
