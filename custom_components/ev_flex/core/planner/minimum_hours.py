"""The capacity tariff on hours of several slots, for a car with a minimum charging power.

Under a cap on the hourly average import, an hour's slots share one import budget. Per-slot
caps must guess how to share it out, and with a minimum power a wrong guess strands a slot
below it. Where the car can only charge in the hour (no discharge) and its charge curve is
flat, the hour becomes one DP stage instead: for each set of its slots that charge (each at its
minimum or above), what the next kWh costs is known in order: a slot's solar surplus costs
the export price it no longer earns and takes nothing from the budget, its grid import costs
the import price and takes 1/eta kWh of budget per kWh stored. With one kind of piece drawing
on the budget, taking the cheapest pieces first, imports only while the budget lasts, is the
cheapest way to move any amount (a fractional knapsack). So each set gives a convex cost
from its minimum on, and the hour's cost is the lowest of them: a stage with several charge
windows, which the DP's general path plans exactly. A set whose last slot tops the battery up
below the minimum gives the moves that end full (`Stage.fill_windows`).
"""

from dataclasses import dataclass, field
from itertools import combinations, pairwise
import math
from typing import TYPE_CHECKING

from .curve import ChargeCurve, SlotReach
from .site_dp import Stage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .site import Car

_TINY_KWH = 1e-9


@dataclass(frozen=True, slots=True)
class _Piece:
    """Charging one slot further: `width` kWh stored at `cost` each, drawing on the budget
    (1/eta kWh of import per kWh) when `imports`."""

    slot: int
    width: float
    cost: float
    imports: bool


@dataclass(frozen=True, slots=True)
class _ChargingSet:
    """Some of the hour's slots charging, each at least at the minimum."""

    least: dict[int, float]
    cost: float
    # The pieces above the minimum, cheapest first, and the kWh stored from the grid the
    # budget allows beyond the minimum.
    pieces: list[_Piece]
    allowance: float

    def windows(self) -> list[tuple[float, float, float, float]]:
        """(start, end, cost per kWh, cost at start) of moving the battery, from the minimum."""
        out: list[tuple[float, float, float, float]] = []
        start = sum(self.least.values())
        before = self.cost
        allowance = self.allowance
        for piece in self.pieces:
            width = min(piece.width, allowance) if piece.imports else piece.width
            if width <= _TINY_KWH:
                continue
            if piece.imports:
                allowance -= width
            out.append((start, start + width, piece.cost, before))
            start += width
            before += width * piece.cost
        if not out:
            out.append((start, start, 0.0, before))
        return out

    def shares(self, move: float) -> dict[int, float]:
        """Each slot's kWh stored for the hour's move `move` (at least the minimum)."""
        out = dict(self.least)
        left = move - sum(self.least.values())
        allowance = self.allowance
        for piece in self.pieces:
            if left <= 0.0:
                break
            width = min(piece.width, allowance) if piece.imports else piece.width
            taken = max(0.0, min(width, left))
            if piece.imports:
                allowance -= taken
            out[piece.slot] += taken
            left -= taken
        return out

    def cost_of(self, move: float) -> float:
        """What the move costs with this set; inf where the set can't make it."""
        for start, end, cost, before in self.windows():
            if start - _TINY_KWH <= move <= end + _TINY_KWH:
                return before + cost * (move - start)
        return math.inf


@dataclass(frozen=True, slots=True)
class MinimumHour:
    """One hour of several slots as one DP stage, and how to share its move out again."""

    slots: list[int]
    sets: list[_ChargingSet]
    stage: Stage
    # Discharging: (slot, kWh taken out, cost per kWh), the most paying first.
    drains: list[tuple[int, float, float]]
    # The sets whose last slot may charge below the minimum, as the battery ends full.
    fills: list[_ChargingSet] = field(default_factory=list)

    def moves(self, change: float, full: bool = False) -> list[float]:
        """Each slot's change of battery energy for the hour's change `change`; `full`: the
        hour ends at the upper limit."""
        shares: dict[int, float] = {}
        if change > _TINY_KWH:
            options = [*self.sets, *self.fills] if full else self.sets
            best = min(options, key=lambda charging: charging.cost_of(change))
            shares = best.shares(change)
        left = -change
        for slot, width, _ in self.drains:
            if left <= 0.0:
                break
            taken = min(width, left)
            shares[slot] = shares.get(slot, 0.0) - taken
            left -= taken
        return [shares.get(t, 0.0) for t in self.slots]


def minimum_hour(
    car: Car, group: list[int], house: Sequence[float], budget: float, free: Sequence[Stage]
) -> MinimumHour | None:
    """The hour as one stage with `budget` kWh of import; None when the house alone is over it.
    The hour either charges (some of its slots, each at least at the minimum) or discharges
    (each slot as `free` allows, what pays most first): never both."""
    hours = car.horizon.hours
    own = sum(hours[t] * max(house[t], 0.0) for t in group)
    if own > budget + _TINY_KWH:
        return None
    usable = [t for t in group if _room_kw(car, house[t]) >= _least_kw(car) - _TINY_KWH]
    sets: list[_ChargingSet] = []
    fills: list[_ChargingSet] = []
    for size in range(1, len(usable) + 1):
        for chosen in combinations(usable, size):
            charging = _charging_set(car, chosen, house, budget - own)
            if charging is not None:
                sets.append(charging)
            # Its last slot may top the battery up below the minimum (`fill_windows`).
            filling = _charging_set(car, chosen, house, budget - own, topping=chosen[-1])
            if filling is not None:
                fills.append(filling)
    windows = _lowest(sets)
    furthest = max((end for _, end, _, _ in windows), default=0.0)
    capacity = car.request.battery.capacity_kwh
    flat = ChargeCurve.build(capacity, furthest, (), 1.0, car.curve.upper_kwh)
    drains = sorted(
        (
            (t, end - start, cost)
            for t in group
            for start, end, cost in _discharge_pieces(free[t].discharge)
        ),
        key=lambda drain: drain[2],
    )
    discharge: list[tuple[float, float]] = []
    taken = 0.0
    for _, width, cost in drains:
        taken += width
        discharge.append((taken, cost))
    stage = Stage(
        reach=SlotReach.build(flat, 1.0),
        can_charge=furthest > _TINY_KWH,
        charge=((math.inf, 0.0),),
        discharge=tuple(discharge),
        windows=tuple(windows),
        fill_windows=tuple(_lowest(fills)),
    )
    return MinimumHour(group, sets, stage, drains, fills)


