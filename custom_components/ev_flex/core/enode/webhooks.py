"""Enode webhook deliveries: signature checks and typed events.

A delivery is a POST whose body is a JSON array of events, signed with
`x-enode-signature: sha1=<hex HMAC-SHA1 of the raw body, keyed with the webhook secret>`.
"""

from dataclasses import dataclass
from datetime import datetime
import hashlib
import hmac
import json
import logging

from .errors import EnodeMalformedResponseError, EnodeSignatureError, EnodeWebhookPayloadError
from .models import EnodeAction, EnodeCharger, EnodeVehicle, JsonReader

_LOGGER = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-enode-signature"
DELIVERY_HEADER = "x-enode-delivery"
_SIGNATURE_PREFIX = "sha1="

VEHICLE_EVENTS = frozenset(
    {"user:vehicle:discovered", "user:vehicle:updated", "user:vehicle:deleted"}
)
CHARGER_EVENTS = frozenset(
    {"user:charger:discovered", "user:charger:updated", "user:charger:deleted"}
)
# The deprecated name still arrives from webhooks created on older API versions.
ACTION_EVENTS = frozenset({"user:vendor-action:updated", "user:charge-action:updated"})
_ACTION_KEYS = ("vendorAction", "action", "chargeAction")
# Enode's limit is 100 events per delivery; entries past this are left out unread.
MAX_EVENTS_PER_DELIVERY = 200


def sign_payload(body: bytes, secret: str) -> str:
    """The x-enode-signature value for this body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return f"{_SIGNATURE_PREFIX}{digest}"


def signature_is_valid(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether the header matches the body; compared in constant time."""
    if not signature or not secret:
        return False
    expected = sign_payload(body, secret)
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


@dataclass(frozen=True, kw_only=True)
class WebhookEvent:
    """Fields every event carries."""

    event: str
    created_at: datetime | None = None
    user_id: str | None = None
    version: str | None = None


@dataclass(frozen=True, kw_only=True)
class VehicleEvent(WebhookEvent):
    """user:vehicle:discovered / updated / deleted."""

    vehicle: EnodeVehicle
    updated_fields: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChargerEvent(WebhookEvent):
    """user:charger:discovered / updated / deleted."""

    charger: EnodeCharger
    updated_fields: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class VendorActionEvent(WebhookEvent):
    """user:vendor-action:updated: an action changed state."""

    action: EnodeAction
    updated_fields: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CredentialsInvalidatedEvent(WebhookEvent):
    """user:credentials:invalidated: the user must link the vendor again."""

    vendor: str | None = None


@dataclass(frozen=True, kw_only=True)
class OtherEvent(WebhookEvent):
    """Any event EV Flex does not act on (heartbeats, tests, other asset types)."""


def _event_from(item: object) -> WebhookEvent:
    reader = JsonReader(item)
    name = reader.text("event")
    if name is None:
        raise EnodeMalformedResponseError("webhook event without a name")
    created_at = reader.timestamp("createdAt")
    user_id = reader.child("user").text("id")
    version = reader.text("version")
    updated = reader.texts("updatedFields")
    if name in VEHICLE_EVENTS:
        return VehicleEvent(
            event=name,
            created_at=created_at,
            user_id=user_id,
            version=version,
            vehicle=EnodeVehicle.from_json(reader.data.get("vehicle")),
            updated_fields=updated,
        )
    if name in CHARGER_EVENTS:
        return ChargerEvent(
            event=name,
            created_at=created_at,
            user_id=user_id,
            version=version,
            charger=EnodeCharger.from_json(reader.data.get("charger")),
            updated_fields=updated,
        )
    if name in ACTION_EVENTS:
        # The key is undocumented for this event; accept the names seen in the wild.
        raw_action = next(
            (reader.data[key] for key in _ACTION_KEYS if key in reader.data),
            None,
        )
        return VendorActionEvent(
            event=name,
            created_at=created_at,
            user_id=user_id,
            version=version,
            action=EnodeAction.from_json(raw_action),
            updated_fields=updated,
        )
    if name == "user:credentials:invalidated":
        return CredentialsInvalidatedEvent(
            event=name,
            created_at=created_at,
            user_id=user_id,
            version=version,
            vendor=reader.text("vendor"),
        )
    return OtherEvent(event=name, created_at=created_at, user_id=user_id, version=version)


@dataclass(frozen=True, kw_only=True)
class ParsedDelivery:
    """The events of one delivery, and how many of its entries could not be read."""

    events: list[WebhookEvent]
    unreadable: int = 0


def read_delivery(body: bytes) -> ParsedDelivery:
    """The events of a delivery; entries that cannot be read are counted and left out.

    Raises EnodeWebhookPayloadError when the body is not a JSON array at all (or nested too
    deeply to read).
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as err:
        raise EnodeWebhookPayloadError("webhook body is not readable JSON") from err
    if isinstance(data, dict):
        # Be lenient with a single event sent without the surrounding array.
        data = [data]
    if not isinstance(data, list):
        raise EnodeWebhookPayloadError("webhook body is not a list of events")
    events: list[WebhookEvent] = []
    # Enode sends at most 100 events at once; reading thousands would block for a second.
    unreadable = max(0, len(data) - MAX_EVENTS_PER_DELIVERY)
    for item in data[:MAX_EVENTS_PER_DELIVERY]:
        try:
            events.append(_event_from(item))
        except EnodeMalformedResponseError:
            unreadable += 1
    return ParsedDelivery(events=events, unreadable=unreadable)


def parse_events(body: bytes) -> list[WebhookEvent]:
    """The readable events of a delivery (see `read_delivery`)."""
    delivery = read_delivery(body)
    if delivery.unreadable:
        _LOGGER.debug("Left out %d unreadable Enode webhook events", delivery.unreadable)
    return delivery.events


def verify_delivery(body: bytes, signature: str | None, secret: str) -> ParsedDelivery:
    """Check the signature, then read the events. Raises EnodeSignatureError on a mismatch."""
    if not signature_is_valid(body, signature, secret):
        raise EnodeSignatureError("x-enode-signature does not match the body")
    return read_delivery(body)


def verify_and_parse(body: bytes, signature: str | None, secret: str) -> list[WebhookEvent]:
    """Check the signature, then read the events. Raises EnodeSignatureError on a mismatch."""
    if not signature_is_valid(body, signature, secret):
        raise EnodeSignatureError("x-enode-signature does not match the body")
    return parse_events(body)
