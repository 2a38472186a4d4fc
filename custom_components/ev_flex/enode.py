"""Enode in Home Assistant: the client behind an entry, the Link UI return view, webhooks and the
charging location.

The Enode protocol itself lives in `core/enode` (no Home Assistant there); this module only
connects it to Home Assistant's HTTP server, webhooks, zones and config entries.
"""

from collections.abc import Awaitable, Callable, Mapping
import contextlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from enum import StrEnum
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
    CONF_CLOUDHOOK_URL,
    CONF_CUSTOM,
    CONF_ENODE_LOCATION_ID,
    CONF_ENODE_LOCATION_PLACE,
    CONF_ENODE_LOCATION_ZONE,
    CONF_ENODE_USER_ID,
    CONF_ENVIRONMENT,
    CONF_WEBHOOK_ID,
    DEFAULT_CHARGING_ZONE,
    DOMAIN,
    ENODE_POLL_INTERVAL,
    LINK_VIEW_URL,
    LOGGER,
)
from .core.enode import (
    API_VERSION,
    SIGNATURE_HEADER,
    ChargerEvent,
    CredentialsInvalidatedEvent,
    EnodeClient,
    EnodeEndpoints,
    EnodeEnvironment,
    EnodeError,
    EnodeNotFoundError,
    EnodePlace,
    EnodeSignatureError,
    EnodeWebhookPayloadError,
    LinkRefused,
    VehicleEvent,
    VendorActionEvent,
    WebhookEvent,
    intervention_language,
    verify_delivery,
)
from .core.location import ChargingZone
from .core.model import AccountSnapshot
from .location import configured_charging_zone
from .texts import async_texts

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
DELETED_EVENTS = frozenset({"user:vehicle:deleted", "user:charger:deleted"})
WEBHOOK_EVENTS = (*sorted(REFRESH_EVENTS), "user:credentials:invalidated")
# Sent by POST /webhooks/{id}/test (2024-10-01).
TEST_EVENT = "enode:webhook:test"
# Enode sends at most 100 events per delivery, each a few kilobytes; more is not Enode.
MAX_DELIVERY_BYTES = 1024 * 1024
# Warnings about forged or junk deliveries: at most one per this interval.
WARNING_INTERVAL = timedelta(minutes=1)
# Enode wants at least 128 bits of secret.
WEBHOOK_SECRET_BYTES = 24
# An intervention whose text could not be read is asked for again this much later.
INTERVENTION_RETRY_INTERVAL = timedelta(hours=1)
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
    "<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
    "<meta name='viewport' content='width=device-width'><title>EV Flex</title></head>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p>"
    "<script>window.close()</script></body></html>"
)


