"""Several cars planned jointly: column generation over each car's own optimal plans.

The house's cost depends on the cars only through the sum of their grid powers, and a mix of
one car's feasible plans (their grid powers averaged) is again a feasible plan: the charge
curve is concave and every limit of a car alone is linear. So the joint problem is a small
linear programme over mixes of plans (the master, `simplex.py`): per slot the house's grid
power, its import and export at their prices, the fuse, the export limit and the capacity
tariff's hourly averages. Its duals price each slot; each car's cheapest plan at those prices
(the usual dynamic programme, `site_dp.py`) joins the master when it lowers the cost, until
none does. A car's plans keep to its own limits only: the house's limits bind the cars
together, since one car's discharge may feed another beyond the fuse.

Where a slot's export pays more than its import (or its import price is negative and it has
no export price) the house's cost isn't convex there, and no mix of plans can price it: the
master keeps such a slot on the side (import or export) of the plans it started from. The
caller checks the result against the real model and keeps the best plan it has.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
import math

from . import PriceSlot
from .simplex import Row, solve_lp
from .site import Car, lower_bounds, powers, reach_bounds, stages, wear_cost
from .site_dp import Stage, optimal_site_path

# Rounds of pricing; each adds at most two plans per car.
_MAX_ROUNDS = 40
# A car's plans with a minimum power take far longer, and their mixes are not exact anyway:
# rounds then, each adding at most one plan per car.
_MINIMUM_ROUNDS = 8
# The master is solved only while it stays this small (rows): larger masters stall on ties
# between the cars and cost more time than they save.
_MAX_ROWS = 48
# Simplex steps allowed per master.
_MAX_STEPS = 400
# A plan joins the master when it lowers the cost by more than this (relative).
_IMPROVEMENT = 1e-7
# The cost of a kW over a limit in the master: far above any price, so limits hold.
_OVER_LIMIT_COST = 1e4
# A slot or hour this close (kW) to a limit or a change of price has the limit in the master,
# so that the master's prices see it.
_TOUCH = 1e-6
# A mix's weight below this is rounding.
_WEIGHT = 1e-12
# The share of the last smoothed prices in the next.
_SMOOTHING = 0.5


@dataclass(frozen=True, slots=True)
class _Column:
    """One plan of one car: its energies, its net grid power per slot, its wear."""

    path: list[float]
    net: list[float]
    wear: float


class _Pricer:
    """One car's plans at given prices per kW of grid power and slot."""

    def __init__(self, car: Car, house: Sequence[float]) -> None:
        self.car = car
        self.house = house
        # What the car must reach it can reach on its own, within the house's limits.
        self.lower = lower_bounds(car, reach_bounds(car, stages(car, house))[0])

    @cached_property
    def own(self) -> tuple[list[Stage], list[float], list[float]]:
        """The stages the car's plans keep to, and the highest and lowest energy they reach:
        the car's own limits only. Another car's discharge can feed this one beyond the fuse,
        or take this one's beyond the export limit; the master holds the house to its limits.
        Built when first asked: a master too large is never priced."""
        own = stages(without_limits(self.car), self.house)
        high, low, _ = reach_bounds(self.car, own)
        return own, high, low

    def column(self, path: list[float]) -> _Column:
        pcs, pds = powers(self.car, path)
        net = [pc - pd for pc, pd in zip(pcs, pds, strict=True)]
        return _Column(path, net, wear_cost(self.car, pds))

    def cheapest(self, prices: Sequence[float]) -> _Column:
        request = self.car.request
        eta = request.charge.efficiency
        discharge = request.discharge
        own, high, low = self.own
        priced: list[Stage] = []
        for stage, hours, price in zip(own, self.car.horizon.hours, prices, strict=True):
            out: tuple[tuple[float, float], ...] = ()
            if stage.discharge and discharge is not None:
                rate = discharge.wear_cost_per_kwh - discharge.efficiency * price / hours
                out = ((stage.discharge_kwh, rate),)
            charge = ((math.inf, price / (eta * hours)),)
            priced.append(replace(stage, charge=charge, discharge=out))
        start = self.car.start_kwh
        return self.column(optimal_site_path(priced, start, self.lower, low, high))

    def meets_needs(self, path: Sequence[float]) -> bool:
        """True when the plan keeps to every lower bound this car can reach on its own."""
        return all(e >= need - 1e-6 for e, need in zip(path, self.lower[1:], strict=True))


def without_limits(car: Car) -> Car:
    """The car in a house without import or export limits: its own limits only."""
    site = car.request.site
    assert site is not None
    site = replace(site, import_limit_kw=None, export_limit_kw=None)
    request = replace(car.request, site=site)
    return car.with_request(request)


