"""The capacity tariff on hours of several slots: one stage per hour with one shared budget.

Under a cap `C` on the hourly average import, an hour's slots share one budget: the hour's grid
import may total at most `C` times its length. Per-slot caps can only guess how to share it out;
here the hour becomes one DP stage instead, whose cost `g(d)` is the cheapest way for its slots
together to move the battery by `d` within the budget. With a flat charge curve (no taper) and
convex slot costs, each slot's moves are pieces: charging from solar surplus (no import), from the
grid (1/eta kWh of import per kWh stored), discharging to cover the house (eta_d kWh less import
per kWh taken out) and to export. Measured from full discharge, `T = d - d_min`, the hour is a
fractional knapsack with one budget row, and `g` is the lower hull of what it can reach in
(T, cost): up to where the budget binds, filling the pieces cheapest first; beyond, each hull
vertex is the knapsack's optimum for one price `nu` per kWh of `T`, found by recursive
refinement between neighbouring vertices. `g` is convex and piecewise linear, so it is an
ordinary convex stage for the DP, and the DP stays exact.

Where a slot's cost bends down (export paying more than import, or with V2G a price below
zero), the knapsack would take a cheaper piece before the dearer one it can only come after.
Such a slot's pieces split into runs along which the cost rises; each way of keeping every
slot to one run (the pieces before it full, those after it empty) is a knapsack of its own, and
the hour's cost is the lowest of the ways' hulls: not convex, so the stage is a set of windows
for the DP's general path (`bent_stage`), still exact.

The stage forgets the hour's inner boundaries. An hour takes it only where those need nothing
beyond its ends (no target inside it, the protective level already reachable); its slots charge
as with a flat curve, so where the plan takes the car into its taper in the hour,
`site.solve_by_hours` prices the hour instead. The expanded
path is checked inside the hour; an hour that fails the check (a dip below the floor between a
discharge and a charge) falls back to per-slot caps.
"""

from dataclasses import dataclass, field
from functools import reduce
from itertools import pairwise, product
import math
from operator import add, mul
from typing import TYPE_CHECKING

from .curve import ChargeCurve, SlotReach
from .minimum_hours import lowest_windows
from .site_dp import BEND_PER_KWH, Stage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .site import Car

# Relative tolerance for a new hull vertex: below it, the edge is already exact.
_HULL_TOLERANCE = 1e-12
_TINY_KWH = 1e-9


@dataclass(frozen=True, slots=True)
class Piece:
    """Moving one slot's battery by up to `width` kWh more towards charging, in T terms."""

    slot: int
    width: float
    # Cost per kWh of T; grid import of the hour per kWh of T.
    cost: float
    rate: float
    # True: more charging. False: less discharging.
    charging: bool


@dataclass(frozen=True, slots=True)
class HourStage:
    """One hour of several slots as one DP stage, and how to share its move out again."""

    slots: list[int]
    pieces: list[Piece]
    # Move at T = 0 (full discharge) and the hull's vertices: (T, cost, progress per piece).
    low_kwh: float
    vertices: list[tuple[float, float, list[float]]]
    stage: Stage

    # An hour whose slots' costs bend down (`bent_stage`): the vertices of each way its slots
    # keep to, and the way behind each of the stage's windows.
    ways: list[list[tuple[float, float, list[float]]]] = field(default_factory=list)
    window_ways: list[int] = field(default_factory=list)

    def moves(self, change: float) -> list[float]:
        """Each slot's change of battery energy for the hour's change `change`."""
        vertices = self.vertices if not self.ways else self.ways[self._way(change)]
        shares = self.shares(vertices, change)
        return [shares[slot] for slot in self.slots]

    def _way(self, change: float) -> int:
        """The way of the cheapest window that makes `change`, as the DP chose it; the nearest
        window for a change a rounding past them all."""

        def rank(item: tuple[tuple[float, float, float, float], int]) -> tuple[float, float]:
            (start, end, rate, before), _ = item
            within = min(max(change, start), end)
            return abs(change - within), before + rate * (within - start)

        return min(zip(self.stage.windows, self.window_ways, strict=True), key=rank)[1]

    def shares(
        self, vertices: list[tuple[float, float, list[float]]], change: float
    ) -> dict[int, float]:
        """Each slot's change of battery energy along the hull `vertices`."""
        progress = _progress_at(vertices, change - self.low_kwh)
        out = dict.fromkeys(self.slots, 0.0)
        for piece, y in zip(self.pieces, progress, strict=True):
            out[piece.slot] += y if piece.charging else y - piece.width
        return out