async def _async_page(
    hass: HomeAssistant, title: str, text: str, status: HTTPStatus = HTTPStatus.OK
) -> web.Response:
    """The page the browser tab shows after Link, in the server's language."""
    texts = await async_texts(hass)
    return web.Response(
        text=_PAGE.format(
            language=html.escape(hass.config.language, quote=True),
            title=html.escape(texts(f"link_page_{title}")),
            text=html.escape(texts(f"link_page_{text}")),
        ),
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

    async def get(self, request: web.Request, flow_id: str, state: str) -> web.Response:
        """Hand the state (from the path) and Link's query (error, error_message) to the flow."""
        hass = request.app[KEY_HASS]
        query = {**request.query, "state": state}
        pending = hass.data.get(PENDING_LINKS, {}).get(state)
        if pending is None or pending.flow_id != flow_id:
            return await _async_page(hass, "expired", "not_waited_for", HTTPStatus.NOT_FOUND)
        manager = hass.config_entries.options if pending.options_flow else hass.config_entries.flow
        try:
            await manager.async_configure(flow_id, user_input=query)
        except UnknownFlow:
            return await _async_page(hass, "expired", "flow_closed", HTTPStatus.NOT_FOUND)
        if "error" in query:
            return await _async_page(hass, "cancelled", "nothing_linked")
        return await _async_page(hass, "linked", "close_window")


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
    return f"{base}{LINK_VIEW_URL.format(flow_id=flow_id, state=state)}"


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


def link_error(query: Mapping[str, Any]) -> LinkRefused | None:
    """The error Link appended when the user cancelled or linking failed."""
    if "error" not in query:
        return None
    code = str(query["error"])
    return LinkRefused(code, str(query.get("error_message") or code))


@dataclass(frozen=True, kw_only=True)
class InterventionText:
    """The vendor's own words for an intervention (shown in its repair issue)."""

    title: str
    description: str


# Webhooks


class WebhookStatus(StrEnum):
    """Whether Enode's deliveries reach Home Assistant (shown in diagnostics)."""

    STARTING = "starting"
    WORKING = "working"
    # Home Assistant has no external HTTPS address and no Home Assistant Cloud webhook.
    NO_HTTPS_URL = "no_https_url"
    # Enode refused to create the webhook.
    REFUSED = "refused"
    # Enode's test event did not arrive.
    TEST_FAILED = "test_failed"
    # Enode switched the webhook off after failed deliveries.
    INACTIVE = "inactive"


class EnodeWebhook:
    """An HA webhook that Enode posts to, created at Enode with a fresh secret on every setup.

    It counts as working only once Enode's test event has arrived through it, and is checked
    again now and then (see `async_check`).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        client: EnodeClient,
        *,
        webhook_id: str,
        user_id: str,
        name: str,
        cloudhook_url: str | None = None,
    ) -> None:
        self.hass = hass
        self.client = client
        self.webhook_id = webhook_id
        self.user_id = user_id
        self.name = name
        self.secret = secrets.token_hex(WEBHOOK_SECRET_BYTES)
        self.enode_webhook_id: str | None = None
        self.status = WebhookStatus.STARTING
        # The Home Assistant Cloud address made for this webhook earlier (kept in the entry).
        self.cloudhook_url = cloudhook_url
        # Set by the owner: what to do when the account changed, when a vendor account must be
        # linked again, and when a device was deleted at Enode.
        self.on_refresh: Callable[[], None] | None = None
        self.on_credentials_invalidated: Callable[[str | None], None] | None = None
        self.on_device_deleted: Callable[[str], None] | None = None
        # What to do when an action (a command) changed state, with the action's id.
        self.on_action_updated: Callable[[str], None] | None = None
        self._test_arrived = False
        self._registered = False
        self._junk_warnings = LogThrottle(WARNING_INTERVAL)

    @property
    def working(self) -> bool:
        """Whether deliveries are known to arrive."""
        return self.status is WebhookStatus.WORKING

    async def async_public_url(self) -> str | None:
        """Where Enode can post: Home Assistant Cloud's webhook address where the user has a
        subscription, else the external HTTPS address; None without either."""
        if "cloud" in self.hass.config.components:
            # Imported only where Home Assistant Cloud is set up (it pulls in a lot).
            from homeassistant.components import cloud  # noqa: PLC0415

            if cloud.async_active_subscription(self.hass):
                if self.cloudhook_url is None:
                    try:
                        self.cloudhook_url = await cloud.async_create_cloudhook(
                            self.hass, self.webhook_id
                        )
                    except cloud.CloudNotAvailable as err:
                        LOGGER.debug("No Home Assistant Cloud webhook: %s", err)
                if self.cloudhook_url is not None:
                    return self.cloudhook_url
        try:
            base = get_url(
                self.hass,
                allow_internal=False,
                allow_cloud=False,
                require_ssl=True,
                prefer_external=True,
            )
        except NoURLAvailableError:
            return None
        return f"{base}{webhook.async_generate_path(self.webhook_id)}"

    async def async_start(self) -> bool:
        """Register the webhook here and at Enode and test it; False (polling) unless the test
        event arrived."""
        url = await self.async_public_url()
        if url is None:
            self.status = WebhookStatus.NO_HTTPS_URL
            return False
        webhook.async_register(
            self.hass, DOMAIN, self.name, self.webhook_id, self._handle, allowed_methods=["POST"]
        )
        self._registered = True
        try:
            # A crash may have left the previous registration behind; it has the same URL.
            for existing in await self.client.list_webhooks():
                if existing.url == url:
                    await self.client.delete_webhook(existing.id)
            created = await self.client.create_webhook(
                url, self.secret, events=WEBHOOK_EVENTS, api_version=API_VERSION
            )
        except EnodeError as err:
            LOGGER.info("Enode did not accept the webhook (%s); EV Flex polls instead", err)
            self.status = WebhookStatus.REFUSED
            self._unregister()
            return False
        self.enode_webhook_id = created.id
        return await self._async_test()

    async def _async_test(self) -> bool:
        """Ask Enode for a test event; working only when it really arrived here."""
        assert self.enode_webhook_id is not None
        self._test_arrived = False
        try:
            result = await self.client.test_webhook(self.enode_webhook_id)
        except EnodeError as err:
            LOGGER.debug("Enode could not test the webhook: %s", err)
            result = None
        if self._test_arrived and (result is None or result.succeeded):
            self.status = WebhookStatus.WORKING
            return True
        if self.status is not WebhookStatus.TEST_FAILED:
            # Once per change, not on every hourly check.
            LOGGER.warning(
                "Enode's test event did not reach Home Assistant (HTTP status %s); EV Flex "
                "polls every %d minutes and tries again every hour",
                result.response_code if result is not None else None,
                ENODE_POLL_INTERVAL.total_seconds() // 60,
            )
        self.status = WebhookStatus.TEST_FAILED
        return False

    async def async_check(self) -> bool:
        """Now and then: is the webhook still active at Enode, and do deliveries arrive?

        It is tested every time: Enode only switches a webhook off after a day of failures,
        and a broken proxy should mean faster polling sooner. A successful test also
        reactivates an inactive webhook.
        """
        if self.enode_webhook_id is None:
            return False
        try:
            current = await self.client.get_webhook(self.enode_webhook_id)
        except EnodeError as err:
            LOGGER.debug("Could not read the Enode webhook: %s", err)
            return self.working
        working = await self._async_test()
        if not working and not current.is_active:
            self.status = WebhookStatus.INACTIVE
        return working

    def _unregister(self) -> None:
        if self._registered:
            webhook.async_unregister(self.hass, self.webhook_id)
            self._registered = False

    async def async_stop(self) -> None:
        """Unregister here and delete it at Enode (best effort: Enode drops dead hooks itself)."""
        self._unregister()
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
        # Anyone can post here: read a bounded body, check the signature before parsing, and
        # answer junk without a traceback or a warning per delivery.
        body = await _read_bounded(request, MAX_DELIVERY_BYTES)
        if body is None:
            self._warn_junk(
                "Refused an Enode webhook delivery larger than %d bytes", MAX_DELIVERY_BYTES
            )
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        try:
            delivery = verify_delivery(body, request.headers.get(SIGNATURE_HEADER), self.secret)
        except EnodeSignatureError:
            self._warn_junk("Refused an Enode webhook delivery with a wrong signature")
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        except EnodeWebhookPayloadError as err:
            self._warn_junk("Ignoring an unreadable Enode webhook delivery: %s", err)
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        if delivery.unreadable:
            self._warn_junk(
                "Ignoring %d unreadable events in an Enode webhook delivery", delivery.unreadable
            )
        mine = [event for event in delivery.events if event.user_id in (None, self.user_id)]
        if any(event.event == TEST_EVENT for event in mine):
            self._test_arrived = True
        if any(_wants_refresh(event) for event in mine) and self.on_refresh is not None:
            self.on_refresh()
        for event in mine:
            if isinstance(event, VendorActionEvent) and self.on_action_updated is not None:
                self.on_action_updated(event.action.id)
            if (
                isinstance(event, CredentialsInvalidatedEvent)
                and self.on_credentials_invalidated is not None
            ):
                self.on_credentials_invalidated(event.vendor)
            if (deleted := _deleted_device(event)) and self.on_device_deleted is not None:
                self.on_device_deleted(deleted)
        return web.Response(status=HTTPStatus.OK)

    def _warn_junk(self, message: str, *args: object) -> None:
        """Forged or junk deliveries are worth a warning, but not one per delivery."""
        if self._junk_warnings.ready(dt_util.utcnow()):
            LOGGER.warning(message, *args)
        else:
            LOGGER.debug(message, *args)


async def _read_bounded(request: web.Request, limit: int) -> bytes | None:
    """The request body, or None when it is longer than `limit` (read no further).

    Home Assistant Cloud relays a cloudhook delivery as a stand-in request that only offers
    `headers` and `content.read(n)`, so nothing else is used here.
    """
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    # Taken once: the stand-in makes a new reader, from the start, on every access.
    stream = request.content
    body = b""
    while len(body) <= limit:
        chunk = await stream.read(limit + 1 - len(body))
        if not chunk:
            return body
        body += chunk
    return None


class LogThrottle:
    """Lets a message through at most once per interval."""

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval
        self._last: datetime | None = None

    def ready(self, now: datetime) -> bool:
        """Whether a message may be logged now (and, if so, remember that it was)."""
        if self._last is not None and now - self._last < self.interval:
            return False
        self._last = now
        return True


def _deleted_device(event: WebhookEvent) -> str | None:
    """The id of the vehicle or charger a deleted event is about."""
    if event.event not in DELETED_EVENTS:
        return None
    if isinstance(event, VehicleEvent):
        return event.vehicle.id
    if isinstance(event, ChargerEvent):
        return event.charger.id
    return None


def _wants_refresh(event: WebhookEvent) -> bool:
    return event.event in REFRESH_EVENTS or isinstance(
        event, VehicleEvent | ChargerEvent | VendorActionEvent
    )


NO_HTTPS_URL_LOGGED: HassKey[set[str]] = HassKey(f"{DOMAIN}_no_https_url_logged")


def _log_once_no_https_url(hass: HomeAssistant, entry_id: str) -> None:
    logged = hass.data.setdefault(NO_HTTPS_URL_LOGGED, set())
    if entry_id in logged:
        return
    logged.add(entry_id)
    LOGGER.warning(
        "Enode can only send updates to an external HTTPS address or a Home Assistant Cloud "
        "webhook, and this Home Assistant has neither; EV Flex asks Enode every %d minutes "
        "instead",
        ENODE_POLL_INTERVAL.total_seconds() // 60,
    )


async def async_remove_enode_account(hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
    """The entry is removed: delete what EV Flex made at Enode and in Home Assistant Cloud.

    Deleting the Enode user also deletes the vendor credentials Enode stored for it. Failures
    are logged; the entry goes anyway.
    """
    data = entry.data
    if data.get(CONF_CLOUDHOOK_URL) and "cloud" in hass.config.components:
        from homeassistant.components import cloud  # noqa: PLC0415

        try:
            await cloud.async_delete_cloudhook(hass, data[CONF_WEBHOOK_ID])
        except cloud.CloudNotAvailable as err:
            LOGGER.debug("Could not delete the Home Assistant Cloud webhook: %s", err)
    try:
        client = client_from_data(hass, data)
        if location_id := data.get(CONF_ENODE_LOCATION_ID):
            with contextlib.suppress(EnodeNotFoundError):
                await client.delete_location(location_id)
        with contextlib.suppress(EnodeNotFoundError):
            await client.delete_user(data[CONF_ENODE_USER_ID])
    except (EnodeError, ValueError) as err:
        LOGGER.warning(
            "Could not delete the Enode user and charging location of %s (%s); remove them in "
            "Enode's dashboard to delete the vendor credentials Enode keeps",
            entry.title,
            err,
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
            hass,
            client,
            webhook_id=webhook_id,
            user_id=user_id,
            name=f"EV Flex {entry.title}",
            cloudhook_url=entry.data.get(CONF_CLOUDHOOK_URL),
        )
        self.location_id: str | None = entry.data.get(CONF_ENODE_LOCATION_ID)
        self._attaching = False
        self._attach_failed: set[str] = set()
        # The vendors' own words for interventions, fetched once each (see repairs.py).
        self.intervention_texts: dict[str, InterventionText] = {}
        self._intervention_retry_at: dict[str, datetime] = {}
        # Set by the owner: called when a fetched text can replace the generic one.
        self.on_intervention_texts: Callable[[], None] | None = None
        # When to try making the Location again after Enode refused it.
        self._location_retry_at: datetime | None = None

    @property
    def zone_entity_id(self) -> str:
        """The zone entity chosen in the options (default: home)."""
        return str(self.entry.options.get(CONF_CHARGING_ZONE) or DEFAULT_CHARGING_ZONE)

    @property
    def zone(self) -> ChargingZone | None:
        """The charging location chosen in the options (default: home)."""
        return configured_charging_zone(self.hass, self.entry.options)

    async def async_start(self, snapshot: AccountSnapshot) -> bool:
        """Start the webhook, and make sure the charging location exists at Enode.

        True when the Location was made or chargers were put in it just now: Enode then
        places the cars anew, and the data fetched before is out of date.
        """
        await self.webhook.async_start()
        self._remember_cloudhook()
        if self.webhook.status is WebhookStatus.NO_HTTPS_URL:
            _log_once_no_https_url(self.hass, self.entry.entry_id)
        return await self.async_sync_location(snapshot)

    @property
    def webhook_active(self) -> bool:
        """Whether Enode's deliveries are known to arrive (else EV Flex polls more often)."""
        return self.webhook.working

    async def async_check_webhook(self) -> bool:
        """Re-check the webhook now and then; True while deliveries arrive."""
        if self.webhook.enode_webhook_id is None:
            # Never created (no address, or refused): try again, the address may exist now.
            await self.webhook.async_stop()
            await self.webhook.async_start()
            self._remember_cloudhook()
            return self.webhook.working
        return await self.webhook.async_check()

    def _remember_cloudhook(self) -> None:
        url = self.webhook.cloudhook_url
        if url is not None and self.entry.data.get(CONF_CLOUDHOOK_URL) != url:
            self.hass.config_entries.async_update_entry(
                self.entry, data={**self.entry.data, CONF_CLOUDHOOK_URL: url}
            )

    async def async_stop(self) -> None:
        """Stop receiving webhooks."""
        await self.webhook.async_stop()

    async def async_sync_location(self, snapshot: AccountSnapshot) -> bool:
        """Create the Location for the charging zone (once), move it where the zone is now, and
        put every charger in it.

        Enode infers where a paired car is from its charger's Location. Failures are logged
        and tried again on a later update; they never stop the entry. True when the Location was
        made or moved, or a charger was put in it.
        """
        zone = self.zone
        if zone is None:
            LOGGER.warning(
                "The charging location %s does not exist; choose another one in the options",
                self.entry.options.get(CONF_CHARGING_ZONE),
            )
            return False
        changed = False
        same_zone = self.entry.data.get(CONF_ENODE_LOCATION_ZONE) == zone.entity_id
        try:
            if (
                self.location_id is not None
                and same_zone
                and self.entry.data.get(CONF_ENODE_LOCATION_PLACE) != asdict(self._place(zone))
            ):
                changed = await self._move_location(self.location_id, zone)
            if self.location_id is None or not same_zone:
                self.location_id = await self._create_location(zone)
                changed = True
            attached = await self._attach_chargers(snapshot, self.location_id)
        except EnodeError as err:
            LOGGER.warning("Could not set the charging location at Enode: %s", err)
            self._location_retry_at = dt_util.utcnow() + LOCATION_RETRY_INTERVAL
            return changed
        return changed or attached

    async def _move_location(self, location_id: str, zone: ChargingZone) -> bool:
        """Move the Location where the zone is; False when it was deleted at Enode meanwhile
        (then it is made again)."""
        try:
            await self.client.update_location(location_id, self._place(zone))
        except EnodeNotFoundError:
            self._location_gone()
            return False
        self._remember_place(zone)
        return True

    def _location_gone(self) -> None:
        LOGGER.warning(
            "The charging location was deleted at Enode (in its dashboard or by another app); "
            "EV Flex makes it again and puts the chargers in it"
        )
        self.location_id = None

    async def async_check_location(self, snapshot: AccountSnapshot) -> bool:
        """Make the Location again when it was deleted at Enode. True when it was (Enode then
        places the cars anew)."""
        if self._attaching or self.location_id is None:
            return False
        return await self._alone(self._recreate_if_gone(snapshot))

    async def _alone(self, work: Awaitable[bool]) -> bool:
        """Change the Location with no other change of it under way."""
        self._attaching = True
        try:
            return await work
        finally:
            self._attaching = False

    async def _recreate_if_gone(self, snapshot: AccountSnapshot) -> bool:
        if self.location_id is None:
            return False
        try:
            await self.client.get_location(self.location_id)
        except EnodeNotFoundError:
            self._location_gone()
            return await self.async_sync_location(snapshot)
        except EnodeError as err:
            LOGGER.debug("Could not check the charging location at Enode: %s", err)
        return False

    async def _create_location(self, zone: ChargingZone) -> str:
        created = await self.client.create_location(self.user_id, self._place(zone))
        if self.location_id is not None:
            await self._delete_location(self.location_id)
        self.hass.config_entries.async_update_entry(
            self.entry,
            data={
                **self.entry.data,
                CONF_ENODE_LOCATION_ID: created.id,
                CONF_ENODE_LOCATION_ZONE: zone.entity_id,
                CONF_ENODE_LOCATION_PLACE: asdict(self._place(zone)),
            },
        )
        return created.id

    def _place(self, zone: ChargingZone) -> EnodePlace:
        """What Enode's Location holds of the zone: its name and centre, and the house's time
        zone (Enode reads deadlines in it)."""
        return EnodePlace(
            name=zone.name,
            latitude=zone.latitude,
            longitude=zone.longitude,
            timezone_name=self.hass.config.time_zone,
        )

    def _remember_place(self, zone: ChargingZone) -> None:
        self.hass.config_entries.async_update_entry(
            self.entry,
            data={**self.entry.data, CONF_ENODE_LOCATION_PLACE: asdict(self._place(zone))},
        )

    def _location_moved(self) -> bool:
        """Whether the zone is no longer where Enode's Location is (moved or renamed)."""
        zone = self.zone
        return (
            zone is not None
            and self.entry.data.get(CONF_ENODE_LOCATION_ZONE) == zone.entity_id
            and self.entry.data.get(CONF_ENODE_LOCATION_PLACE) != asdict(self._place(zone))
        )

    async def async_follow_zone(self, snapshot: AccountSnapshot) -> bool:
        """The zone changed in Home Assistant: Enode's Location follows it. True when it moved
        (Enode then places the cars anew)."""
        if self._attaching or self.location_id is None or not self._location_moved():
            return False
        return await self._alone(self.async_sync_location(snapshot))

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
        could not be made is tried again now and then; new interventions are looked up."""
        self._fetch_intervention_texts(snapshot)
        if self._attaching:
            return
        if self.location_id is None or self._location_moved():
            # Made at Enode's next try, or moved after the zone (a move the zone's own change
            # missed goes now, one Enode refused at its next try); that puts the chargers in too.
            retry_at = self._location_retry_at
            if (retry_at is None and self.location_id is not None) or (
                retry_at is not None and dt_util.utcnow() >= retry_at
            ):
                self._location_retry_at = None
                self._attaching = True
                self.entry.async_create_task(
                    self.hass, self._sync_later(snapshot), name="ev_flex charging location"
                )
                return
            if self.location_id is None:
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

    @callback
    def _fetch_intervention_texts(self, snapshot: AccountSnapshot) -> None:
        now = dt_util.utcnow()
        ids = {i for vehicle in snapshot.vehicles.values() for i in vehicle.intervention_ids}
        ids |= {i for charger in snapshot.chargers.values() for i in charger.intervention_ids}
        missing = [
            intervention_id
            for intervention_id in sorted(ids - self.intervention_texts.keys())
            if self._intervention_retry_at.get(intervention_id, now) <= now
        ]
        if not missing:
            return
        for intervention_id in missing:
            # Asked once; after a failure again only after a while.
            self._intervention_retry_at[intervention_id] = now + INTERVENTION_RETRY_INTERVAL
        self.entry.async_create_background_task(
            self.hass, self._fetch_texts(missing), name="ev_flex interventions"
        )

    async def _fetch_texts(self, intervention_ids: list[str]) -> None:
        language = intervention_language(self.hass.config.language)
        fetched = False
        for intervention_id in intervention_ids:
            try:
                found = await self.client.get_intervention(intervention_id, language=language)
            except EnodeError as err:
                LOGGER.debug("Could not read Enode intervention %s: %s", intervention_id, err)
                continue
            if found.title is not None:
                self.intervention_texts[intervention_id] = InterventionText(
                    title=found.title, description=found.description or ""
                )
                fetched = True
        if fetched and self.on_intervention_texts is not None:
            self.on_intervention_texts()

    async def _sync_later(self, snapshot: AccountSnapshot) -> None:
        try:
            await self.async_sync_location(snapshot)
        finally:
            self._attaching = False

    async def _attach_later(self, snapshot: AccountSnapshot, strays: set[str]) -> None:
        try:
            await self._attach_chargers(snapshot, self.location_id or "")
        except EnodeError as err:
            # Refused because the Location was deleted at Enode: made again, chargers and all.
            if await self._recreate_if_gone(snapshot):
                return
            # Once per charger: do not call Enode on every update for a charger it refuses.
            self._attach_failed |= strays
            LOGGER.warning("Could not put a charger in the charging location: %s", err)
        finally:
            self._attaching = False
