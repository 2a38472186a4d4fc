"""Cars with a minimum power on a short horizon: which slots each car charges in, searched.

A minimum power makes the site's problem combinatorial only through the choice of slots each
car charges in. With that choice fixed, the minimum is a lower bound on the chosen slots' powers
and the rest is a linear programme (`simplex.py`):

- per slot, the house's import `u_t >= base_t + sum of the cars' powers` and `u_t >= 0`,
  paid at the import price; the net grid power is paid (or earned) at the export price;
- the fuse on every slot a car charges in;
- under a capacity tariff, every hour's average import at most the peak, which costs its price
  per kW above the month's peak;
- each car at most its full battery, and by each boundary what its targets and protective
  level ask (a shortfall costs far more than any price, and is measured afterwards).

The search starts from the site plan's slots and tries, for each car, dropping a slot, adding
one or moving one, and for two cars swapping a slot each. A change is kept when the plan
(checked as every other site plan is) is better; the search stops when a whole round of
changes finds nothing better, or after `_MOST_PROGRAMMES` programmes.

It applies where that programme is the whole model: flat charge curves, no discharging, and
no slot whose export pays more than its import.
"""

from collections.abc import Callable, Iterator, Sequence
import math
from typing import TypeVar

from .simplex import Row, solve_lp
from .site import Car, free_high, lower_bounds, stages

# Programmes solved at most per search; each is a few milliseconds on a few hours' quarters.
_MOST_PROGRAMMES = 600
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
    """True where the programme is the whole model: flat curves, no discharging, and no slot
    whose export pays more than its import."""
    if any(car.request.discharge is not None or not car.curve.is_flat for car in cars):
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
) -> Judged:
    """The best plan found from `start` (whose powers are `flows`): `judge` checks the powers
    of a choice of slots (None where they break a limit), `better` compares two plans."""
    needs = [_needs(car, base) for car in cars]
    best = start

    def improves(other: _Choice) -> bool:
        """Whether the plan with these slots is better than the best so far (kept if so)."""
        nonlocal best
        powers = _powers(cars, base, needs, other)
        judged = None if powers is None else judge(powers)
        if judged is None or not better(judged, best):
            return False
        best = judged
        return True

    choice = [[pc > _CHARGING_KW for pc in pcs] for pcs, _ in flows]
    # The plan's own slots first: its powers may not be the best for them.
    improves(choice)
    # Choices already solved: a later round meets most of them again.
    seen = {_key(choice)}
    changes = list(_changes(choice))
    unchanged = position = 0
    while len(seen) <= _MOST_PROGRAMMES and unchanged < len(changes):
        other = changes[position % len(changes)]
        position += 1
        unchanged += 1
        if _key(other) in seen:
            continue
        seen.add(_key(other))
        if improves(other):
            choice, changes, unchanged = other, list(_changes(other)), 0
    return best


def _key(choice: _Choice) -> tuple[tuple[bool, ...], ...]:
    return tuple(tuple(own) for own in choice)


def _needs(car: Car, base: list[float]) -> dict[int, tuple[float, bool]]:
    """What each boundary needs above the start (kWh), and whether that is a target's (whose
    shortfall the plans' comparison counts) rather than the protective level's."""
    needs: dict[int, tuple[float, bool]] = {}
    lower = lower_bounds(car, free_high(car, base))
    for boundary in range(1, len(lower)):
        if lower[boundary] > car.start_kwh + _MET_KWH:
            needs[boundary] = (lower[boundary], False)
    for rule in car.rules:
        if 1 <= rule.index < len(lower):
            need = max(needs.get(rule.index, (0.0, True))[0], rule.required)
            needs[rule.index] = (need, True)
    return needs


def _changes(choice: _Choice) -> Iterator[_Choice]:
    """Every change tried: two cars swapping a slot each, then per car dropping, adding and
    moving one."""
    slots = range(len(choice[0]))
    for k, first in enumerate(choice):
        for j in range(k + 1, len(choice)):
            second = choice[j]
            for a in slots:
                if not first[a] or second[a]:
                    continue
                for b in slots:
                    if second[b] and not first[b]:
                        yield _changed(
                            choice, {k: ((a, False), (b, True)), j: ((b, False), (a, True))}
                        )
    for k, own in enumerate(choice):
        on = [t for t in slots if own[t]]
        off = [t for t in slots if not own[t]]
        for t in on:
            yield _changed(choice, {k: ((t, False),)})
        for t in off:
            yield _changed(choice, {k: ((t, True),)})
        for a in on:
            for b in off:
                yield _changed(choice, {k: ((a, False), (b, True))})