def _progress_at(vertices: list[tuple[float, float, list[float]]], at: float) -> list[float]:
    """Each piece's progress at `at` kWh of T, between the hull's vertices."""
    k = 0
    while k + 2 < len(vertices) and vertices[k + 1][0] < at:
        k += 1
    progress = vertices[k][2]
    if len(vertices) > 1:
        t0, _, y0 = vertices[k]
        t1, _, y1 = vertices[k + 1]
        share = 0.0 if t1 <= t0 else min(1.0, max(0.0, (at - t0) / (t1 - t0)))
        progress = [a + share * (b - a) for a, b in zip(y0, y1, strict=True)]
    return progress


def covering_kwh(hours: float, load: float, discharge_efficiency: float) -> float:
    """What a slot's discharge takes out of the battery to cover the house's own load (kWh),
    before the rest is exported: the stages, their pieces and their slopes all count it so."""
    return hours * max(load, 0.0) / discharge_efficiency


def slot_pieces(car: Car, stage: Stage, slot: int, load: float) -> list[Piece]:
    """A slot's pieces, built as `site.stages` builds its costs."""
    out: list[Piece] = []
    if stage.can_charge and stage.forced_kwh <= 0.0:
        # A tapering slot moves as far as from empty: its hour never reaches the taper.
        shift = stage.reach.flat_shift
        if shift is None:
            shift = stage.reach.top(0.0)
        import_rate = 1.0 / car.request.charge.efficiency
        start = 0.0
        for end, cost in stage.charge:
            width = min(end, shift) - start
            # Solar surplus comes first and needs no import; the rest does.
            rate = 0.0 if load < 0.0 and start == 0.0 and math.isfinite(end) else import_rate
            if width > _TINY_KWH:
                out.append(Piece(slot, width, cost, rate, charging=True))
            start = end
            if start >= shift:
                break
    discharge = car.request.discharge
    eta_d = 1.0 if discharge is None else discharge.efficiency
    # A load of a few denormals covers nothing, and the whole move is exported.
    covering = covering_kwh(car.horizon.hours[slot], load, eta_d)
    start = 0.0
    for end, cost in stage.discharge:
        # Covering the house's own load comes first and saves import; the rest is exported.
        rate = eta_d if discharge is not None and start < covering else 0.0
        if end - start > _TINY_KWH:
            out.append(Piece(slot, end - start, -cost, rate, charging=False))
        start = end
    return out


