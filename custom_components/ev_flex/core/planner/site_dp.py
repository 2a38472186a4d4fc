"""Dynamic programming over battery energy for a car in a house: segmented slot costs.

With a house around the car, what a kWh costs depends on how much the car moves in the slot: the
first kWh charged from solar surplus costs the export price it no longer earns, the rest the
import price; the first kWh discharged saves the import price of the house's own load, the rest
earns the export price. So a slot's cost is piecewise linear in the energy moved, in segments
(`Stage.charge`, `Stage.discharge`), and the charging power may have a minimum (`min_kw`).

`V_b(E) = min over y of cost_b(y - E) + V_{b+1}(y)`, exactly as in `dp.py`:

- Fast path: when `V_{b+1}` is convex, the slot's cost convex (segment costs rising, charging
  and discharging in one slot never pays) and there is no minimum, `V_b` is convex. With a flat
  reach (no taper) it is the infimal convolution of two convex functions: their slopes merged
  in order (`merge_step`). With a taper, `{(E, y): y <= top(E)}` is still convex (`top` is
  concave); `V_b` is that merge where the best move lies below `top(E)`, and the cost of
  charging to `top(E)` where it doesn't (`taper_step`).
- General path: each segment is a window of `y` with a linear cost, whose exact minimum over the
  window is `dp._window_minimum`; `V_b` is the lower envelope of the segments and idling.
  Energies no move can leave feasible get a prohibitive cost (`INFEASIBLE`).
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise, repeat
import math

from .curve import ChargeCurve, SlotReach
from .dp import (
    _clip_slopes,
    _evaluate,
    _simplify,
    _slopes_if_convex,
    _sorted_points,
    _values_at,
    _values_from_slopes,
    _window_minimum,
)

# Breakpoints closer than this (kWh) are merged.
_TINY_KWH = 1e-9
# Rounding (kW) of a charging power worked out from its energies: what a slot may miss a
# tapered minimum by.
_TINY_KW = 1e-10
# Float noise (kWh) between two ways of working out one energy.
_NOISE_KWH = 1e-12
# Width (kWh) given to a step in a value function.
_JUMP_KWH = 1e-7
# The cost of an energy no plan can leave from; far above any real cost, far below overflow.
INFEASIBLE = 1e9
# A window without bounds of its own (`Stage.window_bounds`).
_UNBOUNDED = (-math.inf, math.inf)


@dataclass(frozen=True, slots=True)
class Stage:
    """One slot in battery-energy terms, with the house's segmented costs."""

    reach: SlotReach
    can_charge: bool
    # (end of the segment in kWh added to the battery, cost per kWh); the last end is +inf.
    charge: tuple[tuple[float, float], ...]
    # (end of the segment in kWh taken out of the battery, cost per kWh); empty: no discharge.
    discharge: tuple[tuple[float, float], ...]
    # Semi-continuous minimum: charging adds at least gain * min(min_kw, curve limit) kWh.
    min_kw: float = 0.0
    gain: float = 0.0
    curve: ChargeCurve | None = None
    # The least kWh the slot must take out of the battery (to keep an hour's import under a
    # cap): no charging, no idling. +inf when the slot can't discharge enough.
    forced_kwh: float = 0.0
    # Charge moves as windows (start, end, cost per kWh, cost at start) in place of `charge`,
    # for a stage whose cost isn't one convex curve (several slots with a minimum power).
    windows: tuple[tuple[float, float, float, float], ...] = ()
    # Charge moves, as windows, that are only made when they end at the upper limit (the
    # last charging slot of an hour may top the battery up below the minimum power).
    fill_windows: tuple[tuple[float, float, float, float], ...] = ()
    # Per window, the lowest energy it may start from and the highest it may end at (an hour
    # that charges and discharges must keep within the battery's limits inside it); empty:
    # no bounds but the stage's own.
    window_bounds: tuple[tuple[float, float], ...] = ()
    # False for a stage that must move (an hour the house alone takes over its import budget,
    # which the car must discharge for): its windows are its only moves.
    idles: bool = True

    @property
    def tapers(self) -> bool:
        """True when the slot charges and how far depends on the energy (the taper)."""
        return self.can_charge and self.forced_kwh <= 0.0 and self.reach.flat_shift is None

    @property
    def discharge_kwh(self) -> float:
        return self.discharge[-1][0] if self.discharge else 0.0

    @property
    def deepest_kwh(self) -> float:
        """The most the stage may take out of the battery, its windows' net moves included."""
        lowest = min((start for start, _, _, _ in self.windows), default=0.0)
        return max(self.discharge_kwh, -lowest)

    def top(self, energy: float) -> float:
        return self.reach.top(energy) if self.can_charge else energy

    def charge_windows(self) -> tuple[tuple[float, float, float, float], ...]:
        """(start, end, cost per kWh, cost at start) of every way to charge."""
        return self.windows or _segments(self.charge)

    def least_charge(self, energy: float) -> float:
        """The lowest energy charging can end at from `energy` (minimum power, or filling up)."""
        if self.min_kw <= 0.0 or self.curve is None:
            return energy
        limit = self.curve.power_limit(energy)
        reached = min(energy + self.gain * min(self.min_kw, limit), self.reach.upper_kwh)
        # Where the taper is the minimum, rounding may put it just above top(E): it is top(E).
        # A cap under the minimum is no taper: only float noise counts as reaching it.
        top = self.reach.top(energy)
        noise = self.gain * _TINY_KW if limit < self.min_kw else _NOISE_KWH
        return top if top < reached <= top + noise else reached

    def is_convex(self) -> bool:
        """True when the slot's cost is convex in the energy moved and the fast path applies."""
        if self.min_kw > 0.0 or self.windows:
            return False
        if self.forced_kwh > self.discharge_kwh:
            return False
        return _rising_costs(self.charge if self.can_charge else (), self.discharge)


