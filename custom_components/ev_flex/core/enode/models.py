"""Typed views of Enode API objects (API version 2024-10-01).

Enode adds enum values without calling it a breaking change and leaves out keys the vendor does
not report, so parsing is lenient: an unknown enum value becomes UNKNOWN, a missing or mistyped
value becomes None (or an empty default). Only an object without its `id` is rejected, because
nothing can be done with it.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
import math
from typing import Any, Self

from .errors import EnodeError, EnodeMalformedResponseError


class _OpenEnum(StrEnum):
    """A string enum that maps values it does not know to its UNKNOWN member."""

    @classmethod
    def _missing_(cls, value: object) -> Self:
        return cls.__members__["UNKNOWN"]


class PowerDeliveryState(_OpenEnum):
    """Where the energy goes, as Enode reports it for vehicles and chargers."""

    UNKNOWN = "UNKNOWN"
    UNPLUGGED = "UNPLUGGED"
    INITIALIZING = "PLUGGED_IN:INITIALIZING"
    CHARGING = "PLUGGED_IN:CHARGING"
    COMPLETE = "PLUGGED_IN:COMPLETE"
    STOPPED = "PLUGGED_IN:STOPPED"
    NO_POWER = "PLUGGED_IN:NO_POWER"
    FAULT = "PLUGGED_IN:FAULT"
    DISCHARGING = "PLUGGED_IN:DISCHARGING"


class ActionState(_OpenEnum):
    """Lifecycle of a vendor action."""

    UNKNOWN = "UNKNOWN"
    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


SETTLED_ACTION_STATES = frozenset(
    {ActionState.CONFIRMED, ActionState.FAILED, ActionState.CANCELLED}
)


class ChargeKind(_OpenEnum):
    """What a charge action asks for."""

    UNKNOWN = "UNKNOWN"
    START = "START"
    STOP = "STOP"


class TargetType(_OpenEnum):
    """Which kind of asset an action controls."""

    UNKNOWN = "unknown"
    VEHICLE = "vehicle"
    CHARGER = "charger"


class FailureReasonType(_OpenEnum):
    """Why an action ended FAILED or CANCELLED."""

    UNKNOWN = "UNKNOWN"
    NO_RESPONSE = "NO_RESPONSE"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    UNNECESSARY = "UNNECESSARY"
    CONFLICT = "CONFLICT"
    REQUESTED_CANCELLATION = "REQUESTED_CANCELLATION"
    NOT_FOUND = "NOT_FOUND"


class VendorType(_OpenEnum):
    """The kind of account a user links."""

    UNKNOWN = "unknown"
    VEHICLE = "vehicle"
    CHARGER = "charger"
    HVAC = "hvac"
    INVERTER = "inverter"
    BATTERY = "battery"
    METER = "meter"


# Scopes EV Flex asks for when linking each vendor type.
VEHICLE_SCOPES = ("vehicle:read:data", "vehicle:read:location", "vehicle:control:charging")
CHARGER_SCOPES = ("charger:read:data", "charger:control:charging")


def parse_timestamp(value: object) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class JsonReader:
    """Reads typed values out of a JSON object without trusting its shape."""

    def __init__(self, data: object) -> None:
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}

    def has(self, key: str) -> bool:
        """Whether the key is present at all (even with null)."""
        return key in self.data

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        return value if isinstance(value, str) else None

    def number(self, key: str) -> float | None:
        """A finite number; None for anything else (Python reads NaN and Infinity as JSON)."""
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        try:
            number = float(value)
        except OverflowError:
            return None
        return number if math.isfinite(number) else None

    def integer(self, key: str) -> int | None:
        value = self.number(key)
        return int(value) if value is not None and value.is_integer() else None

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        return value if isinstance(value, bool) else None

    def timestamp(self, key: str) -> datetime | None:
        return parse_timestamp(self.data.get(key))

    def child(self, key: str) -> JsonReader:
        return JsonReader(self.data.get(key))

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if not isinstance(value, list):
            return ()
        return tuple(item for item in value if isinstance(item, str))

    def items(self, key: str) -> list[object]:
        value = self.data.get(key)
        return list(value) if isinstance(value, list) else []

    def required_id(self, what: str) -> str:
        value = self.text("id")
        if not value:
            raise EnodeMalformedResponseError(f"{what} without an id")
        return value


@dataclass(frozen=True, kw_only=True)
class Capability:
    """Whether the asset supports a feature, and which interventions block it."""

    is_capable: bool = False
    intervention_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            is_capable=reader.flag("isCapable") is True,
            intervention_ids=reader.texts("interventionIds"),
        )


@dataclass(frozen=True, kw_only=True)
class VehicleCapabilitySet:
    """The vehicle's capabilities as Enode reports them."""

    information: Capability = field(default_factory=Capability)
    charge_state: Capability = field(default_factory=Capability)
    location: Capability = field(default_factory=Capability)
    odometer: Capability = field(default_factory=Capability)
    set_max_current: Capability = field(default_factory=Capability)
    start_charging: Capability = field(default_factory=Capability)
    stop_charging: Capability = field(default_factory=Capability)
    smart_charging: Capability = field(default_factory=Capability)

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            information=Capability.from_json(reader.data.get("information")),
            charge_state=Capability.from_json(reader.data.get("chargeState")),
            location=Capability.from_json(reader.data.get("location")),
            odometer=Capability.from_json(reader.data.get("odometer")),
            set_max_current=Capability.from_json(reader.data.get("setMaxCurrent")),
            start_charging=Capability.from_json(reader.data.get("startCharging")),
            stop_charging=Capability.from_json(reader.data.get("stopCharging")),
            smart_charging=Capability.from_json(reader.data.get("smartCharging")),
        )