def _discharge_pieces(
    segments: tuple[tuple[float, float], ...],
) -> list[tuple[float, float, float]]:
    """(start, end, cost per kWh) of a slot's discharge segments."""
    out: list[tuple[float, float, float]] = []
    start = 0.0
    for end, cost in segments:
        if end - start > _TINY_KWH:
            out.append((start, end, cost))
        start = end
    return out


def _least_kw(car: Car) -> float:
    charge = car.request.charge
    return min(charge.min_kw, charge.max_kw)


def _room_kw(car: Car, load: float) -> float:
    """The most the car may charge in a slot with this house load: its maximum and the fuse."""
    site = car.request.site
    fuse = math.inf if site is None or site.import_limit_kw is None else site.import_limit_kw
    return min(car.request.charge.max_kw, max(fuse, load) - load)


def _charging_set(
    car: Car,
    chosen: tuple[int, ...],
    house: Sequence[float],
    spare: float,
    topping: int | None = None,
) -> _ChargingSet | None:
    """The slots in `chosen` charging at least at the minimum (but `topping`, from 0 on),
    within `spare` kWh of import beyond the house's own; None when the minimum alone takes
    more."""
    hours = car.horizon.hours
    prices = car.horizon.prices
    eta = car.request.charge.efficiency
    least_kw = _least_kw(car)
    least: dict[int, float] = {}
    cost = 0.0
    pieces: list[_Piece] = []
    for t in chosen:
        load, h = house[t], hours[t]
        imp = prices[t].import_price
        export = prices[t].export_price or 0.0
        surplus = max(0.0, -load)
        floor_kw = 0.0 if t == topping else least_kw
        least[t] = h * eta * floor_kw
        from_sun = min(floor_kw, surplus)
        spare -= h * max(0.0, load + floor_kw) - h * max(0.0, load)
        cost += h * (export * from_sun + imp * (floor_kw - from_sun))
        top = _room_kw(car, load)
        if surplus > floor_kw:
            width = h * eta * (min(top, surplus) - floor_kw)
            pieces.append(_Piece(t, width, export / eta, imports=False))
        width = h * eta * (top - max(floor_kw, surplus))
        if width > _TINY_KWH:
            pieces.append(_Piece(t, width, imp / eta, imports=True))
    if spare < -_TINY_KWH:
        return None
    pieces.sort(key=lambda piece: piece.cost)
    return _ChargingSet(least, cost, pieces, max(spare, 0.0) * eta)


def _lowest(sets: list[_ChargingSet]) -> list[tuple[float, float, float, float]]:
    """The cheapest of the sets' windows at every move, as few windows as it takes."""
    lines = [window for charging in sets for window in charging.windows()]
    points = sorted({x for start, end, _, _ in lines for x in (start, end)})
    out: list[tuple[float, float, float, float]] = [
        line for line in lines if line[1] - line[0] <= _TINY_KWH
    ]
    for left, right in pairwise(points):
        if right - left <= _TINY_KWH:
            continue
        active = [line for line in lines if line[0] <= left and line[1] >= right]
        if not active:
            continue
        first = min(active, key=lambda line: _value(line, left))
        last = min(active, key=lambda line: _value(line, right))
        cut = _crossing(first, last, left, right)
        for a, b, line in ((left, cut, first), (cut, right, last)):
            if b - a > _TINY_KWH:
                _append(out, (a, b, line[2], _value(line, a)))
    return out


def _value(line: tuple[float, float, float, float], x: float) -> float:
    start, _, rate, before = line
    return before + rate * (x - start)


def _crossing(
    first: tuple[float, float, float, float],
    last: tuple[float, float, float, float],
    left: float,
    right: float,
) -> float:
    """Where the line cheapest at `left` stops being cheaper than the one cheapest at `right`."""
    if first is last or first[2] == last[2]:
        return right
    at_left = _value(first, left) - _value(last, left)
    cut = left - at_left / (first[2] - last[2])
    return min(max(cut, left), right)


def _append(
    out: list[tuple[float, float, float, float]], window: tuple[float, float, float, float]
) -> None:
    """Add the window, joined to the one before where it carries on the same line."""
    if out:
        start, end, rate, before = out[-1]
        if (
            abs(end - window[0]) <= _TINY_KWH
            and abs(rate - window[2]) <= 1e-12
            and abs(before + rate * (end - start) - window[3]) <= 1e-12
        ):
            out[-1] = (start, window[1], rate, before)
            return
    out.append(window)
