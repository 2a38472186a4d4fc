"""Whether a plan kept to the month's peak is the cheapest, proved by prices instead of a solve.

At a cap `C` on the hourly average import, the plan's energy cost `V(C)` is convex in `C`, and
a higher peak costs the tariff's price per kW. Give each hour's import a price `lambda_h` per
kWh: when the plan is also the cheapest plan without any cap but with those prices on the hours'
import (and each priced hour uses its budget exactly), then for every higher cap `C'`

    V(C') >= V(C) - sum_h lambda_h * L_h * (C' - C)

(`L_h` the hour's length: its budget grows by `L_h` kWh per kW of cap), the Lagrangian bound.
The lowest such prices give the most `V` can fall per kW of cap at first: `V` is convex, so
when that is at most the tariff's price, no higher peak pays, and when it is more, a little
more peak pays.

Without a cap, the car's slots form a chain: the plan is the cheapest when every slot's marginal
cost of its move, `pi_t`, can be picked within that slot's subgradient at its move, equal on
both sides of a boundary whose energy is strictly within its bounds, falling where the boundary
sits at its lower bound, and rising where it sits at its upper one (`pi` after the last slot is
0: energy left over is worth nothing). A price on an hour's import raises the import parts of
its slots' subgradients. Every such condition reads `x >= f(y)` with `f` rising, so the
lowest prices that meet them all are found by raising from below until nothing moves; any other
prices that do are higher.
"""

from collections.abc import Sequence
from dataclasses import dataclass
import math
from typing import TYPE_CHECKING

from .peak import covering_kwh

if TYPE_CHECKING:
    from .site import Car
    from .site_dp import Stage

# A move this close (kWh) to a kink of its slot's cost counts as at the kink: a piece of the
# cost that thin (a house load of a rounding) changes the cost by less than a rounding.
_KINK_KWH = 1e-8
# An energy this close (kWh) to a bound sits at it; the plan may keep to a target by a rounding.
_AT_BOUND_KWH = 2e-6
# An hour whose import is this close (kWh) to its budget uses it.
_BUDGET_KWH = 1e-7
# Marginal costs (per kWh) this close agree.
_PRICE_NOISE = 1e-9
# Rounds of raising before the prices are taken as not found.
_ROUNDS = 40
# A round that moves nothing by more than this (relative) has settled.
_SETTLED = 1e-13
# Rounds whose price steps shrink at one rate (to within this share) are extrapolated.
_STEADY_ROUNDS = 4
_STEADY_RATE = 1e-3

# How the marginal costs either side of a boundary relate.
_EQUAL, _FALLS, _RISES, _FREE = range(4)


@dataclass(frozen=True, slots=True)
class _Subgradient:
    """A slot's marginal costs at its move: [low, high] plus the hour's price times a share
    (the import part of the slot's cost at each end)."""

    low: float
    low_share: float
    high: float
    high_share: float


def saving_per_kw(
    car: Car,
    house: Sequence[float],
    free: Sequence[Stage],
    path: Sequence[float],
    bounds: tuple[Sequence[float], Sequence[float], Sequence[float]],
    cap: float,
) -> float | None:
    """What the first kW of cap above `cap` saves in energy cost, per kW, for the plan `path`
    kept to `cap` (the lowest hour prices that prove it the cheapest, times the hours'
    lengths); None when no such prices are found. `free`: the stages without a cap;
    `bounds`: the lowest energy the plan must keep at each boundary, and the lowest and
    highest reachable without a cap."""
    from .site import hour_budget, powers  # noqa: PLC0415 - that module imports this one

    needs, reach_low, reach_high = bounds
    energies = [car.start_kwh, *path]
    subgradients = [
        _subgradient(car, stage, after - before, (house[t], car.horizon.hours[t]))
        for t, (stage, before, after) in enumerate(zip(free, energies[:-1], path, strict=True))
    ]
    relations = [
        _relation(energy, max(needs[b], reach_low[b]), reach_high[b])
        for b, energy in enumerate(energies)
    ]
    hours = car.horizon.hours
    pcs, pds = powers(car, path)
    priced: list[bool] = []
    lengths: list[float] = []
    for group in car.hour_groups:
        imported = sum(hours[t] * max(house[t] + pcs[t] - pds[t], 0.0) for t in group)
        budget = hour_budget(car, group, cap)
        priced.append(imported >= budget - _BUDGET_KWH)
        lengths.append(hour_budget(car, group, cap + 1.0) - budget)
    prices = _lowest_prices(subgradients, relations, car.hour_of, priced)
    if prices is None:
        return None
    return sum(p * length for p, length in zip(prices, lengths, strict=True))


def _relation(energy: float, lower: float, upper: float) -> int:
    at_lower = energy <= lower + _AT_BOUND_KWH
    at_upper = energy >= upper - _KINK_KWH * (1.0 + abs(upper))
    if at_lower and at_upper:
        return _FREE
    if at_lower:
        return _FALLS
    return _RISES if at_upper else _EQUAL