@dataclass(frozen=True, kw_only=True)
class ChargerCapabilitySet:
    """The charger's capabilities as Enode reports them."""

    information: Capability = field(default_factory=Capability)
    charge_state: Capability = field(default_factory=Capability)
    start_charging: Capability = field(default_factory=Capability)
    stop_charging: Capability = field(default_factory=Capability)
    set_max_current: Capability = field(default_factory=Capability)

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            information=Capability.from_json(reader.data.get("information")),
            charge_state=Capability.from_json(reader.data.get("chargeState")),
            start_charging=Capability.from_json(reader.data.get("startCharging")),
            stop_charging=Capability.from_json(reader.data.get("stopCharging")),
            set_max_current=Capability.from_json(reader.data.get("setMaxCurrent")),
        )


@dataclass(frozen=True, kw_only=True)
class VehicleInformation:
    """Static facts about a vehicle."""

    vin: str | None = None
    brand: str | None = None
    model: str | None = None
    year: int | None = None
    display_name: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            vin=reader.text("vin"),
            brand=reader.text("brand"),
            model=reader.text("model"),
            year=reader.integer("year"),
            display_name=reader.text("displayName"),
        )


@dataclass(frozen=True, kw_only=True)
class VehicleChargeState:
    """The vehicle's battery and charging state."""

    battery_level: float | None = None
    range_km: float | None = None
    is_plugged_in: bool | None = None
    is_charging: bool | None = None
    is_fully_charged: bool | None = None
    battery_capacity_kwh: float | None = None
    charge_limit_pct: float | None = None
    charge_rate_kw: float | None = None
    charge_time_remaining_min: float | None = None
    last_updated: datetime | None = None
    max_current_a: float | None = None
    power_delivery_state: PowerDeliveryState = PowerDeliveryState.UNKNOWN
    plugged_in_charger_id: str | None = None
    # False when the key was absent: the account does not do EV-charger pairing.
    reports_plugged_in_charger: bool = False

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            battery_level=reader.number("batteryLevel"),
            range_km=reader.number("range"),
            is_plugged_in=reader.flag("isPluggedIn"),
            is_charging=reader.flag("isCharging"),
            is_fully_charged=reader.flag("isFullyCharged"),
            battery_capacity_kwh=reader.number("batteryCapacity"),
            charge_limit_pct=reader.number("chargeLimit"),
            charge_rate_kw=reader.number("chargeRate"),
            charge_time_remaining_min=reader.number("chargeTimeRemaining"),
            last_updated=reader.timestamp("lastUpdated"),
            max_current_a=reader.number("maxCurrent"),
            power_delivery_state=PowerDeliveryState(reader.text("powerDeliveryState") or "UNKNOWN"),
            plugged_in_charger_id=reader.text("pluggedInChargerId"),
            reports_plugged_in_charger=reader.has("pluggedInChargerId"),
        )


@dataclass(frozen=True, kw_only=True)
class VehicleLocation:
    """Where the vehicle is, and the Enode Location it is at (if any)."""

    id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    last_updated: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            id=reader.text("id"),
            latitude=reader.number("latitude"),
            longitude=reader.number("longitude"),
            last_updated=reader.timestamp("lastUpdated"),
        )


