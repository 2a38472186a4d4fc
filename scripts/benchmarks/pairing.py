"""How much EV-charger pairing helps when car commands fail.

Sends 1,000 start/stop commands through the fake Enode server over loopback HTTP, with 30 % of
vehicle actions failing (seeded). With pairing, a failed car command falls back to the charger
the car is plugged into; without, the car's own command is all there is. Actions settle after a
short real delay so the run takes seconds; times are reported in milliseconds of that scale.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import statistics
import time

import aiohttp

from custom_components.ev_flex.core.enode import EnodeAccount
from custom_components.ev_flex.core.model import CommandKind, CommandState
from custom_components.ev_flex.core.pairing import CommandPath, PairingTracker, route_command
from tests.fakes.enode_server import FakeEnodeServer

from . import linked_enode_pair

COMMANDS = 1000
SITES = 50
VEHICLE_FAILURE_RATE = 0.3
ACTION_DELAY = timedelta(milliseconds=20)
POLL_INTERVAL_S = 0.005
SEED = 7
TARGET_WITH_PAIRING = 0.999


@dataclass
class Outcome:
    """What happened to the commands of one run."""

    succeeded: int = 0
    fallbacks: int = 0
    vehicle_failures: int = 0
    vehicle_attempts: int = 0
    confirm_times: list[float] = field(default_factory=list)
    fallback_times: list[float] = field(default_factory=list)


async def _run(*, with_pairing: bool) -> tuple[Outcome, float]:
    outcome = Outcome()
    async with (
        FakeEnodeServer(action_delay=ACTION_DELAY, seed=SEED) as server,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=SITES * 2)) as session,
    ):
        server.faults.vehicle_action_failure_rate = VEHICLE_FAILURE_RATE
        accounts = []
        for index in range(SITES):
            account, site = linked_enode_pair(
                server,
                session,
                index,
                soc_pct=40.0,
                action_poll_interval=POLL_INTERVAL_S,
                action_timeout=10.0,
            )
            assert site.vehicle_id is not None
            accounts.append((account, site.vehicle_id))

        async def drive(account: EnodeAccount, vehicle_id: str, count: int) -> None:
            tracker = PairingTracker()
            system = tracker.update(await account.async_snapshot(), datetime.now(UTC))[vehicle_id]
            for number in range(count):
                kind = CommandKind.STOP if number % 2 == 0 else CommandKind.START
                started = time.perf_counter()
                if with_pairing:
                    routed = await route_command(system, kind, account.async_send_and_wait)
                    ok = routed.succeeded
                    outcome.fallbacks += routed.fell_back
                    vehicle_tries = [a for a in routed.attempts if a.path is CommandPath.VEHICLE]
                    outcome.vehicle_attempts += len(vehicle_tries)
                    outcome.vehicle_failures += sum(not a.succeeded for a in vehicle_tries)
                else:
                    result = await account.async_send_and_wait(vehicle_id, kind)
                    ok = result.state is CommandState.CONFIRMED
                    outcome.vehicle_attempts += 1
                    outcome.vehicle_failures += not ok
                if ok:
                    elapsed = time.perf_counter() - started
                    outcome.succeeded += 1
                    outcome.confirm_times.append(elapsed)
                    if with_pairing and routed.fell_back:
                        outcome.fallback_times.append(elapsed)

        per_site = COMMANDS // SITES
        started = time.perf_counter()
        await asyncio.gather(*(drive(account, vid, per_site) for account, vid in accounts))
        return outcome, time.perf_counter() - started


def _report(label: str, outcome: Outcome, wall_s: float) -> None:
    times_ms = sorted(t * 1000 for t in outcome.confirm_times)
    median = statistics.median(times_ms) if times_ms else float("nan")
    p95 = times_ms[int(0.95 * (len(times_ms) - 1))] if times_ms else float("nan")
    print(f"  {label}")
    print(
        f"    success rate:                {outcome.succeeded / COMMANDS:8.2%}"
        f"  ({outcome.succeeded}/{COMMANDS})"
    )
    failed_share = outcome.vehicle_failures / outcome.vehicle_attempts
    print(
        f"    vehicle actions failed:      {failed_share:8.2%}"
        f"  ({outcome.vehicle_failures}/{outcome.vehicle_attempts})"
    )
    print(f"    charger fallbacks:           {outcome.fallbacks:8d}")
    print(f"    median time to confirmed:    {median:8.1f} ms   (p95 {p95:.1f} ms)")
    if outcome.fallback_times:
        fallback_median = statistics.median(outcome.fallback_times) * 1000
        print(f"    median when it fell back:    {fallback_median:8.1f} ms")
    print(f"    wall time:                   {wall_s:8.2f} s")


async def main() -> None:
    print(
        f"EV-charger pairing: {COMMANDS} start/stop commands on {SITES} cars, "
        f"{VEHICLE_FAILURE_RATE:.0%} of vehicle actions failing (seed {SEED}), "
        f"actions settle after {ACTION_DELAY.total_seconds() * 1000:.0f} ms"
    )
    paired, paired_wall = await _run(with_pairing=True)
    alone, alone_wall = await _run(with_pairing=False)
    _report("with pairing (car first, charger on failure):", paired, paired_wall)
    _report("without pairing (car only):", alone, alone_wall)
    rate = paired.succeeded / COMMANDS
    verdict = "met" if rate >= TARGET_WITH_PAIRING else "NOT met"
    print(f"  target with pairing >= {TARGET_WITH_PAIRING:.1%}: {verdict} ({rate:.2%})")


if __name__ == "__main__":
    asyncio.run(main())
