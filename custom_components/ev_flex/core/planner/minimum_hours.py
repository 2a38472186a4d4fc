"""The capacity tariff on hours of several slots, for a car with a minimum charging power.

Under a cap on the hourly average import, an hour's slots share one import budget. Per-slot
caps must guess how to share it out, and with a minimum power a wrong guess strands a slot
below it. Where the charge curve is flat, the hour becomes one DP stage instead: for each set
of its slots that charge (each at its minimum or above), the other slots may discharge. What
the next kWh of the hour's move costs then is a small linear programme: a slot's solar surplus
costs the export price it no longer earns, its grid import the import price and 1/eta kWh of
the budget per kWh stored; a discharging slot gives up its export first, then its cover of the
house's load, which earns the import price and frees eta kWh of the budget. Its cheapest
cost is convex in the move and is traced corner by corner (`_corners`): while the budget
lasts the cheapest piece goes next; once it binds, a piece that draws nothing, or a swap of
budget from the pieces that draw the most to the ones that draw the least. The hour's cost
is the lowest of the sets': a stage with several windows, which the DP's general path plans
exactly. Where importing costs less than the export a slot's solar surplus gives up (an import
price below zero, or export paying more), the slot's cost bends down and it can't import before
its surplus is used: each set takes such a slot both ways, within its surplus or beyond it
(`_SetContext.variants`). A set whose last slot tops the battery up below the minimum gives the
moves that end full (`Stage.fill_windows`). A move that charges and discharges in one hour must
keep the battery within its limits inside the hour too, so those windows carry the energies
they may start from and end at (`Stage.window_bounds`).
"""

from dataclasses import dataclass, field
from itertools import combinations, pairwise, product
import math
from typing import TYPE_CHECKING

from .curve import ChargeCurve, SlotReach
from .site_dp import Stage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .site import Car

_TINY_KWH = 1e-9

type _Window = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class _Piece:
    """Moving one slot's energy further up: `width` kWh at `cost` each, drawing `draw` kWh of
    the hour's import budget per kWh (1/eta charging from the grid, eta giving up a cover of
    the house's load, 0 otherwise)."""

    slot: int
    width: float
    cost: float
    draw: float


class _Fill:
    """The pieces that draw alike, taken cheapest first: how far, and what moves next."""

    def __init__(self, pieces: list[_Piece]) -> None:
        self.pieces = sorted(pieces, key=lambda piece: piece.cost)
        self.draw = self.pieces[0].draw
        self.index = 0
        self.into = 0.0

    def up(self) -> tuple[float, float] | None:
        """(cost per kWh, room) of the next piece; None when all are taken."""
        if self.index >= len(self.pieces):
            return None
        piece = self.pieces[self.index]
        return piece.cost, piece.width - self.into

    def down(self) -> tuple[float, float] | None:
        """(cost per kWh, amount) of the last piece taken; None when none is."""
        if self.into > 0.0:
            return self.pieces[self.index].cost, self.into
        if self.index == 0:
            return None
        piece = self.pieces[self.index - 1]
        return piece.cost, piece.width

    def move(self, amount: float) -> None:
        """Take `amount` more (less when negative), within the piece `up` or `down` named."""
        if amount < 0.0 and self.into <= 0.0:
            self.index -= 1
            self.into = self.pieces[self.index].width
        self.into += amount
        if self.into >= self.pieces[self.index].width - _TINY_KWH:
            self.index += 1
            self.into = 0.0
        elif self.into <= _TINY_KWH:
            self.into = 0.0

    def taken(self, out: dict[int, float]) -> None:
        """Add what each slot took to `out`."""
        for piece in self.pieces[: self.index]:
            out[piece.slot] += piece.width
        if self.into > 0.0:
            out[self.pieces[self.index].slot] += self.into


