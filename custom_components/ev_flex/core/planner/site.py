"""The planner with a house around the car: base load, solar, grid limits and capacity tariff.

Per slot, `house_kw = base_load_kw - solar_kw` (plus any other cars on the site) and the house's
net grid power is `net = house_kw + pc - pd`. Import is paid at the import price, export earns
the export price (0 where the slot has none). The car may not take the house over the import
limit, `net <= max(import_limit_kw, house_kw)`, nor over the export limit,
`-net <= max(export_limit_kw, -house_kw)`: when the house alone is beyond a limit the car can't
make it worse, and isn't made to fix it. The capacity tariff costs
`peak_price_per_kw * max(0, P - current_peak_kw)`, where `P` is the highest clock-hour average
import: a slot counts in the clock hour (in the zone of `now`) that it starts in, and an hour's
average is its imported energy over the length of its slots in the horizon; the hour holding
`now` also counts what passed of it, with `hour_import_kwh` imported then. The plan's cost is
the house's cost with the car's plan minus its cost without the car.

Without the capacity tariff (or when it doesn't bind) the plan is exact. When it binds, the
highest average is searched for (`_search_peak`); where the plan capped at the month's peak is
exact and prices on the hours' import prove that more cap doesn't pay (`peak_dual.py`), that
plan is kept without planning the car without a cap first (`_capped_at_floor`).
At a given highest average, an hour of one slot
caps that slot; an hour of several slots where the car can only charge gives its budget to its
cheapest slots first (`hour_caps`), which is exact where its slots' costs are convex; where the
car can also discharge, or a slot's cost bends down (export paying more than import, or with V2G
a price p below zero where a kWh charged and discharged in one quarter would gain
-p (1/eta_charge - eta_discharge), more than the wear cost), the hour is one DP stage with one
shared budget (`peak.py`; a bending hour's cost is the lowest of its ways, each keeping every
slot to a stretch where its cost rises: `peak.bent_stage`), exact unless it would have to
discharge before charging at its floor. An hour that can't be one stage for that, or for a
target or the protective level inside it, or a taper the plan charges into in it (the other
hours plan as with a flat curve, and the plan is made again until it charges into the taper in
no new hour: `solve_by_hours`), prices its import instead
(`_solve_priced`; several such hours together, `hour_prices.py`), which is exact too where the
slots' costs are convex. Where they are not, the mix of priced plans may move the bending
slots elsewhere too; the plan is made again with the priced hours' slots capped at the mix's
grid power, and the cheaper of the two kept: every limit holds, but it may cost a little more
than the optimum. More than `_PRICED_HOURS` such hours at a cap fall back to `hour_caps`,
which is a heuristic there; what a tapering car leaves of an hour's budget then goes to the
hour's other slots (`_reshared`).

With a minimum charging power the cost is no longer convex in the cap (raising it can let a
slot charge at all), so the cap is searched by branch and bound (`_bound_search`), and an hour
of several slots (where the car can't taper yet) is one stage with a window per set of
charging slots, the others free to discharge (`minimum_hours.py`); it is exact where the
battery keeps well within its limits inside the hour. An hour the house alone takes over the
cap is one stage that must discharge, and is also tried as slots cut to one level where export
pays more than import there; a tapering car's hours are also tried as one stage kept below its
knee (`_solve_minimum_under_cap`). Other hours take `hour_caps`.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cache, partial
import heapq
from itertools import pairwise
import math
from typing import TYPE_CHECKING, Any

from .curve import ChargeCurve, SlotReach
from .hour_prices import PricedMix, PricedPlan, mix_within_budgets
from .minimum_hours import MinimumHour, minimum_hour
from .peak import HourPieces, HourStage, covering_kwh, hour_pieces, hour_stage, ways_of
from .peak_dual import saving_per_kw
from .site_dp import PathMemo, Stage, cost_runs, held_to_run, optimal_site_path, run_spans

if TYPE_CHECKING:
    from . import Plan, PlanRequest, PriceSlot, SlotFlow, _Horizon, _TargetRule

# A capacity-tariff peak within this much (kW) of the best is as good as the best.
_PEAK_TOLERANCE_KW = 1e-9
# How far above the lowest cap (kW) the search looks whether a higher cap pays: far enough
# for a budget to be more than a rounding.
_PEAK_PROBE_KW = 1e-6
# How close (kW) to the lowest cap that reaches every target the search starts: where the best
# plan is there, every kW above it costs the tariff's price and more.
_LOWEST_CAP_TOLERANCE_KW = 1e-11
# Where the lowest cap moved down from the last house's, the steps (relative) below it that
# find the line the shortfall follows there.
_HINT_STEP_KW = 1e-7
_REACH_MARGIN_KWH = 1e-9
# Halvings of an hour's grid share in a slot (`_latest_reach`).
_LATEST_STEPS = 40
# A capped plan may miss the targets by this much more than the plan without a cap (kWh).
_MET_TOLERANCE_KWH = 1e-6
# The lowest cap's plan meets every target this closely (kWh): its DP's margins apart.
_REACHED_KWH = 1e-8
# A plan at a cap whose highest average is more than this (kW) above the cap can't keep to it:
# the cap is below the lowest that can be kept (the bound on it counts discharges the car
# may not have the charge for).
_CAP_KEPT_KW = 1e-8
# The search on the cost's lines (`_lowest_on_lines`): most tries, how close (relative) its
# bound must come to the best cost, and how far (share of the interval) a try keeps off its
# ends.
_LINE_STEPS = 60
_LINE_TOLERANCE = 1e-11
# The golden section after the lines, for a tapering car: a cost within 1e-6 moves the cap less.
_TAPER_CAP_TOLERANCE_KW = 1e-7
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
_LINE_MARGIN = 1e-3
# Rounds that add the minimum power to the slots that break it, before every slot gets it.
_MINIMUM_ROUNDS = 8
# An hour whose inner boundaries break the bounds is priced instead, and the plan made again,
# which may break another; after so many rounds every hour falls back to per-slot caps, which
# share its budget by a fixed rule. A 28-quarter case broke four hours one after another.
_HOUR_ROUNDS = 8
# Rounds that share an hour's unused budget out again (`_reshared`), and the least (kWh) worth
# sharing.
_RESHARE_ROUNDS = 6
_RESHARE_KWH = 1e-7
# Houses (with other cars' plans in them) whose stages without a cap a car keeps.
_FREE_STAGES_KEPT = 8
# How far (kWh) an hour's inner boundary may stray past its bounds before the hour falls back.
_DIP_KWH = 1e-6
# A car with a minimum power under a capacity tariff is planned as a site of its own on up to
# this many slots, where the site's search starts with a branch and bound
# (`patterns._BRANCHED_SLOTS`): of 141 random cases of 8 to 16 hours of quarters, its own cap
# search left 7 above 0.1 % of the optimum (one cost 8.21 against 0.61), the site's search
# none, in 8.3 s for all against 3.3 s (the slowest 0.9 s). On the benchmark's house, 64
# quarters took 0.2-0.7 s against 0.02-0.06 s, both at the optimum. Up to a day of quarters
# rather than 64 slots: of 107 random cases of 73 to 96 quarters, most with V2G, the cap
# search left 31 above 0.1 % (one cost 16.64 against 11.96), the site's search 1 (0.12 %), in
# 298 s for all against 76 s (the median 0.52 s against 0.13 s, the slowest 28 s). Beyond a
# day it is not used: on 144 quarters of the benchmark's house, where the cap search met the
# optimum too, the site's descents took 3-6 s against 0.1-0.4 s.
_SEARCHED_ALONE_SLOTS = 96
# The most ways (one run of rising cost per slot, every combination) an hour whose slots' costs
# bend down is planned in as one stage; beyond, it is planned as its slots (its import priced,
# or shared out by per-slot caps). Of the 1,982 hours of 64 random V2G cars of 97 to 160
# quarters, 432 had more than one way, and the most was 27.
_MOST_WAYS = 64
# The most plans made at the chosen cap with slots whose cost bends down held to one run
# (`_held_to_runs`): each is a solve at the cap.
_MOST_HELD_SOLVES = 64
# A move this close (kWh) to where a run of a slot's cost ends lies in that run.
_HELD_MOVE_KWH = 1e-9
# Caps besides the chosen one where slots are held to runs (`_held_at_other_caps`), and the
# most searches of the cap again with new holds.
_OTHER_HELD_CAPS = 3
_HELD_SEARCHES = 3
# Caps where the search's bound is lowest, besides its low points, where slots are held to runs.
_BOUND_HELD_CAPS = 1
# Where a slot's cost bends down: how many caps the search tries up from the lowest (the
# first this many halvings of the span above it), and at how many low points it settles.
_SWEPT_CAPS = 6
_SWEPT_LOWS = 2
# Where a slot's cost bends down: the most caps tried halving the interval between two caps
# tried whose plans could cost least (`_swept`).
_SPLIT_CAPS = 8
# An hour's import within this much (kWh) of its budget keeps to it.
_BUDGET_TOLERANCE_KWH = 1e-9
# Tangent steps in the search for the price of an hour's import, and the highest price tried.
_PRICE_STEPS = 60
_PRICE_CEILING = 1e6
# The most hours priced together at a cap: each takes the master LP (`hour_prices.py`) about
# one more plan, and a taper reached early in a long horizon would price nearly every hour.
_PRICED_HOURS = 12
# Plans kept per set of priced hours for the next cap's master (`_solve_priced`).
_KEPT_PLANS = 40
# Rounds of planning again with the hours a plan takes into the taper priced (`solve_by_hours`),
# and how close (kWh) to the taper's reach a slot's charge counts as held by it.
_TAPER_ROUNDS = 6
_TAPER_HELD_KWH = 1e-9
# How far (kWh) a move under the minimum power may be from it and still be taken up to it.
_HAIR_KWH = 1e-6
# The cap search with a minimum power: most evaluations, and how close
# (relative to the house's cost) its bound must come to the best cost found.
_BOUND_EVALUATIONS = 40
_BOUND_TOLERANCE = 2e-4
_BOUND_SLACK = 1e-7
# An hour the house alone takes over its budget: bisection steps for the level its loads are
# cut down to, and the share of the car's cover left out of each cut (`_cut_loads`).
_CUT_STEPS = 60
_COVER_MARGIN = 1e-9


@dataclass(frozen=True, slots=True)
class Car:
    """The parts of one car's request that don't change between solves, and the work kept
    between them: the fields compared by nothing (`with_request`, `forget`)."""

    request: PlanRequest
    horizon: _Horizon
    curve: ChargeCurve
    start_kwh: float
    floor_kwh: float
    rules: list[_TargetRule]
    hour_groups: list[list[int]]
    # The first hour's part before `now`: its length (h) and what the house imported then (kWh).
    hour_before: tuple[float, float] = (0.0, 0.0)
    # Slots whose moves are held to some of their segments (slot, first, last): a plan made
    # again where mixing priced plans left a slot whose cost bends down off its best.
    held_runs: tuple[tuple[int, int, int], ...] = ()
    # The stages without a cap and the hours' pieces, per house (a search asks many times).
    free_stages: dict[tuple[float, ...], list[Stage]] = field(default_factory=dict, compare=False)
    hour_pieces: dict[tuple[float, ...], dict[int, HourPieces]] = field(
        default_factory=dict, compare=False
    )
    # The highest energy at every boundary without a cap, per house.
    free_reach: dict[tuple[float, ...], list[float]] = field(default_factory=dict, compare=False)
    # The hours taken as one stage (`_one_stage_hours`), per house; and their stages at the
    # last house and cap planned.
    stage_hours: dict[tuple[float, ...], set[int]] = field(default_factory=dict, compare=False)
    hour_stages: dict[tuple[tuple[float, ...], float], dict[int, HourStage | None]] = field(
        default_factory=dict, compare=False
    )
    # The lowest cap that reaches, last found from each floor: where the search starts for the
    # next house (another car's plan changes the lowest cap little, if at all).
    lowest_caps: dict[float, float] = field(default_factory=dict, compare=False)
    # The cost and peak of the best plan without the minimum power, per house: turns ask
    # `_cost_bounds` again for a house they met before, and it takes seconds with V2G.
    relaxed_outcomes: dict[tuple[float, ...], tuple[float, float]] = field(
        default_factory=dict, compare=False
    )
    # That car without the minimum (by its minimum, 0), kept with what it keeps between houses.
    relaxed_cars: dict[float, Car] = field(default_factory=dict, compare=False)
    # The lowest cap whose plan keeps to it and meets the targets, last found by bisection from
    # each month's peak: where the next house's bisection looks first (`_lowest_cap`).
    met_caps: dict[float, float] = field(default_factory=dict, compare=False)
    # The hours (by first slot) the last plan at a cap took into the taper, per house: where
    # the next cap's plan starts looking (`solve_by_hours`).
    tapering: dict[tuple[float, ...], set[int]] = field(default_factory=dict, compare=False)
    # The plans made pricing several hours' imports, per house and priced hours (by first
    # slot): the master at the next cap starts from those that keep to it (`_solve_priced`).
    priced_plans: dict[tuple[tuple[float, ...], tuple[int, ...]], list[_KeptPlan]] = field(
        default_factory=dict, compare=False
    )
    # The cost at each cap the last peak search tried, per house (`_held_at_other_caps`).
    cap_scores: dict[tuple[float, ...], dict[float, float]] = field(
        default_factory=dict, compare=False
    )
    # The mix of priced plans the last plan at a house and cap was made from, and its bound.
    priced_mix: dict[tuple[tuple[float, ...], float], PricedMix] = field(
        default_factory=dict, compare=False
    )

    @property
    def hour_of(self) -> list[int]:
        """Per slot, the index of its clock hour in `hour_groups`."""
        out = [0] * len(self.horizon.hours)
        for hour, group in enumerate(self.hour_groups):
            for t in group:
                out[t] = hour
        return out

    @property
    def binding_rules(self) -> list[_TargetRule]:
        """The targets the plan must work for: one at or below the floor, which the battery
        never goes under, is met whatever it does, so an hour around it may be one stage."""
        return [rule for rule in self.rules if rule.required > self.floor_kwh]

    @property
    def target_ends(self) -> set[int]:
        """The boundaries where a binding target applies."""
        return {rule.index for rule in self.binding_rules}

    @property
    def knee_kwh(self) -> float:
        """The energy up to which the car charges at full power, where its taper begins (minus
        infinity where it never charges at full power)."""
        curve = self.curve
        return curve.energies[0] if curve.powers[0] >= self.request.charge.max_kw else -math.inf

    @property
    def peak_floor(self) -> float:
        """The lowest peak (kW) the horizon can have: the month's, or the first hour's average
        with what the house imported before now, where that is higher (infinite without a
        site)."""
        site = self.request.site
        if site is None:
            return math.inf
        passed, imported = self.hour_before
        width = passed + sum(self.horizon.hours[t] for t in self.hour_groups[0])
        return max(site.current_peak_kw, imported / width if width > 0.0 else 0.0)

    def with_request(self, request: PlanRequest) -> Car:
        """This car asked with another request: what it kept for the old one starts afresh."""
        return self._afresh(request=request)

    def held_to(self, runs: tuple[tuple[int, int, int], ...]) -> Car:
        """This car with its slots' moves held to `runs` (`held_runs`), starting afresh but for
        the lowest caps that met (`met_caps`): only where the bisection looks first, and holds
        seldom move them."""
        held = self._afresh(held_runs=runs)
        held.met_caps.update(self.met_caps)
        return held

    def _afresh(self, **changes: Any) -> Car:
        """This car with `changes`, and none of the work kept for it."""
        fresh: dict[str, Any] = {name: {} for name in _cache_names()}
        return replace(self, **changes, **fresh)

    def forget(self) -> None:
        """Drop everything kept between solves."""
        for name in _cache_names():
            getattr(self, name).clear()


def _cache_names() -> list[str]:
    """`Car`'s fields that keep work between solves (compared by nothing)."""
    return [item.name for item in fields(Car) if not item.compare]