class _Master:
    """The master programme of one round, and how to read its duals as slot prices."""

    def __init__(self, columns: list[_Column]) -> None:
        self.columns = columns
        self.costs = [c.wear for c in columns]
        self.rows: list[Row] = []
        # Per row, its coefficient on each slot's summed net power of the cars.
        self.slot_terms: list[dict[int, float]] = []
        # Per slot, the master's cost of a kW of the cars' net power.
        self.slot_costs: list[float] = []
        # Per slot that may import or export: the master's column of its export.
        self.exports: dict[int, int] = {}
        self.importing: list[bool] = []

    def add_variable(self, cost: float) -> int:
        self.costs.append(cost)
        return len(self.costs) - 1

    def add_row(self, terms: dict[int, float], extra: dict[int, float], bound: float) -> None:
        """A row on the slots' summed net powers (`terms`) and the master's own columns."""
        coefficients = dict(extra)
        for j, column in enumerate(self.columns):
            value = sum(weight * column.net[t] for t, weight in terms.items())
            if value:
                coefficients[j] = value
        self.rows.append(Row(coefficients, bound))
        self.slot_terms.append(terms)

    def add_slot(self, t: int, price: PriceSlot, hours: float, load: float, span: _Span) -> None:
        """The slot's cost on its side (import or export, or both), and its limits."""
        buy = price.import_price
        sell = price.export_price or 0.0
        convex = sell <= buy
        imports = span.least >= _TOUCH or (not convex and span.start >= 0.0)
        if convex and span.least < _TOUCH and span.most > -_TOUCH:
            self.exports[t] = self.add_variable(hours * (buy - sell))
            self.add_row({t: -1.0}, {self.exports[t]: -1.0}, load)
            imports = True
        elif not convex and imports and span.least < _TOUCH:
            self.add_row({t: -1.0}, {}, load)
        elif not convex and not imports and span.most > -_TOUCH:
            self.add_row({t: 1.0}, {}, -load)
        self.importing.append(imports)
        self.slot_costs.append(hours * (buy if imports else sell))
        ceiling = max(span.import_limit, load)
        if span.most > ceiling - _TOUCH:
            self.add_row({t: 1.0}, {self.add_variable(_OVER_LIMIT_COST): -1.0}, ceiling - load)
        floor = max(span.export_limit, -load)
        if -span.least > floor - _TOUCH:
            over = self.add_variable(_OVER_LIMIT_COST)
            if t in self.exports:
                self.add_row({}, {self.exports[t]: 1.0, over: -1.0}, floor)
            else:
                self.add_row({t: -1.0}, {over: -1.0}, floor + load)

    def add_peak(self, car: Car, house: Sequence[float], most: list[float]) -> None:
        """The capacity tariff: every hour's average import under the peak."""
        site = car.request.site
        assert site is not None
        hours = car.horizon.hours
        excess = self.add_variable(site.peak_price_per_kw)
        for group in car.hour_groups:
            # The hour holding now also counts what passed of it and what it imported then.
            passed, imported = car.hour_before if group[0] == 0 else (0.0, 0.0)
            length = passed + sum(hours[t] for t in group)
            highest = (imported + sum(hours[t] * max(most[t], 0.0) for t in group)) / length
            if highest < site.current_peak_kw - _TOUCH:
                continue
            terms = {t: hours[t] / length for t in group if self.importing[t]}
            extra = {self.exports[t]: hours[t] / length for t in group if t in self.exports}
            extra[excess] = -1.0
            bound = site.current_peak_kw - imported / length
            bound -= sum(w * house[t] for t, w in terms.items())
            self.add_row(terms, extra, bound)


@dataclass(frozen=True, slots=True)
class _Span:
    """What a slot's grid power can be in the master: its range, where it started, the limits."""

    least: float
    most: float
    start: float
    import_limit: float
    export_limit: float


def _build(
    car_ids: list[int],
    columns: list[_Column],
    reference: list[float],
    cars: list[Car],
    house: Sequence[float],
) -> _Master:
    """The master for these plans; `reference` is the house's grid power the mix started from."""
    first = cars[0]
    site = first.request.site
    assert site is not None
    import_limit = site.import_cap_kw
    export_limit = site.export_cap_kw
    least = list(house)
    most = list(house)
    for car in range(len(cars)):
        own = [c for c, i in zip(columns, car_ids, strict=True) if i == car]
        for t in range(len(house)):
            least[t] += min(c.net[t] for c in own)
            most[t] += max(c.net[t] for c in own)
    master = _Master(columns)
    for t, (price, hours) in enumerate(zip(first.horizon.prices, first.horizon.hours, strict=True)):
        span = _Span(least[t], most[t], reference[t], import_limit, export_limit)
        master.add_slot(t, price, hours, house[t], span)
    if site.peak_price_per_kw > 0.0:
        master.add_peak(first, house, most)
    for j, column in enumerate(columns):
        master.costs[j] += sum(c * p for c, p in zip(master.slot_costs, column.net, strict=True))
    for car in range(len(cars)):
        members = {j: 1.0 for j, i in enumerate(car_ids) if i == car}
        master.rows.append(Row(members, 1.0, equal=True))
        master.slot_terms.append({})
    return master