@dataclass(frozen=True, slots=True)
class _ChargingSet:
    """Some of the hour's slots charging, each at least at the minimum, and (when it mixes)
    the others discharging: the corners of its cheapest cost, from its lowest move on."""

    # (move, cost, each slot's change of battery energy) at every corner, the move rising.
    corners: list[tuple[float, float, dict[int, float]]]
    # Whether a slot discharges anywhere along it.
    mixes: bool = False

    def windows(self) -> list[_Window]:
        """(start, end, cost per kWh, cost at start) of each straight part."""
        out: list[_Window] = []
        for (x1, c1, _), (x2, c2, _) in pairwise(self.corners):
            out.append((x1, x2, (c2 - c1) / (x2 - x1), c1))
        if not out:
            move, cost, _ = self.corners[0]
            out.append((move, move, 0.0, cost))
        return out

    def shares(self, move: float) -> dict[int, float]:
        """Each slot's change of battery energy for the hour's move `move`."""
        corners = self.corners
        if move <= corners[0][0] or len(corners) == 1:
            return dict(corners[0][2])
        for (x1, _, s1), (x2, _, s2) in pairwise(corners):
            if move <= x2:
                t = (move - x1) / (x2 - x1)
                return {slot: s1[slot] + t * (s2[slot] - s1[slot]) for slot in s1}
        return dict(corners[-1][2])

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
    # The lowest and highest energy the battery may have inside the hour.
    inner: tuple[float, float] = (-math.inf, math.inf)

    def moves(self, change: float, full: bool = False, energy: float | None = None) -> list[float]:
        """Each slot's change of battery energy for the hour's change `change` from `energy`
        (a mixing set only where it keeps the battery within its limits from there); `full`:
        the hour ends at the upper limit."""
        idle = change <= _TINY_KWH and self.stage.idles
        best: dict[int, float] = self._drained(-change) if idle else {}
        lowest = _drain_cost(self.drains, -change) if idle else math.inf
        options = [*self.sets, *self.fills] if full else self.sets
        for charging in options:
            cost = charging.cost_of(change)
            if cost >= lowest - 1e-12 * (1.0 + abs(lowest)):
                continue
            shares = charging.shares(change)
            if charging.mixes and not self._keeps_inside(shares, energy):
                continue
            best, lowest = shares, cost
        if (change > _TINY_KWH or not self.drains) and math.isinf(lowest) and self.sets:
            # Only a rounding past every window: the nearest charging (or draining) set.
            nearest = min(self.sets, key=lambda charging: abs(charging.corners[-1][0] - change))
            best = nearest.shares(change)
        return [best.get(t, 0.0) for t in self.slots]

    def _drained(self, amount: float) -> dict[int, float]:
        shares: dict[int, float] = {}
        left = amount
        for slot, width, _ in self.drains:
            if left <= 0.0:
                break
            taken = min(width, left)
            shares[slot] = shares.get(slot, 0.0) - taken
            left -= taken
        return shares

    def _keeps_inside(self, shares: dict[int, float], energy: float | None) -> bool:
        if energy is None:
            return False
        dip, over = _excursion(self.slots, shares)
        low, high = self.inner
        total = sum(shares.values())
        return energy - dip >= low - 1e-6 and energy + total + over <= high + 1e-6


