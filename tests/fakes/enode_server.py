"""A fake Enode API: an aiohttp application for tests, benchmarks and the development instance.

It speaks Enode's API of version 2024-10-01, as its API reference describes it: client-credentials
tokens, users (deleted with their Locations) and Link UI sessions (redirects keep no query),
vendor and vendor-type unlinks, paginated vehicles/chargers/locations/webhooks, interventions,
charge and max-current actions that settle after a delay, refresh hints, and signed webhook
deliveries to HTTPS URLs only (plain HTTP when allowed for tests), with a test endpoint and
webhooks switched off after repeated failed deliveries.
Actions behave as Enode's reference for 2024-10-01 describes them (actions, charging, max current
and EV-charger pairing): most take effect in about 20 s, some vendors take 5-15 minutes and the
worst case is 30 minutes; a START or STOP the device has no use for is answered 400 or ends FAILED
with UNNECESSARY; a pending action can be cancelled; and with Enode's EV-charger pairing a car
that cannot start or stop by itself shows those capabilities once its charger is linked, its
commands then being carried out through the charger.
Virtual devices get their physics from `core.simulator`: every *site* is one Simulation, a car
and the charger it plugs into at home; either side may be hidden (a guest car, a public charger).

Time comes from an injectable clock, so tests can move it by hand; only the optional background
ticker and the "slow responses" fault use real time.

Run it alone with `python -m tests.fakes.enode_server --port 8765`.
"""

import argparse
import asyncio
import base64
from collections import deque
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
import html
import json
import logging
import math
import random
import re
import secrets
import socket
from typing import Any
import uuid

import aiohttp
from aiohttp import web
from yarl import URL

from custom_components.ev_flex.core.enode.client import API_VERSION
from custom_components.ev_flex.core.enode.models import CHARGER_SCOPES, VEHICLE_SCOPES
from custom_components.ev_flex.core.enode.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    sign_payload,
)
from custom_components.ev_flex.core.model import CommandKind, Location
from custom_components.ev_flex.core.simulator import (
    CHARGER_PRESETS,
    VEHICLE_PRESETS,
    ChargerSpec,
    DeviceOfflineError,
    Simulation,
    VehicleSpec,
)

_LOGGER = logging.getLogger(__name__)

type Json = dict[str, Any]
type Clock = Callable[[], datetime]
type _Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEFAULT_CLIENT_ID = "fake-client-id"
DEFAULT_CLIENT_SECRET = "fake-client-secret"
_PROBLEM_BASE = "https://developers.enode.com/api/problems/"
_PROBLEM_CONTENT_TYPE = "application/problem+json"
_LINK_SESSION_LIFETIME = timedelta(hours=24)
_MAX_PAGE_SIZE = 100
_MAX_EVENTS_PER_DELIVERY = 100
# A webhook is switched off after this many failed deliveries in a row (Enode: about a day).
_MAX_DELIVERY_FAILURES = 20
# A vehicle this close to one of the user's Locations is "at" it.
_LOCATION_RADIUS_M = 250.0
# Settled actions are kept this long, then forgotten (a long-running dev instance stays small).
_SETTLED_ACTION_RETENTION = timedelta(days=7)
# Fields that change on every read; a change in them alone is not an update.
_VOLATILE_FIELDS = frozenset({"lastSeen", "lastUpdated"})