def prepare(request: PlanRequest) -> Car | None:
    """None when no price covers now."""
    from . import _horizon, _target_rules  # noqa: PLC0415 - the package imports this module

    horizon = _horizon(request)
    if horizon is None:
        return None
    battery = request.battery
    capacity = battery.capacity_kwh
    start_kwh = battery.soc_pct / 100.0 * capacity
    upper_kwh = max(battery.max_soc_pct / 100.0 * capacity, start_kwh)
    charge = request.charge
    curve = ChargeCurve.build(capacity, charge.max_kw, charge.taper, charge.efficiency, upper_kwh)
    discharge = request.discharge
    floor_kwh = start_kwh
    if discharge is not None and discharge.max_kw > 0.0:
        floor_kwh = min(start_kwh, discharge.min_soc_pct / 100.0 * capacity)
    rules = _target_rules(request, horizon, curve)
    return Car(
        request,
        horizon,
        curve,
        start_kwh,
        floor_kwh,
        rules,
        hour_groups(request.now, horizon.starts),
        hour_before(request),
    )


def hour_groups(now: datetime, starts: Sequence[datetime]) -> list[list[int]]:
    """Slot indices per clock hour (in the zone of `now`) that the slots start in."""
    groups: dict[datetime, list[int]] = {}
    for index, start in enumerate(starts):
        local = start.astimezone(now.tzinfo).replace(minute=0, second=0, microsecond=0)
        groups.setdefault(local.astimezone(UTC), []).append(index)
    return list(groups.values())


def hour_before(request: PlanRequest) -> tuple[float, float]:
    """The part of the clock hour holding `now` (in its zone) that has passed, and its import."""
    now = request.now
    began = now.replace(minute=0, second=0, microsecond=0)
    passed = (now - began).total_seconds() / 3600.0
    imported = 0.0 if request.site is None else request.site.hour_import_kwh
    return passed, imported


def house_kw(request: PlanRequest, horizon: _Horizon) -> list[float]:
    """base load - solar per slot of the horizon (the request's lists are per price slot)."""
    site = request.site
    offset = len(request.prices) - len(horizon.prices)
    out: list[float] = []
    for t in range(len(horizon.prices)):
        base = site.base_load_kw[offset + t] if site is not None and site.base_load_kw else 0.0
        solar = site.solar_kw[offset + t] if site is not None and site.solar_kw else 0.0
        out.append(base - solar)
    return out


def peak_kw(
    groups: list[list[int]],
    hours: Sequence[float],
    net: Sequence[float],
    before: tuple[float, float] = (0.0, 0.0),
) -> float:
    """The highest clock-hour average import; `before` is the first hour's part before now."""
    best = 0.0
    for length, energy in hour_imports(groups, hours, net, before):
        best = max(best, energy / length)
    return best


def hour_imports(
    groups: list[list[int]],
    hours: Sequence[float],
    net: Sequence[float],
    before: tuple[float, float] = (0.0, 0.0),
) -> Iterator[tuple[float, float]]:
    """Per clock hour, its length (h) and import (kWh); `before` is the first hour's part
    before now."""
    for index, group in enumerate(groups):
        length, energy = before if index == 0 else (0.0, 0.0)
        length += sum(hours[t] for t in group)
        energy += sum(hours[t] * max(net[t], 0.0) for t in group)
        yield length, energy


def hour_budget(car: Car, group: list[int], peak: float) -> float:
    """What the hour's slots may import (kWh) for its average to stay <= `peak`."""
    passed, imported = car.hour_before if group[0] == 0 else (0.0, 0.0)
    return peak * (passed + sum(car.horizon.hours[t] for t in group)) - imported


def hour_caps(
    car: Car, house: Sequence[float], peak: float, groups: list[list[int]] | None = None
) -> list[float]:
    """Per slot, a cap on the net grid power that keeps every hour's average import <= `peak`
    (only the hours of `groups` when given; the other slots stay uncapped).

    When the house alone stays under `peak` in an hour, the hour's spare import goes to its
    cheapest slots first, each up to what the car can take; the other slots keep the house's
    own import. When it doesn't, the house's import is cut down to one level, which the car
    must discharge for, but no slot by more than the car can cover there (`_cut_loads`).
    """
    hours = car.horizon.hours
    caps = [math.inf] * len(hours)
    if math.isinf(peak):
        return caps
    prices = car.horizon.prices
    room_kw = car.request.charge.max_kw
    # The car's power when it charges at all (the taper aside).
    least_kw = min(car.request.charge.min_kw, room_kw)
    site = car.request.site
    fuse = math.inf if site is None else site.import_cap_kw
    for group in car.hour_groups if groups is None else groups:
        budget = hour_budget(car, group, peak)
        own = sum(hours[t] * max(house[t], 0.0) for t in group)
        if own <= budget:
            spare = budget - own
            for t in sorted(group, key=lambda t: prices[t].import_price):
                # Spare the car can't take under the fuse would be lost.
                room = max(0.0, min(room_kw + min(house[t], 0.0), fuse - max(house[t], 0.0)))
                if room - min(house[t], 0.0) < least_kw:
                    room = 0.0
                extra = min(room, spare / hours[t])
                spare -= extra * hours[t]
                caps[t] = max(house[t], 0.0) + extra
        else:
            cuts = _cut_loads(car, house, group, budget)
            for t, cut in zip(group, cuts, strict=True):
                caps[t] = cut
    return caps


def _cut_loads(car: Car, house: Sequence[float], group: list[int], budget: float) -> list[float]:
    """Per slot of an hour the house alone takes over `budget`, the import left: its load cut
    down to one level L such that the hour imports `budget`, but never below what the car
    can't cover there (it discharges at most its maximum, and only where the slot has an export
    price). A slot whose load the car can't cover enough keeps the rest, and the others are cut
    further. Where even covering all the car can doesn't reach the budget, one level for all:
    that cap can't be kept, and the forced discharge it asks for tells the search so."""
    discharge = car.request.discharge
    most_kw = 0.0 if discharge is None else discharge.max_kw
    hours, prices = car.horizon.hours, car.horizon.prices
    loads = [max(house[t], 0.0) for t in group]
    # A hair short of the full cover: the forced discharge it asks for, computed back from
    # the cap, must not come out a rounding above what the slot can give.
    least = [
        load
        - (
            min(load, most_kw) * (1.0 - _COVER_MARGIN)
            if prices[t].export_price is not None
            else 0.0
        )
        for t, load in zip(group, loads, strict=True)
    ]

    def imported(level: float) -> float:
        return sum(
            hours[t] * max(min(load, level), floor)
            for t, load, floor in zip(group, loads, least, strict=True)
        )

    low, high = 0.0, max(loads, default=0.0)
    if imported(low) > budget:
        level = _shave_level(sorted(zip(loads, (hours[t] for t in group), strict=True)), budget)
        return [min(load, level) for load in loads]
    for _ in range(_CUT_STEPS):
        middle = (low + high) / 2.0
        low, high = (middle, high) if imported(middle) < budget else (low, middle)
    return [max(min(load, low), floor) for load, floor in zip(loads, least, strict=True)]


def _shave_level(loads: list[tuple[float, float]], budget: float) -> float:
    """The level L with sum hours * min(load, L) = budget, over loads sorted ascending."""
    below = 0.0
    weight = sum(h for _, h in loads)
    for load, h in loads:
        level = (budget - below) / weight
        if level <= load:
            return max(level, 0.0)
        below += h * load
        weight -= h
    return loads[-1][0]


# --------------------------------------------------------------------------------------------
# Stages


def stages(car: Car, house: Sequence[float], peak_cap: float = math.inf) -> list[Stage]:
    """The car's slots against the house, with imports capped at `peak_cap` per hour."""
    if math.isfinite(peak_cap):
        return capped_stages(car, house, hour_caps(car, house, peak_cap), stages(car, house))
    key = tuple(house)
    free = car.free_stages.get(key)
    if free is None:
        if len(car.free_stages) > _FREE_STAGES_KEPT:
            car.forget()
        free = car.free_stages[key] = capped_stages(car, house, [math.inf] * len(house))
    return free


def free_high(car: Car, house: Sequence[float]) -> list[float]:
    """`reach_bounds`' highest energy at every boundary without a cap (kept per house)."""
    free = stages(car, house)
    key = tuple(house)
    high = car.free_reach.get(key)
    if high is None:
        high = car.free_reach[key] = reach_bounds(car, free)[0]
    return high


def capped_stages(
    car: Car,
    house: Sequence[float],
    net_caps: Sequence[float],
    free: Sequence[Stage] | None = None,
    slots: Sequence[int] | None = None,
    import_extra: float = 0.0,
) -> list[Stage]:
    """The car's slots against the house, with the net grid power capped per slot; a slot
    whose cap leaves the car its full power keeps its stage from `free` (the stages without
    a cap), when given and nothing is added to the import price. `slots`: only these slots'
    stages, with `import_extra` on their import price (what one more kWh of the hour's
    import is worth, `_solve_priced`)."""
    request = car.request
    charge, discharge = request.charge, request.discharge
    site = request.site
    import_limit = math.inf if site is None else site.import_cap_kw
    export_limit = math.inf if site is None else site.export_cap_kw
    hours_list = car.horizon.hours
    reaches: dict[tuple[float, float], SlotReach] = {}
    held_runs = {t: (first, last) for t, first, last in car.held_runs}
    out: list[Stage] = []
    for t in range(len(hours_list)) if slots is None else slots:
        hours, price = hours_list[t], car.horizon.prices[t]
        load = house[t]
        net_cap = min(max(import_limit, load), net_caps[t])
        cap = min(charge.max_kw, max(0.0, net_cap - load))
        if free is not None and not import_extra and net_cap >= load and cap >= charge.max_kw:
            out.append(free[t])
            continue
        reach = _slot_reach(car, hours, cap, reaches)
        can_charge = cap > 0.0 and (reach.flat_shift is None or reach.flat_shift > 0.0)
        eta = charge.efficiency
        imp = price.import_price + import_extra
        export = 0.0 if price.export_price is None else price.export_price
        charge_costs: tuple[tuple[float, float], ...] = ((math.inf, imp / eta),)
        if load < 0.0:
            charge_costs = ((-load * hours * eta, export / eta), (math.inf, imp / eta))
        discharge_costs: tuple[tuple[float, float], ...] = ()
        if discharge is not None and discharge.max_kw > 0.0 and price.export_price is not None:
            power = min(discharge.max_kw, max(0.0, load + export_limit))
            total = hours * power / discharge.efficiency
            wear, eta_d = discharge.wear_cost_per_kwh, discharge.efficiency
            if total > 0.0:
                saved = covering_kwh(hours, load, eta_d)
                if saved > 0.0:
                    discharge_costs = ((min(saved, total), wear - eta_d * imp),)
                if saved < total:
                    discharge_costs += ((total, wear - eta_d * export),)
        if t in held_runs:
            charge_costs, discharge_costs = held_to_run(charge_costs, discharge_costs, held_runs[t])
        forced = 0.0
        if net_cap < load:
            forced = math.inf
            if discharge_costs and discharge is not None:
                forced = hours * (load - net_cap) / discharge.efficiency
                # A cap at what full discharge leaves (a mix's grid power) may ask a rounding
                # more than full discharge, which no move would then meet.
                deepest = discharge_costs[-1][0]
                if deepest < forced <= deepest + _REACH_MARGIN_KWH:
                    forced = deepest
        out.append(
            Stage(
                reach=reach,
                can_charge=can_charge,
                charge=charge_costs,
                discharge=discharge_costs,
                min_kw=charge.min_kw,
                gain=hours * eta,
                curve=car.curve,
                forced_kwh=forced,
            )
        )
    return out


def _slot_reach(
    car: Car, hours: float, cap: float, reaches: dict[tuple[float, float], SlotReach]
) -> SlotReach:
    """The reach of a slot of `hours` charging at most `cap` kW; `reaches` keeps them."""
    charge = car.request.charge
    reach = reaches.get((hours, cap))
    if reach is None and not charge.taper and cap < charge.max_kw:
        reach = SlotReach.flat(0.0 + hours * charge.efficiency * cap, car.curve.upper_kwh)
    if reach is None:
        curve = car.curve
        if cap < charge.max_kw:
            capacity = car.request.battery.capacity_kwh
            upper = car.curve.upper_kwh
            curve = ChargeCurve.build(capacity, cap, charge.taper, charge.efficiency, upper)
        reach = reaches[hours, cap] = SlotReach.build(curve, hours)
    return reach


def reach_bounds(car: Car, slots: list[Stage]) -> tuple[list[float], list[float], bool]:
    """The highest (full power) and lowest (full discharge) energy at every boundary, and
    whether every forced discharge can be made."""
    high = [car.start_kwh]
    low = [car.start_kwh]
    feasible = True
    for stage in slots:
        energy = high[-1]
        if stage.forced_kwh > 0.0:
            feasible = feasible and stage.forced_kwh <= stage.discharge_kwh
            feasible = feasible and energy - stage.forced_kwh >= car.floor_kwh - 1e-9
            high.append(max(car.floor_kwh, energy - stage.forced_kwh))
        elif not stage.idles:
            # An hour that must discharge ends no higher than its furthest move takes it.
            furthest = max(end for _, end, _, _ in stage.windows)
            high.append(max(car.floor_kwh, min(stage.top(energy), energy + furthest)))
        else:
            top = stage.top(energy)
            high.append(top if stage.least_charge(energy) <= top else energy)
        # Only a stage that must move reaches deeper by its windows than by its discharge.
        deepest = stage.discharge_kwh if stage.idles else stage.deepest_kwh
        low.append(max(car.floor_kwh, low[-1] - deepest))
    return high, low, feasible


def _reach_under_cap(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    built: _Items[HourStage],
    free: list[Stage],
    priced: list[list[int]],
) -> tuple[list[float], bool]:
    """`reach_bounds`' highest energy at every item boundary of `built`, and whether every
    forced discharge can be made. The `priced` hours (`_solve_priced`) charge as early as
    their budget allows, which reaches the most at every boundary (with a taper and solar
    later in the hour, the grid's share as late as it can go: `_latest_reach`); the other
    hours keep their stages. An hour the house alone takes over the cap keeps its per-slot
    caps."""
    hours = car.horizon.hours
    discharge = car.request.discharge
    # The spare import of each early hour, by its first slot; and all of their slots.
    spare: dict[int, float] = {}
    early: set[int] = set()
    reach = free_high(car, house)
    for group in priced:
        own = sum(hours[t] * max(house[t], 0.0) for t in group)
        budget = hour_budget(car, group, peak_cap)
        # Covering the house from the car in the hour leaves more to charge with: an upper
        # bound, which the search checks by solving (`_search_peak`).
        saved = 0.0
        if discharge is not None and reach[group[-1] + 1] > car.floor_kwh:
            saved = sum(
                hours[t] * min(discharge.max_kw, max(house[t], 0.0))
                for t in group
                if free[t].discharge_kwh > 0.0
            )
        if own <= budget + saved:
            spare[group[0]] = budget - own + saved
            early.update(group)
    # With a taper, grid energy taken early in an hour can cost the solar of a later slot.
    late = {} if car.curve.is_flat else {group[0]: group for group in priced}
    latest: dict[int, float] = {}
    high = [car.start_kwh]
    feasible = True
    left = 0.0
    for k, (item, hour) in enumerate(zip(built.items, built.hours, strict=True)):
        t = built.ends[k]
        energy = high[-1]
        if hour is not None or t not in early:
            reached, possible = _reach_step(car, item, energy)
            feasible = feasible and possible
            high.append(reached)
            continue
        left = spare.get(t, left)
        if t in spare and any(house[s] < 0.0 for s in late.get(t, [])[1:]):
            ends = _latest_reach(car, house, late[t], energy, left, free)
            latest.update(zip(late[t], ends, strict=True))
        reached, spent = _charged(car, house, free[t], t, energy, left / hours[t])
        left = max(0.0, left - spent)
        high.append(max(reached, latest.get(t, reached)))
    return high, feasible


