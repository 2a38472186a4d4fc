"""A linear programme solved again and again with other bounds: the bounded dual simplex on a
dense tableau, kept warm between solves.

    minimise c.x  subject to  row_r . x + s_r = b_r,  lo_j <= x_j <= hi_j,  lo_r <= s_r <= hi_r

The slacks' basis is dual feasible wherever every column whose cost is below 0 has a finite
upper bound: then no phase one is needed. A branch and bound or a local search changes only
bounds between solves, which keeps the last basis dual feasible, so a solve takes a few pivots
from where the last one ended instead of a solve from scratch. Where a change would leave a
column dual infeasible (its cheap side unbounded), where the pivots run out, or where the
solution drifts from the bounds or the rows (the basic values' bounds checked after every
solve, the rows every `_CHECKED_PIVOTS` pivots), the tableau is built again from the slacks'
basis and solved from there.
"""

from collections.abc import Sequence, Set
import math
from operator import mul

from .simplex import Row, pivot_tableau, solve_lp

# A tableau entry below this is rounding left by a pivot. On a 29-hour house of two cars, one
# with V2G, three in four of the tableau's entries were such leftovers; dropped, a pivot's rows
# went from 170 to 38 and the plan took 20 s instead of 150 s.
_ZERO = 1e-11
# Reduced costs and pivots below these are rounding.
_COST_TOLERANCE = 1e-9
_PIVOT_TOLERANCE = 1e-9
# A basic value this far outside its bounds is infeasible.
_FEASIBILITY = 1e-9
# A solution may miss a row or a bound by this much (relative to the row's size).
_RESIDUAL = 1e-6
# The rows are checked against a solution after this many pivots since the last check.
_CHECKED_PIVOTS = 100


