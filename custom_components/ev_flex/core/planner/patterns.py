"""Cars with a minimum power on a short horizon: which slots each car charges in, searched.

A minimum power makes the site's problem combinatorial only through the choice of slots each
car charges in. With that choice fixed, the minimum is a lower bound on the chosen slots' powers
and the rest is a linear programme (`simplex.py`):

- a car with V2G may discharge in the slots it doesn't charge in (a car without a minimum in
  any slot);
- per slot, the house's import is at least its net grid power and at least 0, paid at the
  import price; the net grid power is paid (or earned) at the export price; discharging costs
  its wear;
- the fuse and the export limit;
- under a capacity tariff, every hour's average import at most the peak, which costs its price
  per kW above the month's peak;
- each car between its floor and its full battery, and by each boundary what its targets and
  protective level ask (a shortfall costs far more than any price, and is measured
  afterwards).

The search starts from the site plan's slots. Up to `_EVERY_CHOICE_BITS` slots times cars it
tries every choice; beyond, it changes the choice a little at a time (`_changes`), keeping each
change that makes the plan (checked as every other site plan is) better, until a whole round
of changes finds nothing better, the plan is `good_enough`, or after `_MOST_PROGRAMMES`
programmes.

It applies where that programme is the whole model: flat charge curves, and no slot whose
export pays more than its import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
import math
from typing import TypeVar

from .simplex import Row, solve_lp
from .site import Car, free_high, lower_bounds

# Programmes solved at most per search; each is a few milliseconds on a few hours' quarters.
_MOST_PROGRAMMES = 1500
# Simplex steps allowed per row of a programme (a few are usual): a programme that stalls is
# skipped rather than let it hold the search up.
_STEPS_PER_ROW = 8
# Up to this many slots times cars with a minimum, every choice is tried.
_EVERY_CHOICE_BITS = 10
# The cost of a kWh short of what a boundary needs: far above any price.
_SHORT_COST = 1e4
# A car charges in a slot when its power is above this (kW).
_CHARGING_KW = 1e-9
# A boundary's need is met to this (kWh), or the plan is not taken.
_MET_KWH = 1e-7

Judged = TypeVar("Judged")
_Flows = list[tuple[list[float], list[float]]]
# Per car, whether it charges in each slot.
_Choice = list[list[bool]]


def applies(cars: Sequence[Car]) -> bool:
    """True where the programme is the whole model: flat curves, and no slot whose export pays
    more than its import (charging and discharging in one slot then never pays)."""
    if any(not car.curve.is_flat for car in cars):
        return False
    for price in cars[0].horizon.prices:
        export = 0.0 if price.export_price is None else price.export_price
        if export > price.import_price:
            return False
    return True


def search_slots(
    cars: list[Car],
    base: list[float],
    flows: _Flows,
    start: Judged,
    judge: Callable[[_Flows], Judged | None],
    better: Callable[[Judged, Judged], bool],
    good_enough: Callable[[Judged], bool],
) -> Judged:
    """The best plan found from `start` (whose powers are `flows`): `judge` checks the powers
    of a choice of slots (None where they break a limit), `better` compares two plans, and the
    search stops at a plan `good_enough` (close to what no choice can beat, `relaxed`)."""
    if good_enough(start):
        return start
    problem = _Problem.of(cars, base)
    hour_of = [0] * len(base)
    for hour, group in enumerate(cars[0].hour_groups):
        for t in group:
            hour_of[t] = hour
    best = start

    def improves(other: _Choice) -> bool:
        """Whether the plan with these slots is better than the best so far (kept if so)."""
        nonlocal best
        powers = _powers(problem, other)
        judged = None if powers is None else judge(powers)
        if judged is None or not better(judged, best):
            return False
        best = judged
        return True

    # A car without a minimum may charge in every slot: the programme sets its powers.
    choice = [
        [pc > _CHARGING_KW or least <= 0.0 for pc in pcs]
        for (pcs, _), least in zip(flows, problem.least, strict=True)
    ]
    chosen = [k for k, least in enumerate(problem.least) if least > 0.0]
    # The plan's own slots first: its powers may not be the best for them.
    improves(choice)
    if len(chosen) * len(base) <= _EVERY_CHOICE_BITS:
        # Few enough choices to try them all: the best of them is the optimum.
        for bits in product((False, True), repeat=len(chosen) * len(base)):
            other = [list(own) for own in choice]
            for index, k in enumerate(chosen):
                other[k] = list(bits[index * len(base) : (index + 1) * len(base)])
            improves(other)
        return best
    # Choices already solved: a later round meets most of them again.
    seen = {_key(choice)}
    changes = list(_changes(choice, chosen, hour_of))
    unchanged = position = 0
    while len(seen) <= _MOST_PROGRAMMES and unchanged < len(changes) and not good_enough(best):
        other = changes[position % len(changes)]
        position += 1
        unchanged += 1
        if _key(other) in seen:
            continue
        seen.add(_key(other))
        if improves(other):
            choice, changes, unchanged = other, list(_changes(other, chosen, hour_of)), 0
    return best


def relaxed(cars: list[Car], base: list[float]) -> _Flows | None:
    """The cheapest powers without the minimum powers (every slot open to every car): no
    choice of slots costs less. None where the programme has no solution."""
    problem = replace(_Problem.of(cars, base), least=[0.0] * len(cars))
    return _powers(problem, [[True] * len(base) for _ in cars], relax=True)


def _key(choice: _Choice) -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(own) for own in choice)


def _needs(car: Car, base: list[float]) -> dict[int, tuple[float, bool]]:
    """What each boundary needs (kWh) beyond what the car has anyway (its start, or with
    discharging its floor), and whether that is a target's (whose shortfall the plans'
    comparison counts) rather than the protective level's."""
    needs: dict[int, tuple[float, bool]] = {}
    lower = lower_bounds(car, free_high(car, base))
    held = car.start_kwh if car.request.discharge is None else car.floor_kwh
    for boundary in range(1, len(lower)):
        if lower[boundary] > held + _MET_KWH:
            needs[boundary] = (lower[boundary], False)
    for rule in car.rules:
        if 1 <= rule.index < len(lower):
            need = max(needs.get(rule.index, (0.0, True))[0], rule.required)
            needs[rule.index] = (need, True)
    return needs


