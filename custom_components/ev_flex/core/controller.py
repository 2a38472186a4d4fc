"""The per-vehicle smart charging and V2G controller.

`step()` is a pure function: given the time, what the car and charger report, the prices, the
user's settings, the controller's persisted state and what the executor has got confirmed, it
returns a `Decision`: the new state, the smart charging state (Enode's names), what the EV system
should do now, the plan and its numbers, and when the controller next needs to run.

A step runs its phases in order on one scratch `Work` (controller_work.py):
- observe (controller_observe.py): the energy since the last step, the car's SoC report, what
  they teach about power, taper and efficiency, and the SoC now;
- prices (controller_plan.py): the known slots from the one holding now;
- session and departure (controller_session.py): plug-in and unplug, the session's energy and
  money, the departure and target, passed or changed;
- hands off (controller_actions.py) without readings, with smart charging off, unplugged or away;
- overrides and interference (controller_actions.py, interference.py): a cancel ends an
  override; someone else's start or stop is noticed;
- plan (controller_plan.py): a `PlanRequest` in, a `Plan` out, on prices guessed up to the
  departure, made again only when its inputs moved;
- guards (controller_guards.py): charge now when behind or below the protective minimum; a probe
  where the power is a guess; hold while the car's first report is awaited;
- overrides, demand response, and the action (controller_actions.py).

`VehicleController` wraps `step()` together with a `CommandExecutor` for the Home Assistant layer
and serialises everything (`to_dict`/`from_dict`) so a restart loses nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from .controller_actions import (
    choose_action,
    demand_response,
    follow_overrides,
    not_steering,
    notice_overrides,
)
from .controller_data import (
    Considerations,
    ControllerEvent,
    ControllerSettings,
    ControllerState,
    Decision,
    DepartureOverride,
    DischargeRequest,
    EventKind,
    Observation,
    Override,
    OverrideKind,
    Session,
    SessionSummary,
    SmartChargingState,
    Totals,
    sanitized,
)
from .controller_guards import check_guards, hold_for_soc_report, settle_starting_point
from .controller_observe import (
    advertised_kw,
    estimate_soc,
    learn_power,
    observe_meters,
)
from .controller_plan import (
    Planner,
    PlanPendingError,
    display_request,
    make_plan,
    read_prices,
    wait_for_plan,
)
from .controller_session import (
    calendar_event_at,
    follow_departure,
    follow_plug,
    resolve_departure,
    week_of,
)
from .controller_work import (
    AWAITING_CONFIRMATION,
    MAX_WAKE_PLUGGED,
    MAX_WAKE_UNPLUGGED,
    Outcome,
    Work,
)
from .executor import CommandExecutor, DeviceMode, ExecutionStatus, ExecutorState
from .interference import REPEATED_INTERFERENCE_COUNT, REPEATED_INTERFERENCE_WINDOW
from .plan_request import PricedInterval
from .planner import Plan, PlanRequest, plan as make_plan_now
from .soc_estimator import SocEstimate
from .stored import read_fields

STORAGE_VERSION = 1
# Ended plan states stay visible at least this long.
ENDED_HOLD = timedelta(minutes=1)
# Demand-response discharges that may wait at once (each is a request of its own).
MAX_DISCHARGE_REQUESTS = 10


def step(
    *,
    now: datetime,
    observation: Observation,
    prices: Sequence[PricedInterval],
    settings: ControllerSettings,
    state: ControllerState,
    executor: ExecutorState,
    tz: tzinfo,
    planner: Planner = make_plan_now,
) -> Decision:
    """One pass of the controller; pure: `state` and `executor` are not changed."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    new_state = state.copy()
    advertised = advertised_kw(observation)
    work = Work(
        now=now,
        tz=tz,
        settings=sanitized(settings),
        state=new_state,
        executor=executor,
        observation=observation,
        model=new_state.learner.model(advertised_kw=advertised, now=now),
        advertised_kw=advertised,
    )
    observe_meters(work)
    read_prices(work, prices)
    follow_plug(work)
    learn_power(work)
    estimate_soc(work)
    soc = work.soc
    considerations = Considerations(
        plugged_in=observation.plugged_in is True,
        at_charging_location=observation.at_charging_location,
        has_time_estimate=soc is not None and not work.waiting_for_soc,
        has_prices=bool(work.slots),
    )
    return _conclude(work, _decide(work, planner), soc, considerations)


