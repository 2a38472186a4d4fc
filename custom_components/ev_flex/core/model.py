"""Account-independent views of vehicles and chargers.

Every account kind (simulator, Enode, entities already in Home Assistant) is turned into these
objects, so entities, pairing and the controller never care where the data came from.
A field is None when the account did not report it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class CommandKind(StrEnum):
    """What a charging command asks for."""

    START = "start"
    STOP = "stop"
    SET_MAX_CURRENT = "set_max_current"
    DISCHARGE = "discharge"


class ReasonCode(StrEnum):
    """Why a command or an account failed; the Home Assistant layer words each code in the
    user's language (`reason_<code>` in the `common` texts). A `words` fact (an account's or
    another integration's own words) follows the text after a colon; an `action` fact is a
    CommandKind."""

    # What the executor made of a failed command; `cause` says what the account said.
    REFUSED = "refused"
    CONTROLLED_ELSEWHERE = "controlled_elsewhere"
    AUTHENTICATION = "authentication"
    UNAVAILABLE = "unavailable"
    COMMAND_LOST = "command_lost"
    NOT_CONFIRMED = "not_confirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Every way to carry out `action` failed; `cause` is the last one's reason.
    ALL_PATHS_FAILED = "all_paths_failed"
    NO_PATH = "no_path"
    NO_OTHER_PATH = "no_other_path"
    NO_EV_SYSTEM = "no_ev_system"
    VEHICLE_NOT_KNOWN = "vehicle_not_known"
    # What an account said.
    ENODE_HTTP = "enode_http"
    ENODE_UNREACHABLE = "enode_unreachable"
    ENODE_FAILED = "enode_failed"
    # How Enode's action ended (its failureReason type), with Enode's `words` when it gave any.
    ENODE_NO_RESPONSE = "enode_no_response"
    ENODE_PRECONDITION = "enode_precondition"
    ENODE_UNNECESSARY = "enode_unnecessary"
    ENODE_CONFLICT = "enode_conflict"
    ENODE_CANCELLED = "enode_cancelled"
    ENODE_NOT_FOUND = "enode_not_found"
    ENODE_ACTION_FAILED = "enode_action_failed"
    NO_DEVICE = "no_device"
    NO_COMMAND = "no_command"
    CANNOT = "cannot"
    CURRENT_RANGE = "current_range"
    NEEDS_CURRENT = "needs_current"
    DEVICE_OFFLINE = "device_offline"
    DEVICE_REJECTED = "device_rejected"
    SIMULATION_UNREACHABLE = "simulation_unreachable"
    THROUGH_CHARGER = "through_charger"
    NO_ENTITY = "no_entity"
    ENTITY_ACTION_FAILED = "entity_action_failed"
    ACCOUNT_FAILED = "account_failed"
    # A reason saved in words by a version before reasons had codes.
    WORDS = "words"


# How deep a saved reason's causes are read; EV Flex nests two at most.
_MAX_REASON_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a command or an account failed: a code, the facts its words name (a device id, an
    HTTP status, a command, the account's own words) and the reason it passes on, if any.
    `str()` is English, for the log."""

    code: ReasonCode
    facts: Mapping[str, str] = field(default_factory=dict, hash=False)
    cause: Reason | None = None

    def __str__(self) -> str:
        facts = ", ".join(f"{key}={value}" for key, value in self.facts.items())
        text = f"{self.code.value} ({facts})" if facts else self.code.value
        return f"{text}: {self.cause}" if self.cause is not None else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        data: dict[str, Any] = {"code": self.code.value, "facts": dict(self.facts)}
        if self.cause is not None:
            data["cause"] = self.cause.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Any, depth: int = 0) -> Reason | None:
        """Read what `to_dict` wrote, or an older version's words; None when unreadable."""
        if isinstance(data, str):
            return cls(ReasonCode.WORDS, {"words": data})
        if not isinstance(data, Mapping) or depth > _MAX_REASON_DEPTH:
            return None
        try:
            code = ReasonCode(str(data.get("code")))
        except ValueError:
            return None
        facts = data.get("facts")
        return cls(
            code,
            {str(k): str(v) for k, v in facts.items()} if isinstance(facts, Mapping) else {},
            cls.from_dict(data.get("cause"), depth + 1),
        )