def _changes(choice: _Choice, chosen: list[int], hour_of: list[int]) -> Iterator[_Choice]:
    """Every change tried for the `chosen` cars, the likeliest first: one car dropping or
    adding a slot, or moving one within an hour or to the next; two cars swapping a slot each;
    one car leaving a slot where another takes a slot of that hour; two cars trading hours
    (one moving a slot from one hour to another, the other the opposite way); one car leaving
    a slot where another moves into its hour; and last one car moving a slot hours away."""
    slots = range(len(choice[0]))
    on = {k: [t for t in slots if choice[k][t]] for k in chosen}
    off = {k: [t for t in slots if not choice[k][t]] for k in chosen}
    # Each car's moves by (car, hour left, hour entered).
    moves: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
    for k in chosen:
        for a in on[k]:
            for b in off[k]:
                moves.setdefault((k, hour_of[a], hour_of[b]), []).append((a, b))
    near = {key: forth for key, forth in moves.items() if abs(key[1] - key[2]) <= 1}
    pairs = [(k, j) for k in chosen for j in chosen if k != j]
    for k in chosen:
        for t in on[k]:
            yield _changed(choice, {k: ((t, False),)})
        for t in off[k]:
            yield _changed(choice, {k: ((t, True),)})
    for (k, _, _), forth in near.items():
        for a, b in forth:
            yield _changed(choice, {k: ((a, False), (b, True))})
    for k, j in pairs:
        for a in (a for a in on[k] if k < j and not choice[j][a]):
            for b in (b for b in on[j] if not choice[k][b]):
                yield _changed(choice, {k: ((a, False), (b, True)), j: ((b, False), (a, True))})
    for k, j in pairs:
        for a in on[k]:
            for b in (b for b in off[j] if hour_of[b] == hour_of[a]):
                yield _changed(choice, {k: ((a, False),), j: ((b, True),)})
    for (k, left, entered), forth in moves.items():
        for j in (j for j in chosen if j > k and left != entered):
            for a, b in forth:
                for c, d in moves.get((j, entered, left), []):
                    yield _changed(choice, {k: ((a, False), (b, True)), j: ((c, False), (d, True))})
    for k, j in pairs:
        for a in on[k]:
            for (owner, _, entered), forth in moves.items():
                if owner == j and entered == hour_of[a]:
                    for c, d in forth:
                        yield _changed(choice, {k: ((a, False),), j: ((c, False), (d, True))})
    for key, forth in moves.items():
        if key not in near:
            for a, b in forth:
                yield _changed(choice, {key[0]: ((a, False), (b, True))})