def minimum_hour(
    car: Car,
    group: list[int],
    house: Sequence[float],
    budget: float,
    free: Sequence[Stage],
    fills: bool = True,
    ceiling: float = math.inf,
) -> MinimumHour | None:
    """The hour as one stage with `budget` kWh of import. The hour charges (some of its
    slots, each at least at the minimum, while the others may discharge), or only discharges
    (each slot as `free` allows, what pays most first). Where the house alone is over the
    budget, the car must discharge for it (`_drained_hour`); None when it can't.
    `fills`: the battery may end the hour full (else no set tops it up). `ceiling`: the most
    energy the battery may have inside the hour when it charges (the taper's knee, below which
    a tapering car charges as with a flat curve)."""
    hours = car.horizon.hours
    own = sum(hours[t] * max(house[t], 0.0) for t in group)
    context = _SetContext(car, group, house, budget - own, free)
    if own > budget + _TINY_KWH:
        return _drained_hour(car, context)
    usable = _usable(car, group, house)
    sets: list[_ChargingSet] = []
    mixed: list[_ChargingSet] = []
    filled: list[_ChargingSet] = []
    draining = {t for t in group if free[t].discharge}
    for size in range(1, len(usable) + 1):
        for chosen in combinations(usable, size):
            for raised in context.variants(chosen):
                charging = context.build(chosen, raised=raised)
                if charging is not None:
                    sets.append(charging)
                for locked in context.locks(chosen) if draining.difference(chosen) else ():
                    mixing = context.build(chosen, mixing=True, raised=raised, locked=locked)
                    if mixing is not None and mixing.mixes:
                        mixed.append(mixing)
            # Its last slot may top the battery up below the minimum (`fill_windows`).
            for raised in context.variants(chosen, chosen[-1]) if fills else ():
                filling = context.build(chosen, topping=chosen[-1], raised=raised)
                if filling is not None:
                    filled.append(filling)
    drains = sorted(
        (
            (t, end - start, cost)
            for t in group
            for start, end, cost in _discharge_pieces(free[t].discharge)
        ),
        key=lambda drain: drain[2],
    )
    stage = _stage(car, group, (sets, mixed, filled), drains, ceiling)
    return MinimumHour(group, [*sets, *mixed], stage, drains, filled, _inner(car, ceiling))


def _drained_hour(car: Car, context: _SetContext) -> MinimumHour | None:
    """An hour the house alone takes over its budget, as one stage that must move: its slots
    discharge enough to cover the excess, shared out by what pays most rather than each cut
    to one level, while some may charge (each at least at the minimum) on what that frees or
    on their sun. None when even discharging all the car may doesn't keep it within budget."""
    group = context.group
    usable = _usable(car, group, context.house)
    mixed: list[_ChargingSet] = []
    for size in range(len(usable) + 1):
        for chosen in combinations(usable, size):
            for raised, locked in product(context.variants(chosen), context.locks(chosen)):
                mixing = context.build(chosen, mixing=True, raised=raised, locked=locked)
                if mixing is not None and mixing.mixes:
                    mixed.append(mixing)
    if not mixed:
        return None
    stage = _stage(car, group, ([], mixed, []), [], math.inf, idles=False)
    return MinimumHour(group, mixed, stage, [], [], _inner(car))


def _inner(car: Car, ceiling: float = math.inf) -> tuple[float, float]:
    """The battery's limits inside an hour: the floor (or the protective level, which an
    hour taken as one stage has reached before it starts) and the upper limit (or `ceiling`)."""
    request = car.request
    protective = request.protective_soc_pct / 100.0 * request.battery.capacity_kwh
    return max(car.floor_kwh, protective), min(car.curve.upper_kwh, ceiling)


