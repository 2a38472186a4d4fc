"""Several cars on one house: the site request, its plan, and `plan_site`.

A site request plans every car against one `SiteSpec`: the cars share the house's import and
export limits and its capacity tariff. Each vehicle's fields mean what they mean in a single-car
request. JSON form:

    {"now", "prices", "site", "vehicles": [{"id", "battery", "charge", "discharge", "targets",
                                            "protective_soc_pct"}]}
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
import math
from typing import Any

from . import (
    Battery,
    ChargeSettings,
    DischargeSettings,
    Plan,
    PlanProblem,
    PlanRequest,
    PlanStatus,
    PlanValidationError,
    PriceSlot,
    SiteSpec,
    SlotFlow,
    Target,
    energy_after,
    plan,
    validate_request,
    validate_site,
)
from .choice_programme import SHORT_COST
from .exchange import energy_path, house_grid, lower_peak, trade_hours
from .joint import plan_jointly, without_limits
from .patterns import (
    BEYOND_A_DAY,
    WITHIN_A_DAY,
    Judging,
    applies,
    relaxation,
    relaxed,
    search_slots,
)
from .site import (
    Car,
    Outcome,
    assemble,
    below_minimum,
    best_outcome,
    capped_stages,
    energy_cost,
    hour_caps,
    house_kw,
    lower_bounds,
    outcome_flows,
    peak_cost,
    peak_kw,
    powers,
    prepare,
    reach_bounds,
    solve_with_minimum,
    stages,
    wear_cost,
)
from .site_dp import optimal_site_path

# The fields of a vehicle in a site request; the rest of a single-car request is shared.
_VEHICLE_FIELDS = ("battery", "charge", "discharge", "targets", "protective_soc_pct")
# Worst first: a site plan's status is the worst of its cars'.
_STATUS_ORDER = (
    PlanStatus.NO_PRICES,
    PlanStatus.SHORTFALL,
    PlanStatus.AWAITING_PRICES,
    PlanStatus.OK,
)


@dataclass(frozen=True, slots=True)
class VehicleRequest:
    """One car of a site request."""

    id: str
    battery: Battery
    charge: ChargeSettings
    discharge: DischargeSettings | None = None
    targets: tuple[Target, ...] = ()
    protective_soc_pct: float = 0.0


@dataclass(frozen=True, slots=True)
class SiteRequest:
    """Several cars, one house, one set of prices."""

    now: datetime
    prices: tuple[PriceSlot, ...]
    site: SiteSpec
    vehicles: tuple[VehicleRequest, ...]

    def vehicle_request(self, index: int) -> PlanRequest:
        """The single-car request of one vehicle on this site (the others left out)."""
        vehicle = self.vehicles[index]
        return PlanRequest(
            now=self.now,
            battery=vehicle.battery,
            charge=vehicle.charge,
            prices=self.prices,
            discharge=vehicle.discharge,
            targets=vehicle.targets,
            protective_soc_pct=vehicle.protective_soc_pct,
            site=self.site,
        )

    @classmethod
    def from_dict(cls, data: Any) -> SiteRequest:
        """Read the JSON form; raises PlanValidationError naming the field, e.g.
        "vehicles[1].battery.capacity_kwh"."""
        if not isinstance(data, Mapping):
            raise PlanValidationError("request", PlanProblem.NOT_OBJECT)
        if data.get("site") is None:
            raise PlanValidationError("site", PlanProblem.REQUIRED)
        items = data.get("vehicles")
        if isinstance(items, str | bytes) or not isinstance(items, list) or not items:
            raise PlanValidationError("vehicles", PlanProblem.NO_VEHICLES)
        shared = {key: data.get(key) for key in ("now", "prices", "site")}
        vehicles: list[VehicleRequest] = []
        single: PlanRequest | None = None
        for i, item in enumerate(items):
            path = f"vehicles[{i}]"
            if not isinstance(item, Mapping):
                raise PlanValidationError(path, PlanProblem.NOT_OBJECT)
            identity = item.get("id")
            if not isinstance(identity, str) or not identity:
                raise PlanValidationError(path + ".id", PlanProblem.NOT_ID)
            if any(v.id == identity for v in vehicles):
                raise PlanValidationError(path + ".id", PlanProblem.REPEATED_ID, id=repr(identity))
            own = {key: item.get(key) for key in _VEHICLE_FIELDS if item.get(key) is not None}
            try:
                single = PlanRequest.from_dict({**shared, **own})
            except PlanValidationError as err:
                if err.field.split(".")[0].split("[")[0] in _VEHICLE_FIELDS:
                    raise err.within(path) from None
                raise
            vehicles.append(
                VehicleRequest(
                    id=identity,
                    battery=single.battery,
                    charge=single.charge,
                    discharge=single.discharge,
                    targets=single.targets,
                    protective_soc_pct=single.protective_soc_pct,
                )
            )
        assert single is not None
        assert single.site is not None
        request = cls(single.now, single.prices, single.site, tuple(vehicles))
        validate_site_request(request)
        return request

    def to_dict(self) -> dict[str, Any]:
        """The JSON form that `from_dict` reads."""
        vehicles = []
        for index, vehicle in enumerate(self.vehicles):
            single = self.vehicle_request(index).to_dict()
            own = {key: single[key] for key in _VEHICLE_FIELDS if key in single}
            vehicles.append({"id": vehicle.id, **own})
        first = self.vehicle_request(0).to_dict()
        return {
            "now": first["now"],
            "prices": first["prices"],
            "site": first["site"],
            "vehicles": vehicles,
        }


def validate_site_request(request: SiteRequest) -> None:
    """Check a site request built in Python the same way `from_dict` checks JSON."""
    if not request.vehicles:
        raise PlanValidationError("vehicles", PlanProblem.NO_VEHICLES)
    for index in range(len(request.vehicles)):
        try:
            validate_request(request.vehicle_request(index))
        except PlanValidationError as err:
            if err.field.split(".")[0].split("[")[0] in _VEHICLE_FIELDS:
                raise err.within(f"vehicles[{index}]") from None
            raise
    validate_site(request.site, len(request.prices), [v.charge.min_kw for v in request.vehicles])


@dataclass(frozen=True, slots=True)
class VehiclePlan:
    id: str
    plan: Plan

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "plan": self.plan.to_dict()}


@dataclass(frozen=True, slots=True)
class SiteSlot:
    """The house in one slot of the site plan: its net grid power with every car's plan."""

    start: datetime
    end: datetime
    grid_kw: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grid_kw": self.grid_kw,
        }