@dataclass(frozen=True, kw_only=True)
class Odometer:
    """Distance driven."""

    distance_km: float | None = None
    last_updated: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            distance_km=reader.number("distance"), last_updated=reader.timestamp("lastUpdated")
        )


@dataclass(frozen=True, kw_only=True)
class SmartChargingPolicy:
    """Enode's own smart charging setting for a vehicle (EV Flex keeps it off)."""

    is_enabled: bool = False
    deadline: str | None = None
    minimum_charge_limit: float | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            is_enabled=reader.flag("isEnabled") is True,
            deadline=reader.text("deadline"),
            minimum_charge_limit=reader.number("minimumChargeLimit"),
        )


@dataclass(frozen=True, kw_only=True)
class EnodeVehicle:
    """A vehicle linked through Enode."""

    id: str
    user_id: str | None = None
    vendor: str | None = None
    last_seen: datetime | None = None
    is_reachable: bool | None = None
    information: VehicleInformation = field(default_factory=VehicleInformation)
    charge_state: VehicleChargeState = field(default_factory=VehicleChargeState)
    smart_charging_policy: SmartChargingPolicy = field(default_factory=SmartChargingPolicy)
    location: VehicleLocation = field(default_factory=VehicleLocation)
    odometer: Odometer = field(default_factory=Odometer)
    capabilities: VehicleCapabilitySet = field(default_factory=VehicleCapabilitySet)
    scopes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            id=reader.required_id("vehicle"),
            user_id=reader.text("userId"),
            vendor=reader.text("vendor"),
            last_seen=reader.timestamp("lastSeen"),
            is_reachable=reader.flag("isReachable"),
            information=VehicleInformation.from_json(reader.data.get("information")),
            charge_state=VehicleChargeState.from_json(reader.data.get("chargeState")),
            smart_charging_policy=SmartChargingPolicy.from_json(
                reader.data.get("smartChargingPolicy")
            ),
            location=VehicleLocation.from_json(reader.data.get("location")),
            odometer=Odometer.from_json(reader.data.get("odometer")),
            capabilities=VehicleCapabilitySet.from_json(reader.data.get("capabilities")),
            scopes=reader.texts("scopes"),
        )


@dataclass(frozen=True, kw_only=True)
class ChargerInformation:
    """Static facts about a charger."""

    brand: str | None = None
    model: str | None = None
    year: int | None = None
    serial_number: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            brand=reader.text("brand"),
            model=reader.text("model"),
            year=reader.integer("year"),
            serial_number=reader.text("serialNumber"),
        )


@dataclass(frozen=True, kw_only=True)
class ChargerChargeState:
    """The charger's plug and power state."""

    is_plugged_in: bool | None = None
    is_charging: bool | None = None
    charge_rate_kw: float | None = None
    last_updated: datetime | None = None
    max_current_a: float | None = None
    power_delivery_state: PowerDeliveryState = PowerDeliveryState.UNKNOWN
    plugged_in_vehicle_id: str | None = None
    # False when the key was absent: the account does not do EV-charger pairing.
    reports_plugged_in_vehicle: bool = False

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            is_plugged_in=reader.flag("isPluggedIn"),
            is_charging=reader.flag("isCharging"),
            charge_rate_kw=reader.number("chargeRate"),
            last_updated=reader.timestamp("lastUpdated"),
            max_current_a=reader.number("maxCurrent"),
            power_delivery_state=PowerDeliveryState(reader.text("powerDeliveryState") or "UNKNOWN"),
            plugged_in_vehicle_id=reader.text("pluggedInVehicleId"),
            reports_plugged_in_vehicle=reader.has("pluggedInVehicleId"),
        )


@dataclass(frozen=True, kw_only=True)
class AssetLocation:
    """The Enode Location an asset belongs to."""

    id: str | None = None
    last_updated: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(id=reader.text("id"), last_updated=reader.timestamp("lastUpdated"))


