"""Enode in Home Assistant: the client behind an entry, the Link UI return view, webhooks and the
charging location.

The Enode protocol itself lives in `core/enode` (no Home Assistant there); this module only
connects it to Home Assistant's HTTP server, webhooks, zones and config entries.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
import html
from http import HTTPStatus
import secrets
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import UnknownFlow
from homeassistant.helpers import instance_id
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import (
    COMMAND_POLL_SECONDS,
    COMMAND_TIMEOUT_SECONDS,
    CONF_BASE_URL,
    CONF_CHARGING_ZONE,
    CONF_CUSTOM,
    CONF_ENODE_LOCATION_ID,
    CONF_ENODE_LOCATION_ZONE,
    CONF_ENVIRONMENT,
    DOMAIN,
    LINK_VIEW_URL,
    LOGGER,
)
from .core.enode import (
    SIGNATURE_HEADER,
    ChargerEvent,
    CredentialsInvalidatedEvent,
    EnodeClient,
    EnodeEndpoints,
    EnodeEnvironment,
    EnodeError,
    EnodeSignatureError,
    EnodeWebhookPayloadError,
    VehicleEvent,
    VendorActionEvent,
    WebhookEvent,
    verify_and_parse,
)
from .core.location import ChargingZone
from .core.model import AccountSnapshot
from .location import configured_charging_zone

# The events that mean the account's data changed.
REFRESH_EVENTS = frozenset(
    {
        "user:vehicle:discovered",
        "user:vehicle:updated",
        "user:vehicle:deleted",
        "user:charger:discovered",
        "user:charger:updated",
        "user:charger:deleted",
        "user:vendor-action:updated",
        "user:charge-action:updated",
    }
)
WEBHOOK_EVENTS = (*sorted(REFRESH_EVENTS), "user:credentials:invalidated")
# Enode wants at least 128 bits of secret.
WEBHOOK_SECRET_BYTES = 24
# After Enode refused to make the charging Location, try again this much later.
LOCATION_RETRY_INTERVAL = timedelta(minutes=30)


def endpoints_from_data(data: Mapping[str, Any]) -> EnodeEndpoints:
    """Where the entry's Enode API lives. Raises ValueError for an unusable custom URL."""
    environment = EnodeEnvironment(data[CONF_ENVIRONMENT])
    base_url = (data.get(CONF_CUSTOM) or {}).get(CONF_BASE_URL) or data.get(CONF_BASE_URL)
    return EnodeEndpoints.for_environment(environment, base_url)


def client_from_data(hass: HomeAssistant, data: Mapping[str, Any]) -> EnodeClient:
    """A client for the entry's credentials, on Home Assistant's shared HTTP session."""
    return EnodeClient(
        async_get_clientsession(hass),
        client_id=data[CONF_CLIENT_ID],
        client_secret=data[CONF_CLIENT_SECRET],
        endpoints=endpoints_from_data(data),
        action_poll_interval=COMMAND_POLL_SECONDS,
        action_timeout=COMMAND_TIMEOUT_SECONDS,
    )


async def async_enode_user_id(hass: HomeAssistant) -> str:
    """The Enode user for this Home Assistant: the same on every setup and reauth."""
    return f"ha-{await instance_id.async_get(hass)}"


def enode_unique_id(client_id: str, user_id: str) -> str:
    """One entry per Enode client and user."""
    return f"enode-{client_id}-{user_id}"


# Link UI: Enode sends the browser back to this view, which resumes the flow that opened it.


@dataclass(frozen=True, kw_only=True)
class PendingLink:
    """A flow waiting at its external link step."""

    flow_id: str
    options_flow: bool


PENDING_LINKS: HassKey[dict[str, PendingLink]] = HassKey(f"{DOMAIN}_pending_links")
LINK_VIEW_REGISTERED: HassKey[bool] = HassKey(f"{DOMAIN}_link_view")

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width'><title>EV Flex</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p>"
    "<script>window.close()</script></body></html>"
)


