"""What the smart charging controller works with: settings, readings, state and decisions.

Plain typed data. Everything the controller must remember serialises to JSON (`to_dict` /
`from_dict`), so Home Assistant can store it and a restart loses nothing. The logic lives in
`controller.py` and its phases (`controller_*.py`); `controller.py` re-exports these names.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from enum import StrEnum
import math
from typing import Any

from .calendar_departures import CalendarDeparture, departures_from_list, departures_to_list
from .executor import DeviceTarget
from .learning import ChargeLearner, ChargeModel
from .model import ChargerState, VehicleState
from .planner import Plan, PlanRequest
from .planner.plan_reader import read_plan
from .soc_estimator import SocEstimate, SocEstimator

GRID_VOLTAGE_V = 230.0


class SmartChargingState(StrEnum):
    """The controller's state, with Enode's names."""

    DISABLED = "DISABLED"
    CONSIDERING = "CONSIDERING"
    STARTING = "PLAN:EXECUTING:STARTING"
    STARTED = "PLAN:EXECUTING:STARTED"
    STOPPING = "PLAN:EXECUTING:STOPPING"
    STOPPED = "PLAN:EXECUTING:STOPPED"
    STOPPED_AWAITING_PRICES = "PLAN:EXECUTING:STOPPED:AWAITING_PRICES"
    START_FAILED = "PLAN:EXECUTING:START_FAILED"
    STOP_FAILED = "PLAN:EXECUTING:STOP_FAILED"
    CHARGE_INTERRUPTED = "PLAN:EXECUTING:CHARGE_INTERRUPTED"
    # Someone else (an app, the car's own schedule) took over.
    OVERRIDDEN = "PLAN:EXECUTING:OVERRIDDEN"
    # The user asked to charge now: charging at once, whatever the plan says.
    CHARGING_NOW = "PLAN:EXECUTING:CHARGING_NOW"
    DISCHARGING = "PLAN:EXECUTING:DISCHARGING"
    ENDED_FINISHED = "PLAN:ENDED:FINISHED"
    ENDED_UNPLUGGED = "PLAN:ENDED:UNPLUGGED"
    ENDED_FAILED = "PLAN:ENDED:FAILED"
    ENDED_DISABLED = "PLAN:ENDED:DISABLED"
    ENDED_DEADLINE_CHANGED = "PLAN:ENDED:DEADLINE_CHANGED"
    FULLY_CHARGED = "FULLY_CHARGED"
    UNKNOWN = "UNKNOWN"

    @property
    def translation_key(self) -> str:
        """A key Home Assistant accepts for enum sensor states, e.g. plan_executing_started."""
        return self.value.lower().replace(":", "_")


class OverrideKind(StrEnum):
    """Who took over from the plan."""

    # Someone else started or stopped the charge.
    EXTERNAL = "external"
    # The user asked to charge now.
    CHARGE_NOW = "charge_now"


class EventKind(StrEnum):
    """Things the Home Assistant layer may want to announce."""

    PLAN_STARTED = "plan_started"
    PLAN_ENDED = "plan_ended"
    INTERFERENCE = "interference"
    DISCHARGE_STARTED = "discharge_started"
    SESSION_ENDED = "session_ended"


@dataclass(frozen=True, kw_only=True)
class ControllerEvent:
    """Something that happened in a step."""

    kind: EventKind
    at: datetime
    detail: str | None = None


# --------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True, kw_only=True)
class DepartureOverride:
    """A one-off departure for the next session, with its own target if given."""

    at: datetime
    target_soc_pct: float | None = None


@dataclass(frozen=True, kw_only=True)
class DischargeRequest:
    """A demand-response event: discharge at this power until then (within the reserve)."""

    power_kw: float
    until: datetime
    requested_at: datetime


def time_text(value: datetime | None) -> str | None:
    """A moment as stored (ISO 8601), or None."""
    return None if value is None else value.isoformat()


def time_value(value: Any) -> datetime | None:
    """A stored moment read back (ISO 8601 text or a datetime), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass(frozen=True, kw_only=True)