@dataclass(frozen=True, kw_only=True)
class EnodeCharger:
    """A home charger linked through Enode."""

    id: str
    user_id: str | None = None
    vendor: str | None = None
    last_seen: datetime | None = None
    is_reachable: bool | None = None
    information: ChargerInformation = field(default_factory=ChargerInformation)
    charge_state: ChargerChargeState = field(default_factory=ChargerChargeState)
    capabilities: ChargerCapabilitySet = field(default_factory=ChargerCapabilitySet)
    location: AssetLocation = field(default_factory=AssetLocation)
    scopes: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            id=reader.required_id("charger"),
            user_id=reader.text("userId"),
            vendor=reader.text("vendor"),
            last_seen=reader.timestamp("lastSeen"),
            is_reachable=reader.flag("isReachable"),
            information=ChargerInformation.from_json(reader.data.get("information")),
            charge_state=ChargerChargeState.from_json(reader.data.get("chargeState")),
            capabilities=ChargerCapabilitySet.from_json(reader.data.get("capabilities")),
            location=AssetLocation.from_json(reader.data.get("location")),
            scopes=reader.texts("scopes"),
        )


@dataclass(frozen=True, kw_only=True)
class FailureReason:
    """Why an action did not get confirmed."""

    type: FailureReasonType = FailureReasonType.UNKNOWN
    detail: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self | None:
        if not isinstance(data, Mapping):
            return None
        reader = JsonReader(data)
        return cls(
            type=FailureReasonType(reader.text("type") or "UNKNOWN"), detail=reader.text("detail")
        )

    def describe(self) -> str:
        """One line for logs and command results."""
        return f"{self.type.value}: {self.detail}" if self.detail else self.type.value


@dataclass(frozen=True, kw_only=True)
class EnodeAction:
    """A charge (START/STOP) or max-current action and how far it got."""

    id: str
    state: ActionState
    target_id: str | None = None
    target_type: TargetType = TargetType.UNKNOWN
    # START/STOP for charge actions; None for max-current actions.
    kind: ChargeKind | None = None
    # The requested current for max-current actions.
    max_current_a: float | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    failure_reason: FailureReason | None = None

    @property
    def is_settled(self) -> bool:
        """True once the action reached CONFIRMED, FAILED or CANCELLED."""
        return self.state in SETTLED_ACTION_STATES

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        kind_text = reader.text("kind")
        return cls(
            id=reader.required_id("action"),
            state=ActionState(reader.text("state") or "UNKNOWN"),
            target_id=reader.text("targetId"),
            target_type=TargetType(reader.text("targetType") or "unknown"),
            kind=ChargeKind(kind_text) if kind_text is not None else None,
            max_current_a=reader.child("targetState").number("maxCurrent"),
            user_id=reader.text("userId"),
            created_at=reader.timestamp("createdAt"),
            updated_at=reader.timestamp("updatedAt"),
            completed_at=reader.timestamp("completedAt"),
            failure_reason=FailureReason.from_json(reader.data.get("failureReason")),
        )


@dataclass(frozen=True, kw_only=True)
class LinkedVendor:
    """One vendor account a user has linked."""

    vendor: str
    vendor_type: VendorType = VendorType.UNKNOWN
    is_valid: bool = True


@dataclass(frozen=True, kw_only=True)
class EnodeUser:
    """A user of the client and the vendor accounts they linked."""

    id: str
    linked_vendors: tuple[LinkedVendor, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        vendors = []
        for item in reader.items("linkedVendors"):
            entry = JsonReader(item)
            vendor = entry.text("vendor")
            if vendor is None:
                continue
            vendors.append(
                LinkedVendor(
                    vendor=vendor,
                    vendor_type=VendorType(entry.text("vendorType") or "unknown"),
                    is_valid=entry.flag("isValid") is not False,
                )
            )
        return cls(id=reader.required_id("user"), linked_vendors=tuple(vendors))


@dataclass(frozen=True, kw_only=True)
class LinkSession:
    """A single-use Link UI session."""

    link_url: str
    link_token: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        link_url = reader.text("linkUrl")
        if not link_url:
            raise EnodeMalformedResponseError("link session without a linkUrl")
        return cls(link_url=link_url, link_token=reader.text("linkToken"))


@dataclass(frozen=True, kw_only=True)
class EnodePlace:
    """Where a Location is and what it is called: what making or moving one sends (2024-10-01
    "Create Location" and "Update Location" take these fields)."""

    name: str
    latitude: float
    longitude: float
    timezone_name: str = "UTC"

    def to_json(self) -> dict[str, Any]:
        """The request body."""
        return {
            "name": self.name,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "timezoneName": self.timezone_name,
        }


@dataclass(frozen=True, kw_only=True)
class EnodeLocation:
    """A place (the user's home) that chargers belong to and that tariffs refer to."""

    id: str
    user_id: str | None = None
    name: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    timezone_name: str = "UTC"

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            id=reader.required_id("location"),
            user_id=reader.text("userId"),
            name=reader.text("name"),
            latitude=reader.number("latitude"),
            longitude=reader.number("longitude"),
            timezone_name=reader.text("timezoneName") or "UTC",
        )


