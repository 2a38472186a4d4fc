"""The command executor against the simulated account: confirm, retry, never spam, resume."""

import asyncio
from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.ev_flex.core.account import (
    AccountAuthError,
    AccountUnavailableError,
    ControlledElsewhereError,
    NoOtherPathError,
    SimulatedAccount,
)
from custom_components.ev_flex.core.executor import (
    CHARGE,
    IDLE,
    CommandExecutor,
    DeviceMode,
    DeviceTarget,
    ExecutionStatus,
    ExecutorState,
    InFlightCommand,
    RetryPolicy,
)
from custom_components.ev_flex.core.model import CommandKind, CommandResult, Reason, ReasonCode
from custom_components.ev_flex.core.simulator import (
    VEHICLE_PRESETS,
    ChargerSpec,
    FaultSettings,
    Simulation,
)

from .manual_clock import ManualClock

START = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)


class Recorder:
    """Sends through the simulated account to the charger and remembers what was sent."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation
        self.account = SimulatedAccount(simulation)
        self.sent: list[tuple[CommandKind, float | None]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def send(
        self, kind: CommandKind, value: float | None, tried: tuple[str, ...] = ()
    ) -> CommandResult:
        if self.simulation.charger_id in tried:
            # The charger is the only path.
            raise NoOtherPathError("only the charger")
        self.sent.append((kind, value))
        result = await self.account.async_send_command(self.simulation.charger_id, kind, value)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        return result

    async def status(self, command_id: str, target_id: str = "") -> CommandResult:
        result = await self.account.async_command_status(command_id, target_id)
        if result.state.value != "pending":
            self.in_flight = max(0, self.in_flight - 1)
        return result


def make(
    *,
    delay_s: float = 5.0,
    faults: FaultSettings | None = None,
    charger: ChargerSpec | None = None,
    state: ExecutorState | None = None,
    clock: ManualClock | None = None,
    simulation: Simulation | None = None,
) -> tuple[CommandExecutor, Recorder, ManualClock]:
    clock = clock or ManualClock(START)
    simulation = simulation or Simulation(
        clock=clock,
        charger=charger,
        command_delay=timedelta(seconds=delay_s),
        faults=faults,
        soc_pct=40.0,
    )
    recorder = Recorder(simulation)
    executor = CommandExecutor(
        send_command=recorder.send,
        command_status=recorder.status,
        clock=clock,
        sleep=clock.sleep,
        state=state or ExecutorState(),
    )
    return executor, recorder, clock


async def test_a_command_is_followed_until_confirmed() -> None:
    executor, recorder, clock = make()
    status = await executor.async_apply(IDLE)
    assert status is ExecutionStatus.CONFIRMED
    assert recorder.sent == [(CommandKind.STOP, None)]
    # The simulator confirms after 5 s; the executor polled (2 s, then 3 s) without real sleep.
    assert clock.now - START == timedelta(seconds=5)
    assert executor.state.confirmed == IDLE
    assert executor.state.confirmed_at == START + timedelta(seconds=5)
    assert recorder.simulation.charger_state().is_charging is False


async def test_a_confirmed_target_is_not_sent_again() -> None:
    executor, recorder, _ = make()
    await executor.async_apply(IDLE)
    for _ in range(3):
        assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert len(recorder.sent) == 1
    await executor.async_apply(CHARGE)
    assert recorder.sent == [(CommandKind.STOP, None), (CommandKind.START, None)]


async def test_hands_off_sends_nothing() -> None:
    executor, recorder, _ = make()
    assert await executor.async_apply(None) is ExecutionStatus.NOT_SENT
    assert recorder.sent == []


async def test_failed_commands_are_retried_with_backoff_then_reported() -> None:
    executor, recorder, clock = make(faults=FaultSettings(command_failure_rate=1.0))
    status = await executor.async_apply(IDLE)
    assert status is ExecutionStatus.FAILED
    # Three attempts, 10 s and 30 s apart (plus 5 s each until the device said no).
    assert len(recorder.sent) == 3
    assert clock.now - START == timedelta(seconds=5 + 10 + 5 + 30 + 5)
    state = executor.state
    assert state.failed == IDLE
    assert state.failure_reason == Reason(ReasonCode.DEVICE_REJECTED)
    assert state.retry_not_before == clock.now + timedelta(seconds=300)
    assert state.status_for(IDLE) is ExecutionStatus.FAILED


async def test_after_a_failure_nothing_is_sent_until_the_cooldown_ends() -> None:
    executor, recorder, clock = make(faults=FaultSettings(command_failure_rate=1.0))
    await executor.async_apply(IDLE)
    recorder.simulation.set_faults(FaultSettings())
    clock.now += timedelta(seconds=299)
    assert await executor.async_apply(IDLE) is ExecutionStatus.FAILED
    assert len(recorder.sent) == 3
    clock.now += timedelta(seconds=2)
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert len(recorder.sent) == 4
    assert executor.state.failed is None
    assert executor.state.failed_runs == 0


async def test_cooldown_grows_with_repeated_failed_runs() -> None:
    executor, _, clock = make(faults=FaultSettings(command_failure_rate=1.0))
    await executor.async_apply(IDLE)
    first = executor.state.retry_not_before
    assert first is not None
    clock.now = first
    await executor.async_apply(IDLE)
    assert executor.state.failed_runs == 2
    assert executor.state.retry_not_before == clock.now + timedelta(seconds=900)


async def test_an_unreachable_account_is_retried() -> None:
    executor, recorder, clock = make(faults=FaultSettings(account_unreachable=True))
    sim = recorder.simulation

    async def recover_then_sleep(seconds: float) -> None:
        # The cloud comes back during the first backoff.
        sim.set_faults(FaultSettings())
        clock.now += timedelta(seconds=seconds)

    executor.sleep = recover_then_sleep
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert len(recorder.sent) == 2
    assert executor.state.commands_sent == 1


async def test_a_rejected_command_is_not_retried() -> None:
    executor, recorder, _ = make(charger=ChargerSpec(can_discharge=False))
    status = await executor.async_apply(DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=5.0))
    assert status is ExecutionStatus.FAILED
    assert recorder.sent == [(CommandKind.DISCHARGE, 5.0)]
    assert executor.state.failure_reason == Reason(
        ReasonCode.REFUSED, cause=Reason(ReasonCode.CANNOT, {"action": "discharge"})
    )


async def test_a_command_that_never_settles_counts_as_failed() -> None:
    executor, recorder, _ = make(delay_s=3600.0)
    executor.policy = RetryPolicy(poll_delays_s=(1.0, 1.0), attempts=1, backoff_s=())
    assert await executor.async_apply(IDLE) is ExecutionStatus.FAILED
    assert executor.state.failure_reason == Reason(ReasonCode.NOT_CONFIRMED)
    assert len(recorder.sent) == 1


async def test_leaving_a_discharge_ends_it_explicitly() -> None:
    clock = ManualClock(START)
    sim = Simulation(
        clock=clock,
        vehicle=VEHICLE_PRESETS["suv_v2g"],
        charger=ChargerSpec(can_discharge=True),
        command_delay=timedelta(seconds=5),
        soc_pct=80.0,
    )
    executor, recorder, _ = make(clock=clock, simulation=sim)
    discharge = DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=7.0)
    assert await executor.async_apply(discharge) is ExecutionStatus.CONFIRMED
    assert sim.charger_state().charge_rate_kw == pytest.approx(-7.0)
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert recorder.sent == [
        (CommandKind.DISCHARGE, 7.0),
        (CommandKind.DISCHARGE, 0.0),
        (CommandKind.STOP, None),
    ]
    assert sim.charger_state().charge_rate_kw == 0.0


async def test_concurrent_wishes_never_put_two_commands_in_flight() -> None:
    executor, recorder, clock = make()

    async def yielding_sleep(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    executor.sleep = yielding_sleep
    results = await asyncio.gather(
        executor.async_apply(IDLE), executor.async_apply(CHARGE), executor.async_apply(IDLE)
    )
    assert recorder.most_in_flight == 1
    # The running call picked up the newest wish; the others returned at once.
    assert results[0] is ExecutionStatus.CONFIRMED
    assert executor.state.confirmed == IDLE
    assert recorder.sent == [(CommandKind.STOP, None)]


async def test_a_restart_follows_the_command_in_flight_instead_of_resending() -> None:
    executor, recorder, clock = make()

    async def stop_after_sending(seconds: float) -> None:
        # Home Assistant shuts down while the command is pending.
        raise asyncio.CancelledError

    executor.sleep = stop_after_sending
    with pytest.raises(asyncio.CancelledError):
        await executor.async_apply(IDLE)
    saved = json.loads(json.dumps(executor.state.to_dict()))
    assert saved["in_flight"]["kind"] == "stop"

    clock.now += timedelta(seconds=30)
    restored, _, _ = make(
        clock=clock, simulation=recorder.simulation, state=ExecutorState.from_dict(saved)
    )
    restored.send_command = recorder.send
    restored.command_status = recorder.status
    assert await restored.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert recorder.sent == [(CommandKind.STOP, None)]
    assert restored.state.in_flight is None


async def test_invalidate_makes_the_next_apply_send_again() -> None:
    executor, recorder, _ = make()
    await executor.async_apply(CHARGE)
    executor.invalidate()
    assert executor.state.confirmed is None
    await executor.async_apply(CHARGE)
    assert recorder.sent == [(CommandKind.START, None), (CommandKind.START, None)]


async def test_state_survives_json() -> None:
    executor, _, _ = make(faults=FaultSettings(command_failure_rate=1.0))
    await executor.async_apply(IDLE)
    data = json.loads(json.dumps(executor.state.to_dict()))
    restored = ExecutorState.from_dict(data)
    assert restored == executor.state
    assert restored.copy() == restored


async def test_a_failure_reason_survives_json_with_the_reason_it_passes_on() -> None:
    executor, _, _ = make(charger=ChargerSpec(can_discharge=False))
    await executor.async_apply(DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=5.0))
    data = json.loads(json.dumps(executor.state.to_dict()))
    restored = ExecutorState.from_dict(data)
    assert restored.failure_reason == Reason(
        ReasonCode.REFUSED, cause=Reason(ReasonCode.CANNOT, {"action": "discharge"})
    )
    assert restored.last_command is not None
    assert restored.last_command.failure_reason == Reason(
        ReasonCode.CANNOT, {"action": "discharge"}
    )


@pytest.mark.parametrize(
    ("saved", "read"),
    [
        # Saved in words by a version before reasons had codes: kept as the words.
        ("rejected: HTTP 400", Reason(ReasonCode.WORDS, {"words": "rejected: HTTP 400"})),
        ({"code": "no_such_code"}, None),
        ({"code": "refused", "facts": [1], "cause": {"code": 7}}, Reason(ReasonCode.REFUSED)),
        (12, None),
    ],
)
def test_a_saved_failure_reason_from_before_or_broken_is_read_without_failing(
    saved: object, read: Reason | None
) -> None:
    state = ExecutorState.from_dict({"failure_reason": saved})
    assert state.failure_reason == read


async def test_every_state_change_is_reported_for_saving() -> None:
    executor, _, _ = make()
    seen: list[dict[str, object]] = []
    executor.on_change = lambda state: seen.append(state.to_dict())
    await executor.async_apply(IDLE)
    assert any(item["in_flight"] is not None for item in seen)
    assert seen[-1]["confirmed"] == {"mode": "idle", "power_kw": 0.0}


def test_hands_off_is_never_in_flight_or_confirmed() -> None:
    state = ExecutorState(confirmed=IDLE, failed=CHARGE)
    assert state.status_for(None) is ExecutionStatus.NOT_SENT
    assert state.status_for(IDLE) is ExecutionStatus.CONFIRMED
    assert state.status_for(CHARGE) is ExecutionStatus.FAILED


def test_a_command_toward_another_target_voids_what_was_confirmed() -> None:
    """Stopped, and a start is on its way: the car is not known to be stopped any more."""
    start = InFlightCommand(
        command_id="start-1",
        kind=CommandKind.START,
        value=None,
        target=CHARGE,
        completes_target=True,
        sent_at=START,
    )
    state = ExecutorState(confirmed=IDLE, in_flight=start)
    assert state.status_for(IDLE) is ExecutionStatus.NOT_SENT
    assert state.status_for(CHARGE) is ExecutionStatus.IN_FLIGHT


async def test_a_command_the_account_confirms_at_once_needs_no_polling() -> None:
    executor, recorder, clock = make(delay_s=0.0)
    seen: list[dict[str, object]] = []
    executor.on_change = lambda state: seen.append(state.to_dict())
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert clock.now == START
    assert all(item["in_flight"] is None for item in seen)
    assert executor.state.last_command is not None
    assert executor.state.last_command.state.value == "confirmed"
    assert recorder.simulation.charger_state().is_charging is False


async def test_a_command_settling_at_the_last_poll_counts_as_confirmed() -> None:
    executor, recorder, clock = make(delay_s=5.0)
    # Polls at 2 s and 5 s; the simulator confirms at 5 s, exactly at the last one.
    executor.policy = RetryPolicy(poll_delays_s=(2.0, 3.0), attempts=1, backoff_s=())
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert clock.now - START == timedelta(seconds=5)
    assert executor.state.failed is None
    assert len(recorder.sent) == 1


async def test_an_unreachable_status_poll_is_polled_again() -> None:
    executor, recorder, _ = make(delay_s=5.0)
    polls: list[str] = []

    async def flaky_status(command_id: str, target_id: str) -> CommandResult:
        polls.append(command_id)
        if len(polls) == 1:
            raise AccountUnavailableError("cloud hiccup")
        return await recorder.status(command_id, target_id)

    executor.command_status = flaky_status
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    # The hiccup cost one poll, not a second command.
    assert len(polls) == 2
    assert recorder.sent == [(CommandKind.STOP, None)]


async def test_rejected_credentials_fail_the_target_without_retrying() -> None:
    executor, recorder, _ = make()

    async def refused(
        kind: CommandKind, value: float | None, tried: tuple[str, ...]
    ) -> CommandResult:
        recorder.sent.append((kind, value))
        raise AccountAuthError("token revoked", Reason(ReasonCode.ENODE_HTTP, {"status": "401"}))

    executor.send_command = refused
    assert await executor.async_apply(CHARGE) is ExecutionStatus.FAILED
    assert recorder.sent == [(CommandKind.START, None)]
    assert executor.state.failure_reason == Reason(
        ReasonCode.AUTHENTICATION, cause=Reason(ReasonCode.ENODE_HTTP, {"status": "401"})
    )
    assert executor.state.commands_sent == 0
    assert executor.state.last_command is not None
    assert executor.state.last_command.failure_reason == Reason(
        ReasonCode.ENODE_HTTP, {"status": "401"}
    )


async def _stopped_while_pending(executor: CommandExecutor, target: DeviceTarget) -> dict[str, Any]:
    """Apply `target` until a command is pending, then 'shut down'; returns the saved state."""

    async def stop_after_sending(seconds: float) -> None:
        raise asyncio.CancelledError

    sleep = executor.sleep
    executor.sleep = stop_after_sending
    with pytest.raises(asyncio.CancelledError):
        await executor.async_apply(target)
    executor.sleep = sleep
    saved: dict[str, Any] = json.loads(json.dumps(executor.state.to_dict()))
    return saved


async def test_a_restart_resends_a_command_the_account_no_longer_knows() -> None:
    executor, recorder, clock = make()
    saved = await _stopped_while_pending(executor, IDLE)
    saved["in_flight"]["command_id"] = "sim-cmd-lost"
    clock.now += timedelta(seconds=30)
    restored, _, _ = make(
        clock=clock, simulation=recorder.simulation, state=ExecutorState.from_dict(saved)
    )
    restored.send_command = recorder.send
    restored.command_status = recorder.status
    assert await restored.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    # Nothing is known about the lost command, so the stop is sent again.
    assert recorder.sent == [(CommandKind.STOP, None), (CommandKind.STOP, None)]
    assert restored.state.in_flight is None


async def test_a_restart_resends_a_command_that_failed_meanwhile() -> None:
    executor, recorder, clock = make(faults=FaultSettings(command_failure_rate=1.0))
    saved = await _stopped_while_pending(executor, IDLE)
    recorder.simulation.set_faults(FaultSettings())
    clock.now += timedelta(seconds=30)
    restored, _, _ = make(
        clock=clock, simulation=recorder.simulation, state=ExecutorState.from_dict(saved)
    )
    restored.send_command = recorder.send
    restored.command_status = recorder.status
    assert await restored.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert recorder.sent == [(CommandKind.STOP, None), (CommandKind.STOP, None)]
    assert recorder.simulation.charger_state().is_charging is False


def _v2g_simulation(clock: ManualClock) -> Simulation:
    return Simulation(
        clock=clock,
        vehicle=VEHICLE_PRESETS["suv_v2g"],
        charger=ChargerSpec(can_discharge=True),
        command_delay=timedelta(seconds=5),
        soc_pct=80.0,
    )


async def test_a_restart_mid_sequence_carries_on_with_the_rest_of_it() -> None:
    """Ending a discharge is two commands; a restart between them sends only the second."""
    clock = ManualClock(START)
    executor, recorder, _ = make(clock=clock, simulation=_v2g_simulation(clock))
    assert await executor.async_apply(DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=7.0)) is (
        ExecutionStatus.CONFIRMED
    )
    saved = await _stopped_while_pending(executor, IDLE)
    assert saved["in_flight"]["kind"] == "discharge"
    assert saved["in_flight"]["completes_target"] is False
    clock.now += timedelta(seconds=30)
    restored, _, _ = make(
        clock=clock, simulation=recorder.simulation, state=ExecutorState.from_dict(saved)
    )
    restored.send_command = recorder.send
    restored.command_status = recorder.status
    assert await restored.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert recorder.sent == [
        (CommandKind.DISCHARGE, 7.0),
        (CommandKind.DISCHARGE, 0.0),
        (CommandKind.STOP, None),
    ]
    assert restored.state.confirmed == IDLE
    assert not restored.state.discharge_may_be_active


async def _yielding(executor: CommandExecutor, clock: ManualClock) -> None:
    async def yielding_sleep(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    executor.sleep = yielding_sleep


async def test_a_new_wish_mid_sequence_skips_the_rest_of_the_old_one() -> None:
    clock = ManualClock(START)
    executor, recorder, _ = make(clock=clock, simulation=_v2g_simulation(clock))
    await executor.async_apply(DeviceTarget(mode=DeviceMode.DISCHARGE, power_kw=7.0))
    await _yielding(executor, clock)
    results = await asyncio.gather(executor.async_apply(IDLE), executor.async_apply(CHARGE))
    # The discharge was ended, then the stop that IDLE needed was skipped for the new wish.
    assert recorder.sent == [
        (CommandKind.DISCHARGE, 7.0),
        (CommandKind.DISCHARGE, 0.0),
        (CommandKind.START, None),
    ]
    assert results[0] is ExecutionStatus.CONFIRMED
    assert executor.state.confirmed == CHARGE
    assert recorder.simulation.charger_state().is_charging is True


async def test_a_target_reached_just_as_hands_off_arrives_is_remembered() -> None:
    executor, recorder, clock = make()
    await _yielding(executor, clock)
    results = await asyncio.gather(executor.async_apply(IDLE), executor.async_apply(None))
    assert results == [ExecutionStatus.NOT_SENT, ExecutionStatus.NOT_SENT]
    # The stop took effect, so asking for IDLE again sends nothing.
    assert executor.state.confirmed == IDLE
    assert await executor.async_apply(IDLE) is ExecutionStatus.CONFIRMED
    assert recorder.sent == [(CommandKind.STOP, None)]


async def test_without_sleep_a_pending_command_is_checked_when_due() -> None:
    """Home Assistant's way: nothing waits in place; each call checks the command when due."""
    executor, recorder, clock = make(delay_s=25.0)
    executor.sleep = None
    assert await executor.async_apply(IDLE) is ExecutionStatus.IN_FLIGHT
    in_flight = executor.state.in_flight
    assert in_flight is not None
    assert in_flight.target_id == recorder.simulation.charger_id
    assert in_flight.next_check_at == START + timedelta(seconds=2)
    # Not due yet: no status is asked, nothing else is sent, whatever is wished meanwhile.
    assert await executor.async_apply(CHARGE) is ExecutionStatus.NOT_SENT
    assert recorder.sent == [(CommandKind.STOP, None)]
    clock.now = START + timedelta(seconds=30)
    assert executor.expedite("someone-else") is False
    assert executor.expedite(in_flight.command_id) is True
    # The stop settles, then the newest wish is sent.
    assert await executor.async_apply(CHARGE) is ExecutionStatus.IN_FLIGHT
    assert recorder.sent == [(CommandKind.STOP, None), (CommandKind.START, None)]


