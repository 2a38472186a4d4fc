"""Coordinators: one per account, turning it into vehicles, chargers and EV systems."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .core.account import Account, AccountAuthError, AccountError, HomeReadings
from .core.enode import RateLimitedError
from .core.model import AccountSnapshot
from .core.pairing import EvSystem, PairingTracker
from .core.roster import DeviceRoster
from .texts import account_error_text, cached_texts

if TYPE_CHECKING:
    from .commands import EvFlexCommands
    from .enode import EnodeRuntime
    from .location import ChargingLocation
    from .price_source import PriceCoordinator
    from .repairs import Interventions
    from .schedule import ScheduleRuntime
    from .site import HomeSite
    from .smart_charging import VehicleSmartCharging


@dataclass(kw_only=True)
class EvFlexRuntimeData:
    """What a loaded config entry holds."""

    account: Account
    coordinator: AccountCoordinator
    interventions: Interventions
    # Every command to a car or charger goes through here (see commands.py).
    commands: EvFlexCommands
    # Whether a car is at the charging location: one answer for everyone (see location.py).
    charging_location: ChargingLocation
    # Webhook and charging location of an Enode account; None for other kinds.
    enode: EnodeRuntime | None = None
    # The price source, when the options name a price entity (see price_source.py).
    prices: PriceCoordinator | None = None
    # Smart charging per vehicle id (see smart_charging.py).
    smart_charging: dict[str, VehicleSmartCharging] = field(default_factory=dict)
    # Calendar departures, plug-in reminders and the session history (see schedule.py).
    schedule: ScheduleRuntime | None = None
    # The house around the chargers, when the options describe it (see site.py).
    site: HomeSite | None = None
    # The simulated home's meters, for a simulated account that has one.
    home_readings: Callable[[datetime], HomeReadings | None] | None = None


type EvFlexConfigEntry = ConfigEntry[EvFlexRuntimeData]


# Never wait longer than this between polls, however often Enode says "slow down".
MAX_RATE_LIMIT_WAIT_SECONDS = 3600.0


class AccountCoordinator(DataUpdateCoordinator[AccountSnapshot]):
    """Reads every vehicle and charger of one account and pairs them into EV systems."""

    config_entry: EvFlexConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EvFlexConfigEntry,
        account: Account,
        update_interval: timedelta | None,
        *,
        pairing: PairingTracker | None = None,
        charging_location_known: Callable[[], bool] = lambda: True,
    ) -> None:
        """Set up the coordinator for one account."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} account {entry.title}",
            update_interval=update_interval,
        )
        self.account = account
        self.pairing = pairing or PairingTracker()
        self._charging_location_known = charging_location_known
        self.roster = DeviceRoster()
        self._rate_limit_strikes = 0
        # When the account's data was last read (a command sent before it shows in it).
        self.data_read_at: datetime | None = None

    @property
    def systems(self) -> dict[str, EvSystem]:
        """The EV system of each vehicle, as of the last update."""
        return self.pairing.systems

    def update_systems(self, now: datetime) -> dict[str, EvSystem]:
        """Pair vehicles and chargers from the latest data (every update does this too)."""
        return self.pairing.update(
            self.data, now, charging_location_known=self._charging_location_known()
        )

    async def _async_update_data(self) -> AccountSnapshot:
        try:
            snapshot = await self.account.async_snapshot()
        except AccountAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except RateLimitedError as err:
            # Slow down instead of failing: wait at least Retry-After, and longer each time
            # Enode says so again.
            self._rate_limit_strikes += 1
            interval = self.update_interval.total_seconds() if self.update_interval else 0.0
            wait = min(
                MAX_RATE_LIMIT_WAIT_SECONDS,
                max(err.retry_after, interval * 2**self._rate_limit_strikes),
            )
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"seconds": f"{wait:.0f}"},
                retry_after=wait,
            ) from err
        except AccountError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="account_unreachable",
                translation_placeholders={
                    "error": account_error_text(cached_texts(self.hass), err)
                },
            ) from err
        self._rate_limit_strikes = 0
        self.data_read_at = dt_util.utcnow()
        snapshot = self._keep_or_remove_missing(snapshot)
        self._update_pairing(snapshot)
        return snapshot

    def async_set_updated_data(self, data: AccountSnapshot) -> None:
        """Pushed data (entities accounts) is paired like polled data."""
        self.data_read_at = dt_util.utcnow()
        self._update_pairing(data)
        super().async_set_updated_data(data)

    def _update_pairing(self, snapshot: AccountSnapshot) -> None:
        self.pairing.update(
            snapshot, dt_util.utcnow(), charging_location_known=self._charging_location_known()
        )

    @callback
    def async_device_deleted(self, device_id: str) -> None:
        """The account said a device was deleted: remove it on the next read that lacks it."""
        self.roster.mark_deleted(device_id)

    def _keep_or_remove_missing(self, snapshot: AccountSnapshot) -> AccountSnapshot:
        """Keep devices a read lacks (offline) until they are surely gone, then remove them."""
        kept, removed = self.roster.reconcile(
            snapshot, dt_util.utcnow(), complete=snapshot.complete
        )
        registry = dr.async_get(self.hass)
        for device_id in removed:
            device = registry.async_get_device_by_identifier(
                (DOMAIN, device_id), self.config_entry.entry_id
            )
            if device is not None:
                registry.async_remove_device(device.id)
        return kept