@dataclass(frozen=True, slots=True)
class SitePlan:
    """One plan per car, planned together. `cost` is the house's cost with the cars' plans minus
    its cost without the cars, the capacity tariff included."""

    status: PlanStatus
    vehicles: tuple[VehiclePlan, ...] = ()
    slots: tuple[SiteSlot, ...] = ()
    cost: float = 0.0
    peak_kw: float = 0.0
    peak_cost: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "cost": self.cost,
            "peak_kw": self.peak_kw,
            "peak_cost": self.peak_cost,
            "slots": [s.to_dict() for s in self.slots],
            "vehicles": [v.to_dict() for v in self.vehicles],
        }


def worst_status(statuses: list[PlanStatus]) -> PlanStatus:
    """The least trustworthy of the cars' statuses."""
    return min(statuses, key=_STATUS_ORDER.index, default=PlanStatus.OK)


# --------------------------------------------------------------------------------------------
# Planning several cars

# Rounds of re-planning each car against the others; a round that saves less stops early.
_MAX_ROUNDS = 6
_SAVING = 1e-9
# Shortfalls below this (kWh) are rounding.
_SHORTFALL_KWH = 1e-6
# Times the hours' budgets are shared out, while the peak falls by more than this share of it.
_SHARE_ROUNDS = 3
_PEAK_STEP = 0.01
# Sharing the budgets costs each car a search of its own peak: seconds with a minimum power
# over many slots. Beyond this many, the peak is lowered by moving energy instead
# (`_with_lower_peak`): within 1e-4 of the optimum on the benchmark's days, at a fifth of the
# time.
_SHARED_SLOTS_WITH_MINIMUM = 96
# Up to this many slots (a day of quarters), cars with a minimum power are planned in turns
# again after trading, up to this many rounds: on a day of quarters the trades alone left plans
# up to a quarter above the optimum. Not where a slot's export pays more than its import:
# there each turn's peak search took up to a minute, and the plans with each other car first
# (`_other_orders`, as beyond a day) and the slots' search that follows (`_searched_slots`)
# reach as far. Of 102 random cases of 8 to 16 hours of quarters, the same two stayed above
# 0.1 % of the optimum, in 302 s instead of 513 s (the slowest 69 s instead of 236 s); of 106
# more, none either way, in 70 s instead of 78 s.
_POLISHED_SLOTS = 96
_POLISH_ROUNDS = 3
# Up to this many slots (the 36 hours that day-ahead prices reach) the slots each car charges
# in are searched; beyond a day, each car is also planned first, and the search's budget is
# shorter. On 28-36 hours of real prices that took 16 of 36 random houses from up to 2.8 %
# above the optimum to 1, within 0.32 %. On two days of quarters it took 18 times as long for
# a gain below 1.5e-4.
_SEARCHED_SLOTS = 144
# The search of the slots the cars charge in stops within this share of a bound below every
# plan (the cost without the minimum powers): far inside the 0.1 % the plans promise.
_BOUND_GAP = 1e-5
# Another car's plan may sit this far (kW) above a shared cap: rounding, not the car's to mend.
_CAP_ROUNDING_KW = 1e-6
# Cuts of a slot's power that bring the house within a limit: the first takes the excess, any
# more the rounding of that cut.
_LIMIT_CUTS = 8
# From this many cars on, each later car is also planned before an earlier one. Two cars reach
# the joint optimum without it, and each try costs a plan per car.
_LATER_FIRST_CARS = 3
# Up to this many slots, cars without a minimum power get the site's whole linear programme
# solved instead of turns (`_solved_exactly`). The turns can settle where one car holds what
# another values more: from three cars on (on one of the benchmark's days, 1.1 % above the
# optimum), and for two V2G cars at prices of almost nothing, where the first car planned
# takes the free slots the other needs and then discharges to it.
_EXACT_SLOTS = 192
# From this many cars on, the programme comes first on every such horizon.
_EXACT_CARS = 3
# Two cars get the programme first where it is also quicker than their turns: without a car
# that discharges (two days of quarters: 25-130 ms against the turns' 35 ms to 3 s), and with
# one on up to this many slots (7-23 ms against 5-190 ms; on 96 slots 100-490 ms against
# 65-1,050 ms, and on 192 slots 1.2-2.6 s against 45-230 ms). Beyond, they get it only where
# the turns miss a target.
_EXACT_SLOTS_WITH_DISCHARGE = 48
# A car's charge and discharge in one slot: above this (kW) both, a round trip.
_ROUND_TRIP_KW = 1e-6


