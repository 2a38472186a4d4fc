"""Benchmarks (`scripts/bench`); helpers they share live here."""

from datetime import datetime, timedelta
from typing import Any

import aiohttp

from custom_components.ev_flex.core.enode import EnodeAccount, EnodeClient, EnodeEndpoints
from tests.fakes.enode_server import FakeEnodeServer, VirtualSite


def linked_enode_pair(
    server: FakeEnodeServer,
    session: aiohttp.ClientSession,
    index: int,
    *,
    soc_pct: float,
    **client_options: Any,
) -> tuple[EnodeAccount, VirtualSite]:
    """A car and its charger, both linked to a user of their own, and that user's account."""
    site = server.add_site(soc_pct=soc_pct)
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    user = f"bench-user-{index}"
    server.link(user, site.vehicle_id)
    server.link(user, site.charger_id)
    client = EnodeClient(
        session,
        client_id=server.client_id,
        client_secret=server.client_secret,
        endpoints=EnodeEndpoints.custom(server.base_url),
        **client_options,
    )
    return EnodeAccount(client, user), site


class SimulatedClock:
    """Wall time for simulations, fake servers and executors; only waiting moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
