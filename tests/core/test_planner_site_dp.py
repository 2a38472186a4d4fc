"""One step of the house planner's dynamic programming: the taper's fast path against the
general path, which takes every window and envelope explicitly."""

from bisect import bisect_right
from itertools import pairwise
import math

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ev_flex.core.planner.curve import ChargeCurve, SlotReach
from custom_components.ev_flex.core.planner.site_dp import (
    INFEASIBLE,
    Stage,
    general_step,
    optimal_site_path,
    taper_step,
)

CAPACITY = 40.0


def _values(xs: list[float], ss: list[float]) -> list[float]:
    values = [0.0]
    for (x1, x2), slope in zip(pairwise(xs), ss, strict=True):
        values.append(values[-1] + slope * (x2 - x1))
    return values


def _at(xs: list[float], vs: list[float], x: float) -> float:
    index = min(max(bisect_right(xs, x) - 1, 0), len(xs) - 2)
    x1, x2 = xs[index], xs[index + 1]
    return vs[index] + (vs[index + 1] - vs[index]) * (x - x1) / (x2 - x1)


@st.composite
def convex_functions(draw: st.DrawFn, upper: float) -> tuple[list[float], list[float]]:
    """V_{b+1}: a convex piecewise-linear function on part of [0, upper], in slope form."""
    count = draw(st.integers(1, 8))
    raw = draw(st.lists(st.floats(0.0, upper), min_size=count + 1, max_size=count + 1))
    xs: list[float] = []
    for x in sorted(raw):
        if not xs or x - xs[-1] > 1e-3:
            xs.append(x)
    if len(xs) < 2:
        xs = [0.0, upper]
    # Mostly falling: the battery is worth more full, as before a departure.
    slopes = draw(st.lists(st.floats(-1.5, 0.5), min_size=len(xs) - 1, max_size=len(xs) - 1))
    return xs, sorted(slopes)


@st.composite
def tapered_stages(draw: st.DrawFn, upper: float) -> Stage:
    """A slot whose reach tapers, with a convex house cost: solar first, then import; the
    house's own load first, then export."""
    max_kw = draw(st.floats(1.0, 11.0))
    knee = draw(st.floats(5.0, 80.0))
    taper = ((knee, max_kw), (100.0, draw(st.floats(0.0, max_kw * 0.9))))
    curve = ChargeCurve.build(CAPACITY, max_kw, taper, draw(st.floats(0.8, 1.0)), upper)
    hours = draw(st.sampled_from([0.25, 1.0]))
    reach = SlotReach.build(curve, hours)
    imported = draw(st.floats(0.05, 0.6))
    charge: tuple[tuple[float, float], ...] = ((math.inf, imported),)
    if draw(st.integers(0, 2)):
        solar = draw(st.floats(-0.1, imported))
        # Solar for part of what the slot can take, so that the taper crosses it.
        surplus = draw(st.floats(0.05, 1.0)) * max_kw * hours * curve.efficiency
        charge = ((surplus, solar), (math.inf, imported))
    discharge: tuple[tuple[float, float], ...] = ()
    if draw(st.booleans()):
        # Discharging never pays back the cheapest charge: the slot's cost stays convex.
        own = draw(st.floats(-charge[0][1], 0.5))
        discharge = ((draw(st.floats(0.1, 6.0)) * hours, own),)
        if draw(st.booleans()):
            end = discharge[0][0] + draw(st.floats(0.1, 6.0)) * hours
            discharge += ((end, draw(st.floats(own, 0.6))),)
    return Stage(reach, True, charge, discharge, gain=hours * curve.efficiency, curve=curve)


