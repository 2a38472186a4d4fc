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


def _problem(fixture: Path = _FIXTURE) -> patterns._Problem:
    request = SiteRequest.from_dict(json.loads(fixture.read_text()))
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


# A switched car at 61 % whose taper starts at 80 %, and a car with a 2.17 kW minimum, on 46
# quarters: a dozen quarters take the first into its taper.
_TAPERED = _problem(_FIXTURE.with_name("two_cars_switched_at_the_fuse_46_quarters.json"))
_TAPERED_SLOTS = len(_TAPERED.base)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.booleans(), min_size=2 * _TAPERED_SLOTS, max_size=2 * _TAPERED_SLOTS),
    st.lists(st.floats(0.0, 1.0), min_size=_TAPERED_SLOTS, max_size=_TAPERED_SLOTS),
)
def test_the_lowest_energies_of_a_choice_put_no_slot_into_a_taper_it_can_miss(
    chosen: list[bool], shares: list[float]
) -> None:
    """Any plan of a choice that charges at least what `_least_from` allows in its slots, and
    never discharges, holds at least the lowest energies (`_lowest_flows`); so where those put
    a car into its taper (`_in_sure_tapers` reads a line there), so does the plan."""
    problem, slots = _TAPERED, _TAPERED_SLOTS
    choice = [chosen[:slots], chosen[slots:]]
    lowest = patterns._lowest_flows(problem, choice)
    at_least = [[patterns._AT_LEAST] * slots for _ in range(2)]
    sure = patterns._in_sure_tapers(problem, choice, at_least)
    for k, car in enumerate(problem.cars):
        least, gain = problem.least[k], car.request.charge.efficiency
        energy = lowest_energy = car.start_kwh
        for t, hours in enumerate(car.horizon.hours):
            assert energy >= lowest_energy - 1e-9
            if sure[k][t] >= 0:
                assert choice[k][t]
                assert car.curve.power_limit(energy) < least
            if choice[k][t]:
                low = max(0.0, patterns._least_from(problem, k, hours, energy))
                high = min(
                    car.curve.power_limit(energy), (problem.full[k] - energy) / (hours * gain)
                )
                energy += hours * gain * (low + shares[t] * max(0.0, high - low))
            lowest_energy += hours * gain * lowest[k][0][t]
    # The switched car reaches its taper in some choices: the reading is exercised.
    assert any(way >= 0 for way in sure[0]) or sum(choice[0]) < 8
