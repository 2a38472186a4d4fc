"""An EV Flex account backed by one Enode user.

It offers the same interface as every other account kind (`core.account.Account`) and turns
Enode errors into the account errors the Home Assistant layer understands.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
import logging

from ..account import (
    AccountAuthError,
    AccountUnavailableError,
    CommandRejectedError,
    ControlledElsewhereError,
)
from ..model import AccountSnapshot, CommandKind, CommandResult, CommandState, Reason, ReasonCode
from .client import EnodeClient
from .convert import command_result_from, enode_reason, snapshot_from
from .errors import (
    EnodeActionTimeoutError,
    EnodeApiError,
    EnodeAuthError,
    EnodeBadRequestError,
    EnodeConflictError,
    EnodeConnectionError,
    EnodeInterferenceError,
    EnodeMalformedResponseError,
    EnodeNotFoundError,
    EnodeRateLimitedError,
    EnodeServerError,
    EnodeTimeoutError,
)
from .models import ChargeKind, EnodeAction, FailureReasonType, TargetType

_LOGGER = logging.getLogger(__name__)

# Actions whose target type is remembered; older ones are forgotten (their device is known to
# whoever follows them), so the record does not grow with every command ever sent.
MAX_REMEMBERED_ACTIONS = 100


class InterferenceError(ControlledElsewhereError):
    """A schedule or smart charging in another app controls the device (Enode's 422)."""


class RateLimitedError(AccountUnavailableError):
    """Enode asked to slow down; wait `retry_after` seconds before asking again."""

    def __init__(self, message: str, retry_after: float, reason: Reason | None = None) -> None:
        super().__init__(message, reason)
        self.retry_after = retry_after


@contextmanager
def account_errors() -> Iterator[None]:
    """Re-raise Enode errors as the account errors of `core.account`."""
    try:
        yield
    except EnodeAuthError as err:
        raise AccountAuthError(str(err), enode_reason(err)) from err
    except EnodeInterferenceError as err:
        raise InterferenceError(str(err), enode_reason(err)) from err
    except EnodeRateLimitedError as err:
        raise RateLimitedError(str(err), err.retry_after, enode_reason(err)) from err
    except (
        EnodeServerError,
        EnodeTimeoutError,
        EnodeConnectionError,
        EnodeMalformedResponseError,
    ) as err:
        raise AccountUnavailableError(str(err), enode_reason(err)) from err
    except EnodeApiError as err:
        raise CommandRejectedError(str(err), enode_reason(err)) from err


class EnodeAccount:
    """The vehicles and chargers one Enode user linked."""

    def __init__(
        self,
        client: EnodeClient,
        user_id: str,
        *,
        command_timeout: float | None = None,
        poll_interval: float | None = None,
        own_start_stop: Mapping[str, bool] | None = None,
    ) -> None:
        self.client = client
        # Whether each car starts and stops charging by itself, learned while the user had no
        # charger linked: with Enode's EV-charger pairing a linked charger makes the car report
        # start/stop capability it lacks on its own (the API does not tell the two apart).
        self.own_start_stop: dict[str, bool] = dict(own_start_stop or {})
        self.user_id = user_id
        # How long `async_send_and_wait` follows an action (None: the client's action timeout).
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
        if not chargers and not unreadable:
            for vehicle in vehicles:
                capabilities = vehicle.capabilities
                self.own_start_stop[vehicle.id] = (
                    capabilities.start_charging.is_capable and capabilities.stop_charging.is_capable
                )
        snapshot = self._with_own_capabilities(
            replace(snapshot_from(vehicles, chargers), complete=not unreadable)
        )
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

    def _with_own_capabilities(self, snapshot: AccountSnapshot) -> AccountSnapshot:
        """Cars report only the start/stop capability they have without a charger."""
        vehicles = {
            vehicle_id: replace(
                vehicle,
                capabilities=replace(
                    vehicle.capabilities,
                    can_start_stop=vehicle.capabilities.can_start_stop
                    and self.own_start_stop.get(vehicle_id, True),
                ),
            )
            for vehicle_id, vehicle in snapshot.vehicles.items()
        }
        return replace(snapshot, vehicles=vehicles)

    def target_type(self, target_id: str) -> TargetType:
        """Whether an id is one of the user's vehicles or chargers (as of the last snapshot)."""
        try:
            return self._target_types[target_id]
        except KeyError:
            raise CommandRejectedError(
                f"no vehicle or charger with id {target_id}",
                Reason(ReasonCode.NO_DEVICE, {"id": target_id}),
            ) from None

    async def _create(self, target_id: str, kind: CommandKind, value: float | None) -> EnodeAction:
        target_type = self.target_type(target_id)
        with account_errors():
            if kind in (CommandKind.START, CommandKind.STOP):
                charge_kind = ChargeKind.START if kind is CommandKind.START else ChargeKind.STOP
                action = await self.client.create_charge_action(target_type, target_id, charge_kind)
            elif kind is CommandKind.SET_MAX_CURRENT:
                if value is None:
                    raise CommandRejectedError(
                        "set_max_current needs a current in amperes",
                        Reason(ReasonCode.NEEDS_CURRENT),
                    )
                action = await self.client.create_max_current_action(target_type, target_id, value)
            else:
                raise CommandRejectedError(
                    f"Enode cannot {kind.value}", Reason(ReasonCode.CANNOT, {"action": kind.value})
                )
        self._command_targets[action.id] = target_type
        while len(self._command_targets) > MAX_REMEMBERED_ACTIONS:
            del self._command_targets[next(iter(self._command_targets))]
        return action

    async def async_send_command(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Create the action; the result is usually still pending.

        A START or STOP Enode refuses with 400 counts as confirmed when a fresh read shows the
        device already in that state (Enode's answer for redundant commands).
        """
        try:
            return command_result_from(await self._create(target_id, kind, value))
        except CommandRejectedError as err:
            if kind not in (CommandKind.START, CommandKind.STOP) or not isinstance(
                err.__cause__, EnodeBadRequestError
            ):
                raise
            if not await self._already_so(target_id, kind):
                raise
            _LOGGER.debug("%s for %s was redundant: %s", kind.value, target_id, err)
            return CommandResult(
                command_id=f"redundant-{target_id}",
                kind=kind,
                target_id=target_id,
                state=CommandState.CONFIRMED,
                failure_reason=err.reason,
                redundant=True,
            )

    async def _already_so(self, target_id: str, kind: CommandKind) -> bool:
        """Whether a fresh read shows the device in the state `kind` asks for."""
        with account_errors():
            if self.target_type(target_id) is TargetType.VEHICLE:
                charge = (await self.client.get_vehicle(target_id)).charge_state
                charging, full = charge.is_charging, charge.is_fully_charged
            else:
                charging = (await self.client.get_charger(target_id)).charge_state.is_charging
                full = None
        if kind is CommandKind.START:
            return charging is True or full is True
        return charging is False

    def _type_of_command(self, command_id: str, target_id: str | None) -> TargetType:
        """Where an action lives: remembered from its creation, else from its device (after a
        restart only the device is known)."""
        target_type = self._command_targets.get(command_id)
        if target_type is not None:
            return target_type
        if target_id is None:
            raise CommandRejectedError(
                f"no command with id {command_id}",
                Reason(ReasonCode.NO_COMMAND, {"id": command_id}),
            )
        return self.target_type(target_id)

    async def async_command_status(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """The state of an action; one that ended UNNECESSARY counts as confirmed once a fresh
        read shows the device in the requested state."""
        target_type = self._type_of_command(command_id, target_id)
        with account_errors():
            action = await self.client.get_action(target_type, command_id)
        return await self._result_of(action)

    async def async_cancel_command(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """Cancel a pending action; one that settled meanwhile is returned as it ended."""
        target_type = self._type_of_command(command_id, target_id)
        with account_errors():
            try:
                action = await self.client.cancel_action(target_type, command_id)
            except EnodeConflictError as err:
                if err.action is None:
                    action = await self.client.get_action(target_type, command_id)
                else:
                    action = err.action
        return await self._result_of(action)

    async def _result_of(self, action: EnodeAction) -> CommandResult:
        result = command_result_from(action)
        if action.is_settled:
            # Settled for good: nothing will ask about it by its id alone again.
            self._command_targets.pop(action.id, None)
        reason = action.failure_reason
        if (
            result.state is CommandState.FAILED
            and reason is not None
            and reason.type is FailureReasonType.UNNECESSARY
            and result.kind in (CommandKind.START, CommandKind.STOP)
            and result.target_id
            and await self._already_so(result.target_id, result.kind)
        ):
            return replace(result, state=CommandState.CONFIRMED, redundant=True)
        return result

    async def async_send_and_wait(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Create the action and follow it (for `command_timeout` seconds, polling every
        `poll_interval`) until it settles. A result still PENDING means the wait ended first;
        with a `command_timeout` of 0 it is handed back at once, for a caller that follows
        Enode's slow actions itself.
        """
        result = await self.async_send_command(target_id, kind, value)
        if result.state is not CommandState.PENDING or self.command_timeout == 0:
            return result
        target_type = self._type_of_command(result.command_id, target_id)
        with account_errors():
            action = await self.client.get_action(target_type, result.command_id)
            try:
                action = await self.client.wait_for_action(
                    action,
                    target_type=target_type,
                    max_wait=self.command_timeout,
                    poll_interval=self.poll_interval,
                )
            except EnodeActionTimeoutError as err:
                _LOGGER.debug("Action %s still pending when the wait ended", action.id)
                action = err.action
        return await self._result_of(action)
