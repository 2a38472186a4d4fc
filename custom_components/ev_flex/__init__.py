"""EV Flex: smart charging and vehicle-to-grid for Home Assistant."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE, Platform
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .commands import EvFlexCommands
from .const import (
    ACCOUNT_TYPE_ENODE,
    ACCOUNT_TYPE_ENTITIES,
    COMMAND_POLL_SECONDS,
    COMMAND_TIMEOUT_SECONDS,
    CONF_ACCOUNT_TYPE,
    CONF_COMMAND_DELAY,
    CONF_ENODE_OWN_START_STOP,
    CONF_ENODE_USER_ID,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_SIMULATED_HOME,
    CONF_VEHICLE_PRESET,
    CONF_WEBHOOK_ID,
    DEFAULT_COMMAND_DELAY_SECONDS,
    DOMAIN,
    ENODE_POLL_INTERVAL,
    ENODE_POLL_INTERVAL_WITH_WEBHOOK,
    SIMULATOR_UPDATE_INTERVAL,
    WEBHOOK_CHECK_INTERVAL,
)
from .coordinator import AccountCoordinator, EvFlexConfigEntry, EvFlexRuntimeData
from .core.account import Account, HomeReadings, SimulatedAccount
from .core.enode import EnodeAccount
from .core.model import Location
from .core.pairing import PairingTracker, UnlockedCapabilities
from .core.simulated_home import HomeSpec, SimulatedHome
from .core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS, Simulation, SimulatorError
from .enode import (
    EnodeRuntime,
    async_register_link_view,
    async_remove_enode_account,
    client_from_data,
)
from .entities_account import EntitiesAccount, EntitySelection
from .entity import service_device_id, simulated_home_device_id, site_device_id
from .frontend_card import async_register_card
from .location import ChargingLocation
from .price_source import async_setup_prices
from .repairs import Interventions, async_remove_entry_issues
from .schedule import async_remove_schedule, async_setup_schedule, async_start_schedule
from .services import async_setup_services
from .site import async_setup_site
from .site_guard import SiteGuard
from .smart_charging import async_follow_new_vehicles, async_setup_smart_charging
from .stores import EVERYTHING, async_load_store, async_report_reset, device_known
from .websocket_api import async_setup_websocket_api

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.DEVICE_TRACKER,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register EV Flex's actions, the page Enode Link returns the browser to, and the card."""
    async_setup_services(hass)
    async_register_link_view(hass)
    async_setup_websocket_api(hass)
    await async_register_card(hass)
    return True


SIMULATION_STORE_VERSION = 1
SIMULATION_SAVE_DELAY_SECONDS = 60
PAIRING_STORE_VERSION = 1
PAIRING_SAVE_DELAY_SECONDS = 10
# Repair issues about a store name what it belongs to.
SIMULATION_SUBJECT = "simulation"
PAIRING_SUBJECT = "pairing"

# Simulated cars outlive a reload of their entry, as real cars do.
SIMULATIONS: HassKey[dict[str, Simulation]] = HassKey(f"{DOMAIN}_simulations")


def _simulation_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    return Store(hass, SIMULATION_STORE_VERSION, f"{DOMAIN}.simulation.{entry_id}")


def _pairing_store(hass: HomeAssistant, entry_id: str) -> Store[list[dict[str, Any]]]:
    """Capabilities a charger unlocked for a vehicle, kept over restarts."""
    return Store(hass, PAIRING_STORE_VERSION, f"{DOMAIN}.pairing.{entry_id}")


