"""The one way EV Flex sends commands, and the one place their errors become messages.

Every command goes through `EvFlexCommands`: the vehicle's charging switch, smart charging and
the live guard route theirs through the EV system (the car first, then the charger it is
plugged into); a charger's own switch and current number send to that charger. The account
decides how long a command is waited for. What went through or was refused for interference is
told to the repair issues, and refused credentials reload the entry, whose setup then asks the
user to sign in again.

Entities wrap their command methods in `command_errors`, which turns account errors into
translated Home Assistant errors and refreshes the account after a command went through.
"""

from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Concatenate, Protocol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .core.account import (
    Account,
    AccountAuthError,
    AccountError,
    AccountUnavailableError,
    CommandRejectedError,
    NoCommandPathError,
)
from .core.enode import InterferenceError
from .core.model import CommandKind, CommandResult, CommandState
from .core.pairing import EvSystem, RoutedCommand, route_command
from .repairs import Interventions, charging_after
from .texts import Texts, account_error_text, async_texts, reason_text


class EvFlexCommands:
    """Sends the commands of one config entry's account."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, account: Account, interventions: Interventions
    ) -> None:
        self._hass = hass
        self._entry_id = entry_id
        self._account = account
        self._interventions = interventions

    async def async_route(
        self,
        system: EvSystem,
        kind: CommandKind,
        value: float | None = None,
        *,
        tried: Iterable[str] = (),
        skip_redundant: bool = False,
    ) -> RoutedCommand:
        """Send a command through a vehicle's EV system (see `core.pairing.route_command`);
        `core.pairing.command_outcome` says what it came to."""
        try:
            routed = await route_command(
                system,
                kind,
                self._account.async_send_and_wait,
                value=value,
                tried=tried,
                skip_redundant=skip_redundant,
            )
        except AccountAuthError:
            self._auth_failed()
            raise
        self._interventions.async_command_routed(system, routed)
        return routed

    async def async_send_to_device(
        self, device_id: str, device_name: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Send a command to one device as it is; its entity shows the effect once the device
        carried it out."""
        try:
            result = await self._account.async_send_command(device_id, kind, value)
        except AccountAuthError:
            self._auth_failed()
            raise
        except InterferenceError:
            self._interventions.async_interference(device_id, device_name)
            raise
        if result.state is CommandState.CONFIRMED:
            self._interventions.async_command_confirmed(device_id, charging=charging_after(kind))
        return result

    async def async_command_status(
        self, system: EvSystem | None, command_id: str, target_id: str
    ) -> CommandResult:
        """Where a command sent earlier stands; one confirmed now is expected to stick."""
        try:
            result = await self._account.async_command_status(command_id, target_id)
        except AccountAuthError:
            self._auth_failed()
            raise
        if result.state is CommandState.CONFIRMED and system is not None:
            self._interventions.async_command_confirmed_for(system, result.target_id, result.kind)
        return result

    async def async_cancel_command(self, command_id: str, target_id: str) -> CommandResult:
        """Take back a command that was not confirmed in time."""
        try:
            return await self._account.async_cancel_command(command_id, target_id)
        except AccountAuthError:
            self._auth_failed()
            raise

    def _auth_failed(self) -> None:
        # The reload's first read is refused too, and that starts the reauthentication.
        self._hass.config_entries.async_schedule_reload(self._entry_id)


def account_error_to_ha(err: AccountError, texts: Texts) -> HomeAssistantError:
    """The translated error a user sees for an account error."""
    if isinstance(err, AccountAuthError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed")
    if isinstance(err, InterferenceError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="interference")
    if isinstance(err, CommandRejectedError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_rejected",
            translation_placeholders={"error": account_error_text(texts, err)},
        )
    if isinstance(err, AccountUnavailableError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="account_unreachable",
            translation_placeholders={"error": account_error_text(texts, err)},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"error": account_error_text(texts, err)},
    )


def failed_command_error(result: CommandResult, texts: Texts) -> HomeAssistantError:
    """The translated error for a command that settled as failed or cancelled."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"error": reason_text(texts, result.ended_reason)},
    )


class CommandEntity(Protocol):
    """What `command_errors` needs of the entity it wraps."""

    hass: HomeAssistant

    @property
    def device_name(self) -> str:
        """The device's name, for messages."""

    async def async_refresh_account(self) -> None:
        """Read the account again, so the command's effect shows."""


def command_errors[EntityT: CommandEntity, **P](
    func: Callable[Concatenate[EntityT, P], Coroutine[Any, Any, CommandResult]],
) -> Callable[Concatenate[EntityT, P], Coroutine[Any, Any, None]]:
    """Wrap an entity's command: account errors and failed results become translated errors,
    and the account is read again once the command went through (or is on its way)."""

    async def handler(self: EntityT, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            result = await func(self, *args, **kwargs)
        except NoCommandPathError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="no_command_path",
                translation_placeholders={"vehicle": self.device_name},
            ) from err
        except AccountError as err:
            raise account_error_to_ha(err, await async_texts(self.hass)) from err
        if result.state in (CommandState.FAILED, CommandState.CANCELLED):
            raise failed_command_error(result, await async_texts(self.hass))
        await self.async_refresh_account()

    return handler
