"""EnodeAccount: the account interface on top of the client, against the fake server."""

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from custom_components.ev_flex.core.account import (
    AccountAuthError,
    AccountUnavailableError,
    CommandRejectedError,
)
from custom_components.ev_flex.core.enode import EnodeAccount, InterferenceError, RateLimitedError
from custom_components.ev_flex.core.enode.account import MAX_REMEMBERED_ACTIONS
from custom_components.ev_flex.core.model import CommandKind, CommandState, ReasonCode
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer

from .enode_support import USER, make_client
from .manual_clock import ManualClock

pytestmark = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
async def account(server: FakeEnodeServer) -> AsyncIterator[EnodeAccount]:
    async with aiohttp.ClientSession() as session:
        yield EnodeAccount(make_client(session, server), USER, command_timeout=0.05)


def link_site(server: FakeEnodeServer, **kwargs: object) -> tuple[str, str]:
    site = server.add_site(**kwargs)  # type: ignore[arg-type]
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    server.link(USER, site.vehicle_id)
    server.link(USER, site.charger_id)
    return site.vehicle_id, site.charger_id


async def test_snapshot_holds_the_users_devices(
    server: FakeEnodeServer, account: EnodeAccount
) -> None:
    vehicle_id, charger_id = link_site(server, vehicle=VEHICLE_PRESETS["hatchback"])
    # Someone else's car is not part of this account.
    server.link("someone-else", server.add_vehicle())
    snapshot = await account.async_snapshot()
    assert set(snapshot.vehicles) == {vehicle_id}
    assert set(snapshot.chargers) == {charger_id}
    assert snapshot.reports_plugged_in_ids
    vehicle = snapshot.vehicles[vehicle_id]
    assert vehicle.model == "Hatchback 40 kWh"
    assert not vehicle.capabilities.can_start_stop
    assert vehicle.plugged_in_charger_id == charger_id
    assert snapshot.chargers[charger_id].plugged_in_vehicle_id == vehicle_id


async def test_commands_are_followed_to_the_end(
    server: FakeEnodeServer, account: EnodeAccount, clock: ManualClock
) -> None:
    _, charger_id = link_site(server)
    await account.async_snapshot()
    sent = await account.async_send_command(charger_id, CommandKind.SET_MAX_CURRENT, 12)
    assert sent.state is CommandState.PENDING
    assert sent.kind is CommandKind.SET_MAX_CURRENT
    assert sent.target_id == charger_id
    clock.advance(seconds=5)
    status = await account.async_command_status(sent.command_id)
    assert status.state is CommandState.CONFIRMED

    stopped = await account.async_send_and_wait(charger_id, CommandKind.STOP)
    # The clock did not move: the wait ends with the command still pending.
    assert stopped.state is CommandState.PENDING
    clock.advance(seconds=5)
    assert (await account.async_command_status(stopped.command_id)).state is (
        CommandState.CONFIRMED
    )


async def test_failed_action_reports_its_reason(
    server: FakeEnodeServer, account: EnodeAccount
) -> None:
    vehicle_id, _ = link_site(server)
    await account.async_snapshot()
    server.faults.vehicle_action_failure_rate = 1.0
    server.action_delay = timedelta(0)
    result = await account.async_send_and_wait(vehicle_id, CommandKind.STOP)
    assert result.state is CommandState.FAILED
    assert result.failure_reason is not None
    assert result.failure_reason.code is ReasonCode.ENODE_NO_RESPONSE


async def test_errors_become_account_errors(server: FakeEnodeServer, account: EnodeAccount) -> None:
    vehicle_id, charger_id = link_site(server)
    hatch_id, _ = link_site(server, vehicle=VEHICLE_PRESETS["hatchback"])
    await account.async_snapshot()

    server.faults.interference = {charger_id}
    with pytest.raises(InterferenceError):
        await account.async_send_command(charger_id, CommandKind.STOP)
    # Interference is a kind of refusal: repeating it will not help.
    assert issubclass(InterferenceError, CommandRejectedError)

    with pytest.raises(CommandRejectedError):
        await account.async_send_command(hatch_id, CommandKind.STOP)
    with pytest.raises(CommandRejectedError):
        await account.async_send_command(vehicle_id, CommandKind.DISCHARGE, 3.0)
    with pytest.raises(CommandRejectedError):
        await account.async_send_command(charger_id, CommandKind.SET_MAX_CURRENT)
    with pytest.raises(CommandRejectedError):
        await account.async_send_command("unknown-device", CommandKind.START)
    with pytest.raises(CommandRejectedError):
        await account.async_command_status("unknown-command")

    server.faults.rate_limit_next = 1
    server.faults.retry_after_s = 30
    with pytest.raises(RateLimitedError) as limited:
        await account.async_snapshot()
    assert limited.value.retry_after == 30
    assert isinstance(limited.value, AccountUnavailableError)

    server.faults.server_error_rate = 1.0
    with pytest.raises(AccountUnavailableError):
        await account.async_snapshot()
    server.faults.server_error_rate = 0.0

    server.faults.reject_tokens = True
    with pytest.raises(AccountAuthError):
        await account.async_snapshot()


async def test_the_record_of_past_actions_stays_small(
    server: FakeEnodeServer, account: EnodeAccount, clock: ManualClock
) -> None:
    """What the account remembers about actions does not grow with every
    command ever sent; an action is still followed by its device after it was forgotten."""
    _, charger_id = link_site(server)
    await account.async_snapshot()
    first = await account.async_send_command(charger_id, CommandKind.SET_MAX_CURRENT, 10)
    for amps in range(3 * MAX_REMEMBERED_ACTIONS):
        await account.async_send_command(charger_id, CommandKind.SET_MAX_CURRENT, 6 + amps % 10)
    assert len(account._command_targets) <= MAX_REMEMBERED_ACTIONS
    # Forgotten by id, still found through its device.
    with pytest.raises(CommandRejectedError):
        await account.async_command_status(first.command_id)
    replaced = await account.async_command_status(first.command_id, charger_id)
    assert replaced.state is CommandState.CANCELLED

    clock.advance(seconds=5)
    last = await account.async_send_command(charger_id, CommandKind.SET_MAX_CURRENT, 16)
    clock.advance(seconds=5)
    assert (await account.async_command_status(last.command_id)).state is CommandState.CONFIRMED
    # Settled: nothing more to remember about it.
    assert last.command_id not in account._command_targets


async def test_redundant_and_unnecessary_commands_are_confirmed(
    server: FakeEnodeServer, account: EnodeAccount, clock: ManualClock
) -> None:
    """A stop for a charger that does not charge: Enode's 400, or an action ending UNNECESSARY,
    is confirmed after a fresh read; a 400 for anything else stays a refusal."""
    vehicle_id, charger_id = link_site(server, plugged_in=False)
    await account.async_snapshot()
    server.faults.unnecessary_action_rate = 0.0
    refused = await account.async_send_command(charger_id, CommandKind.STOP)
    assert refused.state is CommandState.CONFIRMED
    assert refused.redundant

    server.faults.unnecessary_action_rate = 1.0
    pending = await account.async_send_command(vehicle_id, CommandKind.STOP)
    assert pending.state is CommandState.PENDING
    clock.advance(seconds=5)
    settled = await account.async_command_status(pending.command_id)
    assert settled.state is CommandState.CONFIRMED
    assert settled.redundant
    assert server.action(pending.command_id)["failureReason"]["type"] == "UNNECESSARY"

    # A start for an unplugged car is no redundant command: it stays refused (cancelled).
    started = await account.async_send_command(vehicle_id, CommandKind.START)
    assert started.state is CommandState.CANCELLED
