"""Carry out the controller's wishes on real devices, one command at a time.

The controller says what it wants the EV system to do (charge, stay idle, discharge at some
power, or nothing at all). The executor turns that into commands, sends them through a callable
the caller supplies (so pairing decides whether the car or the charger gets each command),
follows every command until the account confirms or fails it, retries with backoff, and
remembers what it last got confirmed so it never repeats a command that already took effect.

Time is injected: `clock` returns aware datetimes and `sleep` waits (tests and benchmarks move a
manual clock instead of sleeping). Everything the executor must remember across a restart lives in
`ExecutorState`, which serialises to JSON.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .account import AccountAuthError, AccountUnavailableError, CommandRejectedError
from .model import CommandKind, CommandResult, CommandState

SendCommand = Callable[[CommandKind, float | None], Awaitable[CommandResult]]
CommandStatus = Callable[[str], Awaitable[CommandResult]]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


class DeviceMode(StrEnum):
    """What the EV system should be doing."""

    CHARGE = "charge"
    IDLE = "idle"
    DISCHARGE = "discharge"


@dataclass(frozen=True, kw_only=True)
class DeviceTarget:
    """One wish for the EV system. `power_kw` only matters for discharging."""

    mode: DeviceMode
    power_kw: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {"mode": self.mode.value, "power_kw": self.power_kw}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DeviceTarget:
        """Read what `to_dict` wrote."""
        return cls(mode=DeviceMode(data["mode"]), power_kw=float(data.get("power_kw", 0.0)))


CHARGE = DeviceTarget(mode=DeviceMode.CHARGE)
IDLE = DeviceTarget(mode=DeviceMode.IDLE)


class ExecutionStatus(StrEnum):
    """How far the executor got with a target."""

    # Nothing sent yet (or hands off).
    NOT_SENT = "not_sent"
    IN_FLIGHT = "in_flight"
    CONFIRMED = "confirmed"
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How patiently commands are followed and retried."""

    # Waits between status polls of one command; after the last one it counts as failed.
    poll_delays_s: tuple[float, ...] = (2.0, 3.0, 5.0, 10.0, 20.0, 30.0)
    # Attempts per command within one run, and the waits between them.
    attempts: int = 3
    backoff_s: tuple[float, ...] = (10.0, 30.0)
    # After a run failed, the same target is not tried again before this much time passed
    # (growing with each failed run, the last value repeats).
    cooldown_s: tuple[float, ...] = (300.0, 900.0, 1800.0)


@dataclass(frozen=True, kw_only=True)
class InFlightCommand:
    """A command sent and not yet settled; kept so a restart follows it instead of resending."""

    command_id: str
    kind: CommandKind
    value: float | None
    target: DeviceTarget
    # True when this command completes the target (the last of its sequence).
    completes_target: bool
    sent_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "command_id": self.command_id,
            "kind": self.kind.value,
            "value": self.value,
            "target": self.target.to_dict(),
            "completes_target": self.completes_target,
            "sent_at": self.sent_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InFlightCommand:
        """Read what `to_dict` wrote."""
        value = data.get("value")
        return cls(
            command_id=str(data["command_id"]),
            kind=CommandKind(data["kind"]),
            value=None if value is None else float(value),
            target=DeviceTarget.from_dict(data["target"]),
            completes_target=bool(data["completes_target"]),
            sent_at=datetime.fromisoformat(data["sent_at"]),
        )


@dataclass(frozen=True, kw_only=True)
class SentCommand:
    """A record of the last command sent, for diagnostics."""

    kind: CommandKind
    value: float | None
    at: datetime
    state: CommandState
    failure_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "kind": self.kind.value,
            "value": self.value,
            "at": self.at.isoformat(),
            "state": self.state.value,
            "failure_reason": self.failure_reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentCommand:
        """Read what `to_dict` wrote."""
        value = data.get("value")
        reason = data.get("failure_reason")
        return cls(
            kind=CommandKind(data["kind"]),
            value=None if value is None else float(value),
            at=datetime.fromisoformat(data["at"]),
            state=CommandState(data["state"]),
            failure_reason=None if reason is None else str(reason),
        )