def plan_site(request: SiteRequest) -> SitePlan:
    """Plan every car of the site together: they share the limits and the capacity tariff.

    Each car is planned in turn against the house with the other cars' current plans as part
    of its load, so every plan keeps the whole house within the limits; rounds repeat while
    the house's total cost falls. Under a capacity tariff one round finds the peak the cars
    reach, and the cars then share each hour's budget (`_share_hours`). Turns can't swap what
    one car holds for what another needs, so the result then goes to the joint planner
    (`joint.py`), whose mix is kept when it meets the targets as well, keeps the limits and
    costs less. Without a minimum power, the site's whole linear programme is solved instead
    (`_solved_exactly`) from three cars on, and for two where it is quicker than the turns
    (`_exact_first`); other pairs get it where the turns miss a target (another car's
    discharge may make the room). Cars with a minimum power then trade hours' energy and
    lower the peak together (`exchange.py`), which no car's own turn can do. On up to
    `_POLISHED_SLOTS` slots they are planned in turns again from there; beyond, up to
    `_SEARCHED_SLOTS`, the plans made with each other car first are compared. Then the slots
    each charges in are searched, each choice's powers solved exactly (`patterns.py`). Where a
    slot's export pays more than its import, the house's cost is not convex there: up to
    `_SEARCHED_SLOTS`, which way the house's power goes in each such slot is searched too, for
    cars with a minimum power and for several cars without one (`_searched_slots`).
    """
    validate_site_request(request)
    singles = [request.vehicle_request(i) for i in range(len(request.vehicles))]
    prepared = [prepare(single) for single in singles]
    cars = [car for car in prepared if car is not None]
    if len(cars) < len(prepared):
        plans = tuple(
            VehiclePlan(v.id, plan(s)) for v, s in zip(request.vehicles, singles, strict=True)
        )
        return SitePlan(status=PlanStatus.NO_PRICES, vehicles=plans)
    base = house_kw(singles[0], cars[0].horizon)
    order = list(range(len(cars)))
    site = request.site
    tariff = site.peak_price_per_kw > 0.0
    minimum = any(car.request.charge.min_kw > 0.0 for car in cars)
    whole = len(base) <= _EXACT_SLOTS and not minimum and applies(cars)
    programme_first = whole and _exact_first(cars, base)
    if programme_first:
        solved = _solved_exactly(cars, base)
        if solved is not None:
            return _site_plan(request, cars, base, solved.outcomes)
    best = _in_turns(cars, base, order, 1 if tariff else _MAX_ROUNDS)
    if tariff and (not minimum or len(base) <= _SHARED_SLOTS_WITH_MINIMUM):
        best = _share_hours(cars, base, best)
    # Whoever is planned first may take what another needs for its target: when a target is
    # missed, every car gets a turn to go first, and the least shortfall (then cost) wins.
    for shift in range(1, len(cars) if best.shortfall > _SHORTFALL_KWH else 0):
        other = _in_turns(cars, base, order[shift:] + order[:shift])
        if (other.shortfall, other.total) < (best.shortfall - _SHORTFALL_KWH, best.total):
            best = other
    if len(cars) >= _LATER_FIRST_CARS:
        best = _later_first(cars, base, best)
    best = _improve_jointly(cars, base, best)
    if whole and not programme_first and best.shortfall > _SHORTFALL_KWH:
        # Another car's discharge can make room under the fuse for a target no turn reaches:
        # the programme sees the whole house.
        solved = _solved_exactly(cars, base)
        if solved is not None and _better(solved, best):
            best = solved
    if minimum:
        # Only a minimum power needs the cars to move together (`exchange.py`).
        best = _traded(cars, base, best, tariff)
        if len(base) <= _POLISHED_SLOTS and applies(cars):
            best = _polished(cars, base, best, tariff)
        elif len(base) <= _SEARCHED_SLOTS:
            # Beyond a day, and within one where a slot's export pays more than its import.
            best = _other_orders(cars, base, best, tariff)
    searched = minimum or (len(cars) > 1 and not applies(cars))
    if searched and len(base) <= _SEARCHED_SLOTS:
        best = _searched_slots(cars, base, best)
    return _site_plan(request, cars, base, best.outcomes)


