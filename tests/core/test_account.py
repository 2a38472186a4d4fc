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

from .controller_rig import ManualClock

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