@dataclass(frozen=True, kw_only=True)
class EnodeWebhook:
    """A registered webhook."""

    id: str
    url: str | None = None
    events: tuple[str, ...] = ()
    is_active: bool = True
    created_at: datetime | None = None
    last_success: datetime | None = None
    api_version: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            id=reader.required_id("webhook"),
            url=reader.text("url"),
            events=reader.texts("events"),
            is_active=reader.flag("isActive") is not False,
            created_at=reader.timestamp("createdAt"),
            last_success=reader.timestamp("lastSuccess"),
            api_version=reader.text("apiVersion"),
        )


@dataclass(frozen=True, kw_only=True)
class WebhookTestResult:
    """The outcome of POST /webhooks/{id}/test."""

    succeeded: bool
    description: str | None = None
    response_code: int | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        return cls(
            succeeded=reader.text("status") == "SUCCESS",
            description=reader.text("description"),
            response_code=reader.child("response").integer("code"),
        )


# Languages GET /interventions/{id} answers in (2024-10-01); others fall back to en-US.
INTERVENTION_LANGUAGES = (
    "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "ja-JP", "pt-PT", "lv-LV", "lt-LT",
    "nl-NL", "nl-BE", "nb-NO", "pl-PL", "sv-SE", "da-DK", "fi-FI", "ro-RO",
)  # fmt: skip
# Vendor text can be long markdown; a repair issue shows this much of it.
_MAX_INTERVENTION_TEXT = 2000


def intervention_language(language: str | None) -> str | None:
    """Enode's language tag for a user's language ("de" -> "de-DE"); None when it has none."""
    if not language:
        return None
    wanted = language.replace("_", "-").lower()
    for tag in INTERVENTION_LANGUAGES:
        if tag.lower() == wanted:
            return tag
    primary = wanted.split("-")[0]
    return next((tag for tag in INTERVENTION_LANGUAGES if tag.lower().startswith(primary)), None)


@dataclass(frozen=True, kw_only=True)
class EnodeIntervention:
    """What the user must do before a blocked capability works (GET /interventions/{id})."""

    id: str
    vendor: str | None = None
    vendor_type: VendorType = VendorType.UNKNOWN
    brand: str | None = None
    title: str | None = None
    description: str | None = None
    # "Link" when relinking the vendor account resolves it.
    action: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Self:
        reader = JsonReader(data)
        resolution = reader.child("resolution")
        return cls(
            id=reader.required_id("intervention"),
            vendor=reader.text("vendor"),
            vendor_type=VendorType(reader.text("vendorType") or "unknown"),
            brand=reader.text("brand"),
            title=_short(resolution.text("title")),
            description=_short(resolution.text("description")),
            action=resolution.text("action"),
        )


def _short(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    text = text.strip()
    return text if len(text) <= _MAX_INTERVENTION_TEXT else text[:_MAX_INTERVENTION_TEXT] + "…"


@dataclass(frozen=True, kw_only=True)
class Page[T]:
    """One page of a list endpoint."""

    items: tuple[T, ...]
    after: str | None = None
    before: str | None = None
    # Entries that could not be read (for example without an id); they are left out of items.
    skipped: int = 0


def parse_page[T](data: object, parse_item: Callable[[object], T]) -> Page[T]:
    """Read `{data: [...], pagination: {after, before}}`, leaving out unreadable entries."""
    reader = JsonReader(data)
    if not isinstance(reader.data.get("data"), list):
        raise EnodeMalformedResponseError("list response without a data array")
    items: list[T] = []
    skipped = 0
    for raw in reader.items("data"):
        try:
            items.append(parse_item(raw))
        except EnodeMalformedResponseError:
            skipped += 1
    pagination = reader.child("pagination")
    return Page(
        items=tuple(items),
        after=pagination.text("after"),
        before=pagination.text("before"),
        skipped=skipped,
    )


@dataclass(frozen=True)
class LinkRefused:
    """Link came back with an error: its code, and Enode's own words for it."""

    code: str
    words: str


# Why Link linked nothing: a call to Enode failed, or Link came back with an error. Without
# either, Link simply linked nothing.
type LinkFailure = EnodeError | LinkRefused