def _stage(
    car: Car,
    group: list[int],
    options: tuple[list[_ChargingSet], list[_ChargingSet], list[_ChargingSet]],
    drains: list[tuple[int, float, float]],
    ceiling: float,
    idles: bool = True,
) -> Stage:
    """The hour's stage: the charging windows, the mixing windows where they are cheapest
    (each with the energies it may start from and end at), the discharge and the fills; no
    charge ends above `ceiling`."""
    sets, mixed, fills = options
    windows = [window for window, _ in lowest_windows([(line, None) for line in _lines(sets)])]
    filling = lowest_windows([(line, None) for line in _lines(fills)])
    discharge: list[tuple[float, float]] = []
    lines: list[tuple[_Window, _ChargingSet | None]] = [(line, None) for line in windows]
    taken = 0.0
    for _, width, cost in drains:
        lines.append(((-taken - width, -taken, -cost, _drain_cost(drains, taken + width)), None))
        taken += width
        discharge.append((taken, cost))
    lines += [(line, charging) for charging in mixed for line in charging.windows()]
    bounds: list[tuple[float, float]] = []
    pure = len(windows)
    if mixed or math.isfinite(ceiling):
        bounds = [(-math.inf, ceiling)] * len(windows)
        low, high = _inner(car, ceiling)
        for window, charging in lowest_windows(lines) if mixed else ():
            if charging is not None:
                first = _excursion(group, charging.shares(window[0]))
                last = _excursion(group, charging.shares(window[1]))
                windows.append(window)
                bounds.append((low + max(first[0], last[0]), high - max(first[1], last[1])))
    # Discharging in one slot can free the budget another slot's minimum needs: a mixing
    # window may reach further than charging alone.
    furthest = max((end for _, end, _, _ in windows), default=0.0)
    if not idles:
        # An hour that must discharge may still reach no further than where it starts.
        furthest = max(furthest, 0.0)
    capacity = car.request.battery.capacity_kwh
    flat = ChargeCurve.build(capacity, furthest, (), 1.0, car.curve.upper_kwh)
    return Stage(
        reach=SlotReach.build(flat, 1.0),
        can_charge=furthest > _TINY_KWH or len(windows) > pure,
        charge=((math.inf, 0.0),),
        discharge=tuple(discharge),
        windows=tuple(windows),
        fill_windows=tuple(line for line, _ in filling),
        window_bounds=tuple(bounds),
        idles=idles,
    )


def _drain_cost(drains: list[tuple[int, float, float]], amount: float) -> float:
    """What discharging `amount` kWh costs, what pays most first; inf beyond the drains."""
    cost, left = 0.0, amount
    for _, width, rate in drains:
        if left <= 0.0:
            break
        taken = min(width, left)
        cost += taken * rate
        left -= taken
    return cost if left <= _TINY_KWH else math.inf


def _lines(sets: list[_ChargingSet]) -> list[_Window]:
    return [window for charging in sets for window in charging.windows()]


def _excursion(slots: list[int], shares: dict[int, float]) -> tuple[float, float]:
    """How far the battery dips below where the hour starts, and rises above where it ends,
    inside the hour."""
    energy = lowest = highest = 0.0
    for t in slots:
        energy += shares.get(t, 0.0)
        lowest = min(lowest, energy)
        highest = max(highest, energy)
    return -lowest, highest - energy


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


def _usable(car: Car, group: list[int], house: Sequence[float]) -> list[int]:
    """The hour's slots with room for the car's minimum under the fuse."""
    return [t for t in group if _room_kw(car, house[t]) >= _least_kw(car) - _TINY_KWH]


def _least_kw(car: Car) -> float:
    charge = car.request.charge
    return min(charge.min_kw, charge.max_kw)


def _room_kw(car: Car, load: float) -> float:
    """The most the car may charge in a slot with this house load: its maximum and the fuse."""
    site = car.request.site
    fuse = math.inf if site is None else site.import_cap_kw
    return min(car.request.charge.max_kw, max(fuse, load) - load)


