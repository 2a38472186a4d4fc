"""Enode commands as a real account meets them, in simulated time.

Replays 1,000 start/stop commands on 50 car-and-charger pairs through the real command path
(the executor following each action at growing intervals, routing car first and charger on
failure, the Enode account and client) against the fake Enode API over loopback HTTP. The fake's
actions take Enode's time (mostly about 20 s, a tail to 15 minutes, a few nearly 30; seeded) on a
clock only this script moves; 30 % of car actions fail, and 10 % of commands are redundant: the
car already did what was asked after EV Flex last read it, so Enode answers 400 or ends the
action UNNECESSARY.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
import random
import statistics

import aiohttp

from custom_components.ev_flex.core.account import NoOtherPathError
from custom_components.ev_flex.core.enode import EnodeAccount
from custom_components.ev_flex.core.executor import (
    CHARGE,
    IDLE,
    POLL_FOLLOW_DELAYS_S,
    CommandExecutor,
    DeviceTarget,
    ExecutionStatus,
    RetryPolicy,
    follow_delays,
)
from custom_components.ev_flex.core.model import CommandKind, CommandResult
from custom_components.ev_flex.core.pairing import PairingTracker, RouteFailure, route_command
from custom_components.ev_flex.core.simulator import Simulation
from tests.fakes.enode_server import FakeEnodeServer

from . import SimulatedClock, linked_enode_pair

COMMANDS = 1000
PAIRS = 50
VEHICLE_FAILURE_RATE = 0.3
REDUNDANT_SHARE = 0.1
SEED = 7
GOAL_SUCCESS = 0.999
# One attempt per command, as smart charging makes (it tries again at its next wake-up).
POLICY = RetryPolicy(poll_delays_s=follow_delays(POLL_FOLLOW_DELAYS_S), attempts=1)


@dataclass
class Tally:
    """What happened to the commands."""

    confirmed: int = 0
    redundant_sent: int = 0
    redundant_failed: int = 0
    seconds_to_confirmed: list[float] = field(default_factory=list)
    command_requests: int = 0
    # Commands that created an action at Enode (the rest were answered "already so").
    sent: int = 0


@dataclass(kw_only=True)
class Pair:
    """One user's car and charger, with the executor that drives them."""

    account: EnodeAccount
    vehicle_id: str
    charger_id: str
    executor: CommandExecutor
    tracker: PairingTracker = field(default_factory=PairingTracker)


def _make_pair(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: SimulatedClock, index: int
) -> Pair:
    account, site = linked_enode_pair(server, session, index, soc_pct=20.0)
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    vehicle_id = site.vehicle_id
    holder: dict[str, Pair] = {}

    async def send(kind: CommandKind, value: float | None, tried: tuple[str, ...]) -> CommandResult:
        pair = holder["pair"]
        routed = await route_command(
            pair.tracker.systems[vehicle_id],
            kind,
            account.async_send_command,
            value=value,
            tried=tried,
            skip_redundant=True,
        )
        if routed.result is not None and routed.failure is None:
            return routed.result
        if routed.failure is RouteFailure.NO_PATH:
            raise NoOtherPathError("no path left")
        error = routed.attempts[-1].error if routed.attempts else None
        raise error or NoOtherPathError("every path failed")

    executor = CommandExecutor(
        send_command=send,
        command_status=account.async_command_status,
        cancel_command=account.async_cancel_command,
        clock=clock,
        sleep=clock.sleep,
        policy=POLICY,
    )
    pair = Pair(
        account=account, vehicle_id=vehicle_id, charger_id=site.charger_id, executor=executor
    )
    holder["pair"] = pair
    return pair


def _set_both(simulation: Simulation, kind: CommandKind) -> None:
    """Start or stop charging at the car and the charger alike (as their own apps would)."""
    simulation.send_command(simulation.vehicle_id, kind)
    simulation.send_command(simulation.charger_id, kind)


