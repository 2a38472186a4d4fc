"""The small LP solver of the site planner, against HiGHS on random programmes."""

import math

import highspy
from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np
import pytest

from custom_components.ev_flex.core.planner.simplex import Row, solve_lp


def _highs(
    costs: list[float], rows: list[Row], upper: list[float]
) -> tuple[float, list[float]] | None:
    """HiGHS's optimum and row duals; None when it finds none."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    count = len(costs)
    inf = highspy.kHighsInf
    highs.addVars(count, np.zeros(count), np.array([u if math.isfinite(u) else inf for u in upper]))
    highs.changeColsCost(count, np.arange(count, dtype=np.int32), np.array(costs))
    for row in rows:
        index = np.array(list(row.coefficients), dtype=np.int32)
        values = np.array(list(row.coefficients.values()), dtype=float)
        highs.addRow(row.bound if row.equal else -inf, row.bound, len(index), index, values)
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return highs.getInfo().objective_function_value, list(highs.getSolution().row_dual)


@st.composite
def programmes(draw: st.DrawFn) -> tuple[list[float], list[Row], list[float]]:
    count = draw(st.integers(1, 8))
    number = st.floats(-2.0, 2.0, allow_nan=False).map(lambda x: round(x, 3))
    costs = draw(st.lists(number, min_size=count, max_size=count))
    upper = draw(
        st.lists(st.one_of(st.just(math.inf), st.floats(0.0, 3.0)), min_size=count, max_size=count)
    )
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        used = draw(st.sets(st.integers(0, count - 1), min_size=1))
        coefficients = {j: draw(number) for j in sorted(used)}
        rows.append(Row(coefficients, draw(st.floats(-2.0, 3.0)), draw(st.booleans())))
    return costs, rows, upper


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(programmes())
def test_the_optimum_and_its_duals_match_highs(
    programme: tuple[list[float], list[Row], list[float]],
) -> None:
    costs, rows, upper = programme
    reference = _highs(costs, rows, upper)
    if reference is None:
        with pytest.raises(ValueError, match=r"infeasible|unbounded"):
            solve_lp(costs, rows, upper)
        return
    result = solve_lp(costs, rows, upper)
    assert result.objective == pytest.approx(reference[0], rel=1e-7, abs=1e-7)
    for row in rows:
        lhs = sum(value * result.values[j] for j, value in row.coefficients.items())
        assert lhs <= row.bound + 1e-7
        if row.equal:
            assert lhs >= row.bound - 1e-7
    assert all(-1e-9 <= x <= u + 1e-9 for x, u in zip(result.values, upper, strict=True))
    # Where the dual is unique a small change of a bound moves the optimum by the dual.
    step = 1e-6
    for index, row in enumerate(rows):
        moved = list(rows)
        moved[index] = Row(row.coefficients, row.bound + step, row.equal)
        after = _highs(costs, moved, upper)
        before_step = [*rows[:index], Row(row.coefficients, row.bound - step, row.equal)]
        below = _highs(costs, [*before_step, *rows[index + 1 :]], upper)
        if after is None or below is None:
            continue
        right = (after[0] - reference[0]) / step
        left = (reference[0] - below[0]) / step
        if abs(right - left) < 1e-6:
            assert result.duals[index] == pytest.approx(right, abs=1e-5)


def test_infeasible_and_unbounded_programmes_are_refused() -> None:
    with pytest.raises(ValueError, match="infeasible"):
        solve_lp([1.0], [Row({0: 1.0}, -1.0)], [math.inf])
    with pytest.raises(ValueError, match="unbounded"):
        solve_lp([-1.0], [Row({0: -1.0}, 0.0)], [math.inf])


def test_a_programme_needing_more_steps_than_allowed_is_refused() -> None:
    costs = [-1.0, -1.0, -1.0]
    rows = [Row({0: 1.0, 1: 2.0, 2: 1.0}, 4.0), Row({0: 2.0, 1: 1.0, 2: 3.0}, 5.0)]
    assert solve_lp(costs, rows, [math.inf] * 3).objective == pytest.approx(-3.0)
    with pytest.raises(ValueError, match="step limit"):
        solve_lp(costs, rows, [math.inf] * 3, steps=1)