def _charged(
    car: Car, house: Sequence[float], stage: Stage, t: int, energy: float, grid_kw: float
) -> tuple[float, float]:
    """The energy after slot `t` charging all it can from `energy` with the slot's solar
    surplus and `grid_kw` more from the grid, and the import (kWh) that adds."""
    hours, eta = car.horizon.hours[t], car.request.charge.efficiency
    room = max(-house[t], 0.0) + grid_kw
    reached = max(energy, min(stage.top(energy), energy + hours * eta * room))
    drawn = house[t] + (reached - energy) / (hours * eta)
    return reached, hours * (max(drawn, 0.0) - max(house[t], 0.0))


def _latest_reach(
    car: Car,
    house: Sequence[float],
    group: list[int],
    energy: float,
    spare: float,
    free: list[Stage],
) -> list[float]:
    """The highest energy after each slot of an early hour, from `energy` with `spare` kWh of
    the hour's import to spend, for a tapering car.

    Solar surplus is taken in full wherever it is, and the grid's share as late as it can go:
    energy taken earlier only lowers what the taper lets a later slot take, so the most at a
    slot's end has the slots before it full from some slot on and that slot's grid share
    partial (found by halving; the spending rises with it)."""
    hours = car.horizon.hours

    def run(slots: list[int], full_from: int, partial: float) -> tuple[float, float]:
        """The energy after `slots`, and the import spent, with the slots from `full_from`
        on at their full reach and `partial` kWh of import in the one before."""
        reached, spent = energy, 0.0
        for index, t in enumerate(slots):
            grid = math.inf if index >= full_from else 0.0
            if index == full_from - 1:
                grid = partial / hours[t]
            reached, more = _charged(car, house, free[t], t, reached, grid)
            spent += more
        return reached, spent

    ends: list[float] = []
    for last in range(len(group)):
        slots = group[: last + 1]
        best, _ = run(slots, len(slots), 0.0)
        for full_from in range(len(slots) - 1, -1, -1):
            reached, spent = run(slots, full_from, 0.0)
            if spent <= spare:
                best = reached
                continue
            low, high = 0.0, spare
            for _ in range(_LATEST_STEPS):
                middle = 0.5 * (low + high)
                reached, spent = run(slots, full_from + 1, middle)
                if spent <= spare:
                    low, best = middle, max(best, reached)
                else:
                    high = middle
            break
        ends.append(best)
    return ends


def _reach_step(car: Car, stage: Stage, energy: float) -> tuple[float, bool]:
    """The highest energy after one stage from `energy`, and whether its forced discharge
    can be made (as `reach_bounds` steps)."""
    if stage.forced_kwh > 0.0:
        possible = stage.forced_kwh <= stage.discharge_kwh
        possible = possible and energy - stage.forced_kwh >= car.floor_kwh - 1e-9
        return max(car.floor_kwh, energy - stage.forced_kwh), possible
    top = stage.top(energy)
    return (top if stage.least_charge(energy) <= top else energy), True


def lower_bounds(car: Car, reach_high: list[float]) -> list[float]:
    """What the targets and the protective level ask of every boundary, as far as reachable."""
    request = car.request
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    lower = [max(car.floor_kwh, min(protective, high - _REACH_MARGIN_KWH)) for high in reach_high]
    for rule in car.rules:
        b = rule.index
        lower[b] = max(lower[b], min(rule.required, reach_high[b] - _REACH_MARGIN_KWH))
    return lower


def solve(
    car: Car, house: Sequence[float], peak_cap: float = math.inf
) -> tuple[list[float], list[Stage]]:
    """The cheapest path at this cap on the hourly import, and its stages."""
    path, followed = _solve_lazily(car, house, peak_cap)
    return path, followed()


def _solve_lazily(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    exact: list[bool] | None = None,
) -> tuple[list[float], Callable[[], list[Stage]]]:
    """`solve`, with the stages made only when asked for: a search keeps one path of many.
    `exact` gets True when every hour's budget was shared out exactly (`solve_by_hours`)."""
    if _takes_hours(car, peak_cap):
        shared = solve_by_hours(car, house, peak_cap, exact)
        if shared is not None:
            return shared
    if math.isfinite(peak_cap) and car.request.charge.min_kw > 0.0:
        path, slots = _solve_minimum_under_cap(car, house, peak_cap)
    else:
        path, slots = _solve_by_slots(car, house, peak_cap)
    return path, lambda: slots


def _solve_minimum_under_cap(
    car: Car, house: Sequence[float], peak_cap: float
) -> tuple[list[float], list[Stage]]:
    """The cheapest path with a minimum power at this cap: the hours that can take it as one
    stage do, and the cheapest of a few ways is kept. An hour the house alone takes over its
    budget is one stage that must discharge, or its slots with the house's import cut to one
    level (`hour_caps`): the stage shares the cover out better but, where export pays more
    than import, may price its moves wrongly. A tapering car's hours that may reach its knee
    aren't one stage (`_minimum_hours`), but where no target or protective level lies above
    the knee, they are tried as one stage that stays below it too."""
    best = solve_minimum_by_hours(car, house, peak_cap)
    if best is None:
        best = _solve_by_slots(car, house, peak_cap)
    every_hour = frozenset(group[0] for group in car.hour_groups)
    ways = [(frozenset[int](), False)] if _drains_may_bend(car, house, peak_cap) else []
    if _knee_bounds_hours(car):
        ways.append((every_hour, True))
    for knee_hours, drained in ways:
        solved = solve_minimum_by_hours(car, house, peak_cap, knee_hours, drained)
        if solved is not None and _cheaper(car, house, solved[0], best[0]):
            best = solved
    if len(car.horizon.hours) > _SEARCHED_ALONE_SLOTS and (
        below := _hours_below_knee(car, best[0])
    ):
        solved = solve_minimum_by_hours(car, house, peak_cap, below)
        if solved is not None and _cheaper(car, house, solved[0], best[0]):
            best = solved
    return best


def _hours_below_knee(car: Car, path: list[float]) -> frozenset[int]:
    """The hours of several slots (by first slot) that the path goes through below the knee
    of a tapering car: one stage kept below it, such an hour shares its budget between its
    slots at the minimum power exactly."""
    if car.curve.is_flat:
        return frozenset()
    limit = car.knee_kwh - _REACH_MARGIN_KWH
    energies = [car.start_kwh, *path]
    return frozenset(
        group[0]
        for group in car.hour_groups
        if len(group) > 1 and max(energies[group[0] : group[-1] + 2]) <= limit
    )


def _drains_may_bend(car: Car, house: Sequence[float], peak_cap: float) -> bool:
    """Whether an hour the house alone takes over its budget has a slot whose export pays
    more than its import, where a V2G car may discharge: only there may that hour's one stage
    price its moves wrongly."""
    if car.request.discharge is None:
        return False
    prices = car.horizon.prices
    return any(
        _house_over_budget(car, house, group, peak_cap)
        and any((prices[t].export_price or 0.0) > prices[t].import_price for t in group)
        for group in car.hour_groups
    )


def _cheaper(car: Car, house: Sequence[float], path: list[float], than: list[float]) -> bool:
    """Whether a path misses less of the targets than another, or as much for less."""
    missed, kept = missed_kwh(car, path), missed_kwh(car, than)
    if missed < kept - _MET_TOLERANCE_KWH:
        return True
    if missed > kept + _MET_TOLERANCE_KWH:
        return False
    return evaluate(car, house, path, []).cost < evaluate(car, house, than, []).cost


def _knee_bounds_hours(car: Car) -> bool:
    """Whether a tapering car's hours may be kept below its knee: it charges at full power
    up to a knee above the floor, and needs no energy above it. Only beyond
    `_SEARCHED_ALONE_SLOTS`: within it the site's search takes the hours slot by slot, and the
    extra solve at every cap made one 92-quarter case take 57 s against 16 s."""
    if len(car.horizon.hours) <= _SEARCHED_ALONE_SLOTS:
        return False
    request = car.request
    knee = car.knee_kwh
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    needed = max((rule.required for rule in car.rules), default=-math.inf)
    return not car.curve.is_flat and car.floor_kwh < knee and max(protective, needed) <= knee


def _minimum_hours(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    knee_hours: frozenset[int] = frozenset(),
    drained: bool = True,
) -> set[int]:
    """The hours (by first slot) planned as one stage with a minimum power: several slots, a
    flat charge curve (or one that can't taper yet by the hour's end, or one of `knee_hours`:
    kept below where it tapers, or with `drained` the house alone is over its budget), no target
    inside, the protective level reachable before the hour, and a cap the car at full power
    would break."""
    curve = car.curve
    request = car.request
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    free = stages(car, house)
    high, _, _ = reach_bounds(car, free)
    inside = car.target_ends
    out: set[int] = set()
    for group in car.hour_groups:
        first, last = group[0], group[-1]
        if len(group) < 2 or any(first < b <= last for b in inside):
            continue
        # An hour the house alone takes over its budget must discharge, and the taper binds
        # less there: it is one stage all the same.
        tapers = not curve.is_flat and high[last + 1] > car.knee_kwh
        over = drained and _house_over_budget(car, house, group, peak_cap)
        below_knee = first in knee_hours
        if tapers and not below_knee and not over:
            continue
        if protective > car.floor_kwh and high[first] < protective + _REACH_MARGIN_KWH:
            continue
        # Kept below the knee, a tapering slot charges at full power.
        if _may_bind(car, free, house, group, peak_cap, below_knee):
            out.add(first)
    return out


def _house_over_budget(car: Car, house: Sequence[float], group: list[int], peak_cap: float) -> bool:
    """Whether the house alone imports more in the hour than the cap allows."""
    hours = car.horizon.hours
    own = sum(hours[t] * max(house[t], 0.0) for t in group)
    return own > hour_budget(car, group, peak_cap) + _BUDGET_TOLERANCE_KWH


def _minimum_items(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    knee_hours: frozenset[int] = frozenset(),
    drained: bool = True,
) -> _Items[MinimumHour] | None:
    """The stages at this cap, hours with a minimum power as one stage (without `drained`,
    only where the house alone keeps to the cap); None when no hour is one stage, or nothing
    differs from the usual way (with `knee_hours`, none is kept below the knee; without
    `drained`, no hour is over its budget)."""
    eligible = _minimum_hours(car, house, peak_cap, knee_hours, drained)
    if not eligible:
        return None
    capped = capped_stages(car, house, hour_caps(car, house, peak_cap))
    free = stages(car, house)
    # Only an hour the battery can end full in needs the moves that top it up.
    high, upper = free_high(car, house), car.curve.upper_kwh - _REACH_MARGIN_KWH
    built: _Items[MinimumHour] = _Items()
    bounded = split = False
    for group in car.hour_groups:
        budget = hour_budget(car, group, peak_cap)
        hour = None
        if not drained and _house_over_budget(car, house, group, peak_cap):
            split = True
        elif group[0] in eligible:
            ceiling = math.inf
            if not car.curve.is_flat and high[group[-1] + 1] > car.knee_kwh:
                ceiling, bounded = car.knee_kwh, True
            fills = high[group[-1] + 1] >= upper and math.isinf(ceiling)
            hour = minimum_hour(car, group, house, budget, free, fills, ceiling)
        if hour is not None:
            built.add_hour(hour.stage, hour, group)
        else:
            built.add_slots(capped, group)
    if all(hour is None for hour in built.hours) and (drained or not split):
        return None
    if (knee_hours and not bounded) or (not drained and not split):
        return None
    return built


def solve_minimum_by_hours(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    knee_hours: frozenset[int] = frozenset(),
    drained: bool = True,
) -> tuple[list[float], list[Stage]] | None:
    """The cheapest path with a minimum power, the hours that take it as one stage (with
    `knee_hours`, also those of them kept below the knee; with `drained`, also those the house
    alone takes over the budget); None when no hour does (`_minimum_items`)."""
    built = _minimum_items(car, house, peak_cap, knee_hours, drained)
    if built is None:
        return None
    high, low, _ = reach_bounds(car, built.items)
    lower = _lower_at(car, high, built.ends)
    path = solve_with_minimum(car, built.items, (lower, low, high))
    slot_path: list[float] = []
    energy = car.start_kwh
    for hour, end in zip(built.hours, path, strict=True):
        if hour is not None:
            full = end >= car.curve.upper_kwh - _REACH_MARGIN_KWH
            for move in hour.moves(end - energy, full, energy)[:-1]:
                energy += move
                slot_path.append(energy)
        slot_path.append(end)
        energy = end
    pcs, _ = powers(car, slot_path)
    caps = hour_caps(car, house, peak_cap)
    for hour in built.hours:
        if hour is not None:
            for t in hour.slots:
                caps[t] = max(house[t] + pcs[t], house[t], 0.0)
    slots = capped_stages(car, house, caps)
    return _kept_to_minimum(slots, car.start_kwh, slot_path), slots


def _solve_by_slots(
    car: Car, house: Sequence[float], peak_cap: float
) -> tuple[list[float], list[Stage]]:
    """The cheapest path with each hour's budget shared out to its slots by `hour_caps`."""
    slots = stages(car, house, peak_cap)
    high, low, _ = reach_bounds(car, slots)
    lower = lower_bounds(car, high)
    if car.request.charge.min_kw > 0.0:
        return solve_with_minimum(car, slots, (lower, low, high)), slots
    return optimal_site_path(slots, car.start_kwh, lower, low, high), slots


def solve_with_minimum(
    car: Car, slots: list[Stage], bounds: tuple[list[float], list[float], list[float]]
) -> list[float]:
    """The cheapest path that keeps the minimum charging power.

    Without the minimum the problem is easier and its optimum no dearer, and the same holds
    with the minimum on some slots only: when that plan keeps the minimum everywhere, it is
    the optimum. So the minimum goes only to the slots whose plan breaks it, for a few rounds;
    then to every slot.
    """
    lower, low, high = bounds
    relaxed = [replace(stage, min_kw=0.0) for stage in slots]
    # A round's new slots are mostly early ones: the value functions after them are kept.
    memo = PathMemo()
    for _ in range(_MINIMUM_ROUNDS):
        path = optimal_site_path(relaxed, car.start_kwh, lower, low, high, memo)
        broken = below_minimum(slots, car.start_kwh, path)
        if not broken:
            return _kept_to_minimum(slots, car.start_kwh, path)
        for t in broken:
            relaxed[t] = slots[t]
    path = optimal_site_path(slots, car.start_kwh, lower, low, high, memo)
    return _kept_to_minimum(slots, car.start_kwh, path)