def _charger_commands_over_pending_car(server: FakeEnodeServer, pairs: list[Pair]) -> int:
    """Charger actions created while an action of the same pair's car was still pending."""
    actions = list(server._actions.values())
    count = 0
    for pair in pairs:
        car = [a for a in actions if a.target_id == pair.vehicle_id]
        for charger_action in (a for a in actions if a.target_id == pair.charger_id):
            at = charger_action.created_at
            count += any(
                a.created_at <= at and (a.completed_at is None or a.completed_at > at) for a in car
            )
    return count


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))] if ordered else float("nan")


async def run() -> None:
    clock = SimulatedClock(datetime(2026, 3, 2, 18, 0, tzinfo=UTC))
    rng = random.Random(SEED)
    tally = Tally()
    async with (
        FakeEnodeServer(clock=clock, seed=SEED) as server,
        aiohttp.ClientSession() as session,
    ):
        server.faults.vehicle_action_failure_rate = VEHICLE_FAILURE_RATE
        pairs = [_make_pair(server, session, clock, index) for index in range(PAIRS)]
        for number in range(COMMANDS // PAIRS):
            target: DeviceTarget = CHARGE if number % 2 == 0 else IDLE
            wanted = CommandKind.START if target is CHARGE else CommandKind.STOP
            opposite = CommandKind.STOP if target is CHARGE else CommandKind.START
            for pair in pairs:
                # Every command meets a car that needs it: driven since, doing the opposite.
                simulation = server.site_of(pair.vehicle_id).simulation
                simulation.set_soc(40.0)
                _set_both(simulation, opposite)
                # Read the account as smart charging does before it acts (not counted below).
                pair.tracker.update(await pair.account.async_snapshot(), clock.now)
                redundant = rng.random() < REDUNDANT_SHARE
                if redundant:
                    # The car does it by itself after that read: Enode finds nothing to do.
                    _set_both(simulation, wanted)
                requests_before = server.stats.api_requests
                sent_before = pair.executor.state.commands_sent
                started = clock.now
                pair.executor.clear_failure()
                status = await pair.executor.async_apply(target)
                tally.command_requests += server.stats.api_requests - requests_before
                tally.sent += pair.executor.state.commands_sent > sent_before
                if status is ExecutionStatus.CONFIRMED:
                    tally.confirmed += 1
                    tally.seconds_to_confirmed.append((clock.now - started).total_seconds())
                if redundant:
                    tally.redundant_sent += 1
                    tally.redundant_failed += status is not ExecutionStatus.CONFIRMED
        overlapping = _charger_commands_over_pending_car(server, pairs)
        car_actions = [a for a in server._actions.values() if a.target_type == "vehicle"]
        car_failed = sum(a.state == "FAILED" and a.outcome == "fail" for a in car_actions)

    times = tally.seconds_to_confirmed
    rate = tally.confirmed / COMMANDS
    print(
        f"Enode commands: {COMMANDS} start/stop commands on {PAIRS} car-and-charger pairs, "
        f"Enode's action timing (seed {SEED}), {VEHICLE_FAILURE_RATE:.0%} of car actions failing "
        f"({car_failed}/{len(car_actions)} did), {REDUNDANT_SHARE:.0%} of commands redundant"
    )
    verdict = "met" if rate >= GOAL_SUCCESS else "NOT met"
    print(
        f"  success rate:                                   {rate:8.2%}  "
        f"({tally.confirmed}/{COMMANDS}; goal >= {GOAL_SUCCESS:.1%}: {verdict})"
    )
    print(
        f"  redundant commands counted as failures:         {tally.redundant_failed:8d}  "
        f"(of {tally.redundant_sent}; goal 0)"
    )
    print(f"  charger commands while the car's was pending:   {overlapping:8d}  (goal 0)")
    print(f"  commands that created an action at Enode:       {tally.sent:8d}")
    print(
        f"  time to confirmed (simulated):                  "
        f"median {statistics.median(times):.0f} s, p95 {_percentile(times, 0.95):.0f} s"
    )
    print(
        f"  requests to Enode per command:                  "
        f"{tally.command_requests / COMMANDS:8.2f}  (creating, checking, cancelling and fresh "
        "reads; the regular polling not counted)"
    )


if __name__ == "__main__":
    asyncio.run(run())