def plan_alone(request: PlanRequest) -> Plan:
    """One car planned as a site of its own (`plan_site`): the slots it charges in searched."""
    fields = {name: getattr(request, name) for name in _VEHICLE_FIELDS}
    assert request.site is not None
    site = SiteRequest(request.now, request.prices, request.site, (VehicleRequest("", **fields),))
    return plan_site(site).vehicles[0].plan


def _exact_first(cars: list[Car], base: list[float]) -> bool:
    """True where cars without a minimum power get the site's programme before any turns."""
    if len(cars) >= _EXACT_CARS:
        return True
    discharging = any(car.request.discharge is not None for car in cars)
    return len(cars) > 1 and (not discharging or len(base) <= _EXACT_SLOTS_WITH_DISCHARGE)


def _solved_exactly(cars: list[Car], base: list[float]) -> _Coordinated | None:
    """The plan of the site's whole linear programme; None where it has none, where a car
    charges and discharges in one slot, or where its plan breaks a limit.

    Without a minimum power, the programme of every slot open to every car (`relaxed`) is a
    relaxation of the site's model: it lets the house import and export at once, and a car
    charge and discharge at once. Neither pays where no slot's export pays more than its
    import (`applies`) and no price is negative. A negative price can make burning energy in a
    round trip pay (to take more at that price); where the optimum does that, the car can't
    follow it. Otherwise its optimum is the site's, a shortfall costing far more than any price.
    """
    flows = relaxed(cars, base)
    if flows is None or any(_round_trips(car_flows) for car_flows in flows):
        return None
    return _from_flows(cars, base, flows)


def _round_trips(flows: tuple[list[float], list[float]]) -> bool:
    """True where the car charges and discharges in the same slot."""
    return any(
        charge > _ROUND_TRIP_KW and discharge > _ROUND_TRIP_KW
        for charge, discharge in zip(*flows, strict=True)
    )


def _share_hours(cars: list[Car], base: list[float], best: _Coordinated) -> _Coordinated:
    """The cars sharing each hour's import budget, when that is as good on the targets and
    cheaper.

    A car searching the peak on its own uses only what it can take of an hour's budget: a
    7.4 kW car takes the cheapest quarter up to 7.4 kW and the rest of the budget goes to
    dearer quarters, where the cars together would fill the cheapest one. So at the peak the
    cars reached, each hour's budget goes to its cheapest slots at the cars' power together
    (`hour_caps` of the cars as one), and the cars are planned in turn under those caps (each
    order in turn while one falls short). Then each car is planned once more with its own
    peak search, which also lets a car that fell short raise the peak as little as it needs.
    While that lowers the peak, the budgets are shared again at the lower peak.
    """
    first = cars[0]
    site = first.request.site
    assert site is not None
    peak = math.inf
    for _ in range(_SHARE_ROUNDS):
        grid = _with_others(base, best.flows, -1)
        lower = peak_kw(first.hour_groups, first.horizon.hours, grid, first.hour_before)
        if lower <= site.current_peak_kw or lower > peak * (1.0 - _PEAK_STEP):
            break
        peak = lower
        other = _shared_at(cars, base, peak)
        if (
            other is None
            or not _better(other, best)
            or not _within_limits(first, base, other.flows)
        ):
            break
        best = other
    return best


def _shared_at(cars: list[Car], base: list[float], peak: float) -> _Coordinated | None:
    """The cars planned under each hour's budget at `peak`, shared out to the cheapest slots,
    then each once more with its own peak search; None when no order of turns can keep to the
    budgets."""
    caps = hour_caps(_together(cars), base, peak)
    order = list(range(len(cars)))
    shared: _Coordinated | None = None
    plan_car = _capped_outcomes(cars, caps)
    for shift in range(len(cars)):
        other = _coordinate(cars, plan_car, base, order[shift:] + order[:shift], _MAX_ROUNDS)
        if other is not None and (shared is None or _better(other, shared)):
            shared = other
        if shared is not None and shared.shortfall <= _SHORTFALL_KWH:
            break
    if shared is None:
        return None
    return _in_turns(cars, base, order, 1, list(shared.flows))


def _later_first(cars: list[Car], base: list[float], best: _Coordinated) -> _Coordinated:
    """Each later car planned as if an earlier one weren't there, then that one, then the rest,
    when that meets the targets as well and costs less.

    The car planned first takes what is cheapest for it, such as the solar surplus to discharge
    in the evening, though a later car that buys at night would save more with it. Neither car's
    own turn can swap that: the earlier one keeps the solar while the later one doesn't take it.
    """
    empty = ([0.0] * len(base), [0.0] * len(base))
    for later in range(1, len(cars)):
        for earlier in range(later):
            start = list(best.flows)
            start[earlier] = empty
            rest = [k for k in range(len(cars)) if k not in (earlier, later)]
            other = _in_turns(cars, base, [later, earlier, *rest], 1, start)
            # The earlier car was planned against the later one's plan, so the house's limits held
            # for it; the rest are planned against both, and may be unable to keep to them.
            if _better(other, best) and _within_limits(cars[0], base, other.flows):
                best = other
    return best