def _kept_to_minimum(slots: list[Stage], start_kwh: float, path: list[float]) -> list[float]:
    """The path with each charge kept within [minimum, top]: the value functions give a step
    a width of a hair, so a move may end that hair beyond the slot's reach; the hair is dropped
    rather than charged below the minimum in the next slot."""
    out: list[float] = []
    energy = start_kwh
    for stage, planned in zip(slots, path, strict=True):
        target = planned
        if target > energy + _REACH_MARGIN_KWH:
            top = stage.top(energy)
            least = stage.least_charge(energy)
            if target < least - _HAIR_KWH or top < least - _REACH_MARGIN_KWH:
                target = energy
            else:
                target = min(max(target, least), top)
        out.append(target)
        energy = target
    return out


def _takes_hours(car: Car, peak_cap: float) -> bool:
    """Whether hours of several slots are planned as one stage at this cap."""
    several = any(len(group) > 1 for group in car.hour_groups)
    return math.isfinite(peak_cap) and several and car.request.charge.min_kw <= 0.0


@dataclass(frozen=True, slots=True)
class _Items[Hour]:
    """The stages of one solve: an hour as one stage (its `Hour`), or its slots with per-slot
    caps (None in `hours`)."""

    items: list[Stage] = field(default_factory=list)
    hours: list[Hour | None] = field(default_factory=list)
    # The slot boundary at each item boundary.
    ends: list[int] = field(default_factory=lambda: [0])

    def add_hour(self, stage: Stage, hour: Hour, group: list[int]) -> None:
        """The hour of these slots as one stage."""
        self.items.append(stage)
        self.hours.append(hour)
        self.ends.append(group[-1] + 1)

    def add_slots(self, capped: Sequence[Stage], group: list[int]) -> None:
        """The hour of these slots as its slots, each under its own cap."""
        self.items.extend(capped[t] for t in group)
        self.hours.extend(None for _ in group)
        self.ends.extend(t + 1 for t in group)


def _hour_items(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    eligible: set[int],
    free: list[Stage],
    reach_only: bool = False,
    built: dict[int, HourStage | None] | None = None,
) -> _Items[HourStage] | None:
    """The stages at this cap, from the stages without one (`free`); `built` keeps the hour
    stages between tries."""
    staged = {
        group[0]
        for group in car.hour_groups
        if group[0] in eligible and _may_bind(car, free, house, group, peak_cap, True)
    }
    # An hour planned as one stage needs no capped stage for its slots: only the others get
    # their caps and stages.
    unstaged = [group for group in car.hour_groups if group[0] not in staged]
    slots = [t for group in unstaged for t in group]
    capped = list(free)
    caps = hour_caps(car, house, peak_cap, unstaged)
    for t, stage in zip(slots, capped_stages(car, house, caps, free, slots), strict=True):
        capped[t] = stage
    built = {} if built is None else built
    made: _Items[HourStage] = _Items()
    for group in car.hour_groups:
        first = group[0]
        if first not in staged:
            made.add_slots(capped, group)
            continue
        if first not in built:
            pieces = _kept_hour_pieces(car, house, group, free)
            built[first] = hour_stage(car, pieces, peak_cap, reach_only)
        hour = built[first]
        if hour is None:
            return None
        made.add_hour(hour.stage, hour, group)
    return made


def _may_bind(
    car: Car,
    free: list[Stage],
    house: Sequence[float],
    group: list[int],
    peak_cap: float,
    taper_at_full: bool = False,
) -> bool:
    """Whether charging at full power could take the hour over the cap; `taper_at_full`
    counts a tapering slot at the charger's full power (else it counts as not charging)."""
    hours = car.horizon.hours
    eta = car.request.charge.efficiency
    most = 0.0
    for t in group:
        stage = free[t]
        shift = stage.reach.flat_shift
        if shift is None and taper_at_full:
            shift = hours[t] * eta * car.request.charge.max_kw
        power = (shift or 0.0) / (hours[t] * eta) if stage.can_charge else 0.0
        most += hours[t] * max(0.0, house[t] + power)
    return most > hour_budget(car, group, peak_cap)


def solve_by_hours(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    exact: list[bool] | None = None,
) -> tuple[list[float], Callable[[], list[Stage]]] | None:
    """The cheapest path with each hour that can take it as one stage (`peak.py`), apart from
    the hours that fell back to per-slot caps in an earlier round; None when an hour can't
    keep to the cap even by discharging.
    `exact` gets whether no hour was left to per-slot caps that share its budget by guess.

    An hour counts as tapering (its import priced, `_unshared_hours`) only where the plan's
    charge is held by the taper in it: the other hours plan as with a flat curve, which lets
    the car charge at least as much, so a plan the taper holds nowhere else is the optimum.
    Each round prices the hours the last plan took into the taper, until none is new. An hour
    taken as one stage lets the car charge as with a flat curve, more than it can; per-slot
    caps share an hour's budget as for a flat curve, which a tapering car may not be able to
    use: where no plan keeps to the cap, every such hour the car may taper in is priced
    before giving up."""
    free = stages(car, house)
    key = tuple(house)
    tapering = set(car.tapering.get(key, ()))
    fallen: set[int] = set()
    for _ in range(_TAPER_ROUNDS):
        shared = _shared_by_hours(car, house, peak_cap, fallen, tapering)
        if shared is None:
            capped = _may_taper_hours(car, house) - (_stage_hours(car, house) - fallen)
            wider = tapering | capped
            if wider == tapering:
                return None
            tapering = wider
            continue
        slot_path, followed, priced_exactly = shared
        held = _taper_held_hours(car, free, slot_path)
        if held <= tapering or priced_exactly is None:
            car.tapering[key] = held
            if exact is not None:
                exact.append(bool(priced_exactly) and held <= tapering)
            return slot_path, partial(_followed_stages, car, house, peak_cap, slot_path, followed)
        tapering |= held
    # No round settled: every hour the car may taper in is priced.
    car.tapering.pop(key, None)
    shared = _shared_by_hours(car, house, peak_cap, fallen, _may_taper_hours(car, house))
    if shared is None:
        return None
    slot_path, followed, _ = shared
    if exact is not None:
        exact.append(False)
    return slot_path, partial(_followed_stages, car, house, peak_cap, slot_path, followed)


def _shared_by_hours(
    car: Car, house: Sequence[float], peak_cap: float, fallen: set[int], tapering: set[int]
) -> tuple[list[float], list[int], bool | None] | None:
    """One plan of `solve_by_hours` with the `tapering` hours priced: the path, the slots it
    follows at their own grid power, and whether the priced hours were exact (None: too many
    hours to price, their budgets shared out by per-slot caps); None as `solve_by_hours`."""
    free = stages(car, house)
    eligible = _stage_hours(car, house) - fallen - tapering
    hour_stages = _kept_hour_stages(car, house, peak_cap)
    for _ in range(_HOUR_ROUNDS):
        car.priced_mix.pop((tuple(house), peak_cap), None)
        built = _hour_items(car, house, peak_cap, eligible, free, built=hour_stages)
        if built is None:
            return None
        high, low, _ = reach_bounds(car, built.items)
        lower = _lower_at(car, high, built.ends)
        followed = [t for hour in built.hours if hour is not None for t in hour.slots]
        unshared = _unshared_hours(car, house, peak_cap, free, built, tapering)
        groups = unshared or []
        if not groups:
            path = optimal_site_path(built.items, car.start_kwh, lower, low, high)
            slot_path, broken = _expand(car, built, path, lower)
            if unshared is None and not broken:
                slot_path, reshared = _reshared(car, house, peak_cap, built, slot_path)
                followed += reshared
        else:
            solved = _solve_priced(car, house, peak_cap, built, groups)
            if solved is None:
                return None
            slot_path, broken = solved
            followed += [t for group in groups for t in group]
        if not broken:
            # Prices mix plans, which is exact only where the slots' costs are convex.
            convex = all(free[t].is_convex() for group in groups for t in group)
            return slot_path, followed, None if unshared is None else convex
        eligible -= broken
        fallen |= broken
    return None


def _taper_held_hours(car: Car, free: list[Stage], path: list[float]) -> set[int]:
    """The hours of several slots (by first slot) where the path charges a slot into the taper
    (up to its knee or past it) as far as the taper lets it from where it starts, or further."""
    curve = car.curve
    if curve.is_flat:
        return set()
    knee = car.knee_kwh
    out: set[int] = set()
    for group in car.hour_groups:
        if len(group) < 2:
            continue
        for t in group:
            energy = car.start_kwh if t == 0 else path[t - 1]
            move = path[t] - energy
            stage = free[t]
            if not stage.tapers or move <= _TAPER_HELD_KWH:
                continue
            if path[t] < knee - _TAPER_HELD_KWH:
                continue
            if move >= stage.top(energy) - energy - _TAPER_HELD_KWH:
                out.add(group[0])
                break
    return out


def _may_taper_hours(car: Car, house: Sequence[float]) -> set[int]:
    """The hours (by first slot) the car may reach its taper by the end of, charging at full
    power from now."""
    high = free_high(car, house)
    return {group[0] for group in car.hour_groups if _tapers_within(car, group, high)}


def _reshared(
    car: Car, house: Sequence[float], peak_cap: float, built: _Items[HourStage], path: list[float]
) -> tuple[list[float], list[int]]:
    """The path with the per-slot caps of its hours shared out again where the car left part
    of an hour's budget unused, and the slots whose caps changed.

    `hour_caps` gives an hour's spare import to its cheapest slots, each up to the charger's
    power; a car in its taper takes less, and the rest of the budget is lost. Each round, the
    slots that took less than their cap keep what they took, and what they left goes to the
    hour's other slots by price. The last plan keeps to the new caps, so each round's plan
    costs no more; the rounds stop when one gains nothing."""
    staged = {hour.slots[0] for hour in built.hours if hour is not None}
    groups = [g for g in car.hour_groups if len(g) > 1 and g[0] not in staged]
    caps = hour_caps(car, house, peak_cap, groups)
    item_of = {end: k for k, end in enumerate(built.ends)}
    items = list(built.items)
    best, best_cost = path, _path_cost(car, house, path)
    changed: set[int] = set()
    for _ in range(_RESHARE_ROUNDS):
        pcs, pds = powers(car, best)
        net = [load + pc - pd for load, pc, pd in zip(house, pcs, pds, strict=True)]
        moved = [t for g in groups for t in _reshare_hour(car, house, peak_cap, g, caps, net)]
        if not moved:
            break
        for t, stage in zip(moved, capped_stages(car, house, caps, slots=moved), strict=True):
            items[item_of[t]] = stage
        high, low, _ = reach_bounds(car, items)
        lower = _lower_at(car, high, built.ends)
        solved = optimal_site_path(items, car.start_kwh, lower, low, high)
        candidate, broken = _expand(car, built, solved, lower)
        cost = _path_cost(car, house, candidate)
        if broken or missed_kwh(car, candidate) > missed_kwh(car, best) + _REACHED_KWH:
            break
        if cost >= best_cost - 1e-12 * (1.0 + abs(best_cost)):
            break
        best, best_cost = candidate, cost
        changed.update(moved)
    return best, sorted(changed)


def _reshare_hour(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    group: list[int],
    caps: list[float],
    net: list[float],
) -> list[int]:
    """One hour's caps shared out again (in place): slots under their cap keep what they took,
    the rest of the budget goes to the slots at their cap by price. The slots changed."""
    hours, prices = car.horizon.hours, car.horizon.prices
    budget = hour_budget(car, group, peak_cap)
    if _import_of(car, net, group) > budget - _RESHARE_KWH:
        return []
    site = car.request.site
    fuse = math.inf if site is None else site.import_cap_kw
    new: dict[int, float] = {}
    full: list[int] = []
    for t in group:
        if net[t] < caps[t] - _RESHARE_KWH / hours[t]:
            new[t] = max(net[t], house[t], 0.0)
        else:
            full.append(t)
    spare = budget - sum(hours[t] * new.get(t, caps[t]) for t in group)
    given = False
    for t in sorted(full, key=lambda t: prices[t].import_price):
        most = min(max(house[t], 0.0) + car.request.charge.max_kw + min(house[t], 0.0), fuse)
        extra = max(0.0, min(most - caps[t], spare / hours[t]))
        if extra > _RESHARE_KWH / hours[t]:
            new[t] = caps[t] + extra
            spare -= extra * hours[t]
            given = True
    if not given:
        return []
    for t, cap in new.items():
        caps[t] = cap
    return list(new)


def _path_cost(car: Car, house: Sequence[float], path: list[float]) -> float:
    """What the house pays for energy and wear along a path (the tariff apart)."""
    pcs, pds = powers(car, path)
    net = [load + pc - pd for load, pc, pd in zip(house, pcs, pds, strict=True)]
    return energy_cost(car, net) + wear_cost(car, pds)


def _kept_hour_stages(
    car: Car, house: Sequence[float], peak_cap: float
) -> dict[int, HourStage | None]:
    """The hours' stages at this cap (by first slot), kept for the plan's other solves there:
    only the last cap's, as a search moves on."""
    key = (tuple(house), peak_cap)
    kept = car.hour_stages.get(key)
    if kept is None:
        car.hour_stages.clear()
        kept = car.hour_stages[key] = {}
    return kept


def _unshared_hours(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    free: list[Stage],
    built: _Items[HourStage],
    tapering: set[int],
) -> list[list[int]] | None:
    """The hours of several slots, not taken as one stage, whose budget per-slot caps can't
    share out exactly at this cap, so their import is priced (`_solve_priced`): a target or
    the protective level inside it, a dip below the floor, or the taper reached in it (the
    `tapering` hours). None
    when there are more than `_PRICED_HOURS` of them; then per-slot caps stay (a heuristic
    for them)."""
    staged = {hour.slots[0] for hour in built.hours if hour is not None}
    candidates = [
        group
        for group in car.hour_groups
        if len(group) > 1
        and group[0] not in staged
        and _may_bind(car, free, house, group, peak_cap, taper_at_full=True)
    ]
    if not candidates:
        return []
    request = car.request
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    high = free_high(car, house)
    inside = car.target_ends
    found: list[list[int]] = []
    for group in candidates:
        first, last = group[0], group[-1]
        plain = (
            all(free[t].discharge_kwh <= 0.0 for t in group)
            and not any(first < b <= last for b in inside)
            and not (protective > car.floor_kwh and high[first] < protective + _REACH_MARGIN_KWH)
            and first not in tapering
        )
        if plain:
            continue
        found.append(group)
    return found if len(found) <= _PRICED_HOURS else None


def _budget_hours(
    car: Car, house: Sequence[float], peak_cap: float, free: list[Stage], built: _Items[HourStage]
) -> list[list[int]]:
    """The hours whose reach under the cap `_lowest_feasible_cap` takes from their whole
    budget rather than their per-slot caps: those whose import is priced; with a taper, every
    hour of several slots not taken as one stage that the cap may bind, since per-slot caps
    give the budget to slots the tapering car can't use it in."""
    if car.curve.is_flat:
        return _unshared_hours(car, house, peak_cap, free, built, set()) or []
    staged = {hour.slots[0] for hour in built.hours if hour is not None}
    return [
        group
        for group in car.hour_groups
        if len(group) > 1
        and group[0] not in staged
        and _may_bind(car, free, house, group, peak_cap, taper_at_full=True)
    ]