async def test_a_command_never_confirmed_is_cancelled_before_the_next_path() -> None:
    executor, recorder, _ = make(delay_s=3600.0)
    executor.policy = RetryPolicy(poll_delays_s=(1.0, 1.0), attempts=1, backoff_s=())
    cancelled: list[tuple[str, str]] = []

    async def cancel(command_id: str, target_id: str) -> CommandResult:
        cancelled.append((command_id, target_id))
        return await recorder.status(command_id, target_id)

    executor.cancel_command = cancel
    assert await executor.async_apply(IDLE) is ExecutionStatus.FAILED
    assert cancelled == [("sim-cmd-1", recorder.simulation.charger_id)]
    assert executor.state.failure_reason == Reason(ReasonCode.NOT_CONFIRMED)


async def test_a_schedule_elsewhere_leaves_the_devices_alone_longer() -> None:
    executor, recorder, clock = make()

    async def controlled(
        kind: CommandKind, value: float | None, tried: tuple[str, ...]
    ) -> CommandResult:
        recorder.sent.append((kind, value))
        raise ControlledElsewhereError("a schedule controls the car")

    executor.send_command = controlled
    assert await executor.async_apply(IDLE) is ExecutionStatus.FAILED
    state = executor.state
    assert state.controlled_elsewhere
    assert state.retry_not_before == clock.now + timedelta(seconds=900)
    assert recorder.sent == [(CommandKind.STOP, None)]
    executor.clear_failure()
    assert not executor.state.controlled_elsewhere


def test_an_in_flight_command_stored_before_device_ids_is_read() -> None:
    """Stores written before commands remembered their device still load."""
    state = ExecutorState.from_dict(
        {
            "in_flight": {
                "command_id": "old",
                "kind": "stop",
                "value": None,
                "target": IDLE.to_dict(),
                "completes_target": True,
                "sent_at": START.isoformat(),
            }
        }
    )
    assert state.in_flight is not None
    assert state.in_flight.target_id == ""
    assert state.in_flight.next_check_at is None
    assert state.to_dict()["in_flight"]["tried"] == []