def _together(cars: list[Car]) -> Car:
    """The first car with the charging power of all the cars: the hours' caps for them all."""
    first = cars[0]
    charge = replace(first.request.charge, max_kw=sum(c.request.charge.max_kw for c in cars))
    return replace(first, request=replace(first.request, charge=charge))


def _better(candidate: _Coordinated, best: _Coordinated) -> bool:
    """Meets the targets better, or as well and costs less."""
    if candidate.shortfall < best.shortfall - _SHORTFALL_KWH:
        return True
    cheaper = candidate.total < best.total - _SAVING * (1.0 + abs(best.total))
    return candidate.shortfall <= best.shortfall + _SHORTFALL_KWH and cheaper


# How one car is planned in a round: its index and the house with the others' plans; None when
# it can't keep to what the others left it.
_PlanCar = Callable[[int, list[float]], Outcome | None]


def _in_turns(
    cars: list[Car],
    base: list[float],
    order: list[int],
    rounds: int = _MAX_ROUNDS,
    start: list[tuple[list[float], list[float]]] | None = None,
) -> _Coordinated:
    """`_coordinate` with each car's cheapest plan, its own search of the peak included."""
    best = _coordinate(
        cars, lambda i, house: best_outcome(cars[i], house), base, order, rounds, start
    )
    assert best is not None  # a car's cheapest plan always exists
    return best


def _capped_outcomes(cars: list[Car], caps: list[float]) -> _PlanCar:
    """Each car's cheapest plan with the house's grid power under `caps` per slot."""

    def plan_car(index: int, house: list[float]) -> Outcome | None:
        car = cars[index]
        own = [
            max(cap, load) if load <= cap + _CAP_ROUNDING_KW else cap
            for cap, load in zip(caps, house, strict=True)
        ]
        slots = capped_stages(car, house, own)
        high, low, feasible = reach_bounds(car, slots)
        if not feasible:
            return None
        lower = lower_bounds(car, high)
        if car.request.charge.min_kw > 0.0:
            path = solve_with_minimum(car, slots, (lower, low, high))
        else:
            path = optimal_site_path(slots, car.start_kwh, lower, low, high)
        return Outcome(path, slots, 0.0, 0.0)

    return plan_car


def _improve_jointly(cars: list[Car], base: list[float], best: _Coordinated) -> _Coordinated:
    """The joint planner's mix when it is as good on the targets and cheaper."""
    paths = plan_jointly(cars, base, [o.path for o in best.outcomes])
    if paths is None:
        return best
    flows = [powers(car, path) for car, path in zip(cars, paths, strict=True)]
    # The house's limits hold for the cars together (checked below), not for each on its own.
    outcomes = _outcomes(cars, base, flows, paths)
    if not _within_limits(cars[0], base, flows):
        return best
    total = _house_cost(cars, base, flows)
    shortfall = sum(_shortfall(car, o) for car, o in zip(cars, outcomes, strict=True))
    if any(car.request.charge.min_kw > 0.0 for car in cars):
        # The check below needs the stages; made once here, the site plan keeps them.
        outcomes = [o.followed() for o in outcomes]
    joint = _Coordinated(flows, outcomes, total, shortfall)
    if _below_minimum(cars, outcomes):
        # A mix of plans averages a charge at the minimum with none, below the minimum: each
        # car is planned once more against the others' mix, which keeps its minimum and the
        # limits (the others' plans count as the house's load).
        joint = _in_turns(cars, base, list(range(len(cars))), 1, list(flows))
        # Each car counted the mix's other plans, which the turns changed, as the house's load.
        if not _within_limits(cars[0], base, joint.flows):
            return best
    # A car planned in turns counts the others' plans as the house's own load, and so may go
    # beyond a limit they already pass: the joint mix, keeping to every limit, then wins.
    if not _within_limits(cars[0], base, best.flows):
        return joint
    return joint if _better(joint, best) else best


def _with_trades(cars: list[Car], base: list[float], best: _Coordinated) -> _Coordinated:
    """The cars' plans after trading hours' energy (`exchange.py`), when that saves and keeps
    every limit and minimum."""
    flows = trade_hours(cars, base, best.flows)
    if flows is None:
        return best
    traded = _from_flows(cars, base, flows)
    if traded is None:
        return best
    return traded if _better(traded, best) else best


def _traded(cars: list[Car], base: list[float], best: _Coordinated, tariff: bool) -> _Coordinated:
    """The plans after trading hours' energy and, under a capacity tariff, lowering the peak
    together (`exchange.py`)."""
    best = _with_trades(cars, base, best)
    return _with_lower_peak(cars, base, best) if tariff else best