@lru_cache(maxsize=4096)
def _rising_costs(
    charge: tuple[tuple[float, float], ...], discharge: tuple[tuple[float, float], ...]
) -> bool:
    """Whether the cost per kWh only rises from the most charged move to the most discharged
    one. Kept: the stages of one solve share few distinct costs, and every step asks."""
    return all(b >= a for a, b in pairwise(_slopes_up(charge, discharge)))


def _slopes_up(
    charge: tuple[tuple[float, float], ...], discharge: tuple[tuple[float, float], ...]
) -> list[float]:
    """The cost per kWh of moving the battery up through each segment, from full discharge
    (its discharge segments deepest first, then its charge segments)."""
    return [-cost for _, cost in reversed(discharge)] + [cost for _, cost in charge]


# A fall in a slot's cost per kWh smaller than this is a rounding (prices of a few denormals),
# not a bend that needs ways or runs of its own (`cost_runs`, `peak.bent_stage`).
BEND_PER_KWH = 1e-12


def cost_runs(
    charge: tuple[tuple[float, float], ...], discharge: tuple[tuple[float, float], ...]
) -> list[list[int]]:
    """A slot's segments from full discharge up (its discharge segments deepest first, then
    its charge segments, numbered in that order), split into runs where the cost of moving
    the battery up falls: one run where the slot's cost is convex."""
    slopes = _slopes_up(charge, discharge)
    runs: list[list[int]] = []
    for index, slope in enumerate(slopes):
        if runs and slope >= slopes[index - 1] - BEND_PER_KWH:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def run_spans(
    charge: tuple[tuple[float, float], ...], discharge: tuple[tuple[float, float], ...]
) -> list[tuple[float, float]]:
    """Where each run of a slot's cost (`cost_runs`) lies: the lowest and highest energy moved
    up from full discharge."""
    deepest = discharge[-1][0] if discharge else 0.0
    spans: list[tuple[float, float]] = []
    start = 0.0
    for end, _ in discharge:
        spans.append((deepest - end, deepest - start))
        start = end
    spans.reverse()
    start = 0.0
    for end, _ in charge:
        spans.append((deepest + start, deepest + end))
        start = end
    return [(spans[run[0]][0], spans[run[-1]][1]) for run in cost_runs(charge, discharge)]


def held_to_run(
    charge: tuple[tuple[float, float], ...],
    discharge: tuple[tuple[float, float], ...],
    run: tuple[int, int],
) -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
    """The slot's costs with its moves held to the segments `run` (first and last, numbered as
    in `cost_runs`): every segment before them costs far less than any price, so it is taken
    whole, and every one after them far more, so it is left. Held to one of its runs, the
    slot's cost is convex."""
    first, last = run
    held = 1e3 * (1.0 + max(abs(cost) for _, cost in (*charge, *discharge)))
    deepest_first = list(reversed(discharge))
    for index, (end, _) in enumerate(deepest_first):
        # Moving up through a discharge segment gains what discharging it costs.
        if index < first:
            deepest_first[index] = (end, held)
        elif index > last:
            deepest_first[index] = (end, -held)
    moved = list(charge)
    for offset, (end, _) in enumerate(charge):
        index = len(discharge) + offset
        if index < first:
            moved[offset] = (end, -held)
        elif index > last:
            moved[offset] = (end, held)
    return tuple(moved), tuple(reversed(deepest_first))


@lru_cache(maxsize=4096)
def _segments(
    bounds: tuple[tuple[float, float], ...], least: float = 0.0
) -> tuple[tuple[float, float, float, float], ...]:
    """(start, end, cost per kWh, cost up to start) for each segment, from `least` on. Kept:
    the stages of one solve share few distinct costs, and every step asks for them."""
    out: list[tuple[float, float, float, float]] = []
    start = before = 0.0
    for end, cost in bounds:
        if end > least:
            first = max(start, least)
            out.append((first, end, cost, before + cost * (first - start)))
        if math.isfinite(end):
            before += cost * (end - start)
        start = end
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Fast path: merging slopes