class _Knapsack:
    """The hour's pieces split once by rate and ordered by cost, for the many prices one hull
    asks about."""

    __slots__ = ("by_cost", "costs", "free", "order", "paid", "pieces", "widths")

    def __init__(self, pieces: Sequence[Piece]) -> None:
        self.pieces = pieces
        self.costs = [p.cost for p in pieces]
        self.widths = [p.width for p in pieces]
        # The order in which the budget goes furthest: no import first, then the least.
        self.order = sorted(
            range(len(pieces)), key=lambda i: (pieces[i].rate, pieces[i].cost, pieces[i].charging)
        )
        # (index, cost, width, charging) of the pieces that need no import; with the rate
        # for the others.
        self.free = [(i, p.cost, p.width, p.charging) for i, p in enumerate(pieces) if p.rate <= 0]
        self.paid = [
            (i, p.cost, p.width, p.rate, p.charging) for i, p in enumerate(pieces) if p.rate > 0
        ]
        # Cheapest first; at a tie, the piece that takes less of the budget.
        self.by_cost = sorted(range(len(pieces)), key=lambda i: (pieces[i].cost, pieces[i].rate))

    def solve(self, budget: float, price: float) -> list[float]:
        """Progress per piece minimising sum (cost - price) * y within the import budget."""
        progress = [0.0] * len(self.costs)
        # At a tie, a slot rather idles than discharges: fewer moves, fewer dips in the hour.
        for i, cost, width, charging in self.free:
            if cost < price or (cost == price and not charging):
                progress[i] = width
        paid = [
            ((cost - price) / rate, charging, i, width, rate)
            for i, cost, width, rate, charging in self.paid
            if cost < price or (cost == price and not charging)
        ]
        if paid:
            paid.sort()
            left = budget
            for _, _, i, width, rate in paid:
                take = min(width, left / rate)
                if take <= 0.0:
                    break
                progress[i] = take
                left -= take * rate
        return progress

    def point(self, progress: list[float]) -> tuple[float, float, list[float]]:
        """(T, cost, progress); the cost summed in order."""
        return sum(progress), reduce(add, map(mul, self.costs, progress), 0.0), progress

    def cheapest_first(self, budget: float) -> list[tuple[float, float, list[float]]]:
        """The points of filling the pieces cheapest first (from T = 0) up to where the budget
        binds: until then, that is the cheapest way to each T, so they are the hull's."""
        progress = [0.0] * len(self.pieces)
        points = [(0.0, 0.0, list(progress))]
        left = budget
        total = cost = 0.0
        for i in self.by_cost:
            piece = self.pieces[i]
            need = piece.width * piece.rate
            # `need > left >= 0`: the piece takes import, and only part of it fits.
            take = piece.width if need <= left else left / piece.rate
            if take <= _TINY_KWH:
                break
            progress[i] = take
            total += take
            cost += take * piece.cost
            points.append((total, cost, list(progress)))
            if need > left:
                break
            left -= need
        return points

    def furthest(self, budget: float) -> list[float]:
        """The most progress the budget allows, at the least cost."""
        pieces = self.pieces
        progress = [0.0] * len(pieces)
        left = budget
        for i in self.order:
            piece = pieces[i]
            take = piece.width if piece.rate <= 0.0 else min(piece.width, left / piece.rate)
            if take <= 0.0:
                break
            progress[i] = take
            left -= take * piece.rate
        return progress


def hull(
    pieces: Sequence[Piece], budget: float, knapsack: _Knapsack | None = None
) -> list[tuple[float, float, list[float]]]:
    """The vertices of the cheapest cost over T, from T = 0 to the furthest T (`knapsack`:
    the pieces' own, made once per hour)."""
    knapsack = _Knapsack(pieces) if knapsack is None else knapsack
    first = knapsack.point([0.0] * len(pieces))
    last = knapsack.point(knapsack.furthest(budget))
    if last[0] <= first[0] + _TINY_KWH:
        return [first]
    # Refinement only where the budget binds: each vertex there costs two knapsacks.
    done = _bending(knapsack.cheapest_first(budget))
    if done[-1][0] >= last[0] - _TINY_KWH:
        return done
    pending = [last]
    while pending:
        left, right = done[-1], pending[-1]
        price = (right[1] - left[1]) / (right[0] - left[0])
        middle = knapsack.point(knapsack.solve(budget, price))
        if (
            _below_chord(left, middle, right, price)
            and left[0] + _TINY_KWH < middle[0] < right[0] - _TINY_KWH
        ):
            pending.append(middle)
        else:
            done.append(pending.pop())
    return done


def _bending(
    points: list[tuple[float, float, list[float]]],
) -> list[tuple[float, float, list[float]]]:
    """The points of a convex chain (each more than `_TINY_KWH` past the one before) where its
    slope grows by more than the hull's tolerance; its ends stay."""
    out = points[:1]
    for middle, right in pairwise(points[1:]):
        left = out[-1]
        price = (right[1] - left[1]) / (right[0] - left[0])
        if _below_chord(left, middle, right, price):
            out.append(middle)
    if len(points) > 1:
        out.append(points[-1])
    return out