def _from_flows(
    cars: list[Car], base: list[float], flows: list[tuple[list[float], list[float]]]
) -> _Coordinated | None:
    """The cars' plans with these powers, or None when they break a limit or a minimum."""
    paths = [energy_path(car, *car_flows) for car, car_flows in zip(cars, flows, strict=True)]
    outcomes = [o.followed() for o in _outcomes(cars, base, flows, paths)]
    if not _within_limits(cars[0], base, flows) or _below_minimum(cars, outcomes):
        return None
    shortfall = sum(_shortfall(car, o) for car, o in zip(cars, outcomes, strict=True))
    return _Coordinated(flows, outcomes, _house_cost(cars, base, flows), shortfall)


def _outcomes(
    cars: list[Car],
    base: list[float],
    flows: list[tuple[list[float], list[float]]],
    paths: list[list[float]],
) -> list[Outcome]:
    """Each car's outcome along its path; its stages (its own limits, the others' powers as
    the house's load) are made when asked."""
    return [
        Outcome(
            path, [], 0.0, 0.0, partial(stages, without_limits(car), _with_others(base, flows, k))
        )
        for k, (car, path) in enumerate(zip(cars, paths, strict=True))
    ]


def _below_minimum(cars: list[Car], outcomes: list[Outcome]) -> bool:
    """True when a car with a minimum power charges below it somewhere."""
    return any(
        car.request.charge.min_kw > 0.0 and below_minimum(o.stages, car.start_kwh, o.path)
        for car, o in zip(cars, outcomes, strict=True)
    )


def _polished(cars: list[Car], base: list[float], best: _Coordinated, tariff: bool) -> _Coordinated:
    """Rounds of planning each car in turn from the traded plans, then trading and lowering
    the peak again, while that saves: a trade can leave a car a better plan of its own."""
    order = list(range(len(cars)))
    for _ in range(_POLISH_ROUNDS):
        replanned = _in_turns(cars, base, order, _MAX_ROUNDS, list(best.flows))
        other = _traded(cars, base, replanned, tariff)
        if not _better(other, best) or not _within_limits(cars[0], base, other.flows):
            break
        best = other
    return best


def _other_orders(
    cars: list[Car], base: list[float], best: _Coordinated, tariff: bool
) -> _Coordinated:
    """The best of `best` and the plans made as it was, but with each other car planned first:
    on more than a day of quarters, where the turns aren't polished, which car takes which
    slots follows from who goes first, and the trades can't swap that."""
    order = list(range(len(cars)))
    for shift in range(1, len(cars)):
        first = order[shift:] + order[:shift]
        other = _in_turns(cars, base, first, 1 if tariff else _MAX_ROUNDS)
        other = _improve_jointly(cars, base, other)
        other = _traded(cars, base, other, tariff)
        if _better(other, best):
            best = other
    return best


def _searched_slots(cars: list[Car], base: list[float], best: _Coordinated) -> _Coordinated:
    """The plan after searching the slots each car with a minimum charges in and, where a
    slot's export pays more than its import, which way the house's power goes there
    (`patterns.search_slots`). It stops once the plan is within `_BOUND_GAP` of a bound no plan
    beats: the cost without the minimum powers, the house's power going either way in such a
    slot (`patterns.relaxation`). Beyond a day of quarters the search is kept shorter."""
    flows, bound = relaxation(cars, base)
    if applies(cars):
        # Without a slot priced both ways, the relaxed powers' own cost, as it always was.
        bound = -math.inf if flows is None else _house_cost(cars, base, flows)
    judging = _judging(cars, base, bound)
    budget = WITHIN_A_DAY if len(base) <= _POLISHED_SLOTS else BEYOND_A_DAY
    return search_slots(cars, base, best.flows, best, judging, budget, flows)


def _judging(cars: list[Car], base: list[float], bound: float) -> Judging[_Coordinated]:
    """How the searches judge plans: no plan costs less than `bound`, which they stop near."""

    def good_enough(plan: _Coordinated) -> bool:
        close = plan.total <= bound + _BOUND_GAP * (1.0 + abs(bound))
        return plan.shortfall <= _SHORTFALL_KWH and close

    def may_beat(flows: list[tuple[list[float], list[float]]], other: _Coordinated) -> bool:
        """False where the flows cost too much to beat `other` (a plan's total is its house's
        cost) and only a lower cost could (`_better`)."""
        if other.shortfall > _SHORTFALL_KWH:
            return True
        return _house_cost(cars, base, flows) < other.total - _SAVING * (1.0 + abs(other.total))

    def worth(cost: float, short_kwh: float, other: _Coordinated) -> bool:
        """False where a plan costing `cost` and at least `short_kwh` short can't beat `other`
        by more than `_BOUND_GAP`."""
        if short_kwh > other.shortfall + _SHORTFALL_KWH:
            return False
        if short_kwh < other.shortfall - _SHORTFALL_KWH:
            return True
        return cost < other.total - _BOUND_GAP * (1.0 + abs(other.total))

    def limit(plan: _Coordinated) -> float:
        """A plan that meets the targets as well is better only below its cost (`_better`);
        one that meets them better may cost anything."""
        if plan.shortfall > _SHORTFALL_KWH:
            return math.inf
        return plan.total + SHORT_COST * plan.shortfall

    return Judging(
        partial(_from_flows, cars, base),
        _better,
        may_beat,
        good_enough,
        partial(_house_cost, cars, base),
        worth,
        limit,
    )


