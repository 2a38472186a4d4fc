"""Property tests: the planner's plan is feasible and exactly as cheap as a MILP on random cases.

Set EV_FLEX_PLANNER_EXAMPLES to run more examples (for example 5000) when changing the solver.
"""

from datetime import datetime, timedelta, timezone
import os
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.ev_flex.core.planner import PlanRequest, plan

from .planner_reference import check_against_reference

EXAMPLES = int(os.environ.get("EV_FLEX_PLANNER_EXAMPLES", "1000"))
OFFSETS = [timedelta(hours=h) for h in (-5, 0, 1, 2, 5.5)]

prices_strategy = st.one_of(
    st.floats(-0.5, 3.0, allow_nan=False),
    st.sampled_from([-0.2, 0.0, 0.1, 0.25, 0.4]),
)


@st.composite
def tapers(draw: st.DrawFn) -> list[list[float]]:
    """A non-increasing concave curve that runs to 100 % (or is flat)."""
    # Whole half-percent points keep every segment wide enough for exact slopes.
    start = draw(st.integers(60, 190)) / 2.0
    cuts = draw(st.lists(st.integers(int(start * 2) + 1, 199), max_size=2, unique=True))
    socs = sorted({start, *(c / 2.0 for c in cuts), 100.0})
    # Slopes (kW per %) getting steeper.
    slopes = sorted(
        (draw(st.floats(0.0, 1.5)) for _ in range(len(socs) - 1)),
    )
    end_kw = draw(st.floats(0.0, 6.0))
    points = [[100.0, end_kw]]
    kw = end_kw
    for i in range(len(socs) - 1, 0, -1):
        kw += slopes[i - 1] * (socs[i] - socs[i - 1])
        points.append([socs[i - 1], kw])
    points.reverse()
    return points


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    zone = timezone(draw(st.sampled_from(OFFSETS)))
    base = datetime(2026, 3, 10, 18, 0, tzinfo=zone)
    uniform = draw(st.booleans())
    count = draw(st.integers(1, 40))
    if uniform:
        lengths = [draw(st.sampled_from([15, 30, 60]))] * count
    else:
        lengths = draw(st.lists(st.sampled_from([15, 30, 60]), min_size=count, max_size=count))
    prices = []
    time = base
    for minutes in lengths:
        end = time + timedelta(minutes=minutes)
        item: dict[str, Any] = {
            "start": time.isoformat(),
            "end": end.isoformat(),
            "import": draw(prices_strategy),
        }
        if draw(st.integers(0, 4)) > 0:
            item["export"] = draw(prices_strategy)
        prices.append(item)
        time = end
    horizon_end = time
    # now: inside the first slot, or in a later one so that earlier slots are in the past.
    first = draw(st.integers(0, min(2, count - 1)))
    slot_start = datetime.fromisoformat(prices[first]["start"])
    now = slot_start + timedelta(seconds=draw(st.integers(0, lengths[first] * 60 - 1)))
    capacity = draw(st.floats(5.0, 100.0))
    request: dict[str, Any] = {
        "now": now.isoformat(),
        "battery": {
            "capacity_kwh": capacity,
            "soc_pct": draw(st.floats(0.0, 100.0)),
            "max_soc_pct": draw(st.floats(40.0, 100.0)),
        },
        "charge": {
            "max_kw": draw(st.one_of(st.just(0.0), st.floats(1.0, 22.0))),
            "efficiency": draw(st.floats(0.7, 1.0)),
        },
        "prices": prices,
    }
    if draw(st.booleans()):
        request["charge"]["taper"] = draw(tapers())
    if draw(st.integers(0, 3)) > 0:
        request["discharge"] = {
            "max_kw": draw(st.one_of(st.just(0.0), st.floats(1.0, 15.0))),
            "efficiency": draw(st.floats(0.7, 1.0)),
            "min_soc_pct": draw(st.floats(0.0, 60.0)),
            "wear_cost_per_kwh": draw(st.floats(0.0, 0.1)),
        }
    span = int((horizon_end - now).total_seconds() // 60)
    request["targets"] = [
        {
            "by": (now + timedelta(minutes=draw(st.integers(0, span + 600)))).isoformat(),
            "soc_pct": draw(st.floats(0.0, 100.0)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    if draw(st.booleans()):
        request["protective_soc_pct"] = draw(st.floats(0.0, 50.0))
    return request


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(requests())
def test_plan_matches_milp(data: dict[str, Any]) -> None:
    request = PlanRequest.from_dict(data)
    result = plan(request)
    check_against_reference(request, result)
    assert PlanRequest.from_dict(request.to_dict()) == request
