"""The warm dual simplex of the slots' search, against HiGHS on random programmes whose bounds
change between solves."""

from collections.abc import Iterator
import math

import highspy
from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
import pytest

from custom_components.ev_flex.core.planner.dual import WarmProgramme
from custom_components.ev_flex.core.planner.simplex import Row

_Bounds = list[tuple[float, float]]
# Costs, rows, upper bounds and changes of bounds (column, lower, upper).
_Programme = tuple[list[float], list[Row], list[float], list[tuple[int, float, float]]]


def _highs(costs: list[float], rows: list[Row], columns: _Bounds, slacks: _Bounds) -> float | None:
    """HiGHS's optimum of `rows . x + s = bound` with both bounded; None when it finds none."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    count, inf = len(costs), highspy.kHighsInf
    lower = np.array([low for low, _ in columns])
    upper = np.array([high if math.isfinite(high) else inf for _, high in columns])
    highs.addVars(count, lower, upper)
    highs.changeColsCost(count, np.arange(count, dtype=np.int32), np.array(costs))
    for row, (low, high) in zip(rows, slacks, strict=True):
        index = np.array(list(row.coefficients), dtype=np.int32)
        values = np.array(list(row.coefficients.values()), dtype=float)
        # bound - high <= row . x <= bound - low
        floor = row.bound - high if math.isfinite(high) else -inf
        highs.addRow(floor, row.bound - low, len(index), index, values)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return float(highs.getInfo().objective_function_value)


@st.composite
def changing_programmes(draw: st.DrawFn) -> _Programme:
    """Costs, rows and upper bounds (finite wherever the cost is below 0), and bound changes of
    columns and slacks to solve after in turn."""
    count = draw(st.integers(1, 8))
    number = st.floats(-2.0, 2.0, allow_nan=False).map(lambda x: round(x, 3))
    costs = draw(st.lists(number, min_size=count, max_size=count))
    bounded = st.floats(0.0, 3.0).map(lambda x: round(x, 3))
    upper = [
        draw(bounded) if cost < 0.0 else draw(st.sampled_from([math.inf, 2.0])) for cost in costs
    ]
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        used = draw(st.sets(st.integers(0, count - 1), min_size=1))
        coefficients = {j: draw(number) for j in sorted(used)}
        bound = round(draw(st.floats(-2.0, 3.0)), 3)
        rows.append(Row(coefficients, bound, draw(st.booleans())))
    changes = []
    for _ in range(draw(st.integers(1, 6))):
        column = draw(st.integers(0, count + len(rows) - 1))
        low = round(draw(st.floats(0.0, 1.0)), 3)
        high = low + draw(st.sampled_from([0.0, 0.5, 2.0]))
        if column >= count and not rows[column - count].equal:
            high = draw(st.sampled_from([high, math.inf]))
        changes.append((column, low, high))
    return costs, rows, upper, changes


def _changed_in_turn(
    programme: _Programme,
) -> Iterator[tuple[WarmProgramme, float | None, _Bounds, _Bounds]]:
    """The warm programme after each change of bounds in turn, with HiGHS's optimum under
    those bounds and the columns' and slacks' bounds."""
    costs, rows, upper, changes = programme
    count = len(costs)
    warm = WarmProgramme(costs, rows, [0.0] * count, upper)
    columns = [(0.0, high) for high in upper]
    slacks = [(0.0, 0.0 if row.equal else math.inf) for row in rows]
    for column, low, high in [(0, 0.0, upper[0]), *changes]:
        if column < count:
            columns[column] = (low, high)
        else:
            slacks[column - count] = (low, high)
        warm.set_bounds(column, low, high)
        yield warm, _highs(costs, rows, columns, slacks), columns, slacks


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(changing_programmes())
def test_each_solve_after_a_change_of_bounds_matches_highs(programme: _Programme) -> None:
    costs, rows = programme[0], programme[1]
    for warm, reference, columns, slacks in _changed_in_turn(programme):
        values = warm.solve(500)
        if reference is None:
            assert values is None
            continue
        assert values is not None
        objective = sum(c * x for c, x in zip(costs, values, strict=True))
        assert objective == pytest.approx(reference, rel=1e-7, abs=1e-7)
        for (least, most), x in zip(columns, values, strict=True):
            assert least - 1e-9 <= x <= most + 1e-9
        for row, (least, most) in zip(rows, slacks, strict=True):
            slack = row.bound - sum(a * values[j] for j, a in row.coefficients.items())
            assert least - 1e-7 <= slack <= most + 1e-7


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(changing_programmes())
def test_a_cutoff_below_the_optimum_stops_the_solve_and_the_next_solve_still_finds_it(
    programme: _Programme,
) -> None:
    """Each dual pivot's cost is a lower bound of the optimum: a solve stops once it reaches
    the cutoff, leaving a basis the next solve goes on from; a cutoff above the optimum
    changes nothing."""
    costs = programme[0]
    for warm, reference, _, _ in _changed_in_turn(programme):
        if reference is None:
            assert warm.solve(500, cutoff=0.0) is None
            continue
        margin = 1e-6 * (1.0 + abs(reference))
        assert warm.solve(500, cutoff=reference - 1e3 * margin) is None
        assert warm.cut_off
        values = warm.solve(500, cutoff=reference + margin)
        assert values is not None
        assert not warm.cut_off
        objective = sum(c * x for c, x in zip(costs, values, strict=True))
        assert objective == pytest.approx(reference, rel=1e-7, abs=1e-7)
        assert warm.objective == pytest.approx(reference, rel=1e-7, abs=1e-7)


def test_a_change_that_leaves_a_column_dual_infeasible_solves_from_the_slacks() -> None:
    """A slack at its upper bound, where its reduced cost is below 0, released to no upper
    bound can't keep the basis: the tableau is built again, and the optimum is still found."""
    # min x  s.t.  x + s = 1 with s fixed at 0 (x = 1), then s >= 0 (x = 0).
    warm = WarmProgramme([1.0], [Row({0: 1.0}, 1.0, equal=True)], [0.0], [2.0])
    assert warm.solve(10) == pytest.approx([1.0])
    warm.set_bounds(1, 0.0, math.inf)
    assert warm.stale
    assert warm.solve(10) == pytest.approx([0.0])


def test_a_column_below_zero_cost_without_an_upper_bound_is_refused() -> None:
    with pytest.raises(ValueError, match="upper bound"):
        WarmProgramme([-1.0], [Row({0: 1.0}, 1.0)], [0.0], [math.inf])


def test_a_solve_needing_more_pivots_than_allowed_has_no_solution() -> None:
    rows = [Row({0: 1.0, 1: 1.0}, -1.0), Row({0: 1.0, 1: -1.0}, -3.0)]
    warm = WarmProgramme([1.0, 1.0], rows, [-5.0, -5.0], [5.0, 5.0])
    assert warm.solve(0) is None
    # min x0 + x1 with x1 at least x0 + 3: x0 at its lower bound, x1 three above.
    assert warm.solve(10) == pytest.approx([-5.0, -2.0])