class ControllerSettings:
    """What the user chose for one vehicle. The controller never changes these."""

    # Off: the car simply charges whenever it is plugged in.
    smart_charging: bool = False
    # Daily departure (local time); a one-off override wins while it lies ahead.
    departure_time: time | None = time(7, 0)
    departure_override: DepartureOverride | None = None
    # Departures by weekday, Monday first (None: no departure that day). When set it takes the
    # place of the daily departure time.
    weekly_departures: tuple[time | None, ...] | None = None
    # Departures the chosen calendar's events set; on their days they replace the schedule's.
    calendar_departures: tuple[CalendarDeparture, ...] = ()
    target_soc_pct: float = 80.0
    # Below this the car charges at once, whatever the price.
    protective_soc_pct: float = 0.0
    v2g: bool = False
    reserve_soc_pct: float = 40.0
    # Discharge only in slots whose export price reaches this (None: wherever it pays).
    discharge_price_threshold: float | None = None
    discharge_wear_cost_per_kwh: float = 0.0
    discharge_requests: tuple[DischargeRequest, ...] = ()
    # Supply the home from the car during a grid outage.
    backup_on_outage: bool = False
    # Charge now until the target is reached or the car is unplugged.
    charge_now_requested_at: datetime | None = None
    # Overrides (charge now, someone else's start/stop) and discharge requests made before
    # this moment are cancelled.
    override_cancelled_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        override = self.departure_override
        return {
            "smart_charging": self.smart_charging,
            "departure_time": None
            if self.departure_time is None
            else self.departure_time.isoformat(timespec="minutes"),
            "departure_override": None
            if override is None
            else {"at": override.at.isoformat(), "target_soc_pct": override.target_soc_pct},
            "weekly_departures": None
            if self.weekly_departures is None
            else [
                None if day is None else day.isoformat(timespec="minutes")
                for day in self.weekly_departures
            ],
            "calendar_departures": departures_to_list(self.calendar_departures),
            "target_soc_pct": self.target_soc_pct,
            "protective_soc_pct": self.protective_soc_pct,
            "v2g": self.v2g,
            "reserve_soc_pct": self.reserve_soc_pct,
            "discharge_price_threshold": self.discharge_price_threshold,
            "discharge_wear_cost_per_kwh": self.discharge_wear_cost_per_kwh,
            "discharge_requests": [
                {
                    "power_kw": request.power_kw,
                    "until": request.until.isoformat(),
                    "requested_at": request.requested_at.isoformat(),
                }
                for request in self.discharge_requests
            ],
            "backup_on_outage": self.backup_on_outage,
            "charge_now_requested_at": time_text(self.charge_now_requested_at),
            "override_cancelled_at": time_text(self.override_cancelled_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ControllerSettings:
        """Read what `to_dict` wrote; missing keys take their defaults."""
        defaults = cls()
        override = data.get("departure_override")
        departure = data.get("departure_time", "07:00")
        weekly = data.get("weekly_departures")
        if weekly is not None and len(weekly) != 7:
            raise ValueError("weekly_departures needs one entry per weekday")
        threshold = data.get("discharge_price_threshold")
        return cls(
            smart_charging=bool(data.get("smart_charging", defaults.smart_charging)),
            departure_time=None if departure is None else time.fromisoformat(str(departure)),
            departure_override=None
            if override is None
            else DepartureOverride(
                at=datetime.fromisoformat(str(override["at"])),
                target_soc_pct=None
                if override.get("target_soc_pct") is None
                else float(override["target_soc_pct"]),
            ),
            weekly_departures=None
            if weekly is None
            else tuple(None if day is None else time.fromisoformat(str(day)) for day in weekly),
            calendar_departures=departures_from_list(data.get("calendar_departures", ())),
            target_soc_pct=float(data.get("target_soc_pct", defaults.target_soc_pct)),
            protective_soc_pct=float(data.get("protective_soc_pct", defaults.protective_soc_pct)),
            v2g=bool(data.get("v2g", defaults.v2g)),
            reserve_soc_pct=float(data.get("reserve_soc_pct", defaults.reserve_soc_pct)),
            discharge_price_threshold=None if threshold is None else float(threshold),
            discharge_wear_cost_per_kwh=float(
                data.get("discharge_wear_cost_per_kwh", defaults.discharge_wear_cost_per_kwh)
            ),
            discharge_requests=tuple(
                DischargeRequest(
                    power_kw=float(item["power_kw"]),
                    until=datetime.fromisoformat(str(item["until"])),
                    requested_at=datetime.fromisoformat(str(item["requested_at"])),
                )
                for item in data.get("discharge_requests", ())
            ),
            backup_on_outage=bool(data.get("backup_on_outage", False)),
            charge_now_requested_at=time_value(data.get("charge_now_requested_at")),
            override_cancelled_at=time_value(data.get("override_cancelled_at")),
        )


def _percent(value: float, default: float) -> float:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return default
    return min(100.0, max(0.0, float(value)))


def sanitized(settings: ControllerSettings) -> ControllerSettings:
    """Settings clamped to what makes sense, so no user input can break a step."""
    override = settings.departure_override
    if override is not None and override.target_soc_pct is not None:
        override = replace(
            override, target_soc_pct=_percent(override.target_soc_pct, settings.target_soc_pct)
        )
    threshold = settings.discharge_price_threshold
    if threshold is not None and not math.isfinite(threshold):
        threshold = None
    wear = settings.discharge_wear_cost_per_kwh
    requests = tuple(
        request
        for request in settings.discharge_requests
        if math.isfinite(request.power_kw) and request.power_kw > 0
    )
    calendar = tuple(
        replace(item, target_soc_pct=_percent(item.target_soc_pct, settings.target_soc_pct))
        for item in settings.calendar_departures
    )
    return replace(
        settings,
        departure_override=override,
        calendar_departures=calendar,
        target_soc_pct=_percent(settings.target_soc_pct, 80.0),
        protective_soc_pct=_percent(settings.protective_soc_pct, 0.0),
        reserve_soc_pct=_percent(settings.reserve_soc_pct, 40.0),
        discharge_price_threshold=threshold,
        discharge_wear_cost_per_kwh=wear if math.isfinite(wear) and wear >= 0 else 0.0,
        discharge_requests=requests,
    )


# --------------------------------------------------------------------------------------------
# Readings


@dataclass(frozen=True, kw_only=True)
class Observation:
    """What the car and charger report right now, as the controller needs it."""

    plugged_in: bool | None = None
    # Supplied by the caller (zone check); smart charging only acts at a charging location.
    at_charging_location: bool = True
    soc_pct: float | None = None
    # When the car measured `soc_pct`; None if the account doesn't say.
    soc_reported_at: datetime | None = None
    capacity_kwh: float | None = None
    # The car's own charge limit.
    charge_limit_pct: float | None = None
    charging: bool | None = None
    # Grid power at the charger: positive into the car, negative while discharging.
    power_kw: float | None = None
    # A cumulative energy meter of the charger, if it has one.
    energy_meter_kwh: float | None = None
    fully_charged: bool | None = None
    # When the cable went in, if the account says.
    plugged_in_at: datetime | None = None
    # What the hardware claims: charge power, and discharge power (0 without V2G hardware).
    advertised_charge_kw: float | None = None
    max_discharge_kw: float = 0.0
    grid_outage: bool = False

    @classmethod
    def from_states(
        cls,
        vehicle: VehicleState | None,
        charger: ChargerState | None,
        *,
        at_charging_location: bool,
        advertised_charge_kw: float | None = None,
        max_discharge_kw: float | None = None,
        grid_outage: bool = False,
    ) -> Observation:
        """Combine a paired vehicle and charger (either may be missing or offline)."""
        if vehicle is not None and not vehicle.online:
            vehicle = None
        if charger is not None and not charger.online:
            charger = None
        plugged: bool | None = None
        if vehicle is not None and vehicle.is_plugged_in is not None:
            plugged = vehicle.is_plugged_in
        elif charger is not None:
            plugged = charger.is_plugged_in
        power: float | None = None
        charging: bool | None = None
        if charger is not None and charger.charge_rate_kw is not None:
            power = charger.charge_rate_kw
            charging = charger.is_charging
        elif vehicle is not None:
            power = vehicle.charge_rate_kw
            charging = vehicle.is_charging
        if charging is None and vehicle is not None:
            charging = vehicle.is_charging
        if (
            advertised_charge_kw is None
            and charger is not None
            and charger.max_current_a is not None
            and charger.phases is not None
        ):
            advertised_charge_kw = charger.max_current_a * charger.phases * GRID_VOLTAGE_V / 1000.0
        if max_discharge_kw is None:
            can_discharge = (
                charger is not None
                and charger.capabilities.can_discharge
                and vehicle is not None
                and vehicle.capabilities.can_discharge
            )
            max_discharge_kw = (advertised_charge_kw or 0.0) if can_discharge else 0.0
        return cls(
            plugged_in=plugged,
            at_charging_location=at_charging_location,
            soc_pct=None if vehicle is None else vehicle.battery_level_pct,
            soc_reported_at=None if vehicle is None else vehicle.last_seen,
            capacity_kwh=None if vehicle is None else vehicle.battery_capacity_kwh,
            charge_limit_pct=None if vehicle is None else vehicle.charge_limit_pct,
            charging=charging,
            power_kw=power,
            fully_charged=None if vehicle is None else vehicle.is_fully_charged,
            plugged_in_at=(vehicle.plugged_in_at if vehicle is not None else None)
            or (charger.plugged_in_at if charger is not None else None),
            advertised_charge_kw=advertised_charge_kw,
            max_discharge_kw=max_discharge_kw,
            grid_outage=grid_outage,
        )


# --------------------------------------------------------------------------------------------
# Persistent state


@dataclass(frozen=True, kw_only=True)
class SessionSummary:
    """Energy and money of one plug-in session."""

    started_at: datetime
    ended_at: datetime
    energy_in_kwh: float
    energy_out_kwh: float
    cost: float
    revenue: float
    # What charging at once (to the same target) would have cost.
    charge_now_cost: float

    @property
    def savings(self) -> float:
        """Money saved against charging at once (revenue from V2G included)."""
        return self.charge_now_cost - (self.cost - self.revenue)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "energy_in_kwh": self.energy_in_kwh,
            "energy_out_kwh": self.energy_out_kwh,
            "cost": self.cost,
            "revenue": self.revenue,
            "charge_now_cost": self.charge_now_cost,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionSummary:
        """Read what `to_dict` wrote."""
        return cls(
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(data["ended_at"]),
            energy_in_kwh=float(data["energy_in_kwh"]),
            energy_out_kwh=float(data["energy_out_kwh"]),
            cost=float(data["cost"]),
            revenue=float(data["revenue"]),
            charge_now_cost=float(data["charge_now_cost"]),
        )


@dataclass(kw_only=True)
class Totals:
    """Running totals over all sessions."""

    energy_in_kwh: float = 0.0
    energy_out_kwh: float = 0.0
    cost: float = 0.0
    revenue: float = 0.0
    savings: float = 0.0
    sessions: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "energy_in_kwh": self.energy_in_kwh,
            "energy_out_kwh": self.energy_out_kwh,
            "cost": self.cost,
            "revenue": self.revenue,
            "savings": self.savings,
            "sessions": self.sessions,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Totals:
        """Read what `to_dict` wrote."""
        return cls(
            energy_in_kwh=float(data.get("energy_in_kwh", 0.0)),
            energy_out_kwh=float(data.get("energy_out_kwh", 0.0)),
            cost=float(data.get("cost", 0.0)),
            revenue=float(data.get("revenue", 0.0)),
            savings=float(data.get("savings", 0.0)),
            sessions=int(data.get("sessions", 0)),
        )


@dataclass(kw_only=True)
class Session:
    """The current plug-in session."""

    started_at: datetime
    # The departure and target in force, and the moment they were resolved from.
    departure: datetime | None = None
    target_soc_pct: float = 80.0
    resolved_at: datetime | None = None
    plan_active: bool = False
    plan_finished: bool = False
    energy_in_kwh: float = 0.0
    energy_out_kwh: float = 0.0
    cost: float = 0.0
    revenue: float = 0.0
    # The charge-at-once baseline: energy it still has to buy, and what it paid so far.
    baseline_remaining_kwh: float | None = None
    baseline_cost: float = 0.0
    reasserts: int = 0
    last_reassert_at: datetime | None = None
    # A short charge to measure the real power where the model only guesses.
    probe_started_at: datetime | None = None
    probe_done: bool = False
    # SoC reports made before this are from before the plug-in (None: trust any report).
    reports_valid_from: datetime | None = None
    # Fell behind: charging flat out until the cautious SoC reaches the target (no flapping).
    catching_up: bool = False
    # The demand-response request (its time) that already discharged down to the reserve.
    demand_response_done: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "probe_started_at": time_text(self.probe_started_at),
            "probe_done": self.probe_done,
            "reports_valid_from": time_text(self.reports_valid_from),
            "catching_up": self.catching_up,
            "demand_response_done": time_text(self.demand_response_done),
            "started_at": self.started_at.isoformat(),
            "departure": time_text(self.departure),
            "target_soc_pct": self.target_soc_pct,
            "resolved_at": time_text(self.resolved_at),
            "plan_active": self.plan_active,
            "plan_finished": self.plan_finished,
            "energy_in_kwh": self.energy_in_kwh,
            "energy_out_kwh": self.energy_out_kwh,
            "cost": self.cost,
            "revenue": self.revenue,
            "baseline_remaining_kwh": self.baseline_remaining_kwh,
            "baseline_cost": self.baseline_cost,
            "reasserts": self.reasserts,
            "last_reassert_at": time_text(self.last_reassert_at),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        """Read what `to_dict` wrote."""
        remaining = data.get("baseline_remaining_kwh")
        return cls(
            probe_started_at=time_value(data.get("probe_started_at")),
            probe_done=bool(data.get("probe_done", False)),
            reports_valid_from=time_value(data.get("reports_valid_from")),
            catching_up=bool(data.get("catching_up", False)),
            demand_response_done=time_value(data.get("demand_response_done")),
            started_at=datetime.fromisoformat(data["started_at"]),
            departure=time_value(data.get("departure")),
            target_soc_pct=float(data.get("target_soc_pct", 80.0)),
            resolved_at=time_value(data.get("resolved_at")),
            plan_active=bool(data.get("plan_active", False)),
            plan_finished=bool(data.get("plan_finished", False)),
            energy_in_kwh=float(data.get("energy_in_kwh", 0.0)),
            energy_out_kwh=float(data.get("energy_out_kwh", 0.0)),
            cost=float(data.get("cost", 0.0)),
            revenue=float(data.get("revenue", 0.0)),
            baseline_remaining_kwh=None if remaining is None else float(remaining),
            baseline_cost=float(data.get("baseline_cost", 0.0)),
            reasserts=int(data.get("reasserts", 0)),
            last_reassert_at=time_value(data.get("last_reassert_at")),
        )

    def copy(self) -> Session:
        """An independent copy (all members are immutable values)."""
        return replace(self)


@dataclass(frozen=True, kw_only=True)
class Override:
    """An active override and since when."""

    kind: OverrideKind
    since: datetime


@dataclass(kw_only=True)
class ControllerState:
    """Everything the controller remembers between steps and across restarts."""

    status: SmartChargingState = SmartChargingState.UNKNOWN
    status_changed_at: datetime | None = None
    session: Session | None = None
    # The plan the car follows, its request (without the prices, which the plan's slots
    # show), the key of its inputs, the SoC it started from and when.
    plan: Plan | None = None
    plan_request: PlanRequest | None = None
    plan_key: str | None = None
    plan_soc_pct: float | None = None
    plan_made_at: datetime | None = None
    estimator: SocEstimator = field(default_factory=SocEstimator)
    learner: ChargeLearner = field(default_factory=ChargeLearner)
    override: Override | None = None
    # The charge-now request (its timestamp) that has been carried out or ended.
    charge_now_done_for: datetime | None = None
    interference_times: list[datetime] = field(default_factory=list)
    contradiction_since: datetime | None = None
    # The confirmation time of the command during which power was last seen flowing.
    power_seen_for: datetime | None = None
    ended: tuple[SmartChargingState, datetime] | None = None
    last_outcome: tuple[SmartChargingState, datetime] | None = None
    last_step_at: datetime | None = None
    # The plug state last reported (None: never known), to tell a plug-in from first sight.
    last_plugged: bool | None = None
    last_action: DeviceTarget | None = None
    last_session: SessionSummary | None = None
    totals: Totals = field(default_factory=Totals)

    def copy(self) -> ControllerState:
        """A copy that a step may change without touching this one."""
        return replace(
            self,
            session=None if self.session is None else self.session.copy(),
            estimator=self.estimator.copy(),
            learner=self.learner.copy(),
            interference_times=list(self.interference_times),
            totals=replace(self.totals),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "status": self.status.value,
            "status_changed_at": time_text(self.status_changed_at),
            "session": None if self.session is None else self.session.to_dict(),
            "plan": None if self.plan is None else self.plan.to_dict(),
            "plan_request": None
            if self.plan_request is None
            else _without_prices(self.plan_request.to_dict()),
            "plan_key": self.plan_key,
            "plan_soc_pct": self.plan_soc_pct,
            "plan_made_at": time_text(self.plan_made_at),
            "estimator": self.estimator.to_dict(),
            "learner": self.learner.to_dict(),
            "override": None
            if self.override is None
            else {"kind": self.override.kind.value, "since": self.override.since.isoformat()},
            "charge_now_done_for": time_text(self.charge_now_done_for),
            "interference_times": [moment.isoformat() for moment in self.interference_times],
            "contradiction_since": time_text(self.contradiction_since),
            "power_seen_for": time_text(self.power_seen_for),
            "ended": None
            if self.ended is None
            else [self.ended[0].value, self.ended[1].isoformat()],
            "last_outcome": None
            if self.last_outcome is None
            else [self.last_outcome[0].value, self.last_outcome[1].isoformat()],
            "last_step_at": time_text(self.last_step_at),
            "last_plugged": self.last_plugged,
            "last_action": None if self.last_action is None else self.last_action.to_dict(),
            "last_session": None if self.last_session is None else self.last_session.to_dict(),
            "totals": self.totals.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ControllerState:
        """Read what `to_dict` wrote."""
        session = data.get("session")
        override = data.get("override")
        ended = data.get("ended")
        outcome = data.get("last_outcome")
        last_action = data.get("last_action")
        last_session = data.get("last_session")
        plan_soc = data.get("plan_soc_pct")
        plan = data.get("plan")
        plan_request = data.get("plan_request")
        return cls(
            status=SmartChargingState(data.get("status", SmartChargingState.UNKNOWN.value)),
            status_changed_at=time_value(data.get("status_changed_at")),
            session=None if session is None else Session.from_dict(session),
            plan=None if plan is None else read_plan(plan),
            plan_request=None if plan_request is None else PlanRequest.from_dict(plan_request),
            plan_key=data.get("plan_key"),
            plan_soc_pct=None if plan_soc is None else float(plan_soc),
            plan_made_at=time_value(data.get("plan_made_at")),
            estimator=SocEstimator.from_dict(data.get("estimator", {})),
            learner=ChargeLearner.from_dict(data.get("learner", {})),
            override=None
            if override is None
            else Override(
                kind=OverrideKind(override["kind"]),
                since=datetime.fromisoformat(override["since"]),
            ),
            charge_now_done_for=time_value(data.get("charge_now_done_for")),
            interference_times=[
                datetime.fromisoformat(moment) for moment in data.get("interference_times", [])
            ],
            contradiction_since=time_value(data.get("contradiction_since")),
            power_seen_for=time_value(data.get("power_seen_for")),
            ended=None
            if ended is None
            else (SmartChargingState(ended[0]), datetime.fromisoformat(ended[1])),
            last_outcome=None
            if outcome is None
            else (SmartChargingState(outcome[0]), datetime.fromisoformat(outcome[1])),
            last_step_at=time_value(data.get("last_step_at")),
            last_plugged=None if data.get("last_plugged") is None else bool(data["last_plugged"]),
            last_action=None if last_action is None else DeviceTarget.from_dict(last_action),
            last_session=None if last_session is None else SessionSummary.from_dict(last_session),
            totals=Totals.from_dict(data.get("totals", {})),
        )


def _without_prices(request: Mapping[str, Any]) -> dict[str, Any]:
    """What a plan was made from, apart from the prices (its slots show those)."""
    return {key: value for key, value in request.items() if key != "prices"}


# --------------------------------------------------------------------------------------------
# The answer of a step


@dataclass(frozen=True, kw_only=True)
class Considerations:
    """Enode's consideration flags: all must hold before a plan is made."""

    plugged_in: bool
    at_charging_location: bool
    has_time_estimate: bool
    has_prices: bool

    def as_dict(self) -> dict[str, bool]:
        """For entity attributes."""
        return {
            "plugged_in": self.plugged_in,
            "at_charging_location": self.at_charging_location,
            "has_time_estimate": self.has_time_estimate,
            "has_prices": self.has_prices,
        }


@dataclass(frozen=True, kw_only=True)
class Decision:
    """Everything one step concluded."""

    state: ControllerState
    status: SmartChargingState
    status_changed_at: datetime
    considerations: Considerations
    # What the EV system should do now; None means hands off (send nothing).
    action: DeviceTarget | None
    # A short machine-readable reason for the action (e.g. "plan", "behind", "protective").
    reason: str
    soc: SocEstimate | None
    departure: datetime | None
    target_soc_pct: float | None
    next_start: datetime | None
    next_stop: datetime | None
    estimated_cost: float | None
    charge_now_cost: float | None
    expected_soc_at_departure_pct: float | None
    shortfall_pct: float | None
    plan: Plan | None
    # The plan uses guessed prices (the known ones a day earlier) from here to the departure.
    prices_guessed_after: datetime | None
    override: OverrideKind | None
    model: ChargeModel
    wake_at: datetime
    events: tuple[ControllerEvent, ...] = ()
    # The executor should forget what it got confirmed and send the action again.
    reassert: bool = False
    # Someone else started or stopped the charge this often in the last 14 days (three times or
    # more: again and again); diagnostics show it.
    repeated_interference: bool = False
    interference_count: int = 0