def _below_chord(
    left: tuple[float, float, list[float]],
    middle: tuple[float, float, list[float]],
    right: tuple[float, float, list[float]],
    price: float,
) -> bool:
    """Whether `middle` lies below the chord from `left` to `right` (of slope `price`) by more
    than the hull's tolerance: only then is it a vertex."""
    gain = (left[1] - price * left[0]) - (middle[1] - price * middle[0])
    return gain > _HULL_TOLERANCE * (1.0 + abs(left[1]) + abs(right[1]))


@dataclass(frozen=True, slots=True)
class HourPieces:
    """An hour's pieces, and its import at full discharge everywhere (the least it can have)."""

    slots: list[int]
    pieces: list[Piece]
    least_kwh: float
    hours: float
    knapsack: _Knapsack = field(compare=False)
    # Per slot, its pieces (by index) from full discharge up, in runs along which the cost per
    # kWh only rises: one run where the slot's cost is convex.
    runs: list[list[list[int]]] = field(default_factory=list)


def hour_pieces(
    car: Car, slots: list[int], free: Sequence[Stage], house: Sequence[float]
) -> HourPieces:
    hours = car.horizon.hours
    pieces: list[Piece] = []
    runs: list[list[list[int]]] = []
    for t in slots:
        first = len(pieces)
        pieces += slot_pieces(car, free[t], t, house[t])
        runs.append(_rising_runs(pieces, range(first, len(pieces))))
    # The hour holding now also counts what passed of it and what it imported then.
    passed, imported = car.hour_before if slots[0] == 0 else (0.0, 0.0)
    least = imported + sum(hours[t] * max(house[t], 0.0) for t in slots)
    least -= sum(p.width * p.rate for p in pieces if not p.charging)
    length = passed + sum(hours[t] for t in slots)
    return HourPieces(slots, pieces, least, length, _Knapsack(pieces), runs)


def _rising_runs(pieces: list[Piece], indices: range) -> list[list[int]]:
    """One slot's pieces from full discharge up (its discharge pieces deepest first, then its
    charge pieces), split where the cost per kWh falls."""
    discharging = [i for i in indices if not pieces[i].charging]
    order = discharging[::-1] + [i for i in indices if pieces[i].charging]
    runs: list[list[int]] = []
    for i in order:
        if runs and pieces[i].cost >= pieces[runs[-1][-1]].cost - BEND_PER_KWH:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs or [[]]


def hour_stage(
    car: Car, hour: HourPieces, cap: float, reach_only: bool = False
) -> HourStage | None:
    """The hour as one stage under the cap; None when even full discharge can't keep to it.
    `reach_only`: only how far the hour can move is right, not what the moves cost."""
    pieces = hour.pieces
    budget = cap * hour.hours - hour.least_kwh
    if budget < -_TINY_KWH:
        return None
    budget = max(budget, 0.0)
    knapsack = hour.knapsack
    low = -sum(p.width for p in pieces if not p.charging)
    if reach_only:
        vertices = [knapsack.point([0.0] * len(pieces))]
        furthest = knapsack.point(knapsack.furthest(budget))
        if furthest[0] > _TINY_KWH:
            vertices.append(furthest)
    elif all(len(runs) == 1 for runs in hour.runs):
        vertices = hull(pieces, budget, knapsack)
    else:
        return bent_stage(car, hour, budget, low)
    stage = _convex_stage(car, low, vertices)
    return HourStage(hour.slots, pieces, low, vertices, stage)


def ways_of(hour: HourPieces) -> int:
    """How many ways (one run per slot) the hour has."""
    return math.prod(len(runs) for runs in hour.runs)


