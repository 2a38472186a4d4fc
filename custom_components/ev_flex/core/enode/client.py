"""An async client for the Enode REST API (version 2024-10-01).

The caller owns the aiohttp session. The client fetches an OAuth2 client-credentials token,
keeps it until 60 s before it expires, and on a 401 fetches a new one exactly once before giving
up with EnodeAuthError. Every error answer becomes a typed error from `errors`.
"""

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
import ipaddress
import json
import logging
import re
import time
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from .errors import (
    EnodeActionTimeoutError,
    EnodeApiError,
    EnodeAuthError,
    EnodeBadRequestError,
    EnodeConflictError,
    EnodeConnectionError,
    EnodeError,
    EnodeForbiddenError,
    EnodeInterferenceError,
    EnodeMalformedResponseError,
    EnodeNotFoundError,
    EnodeRateLimitedError,
    EnodeServerError,
    EnodeTimeoutError,
    Problem,
)
from .models import (
    CHARGER_SCOPES,
    VEHICLE_SCOPES,
    ChargeKind,
    EnodeAction,
    EnodeCharger,
    EnodeIntervention,
    EnodeLocation,
    EnodePlace,
    EnodeUser,
    EnodeVehicle,
    EnodeWebhook,
    JsonReader,
    LinkSession,
    TargetType,
    VendorType,
    WebhookTestResult,
    parse_page,
)

_LOGGER = logging.getLogger(__name__)

API_VERSION = "2024-10-01"
# A cached token is replaced this long before Enode says it expires.
TOKEN_REFRESH_MARGIN_S = 60.0
DEFAULT_PAGE_SIZE = 50
# A guard against a server that keeps handing out cursors.
_MAX_PAGES = 1000


class EnodeEnvironment(StrEnum):
    """Which Enode deployment to talk to."""

    PRODUCTION = "production"
    SANDBOX = "sandbox"
    CUSTOM = "custom"


@dataclass(frozen=True, kw_only=True)
class EnodeEndpoints:
    """Where the API and the token endpoint live."""

    api_url: str
    token_url: str

    @classmethod
    def for_environment(
        cls, environment: EnodeEnvironment, custom_base_url: str | None = None
    ) -> EnodeEndpoints:
        """Production and sandbox have fixed hosts; a custom base serves both API and token."""
        if environment is EnodeEnvironment.PRODUCTION:
            return PRODUCTION_ENDPOINTS
        if environment is EnodeEnvironment.SANDBOX:
            return SANDBOX_ENDPOINTS
        if custom_base_url is None:
            raise ValueError("a custom environment needs a base URL")
        return cls.custom(custom_base_url)

    @classmethod
    def custom(cls, base_url: str) -> EnodeEndpoints:
        """A self-hosted API (the fake server): the token endpoint is `/oauth2/token` on it.

        Raises ValueError for anything but a plain http(s) URL with a valid host name: no
        user info (credentials belong in their own fields), no query or fragment.
        """
        try:
            parts = urlsplit(base_url)
            port_ok = parts.port is None or parts.port > 0
        except ValueError as err:
            raise ValueError(f"not a usable URL: {err}") from None
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.username is not None
            or parts.password is not None
            or parts.query
            or parts.fragment
            or not port_ok
            or not _valid_host(parts.hostname)
        ):
            raise ValueError("not a plain http(s) URL with a valid host")
        base = base_url.rstrip("/")
        return cls(api_url=base, token_url=f"{base}/oauth2/token")


_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)