def format_timestamp(value: datetime) -> str:
    """Enode's timestamp style: UTC with milliseconds and a Z."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class FakeFaults:
    """Misbehaviour to inject. Change the fields at any time; they apply to the next request."""

    # Share of API requests answered with HTTP 500.
    server_error_rate: float = 0.0
    # Requests whose path contains one of these are always answered with HTTP 500
    # (for example "/locations" makes every Location call fail).
    failing_paths: set[str] = field(default_factory=set)
    # Every list of vehicles and chargers comes back empty (an outage at Enode's side).
    empty_lists: bool = False
    # Share of API requests answered with HTTP 429, and a count of the next ones that will be.
    rate_limit_rate: float = 0.0
    rate_limit_next: int = 0
    # The Retry-After header sent with 429; None leaves the header out.
    retry_after_s: float | None = 1.0
    # Real seconds every request waits before it is answered.
    response_delay_s: float = 0.0
    # Every bearer token is refused (401), as if the client had been revoked.
    reject_tokens: bool = False
    # Actions stay PENDING until Enode would give up on them (all, or those of these devices).
    actions_never_confirm: bool = False
    silent_devices: set[str] = field(default_factory=set)
    # Share of actions that end FAILED (NO_RESPONSE), per target type.
    vehicle_action_failure_rate: float = 0.0
    charger_action_failure_rate: float = 0.0
    # Share of redundant START/STOP requests answered with an action that ends FAILED with
    # UNNECESSARY instead of HTTP 400 (Enode documents both).
    unnecessary_action_rate: float = 0.5
    # Vehicles and chargers controlled by a schedule or smart charging: commands get HTTP 422.
    interference: set[str] = field(default_factory=set)


@dataclass(kw_only=True)
class FakeStats:
    """What the server was asked; tests assert on these."""

    token_requests: int = 0
    api_requests: int = 0
    unauthorized: int = 0
    rate_limited: int = 0
    server_errors: int = 0


@dataclass(kw_only=True)
class Delivery:
    """One webhook POST the server made."""

    url: str
    events: list[str]
    status: int | None
    delivered_at: datetime


@dataclass(kw_only=True)
class VirtualSite:
    """A car and the charger it plugs into at home, sharing one Simulation."""

    simulation: Simulation
    # None when that side cannot be linked (a guest car at the charger, a public charger).
    vehicle_id: str | None
    charger_id: str | None
    vehicle_vendor: str
    charger_vendor: str
    created_at: datetime
    vehicle_user: str | None = None
    charger_user: str | None = None
    vehicle_linked_at: datetime | None = None
    charger_linked_at: datetime | None = None
    charger_location_id: str | None = None
    # Where the car is, when a test moved it away from where the simulation keeps it.
    vehicle_position: Location | None = None
    # The last answer while the device was reachable, served (stale) while it is not.
    last_vehicle_json: Json | None = None
    last_charger_json: Json | None = None

    @property
    def paired(self) -> bool:
        """Both sides are linked to the same user."""
        return (
            self.vehicle_id is not None
            and self.charger_id is not None
            and self.vehicle_user is not None
            and self.vehicle_user == self.charger_user
        )


@dataclass(kw_only=True)
class _User:
    id: str
    created_at: datetime
    invalid_vendors: set[str] = field(default_factory=set)


@dataclass(kw_only=True)
class _LinkSession:
    token: str
    user_id: str
    vendor_type: str | None
    vendor: str | None
    redirect_uri: str
    created_at: datetime
    used: bool = False


@dataclass(kw_only=True)
class _Action:
    id: str
    user_id: str
    target_type: str
    target_id: str
    kind: str | None
    max_current: float | None
    created_at: datetime
    updated_at: datetime
    due_at: datetime
    give_up_at: datetime
    # "confirm", "fail", "unnecessary" or "never".
    outcome: str
    state: str = "PENDING"
    completed_at: datetime | None = None
    failure_reason: Json | None = None

    def to_json(self) -> Json:
        data: Json = {
            "id": self.id,
            "userId": self.user_id,
            "createdAt": format_timestamp(self.created_at),
            "updatedAt": format_timestamp(self.updated_at),
            "completedAt": format_timestamp(self.completed_at) if self.completed_at else None,
            "state": self.state,
            "targetId": self.target_id,
            "targetType": self.target_type,
            "failureReason": self.failure_reason,
        }
        if self.kind is not None:
            data["kind"] = self.kind
        else:
            data["targetState"] = {"maxCurrent": self.max_current}
        return data


@dataclass(kw_only=True)
class _Webhook:
    id: str
    url: str
    secret: str
    events: list[str]
    created_at: datetime
    api_version: str | None = None
    auth_header: tuple[str, str] | None = None
    is_active: bool = True
    last_success: datetime | None = None
    failures: int = 0
    pending: list[Json] = field(default_factory=list)

    def wants(self, event: str) -> bool:
        return "*" in self.events or event in self.events

    def to_json(self) -> Json:
        return {
            "id": self.id,
            "url": self.url,
            "events": self.events,
            "isActive": self.is_active,
            "createdAt": format_timestamp(self.created_at),
            "lastSuccess": format_timestamp(self.last_success) if self.last_success else None,
            "apiVersion": self.api_version,
            "authentication": {"headerName": self.auth_header[0]} if self.auth_header else None,
        }


class _ProblemError(Exception):
    """Raised by handlers to answer with a problem document."""

    def __init__(self, status: int, slug: str, title: str, detail: str | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail


def _problem_response(
    status: int, slug: str, title: str, detail: str | None = None, **headers: str
) -> web.Response:
    body = {"type": f"{_PROBLEM_BASE}{slug}", "title": title, "detail": detail}
    return web.json_response(
        body, status=status, content_type=_PROBLEM_CONTENT_TYPE, headers=headers or None
    )


def _not_found(what: str, ident: str) -> _ProblemError:
    return _ProblemError(404, "not-found", f"{what} does not exist", f"No {what} with ID {ident}")


def _bad_request(detail: str) -> _ProblemError:
    return _ProblemError(400, "payload-validation-error", "Bad request", detail)


FAKE_BRAND = "Fake Enode"


def _vendor_of(make: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", make.upper()) or "UNKNOWN"


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    radius = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def _changed_fields(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted paths of leaves that differ, ignoring the volatile timestamps."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed: list[str] = []
        for key in sorted(set(old) | set(new)):
            if key in _VOLATILE_FIELDS:
                continue
            path = f"{prefix}.{key}" if prefix else key
            changed.extend(_changed_fields(old.get(key), new.get(key), path))
        return changed
    return [] if old == new else [prefix]


def _redirect_target(session: _LinkSession) -> str:
    """Where Link sends the browser back. Enode's Link UI docs promise no query parameters of
    the redirectUri survive, so the fake keeps none: state must live in the path."""
    return str(URL(session.redirect_uri).with_query(None).with_fragment(None))


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        prefix, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        offset = int(number)
    except ValueError:
        prefix, offset = "", -1
    if prefix != "offset" or offset < 0:
        raise _bad_request(f"invalid cursor {cursor!r}")
    return offset


class FakeEnodeServer:
    """The fake API plus Python methods for tests to drive it."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        action_delay: timedelta | None = None,
        action_give_up_after: timedelta = timedelta(minutes=30),
        enode_pairing: bool = False,
        token_lifetime_s: int = 3599,
        pairing_ids: bool = True,
        create_devices_on_link: bool = True,
        auto_tick_interval: float | None = None,
        seed: int = 0,
        allow_http_webhooks: bool = False,
        webhook_proxy: str | None = None,
    ) -> None:
        self._clock = clock or _utc_now
        self.client_id = client_id
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self._public_url = public_url
        # None: each action takes a realistic, seeded time (see `_action_delay`).
        self.action_delay = action_delay
        self.action_give_up_after = action_give_up_after
        # Enode's EV-charger pairing: a car linked with a charger of the same user gains
        # start/stop through it (capability unlocking and command orchestration). Enode turns
        # this on for new API clients and off for those that already steer chargers themselves
        # (its EV-charger pairing FAQ); off here unless a test asks for it.
        self.enode_pairing = enode_pairing
        self.token_lifetime_s = token_lifetime_s
        # Report pluggedInChargerId / pluggedInVehicleId (Enode's EV-charger pairing).
        self.pairing_ids = pairing_ids
        self.create_devices_on_link = create_devices_on_link
        self.auto_tick_interval = auto_tick_interval
        # Enode only posts to HTTPS URLs; a test or development setup may allow plain HTTP.
        self.allow_http_webhooks = allow_http_webhooks
        # Deliveries to HTTPS URLs go to this base instead: a TLS-terminating reverse proxy in
        # front of Home Assistant, as a real installation with an external address has.
        self.webhook_proxy = webhook_proxy
        self.faults = FakeFaults()
        self.stats = FakeStats()
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=10_000)
        self.deliveries: list[Delivery] = []
        self._seed = seed
        self._fault_random = random.Random(seed)
        self._action_random = random.Random(seed + 1)
        # One stream per device, so which actions fail does not depend on request order.
        self._outcome_randoms: dict[str, random.Random] = {}
        self._tokens: dict[str, datetime] = {}
        self._users: dict[str, _User] = {}
        self._link_sessions: dict[str, _LinkSession] = {}
        self._sites: list[VirtualSite] = []
        self._vehicles: dict[str, VirtualSite] = {}
        self._chargers: dict[str, VirtualSite] = {}
        self._actions: dict[str, _Action] = {}
        self._locations: dict[str, Json] = {}
        self._webhooks: dict[str, _Webhook] = {}
        self._raw_vehicles: dict[str, list[Json]] = {}
        self._raw_chargers: dict[str, list[Json]] = {}
        self._observed: dict[str, Json] = {}
        self._interventions: dict[str, Json] = {}
        # Capabilities blocked per device: capability key -> intervention ids.
        self._blocked: dict[str, dict[str, list[str]]] = {}
        self._counter = 0
        self._tick_lock = asyncio.Lock()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.app = self._build_app()

    # Lifecycle

    async def start(self) -> str:
        """Listen (port 0 picks a free port) and return the base URL."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._http = aiohttp.ClientSession()
        if self.auto_tick_interval is not None:
            self._ticker = asyncio.create_task(self._tick_forever(self.auto_tick_interval))
        return self.base_url

    async def stop(self) -> None:
        """Stop listening and close everything the server opened."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeEnodeServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The API base (also serves /oauth2/token and the Link UI)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def public_url(self) -> str:
        """The base URL browsers use (link URLs point here)."""
        return (self._public_url or self.base_url).rstrip("/")

    async def _tick_forever(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.tick()
            except Exception:
                _LOGGER.exception("Fake Enode tick failed")

    # Control API for tests

    def _next_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}-{self._counter:04d}-{uuid.UUID(int=self._action_random.getrandbits(128))}"

    def add_site(
        self,
        *,
        vehicle: VehicleSpec | None = None,
        charger: ChargerSpec | None = None,
        with_vehicle: bool = True,
        with_charger: bool = True,
        soc_pct: float = 45.0,
        plugged_in: bool = True,
        vehicle_id: str | None = None,
        charger_id: str | None = None,
        vehicle_vendor: str | None = None,
        charger_vendor: str | None = None,
    ) -> VirtualSite:
        """A car and its home charger; `with_vehicle=False` makes the car a guest, and
        `with_charger=False` makes the charger a public one that cannot be linked."""
        vehicle_spec = vehicle or VehicleSpec()
        charger_spec = charger or ChargerSpec()
        exposed_vehicle = (vehicle_id or self._next_id("vehicle")) if with_vehicle else None
        exposed_charger = (charger_id or self._next_id("charger")) if with_charger else None
        simulation = Simulation(
            clock=self._clock,
            vehicle=vehicle_spec,
            charger=charger_spec,
            soc_pct=soc_pct,
            plugged_in=plugged_in,
            command_delay=timedelta(0),
            vehicle_id=exposed_vehicle or self._next_id("guest-vehicle"),
            charger_id=exposed_charger or self._next_id("public-charger"),
        )
        site = VirtualSite(
            simulation=simulation,
            vehicle_id=exposed_vehicle,
            charger_id=exposed_charger,
            vehicle_vendor=vehicle_vendor or _vendor_of(vehicle_spec.make),
            charger_vendor=charger_vendor or _vendor_of(charger_spec.make),
            created_at=self._clock(),
        )
        self._sites.append(site)
        if exposed_vehicle is not None:
            self._vehicles[exposed_vehicle] = site
        if exposed_charger is not None:
            self._chargers[exposed_charger] = site
        return site

    def add_vehicle(
        self, spec: VehicleSpec | None = None, *, plugged_in: bool = False, **kwargs: Any
    ) -> str:
        """A car on its own (it charges at a public charger when plugged in); returns its id."""
        site = self.add_site(vehicle=spec, with_charger=False, plugged_in=plugged_in, **kwargs)
        assert site.vehicle_id is not None
        return site.vehicle_id

    def add_charger(
        self, spec: ChargerSpec | None = None, *, plugged_in: bool = False, **kwargs: Any
    ) -> str:
        """A charger on its own (a guest car may plug in); returns its id."""
        site = self.add_site(charger=spec, with_vehicle=False, plugged_in=plugged_in, **kwargs)
        assert site.charger_id is not None
        return site.charger_id

    @property
    def sites(self) -> list[VirtualSite]:
        """Every virtual site, in the order they were added."""
        return list(self._sites)

    def site_of(self, device_id: str) -> VirtualSite:
        """The site a vehicle or charger belongs to."""
        site = self._vehicles.get(device_id) or self._chargers.get(device_id)
        if site is None:
            raise KeyError(f"no virtual device {device_id}")
        return site

    def link(self, user_id: str, device_id: str) -> None:
        """Link a device to a user without the Link UI (the dashboard's auto-link)."""
        self._ensure_user(user_id)
        site = self.site_of(device_id)
        now = self._clock()
        if device_id == site.vehicle_id:
            site.vehicle_user, site.vehicle_linked_at = user_id, now
            self._users[user_id].invalid_vendors.discard(site.vehicle_vendor)
            self._emit(user_id, "user:vehicle:discovered", {"vehicle": self._vehicle_json(site)})
        else:
            site.charger_user, site.charger_linked_at = user_id, now
            self._users[user_id].invalid_vendors.discard(site.charger_vendor)
            self._emit(user_id, "user:charger:discovered", {"charger": self._charger_json(site)})

    def unlink(self, device_id: str) -> None:
        """Remove a device from its user (as if deleted from the vendor account)."""
        site = self.site_of(device_id)
        if device_id == site.vehicle_id and site.vehicle_user is not None:
            user = site.vehicle_user
            self._emit(user, "user:vehicle:deleted", {"vehicle": self._vehicle_json(site)})
            site.vehicle_user = site.vehicle_linked_at = None
        elif device_id == site.charger_id and site.charger_user is not None:
            user = site.charger_user
            self._emit(user, "user:charger:deleted", {"charger": self._charger_json(site)})
            site.charger_user = site.charger_linked_at = None
        self._observed.pop(device_id, None)

    def plug_in(self, device_id: str) -> None:
        """Connect the site's car to its charger."""
        self.site_of(device_id).simulation.plug_in()

    def unplug(self, device_id: str) -> None:
        """Disconnect the site's car."""
        self.site_of(device_id).simulation.unplug()

    def set_reachable(self, device_id: str, reachable: bool) -> None:
        """Make a vehicle or charger (un)reachable; its data goes stale meanwhile."""
        site = self.site_of(device_id)
        self._cache_json(site)
        simulation = site.simulation
        if device_id == site.vehicle_id:
            simulation.set_faults(replace(simulation.faults, vehicle_offline=not reachable))
        else:
            simulation.set_faults(replace(simulation.faults, charger_offline=not reachable))

    def invalidate_credentials(self, user_id: str, vendor: str) -> None:
        """The user changed their vendor password: Enode can no longer use the account."""
        self._ensure_user(user_id).invalid_vendors.add(vendor)
        self._emit(user_id, "user:credentials:invalidated", {"vendor": vendor})

    def add_intervention(
        self,
        *,
        vendor: str | None,
        vendor_type: str | None,
        title: str,
        description: str,
        action: str | None = None,
    ) -> str:
        """An intervention Enode can describe (GET /interventions/{id})."""
        intervention_id = str(uuid.UUID(int=self._action_random.getrandbits(128)))
        self._interventions[intervention_id] = {
            "id": intervention_id,
            "vendor": vendor,
            "vendorType": vendor_type,
            "brand": vendor.title() if vendor else None,
            "introducedAt": format_timestamp(self._clock()),
            "domain": "Account",
            "resolution": {
                "title": title,
                "description": description,
                "access": "Remote",
                "agent": "User",
                "action": action,
            },
        }
        return intervention_id

    def block(self, device_id: str, capability: str, intervention_id: str) -> None:
        """The device loses a capability until the user does what the intervention says."""
        self.site_of(device_id)
        self._blocked.setdefault(device_id, {}).setdefault(capability, []).append(intervention_id)

    def unblock(self, device_id: str) -> None:
        """The user did it: every capability of the device works again."""
        self._blocked.pop(device_id, None)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working."""
        self._tokens.clear()

    def add_raw_vehicle(self, user_id: str, data: Json) -> None:
        """Serve this JSON as one more vehicle of the user (for malformed-payload tests)."""
        self._ensure_user(user_id)
        self._raw_vehicles.setdefault(user_id, []).append(data)

    def add_raw_charger(self, user_id: str, data: Json) -> None:
        """Serve this JSON as one more charger of the user (for malformed-payload tests)."""
        self._ensure_user(user_id)
        self._raw_chargers.setdefault(user_id, []).append(data)

    def action(self, action_id: str) -> Json:
        """An action as the API would show it now."""
        self._settle_actions()
        return self._actions[action_id].to_json()

    def vehicle_json(self, vehicle_id: str) -> Json:
        """A vehicle as the API would show it now."""
        return self._vehicle_json(self._vehicles[vehicle_id])

    def charger_json(self, charger_id: str) -> Json:
        """A charger as the API would show it now."""
        return self._charger_json(self._chargers[charger_id])

    def pending_events(self) -> list[Json]:
        """Events queued for delivery, over all webhooks."""
        return [event for hook in self._webhooks.values() for event in hook.pending]

    async def tick(self) -> None:
        """Settle due actions, notice device changes and deliver webhooks."""
        async with self._tick_lock:
            self._settle_actions()
            self._observe_devices()
            await self._deliver_webhooks()

    # Users

    def _ensure_user(self, user_id: str) -> _User:
        if user_id not in self._users:
            self._users[user_id] = _User(id=user_id, created_at=self._clock())
        return self._users[user_id]

    def _user(self, user_id: str) -> _User:
        user = self._users.get(user_id)
        if user is None:
            raise _ProblemError(
                404, "not-found", "User does not exist", f"Could not find user with ID {user_id}"
            )
        return user

    def _linked_vendors(self, user_id: str) -> list[Json]:
        invalid = self._users[user_id].invalid_vendors
        seen: dict[tuple[str, str], Json] = {}
        for site in self._sites:
            if site.vehicle_user == user_id:
                seen[(site.vehicle_vendor, "vehicle")] = {
                    "vendor": site.vehicle_vendor,
                    "vendorType": "vehicle",
                    "isValid": site.vehicle_vendor not in invalid,
                }
            if site.charger_user == user_id:
                seen[(site.charger_vendor, "charger")] = {
                    "vendor": site.charger_vendor,
                    "vendorType": "charger",
                    "isValid": site.charger_vendor not in invalid,
                }
        return list(seen.values())

    # Rendering devices

    def _cache_json(self, site: VirtualSite) -> None:
        if site.vehicle_id is not None:
            self._vehicle_json(site)
        if site.charger_id is not None:
            self._charger_json(site)

    def _vehicle_location_id(
        self, site: VirtualSite, plugged_in: bool, latitude: float, longitude: float
    ) -> str:
        """The Location the car is at: its paired charger's, else one within GPS range."""
        if site.paired and site.charger_location_id and plugged_in:
            return site.charger_location_id
        for location in self._locations.values():
            if location["userId"] != site.vehicle_user:
                continue
            distance = _distance_m(latitude, longitude, location["latitude"], location["longitude"])
            if distance <= _LOCATION_RADIUS_M:
                return str(location["id"])
        return ""

    def _vehicle_json(self, site: VirtualSite) -> Json:
        assert site.vehicle_id is not None
        simulation = site.simulation
        try:
            state = simulation.vehicle_state()
        except DeviceOfflineError:
            return self._stale(site.last_vehicle_json, site.vehicle_id, site.vehicle_user)
        now = format_timestamp(self._clock())
        charging = bool(state.is_charging)
        if not state.is_plugged_in:
            delivery = "UNPLUGGED"
        elif charging:
            delivery = "PLUGGED_IN:CHARGING"
        elif state.is_fully_charged:
            delivery = "PLUGGED_IN:COMPLETE"
        else:
            delivery = "PLUGGED_IN:STOPPED"
        charge_state: Json = {
            "batteryLevel": state.battery_level_pct,
            "range": state.range_km,
            "isPluggedIn": state.is_plugged_in,
            "isCharging": charging,
            "isFullyCharged": state.is_fully_charged,
            "batteryCapacity": state.battery_capacity_kwh,
            "chargeLimit": state.charge_limit_pct,
            "chargeRate": state.charge_rate_kw if charging else None,
            "chargeTimeRemaining": state.charge_time_remaining_min if charging else None,
            "lastUpdated": now,
            "maxCurrent": None,
            "powerDeliveryState": delivery,
        }
        if self.pairing_ids:
            plugged_into_pair = site.paired and bool(state.is_plugged_in)
            charge_state["pluggedInChargerId"] = site.charger_id if plugged_into_pair else None
        position = site.vehicle_position or state.location
        latitude = position.latitude if position else None
        longitude = position.longitude if position else None
        location_id = (
            self._vehicle_location_id(site, bool(state.is_plugged_in), latitude, longitude)
            if latitude is not None and longitude is not None
            else ""
        )
        start_stop = self._vehicle_can_start_stop(site)

        def capable(flag: bool) -> Json:
            return {"isCapable": flag, "interventionIds": []}

        data: Json = {
            "id": site.vehicle_id,
            "userId": site.vehicle_user,
            "vendor": site.vehicle_vendor,
            "lastSeen": now,
            "isReachable": True,
            "information": {
                "vin": state.vin,
                "brand": state.make,
                "model": state.model,
                "year": state.year,
                "displayName": None,
            },
            "chargeState": charge_state,
            "smartChargingPolicy": {"isEnabled": False, "deadline": None, "minimumChargeLimit": 0},
            "location": {
                "id": location_id or None,
                "latitude": latitude,
                "longitude": longitude,
                "lastUpdated": now,
            },
            "odometer": {"distance": state.odometer_km, "lastUpdated": now},
            "capabilities": {
                "information": capable(True),
                "chargeState": capable(True),
                "location": capable(True),
                "odometer": capable(True),
                "setMaxCurrent": capable(False),
                "startCharging": capable(start_stop),
                "stopCharging": capable(start_stop),
                "smartCharging": capable(start_stop),
            },
            "scopes": list(VEHICLE_SCOPES),
        }
        self._apply_blocks(site.vehicle_id, data)
        site.last_vehicle_json = data
        return data

    def _charger_json(self, site: VirtualSite) -> Json:
        assert site.charger_id is not None
        simulation, spec = site.simulation, site.simulation.charger_spec
        try:
            state = simulation.charger_state()
        except DeviceOfflineError:
            return self._stale(site.last_charger_json, site.charger_id, site.charger_user)
        now = format_timestamp(self._clock())
        rate = state.charge_rate_kw or 0.0
        charging = bool(state.is_charging)
        if not state.is_plugged_in:
            delivery = "UNPLUGGED"
        elif charging:
            delivery = "PLUGGED_IN:CHARGING"
        elif rate < 0:
            delivery = "PLUGGED_IN:DISCHARGING"
        else:
            delivery = "PLUGGED_IN:STOPPED"
        charge_state: Json = {
            "isPluggedIn": state.is_plugged_in,
            "isCharging": charging,
            "chargeRate": state.charge_rate_kw if charging else None,
            "lastUpdated": now,
            "maxCurrent": state.max_current_a,
            "powerDeliveryState": delivery,
        }
        if self.pairing_ids:
            plugged_into_pair = site.paired and bool(state.is_plugged_in)
            charge_state["pluggedInVehicleId"] = site.vehicle_id if plugged_into_pair else None
        capable: Json = {"isCapable": True, "interventionIds": []}
        data: Json = {
            "id": site.charger_id,
            "userId": site.charger_user,
            "vendor": site.charger_vendor,
            "lastSeen": now,
            "isReachable": True,
            "chargeState": charge_state,
            "capabilities": {
                "information": capable,
                "chargeState": capable,
                "startCharging": capable,
                "stopCharging": capable,
                "setMaxCurrent": capable,
            },
            "scopes": list(CHARGER_SCOPES),
            "information": {
                "brand": spec.make,
                "model": spec.model,
                "year": None,
                "serialNumber": spec.serial_number,
            },
            "location": {
                "id": site.charger_location_id,
                "lastUpdated": now if site.charger_location_id else None,
            },
        }
        self._apply_blocks(site.charger_id, data)
        site.last_charger_json = data
        return data

    @staticmethod
    def _stale(cached: Json | None, device_id: str, user_id: str | None) -> Json:
        data = json.loads(json.dumps(cached)) if cached else {"id": device_id, "userId": user_id}
        data["isReachable"] = False
        return data

    def _user_vehicles(self, user_id: str | None) -> list[Json]:
        sites = [
            site
            for site in self._sites
            if site.vehicle_id is not None
            and site.vehicle_user is not None
            and not self.faults.empty_lists
            and (user_id is None or site.vehicle_user == user_id)
        ]
        # Newest first, as Enode lists them.
        sites.sort(key=lambda s: s.vehicle_linked_at or s.created_at, reverse=True)
        items = [self._vehicle_json(site) for site in sites]
        for owner, raw in self._raw_vehicles.items():
            if user_id is None or owner == user_id:
                items.extend(raw)
        return items

    def _user_chargers(self, user_id: str | None) -> list[Json]:
        sites = [
            site
            for site in self._sites
            if site.charger_id is not None
            and site.charger_user is not None
            and not self.faults.empty_lists
            and (user_id is None or site.charger_user == user_id)
        ]
        sites.sort(key=lambda s: s.charger_linked_at or s.created_at, reverse=True)
        items = [self._charger_json(site) for site in sites]
        for owner, raw in self._raw_chargers.items():
            if user_id is None or owner == user_id:
                items.extend(raw)
        return items

    def _linked_vehicle(self, vehicle_id: str) -> VirtualSite:
        site = self._vehicles.get(vehicle_id)
        if site is None or site.vehicle_user is None:
            raise _not_found("Vehicle", vehicle_id)
        return site

    def _linked_charger(self, charger_id: str) -> VirtualSite:
        site = self._chargers.get(charger_id)
        if site is None or site.charger_user is None:
            raise _not_found("Charger", charger_id)
        return site

    def _apply_blocks(self, device_id: str, data: Json) -> None:
        for capability, intervention_ids in self._blocked.get(device_id, {}).items():
            data["capabilities"][capability] = {
                "isCapable": False,
                "interventionIds": list(intervention_ids),
            }

    # Events and webhooks

    def _emit(self, user_id: str, event: str, payload: Json) -> None:
        body: Json = {
            "event": event,
            "createdAt": format_timestamp(self._clock()),
            "version": API_VERSION,
            "user": {"id": user_id},
            **payload,
        }
        for hook in self._webhooks.values():
            if hook.is_active and hook.wants(event):
                hook.pending.append(body)

    def _observe_devices(self) -> None:
        """Queue an `updated` event for every linked device whose data changed."""
        for site in self._sites:
            if site.vehicle_id is not None and site.vehicle_user is not None:
                self._observe(site.vehicle_id, site.vehicle_user, "vehicle", site)
            if site.charger_id is not None and site.charger_user is not None:
                self._observe(site.charger_id, site.charger_user, "charger", site)

    def _observe(self, device_id: str, user_id: str, kind: str, site: VirtualSite) -> None:
        current = self._vehicle_json(site) if kind == "vehicle" else self._charger_json(site)
        previous = self._observed.get(device_id)
        self._observed[device_id] = current
        if previous is None:
            return
        changed = _changed_fields(previous, current)
        if changed:
            self._emit(user_id, f"user:{kind}:updated", {kind: current, "updatedFields": changed})

    async def _post_events(self, hook: _Webhook, events: list[Json]) -> tuple[int | None, str]:
        assert self._http is not None, "the server is not started"
        body = json.dumps(events).encode()
        headers = {
            "Content-Type": "application/json",
            DELIVERY_HEADER: str(uuid.uuid4()),
            SIGNATURE_HEADER: sign_payload(body, hook.secret),
        }
        if hook.auth_header is not None:
            headers[hook.auth_header[0].lower()] = hook.auth_header[1]
        status: int | None = None
        text = ""
        try:
            async with self._http.post(
                self._delivery_url(hook.url),
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=5),
            ) as response:
                status = response.status
                text = (await response.text())[:500]
        except (aiohttp.ClientError, TimeoutError) as err:
            text = str(err)
        self.deliveries.append(
            Delivery(
                url=hook.url,
                events=[str(event.get("event")) for event in events],
                status=status,
                delivered_at=self._clock(),
            )
        )
        return status, text

    def _delivery_url(self, url: str) -> str:
        parsed = URL(url)
        if self.webhook_proxy is None or parsed.scheme != "https":
            return url
        return str(URL(self.webhook_proxy).with_path(parsed.path).with_query(parsed.query))

    async def _deliver_webhooks(self) -> None:
        for hook in list(self._webhooks.values()):
            while hook.is_active and hook.pending:
                batch = hook.pending[:_MAX_EVENTS_PER_DELIVERY]
                status, _ = await self._post_events(hook, batch)
                if status is not None and 200 <= status < 300:
                    del hook.pending[: len(batch)]
                    hook.failures = 0
                    hook.last_success = self._clock()
                    continue
                hook.failures += 1
                if hook.failures >= _MAX_DELIVERY_FAILURES:
                    hook.is_active = False
                    hook.pending.clear()
                # Try again on the next tick.
                break

    # Actions

    def _settle_actions(self) -> None:
        now = self._clock()
        forget_before = now - _SETTLED_ACTION_RETENTION
        for action_id in [
            action_id
            for action_id, action in self._actions.items()
            if action.completed_at is not None and action.completed_at < forget_before
        ]:
            del self._actions[action_id]
        for action in self._actions.values():
            if action.state != "PENDING":
                continue
            if action.outcome == "never" or not self._target_reachable(action):
                if now >= action.give_up_at:
                    self._finish(action, "FAILED", "NO_RESPONSE", "The device never confirmed")
                continue
            if now < action.due_at:
                continue
            if action.outcome == "fail":
                self._finish(action, "FAILED", "NO_RESPONSE", "The vendor did not carry it out")
                continue
            if action.outcome == "unnecessary":
                self._finish(
                    action, "FAILED", "UNNECESSARY", "The device was already in the desired state"
                )
                continue
            self._apply(action)
            self._finish(action, "CONFIRMED")

    def _action_delay(self, target_id: str) -> timedelta:
        """How long the vendor takes: mostly about 20 s, a tail to 15 minutes, rarely nearly 30
        (Enode's reference on actions); seeded per device."""
        if self.action_delay is not None:
            return self.action_delay
        rng = self._outcome_random(target_id)
        share = rng.random()
        if share < 0.8:
            seconds = rng.uniform(8.0, 40.0)
        elif share < 0.97:
            seconds = rng.uniform(60.0, 900.0)
        else:
            seconds = rng.uniform(900.0, 1700.0)
        return timedelta(seconds=seconds)

    def _target_reachable(self, action: _Action) -> bool:
        site = self._vehicles.get(action.target_id) or self._chargers.get(action.target_id)
        if site is None:
            return False
        faults = site.simulation.faults
        if action.target_type == "vehicle":
            return not faults.vehicle_offline
        return not faults.charger_offline

    @staticmethod
    def _is_plugged_in(site: VirtualSite) -> bool:
        """Whether the site's car is connected, asking whichever side answers."""
        simulation = site.simulation
        for read in (simulation.vehicle_state, simulation.charger_state):
            try:
                return bool(read().is_plugged_in)
            except DeviceOfflineError:
                continue
        # Neither side answers: Enode cannot know, so the action is not refused up front.
        return True

    def _apply(self, action: _Action) -> None:
        site = self._vehicles.get(action.target_id) or self._chargers[action.target_id]
        simulation = site.simulation
        target = simulation.vehicle_id if action.target_type == "vehicle" else simulation.charger_id
        if action.target_type == "vehicle" and not simulation.vehicle_spec.can_start_stop:
            # Orchestrated by Enode's EV-charger pairing: the charger carries it out.
            target = simulation.charger_id
        if action.kind == "START":
            simulation.send_command(target, CommandKind.START)
        elif action.kind == "STOP":
            simulation.send_command(target, CommandKind.STOP)
        else:
            simulation.send_command(target, CommandKind.SET_MAX_CURRENT, action.max_current)

    def _vehicle_can_start_stop(self, site: VirtualSite) -> bool:
        """The car's startCharging/stopCharging capability as Enode reports it: its own, or one
        unlocked through a charger of the same user (Enode's EV-charger pairing)."""
        own = site.simulation.vehicle_spec.can_start_stop
        return own or (self.enode_pairing and site.paired)

    def _already_so(self, site: VirtualSite, target_type: str, kind: str) -> str | None:
        """Why a START or STOP would change nothing (Enode then answers 400), or None."""
        simulation = site.simulation
        try:
            if target_type == "vehicle":
                vehicle = simulation.vehicle_state()
                charging = bool(vehicle.is_charging)
                if kind == "START" and vehicle.is_fully_charged:
                    return "The vehicle is fully charged"
            else:
                charging = bool(simulation.charger_state().is_charging)
        except DeviceOfflineError:
            # Enode cannot tell; it sends the command.
            return None
        if kind == "START" and charging:
            return "Already charging"
        if kind == "STOP" and not charging:
            return "Already not charging"
        return None

    def _finish(
        self, action: _Action, state: str, reason: str | None = None, detail: str | None = None
    ) -> None:
        now = self._clock()
        action.state = state
        action.updated_at = action.completed_at = now
        action.failure_reason = {"type": reason, "detail": detail} if reason else None
        self._emit(
            action.user_id,
            "user:vendor-action:updated",
            {"vendorAction": action.to_json(), "updatedFields": ["state"]},
        )

    def _outcome_random(self, target_id: str) -> random.Random:
        if target_id not in self._outcome_randoms:
            self._outcome_randoms[target_id] = random.Random(f"{self._seed}:{target_id}")
        return self._outcome_randoms[target_id]

    def _create_action(
        self,
        site: VirtualSite,
        target_type: str,
        kind: str | None,
        max_current: float | None,
    ) -> _Action:
        target_id = site.vehicle_id if target_type == "vehicle" else site.charger_id
        user_id = site.vehicle_user if target_type == "vehicle" else site.charger_user
        assert target_id is not None
        assert user_id is not None
        if target_id in self.faults.interference:
            raise _ProblemError(
                422,
                "controlled-by-schedule",
                "Charging is controlled by a schedule or smart charging",
                "Disable the schedule or smart charging, or use a smart override.",
            )
        now = self._clock()
        for existing in self._actions.values():
            if existing.target_id != target_id or existing.state != "PENDING":
                continue
            # A vehicle gets the same pending action back when it asks for the same thing.
            if target_type == "vehicle" and existing.kind == kind and kind is not None:
                return existing
            self._finish(existing, "CANCELLED", "CONFLICT", "A newer action replaced it")
        rng = self._outcome_random(target_id)
        failure_rate = (
            self.faults.vehicle_action_failure_rate
            if target_type == "vehicle"
            else self.faults.charger_action_failure_rate
        )
        redundant = None if kind is None else self._already_so(site, target_type, kind)
        if redundant is not None and rng.random() >= self.faults.unnecessary_action_rate:
            raise _ProblemError(400, "bad-request", "Bad request", redundant)
        if self.faults.actions_never_confirm or target_id in self.faults.silent_devices:
            outcome = "never"
        elif redundant is not None:
            outcome = "unnecessary"
        elif rng.random() < failure_rate:
            outcome = "fail"
        else:
            outcome = "confirm"
        action = _Action(
            id=str(uuid.UUID(int=self._action_random.getrandbits(128))),
            user_id=user_id,
            target_type=target_type,
            target_id=target_id,
            kind=kind,
            max_current=max_current,
            created_at=now,
            updated_at=now,
            due_at=now + self._action_delay(target_id),
            give_up_at=now + self.action_give_up_after,
            outcome=outcome,
        )
        self._actions[action.id] = action
        if kind is not None and outcome != "unnecessary" and not self._is_plugged_in(site):
            # Enode already knows the precondition fails: the action starts out cancelled.
            self._finish(action, "CANCELLED", "FAILED_PRECONDITION", "The vehicle is unplugged")
        elif action.due_at <= now:
            self._settle_actions()
        return action

    # HTTP plumbing

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        route = app.router
        route.add_post("/oauth2/token", self._token)
        route.add_get("/health/ready", self._health)
        route.add_get("/link/{token}", self._link_page)
        route.add_post("/link/{token}", self._link_submit)
        route.add_get("/users", self._list_users)
        route.add_get("/users/{user_id}", self._get_user)
        route.add_delete("/users/{user_id}", self._delete_user)
        route.add_post("/users/{user_id}/link", self._create_link)
        route.add_delete("/users/{user_id}/authorization", self._deauthorize)
        route.add_delete("/users/{user_id}/vendors/{vendor}", self._disconnect_vendor)
        route.add_delete(
            "/users/{user_id}/vendors/{vendor}/{vendor_type}", self._disconnect_vendor_type
        )
        route.add_get("/users/{user_id}/vehicles", self._list_user_vehicles)
        route.add_get("/users/{user_id}/chargers", self._list_user_chargers)
        route.add_get("/users/{user_id}/locations", self._list_user_locations)
        route.add_post("/users/{user_id}/locations", self._create_user_location)
        route.add_get("/vehicles", self._list_vehicles)
        route.add_get("/vehicles/actions/{action_id}", self._get_vehicle_action)
        route.add_post("/vehicles/actions/{action_id}/cancel", self._cancel_vehicle_action)
        route.add_get("/vehicles/{vehicle_id}", self._get_vehicle)
        route.add_post("/vehicles/{vehicle_id}/charging", self._vehicle_charging)
        route.add_post("/vehicles/{vehicle_id}/max-current", self._vehicle_max_current)
        route.add_post("/vehicles/{vehicle_id}/refresh-hint", self._vehicle_refresh)
        route.add_get("/chargers", self._list_chargers)
        route.add_get("/chargers/actions/{action_id}", self._get_charger_action)
        route.add_post("/chargers/actions/{action_id}/cancel", self._cancel_charger_action)
        route.add_get("/chargers/{charger_id}", self._get_charger)
        route.add_put("/chargers/{charger_id}", self._update_charger)
        route.add_post("/chargers/{charger_id}/charging", self._charger_charging)
        route.add_post("/chargers/{charger_id}/max-current", self._charger_max_current)
        route.add_post("/chargers/{charger_id}/refresh-hint", self._charger_refresh)
        route.add_get("/locations", self._list_locations)
        route.add_post("/locations", self._create_location)
        route.add_get("/locations/{location_id}", self._get_location)
        route.add_put("/locations/{location_id}", self._update_location)
        route.add_delete("/locations/{location_id}", self._delete_location)
        route.add_get("/interventions", self._list_interventions)
        route.add_get("/interventions/{intervention_id}", self._get_intervention)
        route.add_get("/webhooks", self._list_webhooks)
        route.add_post("/webhooks", self._create_webhook)
        route.add_get("/webhooks/{webhook_id}", self._get_webhook)
        route.add_patch("/webhooks/{webhook_id}", self._update_webhook)
        route.add_delete("/webhooks/{webhook_id}", self._delete_webhook)
        route.add_post("/webhooks/{webhook_id}/test", self._test_webhook)
        route.add_get("/_fake/state", self._fake_state)
        route.add_post("/_fake/sites", self._fake_add_site)
        route.add_post("/_fake/devices/{device_id}/plug", self._fake_plug)
        route.add_post("/_fake/devices/{device_id}/reachable", self._fake_reachable)
        route.add_post("/_fake/faults", self._fake_faults)
        route.add_post("/_fake/expire-tokens", self._fake_expire_tokens)
        route.add_post("/_fake/tick", self._fake_tick)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        path = request.path
        control = path.startswith("/_fake/")
        if self.faults.response_delay_s > 0 and not control:
            await asyncio.sleep(self.faults.response_delay_s)
        try:
            if path.startswith(("/_fake/", "/oauth2/", "/link/", "/health/")):
                response = await handler(request)
            else:
                response = await self._api_call(request, handler)
        except _ProblemError as err:
            response = _problem_response(err.status, err.slug, err.title, err.detail)
        except web.HTTPNotFound:
            response = _problem_response(404, "not-found", "Not found", f"No route {path}")
        except web.HTTPMethodNotAllowed:
            response = _problem_response(405, "method-not-allowed", "Method not allowed")
        self.request_log.append((request.method, path, response.status))
        return response

    async def _api_call(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        self.stats.api_requests += 1
        if not self._authorised(request):
            self.stats.unauthorized += 1
            return _problem_response(401, "unauthorized", "Unauthorized", "Invalid access token")
        faults = self.faults
        limited = faults.rate_limit_next > 0
        if limited:
            faults.rate_limit_next -= 1
        elif faults.rate_limit_rate > 0:
            limited = self._fault_random.random() < faults.rate_limit_rate
        if limited:
            self.stats.rate_limited += 1
            headers = {}
            if faults.retry_after_s is not None:
                headers["Retry-After"] = f"{faults.retry_after_s:g}"
            return _problem_response(429, "rate-limited", "Too many requests", **headers)
        failing_path = any(part in request.path for part in faults.failing_paths)
        if failing_path or (
            faults.server_error_rate > 0 and self._fault_random.random() < faults.server_error_rate
        ):
            self.stats.server_errors += 1
            return _problem_response(500, "internal-server-error", "Internal server error")
        self._settle_actions()
        return await handler(request)

    def _authorised(self, request: web.Request) -> bool:
        if self.faults.reject_tokens:
            return False
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        expires = self._tokens.get(token)
        return expires is not None and self._clock() < expires

    def _paginate(self, request: web.Request, items: list[Json]) -> web.Response:
        query = request.query
        if "after" in query and "before" in query:
            raise _bad_request("use either after or before, not both")
        try:
            page_size = int(query.get("pageSize", "50"))
        except ValueError:
            raise _bad_request("pageSize must be a number") from None
        if not 1 <= page_size <= _MAX_PAGE_SIZE:
            raise _bad_request(f"pageSize must be between 1 and {_MAX_PAGE_SIZE}")
        if "before" in query:
            end = _decode_cursor(query["before"])
            start = max(0, end - page_size)
        else:
            start = _decode_cursor(query["after"]) if "after" in query else 0
            end = start + page_size
        page = items[start:end]
        after = _encode_cursor(end) if end < len(items) else None
        before = _encode_cursor(start) if start > 0 else None
        return web.json_response({"data": page, "pagination": {"after": after, "before": before}})

    @staticmethod
    async def _json_body(request: web.Request) -> Json:
        if not request.can_read_body:
            return {}
        try:
            data = await request.json()
        except ValueError:
            raise _bad_request("body is not JSON") from None
        if not isinstance(data, dict):
            raise _bad_request("body must be a JSON object")
        return data

    # Token and health

    async def _token(self, request: web.Request) -> web.Response:
        self.stats.token_requests += 1
        form = await request.post()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            with contextlib.suppress(ValueError):
                login, _, password = (
                    base64.b64decode(encoded, validate=True).decode().partition(":")
                )
                client_id, client_secret = login, password
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if client_id != self.client_id or client_secret != self.client_secret:
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status=401,
            )
        token = secrets.token_urlsafe(24)
        self._tokens[token] = self._clock() + timedelta(seconds=self.token_lifetime_s)
        return web.json_response(
            {
                "access_token": token,
                "expires_in": self.token_lifetime_s,
                "scope": "",
                "token_type": "bearer",
            }
        )

    async def _health(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    # Users and linking

    async def _list_users(self, request: web.Request) -> web.Response:
        users = sorted(self._users.values(), key=lambda u: u.created_at, reverse=True)
        items = [
            {
                "id": user.id,
                "createdAt": format_timestamp(user.created_at),
                "scopes": [*VEHICLE_SCOPES, *CHARGER_SCOPES],
            }
            for user in users
        ]
        return self._paginate(request, items)

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self._user(request.match_info["user_id"])
        return web.json_response({"id": user.id, "linkedVendors": self._linked_vendors(user.id)})

    async def _delete_user(self, request: web.Request) -> web.Response:
        user = self._user(request.match_info["user_id"])
        for site in self._sites:
            if site.vehicle_user == user.id and site.vehicle_id is not None:
                self.unlink(site.vehicle_id)
            if site.charger_user == user.id and site.charger_id is not None:
                self.unlink(site.charger_id)
        # Everything of the user goes (2024-10-01 "Delete user"), their Locations too.
        for location_id in [
            key for key, location in self._locations.items() if location["userId"] == user.id
        ]:
            del self._locations[location_id]
        del self._users[user.id]
        return web.Response(status=204)

    async def _deauthorize(self, request: web.Request) -> web.Response:
        user = self._user(request.match_info["user_id"])
        for vendor in {str(v["vendor"]) for v in self._linked_vendors(user.id)}:
            self.invalidate_credentials(user.id, vendor)
        return web.Response(status=204)

    async def _disconnect_vendor(self, request: web.Request) -> web.Response:
        user = self._user(request.match_info["user_id"])
        vendor = request.match_info["vendor"]
        for site in self._sites:
            if site.vehicle_user == user.id and site.vehicle_vendor == vendor:
                assert site.vehicle_id is not None
                self.unlink(site.vehicle_id)
            if site.charger_user == user.id and site.charger_vendor == vendor:
                assert site.charger_id is not None
                self.unlink(site.charger_id)
        return web.Response(status=204)

    async def _disconnect_vendor_type(self, request: web.Request) -> web.Response:
        # DELETE /users/{userId}/vendors/{vendor}/{vendorType} (Enode's API reference,
        # 2024-10-01): only that device type of the vendor account goes.
        user = self._user(request.match_info["user_id"])
        vendor, vendor_type = request.match_info["vendor"], request.match_info["vendor_type"]
        if vendor_type not in ("vehicle", "charger"):
            raise _bad_request(f"the fake links vehicles and chargers, not {vendor_type}")
        for site in self._sites:
            if vendor_type == "vehicle":
                device_id, owner, owner_vendor = (
                    site.vehicle_id,
                    site.vehicle_user,
                    site.vehicle_vendor,
                )
            else:
                device_id, owner, owner_vendor = (
                    site.charger_id,
                    site.charger_user,
                    site.charger_vendor,
                )
            if device_id is not None and owner == user.id and owner_vendor == vendor:
                self.unlink(device_id)
        return web.Response(status=204)

    async def _create_link(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        body = await self._json_body(request)
        redirect_uri = body.get("redirectUri")
        if not isinstance(redirect_uri, str) or not redirect_uri:
            raise _bad_request("redirectUri is required")
        if not isinstance(body.get("scopes"), list):
            raise _bad_request("scopes is required")
        vendor_type = body.get("vendorType")
        if vendor_type is not None and vendor_type not in ("vehicle", "charger"):
            raise _bad_request(f"the fake links vehicles and chargers, not {vendor_type}")
        vendor = body.get("vendor")
        self._ensure_user(user_id)
        token = secrets.token_urlsafe(16)
        self._link_sessions[token] = _LinkSession(
            token=token,
            user_id=user_id,
            vendor_type=vendor_type,
            vendor=vendor if isinstance(vendor, str) else None,
            redirect_uri=redirect_uri,
            created_at=self._clock(),
        )
        return web.json_response({"linkUrl": f"{self.public_url}/link/{token}", "linkToken": token})

    def _open_session(self, token: str) -> _LinkSession:
        session = self._link_sessions.get(token)
        if session is None:
            raise web.HTTPNotFound(text="Unknown link session")
        if session.used or self._clock() - session.created_at > _LINK_SESSION_LIFETIME:
            raise web.HTTPGone(text="This link session was used or has expired")
        return session

    def _linkable(self, session: _LinkSession) -> list[tuple[str, str, str]]:
        """(device id, vendor type, label) of devices nobody has linked yet."""
        devices: list[tuple[str, str, str]] = []
        for site in self._sites:
            simulation = site.simulation
            if (
                site.vehicle_id is not None
                and site.vehicle_user is None
                and session.vendor_type in (None, "vehicle")
                and session.vendor in (None, site.vehicle_vendor)
            ):
                spec = simulation.vehicle_spec
                label = f"{spec.make} {spec.model} ({spec.vin})"
                devices.append((site.vehicle_id, "vehicle", label))
            if (
                site.charger_id is not None
                and site.charger_user is None
                and session.vendor_type in (None, "charger")
                and session.vendor in (None, site.charger_vendor)
            ):
                spec_c = simulation.charger_spec
                home = (
                    f", home of the {simulation.vehicle_spec.model}"
                    if site.vehicle_id is not None
                    else ""
                )
                label = f"{spec_c.make} {spec_c.model} ({spec_c.serial_number}{home})"
                devices.append((site.charger_id, "charger", label))
        return devices

    def _complete_link(self, session: _LinkSession, device_id: str | None) -> web.Response:
        linkable = self._linkable(session)
        if device_id is None:
            if not linkable and self.create_devices_on_link:
                if session.vendor_type == "charger":
                    self.add_charger(plugged_in=False)
                else:
                    self.add_vehicle()
                linkable = self._linkable(session)
            if not linkable:
                return web.Response(status=409, text="No virtual device is free to link")
            device_id = linkable[0][0]
        if device_id not in {device[0] for device in linkable}:
            return web.Response(status=400, text=f"Device {device_id} cannot be linked here")
        self.link(session.user_id, device_id)
        session.used = True
        return web.Response(status=302, headers={"Location": _redirect_target(session)})

    def _abort_link(self, session: _LinkSession) -> web.Response:
        session.used = True
        location = URL(_redirect_target(session)).update_query(
            error="access_denied", error_message="The user cancelled linking"
        )
        return web.Response(status=302, headers={"Location": str(location)})

    async def _link_page(self, request: web.Request) -> web.Response:
        session = self._open_session(request.match_info["token"])
        query = request.query
        if "cancel" in query:
            return self._abort_link(session)
        if "autolink" in query or "device" in query:
            return self._complete_link(session, query.get("device"))
        rows = "".join(
            f'<li><label><input type="radio" name="device" value="{html.escape(ident)}"'
            f"{' checked' if index == 0 else ''}> {html.escape(kind)}: {html.escape(label)}"
            "</label></li>"
            for index, (ident, kind, label) in enumerate(self._linkable(session))
        )
        if not rows:
            rows = "<li>No device is waiting; a new virtual one will be created.</li>"
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Fake Enode Link</title>"
            "</head><body><h1>Fake Enode Link</h1>"
            f"<p>Link a {html.escape(session.vendor_type or 'device')} to user "
            f"<code>{html.escape(session.user_id)}</code>.</p>"
            f'<form method="post"><ul>{rows}</ul>'
            '<button type="submit" name="action" value="link">Link</button> '
            '<button type="submit" name="action" value="cancel">Cancel</button>'
            "</form></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _link_submit(self, request: web.Request) -> web.Response:
        session = self._open_session(request.match_info["token"])
        form = await request.post()
        if form.get("action") == "cancel":
            return self._abort_link(session)
        device = form.get("device")
        return self._complete_link(session, device if isinstance(device, str) else None)

    # Vehicles and chargers

    async def _list_vehicles(self, request: web.Request) -> web.Response:
        return self._paginate(request, self._user_vehicles(None))

    async def _list_user_vehicles(self, request: web.Request) -> web.Response:
        # A never-linked user gets an empty list, as Enode answers.
        return self._paginate(request, self._user_vehicles(request.match_info["user_id"]))

    async def _get_vehicle(self, request: web.Request) -> web.Response:
        return web.json_response(
            self._vehicle_json(self._linked_vehicle(request.match_info["vehicle_id"]))
        )

    async def _list_chargers(self, request: web.Request) -> web.Response:
        return self._paginate(request, self._user_chargers(None))

    async def _list_user_chargers(self, request: web.Request) -> web.Response:
        return self._paginate(request, self._user_chargers(request.match_info["user_id"]))

    async def _get_charger(self, request: web.Request) -> web.Response:
        return web.json_response(
            self._charger_json(self._linked_charger(request.match_info["charger_id"]))
        )

    async def _update_charger(self, request: web.Request) -> web.Response:
        site = self._linked_charger(request.match_info["charger_id"])
        body = await self._json_body(request)
        location_id = body.get("locationId")
        if location_id is not None and location_id not in self._locations:
            raise _bad_request(f"unknown location {location_id}")
        site.charger_location_id = location_id
        return web.json_response(self._charger_json(site))

    @staticmethod
    def _charge_kind(body: Json) -> str:
        kind = body.get("action")
        if kind not in ("START", "STOP"):
            raise _bad_request("action must be START or STOP")
        return str(kind)

    async def _vehicle_charging(self, request: web.Request) -> web.Response:
        site = self._linked_vehicle(request.match_info["vehicle_id"])
        kind = self._charge_kind(await self._json_body(request))
        if not self._vehicle_can_start_stop(site):
            raise _ProblemError(
                400,
                "capability-not-available",
                "Capability not available",
                "This vehicle cannot start or stop charging",
            )
        return web.json_response(self._create_action(site, "vehicle", kind, None).to_json())

    async def _charger_charging(self, request: web.Request) -> web.Response:
        site = self._linked_charger(request.match_info["charger_id"])
        kind = self._charge_kind(await self._json_body(request))
        return web.json_response(self._create_action(site, "charger", kind, None).to_json())

    async def _vehicle_max_current(self, request: web.Request) -> web.Response:
        self._linked_vehicle(request.match_info["vehicle_id"])
        raise _ProblemError(
            400,
            "capability-not-available",
            "Capability not available",
            "This vehicle cannot set its maximum current",
        )

    async def _charger_max_current(self, request: web.Request) -> web.Response:
        site = self._linked_charger(request.match_info["charger_id"])
        body = await self._json_body(request)
        value = body.get("maxCurrent")
        spec = site.simulation.charger_spec
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not spec.min_current_a <= value <= spec.max_current_limit_a
        ):
            raise _bad_request(
                f"maxCurrent must be between {spec.min_current_a:g} and "
                f"{spec.max_current_limit_a:g}"
            )
        action = self._create_action(site, "charger", None, float(value))
        return web.json_response(action.to_json())

    async def _vehicle_refresh(self, request: web.Request) -> web.Response:
        self._linked_vehicle(request.match_info["vehicle_id"])
        return web.Response(status=204)

    async def _charger_refresh(self, request: web.Request) -> web.Response:
        self._linked_charger(request.match_info["charger_id"])
        return web.Response(status=204)

    def _find_action(self, action_id: str, target_type: str) -> _Action:
        action = self._actions.get(action_id)
        if action is None or action.target_type != target_type:
            raise _not_found("Action", action_id)
        return action

    async def _get_vehicle_action(self, request: web.Request) -> web.Response:
        action = self._find_action(request.match_info["action_id"], "vehicle")
        return web.json_response(action.to_json())

    async def _get_charger_action(self, request: web.Request) -> web.Response:
        action = self._find_action(request.match_info["action_id"], "charger")
        return web.json_response(action.to_json())

    def _cancel(self, action: _Action) -> web.Response:
        if action.state != "PENDING":
            # Enode answers 409 with the settled action itself, not a problem document.
            return web.json_response(action.to_json(), status=409)
        self._finish(action, "CANCELLED", "REQUESTED_CANCELLATION", "Cancelled on request")
        return web.json_response(action.to_json())

    async def _cancel_vehicle_action(self, request: web.Request) -> web.Response:
        return self._cancel(self._find_action(request.match_info["action_id"], "vehicle"))

    async def _cancel_charger_action(self, request: web.Request) -> web.Response:
        return self._cancel(self._find_action(request.match_info["action_id"], "charger"))

    # Locations

    def _location_from_body(self, user_id: str, body: Json) -> Json:
        name, latitude, longitude = body.get("name"), body.get("latitude"), body.get("longitude")
        if not isinstance(name, str) or not name:
            raise _bad_request("name is required")
        for value in (latitude, longitude):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _bad_request("latitude and longitude are required numbers")
        timezone_name = body.get("timezoneName") or "UTC"
        self._ensure_user(user_id)
        location = {
            "id": str(uuid.UUID(int=self._action_random.getrandbits(128))),
            "userId": user_id,
            "name": name,
            "latitude": float(latitude),  # type: ignore[arg-type]
            "longitude": float(longitude),  # type: ignore[arg-type]
            "timezoneName": timezone_name,
        }
        self._locations[str(location["id"])] = location
        return location

    async def _create_user_location(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        return web.json_response(self._location_from_body(request.match_info["user_id"], body))

    async def _create_location(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise _bad_request("userId is required")
        return web.json_response(self._location_from_body(user_id, body))

    async def _list_locations(self, request: web.Request) -> web.Response:
        return self._paginate(request, list(self._locations.values()))

    async def _list_user_locations(self, request: web.Request) -> web.Response:
        user_id = request.match_info["user_id"]
        items = [loc for loc in self._locations.values() if loc["userId"] == user_id]
        return self._paginate(request, items)

    def _location(self, location_id: str) -> Json:
        location = self._locations.get(location_id)
        if location is None:
            raise _not_found("Location", location_id)
        return location

    async def _get_location(self, request: web.Request) -> web.Response:
        return web.json_response(self._location(request.match_info["location_id"]))

    async def _update_location(self, request: web.Request) -> web.Response:
        location = self._location(request.match_info["location_id"])
        body = await self._json_body(request)
        for key in ("name", "latitude", "longitude", "timezoneName"):
            if key in body:
                location[key] = body[key]
        return web.json_response(location)

    def delete_location(self, location_id: str) -> Json:
        """Delete a Location, as `DELETE /locations/{id}` does for any API client (another app,
        or Enode's dashboard): its chargers are left in none. 404 for an unknown one."""
        location = self._location(location_id)
        del self._locations[str(location["id"])]
        for site in self._sites:
            if site.charger_location_id == location["id"]:
                site.charger_location_id = None
        return location

    async def _delete_location(self, request: web.Request) -> web.Response:
        return web.json_response(self.delete_location(request.match_info["location_id"]))

    # Interventions: GET /interventions and /interventions/{id} of Enode's API reference,
    # 2024-10-01 (the fake speaks English only).

    async def _list_interventions(self, request: web.Request) -> web.Response:
        return web.json_response(list(self._interventions.values()))

    async def _get_intervention(self, request: web.Request) -> web.Response:
        intervention_id = request.match_info["intervention_id"]
        intervention = self._interventions.get(intervention_id)
        if intervention is None:
            raise _not_found("Intervention", intervention_id)
        return web.json_response(intervention)

    # Webhooks

    def _webhook(self, webhook_id: str) -> _Webhook:
        hook = self._webhooks.get(webhook_id)
        if hook is None:
            raise _not_found("Webhook", webhook_id)
        return hook

    @staticmethod
    def _auth_header(value: object) -> tuple[str, str] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _bad_request("authentication must be an object")
        name, header_value = value.get("headerName"), value.get("headerValue")
        if not isinstance(name, str) or not isinstance(header_value, str):
            raise _bad_request("authentication needs headerName and headerValue")
        return name, header_value

    def _check_webhook_url(self, url: object) -> str:
        # 2024-10-01 WebhookCreatePayload: `url` is an HTTPS URL Enode can reach.
        schemes = ("https", "http") if self.allow_http_webhooks else ("https",)
        if not isinstance(url, str) or URL(url).scheme not in schemes or not URL(url).host:
            raise _bad_request("url must be an HTTPS URL")
        return url

    async def _create_webhook(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        url, secret = body.get("url"), body.get("secret")
        url = self._check_webhook_url(url)
        if not isinstance(secret, str) or len(secret) < 16:
            raise _bad_request("secret must be at least 16 characters")
        events = body.get("events") or ["*"]
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise _bad_request("events must be a list of event names")
        hook = _Webhook(
            id=str(uuid.UUID(int=self._action_random.getrandbits(128))),
            url=url,
            secret=secret,
            events=events,
            created_at=self._clock(),
            api_version=body.get("apiVersion"),
            auth_header=self._auth_header(body.get("authentication")),
        )
        self._webhooks[hook.id] = hook
        return web.json_response(hook.to_json())

    async def _list_webhooks(self, request: web.Request) -> web.Response:
        return self._paginate(request, [hook.to_json() for hook in self._webhooks.values()])

    async def _get_webhook(self, request: web.Request) -> web.Response:
        return web.json_response(self._webhook(request.match_info["webhook_id"]).to_json())

    async def _update_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(request.match_info["webhook_id"])
        body = await self._json_body(request)
        if "url" in body:
            hook.url = self._check_webhook_url(body["url"])
        if isinstance(body.get("secret"), str):
            hook.secret = body["secret"]
        if isinstance(body.get("events"), list):
            hook.events = [str(e) for e in body["events"]]
        if "authentication" in body:
            hook.auth_header = self._auth_header(body["authentication"])
        # Updating a webhook reactivates it.
        hook.is_active, hook.failures = True, 0
        return web.json_response(hook.to_json())

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(request.match_info["webhook_id"])
        del self._webhooks[hook.id]
        return web.Response(status=204)

    async def _test_webhook(self, request: web.Request) -> web.Response:
        hook = self._webhook(request.match_info["webhook_id"])
        event = {
            "event": "enode:webhook:test",
            "createdAt": format_timestamp(self._clock()),
            "version": API_VERSION,
        }
        status, text = await self._post_events(hook, [event])
        succeeded = status is not None and 200 <= status < 300
        if succeeded:
            hook.is_active, hook.failures, hook.last_success = True, 0, self._clock()
        return web.json_response(
            {
                "status": "SUCCESS" if succeeded else "FAILURE",
                "description": "Test event delivered"
                if succeeded
                else f"Delivery failed: {status or text}",
                "response": {"code": status, "body": text, "headers": []}
                if status is not None
                else None,
            }
        )

    # Control over HTTP (for people and the development instance)

    async def _fake_state(self, request: web.Request) -> web.Response:
        sites = [
            {
                "vehicleId": site.vehicle_id,
                "chargerId": site.charger_id,
                "vehicleUser": site.vehicle_user,
                "chargerUser": site.charger_user,
                "vehicleModel": site.simulation.vehicle_spec.model,
                "canStartStop": site.simulation.vehicle_spec.can_start_stop,
            }
            for site in self._sites
        ]
        faults = {
            key: sorted(value) if isinstance(value, set) else value
            for key, value in self.faults.__dict__.items()
        }
        return web.json_response({"sites": sites, "users": sorted(self._users), "faults": faults})

    async def _fake_add_site(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        preset = str(body.get("preset", "sedan"))
        if preset not in VEHICLE_PRESETS:
            raise _bad_request(f"preset must be one of {sorted(VEHICLE_PRESETS)}")
        site = self.add_site(
            vehicle=VEHICLE_PRESETS[preset],
            charger=CHARGER_PRESETS[preset],
            with_vehicle=bool(body.get("withVehicle", True)),
            with_charger=bool(body.get("withCharger", True)),
            soc_pct=float(body.get("soc", 45.0)),
            plugged_in=bool(body.get("pluggedIn", True)),
        )
        return web.json_response({"vehicleId": site.vehicle_id, "chargerId": site.charger_id})

    async def _fake_plug(self, request: web.Request) -> web.Response:
        device_id = request.match_info["device_id"]
        body = await self._json_body(request)
        try:
            if body.get("pluggedIn", True):
                self.plug_in(device_id)
            else:
                self.unplug(device_id)
        except KeyError:
            raise _not_found("Device", device_id) from None
        return web.Response(status=204)

    async def _fake_reachable(self, request: web.Request) -> web.Response:
        device_id = request.match_info["device_id"]
        body = await self._json_body(request)
        try:
            self.set_reachable(device_id, bool(body.get("reachable", True)))
        except KeyError:
            raise _not_found("Device", device_id) from None
        return web.Response(status=204)

    async def _fake_faults(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        for key, value in body.items():
            if not hasattr(self.faults, key):
                raise _bad_request(f"unknown fault {key}")
            is_set = isinstance(getattr(self.faults, key), set)
            setattr(self.faults, key, set(value) if is_set else value)
        return web.Response(status=204)

    async def _fake_expire_tokens(self, request: web.Request) -> web.Response:
        self.expire_tokens()
        return web.Response(status=204)

    async def _fake_tick(self, request: web.Request) -> web.Response:
        await self.tick()
        return web.Response(status=204)


def server_from_args(argv: list[str] | None = None) -> FakeEnodeServer:
    """A server configured from command line arguments, with its preset sites added."""
    parser = argparse.ArgumentParser(description="Run the fake Enode API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--public-url", default=None, help="base URL browsers use for Link UI")
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument(
        "--action-delay", type=float, default=None, help="seconds (default: realistic, seeded)"
    )
    parser.add_argument("--tick", type=float, default=2.0, help="seconds between webhook rounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--allow-http-webhooks", action="store_true", help="accept http:// webhook URLs"
    )
    parser.add_argument(
        "--webhook-proxy",
        default=None,
        help="deliver https:// webhooks to this base URL instead (a TLS-terminating proxy)",
    )
    parser.add_argument(
        "--preset",
        action="append",
        choices=sorted(VEHICLE_PRESETS),
        help="a car and home charger to offer for linking (repeatable; default: sedan, hatchback)",
    )
    args = parser.parse_args(argv)
    server = FakeEnodeServer(
        client_id=args.client_id,
        client_secret=args.client_secret,
        host=args.host,
        port=args.port,
        public_url=args.public_url,
        action_delay=None if args.action_delay is None else timedelta(seconds=args.action_delay),
        auto_tick_interval=args.tick,
        seed=args.seed,
        allow_http_webhooks=args.allow_http_webhooks,
        webhook_proxy=args.webhook_proxy,
    )
    for preset in args.preset or ["sedan", "hatchback"]:
        # Its own brand, so its devices are told apart from a simulated account's beside them.
        server.add_site(
            vehicle=replace(VEHICLE_PRESETS[preset], make=FAKE_BRAND),
            charger=replace(CHARGER_PRESETS[preset], make=FAKE_BRAND),
        )
    return server


async def serve(server: FakeEnodeServer, stop: asyncio.Event | None = None) -> None:
    """Run the server until `stop` is set (forever without one)."""
    await server.start()
    print(f"Fake Enode API on {server.base_url}", flush=True)
    print(f"  client id:     {server.client_id}")
    print(f"  client secret: {server.client_secret}")
    print(f"  control:       {server.base_url}/_fake/state", flush=True)
    try:
        await (stop or asyncio.Event()).wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    server = server_from_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(server))


if __name__ == "__main__":
    main()