def _changed(choice: _Choice, changes: dict[int, tuple[tuple[int, bool], ...]]) -> _Choice:
    out = [list(own) for own in choice]
    for k, settings in changes.items():
        for t, charging in settings:
            out[k][t] = charging
    return out


@dataclass(frozen=True, slots=True)
class _Problem:
    """What every choice's programme shares."""

    cars: list[Car]
    base: list[float]
    # Per car: what each boundary needs (`_needs`), the most it may hold (kWh), its minimum.
    needs: list[dict[int, tuple[float, bool]]]
    full: list[float]
    least: list[float]

    @classmethod
    def of(cls, cars: list[Car], base: list[float]) -> _Problem:
        return cls(
            cars,
            base,
            [_needs(car, base) for car in cars],
            [car.curve.upper_kwh for car in cars],
            [min(car.request.charge.min_kw, car.request.charge.max_kw) for car in cars],
        )


def _powers(problem: _Problem, choice: _Choice, relax: bool = False) -> _Flows | None:
    """The cheapest powers with the cars charging in exactly the chosen slots (at least their
    minimum) and a car with V2G free to discharge in the others (in every slot with `relax`);
    None where the fuse or the battery can't take a minimum, or the protective level is
    missed."""
    programme = _Programme(problem, choice)
    programme.add_columns(relax)
    if not programme.add_slots() or not programme.add_cars():
        return None
    programme.add_peak()
    return programme.solve()