def _page(title: str, text: str, status: HTTPStatus = HTTPStatus.OK) -> web.Response:
    return web.Response(
        text=_PAGE.format(title=html.escape(title), text=html.escape(text)),
        content_type="text/html",
        status=status,
    )


class EnodeLinkView(HomeAssistantView):
    """Where Enode Link sends the browser back; resumes the waiting flow."""

    url = LINK_VIEW_URL
    name = "api:ev_flex:link"
    # The browser tab Enode redirects has no Home Assistant token; the state value proves the
    # request belongs to the flow that created the link session.
    requires_auth = False

    async def get(self, request: web.Request, flow_id: str) -> web.Response:
        """Hand the query (state, error, error_message) to the flow."""
        hass = request.app[KEY_HASS]
        query = dict(request.query)
        pending = hass.data.get(PENDING_LINKS, {}).get(query.get("state", ""))
        if pending is None or pending.flow_id != flow_id:
            return _page(
                "Link expired",
                "This link is no longer waited for. Start linking again in Home Assistant.",
                HTTPStatus.NOT_FOUND,
            )
        manager = hass.config_entries.options if pending.options_flow else hass.config_entries.flow
        try:
            await manager.async_configure(flow_id, user_input=query)
        except UnknownFlow:
            return _page(
                "Link expired",
                "The setup in Home Assistant was closed. Start linking again.",
                HTTPStatus.NOT_FOUND,
            )
        if "error" in query:
            return _page(
                "Linking cancelled",
                "Nothing was linked. You can close this window and go back to Home Assistant.",
            )
        return _page(
            "Account linked",
            "You can close this window and go back to Home Assistant.",
        )


@callback
def async_register_link_view(hass: HomeAssistant) -> None:
    """Register the view once (from async_setup, or from a flow that runs before it)."""
    if hass.data.get(LINK_VIEW_REGISTERED):
        return
    hass.data[LINK_VIEW_REGISTERED] = True
    hass.http.register_view(EnodeLinkView())


@callback
def async_start_link(hass: HomeAssistant, flow_id: str, *, options_flow: bool) -> str:
    """Reserve a state value for a flow and return the redirect URI for its link session.

    Raises NoURLAvailableError when Home Assistant has no URL a browser could come back to.
    """
    async_register_link_view(hass)
    try:
        # The address the browser uses right now comes back best (home or away).
        base = get_url(hass, require_current_request=True)
    except NoURLAvailableError:
        base = get_url(hass)
    state = secrets.token_urlsafe(24)
    pending = hass.data.setdefault(PENDING_LINKS, {})
    for key in [key for key, link in pending.items() if link.flow_id == flow_id]:
        del pending[key]
    pending[state] = PendingLink(flow_id=flow_id, options_flow=options_flow)
    return f"{base}{LINK_VIEW_URL.format(flow_id=flow_id)}?state={state}"


@callback
def async_link_state_valid(hass: HomeAssistant, flow_id: str, query: Mapping[str, Any]) -> bool:
    """Whether a redirect carries the state this flow is waiting for (used once)."""
    pending = hass.data.get(PENDING_LINKS, {})
    link = pending.get(str(query.get("state", "")))
    if link is None or link.flow_id != flow_id:
        return False
    del pending[str(query["state"])]
    return True


@callback
def async_forget_links(hass: HomeAssistant, flow_id: str) -> None:
    """Drop the states of a flow that ended."""
    pending = hass.data.get(PENDING_LINKS, {})
    for key in [key for key, link in pending.items() if link.flow_id == flow_id]:
        del pending[key]


def link_error(query: Mapping[str, Any]) -> str | None:
    """The message Link appended when the user cancelled or linking failed."""
    if "error" not in query:
        return None
    return str(query.get("error_message") or query["error"])


# Webhooks