class WarmProgramme:
    """One programme's tableau, solved again after changes of its columns' and slacks'
    bounds. Columns count from 0; the slack of row `r` is column `columns + r`."""

    def __init__(
        self,
        costs: Sequence[float],
        rows: Sequence[Row],
        lower: Sequence[float],
        upper: Sequence[float],
    ) -> None:
        self.columns = len(costs)
        self.source = list(rows)
        self._sparse = [
            (list(row.coefficients), list(row.coefficients.values()), row.bound) for row in rows
        ]
        self._checked = -_CHECKED_PIVOTS
        self.costs = [*costs, *([0.0] * len(rows))]
        self._priced = [(j, cost) for j, cost in enumerate(costs) if cost]
        self.cut_off = False
        self.lower = [*lower, *([0.0] * len(rows))]
        self.upper = [*upper, *(0.0 if row.equal else math.inf for row in rows)]
        # Pivots in all solves so far.
        self.pivots = 0
        # The tableau is built at the first `solve`: a programme solved only once
        # (`solve_once`) needs none.
        self.built = self.stale = False
        self._dual_feasible_start()

    @property
    def width(self) -> int:
        return len(self.costs)

    def set_bounds(self, column: int, lower: float, upper: float) -> None:
        """New bounds for a column (a slack: `columns + r`); a basic column keeps its value
        until the next solve moves it inside them."""
        if self.lower[column] == lower and self.upper[column] == upper:
            return
        self.lower[column], self.upper[column] = lower, upper
        if not self.built or self.position[column] >= 0:
            return
        before = self.value[column]
        cost = self.reduced[column]
        # The side its reduced cost asks for keeps the basis dual feasible.
        to_upper = cost < -_COST_TOLERANCE or (cost <= _COST_TOLERANCE and self.at_upper[column])
        if to_upper and not math.isfinite(upper):
            if cost < -_COST_TOLERANCE:
                self.stale = True
            to_upper = False
        self.at_upper[column] = to_upper
        after = upper if to_upper else lower
        self.value[column] = after
        if after != before:
            self._shift(column, after - before)

    def solve(self, most_pivots: int, cutoff: float = math.inf) -> list[float] | None:
        """The columns' values at the optimum (slacks left out); None where the bounds leave
        no solution, where the optimum costs at least `cutoff` (`cut_off`), or where none was
        found within `most_pivots` from scratch."""
        self.cut_off = False
        if self.built and not self.stale:
            solved = self._pivot_to_optimum(most_pivots, cutoff)
            if solved is not None and self._holds(solved):
                return solved[: self.columns]
            if solved is None and (self._proved_infeasible or self.cut_off):
                return None
        self._fresh()
        solved = self._pivot_to_optimum(most_pivots, cutoff)
        if solved is None or not self._holds(solved):
            return None
        return solved[: self.columns]

    def solve_once(self, most_pivots: int, implied: Set[int] = frozenset()) -> list[float] | None:
        """As `solve`, by the primal simplex from scratch, leaving the tableau as it was: for a
        programme solved only once, the primal simplex takes fewer pivots than the dual from
        the slacks' basis. The rows `implied` by the others under these bounds are left out."""
        count, lower, upper = self.columns, self.lower, self.upper
        if any(lower[j] > upper[j] for j in range(len(lower))):
            return None
        rows: list[Row] = []
        for r, row in enumerate(self.source):
            if r in implied:
                continue
            # Each column counted from its lower bound; the slack's bounds as one row or two.
            bound = row.bound - sum(a * lower[j] for j, a in row.coefficients.items())
            least, most = lower[count + r], upper[count + r]
            if least == most:
                rows.append(Row(row.coefficients, bound - least, equal=True))
                continue
            rows.append(Row(row.coefficients, bound - least))
            if math.isfinite(most):
                rows.append(Row({j: -a for j, a in row.coefficients.items()}, most - bound))
        room = [upper[j] - lower[j] for j in range(count)]
        try:
            result = solve_lp(self.costs[:count], rows, room, most_pivots)
        except ValueError:
            return None
        return [x + low for x, low in zip(result.values, lower[:count], strict=True)]

    def _fresh(self) -> None:
        """The tableau of the slacks' basis under the current bounds."""
        count, width = self.columns, self.width
        self.rows: list[list[float]] = []
        for r, row in enumerate(self.source):
            line = [0.0] * width
            for j, a in row.coefficients.items():
                line[j] = a
            line[count + r] = 1.0
            self.rows.append(line)
        self.basis = [count + r for r in range(len(self.source))]
        self.position = [-1] * count + list(range(len(self.source)))
        self.reduced = list(self.costs)
        self.at_upper = [False] * width
        self.value = [0.0] * width
        self.built, self.stale = True, False
        self._proved_infeasible = False
        self._dual_feasible_start()
        for j in range(count):
            cheap_up = self.reduced[j] < 0.0
            self.at_upper[j] = cheap_up
            self.value[j] = self.upper[j] if cheap_up else self.lower[j]
        for r, row in enumerate(self.source):
            moved = sum(a * self.value[j] for j, a in row.coefficients.items())
            self.value[count + r] = row.bound - moved

    def _dual_feasible_start(self) -> None:
        """Refuse a column whose cost is below 0 without an upper bound: the slacks' basis
        would not be dual feasible."""
        for j in range(self.columns):
            if self.costs[j] < 0.0 and not math.isfinite(self.upper[j]):
                raise ValueError("a column below zero cost without an upper bound")

    def _shift(self, column: int, change: float) -> None:
        """A nonbasic column moved by `change`: the basic values follow."""
        value, basis = self.value, self.basis
        for r, line in enumerate(self.rows):
            entry = line[column]
            if entry:
                value[basis[r]] -= entry * change

    def _leaving(self) -> tuple[int, float] | None:
        """The row whose basic value is furthest outside its bounds, and the bound it goes to."""
        worst, choice = _FEASIBILITY, None
        lower, upper, value = self.lower, self.upper, self.value
        for r, j in enumerate(self.basis):
            x = value[j]
            if lower[j] - x > worst:
                worst, choice = lower[j] - x, (r, lower[j])
            elif x - upper[j] > worst:
                worst, choice = x - upper[j], (r, upper[j])
        return choice

    def _entering(self, r: int, rising: bool) -> int | None:
        """The nonbasic column whose move brings row `r`'s basic value back (up where
        `rising`) at the least loss of dual feasibility: the dual ratio test."""
        best, choice, size = math.inf, None, 0.0
        lower, upper, at_upper, reduced = self.lower, self.upper, self.at_upper, self.reduced
        position = self.position
        for j, a in enumerate(self.rows[r]):
            if not a or position[j] >= 0 or lower[j] == upper[j]:
                continue
            # x_B = beta - a x_j: rising needs x_j up where a < 0, down where a > 0.
            up = not at_upper[j]
            if (a < 0.0) != (up == rising):
                continue
            if abs(a) < _PIVOT_TOLERANCE:
                continue
            ratio = abs(reduced[j]) / abs(a)
            # Of ratios as good as equal, the largest entry is the steadiest pivot.
            tied = ratio <= best + _COST_TOLERANCE and abs(a) > size
            if ratio < best - _COST_TOLERANCE or tied:
                best, choice, size = min(ratio, best), j, abs(a)
        return choice

    @property
    def objective(self) -> float:
        """The cost of the current values: at a dual feasible basis, a lower bound of the
        optimum that every pivot raises."""
        value = self.value
        return sum(cost * value[j] for j, cost in self._priced)

    def _pivot_to_optimum(self, most_pivots: int, cutoff: float) -> list[float] | None:
        self._proved_infeasible = False
        bounded = math.isfinite(cutoff)
        if bounded and self.objective >= cutoff:
            self.cut_off = True
            return None
        for _ in range(most_pivots):
            leaving = self._leaving()
            if leaving is None:
                return self.value
            r, bound = leaving
            gone = self.basis[r]
            q = self._entering(r, self.value[gone] < bound)
            if q is None:
                self._proved_infeasible = True
                return None
            # The pivot raises the cost by the entering column's reduced cost times its step:
            # where that reaches the cutoff, the pivot (the dearest part of a solve) is spared.
            step = (self.value[gone] - bound) / self.rows[r][q]
            if bounded and self.objective + abs(self.reduced[q] * step) >= cutoff:
                self.cut_off = True
                return None
            self._pivot(r, q, bound, step)
        return None

    def _pivot(self, r: int, q: int, bound: float, step: float) -> None:
        """Column `q` into the basis for row `r`'s, which leaves at `bound`; `q` moves by
        `step`."""
        self.pivots += 1
        gone = self.basis[r]
        value, basis = self.value, self.basis
        moving = [(i, row[q]) for i, row in enumerate(self.rows) if row[q]]
        for i, entry in moving:
            value[basis[i]] -= step * entry
        value[q] += step
        value[gone] = bound
        self.at_upper[gone] = bound == self.upper[gone] and bound != self.lower[gone]
        pivot_tableau(self.rows, self.reduced, r, q, [i for i, _ in moving], _ZERO)
        self.position[gone], self.position[q] = -1, r
        basis[r] = q

    def _holds(self, values: list[float]) -> bool:
        """Whether the values keep every bound, and (every `_CHECKED_PIVOTS` pivots, against
        the drift of rounding) every row of the programme as given."""
        lower, upper = self.lower, self.upper
        for j in self.basis:
            if not lower[j] - _RESIDUAL <= values[j] <= upper[j] + _RESIDUAL:
                return False
        if self.pivots < self._checked + _CHECKED_PIVOTS:
            return True
        self._checked = self.pivots
        count = self.columns
        for r, (columns, weights, bound) in enumerate(self._sparse):
            used = sum(map(mul, weights, map(values.__getitem__, columns)))
            slack, size = bound - used, _RESIDUAL * (1.0 + abs(bound) + abs(used))
            if not lower[count + r] - size <= slack <= upper[count + r] + size:
                return False
        return True
