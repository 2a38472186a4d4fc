"""Guards: whatever the plan says, the car charges now when it falls behind or sits below the
protective minimum; and where the model only guesses the power, a short probe measures it.

Every step checks, from the pessimistic SoC bound, whether full-power charging could still
reach the target in time, so neither a stale SoC nor a wrong model makes it miss a reachable
target. While a first report after the plug-in is awaited, the worst plausible SoC counts, and
the car is kept from charging so it reports (many don't while charging).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from .controller_data import Session, SmartChargingState
from .controller_work import (
    BEHIND_FIXED_MARGIN,
    BEHIND_POWER_SHARE,
    BEHIND_TIME_FACTOR,
    TARGET_TOLERANCE_PCT,
    Outcome,
    Work,
    status_for_action,
)
from .executor import CHARGE, IDLE
from .learning import ChargeModel
from .planner import PriceSlot
from .soc_estimator import SocEstimate

# Where the power was never measured, the safety check assumes only this share of the model's.
UNMEASURED_POWER_SHARE = 0.8
# How long a probe (a short charge to measure real power) may take at most.
PROBE_MAX = timedelta(minutes=5)
PROBE_SETTLE = timedelta(seconds=35)
# A car that reports only while not charging gets a short pause around its next report when
# its SoC is unknown: stop this long before the expected report, resume this long after it.
REPORT_PAUSE_BEFORE = timedelta(seconds=45)
REPORT_PAUSE_AFTER = timedelta(seconds=60)
# Only pause for a report expected within this time.
REPORT_PAUSE_HORIZON = timedelta(minutes=31)


def settle_starting_point(work: Work, session: Session) -> None:
    """What the plan and the guards start from: the SoC (for a car with a known reporting
    rhythm that has not reported since the plug-in, the worst plausible one), the car's own
    limit, and the charge-at-once baseline of the session."""
    now, capacity, soc = work.now, work.capacity, work.soc
    work.rhythm_known = (
        work.waiting_for_soc
        and work.state.estimator.next_report_expected(now - REPORT_PAUSE_AFTER) is not None
    )
    if work.rhythm_known and soc is None and capacity is not None:
        soc = work.soc = SocEstimate(
            soc_pct=work.provisional_pct,
            low_pct=work.provisional_pct,
            high_pct=work.provisional_pct,
            reported_at=session.started_at,
            is_estimated=True,
        )
    obs = work.observation
    limit = obs.charge_limit_pct if obs.charge_limit_pct is not None else 100.0
    work.max_soc = max(limit, soc.soc_pct if soc is not None else 0.0)
    work.reachable_target = min(work.target, limit)
    if (
        session.baseline_remaining_kwh is None
        and soc is not None
        and capacity is not None
        and not work.waiting_for_soc
    ):
        session.baseline_remaining_kwh = (
            max(0.0, work.reachable_target - soc.soc_pct) / 100.0 * capacity / work.model.efficiency
        )


def check_guards(work: Work, session: Session) -> None:
    """Is the car behind, or below the protective minimum? Then it charges now."""
    soc, capacity, departure = work.soc, work.capacity, work.departure
    # While waiting for the car's first report, judge by the worst plausible trip.
    work.cautious_soc = soc.low_pct if soc is not None else work.provisional_pct
    if capacity is not None and (soc is not None or work.waiting_for_soc):
        work.below_protective = (
            work.cautious_soc < work.settings.protective_soc_pct - TARGET_TOLERANCE_PCT
        )
        if departure is not None:
            latest_start = latest_full_power_start(
                work.model, work.cautious_soc, work.reachable_target, capacity, departure
            )
            work.charge_hours = work.model.hours_to_charge(
                work.cautious_soc, work.reachable_target, capacity
            )
            if latest_start is None:
                session.catching_up = False
            else:
                work.behind = session.catching_up or work.now >= latest_start
                session.catching_up = work.behind
                work.wake_at(latest_start)
    work.need_more = soc is None or (
        departure is not None and soc.low_pct < work.reachable_target - TARGET_TOLERANCE_PCT
    )


def hold_for_soc_report(work: Work, session: Session) -> Outcome | None:
    """Whether a probe is due; and while a first report is awaited (rhythm unknown, nothing
    urgent), keep the car from charging so it reports."""
    work.probe = not work.waiting_for_soc and _wants_probe(
        work, session, None if work.soc is None else work.soc.low_pct
    )
    if (
        work.waiting_for_soc
        and not work.rhythm_known
        and not (work.behind or work.below_protective)
    ):
        return Outcome(status=SmartChargingState.CONSIDERING, action=IDLE, reason="waiting_for_soc")
    return None


def latest_full_power_start(
    model: ChargeModel, soc_pct: float, target: float, capacity: float, departure: datetime
) -> datetime | None:
    """The last moment full-power charging can still reach the target, with margins; None when
    the target is reached."""
    if soc_pct >= target - TARGET_TOLERANCE_PCT:
        return None
    hours = model.hours_to_charge(
        soc_pct,
        target,
        capacity,
        efficiency=model.efficiency * (1.0 - model.efficiency_uncertainty),
        power_share=BEHIND_POWER_SHARE,
        unmeasured_share=UNMEASURED_POWER_SHARE,
    )
    return departure - timedelta(hours=hours * BEHIND_TIME_FACTOR) - BEHIND_FIXED_MARGIN


def _wants_probe(work: Work, session: Session, soc_pct: float | None) -> bool:
    """Whether to charge briefly to measure the power where the model only guesses.

    The advertised power can be far off (a car that takes 7 kW on an 11 kW charger), and so can
    the generic taper; a minute of charging settles it before it matters (when: see
    `_probe_affordable`).
    """
    if session.probe_done or soc_pct is None or session.departure is None:
        return False
    if session.probe_started_at is not None and work.now - session.probe_started_at >= PROBE_MAX:
        session.probe_done = True
        return False
    if soc_pct >= session.target_soc_pct - TARGET_TOLERANCE_PCT:
        return False
    return not work.model.is_measured_at(soc_pct)


def probe_affordable(
    work: Work,
    slots: Sequence[PriceSlot],
    departure: datetime | None,
    charge_hours: float | None,
) -> bool:
    """Whether a probe may start now.

    Only at a price the plan pays for charging anyway, or at the cheapest moment before the plan
    first charges, so turning smart charging on at the evening peak buys no minute of the peak.
    A tight session probes at once: when less time is left than twice what the charge takes, a
    car charging at half the guessed power would already be late. Without prices nothing says now is
    dear; a probe that started runs to its end.
    """
    session = work.state.session
    if not slots or (session is not None and session.probe_started_at is not None):
        return True
    # Twice the charge at the model's own power, not at the safety check's cautious one: that
    # already assumes a slow car, and doubling it made ordinary overnight sessions "tight".
    if (
        departure is not None
        and charge_hours is not None
        and departure - work.now < timedelta(hours=2.0 * charge_hours)
    ):
        return True
    plan = work.state.plan
    charging = [
        (slot.start, slot.import_price)
        for slot in (() if plan is None else plan.slots)
        if slot.charge_kw > 0.0 and slot.end > work.now
    ]
    if not charging:
        return False
    price_now = slots[0].import_price
    first_charge = charging[0][0]
    before = [slot.import_price for slot in slots if slot.start < first_charge]
    return price_now <= max(price for _, price in charging) or price_now <= min(
        before, default=price_now
    )


def probe(work: Work, session: Session, outcome: Outcome) -> Outcome:
    if session.probe_started_at is None:
        session.probe_started_at = work.now
    executor = work.executor
    if executor.confirmed == CHARGE and executor.confirmed_at is not None:
        work.wake_at(executor.confirmed_at + PROBE_SETTLE)
    else:
        work.wake_at(work.now + PROBE_SETTLE)
    work.wake_at(session.probe_started_at + PROBE_MAX)
    outcome.action, outcome.reason = CHARGE, "probe"
    # A probe is a measurement, not a plan: before one exists the state stays CONSIDERING.
    outcome.status = (
        status_for_action(CHARGE, executor, False, False)
        if session.plan_active
        else SmartChargingState.CONSIDERING
    )
    return outcome


def pause_for_report(work: Work) -> bool:
    """Whether to pause charging now so the car can report its SoC (see REPORT_PAUSE_*)."""
    now = work.now
    expected = work.state.estimator.next_report_expected(now - REPORT_PAUSE_AFTER)
    if expected is None or expected - now > REPORT_PAUSE_HORIZON:
        return False
    pause_start, pause_end = expected - REPORT_PAUSE_BEFORE, expected + REPORT_PAUSE_AFTER
    work.wake_at(pause_start)
    work.wake_at(pause_end)
    return pause_start <= now < pause_end
