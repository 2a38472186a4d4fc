"""An hour's cost under the capacity tariff (`peak.hull`) against HiGHS: at every T, the
cheapest way its pieces move T within the hour's import budget, as a linear programme."""

from itertools import pairwise

import highspy
from hypothesis import HealthCheck, given, settings, strategies as st
import numpy as np

from custom_components.ev_flex.core.planner.peak import Piece, hull

# Import per kWh of T: solar surplus, covering the house by discharge, and grid charging at 90 %.
_RATES = (0.0, 0.9, 1.0 / 0.9)
_TOLERANCE = 1e-9


def _cheapest(pieces: list[Piece], budget: float, total: float) -> float:
    """HiGHS's cheapest cost of moving exactly `total` kWh of T within `budget` kWh of import."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("primal_feasibility_tolerance", 1e-10)
    highs.setOptionValue("dual_feasibility_tolerance", 1e-10)
    count = len(pieces)
    columns = np.arange(count, dtype=np.int32)
    highs.addVars(count, np.zeros(count), np.array([p.width for p in pieces]))
    highs.changeColsCost(count, columns, np.array([p.cost for p in pieces]))
    highs.addRow(total, total, count, columns, np.ones(count))
    rates = np.array([p.rate for p in pieces])
    highs.addRow(-highspy.kHighsInf, budget, count, columns, rates)
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return float(highs.getInfo().objective_function_value)


_PIECE = st.builds(
    Piece,
    slot=st.integers(0, 3),
    width=st.one_of(st.just(1.0), st.floats(0.01, 3.0)),
    # Rounded costs give ties, where the order of equal pieces matters.
    cost=st.one_of(st.sampled_from([-0.2, 0.0, 0.1, 0.3]), st.floats(-0.3, 0.6)),
    rate=st.sampled_from(_RATES),
    charging=st.booleans(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(_PIECE, min_size=1, max_size=12),
    # HiGHS's own tolerances don't resolve a budget of a few nWh; the hull's are finer.
    budget=st.one_of(st.just(0.0), st.floats(1e-6, 6.0), st.just(100.0)),
)
def test_hour_hull_is_the_cheapest_cost_at_every_move(pieces: list[Piece], budget: float) -> None:
    """Every vertex is feasible and as cheap as HiGHS finds, and so is every point between two
    vertices: a vertex missed where the budget starts to bind would leave a chord above the
    cost there."""
    vertices = hull(pieces, budget)
    assert vertices[0][0] == 0.0
    for total, cost, progress in vertices:
        moved = list(zip(progress, pieces, strict=True))
        assert all(-_TOLERANCE <= y <= p.width + _TOLERANCE for y, p in moved)
        assert abs(sum(progress) - total) <= _TOLERANCE
        assert abs(sum(y * p.cost for y, p in moved) - cost) <= _TOLERANCE
        assert sum(y * p.rate for y, p in moved) <= budget + _TOLERANCE
        assert abs(_cheapest(pieces, budget, total) - cost) <= _TOLERANCE
    for (t0, c0, _), (t1, c1, _) in pairwise(vertices):
        middle = (t0 + t1) / 2.0
        assert abs(_cheapest(pieces, budget, middle) - (c0 + c1) / 2.0) <= _TOLERANCE
    # Nothing moves further within the budget.
    furthest = vertices[-1][0]
    free = sum(p.width for p in pieces if p.rate == 0.0)
    paid = sorted((p for p in pieces if p.rate > 0.0), key=lambda p: p.rate)
    left, reach = budget, free
    for piece in paid:
        take = min(piece.width, left / piece.rate)
        reach += take
        left -= take * piece.rate
    assert abs(furthest - reach) <= 1e-7
