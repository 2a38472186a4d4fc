"""The scratch space of one controller step, and what its phases share.

A step (`controller.step`) runs its phases in order on one `Work`: each reads what the earlier
ones left there and adds its own findings. `Outcome` is what the step concludes: the smart
charging state, the action, its reason and the plan's numbers.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from .controller_data import (
    ControllerEvent,
    ControllerSettings,
    ControllerState,
    EventKind,
    Observation,
    Session,
    SmartChargingState,
)
from .executor import IDLE, DeviceMode, DeviceTarget, ExecutionStatus, ExecutorState
from .learning import ChargeModel
from .planner import PriceSlot
from .soc_estimator import SocEstimate

# Power at the charger above which the car counts as charging (and below minus it, discharging).
POWER_ON_KW = 0.2
# A target counts as reached this close to it (cars report whole percent; this only keeps the
# last few watt-hours of a plan's rounding from starting another charge).
TARGET_TOLERANCE_PCT = 0.05
# The controller wants to run at least this often.
MAX_WAKE_PLUGGED = timedelta(minutes=15)
MAX_WAKE_UNPLUGGED = timedelta(hours=1)
# Safety margins of the "charge now if behind" check.
BEHIND_TIME_FACTOR = 1.03
BEHIND_FIXED_MARGIN = timedelta(minutes=3)
BEHIND_POWER_SHARE = 0.97
# The reason while the devices have not yet confirmed the command for the current action.
AWAITING_CONFIRMATION = "awaiting_confirmation"


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A switch-on interval of the plan, in one mode."""

    start: datetime
    end: datetime
    mode: DeviceMode
    kw: float


@dataclass(kw_only=True)
class Outcome:
    """What a step concluded, with the plan's numbers."""

    status: SmartChargingState
    action: DeviceTarget | None
    reason: str
    next_start: datetime | None = None
    next_stop: datetime | None = None
    estimated_cost: float | None = None
    charge_now_cost: float | None = None
    expected_soc: float | None = None
    shortfall: float | None = None
    prices_guessed_after: datetime | None = None


@dataclass(kw_only=True)
class Work:
    """Scratch space of one step."""

    now: datetime
    tz: tzinfo
    settings: ControllerSettings
    state: ControllerState
    executor: ExecutorState
    observation: Observation
    model: ChargeModel
    advertised_kw: float
    events: list[ControllerEvent] = field(default_factory=list)
    wake: list[datetime] = field(default_factory=list)
    reassert: bool = False
    # Observe: what flowed since the last step, the battery and the SoC.
    power_kw: float | None = None
    energy_in_kwh: float = 0.0
    energy_out_kwh: float = 0.0
    previous_kw: float | None = None
    previous_at: datetime | None = None
    capacity: float | None = None
    power_sampled: bool = False
    soc: SocEstimate | None = None
    waiting_for_soc: bool = False
    provisional_pct: float = 0.0
    # Prices: known slots from the one holding now, and those that ended (for guesses).
    slots: list[PriceSlot] = field(default_factory=list)
    past_slots: list[PriceSlot] = field(default_factory=list)
    # The session's departure and target, and what the car's limit lets it reach.
    departure: datetime | None = None
    target: float = 0.0
    reachable_target: float = 0.0
    max_soc: float = 100.0
    # The car reports on a known rhythm while a first report after the plug-in is awaited.
    rhythm_known: bool = False
    # A charge that was started but gives no power.
    interrupted: bool = False
    # The plan's switch-on intervals, its numbers, and whether it waits for prices.
    outcome: Outcome = field(
        default_factory=lambda: Outcome(
            status=SmartChargingState.CONSIDERING, action=IDLE, reason="considering"
        )
    )
    intervals: list[Interval] = field(default_factory=list)
    awaiting_prices: bool = False
    # The plan asked for is being made elsewhere (off the event loop); the previous one holds.
    plan_pending: bool = False
    # Guards: behind the target's schedule, below the protective minimum.
    behind: bool = False
    below_protective: bool = False
    cautious_soc: float = 0.0
    charge_hours: float | None = None
    need_more: bool = False
    probe: bool = False

    def event(self, kind: EventKind, detail: str | None = None) -> None:
        """Something the Home Assistant layer may want to announce."""
        self.events.append(ControllerEvent(kind=kind, at=self.now, detail=detail))

    def wake_at(self, moment: datetime | None) -> None:
        """Ask to run again at `moment` (if it lies ahead)."""
        if moment is not None and moment > self.now:
            self.wake.append(moment)


def end_plan(work: Work, outcome: SmartChargingState) -> None:
    """The session's plan ends with this outcome (shown a moment, announced)."""
    session = work.state.session
    if session is None or not session.plan_active:
        return
    session.plan_active = False
    session.plan_finished = outcome is SmartChargingState.ENDED_FINISHED
    work.state.ended = (outcome, work.now)
    work.state.last_outcome = (outcome, work.now)
    work.event(EventKind.PLAN_ENDED, outcome.value)


def activate_plan(work: Work, session: Session) -> None:
    """The session's plan is being carried out (announced once)."""
    if not session.plan_active:
        session.plan_active = True
        session.plan_finished = False
        ended = work.state.ended
        if ended is not None and ended[1] < work.now:
            work.state.ended = None
        work.event(EventKind.PLAN_STARTED)


def status_for_action(
    action: DeviceTarget, executor: ExecutorState, awaiting_prices: bool, interrupted: bool
) -> SmartChargingState:
    """The smart charging state while carrying out `action`, from how far the devices got."""
    status = executor.status_for(action)
    if action.mode is DeviceMode.DISCHARGE:
        if status is ExecutionStatus.FAILED:
            return SmartChargingState.START_FAILED
        return SmartChargingState.DISCHARGING
    if action.mode is DeviceMode.CHARGE:
        if status is ExecutionStatus.CONFIRMED:
            if interrupted:
                return SmartChargingState.CHARGE_INTERRUPTED
            return SmartChargingState.STARTED
        if status is ExecutionStatus.FAILED:
            return SmartChargingState.START_FAILED
        return SmartChargingState.STARTING
    if status is ExecutionStatus.CONFIRMED:
        if awaiting_prices:
            return SmartChargingState.STOPPED_AWAITING_PRICES
        return SmartChargingState.STOPPED
    if status is ExecutionStatus.FAILED:
        return SmartChargingState.STOP_FAILED
    return SmartChargingState.STOPPING


def report_is_current(state: ControllerState) -> bool:
    """Whether the SoC report belongs to this session (not from before a trip)."""
    report, session = state.estimator.report, state.session
    if report is None:
        return False
    return (
        session is None
        or session.reports_valid_from is None
        or (report.at >= session.reports_valid_from)
    )