def _with_lower_peak(cars: list[Car], base: list[float], best: _Coordinated) -> _Coordinated:
    """The cars' plans at the lower peak (`exchange.lower_peak`), then traded, that meets the
    targets as well and costs least, when it costs less."""
    site = cars[0].request.site
    assert site is not None
    for flows in lower_peak(cars, base, best.flows, site.current_peak_kw):
        lowered = _from_flows(cars, base, flows)
        if lowered is None:
            continue
        lowered = _with_trades(cars, base, lowered)
        if _better(lowered, best):
            best = lowered
    return best


def _within_limits(
    first: Car, base: list[float], flows: list[tuple[list[float], list[float]]]
) -> bool:
    """True when the house's grid power keeps to the import and export limits in every slot."""
    site = first.request.site
    assert site is not None
    grid = _with_others(base, flows, -1)
    top = site.import_cap_kw
    bottom = site.export_cap_kw
    return all(
        g <= max(top, load) + 1e-9 and -g <= max(bottom, -load) + 1e-9
        for g, load in zip(grid, base, strict=True)
    )


@dataclass(frozen=True, slots=True)
class _Coordinated:
    flows: list[tuple[list[float], list[float]]]
    outcomes: list[Outcome]
    total: float
    shortfall: float


def _coordinate(
    cars: list[Car],
    plan_car: _PlanCar,
    base: list[float],
    order: list[int],
    rounds: int = _MAX_ROUNDS,
    start: list[tuple[list[float], list[float]]] | None = None,
) -> _Coordinated | None:
    """Rounds of planning each car (in this order) against the others, while cost falls;
    `start` holds the cars' flows to begin from (none by default). None when a car can't be
    planned in the first round."""
    empty = ([0.0] * len(base), [0.0] * len(base))
    flows: list[tuple[list[float], list[float]]] = [empty] * len(cars) if start is None else start
    outcomes: list[Outcome] = []
    best: _Coordinated | None = None
    for _ in range(rounds):
        round_outcomes: list[Outcome | None] = [None] * len(cars)
        for index in order:
            car = cars[index]
            outcome = plan_car(index, _with_others(base, flows, index))
            if outcome is None:
                return best
            flows[index] = powers(car, outcome.path)
            round_outcomes[index] = outcome
        outcomes = [o for o in round_outcomes if o is not None]
        total = _house_cost(cars, base, flows)
        if best is not None and (
            total > best.total - _SAVING * (1.0 + abs(best.total))
            # A car counts the others' plans as the house's own load, so where another's
            # discharge made its room, the other may drop that discharge: the house then
            # passes a limit (the round's plans each keep to it, not all together).
            or not _within_limits(cars[0], base, flows)
        ):
            break
        shortfall = sum(_shortfall(car, o) for car, o in zip(cars, outcomes, strict=True))
        best = _Coordinated(list(flows), outcomes, total, shortfall)
    return best


def _shortfall(car: Car, outcome: Outcome) -> float:
    energies = [car.start_kwh, *outcome.path]
    return sum(max(0.0, rule.required - energies[rule.index]) for rule in car.rules)


def _with_others(
    base: list[float], flows: list[tuple[list[float], list[float]]], index: int
) -> list[float]:
    """The house's load per slot with every car but one."""
    return house_grid(base, [car_flows for j, car_flows in enumerate(flows) if j != index])


def _house_cost(
    cars: list[Car], base: list[float], flows: list[tuple[list[float], list[float]]]
) -> float:
    """What the house pays with these flows: energy, capacity tariff and the cars' wear."""
    first = cars[0]
    grid = _with_others(base, flows, -1)
    cost = energy_cost(first, grid) + peak_cost(
        first, peak_kw(first.hour_groups, first.horizon.hours, grid, first.hour_before)
    )
    return cost + sum(wear_cost(car, pds) for car, (_, pds) in zip(cars, flows, strict=True))


