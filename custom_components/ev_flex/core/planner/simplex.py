"""A small linear programme solver: the bounded primal simplex on a dense tableau, in two phases.

    minimise c.x  subject to  row_r . x <= b_r (or == b_r),  0 <= x_j <= upper_j

It is meant for the few dozen rows and columns of the site planner's joint problem (`joint.py`)
and returns the rows' duals with the optimum, which price the cars' next plans. Pivots follow
the largest reduced cost, and switch to the lowest index (which can't cycle) after a run of
steps that don't improve the objective.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import math

# Reduced costs, pivots and infeasibilities below these are rounding.
_COST_TOLERANCE = 1e-9
_PIVOT_TOLERANCE = 1e-9
_FEASIBILITY = 1e-7
# Steps without progress before the lowest-index rule takes over.
_STALL_STEPS = 30
_MAX_STEPS = 5000


@dataclass(frozen=True, slots=True)
class Row:
    """`sum coefficients[j] * x_j` is at most `bound` (or equal to it)."""

    coefficients: Mapping[int, float]
    bound: float
    equal: bool = False


@dataclass(frozen=True, slots=True)
class LpResult:
    """An optimum: the variables, the objective and one dual per row (d objective / d bound)."""

    values: list[float]
    objective: float
    duals: list[float]


class _Tableau:
    """The tableau of one solve: rows of B^-1 A, the basis, and where the others sit."""

    def __init__(self, costs: Sequence[float], rows: Sequence[Row], upper: Sequence[float]):
        count = len(costs)
        self.rows: list[list[float]] = []
        self.values: list[float] = []
        self.basis: list[int] = []
        self.upper = list(upper)
        self.costs = list(costs)
        # Per row: the column of its slack or artificial, and the sign the row was scaled by.
        self.unit: list[int] = []
        self.sign: list[float] = []
        self.artificials: list[int] = []
        extra = len(rows)
        width = count + extra
        for r, row in enumerate(rows):
            sign = -1.0 if row.bound < 0.0 else 1.0
            line = [0.0] * width
            for j, value in row.coefficients.items():
                line[j] = sign * value
            column = count + r
            # A slack with +1 starts basic; an equality, or a slack with -1, needs an artificial.
            line[column] = sign if not row.equal else 1.0
            self.upper.append(math.inf if not row.equal else 0.0)
            self.costs.append(0.0)
            if row.equal or sign < 0.0:
                self.artificials.append(len(self.rows))
            self.rows.append(line)
            self.values.append(sign * row.bound)
            self.sign.append(sign)
        # Artificials go after the slacks, one per row that needs one.
        total = width + len(self.artificials)
        for line in self.rows:
            line.extend([0.0] * (total - len(line)))
        for k, r in enumerate(self.artificials):
            self.rows[r][width + k] = 1.0
            self.upper.append(math.inf)
            self.costs.append(0.0)
        for r in range(len(self.rows)):
            if r in self.artificials:
                self.unit.append(width + self.artificials.index(r))
            else:
                self.unit.append(count + r)
            self.basis.append(self.unit[r])
        self.at_upper = [False] * total
        self.reduced: list[float] = []

    def price(self, costs: Sequence[float]) -> None:
        """Reduced costs of every column under these costs."""
        reduced = list(costs)
        for r, line in enumerate(self.rows):
            weight = costs[self.basis[r]]
            if weight:
                reduced = [d - weight * a for d, a in zip(reduced, line, strict=True)]
        self.reduced = reduced

    def entering(self, lowest_index: bool) -> int | None:
        best, choice = _COST_TOLERANCE, None
        in_basis = set(self.basis)
        upper, at_upper = self.upper, self.at_upper
        for j, d in enumerate(self.reduced):
            # The gain first: most columns have none, and need no other look.
            gain = d if at_upper[j] else -d
            if gain > best and j not in in_basis and upper[j] > 0.0:
                if lowest_index:
                    return j
                best, choice = gain, j
        return choice

    def step(self, column: int) -> float:
        """Move the entering column as far as the bounds allow; the distance it moved."""
        direction = -1.0 if self.at_upper[column] else 1.0
        limit, leaving, to_upper = self.upper[column], -1, False
        # The tableau stays mostly zeros: only the rows with the column move.
        moving = [(r, line[column]) for r, line in enumerate(self.rows) if line[column]]
        for r, entry in moving:
            rate = direction * entry
            if rate > _PIVOT_TOLERANCE:
                room = max(self.values[r], 0.0) / rate
                if room < limit:
                    limit, leaving, to_upper = room, r, False
            elif rate < -_PIVOT_TOLERANCE:
                top = self.upper[self.basis[r]]
                if math.isfinite(top):
                    room = max(top - self.values[r], 0.0) / -rate
                    if room < limit:
                        limit, leaving, to_upper = room, r, True
        if math.isinf(limit):
            raise ValueError("unbounded")
        for r, entry in moving:
            self.values[r] -= limit * direction * entry
        if leaving < 0:
            self.at_upper[column] = not self.at_upper[column]
            return limit
        entering_value = self.upper[column] - limit if self.at_upper[column] else limit
        gone = self.basis[leaving]
        self.at_upper[gone] = to_upper
        self.at_upper[column] = False
        self._pivot(leaving, column, [r for r, _ in moving])
        self.values[leaving] = entering_value
        return limit

    def _pivot(self, p: int, q: int, moving: list[int]) -> None:
        pivot_tableau(self.rows, self.reduced, p, q, moving)
        self.basis[p] = q

    def run(self, steps: int) -> None:
        stalled = 0
        for _ in range(steps):
            column = self.entering(stalled >= _STALL_STEPS)
            if column is None:
                return
            moved = self.step(column)
            stalled = 0 if moved > _COST_TOLERANCE else stalled + 1
        raise ValueError("no optimum within the step limit")

    def solution(self, count: int) -> list[float]:
        values = [self.upper[j] if self.at_upper[j] else 0.0 for j in range(count)]
        for r, j in enumerate(self.basis):
            if j < count:
                values[j] = self.values[r]
        return values


def pivot_tableau(
    rows: list[list[float]],
    reduced: list[float],
    p: int,
    q: int,
    moving: list[int],
    zero: float = 0.0,
) -> None:
    """Row `p` divided by its entry in column `q`, and column `q` cleared by it from the rows
    that have it (`moving`: only the pivot row's other entries change those) and from the
    reduced costs. An entry left at most `zero` in size is dropped."""
    line = rows[p]
    scale = 1.0 / line[q]
    entries = [(j, a * scale) for j, a in enumerate(line) if a and j != q]
    for j, a in entries:
        line[j] = a
    line[q] = 1.0
    for r in moving:
        other = rows[r]
        factor = other[q]
        if r != p and factor:
            for j, a in entries:
                left = other[j] - factor * a
                other[j] = left if left > zero or left < -zero else 0.0
            other[q] = 0.0
    factor = reduced[q]
    if factor:
        for j, a in entries:
            reduced[j] -= factor * a
        reduced[q] = 0.0


def solve_lp(
    costs: Sequence[float], rows: Sequence[Row], upper: Sequence[float], steps: int = _MAX_STEPS
) -> LpResult:
    """The optimum; raises ValueError when the programme is infeasible or unbounded, or needs
    more than `steps` pivots in a phase."""
    count = len(costs)
    tableau = _Tableau(costs, rows, upper)
    if tableau.artificials:
        phase_one = [0.0] * len(tableau.costs)
        for r in tableau.artificials:
            phase_one[tableau.unit[r]] = 1.0
        tableau.price(phase_one)
        tableau.run(steps)
        for r in tableau.artificials:
            j = tableau.unit[r]
            if j in tableau.basis and tableau.values[tableau.basis.index(j)] > _FEASIBILITY:
                raise ValueError("infeasible")
            tableau.upper[j] = 0.0
    tableau.price(tableau.costs)
    tableau.run(steps)
    values = tableau.solution(count)
    # The dual of row r is minus the reduced cost of its unit column (zero cost in phase two).
    duals = [-tableau.reduced[tableau.unit[r]] * tableau.sign[r] for r in range(len(rows))]
    objective = sum(c * x for c, x in zip(costs, values, strict=True))
    return LpResult(values, objective, duals)