def plan_jointly(
    cars: list[Car], house: Sequence[float], starts: list[list[float]]
) -> list[list[float]] | None:
    """Each car's energies in the cheapest mix found, starting from the paths `starts` (one per
    car, together within the house's limits); None when a car can't meet its own needs in
    them, or the master is too large to solve."""
    pricers = [_Pricer(car, house) for car in cars]
    columns: list[_Column] = []
    car_ids: list[int] = []
    for index, (pricer, path) in enumerate(zip(pricers, starts, strict=True)):
        if not pricer.meets_needs(path):
            return None
        columns.append(pricer.column(path))
        car_ids.append(index)
    reference = list(house)
    for column in columns:
        reference = [g + n for g, n in zip(reference, column.net, strict=True)]
    weights = [1.0] * len(columns)
    best = math.inf
    smoothed: list[float] | None = None
    minimum = any(car.request.charge.min_kw > 0.0 for car in cars)
    for _ in range(_MINIMUM_ROUNDS if minimum else _MAX_ROUNDS):
        master = _build(car_ids, columns, reference, cars, house)
        if len(master.rows) > _MAX_ROWS:
            break
        upper = [math.inf] * len(master.costs)
        try:
            result = solve_lp(master.costs, master.rows, upper, _MAX_STEPS)
        except ValueError:
            break
        # The master leaves out the house's own cost, which depends on its slots' sides.
        objective = result.objective + sum(
            c * load for c, load in zip(master.slot_costs, house, strict=True)
        )
        if objective < best:
            best, weights = objective, result.values[: len(columns)]
        prices = list(master.slot_costs)
        for dual, terms in zip(result.duals, master.slot_terms, strict=True):
            for t, weight in terms.items():
                prices[t] -= dual * weight
        convexity = result.duals[len(master.rows) - len(cars) :]
        if not _price(pricers, prices, prices, convexity, result.objective, columns, car_ids):
            break
        if minimum:
            continue
        # The master's prices jump between rounds, and plans priced at them alone close in
        # slowly: plans at the prices smoothed over the rounds join too.
        smoothed = [
            _SMOOTHING * a + (1.0 - _SMOOTHING) * b
            for a, b in zip(smoothed or prices, prices, strict=True)
        ]
        _price(pricers, smoothed, prices, convexity, result.objective, columns, car_ids)
    if math.isinf(best):
        return None
    return _mix(pricers, columns, car_ids, weights)


def _price(
    pricers: list[_Pricer],
    at: list[float],
    prices: list[float],
    convexity: list[float],
    objective: float,
    columns: list[_Column],
    car_ids: list[int],
) -> bool:
    """Adds each car's cheapest plan at the slot prices `at` when it lowers the master's cost
    at its `prices` and `convexity` duals; True when one did."""
    added = False
    for index, pricer in enumerate(pricers):
        column = pricer.cheapest(at)
        value = column.wear + sum(p * n for p, n in zip(prices, column.net, strict=True))
        if value - convexity[index] < -_IMPROVEMENT * (1.0 + abs(objective)):
            columns.append(column)
            car_ids.append(index)
            added = True
    return added


def _mix(
    pricers: list[_Pricer], columns: list[_Column], car_ids: list[int], weights: list[float]
) -> list[list[float]]:
    """Each car's path along its plans' mixed grid power.

    Where a car's plans charge in a slot and discharge in it, the car only moves the
    difference: that loses less than the plans' energies mixed, so the car keeps the house's
    grid power of the mix, and its energy never falls below the mix's. Only where that extra
    energy leaves less room to charge does it charge less.
    """
    paths: list[list[float]] = []
    for index, pricer in enumerate(pricers):
        members = [(w, c) for w, c, i in zip(weights, columns, car_ids, strict=False) if i == index]
        members = [(w, c) for w, c in members if w > _WEIGHT]
        total = sum(w for w, _ in members)
        car = pricer.car
        eta = car.request.charge.efficiency
        eta_out = 1.0 if car.request.discharge is None else car.request.discharge.efficiency
        energy = car.start_kwh
        path: list[float] = []
        for t, (stage, hours) in enumerate(zip(pricer.own[0], car.horizon.hours, strict=True)):
            net = sum(w * c.net[t] for w, c in members) / total
            if net >= 0.0:
                energy = max(energy, min(energy + hours * eta * net, stage.top(energy)))
            else:
                energy += hours * net / eta_out
            path.append(energy)
        paths.append(path)
    return paths
