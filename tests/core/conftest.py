"""Fixtures shared by the core tests of the Enode glue: the fake Enode API on a hand-moved clock."""

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from tests.fakes.enode_server import FakeEnodeServer

from .manual_clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    """The wall clock of the fake Enode API, moved by hand."""
    return ManualClock()


@pytest.fixture
def action_delay() -> timedelta:
    """How long the fake's charging actions take to be confirmed."""
    return timedelta(seconds=5)


@pytest.fixture
async def server(clock: ManualClock, action_delay: timedelta) -> AsyncIterator[FakeEnodeServer]:
    """The fake Enode API on loopback; it delivers webhooks to plain-HTTP loopback receivers."""
    async with FakeEnodeServer(
        clock=clock, action_delay=action_delay, allow_http_webhooks=True
    ) as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session for the client under test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session