def merge_step(
    xs: list[float], ss: list[float], stage: Stage, new_low: float, new_high: float
) -> tuple[list[float], list[float]]:
    """V_b in slope form from a convex V_{b+1}, for a convex stage with a flat reach."""
    px, ps = _merged(xs, ss, stage, stage.reach.flat_shift or 0.0)
    low = max(new_low, px[0])
    high = min(new_high, px[-1])
    return _clip_slopes(px, ps, low, high)


def _merged(
    xs: list[float], ss: list[float], stage: Stage, shift: float
) -> tuple[list[float], list[float]]:
    """The infimal convolution of V_{b+1} with the slot's cost, charging at most `shift` kWh."""
    pieces: list[tuple[float, float]] = []
    total_charge = -stage.forced_kwh
    if stage.can_charge and stage.forced_kwh <= 0.0:
        for start, end, cost, _ in reversed(_segments(stage.charge)):
            width = min(end, shift) - start
            if width > _TINY_KWH:
                pieces.append((-cost, width))
                total_charge += width
    for start, end, cost, _ in _segments(stage.discharge, stage.forced_kwh):
        if end - start > _TINY_KWH:
            pieces.append((cost, end - start))
    # Each piece goes in after the function's own segments of no larger slope (ties take the
    # function's own segment first: charge early, discharge only if it pays).
    offset = -total_charge
    px: list[float] = []
    ps: list[float] = []
    done = 0
    for slope, width in pieces:
        index = bisect_right(ss, slope, done)
        px += [x + offset for x in xs[done:index]]
        ps += ss[done:index]
        px.append(xs[index] + offset)
        ps.append(slope)
        offset += width
        done = index
    px += [x + offset for x in xs[done:]]
    ps += ss[done:]
    return px, ps


def taper_step(
    xs: list[float], ss: list[float], stage: Stage, new_low: float, new_high: float
) -> tuple[list[float], list[float]]:
    """V_b in slope form from a convex V_{b+1}, for a convex stage whose reach tapers.

    Without the taper, `V_b` would be the merge `U` with the widest one-slot charge. The taper
    only binds where the best move lies above `top(E)`; there `V_b(E)` is the cost of charging
    to `top(E)`. Both are linear between the breakpoints of `U`, the knots of the reach, the
    starts of `V_{b+1}`'s breakpoints and the energies where the charge crosses a segment end,
    so one slope per interval, taken at its middle, gives `V_b` exactly.
    """
    reach = stage.reach
    px, ps = _merged(xs, ss, stage, reach.tops[0] - reach.starts[0])
    low = max(new_low, px[0], reach.lowest_start(xs[0]))
    high = min(new_high, px[-1])
    if high - low <= _TINY_KWH:
        return [min(low, high)], []
    # Charging to top(E) can only be best where V_{b+1} falls faster than the cheapest rate of
    # the last kWh moved: on its first `binding` pieces. Where top(E) is past them, V_b is U.
    cheapest = min(stage.charge[0][1], -stage.discharge[0][1] if stage.discharge else -math.inf)
    binding = bisect_left(ss, -cheapest)
    split = min(high, reach.lowest_start(xs[binding]))
    if split - low <= _TINY_KWH:
        return _clip_slopes(px, ps, low, high)
    ends = [end for end, _ in stage.charge if math.isfinite(end)]
    candidates = [*px[: bisect_left(px, split)], *reach.starts, *_shift_crossings(reach, ends)]
    candidates += _lowest_starts(reach, xs[: binding + 1])
    points = _sorted_points(candidates, low, split)
    slopes = _taper_slopes(points, xs[: binding + 1], ss, px, ps, stage)
    if high - split > _TINY_KWH:
        after = bisect_right(px, split)
        points += px[after:]
        slopes += ps[after - 1 :]
    return _clip_slopes(points, slopes, low, high)