_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _assert_same_step(
    xs: list[float], ss: list[float], stage: Stage, new_low: float, new_high: float
) -> None:
    """The fast path gives the general path's V_b: same domain, same values, convex."""
    assert stage.tapers
    assert stage.is_convex()
    fast_x, fast_s = taper_step(xs, ss, stage, new_low, new_high)
    slow_x, slow_v = general_step(xs, _values(xs, ss), stage, new_low, new_high)

    feasible = [x for x, v in zip(slow_x, slow_v, strict=True) if v < INFEASIBLE / 2.0]
    if len(fast_x) == 1:
        assert not feasible or max(feasible) - min(feasible) < 1e-6
        return
    # The same domain: every energy some move can leave from, within the bounds.
    assert fast_x[0] == pytest.approx(min(feasible), abs=1e-7)
    assert fast_x[-1] == pytest.approx(max(feasible), abs=1e-7)
    assert all(b >= a - 1e-9 for a, b in pairwise(fast_s)), "V_b stays convex"
    # The same values, up to the constant the slope form leaves out.
    fast_v = _values(fast_x, fast_s)
    offset = _at(slow_x, slow_v, fast_x[0])
    for x in sorted({*fast_x, *(x for x in slow_x if fast_x[0] <= x <= fast_x[-1])}):
        fast = _at(fast_x, fast_v, x) + offset
        slow = _at(slow_x, slow_v, x)
        assert math.isclose(fast, slow, rel_tol=1e-9, abs_tol=1e-7), (x, fast, slow)


def _stage(
    taper: tuple[tuple[float, float], ...],
    charge: tuple[tuple[float, float], ...],
    discharge: tuple[tuple[float, float], ...] = (),
    hours: float = 1.0,
) -> Stage:
    curve = ChargeCurve.build(CAPACITY, 11.0, taper, 1.0, CAPACITY)
    reach = SlotReach.build(curve, hours)
    return Stage(reach, True, charge, discharge, gain=hours, curve=curve)


TAPER = ((50.0, 11.0), (100.0, 1.0))


@pytest.mark.parametrize(
    ("stage", "xs", "ss"),
    [
        # The taper falls through the end of the solar surplus (6 kWh at 30 kWh): there the
        # last kWh's cost drops from the import price to the export price.
        (_stage(TAPER, ((6.0, 0.0), (math.inf, 0.3))), [0.0, 40.0], [-1.0]),
        # Charging to the top pays below 25 kWh only; discharging pays above 32 kWh.
        (
            _stage(TAPER, ((math.inf, 0.3),), ((2.0, -0.25), (8.0, -0.1))),
            [0.0, 25.0, 32.0, 40.0],
            [-0.8, -0.2, 0.0],
        ),
        # A taper at 0 kW throughout: the car can only idle, or discharge when that pays.
        (_stage(((50.0, 0.0), (100.0, 0.0)), ((math.inf, 0.2),)), [10.0, 40.0], [-0.5]),
        (
            _stage(((50.0, 0.0), (100.0, 0.0)), ((math.inf, 0.2),), ((4.0, -0.1),)),
            [10.0, 30.0, 40.0],
            [-0.5, 0.3],
        ),
        # The taper ends at 0 kW: a full battery can't take more.
        (_stage(((80.0, 11.0), (100.0, 0.0)), ((math.inf, 0.2),)), [10.0, 40.0], [-0.5]),
        # A quarter hour with solar surplus, exporting below its price.
        (
            _stage(TAPER, ((1.0, 0.05), (math.inf, 0.3)), ((0.5, -0.04),), hours=0.25),
            [5.0, 20.0, 30.0, 38.0],
            [-0.6, -0.3, 0.4],
        ),
    ],
)
def test_the_taper_fast_path_on_fixed_cases(stage: Stage, xs: list[float], ss: list[float]) -> None:
    _assert_same_step(xs, ss, stage, 0.0, CAPACITY)


@_SETTINGS
@given(st.data())
def test_the_taper_fast_path_matches_the_general_path(data: st.DataObject) -> None:
    upper = data.draw(st.floats(10.0, CAPACITY))
    xs, ss = data.draw(convex_functions(upper))
    stage = data.draw(tapered_stages(upper))
    new_low = data.draw(st.one_of(st.just(0.0), st.floats(0.0, upper)))
    new_high = data.draw(st.one_of(st.just(upper), st.floats(new_low, upper)))
    _assert_same_step(xs, ss, stage, new_low, new_high)


def test_a_path_no_move_can_keep_in_range_stays_one_the_car_can_follow() -> None:
    # Bounds that ask more than the slots can charge (11 kWh an hour from 5 kWh to 40 kWh):
    # no move reaches the next range. The path charges all it can; jumping to the range
    # would be a plan no car follows, and its cost would be no real plan's cost.
    stage = _stage((), ((math.inf, 0.2),))
    path = optimal_site_path([stage, stage], 5.0, [0.0, 0.0, 40.0], [0.0] * 3, [5.0, 40.0, 40.0])
    assert path == pytest.approx([16.0, 27.0])