def _decide(work: Work, planner: Planner) -> Outcome:
    """The phases after observing, in order; the first that settles the action ends it."""
    hands_off = not_steering(work)
    if hands_off is not None:
        return hands_off
    session = work.state.session
    assert session is not None  # not_steering keeps its hands off without one
    follow_departure(work, session)
    notice_overrides(work)
    settle_starting_point(work, session)
    make_plan(work, session, planner)
    check_guards(work, session)
    for phase in (follow_overrides, wait_for_plan, hold_for_soc_report, demand_response):
        outcome = phase(work, session)
        if outcome is not None:
            return outcome
    return choose_action(work, session)


def _conclude(
    work: Work, outcome: Outcome, soc: SocEstimate | None, considerations: Considerations
) -> Decision:
    """The state to keep, when to wake, and the decision with the plan's numbers."""
    state, executor, now = work.state, work.executor, work.now
    status, action, reason = outcome.status, outcome.action, outcome.reason
    in_flight = executor.in_flight
    if in_flight is not None:
        # A command is on its way (some vendors take half an hour): say so, and look again
        # when it is due to be checked.
        if in_flight.target == action:
            reason = AWAITING_CONFIRMATION
        if in_flight.next_check_at is not None:
            work.wake_at(in_flight.next_check_at)
    # Ended plan states stay visible for a moment.
    if state.ended is not None:
        ended_state, ended_at = state.ended
        if now < ended_at + ENDED_HOLD:
            status = ended_state
            work.wake_at(ended_at + ENDED_HOLD)
        else:
            state.ended = None
    if status is not state.status or state.status_changed_at is None:
        state.status = status
        state.status_changed_at = now
    previous_mode = None if state.last_action is None else state.last_action.mode
    if (
        action is not None
        and action.mode is DeviceMode.DISCHARGE
        and previous_mode is not DeviceMode.DISCHARGE
    ):
        work.event(EventKind.DISCHARGE_STARTED, f"{action.power_kw:g}")
    if action is not None:
        state.last_action = action
    state.last_step_at = now
    if executor.retry_not_before is not None:
        work.wake_at(executor.retry_not_before)
    longest_sleep = MAX_WAKE_PLUGGED if work.observation.plugged_in else MAX_WAKE_UNPLUGGED
    recent = [t for t in state.interference_times if now - t <= REPEATED_INTERFERENCE_WINDOW]
    session = state.session
    return Decision(
        state=state,
        status=status,
        status_changed_at=state.status_changed_at or now,
        considerations=considerations,
        action=action,
        reason=reason,
        soc=soc,
        departure=None if session is None else session.departure,
        target_soc_pct=None if session is None else session.target_soc_pct,
        next_start=outcome.next_start,
        next_stop=outcome.next_stop,
        estimated_cost=outcome.estimated_cost,
        charge_now_cost=outcome.charge_now_cost,
        expected_soc_at_departure_pct=outcome.expected_soc,
        shortfall_pct=outcome.shortfall,
        plan=state.plan,
        prices_guessed_after=outcome.prices_guessed_after,
        override=None if state.override is None else state.override.kind,
        model=work.model,
        wake_at=min([now + longest_sleep, *work.wake]),
        events=tuple(work.events),
        reassert=work.reassert,
        repeated_interference=len(recent) >= REPEATED_INTERFERENCE_COUNT,
        interference_count=len(recent),
    )


# --------------------------------------------------------------------------------------------
# The controller with its executor, for the Home Assistant layer