@dataclass(frozen=True, slots=True)
class _Priced:
    """One solve with a price on the hour's import: the path, its cost and the hour's import."""

    price: float
    path: list[float]
    broken: set[int]
    # The Lagrangian's value: cost + price * (import - budget); and import - budget.
    value: float
    excess: float

    @classmethod
    def of(cls, price: float, plan: PricedPlan) -> _Priced:
        excess = plan.excess[0]
        return cls(price, plan.path, plan.broken, plan.cost + price * excess, excess)


def _solve_priced(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    built: _Items[HourStage],
    groups: list[list[int]],
) -> tuple[list[float], set[int]] | None:
    """The cheapest path with the `groups`' import budgets priced rather than shared out.

    With a price `nu` per kWh of an hour's import, its slots are ordinary slots whose import
    costs `nu` more, and the plan is exact for that price. For one hour, the Lagrangian's value
    is concave in `nu`, piecewise linear; its highest point is found by intersecting tangents,
    and the plans on either side of it are mixed to use the budget exactly: the cheapest plan
    at this cap where every slot's cost is convex (`_capped_again` where not). Several hours'
    prices are found together (`hour_prices.py`). None when no price can keep the hours to the
    cap.
    """
    budgets = [hour_budget(car, group, peak_cap) for group in groups]
    # The hours' own reach: per-slot caps would bound them by one way of sharing the budget.
    free = stages(car, house)
    relaxed = list(built.items)
    spans = [(built.ends.index(group[0]), group) for group in groups]
    for index, group in spans:
        relaxed[index : index + len(group)] = [free[t] for t in group]
    high, low, _ = reach_bounds(car, relaxed)
    lower = _lower_at(car, high, built.ends)

    made: list[_KeptPlan] = []

    def solve_at(prices: Sequence[float]) -> PricedPlan:
        items = list(built.items)
        for (index, group), price in zip(spans, prices, strict=True):
            items[index : index + len(group)] = capped_stages(
                car, house, [math.inf] * len(house), slots=group, import_extra=price
            )
        path = optimal_site_path(items, car.start_kwh, lower, low, high)
        slot_path, broken = _expand(car, built, path, lower)
        pcs, pds = powers(car, slot_path)
        net = [load + pc - pd for load, pc, pd in zip(house, pcs, pds, strict=True)]
        excess = [
            _import_of(car, net, group) - budget
            for group, budget in zip(groups, budgets, strict=True)
        ]
        cost = energy_cost(car, net) + wear_cost(car, pds)
        if not broken:
            imports = [_import_of(car, net, group) for group in car.hour_groups]
            made.append(_KeptPlan(slot_path, cost, imports))
        return PricedPlan(slot_path, cost, excess, broken)

    left = solve_at([0.0] * len(groups))
    mixes = [PricedMix(left.cost, [left.path])]
    if max(left.excess) <= _BUDGET_TOLERANCE_KWH or left.broken:
        car.priced_mix[tuple(house), peak_cap] = mixes[-1]
        return left.path, left.broken
    if len(groups) > 1:
        key = (tuple(house), tuple(group[0] for group in groups))
        kept = car.priced_plans.setdefault(key, [])
        warm = _kept_within(car, peak_cap, groups, kept, (lower, built.ends))
        ceiling = _cost_ceiling(car, house)
        solved = mix_within_budgets(solve_at, len(groups), left, ceiling, warm, mixes)
        kept[:] = (kept + made)[-_KEPT_PLANS:]
    else:
        solved = _solve_one_priced(
            lambda price: _Priced.of(price, solve_at([price])), _Priced.of(0.0, left), mixes
        )
    car.priced_mix[tuple(house), peak_cap] = mixes[-1]
    if solved is None or solved[1] or all(item.is_convex() for item in relaxed):
        return solved
    return _capped_again(car, house, peak_cap, built, spans, (lower, low, high), solved)


def _capped_again(
    car: Car,
    house: Sequence[float],
    peak_cap: float,
    built: _Items[HourStage],
    spans: list[tuple[int, list[int]]],
    bounds: tuple[list[float], list[float], list[float]],
    solved: tuple[list[float], set[int]],
) -> tuple[list[float], set[int]]:
    """The mix of priced plans `solved`, or the plan made again with the priced hours' slots
    (at `spans` of the items) capped at the grid power the mix gives them, whichever costs
    least (with the tariff on its own highest average) and misses the targets by no more: where
    a slot's cost bends down, mixing plans moves it off its best, in the priced hours and
    elsewhere. The priced hours the mix keeps under their budget are first left uncapped, a
    plan kept only where it keeps them to it: a cap at the mix's power would hold their slots
    that bend down where the mix left them. `bounds`: the lower bounds and reach of the priced
    solves."""
    # Not at least the house's own load, as `_followed_stages` caps: a slot the mix exports
    # from would then import, and the hour could go over its budget.
    caps = [max(net, 0.0) for net in _net_of(car, house, solved[0])]
    under = [
        span
        for span in spans
        if _import_of(car, caps, span[1])
        < hour_budget(car, span[1], peak_cap) - _BUDGET_TOLERANCE_KWH
    ]
    best, best_cost = solved, evaluate(car, house, solved[0], []).cost
    missed = missed_kwh(car, solved[0]) + _MET_TOLERANCE_KWH
    for uncapped in [under, []] if under else [[]]:
        again = _planned_at_caps(car, house, built, spans, bounds, caps, uncapped)
        if again is None or missed_kwh(car, again) > missed:
            continue
        if uncapped:
            net = _net_of(car, house, again)
            budget_kept = (
                _import_of(car, net, group)
                <= hour_budget(car, group, peak_cap) + _BUDGET_TOLERANCE_KWH
                for _, group in uncapped
            )
            if not all(budget_kept):
                continue
        cost = evaluate(car, house, again, []).cost
        if cost < best_cost:
            best, best_cost = (again, set()), cost
    return best


def _net_of(car: Car, house: Sequence[float], path: list[float]) -> list[float]:
    """The house's net grid power per slot with the car on `path`."""
    pcs, pds = powers(car, path)
    return [load + pc - pd for load, pc, pd in zip(house, pcs, pds, strict=True)]


def _import_of(car: Car, net: Sequence[float], group: list[int]) -> float:
    """The hour's import (kWh) at the slots' net grid powers `net`."""
    hours = car.horizon.hours
    return sum(hours[t] * max(net[t], 0.0) for t in group)


def _planned_at_caps(
    car: Car,
    house: Sequence[float],
    built: _Items[HourStage],
    spans: list[tuple[int, list[int]]],
    bounds: tuple[list[float], list[float], list[float]],
    caps: list[float],
    uncapped: list[tuple[int, list[int]]],
) -> list[float] | None:
    """`_capped_again`'s plan with the hours at `spans` capped at `caps`, apart from the
    `uncapped` ones, left to their own slots; None where an hour's stage breaks."""
    lower, low, high = bounds
    free = stages(car, house)
    items = list(built.items)
    for span in spans:
        index, group = span
        slots = [free[t] for t in group] if span in uncapped else None
        items[index : index + len(group)] = slots or capped_stages(car, house, caps, free, group)
    path = optimal_site_path(items, car.start_kwh, lower, low, high)
    again, broken = _expand(car, built, path, lower)
    return None if broken else again


@dataclass(frozen=True, slots=True)
class _KeptPlan:
    """A plan made at some cap pricing several hours: its path, cost and every hour's import."""

    path: list[float]
    cost: float
    imports: list[float]


def _kept_within(
    car: Car,
    peak_cap: float,
    groups: list[list[int]],
    kept: list[_KeptPlan],
    bounds: tuple[list[float], list[int]],
) -> list[PricedPlan]:
    """The kept plans that are plans at this cap too, with this cap's excesses: every hour not
    priced keeps to its budget here (a plan from a higher cap may not), and every boundary
    keeps to this cap's lower bounds (`lower` at the slot boundaries `ends`)."""
    lower, ends = bounds
    priced = {group[0] for group in groups}
    budgets = [hour_budget(car, group, peak_cap) for group in car.hour_groups]
    index_of = {group[0]: h for h, group in enumerate(car.hour_groups)}
    out: list[PricedPlan] = []
    for plan in kept:
        if any(
            plan.imports[h] > budgets[h] + _BUDGET_TOLERANCE_KWH
            for h, group in enumerate(car.hour_groups)
            if group[0] not in priced
        ):
            continue
        energies = [car.start_kwh, *plan.path]
        reached = zip(lower, ends, strict=True)
        if any(energies[end] < need - _REACH_MARGIN_KWH for need, end in reached):
            continue
        excess = [plan.imports[index_of[g[0]]] - budgets[index_of[g[0]]] for g in groups]
        out.append(PricedPlan(plan.path, plan.cost, excess, set()))
    return out


def _cost_ceiling(car: Car, house: Sequence[float]) -> float:
    """The most any plan can cost the house (energy and wear): every slot at its dearest."""
    request = car.request
    discharge = request.discharge
    most_out = 0.0 if discharge is None else discharge.max_kw
    wear = 0.0 if discharge is None else discharge.wear_cost_per_kwh / discharge.efficiency
    total = 0.0
    for hours, price, load in zip(car.horizon.hours, car.horizon.prices, house, strict=True):
        export = 0.0 if price.export_price is None else price.export_price
        most_import = max(load, 0.0) + request.charge.max_kw
        most_export = max(-load, 0.0) + most_out
        total += hours * (max(price.import_price, 0.0) * most_import + wear * most_out)
        total += hours * max(-export, 0.0) * most_export
    return total


def _solve_one_priced(
    solve_at: Callable[[float], _Priced], left: _Priced, mixes: list[PricedMix]
) -> tuple[list[float], set[int]] | None:
    """One hour's best price, by intersecting tangents from the plan without a price `left`.
    `mixes` gets the plans mixed, with the best Lagrangian value met as their bound."""
    right = _priced_enough(solve_at, left)
    if right is None:
        return None
    bound = max(left.value, right.value)
    for _ in range(_PRICE_STEPS):
        if right.excess >= -_BUDGET_TOLERANCE_KWH or right.broken:
            break
        price = right.value - left.value + left.excess * left.price - right.excess * right.price
        price /= left.excess - right.excess
        if not left.price < price < right.price:
            break
        middle = solve_at(price)
        if middle.broken:
            return middle.path, middle.broken
        bound = max(bound, middle.value)
        tangent = left.value + left.excess * (price - left.price)
        if middle.value >= tangent - 1e-12 * (1.0 + abs(tangent)):
            break
        if middle.excess > 0.0:
            left = middle
        else:
            right = middle
    mixed = right.excess < -_BUDGET_TOLERANCE_KWH and left.excess > right.excess
    mixes.append(PricedMix(bound, [left.path, right.path] if mixed else [right.path]))
    return _mixed(left, right), right.broken


def _priced_enough(solve_at: Callable[[float], _Priced], left: _Priced) -> _Priced | None:
    """A price at which the hour keeps to its budget; None when no price up to the ceiling
    does."""
    price = 1.0
    while price <= _PRICE_CEILING:
        right = solve_at(price)
        if right.excess <= _BUDGET_TOLERANCE_KWH or right.broken:
            return right
        price *= 8.0
    return None


def _mixed(left: _Priced, right: _Priced) -> list[float]:
    """The mix of two plans whose hour imports lie either side of the budget that uses it
    exactly; `right` when it already keeps to it."""
    if right.excess >= -_BUDGET_TOLERANCE_KWH or left.excess <= right.excess:
        return right.path
    share = -right.excess / (left.excess - right.excess)
    return [share * a + (1.0 - share) * b for a, b in zip(left.path, right.path, strict=True)]


def _stage_hours(car: Car, house: Sequence[float]) -> set[int]:
    """`_one_stage_hours` without a cap, kept per house (every cap tried asks)."""
    key = tuple(house)
    hours = car.stage_hours.get(key)
    if hours is None:
        free = stages(car, house)
        hours = car.stage_hours[key] = _one_stage_hours(car, free, house)
    return set(hours)


def _one_stage_hours(car: Car, free: list[Stage], house: Sequence[float]) -> set[int]:
    """The hours (by first slot) taken as one stage: several slots without a minimum power,
    one of them able to discharge or one whose cost bends down, no target inside, and the
    protective level reachable before the hour. Where the car can only charge and every
    slot's cost is convex, `hour_caps` giving the budget to the cheapest slots is already
    exact. Slots whose cost bends down make the stage the lowest of its ways of keeping each to
    a run where it rises (`peak.bent_stage`): up to `_MOST_WAYS` ways. The hours a plan takes
    into the taper are left out where it is planned (`solve_by_hours`)."""
    request = car.request
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    high = free_high(car, house)
    inside = car.target_ends
    out: set[int] = set()
    for group in car.hour_groups:
        first, last = group[0], group[-1]
        if len(group) < 2 or group != list(range(first, last + 1)):
            continue
        if any(first < b <= last for b in inside):
            continue
        if protective > car.floor_kwh and high[first] < protective + _REACH_MARGIN_KWH:
            continue
        if all(free[t].is_convex() for t in group):
            if any(free[t].discharge_kwh > 0.0 for t in group):
                out.add(first)
        elif (
            all(free[t].min_kw <= 0.0 and not free[t].windows for t in group)
            and ways_of(_kept_hour_pieces(car, house, group, free)) <= _MOST_WAYS
        ):
            out.add(first)
    return out


def _kept_hour_pieces(
    car: Car, house: Sequence[float], group: list[int], free: list[Stage]
) -> HourPieces:
    """The hour's pieces (`free`: the stages without a cap), kept per house: every cap tried
    builds the hour's stage from them."""
    pieces = car.hour_pieces.setdefault(tuple(house), {})
    if group[0] not in pieces:
        pieces[group[0]] = hour_pieces(car, group, free, house)
    return pieces[group[0]]


def _tapers_within(car: Car, group: list[int], high: list[float]) -> bool:
    """Whether the car may reach its taper by the hour's end (`high`: the highest energies
    without a cap); before it, its slots charge as with a flat curve."""
    if car.curve.is_flat:
        return False
    return high[group[-1] + 1] > car.knee_kwh


def _lower_at(car: Car, reach_high: list[float], ends: list[int]) -> list[float]:
    """`lower_bounds` at the boundaries `ends` (slot boundary indices) only."""
    request = car.request
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    lower = [max(car.floor_kwh, min(protective, high - _REACH_MARGIN_KWH)) for high in reach_high]
    where = {end: k for k, end in enumerate(ends)}
    for rule in car.binding_rules:
        k = where[rule.index]
        lower[k] = max(lower[k], min(rule.required, reach_high[k] - _REACH_MARGIN_KWH))
    return lower


def _expand(
    car: Car, built: _Items[HourStage], path: list[float], lower: list[float]
) -> tuple[list[float], set[int]]:
    """The energy at every slot boundary, and the hours (by first slot) that couldn't be
    followed inside: discharging before charging would dip under the floor (or the other way
    round over the top). Those fall back to per-slot caps, with the whole path planned again:
    mending the hour alone, to the same end, costs more."""
    out: list[float] = []
    broken: set[int] = set()
    energy = car.start_kwh
    for k, (hour, end) in enumerate(zip(built.hours, path, strict=True)):
        if hour is not None:
            least = min(lower[k], lower[k + 1]) - _REACH_MARGIN_KWH
            inner = _inside(car, hour, energy, end, least)
            if inner is None:
                broken.add(hour.slots[0])
                inner = [end] * (len(hour.slots) - 1)
            out += inner
        out.append(end)
        energy = end
    return out, broken


