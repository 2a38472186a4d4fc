"""When to remind the user to plug the car in.

At home and unplugged: when plugging in an hour from now would leave too little time to reach
the next departure's target at full power, following the car's charge curve (it charges slower
near full, so the last per cents take longer than the first). Plugged in: when the plan shows
the target will be missed. Either way once per departure (the caller remembers which departures
it reminded of).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
import math

from .learning import ChargeModel
from .planner.curve import ChargeCurve

# The user has this long to plug in before it is too late.
GRACE = timedelta(hours=1)
# A shortfall smaller than this is rounding, not a reason to bother anyone.
MIN_SHORTFALL_PCT = 1.0
# A charge that would take longer than a year is as good as never.
MAX_HOURS = 24.0 * 365


class ReminderReason(StrEnum):
    """Why the user is asked to plug in."""

    UNPLUGGED = "unplugged"
    SHORTFALL = "shortfall"


@dataclass(frozen=True, kw_only=True)
class ChargeOutlook:
    """What is known about the car and its next departure."""

    now: datetime
    at_home: bool
    plugged_in: bool | None
    departure: datetime | None
    target_soc_pct: float | None
    soc_pct: float | None
    capacity_kwh: float | None
    # Power into the car at full charge, after losses.
    charge_kw: float
    # The highest power along the battery (kWh, taper and losses): when known, the time to
    # the target follows it instead of a flat `charge_kw`.
    curve: ChargeCurve | None = None
    # What the plan expects to fall short of the target by (plugged in only).
    shortfall_pct: float | None = None


@dataclass(frozen=True, kw_only=True)
class Reminder:
    """A reminder to send: for which departure, why, and by when to plug in."""

    reason: ReminderReason
    departure: datetime
    target_soc_pct: float
    soc_pct: float | None
    # The last moment plugging in still reaches the target (unplugged only).
    plug_in_by: datetime | None = None
    shortfall_pct: float | None = None


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def charge_time(outlook: ChargeOutlook) -> timedelta | None:
    """How long charging to the target takes at full power, along the charge curve when there
    is one; None when it can't be told."""
    soc, target, capacity = outlook.soc_pct, outlook.target_soc_pct, outlook.capacity_kwh
    if soc is None or target is None or capacity is None or not _finite(outlook.charge_kw):
        return None
    if not (_finite(soc) and _finite(target) and _finite(capacity)):
        return None
    if capacity <= 0 or outlook.charge_kw <= 0:
        return None
    start_kwh = soc / 100.0 * capacity
    end_kwh = max(start_kwh, target / 100.0 * capacity)
    if outlook.curve is not None:
        hours = hours_on_curve(outlook.curve, start_kwh, end_kwh)
    else:
        hours = (end_kwh - start_kwh) / outlook.charge_kw
    return timedelta(hours=min(hours, MAX_HOURS))


def hours_on_curve(curve: ChargeCurve, start_kwh: float, end_kwh: float) -> float:
    """Hours of charging at the curve's full power from one energy to another (inf if the power
    falls to nothing on the way). Between knots the power is linear in the energy, so each piece
    takes (width / (eta * (p2 - p1))) * ln(p2 / p1) hours."""
    inside = [energy for energy in curve.energies if start_kwh < energy < end_kwh]
    hours = 0.0
    for low, high in pairwise([start_kwh, *inside, end_kwh]):
        p_low, p_high = curve.power_limit(low), curve.power_limit(high)
        if not (p_low > 0.0 and p_high > 0.0):
            return math.inf
        width = (high - low) / curve.efficiency
        if math.isclose(p_low, p_high, rel_tol=1e-12):
            hours += width / p_low
        else:
            hours += width * math.log(p_high / p_low) / (p_high - p_low)
    return hours


def reminder_due(outlook: ChargeOutlook) -> Reminder | None:
    """The reminder the outlook calls for, if any."""
    departure, target = outlook.departure, outlook.target_soc_pct
    if departure is None or target is None or departure <= outlook.now or not outlook.at_home:
        return None
    if outlook.plugged_in is True:
        shortfall = outlook.shortfall_pct
        if shortfall is None or not _finite(shortfall) or shortfall < MIN_SHORTFALL_PCT:
            return None
        return Reminder(
            reason=ReminderReason.SHORTFALL,
            departure=departure,
            target_soc_pct=target,
            soc_pct=outlook.soc_pct,
            shortfall_pct=shortfall,
        )
    if outlook.plugged_in is not False:
        return None
    needed = charge_time(outlook)
    if needed is None or needed <= timedelta(0):
        return None
    plug_in_by = departure - needed
    if plug_in_by > outlook.now + GRACE:
        return None
    return Reminder(
        reason=ReminderReason.UNPLUGGED,
        departure=departure,
        target_soc_pct=target,
        soc_pct=outlook.soc_pct,
        plug_in_by=plug_in_by,
    )


def charge_curve(model: ChargeModel, capacity_kwh: float | None) -> ChargeCurve | None:
    """The car's charge curve as the planner sees it: the power it learned, slower near full."""
    if capacity_kwh is None or not _finite(capacity_kwh) or capacity_kwh <= 0:
        return None
    if not (_finite(model.max_kw) and model.max_kw > 0 and 0 < model.efficiency <= 1):
        return None
    taper = tuple((soc_pct, kw) for soc_pct, kw in model.taper())
    return ChargeCurve.build(capacity_kwh, model.max_kw, taper, model.efficiency, capacity_kwh)