def _optional_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _optional_time_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(kw_only=True)
class ExecutorState:
    """What the executor knows about the devices, and what it is doing."""

    # The target the devices were last confirmed to be in; None when unknown.
    confirmed: DeviceTarget | None = None
    confirmed_at: datetime | None = None
    in_flight: InFlightCommand | None = None
    # The last target that could not be reached, when, why, and how many runs failed on it.
    failed: DeviceTarget | None = None
    failed_at: datetime | None = None
    failure_reason: str | None = None
    failed_runs: int = 0
    retry_not_before: datetime | None = None
    commands_sent: int = 0
    last_command: SentCommand | None = None
    # A discharge may still be active on the hardware (not known to be ended).
    discharge_may_be_active: bool = False

    def status_for(self, target: DeviceTarget | None) -> ExecutionStatus:
        """How far the executor got with this target."""
        if target is None:
            return ExecutionStatus.NOT_SENT
        if self.in_flight is not None and self.in_flight.target == target:
            return ExecutionStatus.IN_FLIGHT
        if self.confirmed == target:
            return ExecutionStatus.CONFIRMED
        if self.failed == target:
            return ExecutionStatus.FAILED
        return ExecutionStatus.NOT_SENT

    def copy(self) -> ExecutorState:
        """An independent copy (all members are immutable values)."""
        return ExecutorState(**{name: getattr(self, name) for name in self.__dataclass_fields__})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "confirmed": None if self.confirmed is None else self.confirmed.to_dict(),
            "confirmed_at": _optional_time_text(self.confirmed_at),
            "in_flight": None if self.in_flight is None else self.in_flight.to_dict(),
            "failed": None if self.failed is None else self.failed.to_dict(),
            "failed_at": _optional_time_text(self.failed_at),
            "failure_reason": self.failure_reason,
            "failed_runs": self.failed_runs,
            "retry_not_before": _optional_time_text(self.retry_not_before),
            "commands_sent": self.commands_sent,
            "last_command": None if self.last_command is None else self.last_command.to_dict(),
            "discharge_may_be_active": self.discharge_may_be_active,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExecutorState:
        """Read what `to_dict` wrote."""
        confirmed = data.get("confirmed")
        in_flight = data.get("in_flight")
        failed = data.get("failed")
        last_command = data.get("last_command")
        reason = data.get("failure_reason")
        return cls(
            confirmed=None if confirmed is None else DeviceTarget.from_dict(confirmed),
            confirmed_at=_optional_time(data.get("confirmed_at")),
            in_flight=None if in_flight is None else InFlightCommand.from_dict(in_flight),
            failed=None if failed is None else DeviceTarget.from_dict(failed),
            failed_at=_optional_time(data.get("failed_at")),
            failure_reason=None if reason is None else str(reason),
            failed_runs=int(data.get("failed_runs", 0)),
            retry_not_before=_optional_time(data.get("retry_not_before")),
            commands_sent=int(data.get("commands_sent", 0)),
            last_command=None if last_command is None else SentCommand.from_dict(last_command),
            discharge_may_be_active=bool(data.get("discharge_may_be_active", False)),
        )


@dataclass(frozen=True, kw_only=True)
class _Step:
    kind: CommandKind
    value: float | None