def _inside(
    car: Car, hour: HourStage, start: float, end: float, least: float
) -> list[float] | None:
    """The hour's inner boundaries as its stage shares the move out; None when they stray."""
    upper = car.curve.upper_kwh
    out: list[float] = []
    energy = start
    moves = hour.moves(end - start)
    if abs(sum(moves) - (end - start)) > _DIP_KWH:
        # A change beyond what the stage can make (a path that fell back to the nearest move
        # where none reached): its moves don't add up to it.
        return None
    for move in moves[:-1]:
        energy += move
        if not least - _DIP_KWH <= energy <= upper + _DIP_KWH:
            return None
        # A stray as small as a rounding of the cap is taken out by the next slot.
        energy = min(max(energy, least), upper)
        out.append(energy)
    return out


def _followed_stages(
    car: Car, house: Sequence[float], peak_cap: float, path: list[float], followed: list[int]
) -> list[Stage]:
    """Per slot, the stage the plan follows: the `followed` slots (of an hour taken as one
    stage, or whose import was priced) are capped at the grid power the plan gives them."""
    caps = hour_caps(car, house, peak_cap)
    pcs, pds = powers(car, path)
    for t in followed:
        caps[t] = max(house[t] + pcs[t] - pds[t], house[t], 0.0)
    return capped_stages(car, house, caps, stages(car, house))


def below_minimum(slots: list[Stage], start_kwh: float, path: list[float]) -> list[int]:
    """The slots where the path charges less than the minimum power."""
    broken: list[int] = []
    energy = start_kwh
    for t, (stage, target) in enumerate(zip(slots, path, strict=True)):
        if target > energy + _REACH_MARGIN_KWH and target < stage.least_charge(energy) - 1e-12:
            broken.append(t)
        energy = target
    return broken


def powers(car: Car, path: Sequence[float]) -> tuple[list[float], list[float]]:
    """Charge and discharge power per slot along a path of energies."""
    charge = car.request.charge
    discharge = car.request.discharge
    energy = car.start_kwh
    pcs: list[float] = []
    pds: list[float] = []
    for hours, target in zip(car.horizon.hours, path, strict=True):
        change = target - energy
        pc = change / (hours * charge.efficiency) if change > 0.0 else 0.0
        pd = -change * discharge.efficiency / hours if change < 0.0 and discharge else 0.0
        pcs.append(pc)
        pds.append(pd)
        energy = target
    return pcs, pds


# --------------------------------------------------------------------------------------------
# Costs


def energy_cost(car: Car, net: Sequence[float]) -> float:
    """What the house pays for its grid energy over the horizon."""
    total = 0.0
    for hours, price, power in zip(car.horizon.hours, car.horizon.prices, net, strict=True):
        total += slot_cost(hours, price, power)
    return total


def slot_cost(hours: float, price: PriceSlot, power: float) -> float:
    """What the house pays for a slot's grid power (kW, import positive)."""
    export = 0.0 if price.export_price is None else price.export_price
    return hours * (price.import_price * max(power, 0.0) - export * max(-power, 0.0))


def wear_cost(car: Car, pds: Sequence[float]) -> float:
    discharge = car.request.discharge
    if discharge is None:
        return 0.0
    rate = discharge.wear_cost_per_kwh / discharge.efficiency
    return sum(hours * rate * pd for hours, pd in zip(car.horizon.hours, pds, strict=True))


def site_price(car: Car) -> float:
    """The capacity tariff's price per kW."""
    site = car.request.site
    return 0.0 if site is None else site.peak_price_per_kw