def _subgradient(car: Car, stage: Stage, move: float, slot: tuple[float, float]) -> _Subgradient:
    """The slot's marginal costs at `move` (kWh into the battery, negative out of it), from its
    stage without a cap (`slot`: the house's load and the slot's length): the pieces from
    full discharge to full charge, each with its slope and the share of an import price in it
    (1/eta charging from the grid, eta_d discharging to cover the house)."""
    request = car.request
    load, hours = slot
    pieces: list[tuple[float, float, float]] = []
    start = 0.0
    discharge_eta = 0.0 if request.discharge is None else request.discharge.efficiency
    # None for a load of a few denormals, as the stage counts it.
    covering = covering_kwh(hours, load, discharge_eta) if discharge_eta > 0.0 else 0.0
    for end, cost in stage.discharge:
        share = discharge_eta if start < covering else 0.0
        pieces.append((end - start, -cost, share))
        start = end
    pieces.reverse()
    if stage.can_charge and stage.forced_kwh <= 0.0:
        shift = stage.reach.flat_shift or 0.0
        start = 0.0
        for end, cost in stage.charge:
            share = 1.0 / request.charge.efficiency if math.isinf(end) else 0.0
            pieces.append((min(end, shift) - start, cost, share))
            start = end
            if start >= shift:
                break
    position = move + stage.discharge_kwh
    tolerance = _KINK_KWH * (1.0 + abs(move))
    # The slope left of the move is the last piece that starts clearly before it, the slope
    # right of it the first piece that ends clearly after it: pieces thinner than a rounding
    # count as a kink.
    low, low_share = -math.inf, 0.0
    high, high_share = math.inf, 0.0
    start = 0.0
    for width, slope, share in pieces:
        if width <= 0.0:
            continue
        end = start + width
        if start < position - tolerance:
            low, low_share = slope, share
        if end > position + tolerance:
            high, high_share = slope, share
            break
        start = end
    return _Subgradient(low, low_share, high, high_share)


def _lowest_prices(
    subgradients: list[_Subgradient],
    relations: list[int],
    hour_of: list[int],
    priced: list[bool],
) -> list[float] | None:
    """The lowest price per hour (0 where the hour doesn't use its budget) with marginal costs
    that prove the path the cheapest; None when there are none."""
    count = len(subgradients)
    prices = [0.0] * len(priced)
    # The marginal cost of each slot; the one after the last is 0.
    marginal = [s.low for s in subgradients] + [0.0]
    history: list[list[float]] = []
    for _ in range(_ROUNDS):
        before = (list(marginal), list(prices))
        for t, s in enumerate(subgradients):
            h = hour_of[t]
            if s.high_share > 0.0 and priced[h] and marginal[t] > s.high:
                prices[h] = max(prices[h], (marginal[t] - s.high) / s.high_share)
        history.append(list(prices))
        if not _extrapolate(prices, history):
            return None
        for t, s in enumerate(subgradients):
            marginal[t] = max(marginal[t], s.low + s.low_share * prices[hour_of[t]])
        # Boundary b sits between slot b - 1 and slot b.
        for b in range(1, count):
            if relations[b] in (_EQUAL, _RISES):
                marginal[b] = max(marginal[b], marginal[b - 1])
        for b in range(count, 0, -1):
            if relations[b] in (_EQUAL, _FALLS):
                marginal[b - 1] = max(marginal[b - 1], marginal[b])
        if _settled(before, (marginal, prices)):
            break
    else:
        return None
    for t, s in enumerate(subgradients):
        if marginal[t] > s.high + s.high_share * prices[hour_of[t]] + _PRICE_NOISE:
            return None
    # After the last slot: a rise to 0 needs the last marginal cost at most 0.
    if relations[count] in (_EQUAL, _RISES) and marginal[count - 1] > _PRICE_NOISE:
        return None
    return prices


def _extrapolate(prices: list[float], history: list[list[float]]) -> bool:
    """Where an hour's price has risen by steps that change at one steady rate over the last
    rounds (a price and a marginal cost raising each other), jump to where shrinking steps
    lead (the rounds after a jump start a new history); False where they grow: no prices
    do. A jump a rounding too far only gives a price a little above the lowest: still a
    proof."""
    if len(history) < _STEADY_ROUNDS:
        return True
    jumped = False
    for h, (a, b, c, d) in enumerate(zip(*history[-_STEADY_ROUNDS:], strict=True)):
        steps = (b - a, c - b, d - c)
        if min(steps) <= 0.0:
            continue
        rate = steps[2] / steps[1]
        if abs(rate - steps[1] / steps[0]) > _STEADY_RATE * rate:
            continue
        if rate >= 1.0:
            return False
        prices[h] = d + steps[2] * rate / (1.0 - rate)
        jumped = True
    if jumped:
        history.clear()
    return True


def _settled(
    before: tuple[list[float], list[float]], after: tuple[list[float], list[float]]
) -> bool:
    """Whether a round moved no marginal cost or price by more than a rounding."""
    return all(
        x == y or abs(x - y) <= _SETTLED * (1.0 + abs(y))
        for old, new in zip(before, after, strict=True)
        for x, y in zip(old, new, strict=True)
    )