@dataclass(frozen=True, slots=True)
class _SetContext:
    """What every set of one hour shares: the car, the hour, the house, the spare import
    beyond the house's own, and the slots' discharge segments."""

    car: Car
    group: list[int]
    house: Sequence[float]
    spare: float
    free: Sequence[Stage]

    def variants(self, chosen: tuple[int, ...], topping: int | None = None) -> list[frozenset[int]]:
        """The ways to take the chosen slots whose cost bends down at their solar surplus
        (`_bends`): each such slot either charges within its surplus or takes all of it and
        imports above it, so that each way's slots are convex and are filled in order."""
        bent = [t for t in chosen if self._bends(t, 0.0 if t == topping else _least_kw(self.car))]
        return _subsets(bent)

    def _bends(self, t: int, floor_kw: float) -> bool:
        """Whether importing in slot `t` costs less than the export its solar surplus gives up
        (a price below zero, or export paying more than import), between its floor and room:
        then its cost isn't convex and charging from the grid can't come before the surplus."""
        price = self.car.horizon.prices[t]
        load = self.house[t]
        export = price.export_price or 0.0
        return price.import_price < export and floor_kw < -load < _room_kw(self.car, load)

    def build(
        self,
        chosen: tuple[int, ...],
        topping: int | None = None,
        mixing: bool = False,
        raised: frozenset[int] = frozenset(),
        locked: frozenset[int] = frozenset(),
    ) -> _ChargingSet | None:
        """The slots in `chosen` charging at least at the minimum (but `topping`, from 0 on),
        and with `mixing` the others discharging as they may; None when the minimum takes
        more import than the budget leaves (with every other slot covering the house).
        A slot whose cost bends (`variants`) charges at least its whole surplus when in
        `raised`, at most its surplus otherwise; a discharging one whose export pays more than
        its cover (`locks`) keeps its cover when in `locked`, and exports nothing otherwise."""
        base: dict[int, float] = dict.fromkeys(self.group, 0.0)
        cost, spare, pieces = self._charging(chosen, topping, base, raised)
        if mixing:
            for t in self.group:
                if t not in chosen:
                    cost, spare = self._discharging(t, (base, pieces), cost, spare, locked)
        if spare < -_TINY_KWH:
            return None
        trace = _corners if mixing else _greedy_corners
        corners = trace(pieces, max(spare, 0.0), base, cost)
        mixes = any(share < -_TINY_KWH for _, _, shares in corners for share in shares.values())
        return _ChargingSet(corners, mixes)

    def _charging(
        self,
        chosen: tuple[int, ...],
        topping: int | None,
        base: dict[int, float],
        raised: frozenset[int],
    ) -> tuple[float, float, list[_Piece]]:
        """The chosen slots at their minimum: its cost, the spare import left and the pieces
        above it."""
        car, house = self.car, self.house
        hours, prices = car.horizon.hours, car.horizon.prices
        eta = car.request.charge.efficiency
        least_kw = _least_kw(car)
        cost, spare = 0.0, self.spare
        pieces: list[_Piece] = []
        for t in chosen:
            load, h = house[t], hours[t]
            imp = prices[t].import_price
            export = prices[t].export_price or 0.0
            surplus = max(0.0, -load)
            floor_kw = 0.0 if t == topping else least_kw
            bent = self._bends(t, floor_kw)
            if t in raised:
                floor_kw = surplus
            base[t] = h * eta * floor_kw
            from_sun = min(floor_kw, surplus)
            spare -= h * max(0.0, load + floor_kw) - h * max(0.0, load)
            cost += h * (export * from_sun + imp * (floor_kw - from_sun))
            top = _room_kw(car, load)
            if surplus > floor_kw:
                width = h * eta * (min(top, surplus) - floor_kw)
                pieces.append(_Piece(t, width, export / eta, 0.0))
            width = h * eta * (top - max(floor_kw, surplus))
            if width > _TINY_KWH and not (bent and t not in raised):
                pieces.append(_Piece(t, width, imp / eta, 1.0 / eta))
        return cost, spare, pieces

    def locks(self, chosen: tuple[int, ...]) -> list[frozenset[int]]:
        """The ways to take the slots outside `chosen` whose export pays more than covering
        the house (`_drain_bends`): each either covers and keeps its cover, or only covers,
        so that each way's pieces are convex and are given back in order."""
        bent = [t for t in self.group if t not in chosen and self._drain_bends(t)]
        return _subsets(bent)

    def _drain_bends(self, t: int) -> bool:
        """Whether slot `t`'s discharge pays more for its export than for covering the house's
        load: it can't export before it covers, so its cost isn't convex."""
        segments = _discharge_pieces(self.free[t].discharge)
        return len(segments) == 2 and segments[1][2] < segments[0][2]

    def _discharging(
        self,
        t: int,
        into: tuple[dict[int, float], list[_Piece]],
        cost: float,
        spare: float,
        locked: frozenset[int],
    ) -> tuple[float, float]:
        """Slot `t` discharging all it may, and the pieces that give it back: its export
        first, then its cover of the house's load. The cost and spare import with it. Where
        its export pays more (`locks`), it covers and keeps the cover when in `locked`, and
        only covers otherwise."""
        base, pieces = into
        discharge = self.car.request.discharge
        segments = _discharge_pieces(self.free[t].discharge)
        if discharge is None or not segments:
            return cost, spare
        bent = self._drain_bends(t)
        if bent and t not in locked:
            segments = segments[:1]
        eta_d = discharge.efficiency
        # The kWh taken out that cover the house's load (its first segment).
        cover = self.car.horizon.hours[t] * max(self.house[t], 0.0) / eta_d
        for start, end, rate in segments:
            width = end - start
            covers = start < cover - _TINY_KWH
            base[t] -= width
            cost += width * rate
            if covers:
                spare += eta_d * width
            if not (bent and covers and t in locked):
                pieces.append(_Piece(t, width, -rate, eta_d if covers else 0.0))
        return cost, spare


