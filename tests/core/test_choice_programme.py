"""The slots' search solves every choice on one programme kept warm: a choice solved after
others must cost what it costs solved first."""

from functools import cache
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ev_flex.core.planner import SiteRequest, patterns
from custom_components.ev_flex.core.planner.choice_programme import SHORT_COST
from custom_components.ev_flex.core.planner.multi import _house_cost
from custom_components.ev_flex.core.planner.site import house_kw, prepare

# Two V2G cars with minimums whose tapers fall below them, on 47 quarters: every way of
# charging (`patterns._ways`) occurs.
_FIXTURE = (
    Path(__file__).parents[1] / "fixtures" / "planner" / "two_tapering_v2g_cars_47_quarters.json"
)


def _problem() -> patterns._Problem:
    request = SiteRequest.from_dict(json.loads(_FIXTURE.read_text()))
    singles = [request.vehicle_request(i) for i in range(len(request.vehicles))]
    cars = [prepare(single) for single in singles]
    assert all(car is not None for car in cars)
    prepared = [car for car in cars if car is not None]
    return patterns._Problem.of(prepared, house_kw(singles[0], prepared[0].horizon))


_PROBLEM = _problem()
_SLOTS = len(_PROBLEM.base)
_OPEN = [[patterns._OPEN] * _SLOTS for _ in range(2)]


def _cost(problem: patterns._Problem, branches: list[list[int]]) -> float | None:
    """The cost of the powers of the choice whose slots charge as `branches` say (`_OFF`, a
    way of charging, or `_OPEN` as in a branch and bound's node), solved on `problem`'s
    programme; None without a solution."""
    choice = [[branch != patterns._OFF for branch in own] for own in branches]
    solved = patterns._solved(problem, choice, branches)
    if solved is None:
        return None
    return _house_cost(problem.cars, problem.base, solved.flows) + SHORT_COST * solved.short_kwh


@cache
def _start() -> list[list[int]]:
    """A choice as a search meets one: the slots where each car charges at least its minimum
    with every slot open, each as the energies there say."""
    solved = patterns._solved(_PROBLEM, [[True] * _SLOTS] * 2, _OPEN)
    assert solved is not None
    choice = [
        [pc >= least for pc in pcs]
        for (pcs, _), least in zip(solved.flows, _PROBLEM.least, strict=True)
    ]
    branches = patterns._branches(_PROBLEM, choice, solved.flows)
    return [
        [branch if on else patterns._OFF for on, branch in zip(ons, own, strict=True)]
        for ons, own in zip(choice, branches, strict=True)
    ]


# A change: a few slots (car, slot) that change whether the car charges there.
_CHANGES = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, _SLOTS - 1)), min_size=1, max_size=3
)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.lists(_CHANGES, min_size=2, max_size=5))
def test_a_choice_solved_after_others_costs_what_it_costs_solved_first(
    changes: list[list[tuple[int, int]]],
) -> None:
    """Changes of a few slots of the plan's choice, as the descents make them, each solved
    after the last and on a programme of its own."""
    warm = _problem()
    assert _cost(warm, _OPEN) is not None
    for change in changes:
        branches = [list(own) for own in _start()]
        for k, t in change:
            branches[k][t] = (
                patterns._AT_LEAST if branches[k][t] == patterns._OFF else patterns._OFF
            )
        after_others = _cost(warm, branches)
        first = _cost(_problem(), branches)
        if first is None:
            assert after_others is None
            continue
        assert after_others is not None
        assert after_others == pytest.approx(first, rel=1e-7, abs=1e-6)
