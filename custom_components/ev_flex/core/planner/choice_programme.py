"""The programme of a choice of slots (`patterns.py`), built once per problem: each choice only
sets bounds, so every choice after the first is solved from the last one's basis
(`dual.WarmProgramme`).

Its columns are every car's charging power in every slot, its discharging power where it has
V2G and the slot an export price, the house's import in every slot, the peak under a capacity
tariff, and the shortfall at each boundary that needs energy. Its rows, per slot: the import at
least the net grid power, the fuse, and the export limit where a car may discharge; per clock
hour, the average import at most the peak; per car, each boundary's need, and per boundary one
row whose slack is the room left in the battery (at least 0, at most down to the car's floor,
0 where a slot fills the battery); per slot and falling line of a taper, the power at most the
line at the slot's start energy (its slack 0 where the car charges exactly along that line).

A slot whose export pays more than its import costs the house the lesser of its grid power at
either price: not convex. There the cars' powers are priced at the import price, and a column
for the export earns the difference, at most what the house exports; which way the house's
power goes is set per such slot (`set_directions`): importing (the grid power at least 0, no
export), exporting (the export all the house's power, at most 0), or open, where either may
hold (a relaxation: the export at most what the house could export beyond what it imports).

Where each choice had a programme of its own, solved from scratch, 12 houses of 28 to 36 hours
of quarters with two cars took 725 s; from the last basis, with the same plans, 109 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import math

from .dual import WarmProgramme
from .simplex import Row
from .site import Car

# The cost of a kWh short of what a boundary needs: far above any price.
SHORT_COST = 1e4
# A boundary's need is met to this (kWh), or the plan is not taken.
MET_KWH = 1e-7
# Pivots allowed per row of the programme for one solve (a few are usual).
_PIVOTS_PER_ROW = 8


@dataclass(frozen=True, slots=True)
class SlotWay:
    """How a car may charge in one slot of a choice: its power between `least` and `most`,
    discharging or not, exactly along a line of its taper (an index of its lines), or filling
    its battery by the slot's end."""

    least: float
    most: float
    discharges: bool
    line: int | None = None
    fills: bool = False


@dataclass(frozen=True, slots=True)
class Solved:
    """A choice's powers (per car: charge and discharge per slot), what they leave short of
    the boundaries' needs (kWh), and the programme's cost of them."""

    flows: list[tuple[list[float], list[float]]]
    short_kwh: float
    objective: float


# Which way the house's grid power goes in a slot whose export pays more than its import:
# importing (True), exporting (False) or either (None: a relaxation).
Direction = bool | None


@dataclass(frozen=True, slots=True)
class _TwoWaySlot:
    """A slot whose export pays more than its import: the column of what the house exports,
    the two columns that let go of the row holding it to the house's power and of the row
    holding that power at least 0, and how much the house could export or import at most."""

    export: int
    exporting_free: int
    importing_free: int
    most_export: float
    most_import: float


def two_way_slots(cars: Sequence[Car]) -> list[int]:
    """The slots whose export pays more than their import (no export price counting as 0)."""
    out = []
    for t, price in enumerate(cars[0].horizon.prices):
        export = 0.0 if price.export_price is None else price.export_price
        if export > price.import_price:
            out.append(t)
    return out