class _CommandFailedError(Exception):
    """One command could not be carried out; `final` says whether retrying is pointless."""

    def __init__(self, reason: str, *, final: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.final = final


@dataclass(kw_only=True)
class CommandExecutor:
    """Drives one EV system (car plus charger) toward the latest target.

    Call `async_apply(target)` whenever the controller's wish may have changed. Concurrent calls
    are safe: only one runs commands at a time and it always works on the newest target, so at
    most one command is ever in flight. `target=None` means hands off: nothing is sent.
    """

    send_command: SendCommand
    command_status: CommandStatus
    clock: Clock
    sleep: Sleep = asyncio.sleep
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    state: ExecutorState = field(default_factory=ExecutorState)
    # Called after every change of `state`, so the caller can persist it.
    on_change: Callable[[ExecutorState], None] | None = None
    _desired: DeviceTarget | None = field(default=None, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def invalidate(self) -> None:
        """Forget what the devices were confirmed to do (someone else may have changed it)."""
        if self.state.confirmed is not None:
            self.state.discharge_may_be_active = (
                self.state.discharge_may_be_active
                or self.state.confirmed.mode is DeviceMode.DISCHARGE
            )
            self.state.confirmed = None
            self.state.confirmed_at = None
            self._changed()

    def clear_failure(self) -> None:
        """Allow a failed target to be tried again at once (for example after the user asks)."""
        self.state.failed = None
        self.state.failed_at = None
        self.state.failure_reason = None
        self.state.failed_runs = 0
        self.state.retry_not_before = None
        self._changed()

    async def async_apply(self, target: DeviceTarget | None) -> ExecutionStatus:
        """Bring the devices to `target`; returns how far that got."""
        self._desired = target
        if self._lock.locked():
            # The running call picks up the new target when its current command settles.
            return self.state.status_for(target)
        async with self._lock:
            await self._resume_in_flight()
            while True:
                wanted = self._desired
                if wanted is None:
                    return ExecutionStatus.NOT_SENT
                status = await self._run(wanted)
                if self._desired == wanted:
                    return status

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.state)

    async def _resume_in_flight(self) -> None:
        """Follow a command that was in flight when we last stopped (e.g. before a restart)."""
        in_flight = self.state.in_flight
        if in_flight is None:
            return
        try:
            result = await self.command_status(in_flight.command_id)
            result = await self._await_settled(result)
        except (AccountUnavailableError, CommandRejectedError, AccountAuthError):
            result = None
        self.state.in_flight = None
        if result is not None and result.state is CommandState.CONFIRMED:
            self._record_confirmed_step(in_flight.kind, in_flight.value)
            if in_flight.completes_target:
                self._confirm(in_flight.target)
        self._changed()

    def _steps_for(self, target: DeviceTarget) -> list[_Step]:
        steps: list[_Step] = []
        confirmed = self.state.confirmed
        leaving_discharge = self.state.discharge_may_be_active or (
            confirmed is not None and confirmed.mode is DeviceMode.DISCHARGE
        )
        if target.mode is DeviceMode.DISCHARGE:
            steps.append(_Step(kind=CommandKind.DISCHARGE, value=target.power_kw))
            return steps
        if leaving_discharge:
            # Ending a discharge explicitly works whichever device takes start/stop.
            steps.append(_Step(kind=CommandKind.DISCHARGE, value=0.0))
        if target.mode is DeviceMode.CHARGE:
            steps.append(_Step(kind=CommandKind.START, value=None))
        else:
            steps.append(_Step(kind=CommandKind.STOP, value=None))
        return steps

    async def _run(self, target: DeviceTarget) -> ExecutionStatus:
        state = self.state
        if state.confirmed == target:
            return ExecutionStatus.CONFIRMED
        now = self.clock()
        if (
            state.failed == target
            and state.retry_not_before is not None
            and now < state.retry_not_before
        ):
            return ExecutionStatus.FAILED
        steps = self._steps_for(target)
        for index, step in enumerate(steps):
            completes = index == len(steps) - 1
            try:
                await self._run_step(step, target, completes_target=completes)
            except _CommandFailedError as err:
                self._fail(target, err.reason)
                return ExecutionStatus.FAILED
            if not completes and self._desired != target:
                # A newer wish arrived; what was done so far is recorded, start over from there.
                # (After the last step the target was reached: confirm it below, so it is
                # not sent again.)
                return ExecutionStatus.NOT_SENT
        self._confirm(target)
        return ExecutionStatus.CONFIRMED

    async def _run_step(self, step: _Step, target: DeviceTarget, *, completes_target: bool) -> None:
        reason = "not attempted"
        for attempt in range(self.policy.attempts):
            if attempt > 0:
                backoff = self.policy.backoff_s[min(attempt - 1, len(self.policy.backoff_s) - 1)]
                await self.sleep(backoff)
            try:
                await self._send_and_follow(step, target, completes_target=completes_target)
            except _CommandFailedError as err:
                if err.final:
                    raise
                reason = err.reason
                continue
            return
        raise _CommandFailedError(reason, final=True)

    async def _send_and_follow(
        self, step: _Step, target: DeviceTarget, *, completes_target: bool
    ) -> None:
        state = self.state
        sent_at = self.clock()
        try:
            result = await self.send_command(step.kind, step.value)
        except CommandRejectedError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, str(err))
            raise _CommandFailedError(f"rejected: {err}", final=True) from err
        except AccountAuthError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, str(err))
            raise _CommandFailedError(f"authentication: {err}", final=True) from err
        except AccountUnavailableError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, str(err))
            raise _CommandFailedError(f"unavailable: {err}", final=False) from err
        state.commands_sent += 1
        if result.state is CommandState.PENDING:
            state.in_flight = InFlightCommand(
                command_id=result.command_id,
                kind=step.kind,
                value=step.value,
                target=target,
                completes_target=completes_target,
                sent_at=sent_at,
            )
            self._record_sent(step, sent_at, CommandState.PENDING, None)
            result = await self._await_settled(result)
            state.in_flight = None
        self._record_sent(step, sent_at, result.state, result.failure_reason)
        if result.state is CommandState.CONFIRMED:
            self._record_confirmed_step(step.kind, step.value)
            return
        reason = result.failure_reason or f"command {result.state.value}"
        raise _CommandFailedError(reason, final=False)

    async def _await_settled(self, result: CommandResult) -> CommandResult:
        """Poll until the command settles; a command that never does counts as failed."""
        for delay in self.policy.poll_delays_s:
            if result.state is not CommandState.PENDING:
                return result
            await self.sleep(delay)
            try:
                result = await self.command_status(result.command_id)
            except AccountUnavailableError:
                continue
        if result.state is CommandState.PENDING:
            return CommandResult(
                command_id=result.command_id,
                kind=result.kind,
                target_id=result.target_id,
                state=CommandState.FAILED,
                failure_reason="not confirmed in time",
            )
        return result

    def _record_sent(
        self, step: _Step, at: datetime, state: CommandState, reason: str | None
    ) -> None:
        self.state.last_command = SentCommand(
            kind=step.kind, value=step.value, at=at, state=state, failure_reason=reason
        )
        self._changed()

    def _record_confirmed_step(self, kind: CommandKind, value: float | None) -> None:
        if kind is CommandKind.DISCHARGE:
            self.state.discharge_may_be_active = bool(value)
        # Part of a sequence took effect: what the devices do as a whole is unknown until the
        # sequence completes.
        self.state.confirmed = None
        self.state.confirmed_at = None

    def _confirm(self, target: DeviceTarget) -> None:
        state = self.state
        state.confirmed = target
        state.confirmed_at = self.clock()
        state.discharge_may_be_active = target.mode is DeviceMode.DISCHARGE
        if state.failed == target:
            state.failed = None
            state.failed_at = None
            state.failure_reason = None
            state.failed_runs = 0
            state.retry_not_before = None
        self._changed()

    def _fail(self, target: DeviceTarget, reason: str) -> None:
        state = self.state
        now = self.clock()
        state.failed_runs = state.failed_runs + 1 if state.failed == target else 1
        state.failed = target
        state.failed_at = now
        state.failure_reason = reason
        cooldown = self.policy.cooldown_s[min(state.failed_runs, len(self.policy.cooldown_s)) - 1]
        state.retry_not_before = now + timedelta(seconds=cooldown)
        self._changed()
