"""Coordinators: one per account, turning it into vehicles and chargers."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import DOMAIN, LOGGER
from .core.account import Account, AccountAuthError, AccountError
from .core.model import AccountSnapshot
from .core.pairing import CommandSender, EvSystem, PairingTracker, settling_sender

if TYPE_CHECKING:
    from .price_source import PriceCoordinator
    from .smart_charging import VehicleSmartCharging


@dataclass(kw_only=True)
class EvFlexRuntimeData:
    """What a loaded config entry holds."""

    account: Account
    coordinator: AccountCoordinator
    # The price source, when the options name a price entity (see price_source.py).
    prices: PriceCoordinator | None = None
    # Smart charging per vehicle id (see smart_charging.py).
    smart_charging: dict[str, VehicleSmartCharging] = field(default_factory=dict)


type EvFlexConfigEntry = ConfigEntry[EvFlexRuntimeData]


class AccountCoordinator(DataUpdateCoordinator[AccountSnapshot]):
    """Reads every vehicle and charger of one account."""

    config_entry: EvFlexConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: EvFlexConfigEntry,
        account: Account,
        update_interval: timedelta | None,
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
        self.pairing = PairingTracker()
        # Sends a command and follows it until it settles, so a failed path can fall back.
        self.send_and_wait: CommandSender = getattr(
            account, "async_send_and_wait", None
        ) or settling_sender(account)
        self._listed_device_ids: set[str] | None = None

    @property
    def systems(self) -> dict[str, EvSystem]:
        """The EV system of each vehicle, as of the last `update_systems`."""
        return self.pairing.systems

    def update_systems(self, now: datetime) -> dict[str, EvSystem]:
        """Pair vehicles and chargers from the latest data."""
        return self.pairing.update(self.data, now)

    async def _async_update_data(self) -> AccountSnapshot:
        try:
            snapshot = await self.account.async_snapshot()
        except AccountAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except AccountError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="account_unreachable",
                translation_placeholders={"error": str(err)},
            ) from err
        self._remove_vanished_devices(snapshot)
        return snapshot

    def _remove_vanished_devices(self, snapshot: AccountSnapshot) -> None:
        """Remove devices the account no longer lists (not ones that are merely offline)."""
        current = set(snapshot.vehicles) | set(snapshot.chargers)
        previous, self._listed_device_ids = self._listed_device_ids, current
        if previous is None:
            return
        registry = dr.async_get(self.hass)
        for device_id in previous - current:
            device = registry.async_get_device_by_identifier(
                (DOMAIN, device_id), self.config_entry.entry_id
            )
            if device is not None:
                registry.async_remove_device(device.id)