def _taper_slopes(
    points: list[float],
    xs: list[float],
    ss: list[float],
    px: list[float],
    ps: list[float],
    stage: Stage,
) -> list[float]:
    """The slope of V_b between consecutive `points`, in one sweep (every index only rises).

    Charging to `top(E)` is best when V_{b+1}'s slope there plus the cost of the last kWh
    moved is negative: then V_b follows `top`, otherwise it is `U`.
    """
    starts, tops, rising = stage.reach.starts, stage.reach.tops, stage.reach.slopes
    # `xs` holds V_{b+1}'s breakpoints up to the end of the last piece where the taper can bind.
    charge = stage.charge
    out: list[float] = []
    append = out.append
    r = v = u = 0
    k = len(charge) - 1
    last_start, last_piece, last_segment = len(starts) - 1, len(ps) - 1, len(xs) - 2
    for e1, e2 in pairwise(points):
        middle = (e1 + e2) / 2.0
        while r < last_start and starts[r + 1] <= middle:
            r += 1
        top = tops[r] + (middle - starts[r]) * rising[r]
        while u < last_piece and px[u + 1] <= middle:
            u += 1
        # Below the split top(E) < last <= upper: charging to top(E) may be best.
        while v < last_segment and xs[v + 1] < top:
            v += 1
        after = ss[v]
        moved = top - middle
        # The charge segment of the last kWh: it only falls as the energy rises.
        while k > 0 and moved <= charge[k - 1][0]:
            k -= 1
        if moved > _TINY_KWH:
            rate = charge[k][1]
            beta = rising[r]
            append(beta * after + rate * (beta - 1.0) if rate + after < 0.0 else ps[u])
        else:
            # No room to charge: staying beats discharging on the binding pieces, whose
            # slopes lie below the first discharge segment's rate.
            append(rising[r] * after)
    return out


def _lowest_starts(reach: SlotReach, targets: list[float]) -> list[float]:
    """`reach.lowest_start` of each of the sorted `targets`, in one sweep."""
    starts, tops, rising = reach.starts, reach.tops, reach.slopes
    out: list[float] = []
    index = 0
    for target in targets:
        # Every target is at most the upper limit, the last top.
        while index < len(tops) - 1 and tops[index] < target:
            index += 1
        if index == 0:
            out.append(starts[0])
        else:
            out.append(starts[index - 1] + (target - tops[index - 1]) / rising[index - 1])
    return out


def _shift_crossings(reach: SlotReach, ends: list[float]) -> list[float]:
    """Energies E where one slot's charge top(E) - E equals one of `ends`."""
    out: list[float] = []
    starts, tops = reach.starts, reach.tops
    for i in range(len(starts) - 1):
        s1 = tops[i] - starts[i]
        s2 = tops[i + 1] - starts[i + 1]
        for end in ends:
            if (s1 - end) * (s2 - end) < 0.0:
                out.append(starts[i] + (s1 - end) / (s1 - s2) * (starts[i + 1] - starts[i]))
    return out


# --------------------------------------------------------------------------------------------
# General path: windows with linear costs


def _pl_eval(fx: list[float], fy: list[float], x: float) -> float:
    return _evaluate(fx, fy, x)


def _pl_combine(
    f: tuple[list[float], list[float]], g: tuple[list[float], list[float]], take_min: bool
) -> tuple[list[float], list[float]]:
    """min or max of two PL functions on the same domain, crossings included."""
    xs = sorted({*f[0], *g[0]})
    out_x: list[float] = []
    out_y: list[float] = []
    previous: tuple[float, float, float] | None = None
    for x in xs:
        a, b = _pl_eval(*f, x), _pl_eval(*g, x)
        if previous is not None:
            px, pa, pb = previous
            if (pa - pb) * (a - b) < 0.0:
                t = (pa - pb) / ((pa - pb) - (a - b))
                cx = px + t * (x - px)
                out_x.append(cx)
                out_y.append(pa + t * (a - pa))
        out_x.append(x)
        out_y.append(min(a, b) if take_min else max(a, b))
        previous = (x, a, b)
    return out_x, out_y


def _preimages(fx: list[float], fy: list[float], targets: list[float]) -> list[float]:
    """Where the non-decreasing PL function (fx, fy) takes each target value."""
    out: list[float] = []
    for i in range(len(fx) - 1):
        y1, y2 = fy[i], fy[i + 1]
        if y2 - y1 <= 1e-15:
            continue
        low = bisect_left(targets, y1)
        for k in range(low, len(targets)):
            value = targets[k]
            if value > y2:
                break
            out.append(fx[i] + (value - y1) / (y2 - y1) * (fx[i + 1] - fx[i]))
    return out


def _end_functions(
    stage: Stage, start: float, end: float, low: float, high: float, ceiling: float = math.inf
) -> tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]:
    """The charge window [lo(E), hi(E)] of one segment, as PL functions of E on [low, high],
    ending at most at `ceiling`. Without a minimum power a window may start below E (an hour
    that discharges in some slots and charges in others)."""
    reach = stage.reach
    kinks = [low, high, *reach.starts]
    if reach.flat_shift is not None:
        kinks.append(reach.upper_kwh - reach.flat_shift)
    curve = stage.curve
    if stage.min_kw > 0.0 and curve is not None:
        kinks += curve.energies
        kinks += _curve_crossings(curve, stage.min_kw)
        kinks.append(reach.upper_kwh - stage.gain * stage.min_kw)
    grid = sorted({x for x in kinks if low <= x <= high})
    top = (grid, [reach.top(x) for x in grid])
    hi = top
    if math.isfinite(end):
        hi = _pl_combine((grid, [x + end for x in grid]), top, True)
    if math.isfinite(ceiling):
        hi = _pl_combine(hi, (grid, [ceiling] * len(grid)), True)
    lo = (grid, [x + start for x in grid])
    if stage.min_kw > 0.0:
        lo = _pl_combine((grid, [stage.least_charge(x) for x in grid]), lo, False)
    return lo, hi