async def _async_load_pairing(
    hass: HomeAssistant, entry: EvFlexConfigEntry, store: Store[list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The readable stored pairing records; unreadable ones are reported and relearned."""
    saved: object = await async_load_store(
        hass,
        store,
        entry_id=entry.entry_id,
        subject=PAIRING_SUBJECT,
        name=entry.title,
        expected=False,
    )
    if saved is None:
        return []
    records = saved if isinstance(saved, list) else [saved]
    readable = [
        record
        for record in records
        if isinstance(record, dict) and UnlockedCapabilities.from_dict(record) is not None
    ]
    if len(readable) != len(records):
        async_report_reset(hass, entry.entry_id, PAIRING_SUBJECT, entry.title, ["pairing.*"])
        # Written back without them, so the next start does not report them again.
        store.async_delay_save(lambda: readable, PAIRING_SAVE_DELAY_SECONDS)
    return readable


async def _async_simulation(hass: HomeAssistant, entry: EvFlexConfigEntry) -> Simulation:
    """The entry's simulated car: kept over reloads, and over restarts through a store."""
    simulations = hass.data.setdefault(SIMULATIONS, {})
    if (simulation := simulations.get(entry.entry_id)) is not None:
        return simulation
    data = entry.data
    preset = data[CONF_VEHICLE_PRESET]
    simulation = Simulation(
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
    store = _simulation_store(hass, entry.entry_id)
    saved = await async_load_store(
        hass,
        store,
        entry_id=entry.entry_id,
        subject=SIMULATION_SUBJECT,
        name=entry.title,
        expected=device_known(hass, entry.entry_id, simulation.vehicle_id),
    )
    if saved is None:
        # Stored at once, so a store missing later on was lost, not new.
        store.async_delay_save(simulation.to_dict, SIMULATION_SAVE_DELAY_SECONDS)
    else:
        try:
            simulation.restore(saved)
        except SimulatorError as err:
            async_report_reset(
                hass, entry.entry_id, SIMULATION_SUBJECT, entry.title, [EVERYTHING], detail=str(err)
            )
    simulations[entry.entry_id] = simulation
    return simulation


async def _async_start_nothing(
    _coordinator: AccountCoordinator, _interventions: Interventions
) -> None:
    """An account kind that needs nothing besides being read."""


@dataclass(kw_only=True)
class AccountSetup:
    """An entry's account, how often to read it, and what its kind needs besides."""

    account: Account
    update_interval: timedelta | None
    # Webhook and charging Location of an Enode account; None for other kinds.
    enode: EnodeRuntime | None = None
    # The account's own id for the charging location, for kinds that keep one.
    account_location_id: Callable[[], str | None] | None = None
    # Wires the kind's own updates (push, webhook, stores) once the account was read.
    start: Callable[[AccountCoordinator, Interventions], Awaitable[None]] = _async_start_nothing
    # The simulated home's meters, for a simulated account that has one.
    home_readings: Callable[[datetime], HomeReadings | None] | None = None


async def _async_build_account(hass: HomeAssistant, entry: EvFlexConfigEntry) -> AccountSetup:
    """The account behind a config entry, and what its kind needs."""
    account_type = entry.data[CONF_ACCOUNT_TYPE]
    if account_type == ACCOUNT_TYPE_ENTITIES:
        return _entities_setup(hass, entry)
    if account_type == ACCOUNT_TYPE_ENODE:
        return _enode_setup(hass, entry)
    return await _async_simulator_setup(hass, entry)


def _simulated_home(hass: HomeAssistant, entry: EvFlexConfigEntry) -> SimulatedHome | None:
    """The house around the simulated charger, where the entry asks for one."""
    if not entry.data.get(CONF_SIMULATED_HOME):
        return None
    spec = HomeSpec(latitude=hass.config.latitude, longitude=hass.config.longitude)
    return SimulatedHome(tz=dt_util.get_default_time_zone(), spec=spec)


def _entities_setup(hass: HomeAssistant, entry: EvFlexConfigEntry) -> AccountSetup:
    """Entities the user already has; their state changes are pushed, never polled."""
    account = EntitiesAccount(
        hass,
        EntitySelection.from_entry_data(entry.data),
        name=entry.title,
        vehicle_id=f"{entry.unique_id}-vehicle",
        charger_id=f"{entry.unique_id}-charger",
    )

    async def start(coordinator: AccountCoordinator, _interventions: Interventions) -> None:
        @callback
        def entities_changed(event: Event[EventStateChangedData]) -> None:
            coordinator.async_set_updated_data(account.snapshot())

        entry.async_on_unload(
            async_track_state_change_event(hass, account.selection.entity_ids(), entities_changed)
        )

    return AccountSetup(account=account, update_interval=None, start=start)


async def _async_simulator_setup(hass: HomeAssistant, entry: EvFlexConfigEntry) -> AccountSetup:
    """The simulated car and charger, stored after every update."""
    simulation = await _async_simulation(hass, entry)
    store = _simulation_store(hass, entry.entry_id)

    async def start(coordinator: AccountCoordinator, _interventions: Interventions) -> None:
        @callback
        def save_simulation() -> None:
            store.async_delay_save(simulation.to_dict, SIMULATION_SAVE_DELAY_SECONDS)

        entry.async_on_unload(coordinator.async_add_listener(save_simulation))

    account = SimulatedAccount(
        simulation,
        _simulated_home(hass, entry),
        command_wait=COMMAND_TIMEOUT_SECONDS,
        poll_interval=COMMAND_POLL_SECONDS,
    )
    return AccountSetup(
        account=account,
        update_interval=SIMULATOR_UPDATE_INTERVAL,
        start=start,
        home_readings=account.home_readings if account.home is not None else None,
    )


def _enode_setup(hass: HomeAssistant, entry: EvFlexConfigEntry) -> AccountSetup:
    """An Enode user, with its webhook and its charging Location."""
    account = EnodeAccount(
        client_from_data(hass, entry.data),
        entry.data[CONF_ENODE_USER_ID],
        # Enode's actions take from seconds to half an hour: sending hands them back pending,
        # and smart charging follows them (webhook or polling).
        command_timeout=0.0,
        own_start_stop=entry.data.get(CONF_ENODE_OWN_START_STOP),
    )
    runtime = EnodeRuntime(
        hass,
        entry,
        account.client,
        user_id=entry.data[CONF_ENODE_USER_ID],
        webhook_id=entry.data[CONF_WEBHOOK_ID],
    )

    async def start(coordinator: AccountCoordinator, interventions: Interventions) -> None:
        await _async_start_enode(hass, entry, account, runtime, coordinator, interventions)

    return AccountSetup(
        account=account,
        update_interval=ENODE_POLL_INTERVAL,
        enode=runtime,
        # Enode places a car at a Location of its own, made for the charging zone.
        account_location_id=lambda: runtime.location_id,
        start=start,
    )


@callback
def _follow_webhook_state(
    runtime: EnodeRuntime, coordinator: AccountCoordinator, account: EnodeAccount
) -> None:
    # A working webhook pushes changes and credential problems; without one, poll faster and
    # read the vendor accounts' validity on every poll.
    working = runtime.webhook_active
    interval = ENODE_POLL_INTERVAL_WITH_WEBHOOK if working else ENODE_POLL_INTERVAL
    coordinator.update_interval = interval
    account.read_linked_vendors = not working


async def _async_start_enode(
    hass: HomeAssistant,
    entry: EvFlexConfigEntry,
    account: EnodeAccount,
    runtime: EnodeRuntime,
    coordinator: AccountCoordinator,
    interventions: Interventions,
) -> None:
    """Start the webhook and the charging Location, and follow the vendors' issues."""

    @callback
    def refresh_from_webhook() -> None:
        # Answer Enode at once; the refresh runs after the response.
        entry.async_create_task(
            hass, coordinator.async_request_refresh(), name="ev_flex webhook refresh"
        )

    @callback
    def action_updated(action_id: str) -> None:
        for charging in entry.runtime_data.smart_charging.values():
            charging.async_action_updated(action_id)

    @callback
    def update_vendor_interventions() -> None:
        interventions.async_vendor_interventions(coordinator.data, runtime.intervention_texts)

    @callback
    def account_updated() -> None:
        runtime.async_on_update(coordinator.data)
        _async_keep_own_capabilities(hass, entry, account)
        for vendor in account.invalid_vendors:
            interventions.async_vendor_relink(vendor)
        update_vendor_interventions()

    runtime.webhook.on_refresh = refresh_from_webhook
    runtime.webhook.on_credentials_invalidated = interventions.async_vendor_relink
    runtime.webhook.on_device_deleted = coordinator.async_device_deleted
    runtime.webhook.on_action_updated = action_updated
    runtime.on_intervention_texts = update_vendor_interventions
    if await runtime.async_start(coordinator.data):
        # Enode placed the cars anew; judge where they are on fresh data.
        await coordinator.async_refresh()

    async def check_webhook(_now: datetime) -> None:
        await runtime.async_check_webhook()
        _follow_webhook_state(runtime, coordinator, account)
        if await runtime.async_check_location(coordinator.data):
            await coordinator.async_request_refresh()

    async def follow_zone() -> None:
        if await runtime.async_follow_zone(coordinator.data):
            await coordinator.async_request_refresh()

    @callback
    def zone_changed(_event: Event[Any]) -> None:
        # The user moved or renamed the zone, or the home location (the home zone falls back
        # to it): Enode's Location follows.
        entry.async_create_task(hass, follow_zone(), name="ev_flex charging zone")

    _follow_webhook_state(runtime, coordinator, account)
    entry.async_on_unload(
        async_track_time_interval(
            hass, check_webhook, WEBHOOK_CHECK_INTERVAL, name="ev_flex webhook check"
        )
    )
    entry.async_on_unload(
        async_track_state_change_event(hass, runtime.zone_entity_id, zone_changed)
    )
    entry.async_on_unload(hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, zone_changed))
    entry.async_on_unload(runtime.async_stop)
    account_updated()
    entry.async_on_unload(coordinator.async_add_listener(account_updated))


async def async_setup_entry(hass: HomeAssistant, entry: EvFlexConfigEntry) -> bool:
    """Connect the account, pair its vehicles and chargers, and create its devices."""
    setup = await _async_build_account(hass, entry)
    pairing_store = _pairing_store(hass, entry.entry_id)
    stored_pairing = await _async_load_pairing(hass, entry, pairing_store)
    pairing = PairingTracker.restore(stored_pairing)
    charging_location = ChargingLocation(hass, lambda: entry.options, setup.account_location_id)
    coordinator = AccountCoordinator(
        hass,
        entry,
        setup.account,
        setup.update_interval,
        pairing=pairing,
        charging_location_known=lambda: charging_location.known,
    )
    await coordinator.async_config_entry_first_refresh()
    interventions = Interventions(hass, entry.entry_id, entry_title=entry.title)
    await setup.start(coordinator, interventions)
    # What the store holds; saved again whenever the unlocked capabilities change.
    saved_pairing: list[dict[str, Any]] = stored_pairing

    @callback
    def account_updated() -> None:
        nonlocal saved_pairing
        interventions.async_update(coordinator.data, coordinator.systems, charging_location)
        if (exported := pairing.export()) != saved_pairing:
            saved_pairing = exported
            pairing_store.async_delay_save(lambda: exported, PAIRING_SAVE_DELAY_SECONDS)

    account_updated()
    entry.async_on_unload(coordinator.async_add_listener(account_updated))
    entry.async_on_unload(interventions.async_unload)
    # Prices are optional: without a usable price entity EV Flex still runs (and says why).
    prices = await async_setup_prices(hass, entry)
    entry.runtime_data = EvFlexRuntimeData(
        account=setup.account,
        coordinator=coordinator,
        interventions=interventions,
        commands=EvFlexCommands(hass, entry.entry_id, setup.account, interventions),
        charging_location=charging_location,
        enode=setup.enode,
        prices=prices,
        home_readings=setup.home_readings,
    )
    entry.runtime_data.site = await async_setup_site(hass, entry)
    entry.runtime_data.smart_charging = await async_setup_smart_charging(hass, entry)
    schedule = entry.runtime_data.schedule = await async_setup_schedule(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    try:
        for charging in entry.runtime_data.smart_charging.values():
            await charging.async_start()
    except Exception:
        # A failed setup must not leave its entities showing stale values.
        await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
        raise
    async_start_schedule(entry, schedule)
    async_follow_new_vehicles(hass, entry)
    if (site := entry.runtime_data.site) is not None:
        guard = SiteGuard(hass, entry, site)
        guard.async_start()
        for charging in entry.runtime_data.smart_charging.values():
            guard.async_follow(charging)
    return True


@callback
def _async_keep_own_capabilities(
    hass: HomeAssistant, entry: EvFlexConfigEntry, account: EnodeAccount
) -> None:
    """Store what the Enode account learned about its cars' own start/stop capability."""
    if account.own_start_stop != entry.data.get(CONF_ENODE_OWN_START_STOP, {}):
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_ENODE_OWN_START_STOP: dict(account.own_start_stop)}
        )


async def async_unload_entry(hass: HomeAssistant, entry: EvFlexConfigEntry) -> bool:
    """Unload the platforms."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: EvFlexConfigEntry) -> None:
    """Forget a removed entry's simulated car, pairing memory and repair issues; for Enode,
    delete the user (with the vendor credentials Enode keeps) and the charging Location."""
    if entry.data.get(CONF_ACCOUNT_TYPE) == ACCOUNT_TYPE_ENODE:
        await async_remove_enode_account(hass, entry)
    hass.data.get(SIMULATIONS, {}).pop(entry.entry_id, None)
    await _simulation_store(hass, entry.entry_id).async_remove()
    await _pairing_store(hass, entry.entry_id).async_remove()
    await async_remove_schedule(hass, entry.entry_id)
    async_remove_entry_issues(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EvFlexConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing a device only when the account no longer lists it."""
    snapshot = entry.runtime_data.coordinator.data
    known = set(snapshot.vehicles) | set(snapshot.chargers)
    if entry.runtime_data.prices is not None:
        known.add(service_device_id(entry))
    if entry.data.get(CONF_SIMULATED_HOME):
        known.add(simulated_home_device_id(entry))
    if entry.runtime_data.site is not None:
        known.add(site_device_id(entry))
    return not any(
        domain == DOMAIN and device_id in known for domain, device_id in device.identifiers
    )