class VehicleController:
    """One vehicle's controller: settings, state, executor, and the latest decision."""

    def __init__(
        self,
        *,
        executor: CommandExecutor,
        tz: tzinfo = UTC,
        settings: ControllerSettings | None = None,
        state: ControllerState | None = None,
        planner: Planner = make_plan_now,
    ) -> None:
        self.executor = executor
        self.tz = tz
        self.settings = settings or ControllerSettings()
        self.state = state or ControllerState()
        self.planner = planner
        self.decision: Decision | None = None

    # Settings changes (the HA layer's entities and actions)

    def set_departure(self, at: datetime, target_soc_pct: float | None = None) -> None:
        """A one-off departure (and target) for the next session."""
        self.settings = replace(
            self.settings,
            departure_override=DepartureOverride(at=at, target_soc_pct=target_soc_pct),
        )

    def set_weekly_departures(self, schedule: Sequence[time | None] | None) -> None:
        """Departures by weekday (Monday first), or None to go back to the daily time."""
        if schedule is not None and len(schedule) != 7:
            raise ValueError("a weekly schedule has seven days")
        self.settings = replace(
            self.settings, weekly_departures=None if schedule is None else tuple(schedule)
        )

    def charge_now(self, now: datetime) -> None:
        """Charge at once until the target is reached or the car is unplugged."""
        self.settings = replace(self.settings, charge_now_requested_at=now)

    def cancel_override(self, now: datetime) -> None:
        """End charge-now, a third party's override and demand-response discharges."""
        self.settings = replace(
            self.settings, override_cancelled_at=now, charge_now_requested_at=None
        )
        self.executor.clear_failure()

    def _live_discharge_requests(self, now: datetime) -> tuple[DischargeRequest, ...]:
        cancelled_at = self.settings.override_cancelled_at
        return tuple(
            request
            for request in self.settings.discharge_requests
            if request.until > now and (cancelled_at is None or request.requested_at > cancelled_at)
        )

    def pending_discharge_requests(self, now: datetime) -> int:
        """How many demand-response discharges have neither ended nor been cancelled."""
        return len(self._live_discharge_requests(now))

    def request_discharge(self, now: datetime, power_kw: float, duration: timedelta) -> None:
        """A demand-response discharge; ended and cancelled requests are dropped, and beyond
        MAX_DISCHARGE_REQUESTS the oldest."""
        live = self._live_discharge_requests(now)
        request = DischargeRequest(power_kw=power_kw, until=now + duration, requested_at=now)
        kept = (*live, request)[-MAX_DISCHARGE_REQUESTS:]
        self.settings = replace(self.settings, discharge_requests=kept)

    # The loop

    def update(
        self, now: datetime, observation: Observation, prices: Sequence[PricedInterval]
    ) -> Decision:
        """Run one step with fresh readings and prices."""
        decision = step(
            now=now,
            observation=observation,
            prices=prices,
            settings=self.settings,
            state=self.state,
            executor=self.executor.state,
            tz=self.tz,
            planner=self.planner,
        )
        self.state = decision.state
        if decision.reassert:
            self.executor.invalidate()
        self.decision = decision
        return decision

    def followed_plan(self) -> tuple[PlanRequest, Plan] | None:
        """The request (without prices) and plan the car follows now; None when it follows
        none (smart charging off, unplugged, no reading yet)."""
        if self.state.plan is None or self.state.plan_request is None:
            return None
        return self.state.plan_request, self.state.plan

    def display_request(
        self, now: datetime, observation: Observation, prices: Sequence[PricedInterval]
    ) -> PlanRequest | None:
        """The request (with its prices) the car would plan with now, to show the plan the
        same inputs give. None without a battery size, a SoC or prices."""
        return display_request(
            now, observation, prices, sanitized(self.settings), self.state, self.tz
        )

    async def async_execute(self) -> ExecutionStatus:
        """Carry out the latest decision's action (hands off when it is None)."""
        if self.decision is None:
            return ExecutionStatus.NOT_SENT
        return await self.executor.async_apply(self.decision.action)

    # Persistence

    def to_dict(self) -> dict[str, Any]:
        """Everything to store: settings, state and the executor's knowledge."""
        return {
            "version": STORAGE_VERSION,
            "settings": self.settings.to_dict(),
            "state": self.state.to_dict(),
            "executor": self.executor.state.to_dict(),
        }

    def restore(self, data: object) -> list[str]:
        """Continue from what `to_dict` wrote (settings, state and executor).

        Parts that cannot be read start afresh; returns their names ("settings.v2g",
        "state.*"), or ["*"] for a store of another version or shape.
        """
        if not isinstance(data, Mapping) or data.get("version") != STORAGE_VERSION:
            return ["*"]
        self.settings, settings_reset = read_fields(
            data.get("settings", {}), ControllerSettings.from_dict, ControllerSettings.to_dict
        )
        self.state, state_reset = read_fields(
            data.get("state", {}),
            ControllerState.from_dict,
            ControllerState.to_dict,
        )
        self.executor.state, executor_reset = read_fields(
            data.get("executor", {}), ExecutorState.from_dict, ExecutorState.to_dict
        )
        return [
            f"{section}.{name}"
            for section, names in (
                ("settings", settings_reset),
                ("state", state_reset),
                ("executor", executor_reset),
            )
            for name in names
        ]


__all__ = [
    "Considerations",
    "ControllerEvent",
    "ControllerSettings",
    "ControllerState",
    "Decision",
    "DepartureOverride",
    "DischargeRequest",
    "EventKind",
    "Observation",
    "Override",
    "OverrideKind",
    "PlanPendingError",
    "Planner",
    "Session",
    "SessionSummary",
    "SmartChargingState",
    "Totals",
    "VehicleController",
    "calendar_event_at",
    "resolve_departure",
    "step",
    "week_of",
]