def bent_stage(car: Car, hour: HourPieces, budget: float, low: float) -> HourStage:
    """The hour as one stage where some slot's cost bends down (export paying more than
    import, or a price below zero with V2G): the LP would take the cheaper piece past the dearer
    one before it. Each way keeps every slot to one run of its pieces (those before it full,
    those after it empty), where the knapsack is exact; the stage's cost is the lowest of the
    ways' hulls, as windows the DP's general path plans exactly. As for a convex hour, the
    moves are checked inside the hour (`site._expand`). The way with every slot in its first
    run fills no piece before it, so it keeps to any budget of 0 or more."""
    pieces = hour.pieces
    # What a move costs is measured from idling: the discharge pieces full, the rest empty.
    idle = sum(p.width * p.cost for p in pieces if not p.charging)
    ways: list[list[tuple[float, float, list[float]]]] = []
    lines: list[tuple[tuple[float, float, float, float], int]] = []
    for choice in product(*hour.runs):
        vertices = _way_hull(hour, choice, budget)
        if vertices is None:
            continue
        way = len(ways)
        ways.append(vertices)
        if len(vertices) == 1:
            t, cost, _ = vertices[0]
            lines.append(((low + t, low + t, 0.0, cost - idle), way))
        for (t0, c0, _), (t1, c1, _) in pairwise(vertices):
            lines.append(((low + t0, low + t1, (c1 - c0) / (t1 - t0), c0 - idle), way))
    windows = lowest_windows(lines)
    furthest = max(end for (_, end, _, _), _ in windows)
    stage = Stage(
        reach=_flat_reach(car, max(furthest, 0.0)),
        can_charge=True,
        charge=((math.inf, 0.0),),
        discharge=(),
        windows=tuple(window for window, _ in windows),
        idles=False,
    )
    return HourStage(hour.slots, pieces, low, [], stage, ways, [way for _, way in windows])


def _way_hull(
    hour: HourPieces, choice: tuple[list[int], ...], budget: float
) -> list[tuple[float, float, list[float]]] | None:
    """The hull of one way (`choice`: a run per slot), in the hour's T and progress; None when
    the pieces it fills before its runs already take more than the budget."""
    pieces = hour.pieces
    full: list[int] = []
    for runs, run in zip(hour.runs, choice, strict=True):
        full += [i for earlier in runs[: runs.index(run)] for i in earlier]
    left = budget - sum(pieces[i].width * pieces[i].rate for i in full)
    if left < -_TINY_KWH:
        return None
    free = [i for run in choice for i in run]
    base = [0.0] * len(pieces)
    for i in full:
        base[i] = pieces[i].width
    start = sum(base)
    before = reduce(add, (pieces[i].width * pieces[i].cost for i in full), 0.0)
    out: list[tuple[float, float, list[float]]] = []
    for t, cost, progress in hull([pieces[i] for i in free], max(left, 0.0)):
        each = list(base)
        for i, y in zip(free, progress, strict=True):
            each[i] = y
        out.append((start + t, before + cost, each))
    return out


def _convex_stage(car: Car, low: float, vertices: list[tuple[float, float, list[float]]]) -> Stage:
    """A stage whose cost of a move is the hull's (a constant apart)."""
    charge: list[tuple[float, float]] = []
    discharge: list[tuple[float, float]] = []
    for (t0, c0, _), (t1, c1, _) in pairwise(vertices):
        slope = (c1 - c0) / (t1 - t0)
        start, end = low + t0, low + t1
        if end > 0.0:
            charge.append((end, slope))
        if start < 0.0:
            discharge.append((-start, -slope))
    high = low + vertices[-1][0]
    forced = max(0.0, -high)
    discharge.reverse()
    if not discharge and forced > 0.0:
        # Full discharge is the only move within the budget.
        discharge.append((forced, 0.0))
    charge_costs = tuple((end, cost) for end, cost in charge[:-1])
    if charge:
        charge_costs += ((math.inf, charge[-1][1]),)
    shift = max(high, 0.0)
    return Stage(
        reach=_flat_reach(car, shift),
        can_charge=shift > _TINY_KWH,
        charge=charge_costs or ((math.inf, 0.0),),
        discharge=tuple(discharge),
        forced_kwh=forced,
    )


def _flat_reach(car: Car, shift: float) -> SlotReach:
    """The reach of a move of up to `shift` kWh (a flat curve)."""
    upper = car.curve.upper_kwh
    reach = SlotReach.flat(shift, upper)
    if reach is None:
        flat = ChargeCurve.build(car.request.battery.capacity_kwh, shift, (), 1.0, upper)
        reach = SlotReach.build(flat, 1.0)
    return reach