def _site_plan(
    request: SiteRequest, cars: list[Car], base: list[float], outcomes: list[Outcome]
) -> SitePlan:
    # The powers that follow each car's path keep to the car's own limits where the energies
    # stray by a rounding; then the house is kept to its limits with them.
    outcomes = [outcome.followed() for outcome in outcomes]
    slot_flows = _kept_to_limits(
        cars,
        base,
        [outcome_flows(car, outcome) for car, outcome in zip(cars, outcomes, strict=True)],
    )
    flows = [
        ([f.charge_kw for f in car_flows], [f.discharge_kw for f in car_flows])
        for car_flows in slot_flows
    ]
    vehicle_plans = [
        VehiclePlan(
            vehicle.id,
            assemble(car, _with_others(base, flows, index), outcome, slot_flows[index]),
        )
        for index, (vehicle, car, outcome) in enumerate(
            zip(request.vehicles, cars, outcomes, strict=True)
        )
    ]
    first = cars[0]
    grid = _with_others(base, flows, -1)
    hours = first.horizon.hours
    peak = peak_kw(first.hour_groups, hours, grid, first.hour_before)
    own_peak = peak_kw(first.hour_groups, hours, base, first.hour_before)
    empty = [([0.0] * len(base), [0.0] * len(base)) for _ in cars]
    return SitePlan(
        status=worst_status([v.plan.status for v in vehicle_plans]),
        vehicles=tuple(vehicle_plans),
        slots=tuple(
            SiteSlot(first.horizon.starts[t], first.horizon.ends[t], grid[t])
            for t in range(len(grid))
        ),
        cost=_house_cost(cars, base, flows) - _house_cost(cars, base, empty),
        peak_kw=peak,
        peak_cost=peak_cost(first, peak) - peak_cost(first, own_peak),
    )


def _kept_to_limits(
    cars: list[Car], base: list[float], flows: list[list[SlotFlow]]
) -> list[list[SlotFlow]]:
    """The cars' flows with the house kept to its import and export limits exactly.

    Each car's plan keeps to what the others' plans left it, but the powers are made from
    energies and added up car by car, so the sum may pass a limit by a rounding (1e-15 to
    1e-10 kW). Where it does, the excess is cut from a car's charge (for import) or discharge
    (for export) in that slot: a car that stays above its minimum power first, then the one
    moving most. The car's energy after the slot changes by the cut; its next slot that
    moves the other way makes that up (less discharge after a cut charge, less charge after a
    cut discharge, keeping to the minimum power), so the floor and the top hold and the
    later energies return to the plan. The sum is the one the site plan reports: the house,
    then each car's charge minus discharge in turn.
    """
    site = cars[0].request.site
    assert site is not None
    top = site.import_cap_kw
    bottom = site.export_cap_kw
    if math.isinf(top) and math.isinf(bottom):
        return flows
    hours = cars[0].horizon.hours
    charges = [[f.charge_kw for f in car_flows] for car_flows in flows]
    discharges = [[f.discharge_kw for f in car_flows] for car_flows in flows]
    planned = [
        [car.start_kwh, *(f.energy_kwh for f in car_flows)]
        for car, car_flows in zip(cars, flows, strict=True)
    ]
    energies = [car.start_kwh for car in cars]
    kept: list[list[SlotFlow]] = [[] for _ in cars]
    for t, load in enumerate(base):
        for k, car in enumerate(cars):
            _make_up(car, hours[t], energies[k] - planned[k][t], charges[k], discharges[k], t)
        for _ in range(_LIMIT_CUTS):
            grid = load
            for k in range(len(cars)):
                grid += charges[k][t] - discharges[k][t]
            over = grid - max(top, load)
            under = -grid - max(bottom, -load)
            if over > 0.0:
                _cut(cars, charges, t, over, minimum=True)
            elif under > 0.0:
                _cut(cars, discharges, t, under, minimum=False)
            else:
                break
        for k, car in enumerate(cars):
            flow = SlotFlow(charges[k][t], discharges[k][t], 0.0)
            energies[k] = energy_after(car.request, hours[t], energies[k], flow)
            kept[k].append(replace(flow, energy_kwh=energies[k]))
    return kept


def _make_up(
    car: Car, hours: float, gap: float, charges: list[float], discharges: list[float], t: int
) -> None:
    """Slot `t` of one car making up `gap` (kWh: the energy it starts with minus the plan's)
    where it moves the other way: it discharges less when a cut charge left it short, charges
    less (not below its minimum power) when a cut discharge left it over."""
    discharge = car.request.discharge
    if gap < 0.0 and discharges[t] > 0.0 and discharge is not None:
        discharges[t] = max(0.0, discharges[t] + gap * discharge.efficiency / hours)
    elif gap > 0.0 and charges[t] > 0.0:
        less = max(0.0, charges[t] - gap / (hours * car.request.charge.efficiency))
        if less >= car.request.charge.min_kw:
            charges[t] = less


def _cut(cars: list[Car], powers: list[list[float]], t: int, excess: float, minimum: bool) -> None:
    """Cut `excess` (kW, at least a rounding of the power) from one car's power in slot `t`:
    one that keeps above its minimum charging power (when `minimum`) first, then the one with
    the most power."""
    moving = [k for k in range(len(cars)) if powers[k][t] > 0.0]
    if not moving:
        return

    def held(k: int) -> bool:
        return minimum and powers[k][t] - excess < cars[k].request.charge.min_kw

    chosen = min(moving, key=lambda k: (held(k), -powers[k][t]))
    power = powers[chosen][t]
    powers[chosen][t] = max(0.0, power - max(excess, math.ulp(power)))