def _subsets(slots: list[int]) -> list[frozenset[int]]:
    """Every subset of the slots, the empty one first."""
    return [
        frozenset(chosen) for size in range(len(slots) + 1) for chosen in combinations(slots, size)
    ]


def _corners(
    pieces: list[_Piece], allowance: float, base: dict[int, float], cost: float
) -> list[tuple[float, float, dict[int, float]]]:
    """The corners of the cheapest cost of moving the pieces up, `allowance` kWh of budget
    to draw on: the next cheapest piece while the budget lasts; once it binds, the cheapest
    piece that draws nothing, or a swap from the pieces that draw the most to the ones that
    draw the least (their costs and draws are convex within each slot, so a slot's pieces go
    in order)."""
    kinds: dict[float, list[_Piece]] = {}
    for piece in pieces:
        kinds.setdefault(piece.draw, []).append(piece)
    free = _Fill(kinds.pop(0.0)) if 0.0 in kinds else None
    drawing = [_Fill(kinds[draw]) for draw in sorted(kinds)]
    fills = [fill for fill in (free, *drawing) if fill is not None]
    start = sum(base.values())
    corners = [(start, cost, dict(base))]
    move, used, rate_before = start, 0.0, math.nan
    for _ in range(4 * len(pieces) + 4):
        step = _next_step(free, drawing, allowance - used)
        if step is None:
            break
        rate, width, actions = step
        for fill, share in actions:
            fill.move(share * width)
            used += fill.draw * share * width
        move += width
        cost += rate * width
        shares = dict(base)
        for fill in fills:
            fill.taken(shares)
        if abs(rate - rate_before) <= 1e-12 and len(corners) > 1:
            corners[-1] = (move, cost, shares)
        else:
            corners.append((move, cost, shares))
        rate_before = rate
    return corners


def _greedy_corners(
    pieces: list[_Piece], allowance: float, base: dict[int, float], cost: float
) -> list[tuple[float, float, dict[int, float]]]:
    """`_corners` where only charging draws on the budget (all alike): the cheapest piece
    next, drawing only while the budget lasts (a fractional knapsack)."""
    shares = dict(base)
    move = sum(base.values())
    corners = [(move, cost, dict(shares))]
    rate_before = math.nan
    for piece in sorted(pieces, key=lambda piece: piece.cost):
        width = piece.width
        if piece.draw > 0.0:
            width = min(width, allowance / piece.draw)
            allowance -= width * piece.draw
        if width <= _TINY_KWH:
            continue
        move += width
        cost += width * piece.cost
        shares[piece.slot] += width
        if abs(piece.cost - rate_before) <= 1e-12 and len(corners) > 1:
            corners[-1] = (move, cost, dict(shares))
        else:
            corners.append((move, cost, dict(shares)))
        rate_before = piece.cost
    return corners


