"""Turn Enode objects into EV Flex's account-independent model."""

from collections.abc import Iterable
from dataclasses import fields

from ..model import (
    AccountSnapshot,
    ChargerCapabilities,
    ChargerState,
    CommandKind,
    CommandResult,
    CommandState,
    Location,
    Reason,
    ReasonCode,
    VehicleCapabilities,
    VehicleState,
)
from .errors import EnodeApiError, EnodeConnectionError, EnodeError, EnodeTimeoutError
from .models import (
    ActionState,
    ChargeKind,
    ChargerCapabilitySet,
    EnodeAction,
    EnodeCharger,
    EnodeVehicle,
    FailureReason,
    FailureReasonType,
    VehicleCapabilitySet,
)

_COMMAND_STATES = {
    ActionState.PENDING: CommandState.PENDING,
    ActionState.CONFIRMED: CommandState.CONFIRMED,
    ActionState.FAILED: CommandState.FAILED,
    ActionState.CANCELLED: CommandState.CANCELLED,
}


_FAILURE_REASONS = {
    FailureReasonType.NO_RESPONSE: ReasonCode.ENODE_NO_RESPONSE,
    FailureReasonType.FAILED_PRECONDITION: ReasonCode.ENODE_PRECONDITION,
    FailureReasonType.UNNECESSARY: ReasonCode.ENODE_UNNECESSARY,
    FailureReasonType.CONFLICT: ReasonCode.ENODE_CONFLICT,
    FailureReasonType.REQUESTED_CANCELLATION: ReasonCode.ENODE_CANCELLED,
    FailureReasonType.NOT_FOUND: ReasonCode.ENODE_NOT_FOUND,
}


def enode_reason(err: EnodeError) -> Reason:
    """Why a call to Enode failed; an HTTP answer keeps its status and Enode's own words."""
    if isinstance(err, EnodeApiError):
        words = ": ".join(part for part in (err.problem.title, err.problem.detail) if part)
        facts = {"status": str(err.status)} | ({"words": words} if words else {})
        return Reason(ReasonCode.ENODE_HTTP, facts)
    if isinstance(err, EnodeConnectionError | EnodeTimeoutError):
        return Reason(ReasonCode.ENODE_UNREACHABLE)
    # An answer that is not Enode's documented JSON, or a webhook that can't be read.
    return Reason(ReasonCode.ENODE_FAILED)


def action_failure_reason(failure: FailureReason) -> Reason:
    """How Enode says an action ended, with its own words when it gave any."""
    code = _FAILURE_REASONS.get(failure.type, ReasonCode.ENODE_ACTION_FAILED)
    return Reason(code, {"words": failure.detail} if failure.detail else {})


def _within(value: float | None, low: float, high: float) -> float | None:
    """The value when it is possible at all; None (unknown) for what no car reports."""
    return value if value is not None and low <= value <= high else None


# Bounds of what a car or charger can really report; outside them a value is unknown.
_MAX_CAPACITY_KWH = 1_000.0
_MAX_RANGE_KM = 5_000.0
_MAX_POWER_KW = 1_000.0
_MAX_MINUTES = 7 * 24 * 60.0
_MAX_ODOMETER_KM = 10_000_000.0
_MAX_CURRENT_A = 1_000.0
_MAX_INTERVENTIONS = 5


def _intervention_ids(capabilities: VehicleCapabilitySet | ChargerCapabilitySet) -> tuple[str, ...]:
    """Every intervention blocking one of the capabilities, each once, in order."""
    blocking = (getattr(capabilities, item.name).intervention_ids for item in fields(capabilities))
    unique = tuple(dict.fromkeys(ident for ids in blocking for ident in ids))
    # A device that real vendors block has one or two; more is not worth a repair issue each.
    return unique[:_MAX_INTERVENTIONS]


def _vendor_name(vendor: str | None) -> str | None:
    return vendor.replace("_", " ").title() if vendor else None