class CommandState(StrEnum):
    """Lifecycle of a command, following Enode's action states."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, kw_only=True)
class Location:
    """A position in decimal degrees."""

    latitude: float
    longitude: float


@dataclass(frozen=True, kw_only=True)
class VehicleCapabilities:
    """What the vehicle's own account can do."""

    can_start_stop: bool = False
    can_set_charge_limit: bool = False
    reports_location: bool = False
    can_discharge: bool = False


@dataclass(frozen=True, kw_only=True)
class VehicleState:
    """One vehicle as last reported by its account."""

    vehicle_id: str
    make: str | None = None
    model: str | None = None
    year: int | None = None
    vin: str | None = None
    online: bool = True
    battery_level_pct: float | None = None
    battery_capacity_kwh: float | None = None
    range_km: float | None = None
    charge_limit_pct: float | None = None
    is_plugged_in: bool | None = None
    is_charging: bool | None = None
    is_fully_charged: bool | None = None
    charge_rate_kw: float | None = None
    charge_time_remaining_min: float | None = None
    odometer_km: float | None = None
    location: Location | None = None
    plugged_in_charger_id: str | None = None
    last_seen: datetime | None = None
    capabilities: VehicleCapabilities = field(default_factory=VehicleCapabilities)
    # The name the owner gave the car in its app.
    display_name: str | None = None
    # The account's own id for the charging location the car is at (Enode Location id).
    location_id: str | None = None
    # The account's raw charging state, e.g. Enode's "PLUGGED_IN:STOPPED".
    power_delivery_state: str | None = None
    # When the cable was connected, if the account knows.
    plugged_in_at: datetime | None = None
    # The account's ids of what the user must do before a blocked capability works.
    intervention_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChargerCapabilities:
    """What the charger's own account can do."""

    can_start_stop: bool = True
    can_set_max_current: bool = True
    can_discharge: bool = False


@dataclass(frozen=True, kw_only=True)
class ChargerState:
    """One home charger as last reported by its account."""

    charger_id: str
    make: str | None = None
    model: str | None = None
    serial_number: str | None = None
    online: bool = True
    is_plugged_in: bool | None = None
    is_charging: bool | None = None
    charge_rate_kw: float | None = None
    max_current_a: float | None = None
    max_current_limit_a: float | None = None
    min_current_a: float | None = None
    phases: int | None = None
    plugged_in_vehicle_id: str | None = None
    last_seen: datetime | None = None
    capabilities: ChargerCapabilities = field(default_factory=ChargerCapabilities)
    # The account's own id for the location the charger belongs to (Enode Location id).
    location_id: str | None = None
    # The account's raw charging state, e.g. Enode's "PLUGGED_IN:CHARGING".
    power_delivery_state: str | None = None
    # When the cable was connected, if the account knows.
    plugged_in_at: datetime | None = None
    # The account's ids of what the user must do before a blocked capability works.
    intervention_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AccountSnapshot:
    """Everything one account reported in one refresh."""

    vehicles: dict[str, VehicleState] = field(default_factory=dict)
    chargers: dict[str, ChargerState] = field(default_factory=dict)
    # True when the account itself says which vehicle and charger are plugged into each other
    # (Enode's pluggedInChargerId / pluggedInVehicleId): the ids are then trusted even when
    # None. False means pairing has to infer it from plug-in times and power.
    reports_plugged_in_ids: bool = False
    # False when the account left out entries it could not read: a device missing from this
    # snapshot may be one of them.
    complete: bool = True


@dataclass(frozen=True, kw_only=True)
class CommandResult:
    """The outcome of a charging command once it settled (or timed out)."""

    command_id: str
    kind: CommandKind
    target_id: str
    state: CommandState
    failure_reason: Reason | None = None
    # The device was already in the requested state (Enode's 400 or UNNECESSARY, checked with
    # a fresh read): counts as confirmed, never as a failure.
    redundant: bool = False

    @property
    def ended_reason(self) -> Reason:
        """Why a command that failed or was cancelled ended so: the account's reason, else
        the state it ended in."""
        if self.failure_reason is not None:
            return self.failure_reason
        if self.state is CommandState.CANCELLED:
            return Reason(ReasonCode.CANCELLED)
        return Reason(ReasonCode.FAILED)
