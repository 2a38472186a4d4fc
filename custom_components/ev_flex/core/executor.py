"""Carry out the controller's wishes on real devices, one command at a time.

The controller says what it wants the EV system to do (charge, stay idle, discharge at some
power, or nothing at all). The executor turns that into commands, sends them through a callable
the caller supplies (so pairing decides whether the car or the charger gets each command),
follows every command until the account confirms or fails it, falls back to another path when
one ended without effect (cancelling a command that never settled first), retries with backoff,
and remembers what it last got confirmed so it never repeats a command that already took effect.

A command may stay pending for up to half an hour (Enode's slowest vendors). Without a `sleep`,
`async_apply` does not wait for it: it records the command (id and device) in `ExecutorState`,
returns, and checks it again when called at `in_flight.next_check_at` or earlier after
`expedite` (a webhook said it changed). With a `sleep` (tests, benchmarks) it waits in place.
Time is injected: `clock` returns aware datetimes. Everything the executor must remember across a
restart lives in `ExecutorState`, which serialises to JSON.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .account import (
    AccountAuthError,
    AccountError,
    AccountUnavailableError,
    CommandRejectedError,
    ControlledElsewhereError,
    NoOtherPathError,
)
from .model import CommandKind, CommandResult, CommandState, Reason, ReasonCode

# Sends one command down the first path whose device is not in the tuple (devices whose
# command for this step already ended without effect); raises NoOtherPathError when none is
# left. The result may be pending.
SendCommand = Callable[[CommandKind, float | None, tuple[str, ...]], Awaitable[CommandResult]]
# The state of a command, by command id and the device it went to.
CommandStatus = Callable[[str, str], Awaitable[CommandResult]]
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

    # Waits between status checks of one command; after the last one it counts as not
    # confirmed in time (it is cancelled, and another path may take over).
    poll_delays_s: tuple[float, ...] = (2.0, 3.0, 5.0, 10.0, 20.0, 30.0)
    # Attempts per command within one run, and the waits between them.
    attempts: int = 3
    backoff_s: tuple[float, ...] = (10.0, 30.0)
    # After a run failed, the same target is not tried again before this much time passed
    # (growing with each failed run, the last value repeats).
    cooldown_s: tuple[float, ...] = (300.0, 900.0, 1800.0)
    # After a schedule or smart charging elsewhere refused a command, the devices are left
    # alone this long before the next try.
    controlled_elsewhere_cooldown_s: float = 900.0


# Following a slow command (Enode: mostly about 20 s, some vendors 5-15 minutes, at worst 30):
# checks at growing intervals for up to half an hour, the last one just before that.
FOLLOW_LIMIT_S = 1800.0
POLL_FOLLOW_DELAYS_S = (10.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0)
# With a webhook announcing every change, checks are a safety net only.
WEBHOOK_FOLLOW_DELAYS_S = (30.0, 60.0, 120.0, 240.0)


def follow_delays(
    first: tuple[float, ...], *, limit_s: float = FOLLOW_LIMIT_S
) -> tuple[float, ...]:
    """`first`, then waits of at most 5 minutes, adding up to just under `limit_s`."""
    rest = max(0.0, limit_s - sum(first) - 1.0)
    tail = (300.0,) * int(rest // 300.0)
    remainder = rest - sum(tail)
    return (*first, *tail, *((remainder,) if remainder > 0 else ()))


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
    # The device it went to, and the devices whose command for this step already ended
    # without effect (the fallback skips them).
    target_id: str = ""
    tried: tuple[str, ...] = ()
    attempt: int = 0
    checks: int = 0
    next_check_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "command_id": self.command_id,
            "kind": self.kind.value,
            "value": self.value,
            "target": self.target.to_dict(),
            "completes_target": self.completes_target,
            "sent_at": self.sent_at.isoformat(),
            "target_id": self.target_id,
            "tried": list(self.tried),
            "attempt": self.attempt,
            "checks": self.checks,
            "next_check_at": _optional_time_text(self.next_check_at),
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
            target_id=str(data.get("target_id") or ""),
            tried=tuple(str(item) for item in data.get("tried") or ()),
            attempt=int(data.get("attempt", 0)),
            checks=int(data.get("checks", 0)),
            next_check_at=_optional_time(data.get("next_check_at")),
        )


@dataclass(frozen=True, kw_only=True)
class SentCommand:
    """A record of the last command sent, for diagnostics."""

    kind: CommandKind
    value: float | None
    at: datetime
    state: CommandState
    failure_reason: Reason | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "kind": self.kind.value,
            "value": self.value,
            "at": self.at.isoformat(),
            "state": self.state.value,
            "failure_reason": _reason_dict(self.failure_reason),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SentCommand:
        """Read what `to_dict` wrote."""
        value = data.get("value")
        return cls(
            kind=CommandKind(data["kind"]),
            value=None if value is None else float(value),
            at=datetime.fromisoformat(data["at"]),
            state=CommandState(data["state"]),
            failure_reason=Reason.from_dict(data.get("failure_reason")),
        )


def _reason_dict(reason: Reason | None) -> dict[str, Any] | None:
    return None if reason is None else reason.to_dict()


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
    # The devices already were in the confirmed target: no command put them there.
    confirmed_without_command: bool = False
    in_flight: InFlightCommand | None = None
    # The last target that could not be reached, when, why, and how many runs failed on it.
    failed: DeviceTarget | None = None
    failed_at: datetime | None = None
    failure_reason: Reason | None = None
    failed_runs: int = 0
    retry_not_before: datetime | None = None
    commands_sent: int = 0
    last_command: SentCommand | None = None
    # A discharge may still be active on the hardware (not known to be ended).
    discharge_may_be_active: bool = False
    # The last failure was a refusal because a schedule or smart charging elsewhere controls
    # the device (not a fault of the device or of EV Flex).
    controlled_elsewhere: bool = False

    def status_for(self, target: DeviceTarget | None) -> ExecutionStatus:
        """How far the executor got with this target."""
        if target is None:
            return ExecutionStatus.NOT_SENT
        if self.in_flight is not None:
            # A command toward another target may change the devices at any moment: what
            # was confirmed before it no longer holds.
            if self.in_flight.target == target:
                return ExecutionStatus.IN_FLIGHT
            return ExecutionStatus.NOT_SENT
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
            "confirmed_without_command": self.confirmed_without_command,
            "in_flight": None if self.in_flight is None else self.in_flight.to_dict(),
            "failed": None if self.failed is None else self.failed.to_dict(),
            "failed_at": _optional_time_text(self.failed_at),
            "failure_reason": _reason_dict(self.failure_reason),
            "failed_runs": self.failed_runs,
            "retry_not_before": _optional_time_text(self.retry_not_before),
            "commands_sent": self.commands_sent,
            "last_command": None if self.last_command is None else self.last_command.to_dict(),
            "discharge_may_be_active": self.discharge_may_be_active,
            "controlled_elsewhere": self.controlled_elsewhere,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExecutorState:
        """Read what `to_dict` wrote."""
        confirmed = data.get("confirmed")
        in_flight = data.get("in_flight")
        failed = data.get("failed")
        last_command = data.get("last_command")
        return cls(
            confirmed=None if confirmed is None else DeviceTarget.from_dict(confirmed),
            confirmed_at=_optional_time(data.get("confirmed_at")),
            confirmed_without_command=bool(data.get("confirmed_without_command", False)),
            in_flight=None if in_flight is None else InFlightCommand.from_dict(in_flight),
            failed=None if failed is None else DeviceTarget.from_dict(failed),
            failed_at=_optional_time(data.get("failed_at")),
            failure_reason=Reason.from_dict(data.get("failure_reason")),
            failed_runs=int(data.get("failed_runs", 0)),
            retry_not_before=_optional_time(data.get("retry_not_before")),
            commands_sent=int(data.get("commands_sent", 0)),
            last_command=None if last_command is None else SentCommand.from_dict(last_command),
            discharge_may_be_active=bool(data.get("discharge_may_be_active", False)),
            controlled_elsewhere=bool(data.get("controlled_elsewhere", False)),
        )


@dataclass(frozen=True, kw_only=True)
class _Step:
    kind: CommandKind
    value: float | None


@dataclass(kw_only=True)
class CommandExecutor:
    """Drives one EV system (car plus charger) toward the latest target.

    Call `async_apply(target)` whenever the controller's wish may have changed. Concurrent calls
    are safe: only one runs commands at a time and it always works on the newest target once
    the command in flight settled, so at most one command is ever in flight and no device gets
    a second command while one is pending. `target=None` means hands off: nothing is sent.
    """

    send_command: SendCommand
    command_status: CommandStatus
    clock: Clock
    # Cancels a pending command (command id, device); None when the account cannot.
    cancel_command: CommandStatus | None = None
    # None: never wait in place (see the module's description).
    sleep: Sleep | None = None
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
        self.state.controlled_elsewhere = False
        self._changed()

    def expedite(self, command_id: str) -> bool:
        """The account says this command changed: check it at the next `async_apply`."""
        in_flight = self.state.in_flight
        if in_flight is None or in_flight.command_id != command_id:
            return False
        self.state.in_flight = replace(in_flight, next_check_at=self.clock())
        self._changed()
        return True

    async def async_apply(self, target: DeviceTarget | None) -> ExecutionStatus:
        """Bring the devices to `target`; returns how far that got."""
        self._desired = target
        if self._lock.locked():
            # The running call picks up the new target when its current command settles.
            return self.state.status_for(target)
        async with self._lock:
            while True:
                if self.state.in_flight is not None:
                    await self._follow()
                    if self.state.in_flight is not None:
                        return self.state.status_for(self._desired)
                wanted = self._desired
                if wanted is None:
                    return ExecutionStatus.NOT_SENT
                status = await self._run(wanted)
                if status is ExecutionStatus.IN_FLIGHT and self.sleep is not None:
                    continue
                if status is ExecutionStatus.IN_FLIGHT or self._desired == wanted:
                    return status

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.state)

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
        """Send the steps toward `target` until one is in flight, the target is reached, a
        newer wish arrived, or it failed."""
        state = self.state
        if state.confirmed == target:
            return ExecutionStatus.CONFIRMED
        if (
            state.failed == target
            and state.retry_not_before is not None
            and self.clock() < state.retry_not_before
        ):
            return ExecutionStatus.FAILED
        while True:
            steps = self._steps_for(target)
            step = steps[0]
            await self._send(step, target, completes_target=len(steps) == 1)
            status = state.status_for(target)
            if status is not ExecutionStatus.NOT_SENT:
                return status
            if state.in_flight is not None or self._desired != target:
                # Waiting for an earlier target's command, or a newer wish arrived; what was
                # done so far is recorded, the next call starts over from there.
                return ExecutionStatus.NOT_SENT

    async def _send(
        self,
        step: _Step,
        target: DeviceTarget,
        *,
        completes_target: bool,
        tried: tuple[str, ...] = (),
        attempt: int = 0,
        reason: Reason | None = None,
    ) -> None:
        """Send one step down the next untried path; record it in flight or settle it."""
        sent_at = self.clock()
        try:
            result = await self.send_command(step.kind, step.value, tried)
        except NoOtherPathError as err:
            await self._attempt_failed(
                step, target, completes_target, attempt, reason or err.reason
            )
            return
        except ControlledElsewhereError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, err.reason)
            self._fail(
                target,
                Reason(ReasonCode.CONTROLLED_ELSEWHERE, cause=err.reason),
                controlled_elsewhere=True,
            )
            return
        except CommandRejectedError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, err.reason)
            self._fail(target, Reason(ReasonCode.REFUSED, cause=err.reason))
            return
        except AccountAuthError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, err.reason)
            self._fail(target, Reason(ReasonCode.AUTHENTICATION, cause=err.reason))
            return
        except AccountUnavailableError as err:
            self._record_sent(step, sent_at, CommandState.FAILED, err.reason)
            await self._attempt_failed(
                step,
                target,
                completes_target,
                attempt,
                Reason(ReasonCode.UNAVAILABLE, cause=err.reason),
            )
            return
        if not result.redundant:
            self.state.commands_sent += 1
        command = InFlightCommand(
            command_id=result.command_id,
            kind=step.kind,
            value=step.value,
            target=target,
            completes_target=completes_target,
            sent_at=sent_at,
            target_id=result.target_id,
            tried=tried,
            attempt=attempt,
            next_check_at=sent_at + timedelta(seconds=self.policy.poll_delays_s[0]),
        )
        if result.state is CommandState.PENDING:
            # Recorded before any waiting, so a restart follows it instead of resending.
            self.state.in_flight = command
            self._record_sent(step, sent_at, CommandState.PENDING, None)
            return
        await self._settled(command, result)

    async def _follow(self) -> None:
        """Check the command in flight when it is due (waiting for it with a `sleep`)."""
        while (command := self.state.in_flight) is not None:
            due = command.next_check_at or self.clock()
            if due > self.clock():
                if self.sleep is None:
                    return
                await self.sleep((due - self.clock()).total_seconds())
            result: CommandResult | None
            try:
                result = await self.command_status(command.command_id, command.target_id)
            except AccountUnavailableError, AccountAuthError:
                result = None
            except CommandRejectedError as err:
                # The account no longer knows it: it had no effect we could see.
                result = self._failed_result(
                    command, Reason(ReasonCode.COMMAND_LOST, cause=err.reason)
                )
            checks = command.checks + 1
            # A settled command may hand over to the next path: follow that one next.
            if result is not None and result.state is not CommandState.PENDING:
                self.state.in_flight = None
                await self._settled(command, result)
                continue
            if checks >= len(self.policy.poll_delays_s):
                self.state.in_flight = None
                await self._settled(command, await self._give_up(command))
                continue
            self.state.in_flight = replace(
                command,
                checks=checks,
                next_check_at=self.clock() + timedelta(seconds=self.policy.poll_delays_s[checks]),
            )
            self._changed()

    async def _give_up(self, command: InFlightCommand) -> CommandResult:
        """Cancel a command that was not confirmed in time, so it cannot fight the next path;
        one that settled meanwhile counts as it ended."""
        if self.cancel_command is not None:
            try:
                result = await self.cancel_command(command.command_id, command.target_id)
            except AccountError:
                result = None
            if result is not None and result.state is CommandState.CONFIRMED:
                return result
        return self._failed_result(command, Reason(ReasonCode.NOT_CONFIRMED))

    @staticmethod
    def _failed_result(command: InFlightCommand, reason: Reason) -> CommandResult:
        return CommandResult(
            command_id=command.command_id,
            kind=command.kind,
            target_id=command.target_id,
            state=CommandState.FAILED,
            failure_reason=reason,
        )

    async def _settled(self, command: InFlightCommand, result: CommandResult) -> None:
        step = _Step(kind=command.kind, value=command.value)
        self._record_sent(step, command.sent_at, result.state, result.failure_reason)
        if result.state is CommandState.CONFIRMED:
            self._record_confirmed_step(step.kind, step.value)
            if command.completes_target:
                self._confirm(command.target, without_command=result.redundant)
            return
        reason = result.ended_reason
        # The next path takes over (NoOtherPathError when there is none).
        await self._send(
            step,
            command.target,
            completes_target=command.completes_target,
            tried=(*command.tried, command.target_id),
            attempt=command.attempt,
            reason=reason,
        )

    async def _attempt_failed(
        self,
        step: _Step,
        target: DeviceTarget,
        completes_target: bool,
        attempt: int,
        reason: Reason,
    ) -> None:
        """Every path failed in this attempt: try again after a backoff (when waiting in place
        is allowed), else the target failed for this run."""
        if attempt + 1 < self.policy.attempts and self.sleep is not None:
            backoff = self.policy.backoff_s[min(attempt, len(self.policy.backoff_s) - 1)]
            await self.sleep(backoff)
            await self._send(step, target, completes_target=completes_target, attempt=attempt + 1)
            return
        self._fail(target, reason)

    def _record_sent(
        self, step: _Step, at: datetime, state: CommandState, reason: Reason | None
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

    def _confirm(self, target: DeviceTarget, *, without_command: bool = False) -> None:
        state = self.state
        state.confirmed = target
        state.confirmed_at = self.clock()
        state.confirmed_without_command = without_command
        state.discharge_may_be_active = target.mode is DeviceMode.DISCHARGE
        if state.failed == target:
            state.failed = None
            state.failed_at = None
            state.failure_reason = None
            state.failed_runs = 0
            state.retry_not_before = None
            state.controlled_elsewhere = False
        self._changed()

    def _fail(
        self, target: DeviceTarget, reason: Reason, *, controlled_elsewhere: bool = False
    ) -> None:
        state = self.state
        now = self.clock()
        state.failed_runs = state.failed_runs + 1 if state.failed == target else 1
        state.failed = target
        state.failed_at = now
        state.failure_reason = reason
        state.controlled_elsewhere = controlled_elsewhere
        if controlled_elsewhere:
            cooldown = self.policy.controlled_elsewhere_cooldown_s
        else:
            cooldown = self.policy.cooldown_s[
                min(state.failed_runs, len(self.policy.cooldown_s)) - 1
            ]
        state.retry_not_before = now + timedelta(seconds=cooldown)
        self._changed()
