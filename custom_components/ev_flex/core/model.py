"""Account-independent views of vehicles and chargers.

Every account kind (simulator, Enode, entities already in Home Assistant) is turned into these
objects, so entities, pairing and the controller never care where the data came from.
A field is None when the account did not report it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CommandKind(StrEnum):
    """What a charging command asks for."""

    START = "start"
    STOP = "stop"
    SET_MAX_CURRENT = "set_max_current"
    DISCHARGE = "discharge"


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
    failure_reason: str | None = None
    # The device was already in the requested state (Enode's 400 or UNNECESSARY, checked with
    # a fresh read): counts as confirmed, never as a failure.
    redundant: bool = False