def _curve_crossings(curve: ChargeCurve, power: float) -> list[float]:
    out: list[float] = []
    for i in range(len(curve.energies) - 1):
        p1, p2 = curve.powers[i], curve.powers[i + 1]
        if (p1 - power) * (p2 - power) < 0.0:
            e1, e2 = curve.energies[i], curve.energies[i + 1]
            out.append(e1 + (power - p1) / (p2 - p1) * (e2 - e1))
    return out


def _runs(
    points: list[float], lo: list[float], hi: list[float]
) -> list[tuple[list[float], list[float], list[float]]]:
    """Split the points into runs where the window is not empty, crossings added."""
    runs: list[tuple[list[float], list[float], list[float]]] = []
    current: tuple[list[float], list[float], list[float]] | None = None
    for k, e in enumerate(points):
        gap = hi[k] - lo[k]
        if k > 0:
            previous_gap = hi[k - 1] - lo[k - 1]
            if (previous_gap < -_TINY_KWH) != (gap < -_TINY_KWH) and previous_gap != gap:
                t = previous_gap / (previous_gap - gap)
                ce = points[k - 1] + t * (e - points[k - 1])
                cl = lo[k - 1] + t * (lo[k] - lo[k - 1])
                if current is not None:
                    current[0].append(ce)
                    current[1].append(cl)
                    current[2].append(cl)
                    runs.append(current)
                    current = None
                else:
                    current = ([ce], [cl], [cl])
        if gap >= -_TINY_KWH:
            if current is None:
                current = ([], [], [])
            current[0].append(e)
            current[1].append(min(lo[k], hi[k]))
            current[2].append(hi[k])
    if current is not None:
        runs.append(current)
    return [run for run in runs if run[0]]


def _branch(
    xs: list[float],
    vs: list[float],
    window: tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]],
    rate: float,
    offset: float,
    low: float,
    high: float,
) -> list[list[tuple[float, float]]]:
    """min over y in [lo(E), hi(E)] of V(y) + rate*(y - E) + offset, as PL runs in E."""
    g0, g1 = xs[0], xs[-1]
    lo_f, hi_f = window
    lo_f = _pl_combine(lo_f, (lo_f[0], [g0] * len(lo_f[0])), False)
    hi_f = _pl_combine(hi_f, (hi_f[0], [g1] * len(hi_f[0])), True)
    candidates = [*lo_f[0], *hi_f[0]]
    candidates += _preimages(*lo_f, xs) + _preimages(*hi_f, xs)
    points = _sorted_points(candidates, low, high)
    lo = _values_at(*lo_f, points)
    hi = _values_at(*hi_f, points)
    return _branch_runs(xs, vs, (points, lo, hi), rate, offset)


def _flat_branch(
    xs: list[float],
    vs: list[float],
    window: tuple[float, float, float],
    rate: float,
    offset: float,
    low: float,
    high: float,
) -> list[list[tuple[float, float]]]:
    """`_branch` for a window of moves [start, end] from E, ending at most at `ceiling`: both
    ends are E shifted and clipped, so their breakpoints are known without PL algebra."""
    start, end, ceiling = window
    floor, cap = xs[0], min(ceiling, xs[-1])
    candidates = [floor - start, cap - end]
    candidates += [x - start for x in xs]
    candidates += [x - end for x in xs if x <= cap]
    points = _sorted_points(candidates, low, high)
    lo = [max(e + start, floor) for e in points]
    hi = [min(e + end, cap) for e in points]
    return _branch_runs(xs, vs, (points, lo, hi), rate, offset)


def _branch_runs(
    xs: list[float],
    vs: list[float],
    window: tuple[list[float], list[float], list[float]],
    rate: float,
    offset: float,
) -> list[list[tuple[float, float]]]:
    """min over y in [lo, hi] of V(y) + rate*(y - E) + offset at the window's points E, as
    PL runs in E, exact in between."""
    points, lo, hi = window
    gv = [v + rate * x for x, v in zip(xs, vs, strict=True)]
    out: list[list[tuple[float, float]]] = []
    for run_points, run_lo, run_hi in _runs(points, lo, hi):
        if len(run_points) == 1:
            e = run_points[0]
            best = min(_evaluate(xs, gv, run_lo[0]), _evaluate(xs, gv, run_hi[0]))
            out.append([(e, best - rate * e + offset)])
            continue
        result = _window_minimum(xs, gv, run_points, run_lo, run_hi)
        out.append([(e, m - rate * e + offset) for e, m in result])
    return out