def peak_cost(car: Car, peak: float) -> float:
    site = car.request.site
    if site is None:
        return 0.0
    return site.peak_price_per_kw * max(0.0, peak - site.current_peak_kw)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One candidate plan: its path, what it costs the house, and its peak."""

    path: list[float]
    stages: list[Stage]
    cost: float
    peak: float
    # Makes the stages the path follows where `stages` is left empty: only the plan kept of
    # many candidates needs them (`followed`).
    make_stages: Callable[[], list[Stage]] | None = field(default=None, compare=False)

    def followed(self) -> Outcome:
        """This outcome with its stages made."""
        if self.make_stages is None:
            return self
        return replace(self, stages=self.make_stages(), make_stages=None)


def evaluate(car: Car, house: Sequence[float], path: list[float], slots: list[Stage]) -> Outcome:
    pcs, pds = powers(car, path)
    net = [load + pc - pd for load, pc, pd in zip(house, pcs, pds, strict=True)]
    peak = peak_kw(car.hour_groups, car.horizon.hours, net, car.hour_before)
    cost = energy_cost(car, net) + wear_cost(car, pds) + peak_cost(car, peak)
    return Outcome(path, slots, cost, peak)


def best_outcome(car: Car, house: Sequence[float]) -> Outcome:
    """The cheapest plan, the capacity tariff included."""
    site = car.request.site
    floor = car.peak_floor
    # The shortfall at the month's peak, asked for at most once by the two searches below.
    shortfall = cache(partial(_reach_shortfall, car, house, floor, kept_at=floor))
    if site is not None and site.peak_price_per_kw > 0.0:
        at_floor = _capped_at_floor(car, house, floor, shortfall)
        if at_floor is not None:
            return _held_to_runs(car, house, at_floor)[0]
    path, slots = solve(car, house)
    free = evaluate(car, house, path, slots)
    if site is None or site.peak_price_per_kw <= 0.0:
        return free
    if free.peak <= floor + _PEAK_TOLERANCE_KW:
        return free
    lowest = _lowest_feasible_cap(car, house, floor, free.peak, shortfall)
    searched = _search_peak(car, house, free, lowest)
    searched, found = _held_at_other_caps(car, house, searched, car)
    searches: set[tuple[tuple[int, int, int], ...]] = {()}
    for _ in range(_HELD_SEARCHES):
        held = next((holds for holds in found if holds not in searches), None)
        if held is None:
            break
        searches.add(held)
        # Held, the cost at each cap is nearer the optimum's, and another cap may pay, up to
        # the peak of the plan without a cap. Each cap's holds are found afresh: a hold that
        # paid at one cap may not at another.
        held_car = car.held_to(held)
        searched = _search_peak(held_car, house, searched, lowest, free)
        searched, more = _held_at_other_caps(car, house, searched, held_car)
        found = [*more, *found]
    return searched


def _held_at_other_caps(
    car: Car, house: Sequence[float], searched: Outcome, searched_by: Car
) -> tuple[Outcome, list[tuple[tuple[int, int, int], ...]]]:
    """`_held_to_runs` at the cap the search chose, then at the cheapest other caps where the
    search's cost had a low point, and (for the search without holds) where its bound is
    lowest: where slots' costs bend down, the cost isn't convex in the cap, and the cap whose
    plan is cheapest once held may be another than the one cheapest before. `searched_by`:
    the car of the search, which keeps its cost at each cap tried (`Car.cap_scores`). Gives
    the best plan, and its holds followed by those of the cheapest plans held at other caps
    that cost more there (`_held_to_runs`'s `passed`), for searches to come."""
    if not _bends(car, house):
        return searched, [car.held_runs]
    best, held = _held_to_runs(car, house, searched)
    scores = searched_by.cap_scores[tuple(house)]
    caps = _low_points(scores, searched.peak)
    if not searched_by.held_runs:
        # Not kept apart from the chosen cap: the plan at a cap beside it may be far above its
        # bound, where the cost jumps.
        caps += _low_bounds(searched_by, house, scores, caps, best.cost)
    # Holds found at other caps whose plans cost more there: a search with them may find a
    # cap between those tried where they pay.
    passed: list[tuple[tuple[int, int, int], ...]] = []
    for cap in caps:
        other, holds = _held_to_runs(car, house, best, cap, passed)
        if other is not best:
            best, held = other, holds
    return best, [held, *passed]


def _low_bounds(
    car: Car, house: Sequence[float], scores: dict[float, float], taken: list[float], best: float
) -> list[float]:
    """Up to `_BOUND_HELD_CAPS` caps tried, apart from `taken` (`_picked_apart`), whose plans'
    bound (the priced mix's, with the tariff at the cap) is lowest and below the `best` cost:
    where the plan at a cap is far above what its bound allows, holds may pay there though its
    cost is no low point."""
    tried = _tried_span(scores)
    if tried is None:
        return []
    caps, apart = tried
    bounds = {
        cap: mix.bound + peak_cost(car, cap)
        for cap in caps
        if (mix := car.priced_mix.get((tuple(house), cap))) is not None
    }
    below = [cap for cap in bounds if bounds[cap] < best]
    return _picked_apart(below, bounds.__getitem__, taken, apart, _BOUND_HELD_CAPS)


def _low_points(
    scores: dict[float, float], chosen: float | None, most: int = _OTHER_HELD_CAPS
) -> list[float]:
    """Up to `most` caps whose cost is no higher than at the caps tried either side, cheapest
    first, apart from `chosen` (if any) and from each other (`_picked_apart`)."""
    tried = _tried_span(scores)
    if tried is None:
        return []
    caps, apart = tried
    lows = [
        cap
        for index, cap in enumerate(caps)
        if all(scores[other] >= scores[cap] for other in caps[max(index - 1, 0) : index + 2])
    ]
    taken = [] if chosen is None else [chosen]
    return _picked_apart(lows, scores.__getitem__, taken, apart, most)


def _tried_span(scores: dict[float, float]) -> tuple[list[float], float] | None:
    """The caps tried at a finite cost, in order, and how far apart two of them must be to
    count as different places (a hundredth of their span); None with fewer than two."""
    caps = sorted(cap for cap, score in scores.items() if math.isfinite(score))
    if len(caps) < 2:
        return None
    return caps, (caps[-1] - caps[0]) / 100.0


def _picked_apart(
    caps: list[float], key: Callable[[float], float], taken: list[float], apart: float, most: int
) -> list[float]:
    """Up to `most` of `caps`, lowest `key` first, each further than `apart` from `taken` and
    from those picked before it."""
    out: list[float] = []
    for cap in sorted(caps, key=key):
        if len(out) == most:
            break
        if all(abs(cap - other) > apart for other in [*taken, *out]):
            out.append(cap)
    return out


def _bends(car: Car, house: Sequence[float]) -> bool:
    """Whether a slot's cost bends down, for a car without a minimum power (`_held_to_runs`)."""
    free = stages(car, house)
    return car.request.charge.min_kw <= 0.0 and not all(stage.is_convex() for stage in free)


def _held_to_runs(
    car: Car,
    house: Sequence[float],
    outcome: Outcome,
    at_cap: float | None = None,
    passed: list[tuple[tuple[int, int, int], ...]] | None = None,
) -> tuple[Outcome, tuple[tuple[int, int, int], ...]]:
    """`outcome`, or a cheaper plan made again at its cap (or `at_cap`) with slots whose cost
    bends down held to one run of their cost each; and the holds. Mixing priced plans is exact
    only where every slot's cost is convex, as it is held to one run: where the plans mixed
    move a slot in different runs, the mix may cost more than its bound, and each of the
    slot's runs is tried (branch and bound): a try whose bound is no lower than the cheapest
    plan found is not taken further. No plan kept misses the targets by more, or reaches the
    protective level later than the plan without a cap; each is compared with the tariff on
    its own highest average. Where no plan found beats `outcome`, the holds of the cheapest
    one made with holds go to `passed` (if given)."""
    if not _bends(car, house):
        return outcome, car.held_runs
    free = stages(car, house)
    allowed = missed_kwh(car, outcome.path) + _MET_TOLERANCE_KWH
    # The protective level as the plan without a cap reaches it, as the cap search asks.
    needs = lower_bounds(car, free_high(car, house))
    cap = max(outcome.peak, car.peak_floor) if at_cap is None else at_cap
    best = outcome
    held = car.held_runs
    # The cheapest energy and wear of a plan found at the cap: what a bound must beat.
    cheapest = math.inf
    # The cheapest plan made with holds, and its holds.
    runner_up: tuple[float, tuple[tuple[int, int, int], ...]] = (math.inf, ())
    tries = [held]
    for _ in range(_MOST_HELD_SOLVES):
        if not tries:
            break
        holds = tries.pop()
        tried_car = car.held_to(holds) if holds != car.held_runs else car
        path, followed = _solve_lazily(tried_car, house, cap)
        tried = evaluate(car, house, path, [])
        if not _misses(car, path, needs, allowed):
            if tried.peak <= cap + _PEAK_TOLERANCE_KW:
                cheapest = min(cheapest, _path_cost(car, house, path))
            if tried.cost < best.cost - 1e-12 * (1.0 + abs(best.cost)):
                best, held = replace(tried, make_stages=followed), holds
            elif holds and tried.cost < runner_up[0]:
                runner_up = (tried.cost, holds)
        mix = tried_car.priced_mix.get((tuple(house), cap))
        if mix is None or mix.bound >= cheapest - 1e-12 * (1.0 + abs(cheapest)):
            continue
        t = _disputed_slot(car, free, mix.members, {h[0] for h in holds})
        if t is not None:
            runs = cost_runs(free[t].charge, free[t].discharge)
            tries += [tuple(sorted((*holds, (t, run[0], run[-1])))) for run in runs]
    if passed is not None and best is outcome and runner_up[1] and runner_up[1] not in passed:
        passed.append(runner_up[1])
    return best, held


def _disputed_slot(
    car: Car, free: list[Stage], members: list[list[float]], held: set[int]
) -> int | None:
    """The slot whose cost bends down that the plans mixed move in different runs of its
    cost, furthest apart; None where they agree on every slot's run."""
    if len(members) < 2:
        return None
    paths = [[car.start_kwh, *path] for path in members]
    found: tuple[float, int] | None = None
    for t, stage in enumerate(free):
        if t in held or stage.is_convex():
            continue
        moves = [path[t + 1] - path[t] for path in paths]
        spans = run_spans(stage.charge, stage.discharge)
        shared = set(range(len(spans)))
        for move in moves:
            # A move where one run ends and the next begins lies in both.
            position = move + stage.discharge_kwh
            shared &= {
                run
                for run, (low, high) in enumerate(spans)
                if low - _HELD_MOVE_KWH <= position <= high + _HELD_MOVE_KWH
            }
        if not shared:
            spread = max(moves) - min(moves)
            if found is None or spread > found[0]:
                found = (spread, t)
    return None if found is None else found[1]


def _capped_at_floor(
    car: Car, house: Sequence[float], floor: float, shortfall: Callable[[], float]
) -> Outcome | None:
    """The plan capped at the month's peak, when that is the cheapest, found without planning
    the car without a cap first (most of the time a car charging at full power would set a new
    peak, so the plan without a cap is only a step on the way).

    The cost is convex in the cap, so when the plan at the peak is exact (every hour's budget
    shared out exactly: no taper, convex slot costs), reaches what the plan without a cap
    reaches, keeps to the cap and the first kW above it saves less energy than it costs
    (`peak_dual.py`), no higher cap pays either. None otherwise, and `_search_peak` decides.
    `shortfall`: the reach's shortfall at the peak (`_reach_shortfall`).
    """
    free = stages(car, house)
    if not _takes_hours(car, floor) or any(s.tapers or not s.is_convex() for s in free):
        return None
    if not any(_may_bind(car, free, house, group, floor, True) for group in car.hour_groups):
        return None
    if shortfall() > 0.0:
        return None
    high = free_high(car, house)
    needs = lower_bounds(car, high)
    # What the plan without a cap misses at most: its path keeps to `needs`.
    allowed = _MET_TOLERANCE_KWH + sum(
        max(0.0, rule.required - high[rule.index] + _REACH_MARGIN_KWH) for rule in car.rules
    )
    exact: list[bool] = []
    path, followed = _solve_lazily(car, house, floor, exact)
    if exact != [True] or _misses(car, path, needs, allowed):
        return None
    outcome = evaluate(car, house, path, [])
    if outcome.peak < floor - _PEAK_TOLERANCE_KW:
        # The cap doesn't bind: the plan without one is the answer.
        return None
    saving = saving_per_kw(car, house, free, path, (needs, reach_bounds(car, free)[1], high), floor)
    if saving is None or saving > site_price(car):
        return None
    return replace(outcome, make_stages=followed)


def _misses(
    car: Car,
    path: Sequence[float],
    needs: Sequence[float],
    allowed: float,
    tolerance: float = _MET_TOLERANCE_KWH,
) -> bool:
    """Whether a path misses more of the targets than `allowed` (kWh), or falls below the
    protective level as the plan without a cap reaches it (`needs`, per boundary) by more
    than `tolerance` (kWh)."""
    return missed_kwh(car, path) > allowed or any(
        energy < need - tolerance for energy, need in zip(path, needs[1:], strict=True)
    )


def _lowest_feasible_cap(
    car: Car,
    house: Sequence[float],
    floor: float,
    ceiling: float,
    floor_shortfall: Callable[[], float] | None = None,
) -> float:
    """The lowest cap on the hourly import that still reaches everything reachable without one;
    `floor_shortfall`: the reach's shortfall at the floor, where already known."""
    shortfall = partial(_reach_shortfall, car, house, kept_at=floor)
    at_floor = shortfall(floor) if floor_shortfall is None else floor_shortfall()
    if at_floor <= 0.0:
        return floor
    hint = car.lowest_caps.get(floor)
    lowest = _lowest_cap_along(shortfall, (floor, at_floor), ceiling, hint)
    car.lowest_caps[floor] = lowest
    return lowest


def _reach_shortfall(car: Car, house: Sequence[float], cap: float, kept_at: float) -> float:
    """How far (kWh) the reach at this cap falls short of what the car reaches without one, at
    its worst boundary: at most 0 where the cap reaches it all (the slack as a negative);
    infinite where a forced discharge can't be made. At the cap `kept_at`, where the search
    plans next, the hours' whole stages are made (and kept for it); elsewhere only their
    reach."""
    free = stages(car, house)
    needs = lower_bounds(car, free_high(car, house))
    # An hour the car may taper in isn't one stage: that would charge as with a flat curve.
    eligible = _stage_hours(car, house) - _may_taper_hours(car, house)
    ends = list(range(len(needs)))
    if _takes_hours(car, cap):
        kept = _kept_hour_stages(car, house, cap) if cap == kept_at else None
        built = _hour_items(car, house, cap, eligible, free, kept is None, kept)
        if built is None:
            return math.inf
        ends = built.ends
        early = _budget_hours(car, house, cap, free, built)
        high, possible = _reach_under_cap(car, house, cap, built, free, early)
    elif (hourly := _minimum_items(car, house, cap)) is not None:
        ends = hourly.ends
        high, _, possible = reach_bounds(car, hourly.items)
    else:
        high, _, possible = reach_bounds(car, stages(car, house, cap))
    if not possible:
        return math.inf
    return max(needs[end] - 1e-9 - h for h, end in zip(high, ends, strict=True))


def missed_kwh(car: Car, path: Sequence[float]) -> float:
    """How far a path of energies falls short of the targets, in kWh."""
    energies = [car.start_kwh, *path]
    return sum(max(0.0, rule.required - energies[rule.index]) for rule in car.rules)


def _search_peak(
    car: Car, house: Sequence[float], free: Outcome, floor: float, uncapped: Outcome | None = None
) -> Outcome:
    """The cheapest cap on the hourly import, from the lowest that reaches the targets (`floor`)
    up to `free`'s peak, or the `uncapped` plan's where higher (a search with holds starts
    from the best plan so far): the cost is convex in it (`_lowest_on_lines`; with a minimum
    power `_bound_search`)."""
    best = free
    # The cost at each cap tried; infinite where the car would miss more than without a cap,
    # since targets come before cost.
    scores = car.cap_scores[tuple(house)] = {}
    # The highest average of the plan at each cap tried.
    peaks: dict[float, float] = {}
    allowed_shortfall = missed_kwh(car, free.path) + _MET_TOLERANCE_KWH
    # The protective level as the plan without a cap reaches it, at every boundary.
    needs = lower_bounds(car, free_high(car, house))

    def meets(cap: float) -> bool:
        """Whether the plan at this cap keeps to it and meets what the plan without one does,
        to a rounding."""
        path = _solve_lazily(car, house, cap)[0]
        allowed = allowed_shortfall - _MET_TOLERANCE_KWH + _REACHED_KWH
        kept = evaluate(car, house, path, []).peak <= cap + _CAP_KEPT_KW
        return kept and not _misses(car, path, needs, allowed, _REACHED_KWH)

    # The stages of the best plan so far, made once the search is over; None: `free`'s.
    best_stages: Callable[[], list[Stage]] | None = None

    def at(cap: float) -> float:
        nonlocal best, best_stages
        score = scores.get(cap)
        if score is None:
            # Each cap planned afresh: hours that fell back to per-slot caps at one cap may
            # share their budget exactly at another.
            path, followed = _solve_lazily(car, house, cap)
            outcome = evaluate(car, house, path, [])
            missed = _misses(car, path, needs, allowed_shortfall)
            score = scores[cap] = math.inf if missed else outcome.cost
            peaks[cap] = outcome.peak
            if score < best.cost - 1e-12 * (1.0 + abs(best.cost)):
                best, best_stages = outcome, followed
        return score

    low, high = floor, free.peak
    if uncapped is not None and uncapped.peak > high:
        high = uncapped.peak
        scores[high] = uncapped.cost
    if car.request.charge.min_kw > 0.0:
        # At the peak of the plan without a cap, that plan is the cheapest.
        scores[high] = free.cost
        _bound_search(at, (low, high), _cost_bounds(car, house, free, low), site_price(car))
        return best if best_stages is None else replace(best, make_stages=best_stages)
    if math.isinf(at(low)) or peaks[low] > low + _CAP_KEPT_KW:
        # `_lowest_feasible_cap` can only bound the lowest cap from below where the car can
        # discharge: the plans themselves tell.
        floor_kw = car.peak_floor
        low = car.met_caps[floor_kw] = _lowest_cap(meets, low, high, car.met_caps.get(floor_kw))
    probe = min(high, low + _PEAK_PROBE_KW)
    falls = at(low) > at(probe)
    if falls or uncapped is not None:
        # At the peak of the plan without a cap, that plan is the cheapest.
        scores.setdefault(high, free.cost)
        # Not the probe: the line through two caps that close carries the plans' rounding
        # (1e-8 of the cost is a slope off by 0.01) and may bound above the cost beyond. A
        # search with holds also starts from the best plan's cap, where the holds were found.
        first = [] if uncapped is None else [free.peak]
        _lowest_on_lines(at, [low, (low + high) / 2.0, high, *first])
        if not _exact_at_caps(car, house):
            # A tapering car's cost at a cap is exact only as far as its hours into the taper
            # are found, and lines through caps a hair apart can then bound wrongly; where a
            # slot's export pays more than its import the cost isn't convex in the cap at all,
            # and a line beyond the best can bound above it. A golden section between the best
            # cap's neighbours settles the cap.
            _golden_between_neighbours(at, scores)
    if _bends(car, house):
        # Where a slot's cost bends down, the cost may have low points the search passed. A
        # search with holds (`best_outcome`) starts from the best cap: no sweep from the lowest.
        scores.setdefault(high, free.cost)
        _swept(car, house, at, scores, (low, high), not falls and not car.held_runs)
    return best if best_stages is None else replace(best, make_stages=best_stages)


def _exact_at_caps(car: Car, house: Sequence[float]) -> bool:
    """Whether the plan at each cap is the optimum there, as the searches over caps assume:
    a flat charge curve, and every slot's cost convex (no minimum power, and no slot where
    charging and discharging could both pay)."""
    return car.curve.is_flat and all(stage.is_convex() for stage in stages(car, house))


def _swept(
    car: Car,
    house: Sequence[float],
    at: Callable[[float], float],
    scores: dict[float, float],
    span: tuple[float, float],
    rises: bool,
) -> None:
    """Where a slot's cost bends down, the cost isn't convex in the cap, and the search can
    stop at the wrong low point: where it `rises` from the lowest cap of the `span`, it may
    fall again further up, and caps are tried up from there, each twice as far as the last,
    while a plan above them could still beat the best (`lowest_within`). A valley between two
    caps tried needn't show as a low point among them: the interval whose plans could cost
    least is halved, up to `_SPLIT_CAPS` times. Then each low point among the caps tried
    whose intervals can still beat the best is searched between its neighbours along lines,
    and the cheapest is settled to the cap's tolerance."""
    low, high = span
    if high - low <= _PEAK_TOLERANCE_KW * (1.0 + high):
        return

    def lowest_within(a: float, b: float) -> float:
        """The least a plan whose peak lies between caps `a` and `b` can cost: its energy no
        less than the plan's at `b`, its peak no lower than `a`. The plan at `b` is counted as
        if it peaked there: the lower bound leaves room for that plan being only nearly the
        cheapest at `b`, as where quarters bend it is. Where it was mixed from priced plans,
        their bound counts where lower: just past a cap where the cost jumps, the plan at `b`
        may be far above the cheapest there."""
        energy = at(b) - peak_cost(car, b)
        mix = car.priced_mix.get((tuple(house), b))
        return (energy if mix is None else min(energy, mix.bound)) + peak_cost(car, a)

    def beaten(bound: float) -> bool:
        best = min(scores.values())
        return bound >= best - _LINE_TOLERANCE * (1.0 + abs(best))

    if rises:
        for step in range(_SWEPT_CAPS, 0, -1):
            cap = low + (high - low) / 2.0**step
            if beaten(lowest_within(cap, high)):
                break
            at(cap)

    def spanned() -> list[float]:
        """The caps tried from the lowest that meets the targets up: below it, a plan may
        miss them by a rounding and cost less for it."""
        return sorted(cap for cap in scores if low <= cap <= high)

    def around(cap: float) -> tuple[float, float] | None:
        """The caps tried either side of `cap`; None where nothing between them can beat
        the best, or they are a probe apart."""
        caps = spanned()
        index = caps.index(cap)
        before, after = caps[max(index - 1, 0)], caps[min(index + 1, len(caps) - 1)]
        if after - before <= 2.0 * _PEAK_PROBE_KW or beaten(
            min(lowest_within(before, cap), lowest_within(cap, after))
        ):
            return None
        return before, after

    _halved_where_cheapest(at, spanned, lowest_within, beaten)
    for cap in _low_points({cap: scores[cap] for cap in spanned()}, None, _SWEPT_LOWS):
        if (sides := around(cap)) is None:
            continue
        before, after = sides
        # The middles give each side a line at once; without one, the search halves.
        _lowest_on_lines(at, [before, (before + cap) / 2.0, cap, (cap + after) / 2.0, after])
        # Lines may bound wrongly where the cost isn't convex: a golden section settles the
        # cap where what lies around the cheapest cap between them can still beat the best.
        cheapest = min(
            (tried for tried in scores if before <= tried <= after), key=scores.__getitem__
        )
        if around(cheapest) is not None:
            _golden_between_neighbours(at, scores, (before, after))


def _halved_where_cheapest(
    at: Callable[[float], float],
    tried: Callable[[], list[float]],
    lowest_within: Callable[[float, float], float],
    beaten: Callable[[float], bool],
) -> None:
    """Halve the interval between two caps `tried` whose plans could cost least, up to
    `_SPLIT_CAPS` times, while that least isn't `beaten` by the best plan."""
    for _ in range(_SPLIT_CAPS):
        bound, before, after = min(
            (
                (lowest_within(a, b), a, b)
                for a, b in pairwise(tried())
                if b - a > 2.0 * _PEAK_PROBE_KW
            ),
            default=(math.inf, 0.0, 0.0),
        )
        if beaten(bound):
            return
        at((before + after) / 2.0)


def _golden_between_neighbours(
    at: Callable[[float], float],
    scores: dict[float, float],
    within: tuple[float, float] = (-math.inf, math.inf),
) -> None:
    """Golden-section search between the caps tried next to the cheapest one `within` those
    (`at` keeps the best plan), to the cap's tolerance for the taper."""
    caps = sorted(cap for cap in scores if within[0] <= cap <= within[1])
    cheapest = min(range(len(caps)), key=lambda i: scores[caps[i]])
    low, high = caps[max(cheapest - 1, 0)], caps[min(cheapest + 1, len(caps) - 1)]
    a = high - _GOLDEN * (high - low)
    b = low + _GOLDEN * (high - low)
    while high - low > _TAPER_CAP_TOLERANCE_KW * (1.0 + high):
        if at(a) <= at(b):
            high, b = b, a
            a = high - _GOLDEN * (high - low)
        else:
            low, a = a, b
            b = low + _GOLDEN * (high - low)


def _lowest_on_lines(at: Callable[[float], float], caps: list[float]) -> None:
    """Search the caps for the lowest cost, which is convex and piecewise linear in the cap
    (a linear programme's value): `at` keeps the best plan. The cost is tried at `caps` first.

    The line through two neighbouring caps tried bounds the cost from below beyond them. On
    each side of the cheapest cap tried, the lines from the caps beyond both ends bound the
    cost within, lowest where they cross; the cap where the bound is lowest is tried next.
    Once the cap tried falls on the kink between the last two lines the bound meets the best
    cost and the search stops: a few tries, where halving the interval takes forty."""
    points = sorted((cap, at(cap)) for cap in set(caps))
    for _ in range(_LINE_STEPS):
        costs = [cost for _, cost in points]
        cheapest = min(range(len(points)), key=costs.__getitem__)
        best = costs[cheapest]
        bound, split = math.inf, None
        for a in (cheapest - 1, cheapest):
            if a < 0 or a + 1 >= len(points):
                continue
            lo, hi = points[a][0], points[a + 1][0]
            if hi - lo <= _PEAK_TOLERANCE_KW * (1.0 + hi):
                continue
            inside, cap = _bound_within(_line(points, a - 1), _line(points, a + 1), lo, hi)
            if inside < bound:
                bound, split = inside, cap
        if split is None or bound >= best - _LINE_TOLERANCE * (1.0 + abs(best)):
            return
        points.append((split, at(split)))
        points.sort()


def _line(points: list[tuple[float, float]], first: int) -> tuple[float, float] | None:
    """The line (slope, cost at 0) through the points `first` and `first + 1`; None when one
    is missing or costs nothing finite."""
    if first < 0 or first + 1 >= len(points):
        return None
    (x0, y0), (x1, y1) = points[first], points[first + 1]
    if not (math.isfinite(y0) and math.isfinite(y1)) or x1 <= x0:
        return None
    slope = (y1 - y0) / (x1 - x0)
    return slope, y0 - slope * x0


def _bound_within(
    left: tuple[float, float] | None, right: tuple[float, float] | None, lo: float, hi: float
) -> tuple[float, float]:
    """The lowest the cost can be on (lo, hi) by the lines beyond it (`left` from the points
    below `lo`, `right` from those above `hi`), and the cap to try: where the bound is lowest,
    kept off the ends; the middle where a line is missing."""
    lines = [line for line in (left, right) if line is not None]
    middle = (lo + hi) / 2.0
    if len(lines) < 2:
        return -math.inf, middle
    (s0, c0), (s1, c1) = lines

    def bound(x: float) -> float:
        return max(s0 * x + c0, s1 * x + c1)

    candidates = [lo, hi]
    if s0 != s1:
        crossing = (c1 - c0) / (s0 - s1)
        if lo < crossing < hi:
            candidates.append(crossing)
    cap = min(candidates, key=bound)
    margin = _LINE_MARGIN * (hi - lo)
    return bound(cap), min(max(cap, lo + margin), hi - margin)


def _lowest_cap(
    meets: Callable[[float], bool], low: float, high: float, hint: float | None = None
) -> float:
    """The lowest cap that `meets` the targets, by bisection between a `low` that doesn't and
    a `high` that does; around `hint` first (`_bracket`)."""
    if hint is not None and low < hint < high:
        low, high = _bracket(meets, low, high, hint)
    while high - low > _LOWEST_CAP_TOLERANCE_KW * (1.0 + high):
        middle = (low + high) / 2.0
        if meets(middle):
            high = middle
        else:
            low = middle
    return high


def _bracket(
    meets: Callable[[float], bool], low: float, high: float, hint: float
) -> tuple[float, float]:
    """Caps either side of the lowest that `meets` (as `_lowest_cap` takes them), stepping
    from `hint` (the last house's lowest cap: another car's plan moves it little, if at all)
    by half the tolerance, then sixteen times further each step: two tries where it stays."""
    step = _LOWEST_CAP_TOLERANCE_KW * (1.0 + hint) / 2.0
    met = meets(hint)
    cap = hint
    while True:
        if met:
            high, cap = cap, cap - step
        else:
            low, cap = cap, cap + step
        if not low < cap < high:
            return low, high
        if meets(cap) != met:
            return (cap, high) if met else (low, cap)
        step *= 16.0


def _lowest_cap_along(
    shortfall: Callable[[float], float],
    low: tuple[float, float],
    high: float,
    hint: float | None = None,
) -> float:
    """The lowest cap whose `shortfall` is at most 0, between a `low` cap (with its shortfall)
    whose shortfall is above 0 and a `high` one whose isn't, to `_lowest_cap`'s tolerance.

    The reach grows with the cap piecewise linearly, each hour's share up to what the car can
    take, so below the lowest cap the shortfall falls along lines, convex in the cap. The line
    through the two highest caps found short crosses 0 at or below the lowest cap, and on the
    last line exactly there: each step tries a hair above that crossing (a hair below, once a
    cap there reaches), which closes the interval in two steps once the line is found. After
    two steps that don't halve the interval (or while no line is known) the middle is tried:
    never much slower than bisection. A `hint` (the lowest cap of a house much like this one)
    is tried first, a hair above and below; where the lowest cap moved down from it, a step
    and one below too, for the line."""
    cap, gap = low
    top = high
    # The two highest caps found short, with their shortfalls: the line the shortfall follows.
    short: list[tuple[float, float]] = [low] if math.isfinite(gap) else []
    stalls = 0
    hair = _LOWEST_CAP_TOLERANCE_KW * (1.0 + top) / 4.0
    tries = []
    if hint is not None:
        step = _HINT_STEP_KW * (1.0 + hint)
        tries = [hint + hair, hint - hair, hint - 2.0 * step, hint - step]
    while top - cap > _LOWEST_CAP_TOLERANCE_KW * (1.0 + top):
        width = top - cap
        hair = _LOWEST_CAP_TOLERANCE_KW * (1.0 + top) / 4.0
        guess = (cap + top) / 2.0
        while tries and not cap < tries[0] < top:
            tries.pop(0)
        if tries:
            guess = tries.pop(0)
            stalls = -1
        elif stalls < 2 and len(short) == 2 and short[0][1] > short[1][1]:
            (c1, g1), (c2, g2) = short
            crossing = c2 + g2 * (c2 - c1) / (g1 - g2)
            guess = crossing + hair if crossing + hair < top else crossing - hair
        guess = min(max(guess, cap + hair), top - hair)
        value = shortfall(guess)
        if value <= 0.0:
            top = guess
        else:
            cap, gap = guess, value
            if math.isfinite(gap):
                short = [*short[-1:], (cap, gap)]
        stalls = stalls + 1 if top - cap > width / 2.0 else 0
    return top


@dataclass(frozen=True, slots=True)
class _CostBounds:
    """What the cap search with a minimum power knows before it starts."""

    # The plan without a cap, the house's cost without the car, and the cheapest plan
    # without the minimum (no plan with it is cheaper) with its peak; minus infinity and the
    # lowest cap where that plan is no bound (`_cost_bounds`).
    free: float
    own: float
    lowest: float
    lowest_peak: float

    def allowance(self, best: float) -> float:
        """How far (in cost) a bound may fall below `best` and still count as reaching it."""
        return _BOUND_TOLERANCE * abs(best - self.own) + _BOUND_SLACK

    def close_enough(self, best: float, bound: float) -> bool:
        """Whether a cost `bound` can't beat `best` by more than a share of the car's cost."""
        return bound >= best - self.allowance(best)


def _cost_bounds(car: Car, house: Sequence[float], free: Outcome, low: float) -> _CostBounds:
    """The bounds, with the lowest cap `low` that reaches what the plan without a cap does.
    Without the minimum, a tapering car's plan at a cap, or one where some slot's cost isn't
    convex (export paying more than import, or a price below zero with V2G), isn't exact: its
    search then found a cost above the one with the minimum (6.84 against 3.76 on a 114-quarter
    case), and as a bound it stopped the search at once. There the search goes without it,
    from the lowest cap."""
    own = peak_kw(car.hour_groups, car.horizon.hours, house, car.hour_before)
    own_cost = energy_cost(car, house) + peak_cost(car, own)
    request = car.request
    relaxed = car.relaxed_cars.get(0.0)
    if relaxed is None:
        without = replace(request, charge=replace(request.charge, min_kw=0.0))
        relaxed = car.relaxed_cars[0.0] = car.with_request(without)
    if not _exact_at_caps(relaxed, house):
        return _CostBounds(free.cost, own_cost, -math.inf, low)
    key = tuple(house)
    kept = car.relaxed_outcomes.get(key)
    if kept is None:
        lowest = best_outcome(relaxed, house)
        kept = car.relaxed_outcomes[key] = (lowest.cost, lowest.peak)
    cost, peak = kept
    if peak > low + _PEAK_TOLERANCE_KW * (1.0 + low):
        # The search without the minimum may start above `low` (its reach under a cap is
        # an estimate), and then its best is no bound: the plan at `low` tells.
        path, _ = solve(relaxed, house, low)
        if missed_kwh(relaxed, path) <= missed_kwh(car, free.path) + _MET_TOLERANCE_KWH:
            cost = min(cost, evaluate(relaxed, house, path, []).cost)
    return _CostBounds(free.cost, own_cost, cost, peak)


def _bound_search(
    at: Callable[[float], float], caps: tuple[float, float], costs: _CostBounds, price: float
) -> None:
    """Branch and bound over the cap on the hourly import, for costs that aren't convex in it.

    With a minimum charging power, raising the cap can let a slot charge at all, so the cost
    jumps down. But the energy cost never rises with the cap, and the tariff rises by its price
    per kW: on (a, b] the cost is at least `at(b) - price * (b - a)`. The interval with the
    lowest such bound is split until no bound is below the best cost found (by more than a
    share of the car's own cost), or the best is as cheap as the plan without the minimum,
    whose peak is tried first (where that plan is exact: `_cost_bounds`). The cap at the top
    is the plan without a cap (`at` knows it).
    """
    low, high = caps
    start = min(max(costs.lowest_peak, low), high)
    if start - low <= _PEAK_TOLERANCE_KW * (1.0 + high):
        # A rounding above the lowest cap is the lowest cap: one solve, not two.
        start = low
    best = min(costs.free, at(start))
    if costs.close_enough(best, costs.lowest):
        return
    ends = sorted({low, start, high})
    best = min(best, *(at(cap) for cap in ends))
    queue = [(at(b) - price * (b - a), a, b) for a, b in pairwise(ends)]
    heapq.heapify(queue)
    for _ in range(_BOUND_EVALUATIONS):
        if not queue:
            return
        bound, a, b = heapq.heappop(queue)
        if costs.close_enough(best, max(bound, costs.lowest)):
            return
        if b - a <= _PEAK_TOLERANCE_KW * (1.0 + b):
            continue
        middle = _bound_split(at(b), best, costs.allowance(best), price, (a, b))
        score = at(middle)
        best = min(best, score)
        heapq.heappush(queue, (score - price * (middle - a), a, middle))
        heapq.heappush(queue, (at(b) - price * (b - middle), middle, b))


def _bound_split(
    top: float, best: float, allowance: float, price: float, interval: tuple[float, float]
) -> float:
    """Where to split (a, b] with cost `top` at b: the lowest cap above which the bound from b
    already reaches the best, when that is in the lower half; the middle otherwise. The upper
    part is then settled whatever the split costs, and the lower one at least halves."""
    a, b = interval
    middle = (a + b) / 2.0
    settled = b - (top - best + allowance / 2.0) / price
    return settled if a < settled < middle else middle


# --------------------------------------------------------------------------------------------
# The plan


def plan_with_site(request: PlanRequest) -> Plan:
    """The cheapest plan of one car in its house (or with a minimum charging power).

    The caller has checked that a price covers now.
    """
    car = prepare(request)
    assert car is not None
    if _searched_alone(car):
        from .multi import plan_alone  # noqa: PLC0415 - multi builds on this module

        return plan_alone(request)
    house = house_kw(request, car.horizon)
    outcome = best_outcome(car, house).followed()
    return assemble(car, house, replace(outcome, path=_kept_to_stages(car, outcome)))


def _searched_alone(car: Car) -> bool:
    """True for a car with a minimum power under a capacity tariff on up to
    `_SEARCHED_ALONE_SLOTS`: the cost of the peak and of the slots it charges in is then not
    convex, and the site's search of those slots (`multi.plan_alone`) finds cheaper plans."""
    site = car.request.site
    return (
        site is not None
        and site.peak_price_per_kw > 0.0
        and car.request.charge.min_kw > 0.0
        and len(car.horizon.hours) <= _SEARCHED_ALONE_SLOTS
    )


def _kept_to_stages(car: Car, outcome: Outcome) -> list[float]:
    """The path with every slot's move kept to what its stage allows: the fuse, the export
    limit and the floor hold exactly, where the energies of a mix or an hour shared out
    stray over them by a rounding (a few nW over the fuse); the next slot that can move
    makes the rounding up."""
    energy = car.start_kwh
    out: list[float] = []
    for stage, target in zip(outcome.stages, outcome.path, strict=True):
        low = max(energy - stage.discharge_kwh, min(energy, car.floor_kwh))
        energy = min(max(target, low), max(stage.top(energy), energy))
        out.append(energy)
    return out


def outcome_flows(car: Car, outcome: Outcome) -> list[SlotFlow]:
    """The powers that follow the outcome's path (`slot_flows`), and the energies they give."""
    from . import slot_flows  # noqa: PLC0415 - the package imports this module

    discharges = [stage.discharge_kwh > 0.0 for stage in outcome.followed().stages]
    hours = car.horizon.hours
    return slot_flows(car.request, car.curve, hours, discharges, outcome.path, car.start_kwh)


def assemble(
    car: Car, house: Sequence[float], outcome: Outcome, flows: Sequence[SlotFlow] | None = None
) -> Plan:
    """The plan of a path: the usual plan, with the house's costs, grid power and peak.
    `flows`: the powers to plan, where they aren't the path's own (`outcome_flows`)."""
    from . import _assemble, _switch_times  # noqa: PLC0415 - the package imports this module

    request = car.request
    outcome = outcome.followed()
    flows = outcome_flows(car, outcome) if flows is None else flows
    base = _assemble(request, car.horizon, car.curve, flows, car.rules, car.start_kwh)
    pcs = [s.charge_kw for s in base.slots]
    pds = [s.discharge_kw for s in base.slots]
    net = [load + pc - pd for load, pc, pd in zip(house, pcs, pds, strict=True)]
    hours = car.horizon.hours
    peak = peak_kw(car.hour_groups, hours, net, car.hour_before)
    own_peak = peak_kw(car.hour_groups, hours, house, car.hour_before)
    cost = (
        energy_cost(car, net)
        - energy_cost(car, house)
        + wear_cost(car, pds)
        + peak_cost(car, peak)
        - peak_cost(car, own_peak)
    )
    with_site = request.site is not None
    slots = tuple(
        replace(slot, grid_kw=net[t] if with_site else None) for t, slot in enumerate(base.slots)
    )
    full = _full_powers(car, outcome.stages, pcs, pds)
    charge_now = _charge_now_cost(car, house)
    return replace(
        base,
        slots=slots,
        switch_times=tuple(_switch_times(list(slots), full)),
        cost=cost,
        charge_now_cost=charge_now,
        savings=charge_now - cost,
        peak_kw=peak if with_site else None,
        peak_cost=peak_cost(car, peak) - peak_cost(car, own_peak),
    )


def _full_powers(car: Car, slots: list[Stage], pcs: list[float], pds: list[float]) -> list[float]:
    """Per slot, the power an on/off charger would use: the limit at the slot's start."""
    charge, discharge = car.request.charge, car.request.discharge
    energy = car.start_kwh
    out: list[float] = []
    for stage, hours, pc, pd in zip(slots, car.horizon.hours, pcs, pds, strict=True):
        if pc > 0.0:
            out.append((stage.top(energy) - energy) / (hours * charge.efficiency))
        elif pd > 0.0 and discharge is not None:
            out.append(stage.discharge_kwh * discharge.efficiency / hours)
        else:
            out.append(0.0)
        energy += hours * charge.efficiency * pc
        if discharge is not None:
            energy -= hours * pd / discharge.efficiency
    return out


def _charge_now_cost(car: Car, house: Sequence[float]) -> float:
    """The house's extra cost of charging at full power (within the limits) from now on."""
    request = car.request
    capacity = request.battery.capacity_kwh
    protective = request.protective_soc_pct / 100.0 * capacity
    level = max((rule.required for rule in car.rules), default=-math.inf)
    deadline = max((rule.index for rule in car.rules), default=0)
    slots = stages(car, house)
    energy = car.start_kwh
    pcs: list[float] = []
    for b, (stage, hours) in enumerate(zip(slots, car.horizon.hours, strict=True)):
        wanted = max(protective, level if b < deadline else -math.inf)
        wanted = min(wanted, car.curve.upper_kwh)
        target = min(stage.top(energy), max(energy, wanted))
        pcs.append((target - energy) / (hours * request.charge.efficiency))
        energy = target
    net = [load + pc for load, pc in zip(house, pcs, strict=True)]
    peak = peak_kw(car.hour_groups, car.horizon.hours, net, car.hour_before)
    own_peak = peak_kw(car.hour_groups, car.horizon.hours, house, car.hour_before)
    return (
        energy_cost(car, net)
        - energy_cost(car, house)
        + peak_cost(car, peak)
        - peak_cost(car, own_peak)
    )