class EnodeWebhook:
    """An HA webhook that Enode posts to, created at Enode with a fresh secret on every setup."""

    def __init__(
        self,
        hass: HomeAssistant,
        client: EnodeClient,
        *,
        webhook_id: str,
        user_id: str,
        name: str,
    ) -> None:
        self.hass = hass
        self.client = client
        self.webhook_id = webhook_id
        self.user_id = user_id
        self.name = name
        self.secret = secrets.token_hex(WEBHOOK_SECRET_BYTES)
        self.enode_webhook_id: str | None = None
        # Set by the owner: what to do when the account changed, and when a vendor account
        # must be linked again.
        self.on_refresh: Callable[[], None] | None = None
        self.on_credentials_invalidated: Callable[[str | None], None] | None = None
        self._warned_payload = False

    async def async_start(self) -> bool:
        """Register the webhook here and at Enode; False (polling only) when that fails."""
        try:
            url = webhook.async_generate_url(self.hass, self.webhook_id, allow_ip=True)
        except NoURLAvailableError:
            LOGGER.info("No Home Assistant URL for Enode webhooks; EV Flex polls instead")
            return False
        webhook.async_register(
            self.hass, DOMAIN, self.name, self.webhook_id, self._handle, allowed_methods=["POST"]
        )
        try:
            # A crash may have left the previous registration behind; it has the same URL.
            for existing in await self.client.list_webhooks():
                if existing.url == url:
                    await self.client.delete_webhook(existing.id)
            created = await self.client.create_webhook(
                url, self.secret, events=WEBHOOK_EVENTS, api_version=None
            )
        except EnodeError as err:
            LOGGER.info("Enode did not accept the webhook (%s); EV Flex polls instead", err)
            webhook.async_unregister(self.hass, self.webhook_id)
            return False
        self.enode_webhook_id = created.id
        return True

    async def async_stop(self) -> None:
        """Unregister here and delete it at Enode (best effort: Enode drops dead hooks itself)."""
        webhook.async_unregister(self.hass, self.webhook_id)
        if self.enode_webhook_id is None:
            return
        try:
            await self.client.delete_webhook(self.enode_webhook_id)
        except EnodeError as err:
            LOGGER.debug("Could not delete the Enode webhook: %s", err)
        self.enode_webhook_id = None

    async def _handle(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        body = await request.read()
        try:
            events = verify_and_parse(body, request.headers.get(SIGNATURE_HEADER), self.secret)
        except EnodeSignatureError:
            LOGGER.warning("Refused an Enode webhook delivery with a wrong signature")
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        except EnodeWebhookPayloadError as err:
            if not self._warned_payload:
                self._warned_payload = True
                LOGGER.warning("Ignoring an unreadable Enode webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        mine = [event for event in events if event.user_id in (None, self.user_id)]
        if any(_wants_refresh(event) for event in mine) and self.on_refresh is not None:
            self.on_refresh()
        for event in mine:
            if (
                isinstance(event, CredentialsInvalidatedEvent)
                and self.on_credentials_invalidated is not None
            ):
                self.on_credentials_invalidated(event.vendor)
        return web.Response(status=HTTPStatus.OK)


def _wants_refresh(event: WebhookEvent) -> bool:
    return event.event in REFRESH_EVENTS or isinstance(
        event, VehicleEvent | ChargerEvent | VendorActionEvent
    )


# One Enode entry at run time


class EnodeRuntime:
    """What a loaded Enode entry runs besides its coordinator: webhook and charging location."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        client: EnodeClient,
        *,
        user_id: str,
        webhook_id: str,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.client = client
        self.user_id = user_id
        self.webhook = EnodeWebhook(
            hass, client, webhook_id=webhook_id, user_id=user_id, name=f"EV Flex {entry.title}"
        )
        self.webhook_active = False
        self.location_id: str | None = entry.data.get(CONF_ENODE_LOCATION_ID)
        self._attaching = False
        self._attach_failed: set[str] = set()
        # When to try making the Location again after Enode refused it.
        self._location_retry_at: datetime | None = None

    @property
    def zone(self) -> ChargingZone | None:
        """The charging location chosen in the options (default: home)."""
        return configured_charging_zone(self.hass, self.entry.options)

    async def async_start(self, snapshot: AccountSnapshot) -> bool:
        """Start the webhook, and make sure the charging location exists at Enode.

        True when the Location was made or chargers were put in it just now: Enode then
        places the cars anew, and the data fetched before is out of date.
        """
        self.webhook_active = await self.webhook.async_start()
        return await self.async_sync_location(snapshot)

    async def async_stop(self) -> None:
        """Stop receiving webhooks."""
        await self.webhook.async_stop()
        self.webhook_active = False

    async def async_sync_location(self, snapshot: AccountSnapshot) -> bool:
        """Create the Location for the charging zone (once) and put every charger in it.

        Enode infers where a paired car is from its charger's Location. Failures are logged
        and tried again on a later update; they never stop the entry. True when the Location was
        made or a charger was put in it.
        """
        zone = self.zone
        if zone is None:
            LOGGER.warning(
                "The charging location %s does not exist; choose another one in the options",
                self.entry.options.get(CONF_CHARGING_ZONE),
            )
            return False
        data = self.entry.data
        created_now = False
        try:
            if self.location_id is None or data.get(CONF_ENODE_LOCATION_ZONE) != zone.entity_id:
                created = await self.client.create_location(
                    self.user_id,
                    name=zone.name,
                    latitude=zone.latitude,
                    longitude=zone.longitude,
                    timezone_name=self.hass.config.time_zone,
                )
                if self.location_id is not None:
                    await self._delete_location(self.location_id)
                self.location_id = created.id
                created_now = True
                self.hass.config_entries.async_update_entry(
                    self.entry,
                    data={
                        **data,
                        CONF_ENODE_LOCATION_ID: created.id,
                        CONF_ENODE_LOCATION_ZONE: zone.entity_id,
                    },
                )
            attached = await self._attach_chargers(snapshot, self.location_id)
        except EnodeError as err:
            LOGGER.warning("Could not set the charging location at Enode: %s", err)
            self._location_retry_at = dt_util.utcnow() + LOCATION_RETRY_INTERVAL
            return created_now
        return created_now or attached

    async def _delete_location(self, location_id: str) -> None:
        try:
            await self.client.delete_location(location_id)
        except EnodeError as err:
            LOGGER.debug("Could not delete the old Enode location: %s", err)

    async def _attach_chargers(self, snapshot: AccountSnapshot, location_id: str) -> bool:
        attached = False
        for charger in snapshot.chargers.values():
            if charger.location_id != location_id:
                await self.client.set_charger_location(charger.charger_id, location_id)
                attached = True
        return attached

    @callback
    def async_on_update(self, snapshot: AccountSnapshot) -> None:
        """A charger that appeared (or moved) is put in the charging location; a Location that
        could not be made is tried again now and then."""
        if self._attaching:
            return
        if self.location_id is None:
            retry_at = self._location_retry_at
            if retry_at is not None and dt_util.utcnow() >= retry_at:
                self._location_retry_at = None
                self._attaching = True
                self.entry.async_create_task(
                    self.hass, self._sync_later(snapshot), name="ev_flex charging location"
                )
            return
        strays = {
            charger_id
            for charger_id, charger in snapshot.chargers.items()
            if charger.location_id != self.location_id
        } - self._attach_failed
        if not strays:
            return
        self._attaching = True
        self.entry.async_create_task(
            self.hass, self._attach_later(snapshot, strays), name="ev_flex charger location"
        )

    async def _sync_later(self, snapshot: AccountSnapshot) -> None:
        try:
            await self.async_sync_location(snapshot)
        finally:
            self._attaching = False

    async def _attach_later(self, snapshot: AccountSnapshot, strays: set[str]) -> None:
        try:
            await self._attach_chargers(snapshot, self.location_id or "")
        except EnodeError as err:
            # Once per charger: do not call Enode on every update for a charger it refuses.
            self._attach_failed |= strays
            LOGGER.warning("Could not put a charger in the charging location: %s", err)
        finally:
            self._attaching = False
