"""An EV Flex account backed by one Enode user.

It offers the same interface as every other account kind (`core.account.Account`) and turns
Enode errors into the account errors the Home Assistant layer understands.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
import logging

from ..account import AccountAuthError, AccountUnavailableError, CommandRejectedError
from ..model import AccountSnapshot, CommandKind, CommandResult
from .client import EnodeClient
from .convert import command_result_from, snapshot_from
from .errors import (
    EnodeActionTimeoutError,
    EnodeApiError,
    EnodeAuthError,
    EnodeConnectionError,
    EnodeInterferenceError,
    EnodeMalformedResponseError,
    EnodeNotFoundError,
    EnodeRateLimitedError,
    EnodeServerError,
    EnodeTimeoutError,
)
from .models import ChargeKind, EnodeAction, TargetType

_LOGGER = logging.getLogger(__name__)


class InterferenceError(CommandRejectedError):
    """A schedule or smart charging in another app controls the device (Enode's 422)."""


class RateLimitedError(AccountUnavailableError):
    """Enode asked to slow down; wait `retry_after` seconds before asking again."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@contextmanager
def account_errors() -> Iterator[None]:
    """Re-raise Enode errors as the account errors of `core.account`."""
    try:
        yield
    except EnodeAuthError as err:
        raise AccountAuthError(str(err)) from err
    except EnodeInterferenceError as err:
        raise InterferenceError(str(err)) from err
    except EnodeRateLimitedError as err:
        raise RateLimitedError(str(err), err.retry_after) from err
    except (
        EnodeServerError,
        EnodeTimeoutError,
        EnodeConnectionError,
        EnodeMalformedResponseError,
    ) as err:
        raise AccountUnavailableError(str(err)) from err
    except EnodeApiError as err:
        raise CommandRejectedError(str(err)) from err


class EnodeAccount:
    """The vehicles and chargers one Enode user linked."""

    def __init__(
        self,
        client: EnodeClient,
        user_id: str,
        *,
        command_timeout: float | None = None,
        poll_interval: float | None = None,
    ) -> None:
        self.client = client
        self.user_id = user_id
        self.command_timeout = command_timeout
        self.poll_interval = poll_interval
        # Without a working webhook, credential problems are only seen by reading the user.
        self.read_linked_vendors = True
        # Vendor accounts whose credentials Enode can no longer use (the user must relink).
        self.invalid_vendors: frozenset[str] = frozenset()
        self._target_types: dict[str, TargetType] = {}
        self._command_targets: dict[str, TargetType] = {}

    async def async_snapshot(self) -> AccountSnapshot:
        """Every vehicle and charger of the user, on every page."""
        with account_errors():
            vehicles = await self.client.list_vehicles(self.user_id)
            unreadable = self.client.last_list_unreadable
            chargers = await self.client.list_chargers(self.user_id)
            unreadable += self.client.last_list_unreadable
            if self.read_linked_vendors:
                self.invalid_vendors = await self._invalid_vendors()
        snapshot = replace(snapshot_from(vehicles, chargers), complete=not unreadable)
        self._target_types = dict.fromkeys(snapshot.vehicles, TargetType.VEHICLE)
        self._target_types.update(dict.fromkeys(snapshot.chargers, TargetType.CHARGER))
        return snapshot

    async def _invalid_vendors(self) -> frozenset[str]:
        try:
            user = await self.client.get_user(self.user_id)
        except EnodeNotFoundError:
            # Nothing linked yet: Enode has no such user.
            return frozenset()
        return frozenset(vendor.vendor for vendor in user.linked_vendors if not vendor.is_valid)

    def target_type(self, target_id: str) -> TargetType:
        """Whether an id is one of the user's vehicles or chargers (as of the last snapshot)."""
        try:
            return self._target_types[target_id]
        except KeyError:
            raise CommandRejectedError(f"no vehicle or charger with id {target_id}") from None

    async def _create(self, target_id: str, kind: CommandKind, value: float | None) -> EnodeAction:
        target_type = self.target_type(target_id)
        with account_errors():
            if kind in (CommandKind.START, CommandKind.STOP):
                charge_kind = ChargeKind.START if kind is CommandKind.START else ChargeKind.STOP
                action = await self.client.create_charge_action(target_type, target_id, charge_kind)
            elif kind is CommandKind.SET_MAX_CURRENT:
                if value is None:
                    raise CommandRejectedError("set_max_current needs a current in amperes")
                action = await self.client.create_max_current_action(target_type, target_id, value)
            else:
                raise CommandRejectedError(f"Enode cannot {kind.value}")
        self._command_targets[action.id] = target_type
        return action

    async def async_send_command(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Create the action; the result is usually still pending."""
        return command_result_from(await self._create(target_id, kind, value))

    async def async_command_status(self, command_id: str) -> CommandResult:
        """The state of an action created through this account."""
        target_type = self._command_targets.get(command_id)
        if target_type is None:
            raise CommandRejectedError(f"no command with id {command_id}")
        with account_errors():
            action = await self.client.get_action(target_type, command_id)
        return command_result_from(action)

    async def async_send_and_wait(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Create the action and follow it until it settles.

        A result that is still PENDING means the wait timed out.
        """
        action = await self._create(target_id, kind, value)
        with account_errors():
            try:
                action = await self.client.wait_for_action(
                    action,
                    target_type=self._command_targets[action.id],
                    max_wait=self.command_timeout,
                    poll_interval=self.poll_interval,
                )
            except EnodeActionTimeoutError as err:
                _LOGGER.debug("Action %s still pending when the wait ended", action.id)
                action = err.action
        return command_result_from(action)