def _next_step(
    free: _Fill | None, drawing: list[_Fill], spare: float
) -> tuple[float, float, list[tuple[_Fill, float]]] | None:
    """(cost per kWh, kWh, [(pieces, share of each kWh)]) of the cheapest way further."""
    options: list[tuple[float, float, list[tuple[_Fill, float]]]] = []
    if free is not None and (up := free.up()) is not None:
        options.append((up[0], up[1], [(free, 1.0)]))
    if spare > _TINY_KWH:
        for fill in drawing:
            if (up := fill.up()) is not None:
                options.append((up[0], min(up[1], spare / fill.draw), [(fill, 1.0)]))
    elif len(drawing) == 2:
        least, most = drawing
        up, down = least.up(), most.down()
        if up is not None and down is not None:
            span = most.draw - least.draw
            rise, fall = most.draw / span, least.draw / span
            rate = up[0] * rise - down[0] * fall
            options.append(
                (rate, min(up[1] / rise, down[1] / fall), [(least, rise), (most, -fall)])
            )
    options = [option for option in options if option[1] > _TINY_KWH]
    if not options:
        return None
    return min(options, key=lambda option: option[0])


def lowest_windows[Tag](lines: list[tuple[_Window, Tag]]) -> list[tuple[_Window, Tag]]:
    """The cheapest of the lines at every move, as few windows as it takes, each with the
    tag of its line."""
    points = sorted({x for (start, end, _, _), _ in lines for x in (start, end)})
    out: list[tuple[_Window, Tag]] = [
        (line, tag) for line, tag in lines if line[1] - line[0] <= _TINY_KWH
    ]
    for left, right in pairwise(points):
        if right - left <= _TINY_KWH:
            continue
        active = [(line, tag) for line, tag in lines if line[0] <= left and line[1] >= right]
        if not active:
            continue
        first = min(active, key=lambda item: _rank(item, left))
        last = min(active, key=lambda item: _rank(item, right))
        cut = _crossing(first[0], last[0], left, right)
        for a, b, (line, tag) in ((left, cut, first), (cut, right, last)):
            if b - a > _TINY_KWH:
                _append(out, (a, b, line[2], _value(line, a)), tag)
    return out


def _rank[Tag](item: tuple[_Window, Tag], x: float) -> float:
    """The line's cost at x, a rounding higher for a tagged line: an untagged one that costs
    as much wins (a mixing window that only repeats a charging one adds no new move)."""
    value = _value(item[0], x)
    return value if item[1] is None else value + 1e-12 * (1.0 + abs(value))


def _value(line: _Window, x: float) -> float:
    start, _, rate, before = line
    return before + rate * (x - start)


def _crossing(first: _Window, last: _Window, left: float, right: float) -> float:
    """Where the line cheapest at `left` stops being cheaper than the one cheapest at `right`."""
    if first is last or first[2] == last[2]:
        return right
    at_left = _value(first, left) - _value(last, left)
    cut = left - at_left / (first[2] - last[2])
    return min(max(cut, left), right)


def _append[Tag](out: list[tuple[_Window, Tag]], window: _Window, tag: Tag) -> None:
    """Add the window, joined to the one before where it carries on the same line."""
    if out:
        (start, end, rate, before), last_tag = out[-1]
        if (
            last_tag is tag
            and abs(end - window[0]) <= _TINY_KWH
            and abs(rate - window[2]) <= 1e-12
            and abs(before + rate * (end - start) - window[3]) <= 1e-12
        ):
            out[-1] = ((start, window[1], rate, before), tag)
            return
    out.append((window, tag))
