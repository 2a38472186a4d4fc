"""Helpers shared by the Enode tests: a webhook receiver, a client and its monotonic clock."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import socket

import aiohttp
from aiohttp import web

from custom_components.ev_flex.core.enode import EnodeClient, EnodeEndpoints
from tests.fakes.enode_server import FakeEnodeServer

USER = "user-1"
# State travels in the path: Link keeps no query of the redirect URI.
REDIRECT_URI = "https://ha.example/api/ev_flex/link/abc/state-token"


class ManualMonotonic:
    """A monotonic clock (seconds) for the client's token cache."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def make_client(
    session: aiohttp.ClientSession, server: FakeEnodeServer, **kwargs: object
) -> EnodeClient:
    """A client for the fake server, polling actions quickly."""
    options: dict[str, object] = {
        "client_id": server.client_id,
        "client_secret": server.client_secret,
        "endpoints": EnodeEndpoints.custom(server.base_url),
        "action_poll_interval": 0.0,
        "action_timeout": 5.0,
    }
    options.update(kwargs)
    return EnodeClient(session, **options)  # type: ignore[arg-type]


@dataclass
class Receiver:
    """A webhook endpoint that records what it got."""

    url: str = ""
    status: int = 200
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # Set on every delivery, so a test can wait for one without polling.
    received: asyncio.Event = field(default_factory=asyncio.Event)


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    """A real HTTP server on loopback that answers webhook deliveries."""
    receiver = Receiver()

    async def handle(request: web.Request) -> web.Response:
        receiver.bodies.append(await request.read())
        receiver.headers.append(dict(request.headers))
        receiver.received.set()
        return web.Response(status=receiver.status)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    try:
        yield receiver
    finally:
        await runner.cleanup()