def _changed(choice: _Choice, changes: dict[int, tuple[tuple[int, bool], ...]]) -> _Choice:
    out = [list(own) for own in choice]
    for k, settings in changes.items():
        for t, charging in settings:
            out[k][t] = charging
    return out


def _powers(
    cars: list[Car],
    base: list[float],
    needs: list[dict[int, tuple[float, bool]]],
    choice: _Choice,
) -> _Flows | None:
    """The cheapest powers with the cars charging in exactly the chosen slots (at least their
    minimum); None where the fuse or the battery can't take a minimum, or the protective
    level is missed."""
    first = cars[0]
    site = first.request.site
    assert site is not None
    hours, prices = first.horizon.hours, first.horizon.prices
    n = len(hours)
    costs: list[float] = []
    upper: list[float] = []
    rows: list[Row] = []
    least = [min(car.request.charge.min_kw, car.request.charge.max_kw) for car in cars]
    exports = [0.0 if p.export_price is None else p.export_price for p in prices]
    # The column of each car's power above its minimum in each slot it charges in.
    column: dict[tuple[int, int], int] = {}
    for k, car in enumerate(cars):
        for t in range(n):
            if choice[k][t]:
                column[k, t] = len(costs)
                costs.append(hours[t] * exports[t])
                upper.append(max(0.0, car.request.charge.max_kw - least[k]))
    imports = len(costs)
    for t in range(n):
        costs.append(hours[t] * (prices[t].import_price - exports[t]))
        upper.append(math.inf)
    for t in range(n):
        charging = [k for k in range(len(cars)) if choice[k][t]]
        fixed = base[t] + sum(least[k] for k in charging)
        terms = {column[k, t]: 1.0 for k in charging}
        rows.append(Row({**terms, imports + t: -1.0}, -fixed))
        if charging:
            room = max(site.import_cap_kw, base[t]) - fixed
            if room < -_CHARGING_KW:
                return None
            if math.isfinite(room):
                rows.append(Row(terms, max(room, 0.0)))
    if site.peak_price_per_kw > 0.0:
        peak = len(costs)
        costs.append(site.peak_price_per_kw)
        upper.append(math.inf)
        for group in first.hour_groups:
            passed, imported = first.hour_before if group[0] == 0 else (0.0, 0.0)
            width = passed + sum(hours[t] for t in group)
            terms = {imports + t: hours[t] for t in group}
            rows.append(Row({**terms, peak: -width}, width * site.current_peak_kw - imported))
    shortfalls: list[tuple[int, bool]] = []
    for k, car in enumerate(cars):
        gain = [h * car.request.charge.efficiency for h in hours]
        added = [gain[t] * least[k] if choice[k][t] else 0.0 for t in range(n)]
        for boundary, (need, target) in needs[k].items():
            terms = {column[k, t]: -gain[t] for t in range(boundary) if choice[k][t]}
            shortfalls.append((len(costs), target))
            terms[len(costs)] = -1.0
            costs.append(_SHORT_COST)
            upper.append(math.inf)
            rows.append(Row(terms, car.start_kwh + sum(added[:boundary]) - need))
        room = stages(car, base)[0].reach.upper_kwh - car.start_kwh - sum(added)
        if room < -_MET_KWH:
            return None
        terms = {column[k, t]: gain[t] for t in range(n) if choice[k][t]}
        if terms:
            rows.append(Row(terms, max(room, 0.0)))
    try:
        values = solve_lp(costs, rows, upper).values
    except ValueError:
        return None
    if any(values[c] > _MET_KWH for c, target in shortfalls if not target):
        return None
    return [
        (
            [least[k] + values[column[k, t]] if choice[k][t] else 0.0 for t in range(n)],
            [0.0] * n,
        )
        for k in range(len(cars))
    ]