@dataclass
class _Programme:
    """One choice's linear programme, built up in parts."""

    problem: _Problem
    choice: _Choice
    costs: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    # The columns of each car's charge above its minimum in each slot it charges in, and of
    # its discharge in each slot it may discharge in, by (car, slot).
    charges: dict[tuple[int, int], int] = field(default_factory=dict)
    discharges: dict[tuple[int, int], int] = field(default_factory=dict)
    # Per slot, the import's terms (kWh) and the import (kWh) that no column moves.
    import_terms: list[dict[int, float]] = field(default_factory=list)
    import_kwh: list[float] = field(default_factory=list)
    # The shortfall columns, and whether each is a target's.
    shortfalls: list[tuple[int, bool]] = field(default_factory=list)

    def column(self, cost: float, most: float) -> int:
        self.costs.append(cost)
        self.upper.append(most)
        return len(self.costs) - 1

    def add_columns(self, relax: bool) -> None:
        cars, least = self.problem.cars, self.problem.least
        hours, prices = cars[0].horizon.hours, cars[0].horizon.prices
        for k, car in enumerate(cars):
            discharge = car.request.discharge
            for t, own in enumerate(self.choice[k]):
                if own:
                    self.charges[k, t] = self.column(0.0, car.request.charge.max_kw - least[k])
                if discharge is None or prices[t].export_price is None:
                    continue
                # A car with a minimum discharges only where it doesn't charge; one without may
                # do either anywhere (both at once never pays).
                if relax or not own or least[k] <= 0.0:
                    wear = hours[t] * discharge.wear_cost_per_kwh / discharge.efficiency
                    self.discharges[k, t] = self.column(wear, discharge.max_kw)

    def add_slots(self) -> bool:
        """Each slot's cost, fuse and export limit; False where the fuse can't take the
        minimums. Where the house and the minimums import anyway and no car discharges, the
        import is their sum; elsewhere it is a column of its own, at least the net power."""
        cars, base, least = self.problem.cars, self.problem.base, self.problem.least
        site = cars[0].request.site
        assert site is not None
        hours, prices = cars[0].horizon.hours, cars[0].horizon.prices
        for t in range(len(base)):
            charging = [k for k in range(len(cars)) if self.choice[k][t]]
            fixed = base[t] + sum(least[k] for k in charging)
            terms = {self.charges[k, t]: 1.0 for k in charging}
            terms.update({c: -1.0 for (k, s), c in self.discharges.items() if s == t})
            discharging = len(terms) > len(charging)
            room = max(site.import_cap_kw, base[t]) - fixed
            if charging and room < -_CHARGING_KW:
                return False
            if charging and math.isfinite(room):
                self.rows.append(Row(terms, max(room, 0.0)))
            if discharging and math.isfinite(site.export_cap_kw):
                # The export at most its limit, or what the house alone exports.
                room = max(site.export_cap_kw, -base[t]) + fixed
                self.rows.append(Row({c: -w for c, w in terms.items()}, max(room, 0.0)))
            if not discharging and (fixed >= 0.0 or not charging):
                for c in terms:
                    self.costs[c] = hours[t] * prices[t].import_price
                self.import_terms.append(dict.fromkeys(terms, hours[t]))
                self.import_kwh.append(hours[t] * max(fixed, 0.0))
                continue
            # The net grid power is paid at the export price, and the import above it.
            price = prices[t]
            export = 0.0 if price.export_price is None else price.export_price
            for c, w in terms.items():
                self.costs[c] += w * hours[t] * export
            imported = self.column(hours[t] * (price.import_price - export), math.inf)
            self.rows.append(Row({**terms, imported: -1.0}, -fixed))
            self.import_terms.append({imported: hours[t]})
            self.import_kwh.append(0.0)
        return True

    def add_peak(self) -> None:
        """Under a capacity tariff, each hour's average import at most the peak's column."""
        first = self.problem.cars[0]
        site = first.request.site
        assert site is not None
        if site.peak_price_per_kw <= 0.0:
            return
        hours = first.horizon.hours
        peak = self.column(site.peak_price_per_kw, math.inf)
        for group in first.hour_groups:
            passed, before = first.hour_before if group[0] == 0 else (0.0, 0.0)
            width = passed + sum(hours[t] for t in group)
            terms = {c: w for t in group for c, w in self.import_terms[t].items()}
            constant = before + sum(self.import_kwh[t] for t in group)
            self.rows.append(Row({**terms, peak: -width}, width * site.current_peak_kw - constant))

    def add_cars(self) -> bool:
        """Each car's needs, full battery and floor; False where its minimums overfill it."""
        problem = self.problem
        n = len(problem.base)
        for k, car in enumerate(problem.cars):
            gain = car.request.charge.efficiency * problem.least[k]
            added = [
                h * gain if own else 0.0
                for h, own in zip(car.horizon.hours, self.choice[k], strict=True)
            ]
            for boundary, (need, target) in problem.needs[k].items():
                terms = self.stored(k, boundary, -1.0)
                short = self.column(_SHORT_COST, math.inf)
                self.shortfalls.append((short, target))
                terms[short] = -1.0
                self.rows.append(Row(terms, car.start_kwh + sum(added[:boundary]) - need))
            discharges = any(key[0] == k for key in self.discharges)
            for boundary in range(1, n + 1) if discharges else range(n, n + 1):
                room = problem.full[k] - car.start_kwh - sum(added[:boundary])
                if room < -_MET_KWH:
                    return False
                if terms := self.stored(k, boundary, 1.0):
                    self.rows.append(Row(terms, max(room, 0.0)))
                if discharges:
                    above = car.start_kwh + sum(added[:boundary]) - car.floor_kwh
                    self.rows.append(Row(self.stored(k, boundary, -1.0), max(above, 0.0)))
        return True

    def stored(self, k: int, boundary: int, sign: float) -> dict[int, float]:
        """Car `k`'s energy stored before `boundary` beyond its minimums, times `sign`."""
        car = self.problem.cars[k]
        charge, discharge = car.request.charge, car.request.discharge
        terms: dict[int, float] = {}
        for t, hours in enumerate(car.horizon.hours[:boundary]):
            if (k, t) in self.charges:
                terms[self.charges[k, t]] = sign * hours * charge.efficiency
            if (k, t) in self.discharges and discharge is not None:
                terms[self.discharges[k, t]] = -sign * hours / discharge.efficiency
        return terms

    def solve(self) -> _Flows | None:
        """Each car's powers at the optimum; None without one, or below the protective level."""
        try:
            steps = _STEPS_PER_ROW * (len(self.rows) + 10)
            values = solve_lp(self.costs, self.rows, self.upper, steps).values
        except ValueError:
            return None
        if any(values[c] > _MET_KWH for c, target in self.shortfalls if not target):
            return None
        least, n = self.problem.least, len(self.problem.base)
        return [
            (
                [
                    least[k] + values[self.charges[k, t]] if (k, t) in self.charges else 0.0
                    for t in range(n)
                ],
                [
                    values[self.discharges[k, t]] if (k, t) in self.discharges else 0.0
                    for t in range(n)
                ],
            )
            for k in range(len(self.problem.cars))
        ]
