"""The simulated account maps simulator failures onto the account errors callers handle."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.account import (
    AccountUnavailableError,
    CommandRejectedError,
    SimulatedAccount,
)
from custom_components.ev_flex.core.model import CommandKind, CommandState
from custom_components.ev_flex.core.simulator import FaultSettings, Simulation

from .manual_clock import ManualClock

START = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)


def _account() -> tuple[SimulatedAccount, Simulation, ManualClock]:
    clock = ManualClock(START)
    simulation = Simulation(clock=clock, command_delay=timedelta(seconds=5), soc_pct=40.0)
    return SimulatedAccount(simulation), simulation, clock


async def test_an_unreachable_account_cannot_be_read_until_it_is_back() -> None:
    account, simulation, _ = _account()
    simulation.set_faults(FaultSettings(account_unreachable=True))
    # Unavailable (try again later), not a rejection or an auth problem.
    with pytest.raises(AccountUnavailableError):
        await account.async_snapshot()
    simulation.set_faults(FaultSettings())
    snapshot = await account.async_snapshot()
    assert simulation.vehicle_id in snapshot.vehicles


async def test_commands_are_followed_and_unknown_ones_are_rejected() -> None:
    account, simulation, clock = _account()
    sent = await account.async_send_command(simulation.charger_id, CommandKind.STOP)
    assert sent.state is CommandState.PENDING
    clock.now += timedelta(seconds=5)
    followed = await account.async_command_status(sent.command_id)
    assert followed.state is CommandState.CONFIRMED
    # A command the account never heard of (e.g. lost with a restart) won't ever settle.
    with pytest.raises(CommandRejectedError):
        await account.async_command_status("sim-cmd-999")


async def test_send_and_wait_follows_until_settled_or_the_wait_ends() -> None:
    """The simulated account waits for its commands; one slower than the wait comes back
    pending, for the caller to follow."""
    clock = ManualClock(START)
    simulation = Simulation(clock=clock, command_delay=timedelta(seconds=5), soc_pct=40.0)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += timedelta(seconds=seconds)

    account = SimulatedAccount(simulation, command_wait=4.0, poll_interval=2.0, sleep=sleep)
    stopped = await account.async_send_and_wait(simulation.charger_id, CommandKind.STOP)
    assert stopped.state is CommandState.PENDING
    assert waits == [2.0, 2.0]

    account.command_wait = 10.0
    started = await account.async_send_and_wait(simulation.charger_id, CommandKind.START)
    assert started.state is CommandState.CONFIRMED
    assert simulation.charger_state().is_charging