def vehicle_state_from(vehicle: EnodeVehicle) -> VehicleState:
    """The model's view of an Enode vehicle."""
    info, charge, place = vehicle.information, vehicle.charge_state, vehicle.location
    capabilities = vehicle.capabilities
    location = None
    latitude = _within(place.latitude, -90.0, 90.0)
    longitude = _within(place.longitude, -180.0, 180.0)
    if latitude is not None and longitude is not None:
        location = Location(latitude=latitude, longitude=longitude)
    return VehicleState(
        vehicle_id=vehicle.id,
        make=info.brand or _vendor_name(vehicle.vendor),
        model=info.model,
        year=info.year if info.year is not None and 1900 <= info.year <= 2200 else None,
        vin=info.vin,
        # Enode's null means "data delayed", not "offline"; only an explicit false is offline.
        online=vehicle.is_reachable is not False,
        battery_level_pct=_within(charge.battery_level, 0.0, 100.0),
        battery_capacity_kwh=_within(charge.battery_capacity_kwh, 0.1, _MAX_CAPACITY_KWH),
        range_km=_within(charge.range_km, 0.0, _MAX_RANGE_KM),
        charge_limit_pct=_within(charge.charge_limit_pct, 0.0, 100.0),
        is_plugged_in=charge.is_plugged_in,
        is_charging=charge.is_charging,
        is_fully_charged=charge.is_fully_charged,
        charge_rate_kw=_within(charge.charge_rate_kw, -_MAX_POWER_KW, _MAX_POWER_KW),
        charge_time_remaining_min=_within(charge.charge_time_remaining_min, 0.0, _MAX_MINUTES),
        odometer_km=_within(vehicle.odometer.distance_km, 0.0, _MAX_ODOMETER_KM),
        location=location,
        plugged_in_charger_id=charge.plugged_in_charger_id,
        last_seen=vehicle.last_seen,
        capabilities=VehicleCapabilities(
            can_start_stop=capabilities.start_charging.is_capable
            and capabilities.stop_charging.is_capable,
            # Enode has no command to change the car's charge limit.
            can_set_charge_limit=False,
            reports_location=capabilities.location.is_capable,
            # Enode reports discharging as a state only; there is no discharge command.
            can_discharge=False,
        ),
        display_name=info.display_name,
        location_id=place.id,
        power_delivery_state=charge.power_delivery_state.value,
        intervention_ids=_intervention_ids(capabilities),
    )


def charger_state_from(charger: EnodeCharger) -> ChargerState:
    """The model's view of an Enode charger."""
    info, charge, capabilities = charger.information, charger.charge_state, charger.capabilities
    return ChargerState(
        charger_id=charger.id,
        make=info.brand or _vendor_name(charger.vendor),
        model=info.model,
        serial_number=info.serial_number,
        online=charger.is_reachable is not False,
        is_plugged_in=charge.is_plugged_in,
        is_charging=charge.is_charging,
        charge_rate_kw=_within(charge.charge_rate_kw, -_MAX_POWER_KW, _MAX_POWER_KW),
        max_current_a=_within(charge.max_current_a, 0.0, _MAX_CURRENT_A),
        plugged_in_vehicle_id=charge.plugged_in_vehicle_id,
        last_seen=charger.last_seen,
        capabilities=ChargerCapabilities(
            can_start_stop=capabilities.start_charging.is_capable
            and capabilities.stop_charging.is_capable,
            can_set_max_current=capabilities.set_max_current.is_capable,
            can_discharge=False,
        ),
        location_id=charger.location.id,
        power_delivery_state=charge.power_delivery_state.value,
        intervention_ids=_intervention_ids(capabilities),
    )


def snapshot_from(
    vehicles: Iterable[EnodeVehicle], chargers: Iterable[EnodeCharger]
) -> AccountSnapshot:
    """One account snapshot from the vehicles and chargers of one Enode user."""
    vehicle_list, charger_list = list(vehicles), list(chargers)
    reports_ids = any(v.charge_state.reports_plugged_in_charger for v in vehicle_list) or any(
        c.charge_state.reports_plugged_in_vehicle for c in charger_list
    )
    return AccountSnapshot(
        vehicles={v.id: vehicle_state_from(v) for v in vehicle_list},
        chargers={c.id: charger_state_from(c) for c in charger_list},
        reports_plugged_in_ids=reports_ids,
    )


def command_kind_from(action: EnodeAction) -> CommandKind:
    """START/STOP for charge actions, SET_MAX_CURRENT otherwise."""
    if action.kind is ChargeKind.START:
        return CommandKind.START
    if action.kind is ChargeKind.STOP:
        return CommandKind.STOP
    return CommandKind.SET_MAX_CURRENT


def command_result_from(action: EnodeAction) -> CommandResult:
    """The model's view of an Enode action. An unknown state counts as still pending."""
    return CommandResult(
        command_id=action.id,
        kind=command_kind_from(action),
        target_id=action.target_id or "",
        state=_COMMAND_STATES.get(action.state, CommandState.PENDING),
        failure_reason=(
            action_failure_reason(action.failure_reason) if action.failure_reason else None
        ),
    )