def _valid_host(host: str) -> bool:
    """An IP address, or a host name DNS could hold (letters, digits and hyphens in labels of
    1 to 63, at most 253 characters in all)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = encoded.rstrip(".").split(".")
    return len(encoded) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def credentials_problem(client_id: str, client_secret: str) -> str | None:
    """Why these cannot be client credentials at all (None when they can).

    HTTP Basic authentication forbids a colon in the client id, and no header may carry
    control characters.
    """
    if not client_id or not client_secret:
        return "the client id and secret must not be empty"
    if ":" in client_id:
        return "the client id must not contain a colon"
    if len(client_id) > 256 or len(client_secret) > 1024:
        return "the client id or secret is too long"
    if not (client_id + client_secret).isprintable():
        return "the client id and secret must be printable"
    return None


PRODUCTION_ENDPOINTS = EnodeEndpoints(
    api_url="https://enode-api.production.enode.io",
    token_url="https://oauth.production.enode.io/oauth2/token",  # noqa: S106 (a URL)
)
SANDBOX_ENDPOINTS = EnodeEndpoints(
    api_url="https://enode-api.sandbox.enode.io",
    token_url="https://oauth.sandbox.enode.io/oauth2/token",  # noqa: S106 (a URL)
)


@dataclass(frozen=True, kw_only=True)
class _RawResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _problem_from(body: bytes) -> Problem:
    """The problem document in an error body; a best effort for non-JSON bodies."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        text = body.decode(errors="replace").strip()
        return Problem(detail=text[:200] or None)
    reader = JsonReader(data)
    issues = reader.items("issues")
    return Problem(
        type=reader.text("type") or reader.text("error"),
        title=reader.text("title"),
        detail=reader.text("detail") or reader.text("message") or reader.text("error_description"),
        issues=tuple(issues),
    )


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class EnodeClient:
    """Talks to one Enode client (one set of client credentials)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        client_id: str,
        client_secret: str,
        endpoints: EnodeEndpoints = PRODUCTION_ENDPOINTS,
        api_version: str = API_VERSION,
        request_timeout: float = 30.0,
        action_poll_interval: float = 5.0,
        action_timeout: float = 300.0,
        rate_limit_backoff: float = 2.0,
        rate_limit_backoff_max: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self.endpoints = endpoints
        self._api_version = api_version
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self.action_poll_interval = action_poll_interval
        self.action_timeout = action_timeout
        self._backoff = rate_limit_backoff
        self._backoff_max = rate_limit_backoff_max
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_valid_until = 0.0
        self._token_lock = asyncio.Lock()
        # Consecutive 429s without Retry-After; each doubles the suggested wait.
        self._rate_limit_strikes = 0
        self._warned_paths: set[str] = set()
        # Entries the last list call left out because they could not be read.
        self.last_list_unreadable = 0

    # Token

    async def _access_token(self) -> str:
        async with self._token_lock:
            if self._token is not None and self._monotonic() < self._token_valid_until:
                return self._token
            return await self._fetch_token()

    async def _fetch_token(self) -> str:
        raw = await self._send(
            "POST",
            self.endpoints.token_url,
            headers={
                "Authorization": aiohttp.encode_basic_auth(self._client_id, self._client_secret)
            },
            data={"grant_type": "client_credentials"},
        )
        if raw.status in (400, 401, 403):
            # OAuth2 answers invalid_client / unauthorized_client here: wrong credentials.
            raise EnodeAuthError(raw.status, _problem_from(raw.body))
        if raw.status >= 300:
            raise self._error_for(raw)
        reader = JsonReader(self._decode(raw))
        token = reader.text("access_token")
        token_type = reader.text("token_type") or ""
        expires_in = reader.number("expires_in")
        if not token or token_type.lower() != "bearer" or expires_in is None:
            raise EnodeMalformedResponseError("token response without a bearer token")
        self._token = token
        self._token_valid_until = self._monotonic() + expires_in - TOKEN_REFRESH_MARGIN_S
        return token

    def _forget_token(self, token: str) -> None:
        # Another request may already have replaced it; only drop the one that was refused.
        if self._token == token:
            self._token = None

    # Transport

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json_body: object = None,
        data: Mapping[str, str] | None = None,
    ) -> _RawResponse:
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                params=params,
                json=json_body,
                data=data,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return _RawResponse(
                    status=response.status, headers=dict(response.headers), body=body
                )
        except TimeoutError as err:
            raise EnodeTimeoutError(f"{method} {url} timed out") from err
        except aiohttp.ClientError as err:
            raise EnodeConnectionError(f"{method} {url} failed: {err}") from err

    @staticmethod
    def _decode(raw: _RawResponse) -> object:
        try:
            return json.loads(raw.body)
        except ValueError as err:
            raise EnodeMalformedResponseError(f"HTTP {raw.status}: body is not JSON") from err

    def _error_for(self, raw: _RawResponse) -> EnodeError:
        problem = _problem_from(raw.body)
        status = raw.status
        if status == 429:
            self._rate_limit_strikes += 1
            retry_after = _retry_after_seconds(raw.headers.get("Retry-After"))
            if retry_after is None:
                retry_after = min(
                    self._backoff_max, self._backoff * 2 ** (self._rate_limit_strikes - 1)
                )
            return EnodeRateLimitedError(status, problem, retry_after)
        if status >= 500:
            return EnodeServerError(status, problem)
        error_types: dict[int, type[EnodeApiError]] = {
            400: EnodeBadRequestError,
            401: EnodeAuthError,
            403: EnodeForbiddenError,
            404: EnodeNotFoundError,
            422: EnodeInterferenceError,
        }
        if status == 409:
            action: EnodeAction | None = None
            try:
                action = EnodeAction.from_json(json.loads(raw.body))
            except ValueError, EnodeMalformedResponseError:
                action = None
            return EnodeConflictError(status, problem, action)
        return error_types.get(status, EnodeApiError)(status, problem)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: object = None,
    ) -> object:
        """One API call; returns the decoded JSON body (None for 204)."""
        url = f"{self.endpoints.api_url}{path}"
        raw: _RawResponse | None = None
        for attempt in range(2):
            token = await self._access_token()
            headers = {"Authorization": f"Bearer {token}", "Enode-Version": self._api_version}
            raw = await self._send(method, url, headers=headers, params=params, json_body=json_body)
            if raw.status != 401:
                break
            self._forget_token(token)
            if attempt == 0:
                _LOGGER.debug("Enode refused the access token; fetching a new one")
        assert raw is not None
        if raw.status >= 300:
            raise self._error_for(raw)
        self._rate_limit_strikes = 0
        if raw.status == 204 or not raw.body:
            return None
        return self._decode(raw)

    async def _all_pages[T](
        self, path: str, parse_item: Callable[[object], T], page_size: int
    ) -> list[T]:
        items: list[T] = []
        cursors_seen: set[str] = set()
        after: str | None = None
        skipped = 0
        for _ in range(_MAX_PAGES):
            params = {"pageSize": str(page_size)}
            if after is not None:
                params["after"] = after
            page = parse_page(await self._request("GET", path, params=params), parse_item)
            items.extend(page.items)
            skipped += page.skipped
            if page.after is None or page.after in cursors_seen:
                break
            cursors_seen.add(page.after)
            after = page.after
        self.last_list_unreadable = skipped
        if skipped and path not in self._warned_paths:
            # Logged once per list: the same broken entry would otherwise flood the log.
            self._warned_paths.add(path)
            _LOGGER.warning("Enode listed %d unreadable entries at %s; left out", skipped, path)
        return items

    # Connection check

    async def verify_credentials(self) -> None:
        """A real call that needs valid credentials; raises EnodeAuthError when they are not."""
        await self._request("GET", "/users", params={"pageSize": "1"})

    # Users and linking

    async def get_user(self, user_id: str) -> EnodeUser:
        """One user and the vendor accounts they linked."""
        return EnodeUser.from_json(await self._request("GET", f"/users/{_seg(user_id)}"))

    async def create_link_session(
        self,
        user_id: str,
        *,
        vendor_type: VendorType,
        redirect_uri: str,
        scopes: Sequence[str] | None = None,
        language: str = "en-US",
        vendor: str | None = None,
        color_scheme: str | None = None,
    ) -> LinkSession:
        """A Link UI session; creates the user when it does not exist yet."""
        if scopes is None:
            scopes = CHARGER_SCOPES if vendor_type is VendorType.CHARGER else VEHICLE_SCOPES
        body: dict[str, Any] = {
            "vendorType": vendor_type.value,
            "scopes": list(scopes),
            "language": language,
            "redirectUri": redirect_uri,
        }
        if vendor is not None:
            body["vendor"] = vendor
        if color_scheme is not None:
            body["colorScheme"] = color_scheme
        data = await self._request("POST", f"/users/{_seg(user_id)}/link", json_body=body)
        return LinkSession.from_json(data)

    async def delete_user(self, user_id: str) -> None:
        """Delete the user and everything linked to them."""
        await self._request("DELETE", f"/users/{_seg(user_id)}")

    async def disconnect_vendor_type(
        self, user_id: str, vendor: str, vendor_type: VendorType
    ) -> None:
        """Unlink one device type of a vendor account (the charger, say, but not the car)."""
        await self._request(
            "DELETE",
            f"/users/{_seg(user_id)}/vendors/{_seg(vendor)}/{_seg(vendor_type.value)}",
        )

    # Vehicles and chargers

    async def list_vehicles(
        self, user_id: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[EnodeVehicle]:
        """Every vehicle of one user, or of the whole client when user_id is None."""
        path = "/vehicles" if user_id is None else f"/users/{_seg(user_id)}/vehicles"
        return await self._all_pages(path, EnodeVehicle.from_json, page_size)

    async def get_vehicle(self, vehicle_id: str) -> EnodeVehicle:
        """One vehicle."""
        return EnodeVehicle.from_json(await self._request("GET", f"/vehicles/{_seg(vehicle_id)}"))

    async def list_chargers(
        self, user_id: str | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> list[EnodeCharger]:
        """Every charger of one user, or of the whole client when user_id is None."""
        path = "/chargers" if user_id is None else f"/users/{_seg(user_id)}/chargers"
        return await self._all_pages(path, EnodeCharger.from_json, page_size)

    async def get_charger(self, charger_id: str) -> EnodeCharger:
        """One charger."""
        return EnodeCharger.from_json(await self._request("GET", f"/chargers/{_seg(charger_id)}"))

    async def set_charger_location(self, charger_id: str, location_id: str | None) -> EnodeCharger:
        """Attach the charger to a Location (None detaches it)."""
        data = await self._request(
            "PUT", f"/chargers/{_seg(charger_id)}", json_body={"locationId": location_id}
        )
        return EnodeCharger.from_json(data)

    # Locations

    async def create_location(self, user_id: str, place: EnodePlace) -> EnodeLocation:
        """A new Location for the user (their home, where the charger is)."""
        data = await self._request(
            "POST", f"/users/{_seg(user_id)}/locations", json_body=place.to_json()
        )
        return EnodeLocation.from_json(data)

    async def get_location(self, location_id: str) -> EnodeLocation:
        """A Location; EnodeNotFoundError once it was deleted."""
        data = await self._request("GET", f"/locations/{_seg(location_id)}")
        return EnodeLocation.from_json(data)

    async def update_location(self, location_id: str, place: EnodePlace) -> EnodeLocation:
        """Move, rename or re-zone a Location."""
        data = await self._request(
            "PUT", f"/locations/{_seg(location_id)}", json_body=place.to_json()
        )
        return EnodeLocation.from_json(data)

    async def delete_location(self, location_id: str) -> None:
        """Remove a Location."""
        await self._request("DELETE", f"/locations/{_seg(location_id)}")

    # Actions

    async def create_charge_action(
        self, target_type: TargetType, target_id: str, kind: ChargeKind
    ) -> EnodeAction:
        """Ask a vehicle or charger to START or STOP; returns the action as created."""
        if kind is ChargeKind.UNKNOWN:
            raise ValueError("a charge action is START or STOP")
        data = await self._request(
            "POST",
            f"{_collection(target_type)}/{_seg(target_id)}/charging",
            json_body={"action": kind.value},
        )
        return EnodeAction.from_json(data)

    async def create_max_current_action(
        self, target_type: TargetType, target_id: str, max_current_a: float
    ) -> EnodeAction:
        """Ask a charger (or a vehicle that supports it) to change its maximum current."""
        data = await self._request(
            "POST",
            f"{_collection(target_type)}/{_seg(target_id)}/max-current",
            json_body={"maxCurrent": max_current_a},
        )
        return EnodeAction.from_json(data)

    async def get_action(self, target_type: TargetType, action_id: str) -> EnodeAction:
        """The current state of an action."""
        data = await self._request("GET", f"{_collection(target_type)}/actions/{_seg(action_id)}")
        return EnodeAction.from_json(data)

    async def cancel_action(self, target_type: TargetType, action_id: str) -> EnodeAction:
        """Cancel a pending action. A settled one raises EnodeConflictError (with the action)."""
        data = await self._request(
            "POST", f"{_collection(target_type)}/actions/{_seg(action_id)}/cancel"
        )
        return EnodeAction.from_json(data)

    async def wait_for_action(
        self,
        action: EnodeAction,
        *,
        target_type: TargetType | None = None,
        max_wait: float | None = None,
        poll_interval: float | None = None,
    ) -> EnodeAction:
        """Poll until the action is CONFIRMED, FAILED or CANCELLED.

        Raises EnodeActionTimeoutError (carrying the last state seen) when it is still pending
        after `max_wait` seconds (default: the client's action_timeout). Short server trouble
        while polling is waited out.
        """
        kind = target_type or action.target_type
        max_wait = self.action_timeout if max_wait is None else max_wait
        poll_interval = self.action_poll_interval if poll_interval is None else poll_interval
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        current = action
        while not current.is_settled:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EnodeActionTimeoutError(current)
            await asyncio.sleep(min(poll_interval, remaining))
            try:
                current = await self.get_action(kind, current.id)
            except EnodeRateLimitedError as err:
                await asyncio.sleep(min(err.retry_after, max(0.0, deadline - loop.time())))
            except (EnodeServerError, EnodeConnectionError, EnodeTimeoutError) as err:
                _LOGGER.debug("Polling action %s failed, trying again: %s", current.id, err)
        return current

    async def charge(
        self,
        target_type: TargetType,
        target_id: str,
        kind: ChargeKind,
        *,
        max_wait: float | None = None,
        poll_interval: float | None = None,
    ) -> EnodeAction:
        """START or STOP and wait until the action settles."""
        action = await self.create_charge_action(target_type, target_id, kind)
        return await self.wait_for_action(
            action, target_type=target_type, max_wait=max_wait, poll_interval=poll_interval
        )

    async def set_max_current(
        self,
        target_type: TargetType,
        target_id: str,
        max_current_a: float,
        *,
        max_wait: float | None = None,
        poll_interval: float | None = None,
    ) -> EnodeAction:
        """Change the maximum current and wait until the action settles."""
        action = await self.create_max_current_action(target_type, target_id, max_current_a)
        return await self.wait_for_action(
            action, target_type=target_type, max_wait=max_wait, poll_interval=poll_interval
        )

    # Interventions

    async def get_intervention(
        self, intervention_id: str, *, language: str | None = None
    ) -> EnodeIntervention:
        """The vendor's own instruction for a blocked capability."""
        params = {"language": language} if language else None
        data = await self._request("GET", f"/interventions/{_seg(intervention_id)}", params=params)
        return EnodeIntervention.from_json(data)

    # Webhooks

    async def create_webhook(
        self,
        url: str,
        secret: str,
        *,
        events: Sequence[str] = ("*",),
        api_version: str | None = None,
        authentication: tuple[str, str] | None = None,
    ) -> EnodeWebhook:
        """Register a webhook; Enode signs every delivery with `secret`."""
        body: dict[str, Any] = {"url": url, "secret": secret, "events": list(events)}
        if api_version is not None:
            body["apiVersion"] = api_version
        if authentication is not None:
            body["authentication"] = {
                "headerName": authentication[0],
                "headerValue": authentication[1],
            }
        return EnodeWebhook.from_json(await self._request("POST", "/webhooks", json_body=body))

    async def list_webhooks(self, *, page_size: int = DEFAULT_PAGE_SIZE) -> list[EnodeWebhook]:
        """Every webhook of this client."""
        return await self._all_pages("/webhooks", EnodeWebhook.from_json, page_size)

    async def get_webhook(self, webhook_id: str) -> EnodeWebhook:
        """One webhook, with whether Enode still delivers to it (`isActive`)."""
        return EnodeWebhook.from_json(await self._request("GET", f"/webhooks/{_seg(webhook_id)}"))

    async def delete_webhook(self, webhook_id: str) -> None:
        """Remove a webhook."""
        await self._request("DELETE", f"/webhooks/{_seg(webhook_id)}")

    async def test_webhook(self, webhook_id: str) -> WebhookTestResult:
        """Have Enode send a test event now, and report how the receiver answered."""
        data = await self._request("POST", f"/webhooks/{_seg(webhook_id)}/test")
        return WebhookTestResult.from_json(data)


def _seg(value: str) -> str:
    """One URL path segment; ids are opaque and may hold anything."""
    return quote(value, safe="")


def _collection(target_type: TargetType) -> str:
    if target_type is TargetType.VEHICLE:
        return "/vehicles"
    if target_type is TargetType.CHARGER:
        return "/chargers"
    raise ValueError(f"actions go to vehicles or chargers, not {target_type.value}")