class ChoiceProgramme:
    """The programme shared by every choice of one problem, and its warm tableau."""

    def __init__(
        self,
        cars: Sequence[Car],
        base: Sequence[float],
        needs: Sequence[dict[int, tuple[float, bool]]],
        full: Sequence[float],
        lines: Sequence[Sequence[tuple[float, float]]],
    ) -> None:
        self.cars, self.base, self.full, self.lines = list(cars), list(base), full, lines
        self.costs: list[float] = []
        self.upper: list[float] = []
        self.rows: list[Row] = []
        n, count = len(base), len(cars)
        self.charges = [[self._column(0.0, 0.0) for _ in range(n)] for _ in range(count)]
        self.discharges: list[list[int | None]] = [[None] * n for _ in range(count)]
        self.imports = [self._column(0.0, math.inf) for _ in range(n)]
        self.two_way: dict[int, _TwoWaySlot] = {}
        self._add_slots()
        self._add_peak()
        # Per car and boundary (1 to n), the row of the room left in the battery; per car and
        # slot, each falling line of its taper and the row of the power at most that line.
        self.levels: list[list[int]] = []
        self.tapers: list[list[list[tuple[int, int]]]] = []
        self.shortfalls: list[tuple[int, bool]] = []
        for k in range(count):
            self._add_car(k, needs[k])
        self.warm = WarmProgramme(self.costs, self.rows, [0.0] * len(self.costs), self.upper)
        self._ways: list[list[SlotWay]] | None = None
        self.directions: dict[int, Direction] = {}
        self.set_directions(dict.fromkeys(self.two_way, True))

    def set_directions(self, directions: dict[int, Direction]) -> None:
        """Which way the house's power goes in each slot whose export pays more than its
        import (`Direction`); slots not given keep theirs."""
        warm = self.warm
        for t, direction in directions.items():
            slot = self.two_way.get(t)
            if slot is None or (t in self.directions and self.directions[t] is direction):
                continue
            self.directions[t] = direction
            importing, exporting = direction is not False, direction is not True
            warm.set_bounds(slot.export, 0.0, slot.most_export if exporting else 0.0)
            # The row holding the export to the house's power below 0 goes while importing
            # (in the relaxation, as far as the house could import).
            free = math.inf if not exporting else slot.most_import if importing else 0.0
            warm.set_bounds(slot.exporting_free, 0.0, free)
            warm.set_bounds(slot.importing_free, 0.0, math.inf if exporting else 0.0)

    @property
    def work(self) -> int:
        """The pivots of every solve so far times the tableau's size."""
        return self.warm.pivots * len(self.rows) * self.warm.width

    def solve(
        self, ways: list[list[SlotWay]], once: bool = False, cutoff: float = math.inf
    ) -> Solved | None:
        """The cheapest powers with each car charging in each slot as `ways` say; None without
        a solution, where it misses the protective level, or where the programme's cost of
        them is at least `cutoff`. `once`: the only choice solved, from scratch
        (`WarmProgramme.solve_once`)."""
        for k, own in enumerate(ways):
            for t, way in enumerate(own):
                if self._ways is None or self._ways[k][t] != way:
                    self._set(k, t, way)
        self._ways = [list(own) for own in ways]
        pivots = _PIVOTS_PER_ROW * (len(self.rows) + 10)
        if once:
            values = self.warm.solve_once(pivots, self._implied(ways))
        else:
            values = self.warm.solve(pivots, cutoff)
        if values is None:
            return None
        if any(values[c] > MET_KWH for c, target in self.shortfalls if not target):
            return None
        flows = [
            (
                [values[c] for c in self.charges[k]],
                [0.0 if d is None else values[d] for d in self.discharges[k]],
            )
            for k in range(len(self.cars))
        ]
        objective = sum(cost * value for cost, value in zip(self.costs, values, strict=True))
        return Solved(flows, sum(values[c] for c, _ in self.shortfalls), objective)

    def _implied(self, ways: list[list[SlotWay]]) -> set[int]:
        """The rows of the room in the battery that the last boundary's implies: every one
        before it, for a car that can't discharge and fills its battery in no slot."""
        implied: set[int] = set()
        for k, own in enumerate(ways):
            lowers = any(
                way.discharges and d is not None
                for way, d in zip(own, self.discharges[k], strict=True)
            )
            if not lowers and not any(way.fills for way in own):
                implied.update(self.levels[k][:-1])
        return implied

    def _set(self, k: int, t: int, way: SlotWay) -> None:
        """The bounds of car `k`'s columns and rows in slot `t` as `way` says."""
        warm, count = self.warm, len(self.costs)
        # Along the first line of the taper is at its full power.
        least = way.most if way.line == 0 else way.least
        warm.set_bounds(self.charges[k][t], least, max(way.most, least))
        discharge = self.discharges[k][t]
        if discharge is not None:
            top = self.cars[k].request.discharge
            assert top is not None
            warm.set_bounds(discharge, 0.0, top.max_kw if way.discharges else 0.0)
        room = self.full[k] - self.cars[k].floor_kwh
        level = count + self.levels[k][t]
        warm.set_bounds(level, 0.0, 0.0 if way.fills else room)
        for line, row in self.tapers[k][t]:
            warm.set_bounds(count + row, 0.0, 0.0 if way.line == line else math.inf)

    def _column(self, cost: float, most: float) -> int:
        self.costs.append(cost)
        self.upper.append(most)
        return len(self.costs) - 1

    def _add_slots(self) -> None:
        cars, base = self.cars, self.base
        site = cars[0].request.site
        assert site is not None
        hours, prices = cars[0].horizon.hours, cars[0].horizon.prices
        for t, load in enumerate(base):
            price = prices[t]
            export = 0.0 if price.export_price is None else price.export_price
            two_way = export > price.import_price
            # A slot priced both ways has the cars' powers at the import price.
            paid = price.import_price if two_way else export
            terms: dict[int, float] = {}
            for k, car in enumerate(cars):
                column = self.charges[k][t]
                self.costs[column] = hours[t] * paid
                self.upper[column] = car.curve.powers[0]
                terms[column] = 1.0
                discharge = car.request.discharge
                if discharge is not None and price.export_price is not None:
                    wear = hours[t] * discharge.wear_cost_per_kwh / discharge.efficiency
                    column = self._column(wear - hours[t] * paid, discharge.max_kw)
                    self.discharges[k][t] = column
                    terms[column] = -1.0
            # Priced both ways, the import column only counts for the peak.
            margin = 0.0 if two_way else price.import_price - export
            self.costs[self.imports[t]] = hours[t] * margin
            self.rows.append(Row({**terms, self.imports[t]: -1.0}, -load))
            if two_way:
                self._add_two_way(t, terms, load, hours[t] * (export - price.import_price))
            if math.isfinite(site.import_cap_kw):
                self.rows.append(Row(terms, max(site.import_cap_kw, load) - load))
            if math.isfinite(site.export_cap_kw) and any(w < 0.0 for w in terms.values()):
                room = max(site.export_cap_kw, -load) + load
                self.rows.append(Row({c: -w for c, w in terms.items()}, room))

    def _add_two_way(self, t: int, terms: dict[int, float], load: float, gain: float) -> None:
        """The columns and rows of a slot whose export earns `gain` more than its import would
        cost (per kW): the export at most what the house's power leaves below 0, and the
        house's power at least 0, each let go of by a free column (`set_directions`)."""
        site = self.cars[0].request.site
        assert site is not None
        lent = sum(
            car.request.discharge.max_kw
            for k, car in enumerate(self.cars)
            if car.request.discharge is not None and self.discharges[k][t] is not None
        )
        most_export = min(max(0.0, lent - load), max(site.export_cap_kw, -load))
        taken = sum(c.curve.powers[0] for c in self.cars)
        most_import = max(0.0, min(load + taken, max(site.import_cap_kw, load)))
        export = self._column(-gain, 0.0)
        exporting_free = self._column(0.0, math.inf)
        importing_free = self._column(0.0, 0.0)
        # export <= -(load + cars): the house exports no more than its power below 0.
        self.rows.append(Row({**terms, export: 1.0, exporting_free: -1.0}, -load))
        # -(load + cars) <= 0 while importing.
        self.rows.append(Row({c: -w for c, w in terms.items()} | {importing_free: -1.0}, load))
        self.two_way[t] = _TwoWaySlot(
            export, exporting_free, importing_free, most_export, most_import
        )

    def _add_peak(self) -> None:
        first = self.cars[0]
        site = first.request.site
        assert site is not None
        if site.peak_price_per_kw <= 0.0:
            return
        hours = first.horizon.hours
        peak = self._column(site.peak_price_per_kw, math.inf)
        for group in first.hour_groups:
            passed, before = first.hour_before if group[0] == 0 else (0.0, 0.0)
            width = passed + sum(hours[t] for t in group)
            terms = {self.imports[t]: hours[t] for t in group}
            self.rows.append(Row({**terms, peak: -width}, width * site.current_peak_kw - before))

    def _add_car(self, k: int, needs: dict[int, tuple[float, bool]]) -> None:
        car = self.cars[k]
        n = len(self.base)
        # The energy stored before each boundary, built once for every row that reads it.
        stored_by = [self._stored(k, boundary) for boundary in range(n + 1)]
        for boundary, (need, target) in needs.items():
            terms = {c: -w for c, w in stored_by[boundary].items()}
            short = self._column(SHORT_COST, math.inf)
            self.shortfalls.append((short, target))
            terms[short] = -1.0
            self.rows.append(Row(terms, car.start_kwh - need))
        levels = []
        for boundary in range(1, n + 1):
            levels.append(len(self.rows))
            self.rows.append(Row(stored_by[boundary], self.full[k] - car.start_kwh))
        self.levels.append(levels)
        tapers: list[list[tuple[int, int]]] = []
        for t in range(n):
            stored = stored_by[t]
            tapers.append([])
            for j, (alpha, slope) in enumerate(self.lines[k]):
                if j == 0:
                    continue
                terms = {c: -slope * w for c, w in stored.items()}
                terms[self.charges[k][t]] = 1.0
                tapers[t].append((j, len(self.rows)))
                self.rows.append(Row(terms, alpha + slope * car.start_kwh))
        self.tapers.append(tapers)

    def _stored(self, k: int, boundary: int) -> dict[int, float]:
        """Car `k`'s energy stored before `boundary`."""
        car = self.cars[k]
        charge, discharge = car.request.charge, car.request.discharge
        terms: dict[int, float] = {}
        for t, hours in enumerate(car.horizon.hours[:boundary]):
            terms[self.charges[k][t]] = hours * charge.efficiency
            column = self.discharges[k][t]
            if column is not None and discharge is not None:
                terms[column] = -hours / discharge.efficiency
        return terms