def _lower_envelope(pieces: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Pointwise minimum of PL pieces, each on its own interval; gaps cost INFEASIBLE."""
    funcs = [([x for x, _ in p], [v for _, v in p]) for p in pieces if p]
    merged: list[float] = []
    for x in sorted(x for fx, _ in funcs for x in fx):
        if not merged or x - merged[-1] > _TINY_KWH:
            merged.append(x)
    lowest = _LowestLines(merged, funcs)
    least, left, right = lowest.least, lowest.left, lowest.right
    out: list[tuple[float, float]] = []
    last = len(merged) - 1
    for k, x in enumerate(merged):
        value = least[k] if least[k] < math.inf else INFEASIBLE
        out.append((x, value))
        if k == last:
            break
        nxt = merged[k + 1]
        # No function is defined over the whole interval.
        if left[k] == math.inf:
            width = (nxt - x) / 4.0
            out.append((x + width, INFEASIBLE))
            out.append((nxt - width, INFEASIBLE))
            continue
        # A function that ends at a grid point can leave a step (the minimum power makes
        # values jump): keep it as a steep piece _JUMP_KWH wide.
        jump = min(_JUMP_KWH, (nxt - x) / 4.0)
        if left[k] > value + 1e-12 * (1.0 + abs(value)):
            out.append((x + jump, left[k]))
        # The line lowest at both ends is lowest in between; otherwise lines cross.
        if lowest.left_by[k] != lowest.right_by[k]:
            _add_crossings(out, x, nxt, jump, lowest.lines(k))
        at_next = least[k + 1]
        if right[k] > at_next + 1e-12 * (1.0 + abs(at_next)):
            out.append((nxt - jump, right[k]))
    return out


class _LowestLines:
    """The functions' values on a grid: the lowest at every grid point, and per interval the
    lowest of the functions defined over all of it, at its ends, and which they are."""

    def __init__(self, grid: list[float], funcs: list[tuple[list[float], list[float]]]) -> None:
        count = len(grid)
        inf = math.inf
        self.least = [inf] * count
        self.left = [inf] * count
        self.right = [inf] * count
        self.left_by = [-1] * count
        self.right_by = [-1] * count
        # Per function: its first grid index and its values from there on.
        self.rows: list[tuple[int, list[float]]] = []
        least, left, right = self.least, self.left, self.right
        left_by, right_by = self.left_by, self.right_by
        for index, (fx, fv) in enumerate(funcs):
            first = bisect_left(grid, fx[0] - _TINY_KWH)
            end = bisect_right(grid, fx[-1] + _TINY_KWH)
            values = _values_at(fx, fv, grid[first:end])
            self.rows.append((first, values))
            k = first
            before = inf
            for value in values:
                least[k] = min(least[k], value)
                if k > first:
                    if before < left[k - 1]:
                        left[k - 1] = before
                        left_by[k - 1] = index
                    if value < right[k - 1]:
                        right[k - 1] = value
                        right_by[k - 1] = index
                before = value
                k += 1

    def lines(self, k: int) -> list[tuple[float, float]]:
        """(value at grid point k, at k + 1) of every function defined over both."""
        return [
            (values[k - first], values[k + 1 - first])
            for first, values in self.rows
            if first <= k and k + 1 < first + len(values)
        ]


def _add_crossings(
    out: list[tuple[float, float]],
    x: float,
    nxt: float,
    jump: float,
    lines: list[tuple[float, float]],
) -> None:
    """Where two lines over [x, nxt] cross, the lowest of all lines there."""
    fractions: list[float] = []
    for a in range(len(lines)):
        for b in range(a + 1, len(lines)):
            d1 = lines[a][0] - lines[b][0]
            d2 = lines[a][1] - lines[b][1]
            if (d1 < 0.0 < d2) or (d2 < 0.0 < d1):
                fractions.append(d1 / (d1 - d2))
    for t in sorted(fractions):
        if jump < t * (nxt - x) < nxt - x - jump:
            out.append((x + t * (nxt - x), min(v1 + t * (v2 - v1) for v1, v2 in lines)))


def general_step(
    xs: list[float], vs: list[float], stage: Stage, new_low: float, new_high: float
) -> tuple[list[float], list[float]]:
    """V_b in value form from any V_{b+1}: the envelope of idling and every segment."""
    high = new_high
    low = min(new_low, high)
    pieces: list[list[tuple[float, float]]] = []
    a, b = max(low, xs[0]), min(high, xs[-1])
    forced = stage.forced_kwh
    if a <= b and forced <= 0.0 and stage.idles:
        idle = _sorted_points(list(xs), a, b)
        pieces.append([(e, _evaluate(xs, vs, e)) for e in idle])
    if stage.can_charge and forced <= 0.0:
        bounds = stage.window_bounds or repeat(_UNBOUNDED)
        # Without a minimum power and with a flat reach, a window's ends are E shifted.
        flat = stage.reach.flat_shift if stage.min_kw <= 0.0 else None
        for (start, end, cost, before), (lowest, ceiling) in zip(
            stage.charge_windows(), bounds, strict=False
        ):
            first = max(low, lowest)
            # No energy in range starts a move that ends where V_{b+1} is defined.
            if first > high or first + start > xs[-1] or high + end < xs[0]:
                continue
            offset = before - cost * start
            if flat is not None and math.isfinite(end):
                shifted = (start, min(end, flat), min(ceiling, stage.reach.upper_kwh))
                pieces += _flat_branch(xs, vs, shifted, cost, offset, first, high)
                continue
            window = _end_functions(stage, start, end, first, high, ceiling)
            pieces += _branch(xs, vs, window, cost, offset, first, high)
        pieces += _fill_pieces(xs, vs, stage, low, high)
    for start, end, cost, before in _segments(stage.discharge, forced):
        moves = (-end, -start, math.inf)
        pieces += _flat_branch(xs, vs, moves, -cost, before - cost * start, low, high)
    if not pieces:
        nearest = min(max(low, xs[0]), xs[-1])
        return [nearest], [INFEASIBLE]
    return _simplify(_lower_envelope([_collinear_dropped(piece) for piece in pieces]))


def _fill_pieces(
    xs: list[float], vs: list[float], stage: Stage, low: float, high: float
) -> list[list[tuple[float, float]]]:
    """The moves that end at the upper limit (`Stage.fill_windows`), as lines in E."""
    upper = stage.reach.upper_kwh
    if not stage.fill_windows or xs[-1] < upper - _TINY_KWH or xs[0] > upper + _TINY_KWH:
        return []
    at_top = _evaluate(xs, vs, upper)
    out: list[list[tuple[float, float]]] = []
    for start, end, cost, before in stage.fill_windows:
        first, last = max(low, upper - end), min(high, upper - start)
        if first > last + _TINY_KWH:
            continue
        ends = [first] if last - first <= _TINY_KWH else [first, last]
        out.append([(e, before + cost * (upper - e - start) + at_top) for e in ends])
    return out


def _collinear_dropped(piece: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The piece without the breakpoints that lie on the line through their neighbours."""
    if len(piece) < 3:
        return piece
    out = [piece[0]]
    x0, v0 = piece[0]
    x1, v1 = piece[1]
    for x2, v2 in piece[2:]:
        predicted = v0 + (v2 - v0) * (x1 - x0) / (x2 - x0) if x2 > x0 else v1
        if abs(predicted - v1) > 1e-12 * (1.0 + abs(v1)):
            out.append((x1, v1))
            x0, v0 = x1, v1
        x1, v1 = x2, v2
    out.append((x1, v1))
    return out


# --------------------------------------------------------------------------------------------
# Backward and forward


@dataclass(frozen=True, slots=True)
class _Next:
    """V_{b+1} as the forward pass needs it."""

    xs: list[float]
    vs: list[float]
    ss: list[float] | None


@dataclass(slots=True)
class PathMemo:
    """The value functions of the last solve with the same bounds, so that a solve whose
    stages differ only early on reuses the rest: `V_b` depends on the stages from b on."""

    stages: list[Stage] | None = None
    # V_b and the _Next of slot b, by b.
    values: dict[int, _Next] = field(default_factory=dict)
    nexts: dict[int, _Next] = field(default_factory=dict)

    def reusable(self, stages: list[Stage]) -> int:
        """The first b from which the stages are the ones remembered."""
        known = self.stages
        b = len(stages)
        if known is None or len(known) != b:
            return b
        while b > 0 and known[b - 1] is stages[b - 1]:
            b -= 1
        return b


def optimal_site_path(
    stages: list[Stage],
    start_kwh: float,
    lower: list[float],
    reach_low: list[float],
    reach_high: list[float],
    memo: PathMemo | None = None,
) -> list[float]:
    """The energies at boundaries 1..N of a cheapest path that respects `lower`. A `memo` is
    only ever passed with the same bounds."""
    count = len(stages)
    low = min(max(lower[count], reach_low[count]), reach_high[count])
    high = reach_high[count]
    xs: list[float] = [low, high] if high - low > _TINY_KWH else [low]
    ss: list[float] | None = [0.0] if len(xs) == 2 else []
    vs: list[float] = [0.0] * len(xs)
    memo = PathMemo() if memo is None else memo
    first = memo.reusable(stages)
    if first < count:
        xs, vs, ss = memo.values[first].xs, memo.values[first].vs, memo.values[first].ss
    for b in range(first - 1, -1, -1):
        stage = stages[b]
        new_low = max(lower[b], reach_low[b])
        new_high = reach_high[b]
        if ss is not None:
            vs = _values_from_slopes(xs, ss)
        memo.nexts[b] = _Next(xs, vs, ss)
        if ss is not None and stage.is_convex():
            step = taper_step if stage.tapers else merge_step
            xs, ss = step(xs, ss, stage, new_low, new_high)
            vs = []
        else:
            xs, vs = general_step(xs, vs, stage, new_low, new_high)
            ss = _slopes_if_convex(xs, vs) if len(xs) > 1 else []
            if ss is not None and max(vs) >= INFEASIBLE / 2.0:
                ss = None
        memo.values[b] = _Next(xs, vs, ss)
    memo.stages = list(stages)
    return _forward(stages, start_kwh, [memo.nexts[b] for b in range(count)])


def _best_move(
    following: _Next, windows: list[tuple[float, float, float, float]]
) -> tuple[float, float] | None:
    """Best (cost, y) over the windows (low, high, rate, base) in order, y in [low, high] and
    cost = base + rate*y + V(y); an earlier window wins a tie. One call per slot: the forward
    pass makes many."""
    xs, vs, ss = following.xs, following.vs, following.ss
    first, last = xs[0], xs[-1]
    best: tuple[float, float] | None = None
    for start, end, rate, base in windows:
        low, high = max(start, first), min(end, last)
        if low > high + _TINY_KWH:
            continue
        high = max(low, high)
        if ss is not None:
            # V is convex: where its slope passes -rate is the best on the window, clipped to it.
            candidates = [min(max(xs[bisect_left(ss, -rate)], low), high)]
        else:
            candidates = [high, low, *(x for x in xs if low < x < high)]
        for y in candidates:
            cost = base + rate * y + _evaluate(xs, vs, y)
            if best is None or cost < best[0] - 1e-12 * (1.0 + abs(best[0])):
                best = (cost, y)
    return best


def _forward(stages: list[Stage], start_kwh: float, nexts: list[_Next]) -> list[float]:
    energies: list[float] = []
    energy = start_kwh
    for stage, following in zip(stages, nexts, strict=True):
        forced = stage.forced_kwh
        # Charging is tried first, so that it wins ties: free energy is taken at once.
        windows: list[tuple[float, float, float, float]] = []
        if stage.can_charge and forced <= 0.0:
            top = stage.top(energy)
            least = stage.least_charge(energy) if stage.min_kw > 0.0 else -math.inf
            bounds = stage.window_bounds or repeat(_UNBOUNDED)
            for (start, end, cost, before), (lowest, ceiling) in zip(
                stage.charge_windows(), bounds, strict=False
            ):
                low = max(energy + start, least)
                high = min(energy + end, top, ceiling)
                if low <= high and energy >= lowest:
                    windows.append((low, high, cost, before - cost * (energy + start)))
            upper = stage.reach.upper_kwh
            for start, end, cost, before in stage.fill_windows:
                move = upper - energy
                if start - _TINY_KWH <= move <= end + _TINY_KWH:
                    windows.append((upper, upper, 0.0, before + cost * (move - start)))
        if forced <= 0.0 and stage.idles:
            windows.append((energy, energy, 0.0, 0.0))
        for start, end, cost, before in _segments(stage.discharge, forced):
            base = before + cost * (energy - start)
            windows.append((energy - end, energy - start, -cost, base))
        best = _best_move(following, windows)
        target = best[1] if best is not None else _nearest_move(stage, energy, following.xs)
        if abs(target - energy) <= 2.0 * _JUMP_KWH and following.xs[0] <= energy:
            # Rounding at a bound or a step, not a move; but a move up to the lowest energy
            # the next boundary allows (a target) is kept, however small.
            target = energy
        energies.append(target)
        energy = target
    return energies


def _nearest_move(stage: Stage, energy: float, xs: list[float]) -> float:
    """The energy nearest the next slot's range `xs` that the stage can move to from `energy`,
    never further out of that range than it starts: where no move reaches it (a cap or target
    no plan meets), the path stays one a car can follow, and its cost a real plan's cost."""
    first, last = xs[0], xs[-1]
    forced = stage.forced_kwh
    low = energy - stage.deepest_kwh if stage.discharge or stage.windows else energy
    low = max(low, min(energy, first))
    if forced > 0.0:
        high = energy - forced
    elif stage.can_charge:
        high = max(stage.top(energy), energy)
    else:
        high = energy
    high = min(high, max(energy, last))
    if high < low:
        # A discharge the battery can't make in full: as much of it as the range allows.
        return low
    goal = min(max(energy, first), last)
    return min(max(goal, low), high)
