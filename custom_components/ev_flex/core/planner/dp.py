"""Exact backward dynamic programming over battery energy, for the planner.

The state is the energy `E` (kWh) in the battery at a slot boundary. `V_b(E)` is the cheapest cost
of the slots from boundary `b` on, given the lower bounds the planner puts on every boundary. Each
`V_b` is a continuous piecewise-linear (PL) function, stored exactly as breakpoints:

- Slot form, for convex functions: breakpoints `xs` and the slope `ss[i]` of each segment. Values
  are not needed to make decisions, and slopes copied between stages stay bit-identical, so ties
  (such as a flat price) are broken the same way every time.
- Value form, for any function: breakpoints `xs` and values `vs`.

A slot is one of three modes: idle, charge (move from E up to any y <= top(E)) or discharge (move
down to any y >= E - D). Charging costs `kc` per kWh added to the battery and discharging costs
`kd` per kWh taken out (negative when exporting pays). Then

    V_b(E) = min( min_{E <= y <= top(E)} kc*(y - E) + V_{b+1}(y),
                  min_{E - D <= y <= E}  kd*(E - y) + V_{b+1}(y) ).

If `V_{b+1}` is convex and `kc + kd >= 0` (charging and discharging in one slot would lose
money), the optimum charges up to a level `m_c`, discharges down to `m_d >= m_c`, or idles in
between, and `V_b` is again convex: that is the fast path (`_convex_step`), linear in the number
of breakpoints. Otherwise (`kc + kd < 0` because of negative prices, or a non-convex `V_{b+1}`),
`_general_step` computes both window minima exactly and their lower envelope, so the charge-or-
discharge choice is exact, not relaxed.
"""

from bisect import bisect_left, bisect_right
from collections import deque
from dataclasses import dataclass
from itertools import accumulate, pairwise
import math
from operator import mul, sub

from .curve import SlotReach

# Breakpoints closer than this (kWh) are merged; far below any energy that matters.
_TINY_KWH = 1e-9
# Relative tolerance on slopes for the convexity test.
_CONVEX_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class DpSlot:
    """One slot as the optimiser sees it, in battery-energy terms."""

    reach: SlotReach
    # Cost per kWh added to the battery: import / charge efficiency.
    charge_cost: float
    # Cost per kWh taken out of the battery: wear - export * discharge efficiency.
    discharge_cost: float
    # Most battery energy one slot can discharge (0 when discharging is impossible).
    discharge_kwh: float
    can_charge: bool


@dataclass(frozen=True, slots=True)
class _ConvexDecision:
    charge_to: float
    discharge_to: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class _GeneralDecision:
    xs: list[float]
    vs: list[float]


type _Decision = _ConvexDecision | _GeneralDecision


def optimal_path(
    slots: list[DpSlot],
    start_kwh: float,
    lower: list[float],
    reach_low: list[float],
    reach_high: list[float],
) -> list[float]:
    """The energies at boundaries 1..N of a cheapest path that respects `lower` at every boundary.

    `lower[b]`, `reach_low[b]` and `reach_high[b]` are per boundary (0..N); the caller guarantees
    that the lower bounds are reachable (`lower[b] < reach_high[b]` or equal to the start).
    """
    count = len(slots)
    decisions: list[_Decision] = [_ConvexDecision(0.0, 0.0, 0.0, 0.0)] * count
    low = max(lower[count], reach_low[count])
    high = reach_high[count]
    low = min(low, high)
    # V_N = 0: nothing is worth anything after the horizon.
    convex = True
    xs: list[float] = [low, high] if high - low > _TINY_KWH else [low]
    ss: list[float] = [0.0] if len(xs) == 2 else []
    vs: list[float] = []
    for b in range(count - 1, -1, -1):
        slot = slots[b]
        new_low = max(lower[b], reach_low[b])
        new_high = reach_high[b]
        burn = slot.can_charge and slot.discharge_kwh > 0.0
        burn = burn and slot.charge_cost + slot.discharge_cost < 0.0
        if convex and not burn:
            xs, ss, decision = _convex_step(xs, ss, slot, new_low, new_high)
            decisions[b] = decision
        else:
            if convex:
                vs = _values_from_slopes(xs, ss)
            decisions[b] = _GeneralDecision(xs, vs)
            xs, vs = _general_step(xs, vs, slot, new_low, new_high)
            slopes = _slopes_if_convex(xs, vs)
            convex = slopes is not None
            if slopes is not None:
                ss = slopes
    return _forward(slots, start_kwh, decisions)


# --------------------------------------------------------------------------------------------
# Convex fast path (slope form)


def _convex_step(
    xs: list[float], ss: list[float], slot: DpSlot, new_low: float, new_high: float
) -> tuple[list[float], list[float], _ConvexDecision]:
    count = len(ss)
    kc, kd, drop = slot.charge_cost, slot.discharge_cost, slot.discharge_kwh
    reach = slot.reach
    jc = 0
    if slot.can_charge:
        # Ties charge: flat prices charge as early as possible.
        while jc < count and ss[jc] <= -kc:
            jc += 1
    charge_to = xs[jc]
    jd = jc
    if drop > 0.0:
        # Ties idle: discharge only when it strictly pays.
        while jd < count and ss[jd] <= kd:
            jd += 1
    else:
        jd = count
    discharge_to = xs[jd]
    decision = _ConvexDecision(charge_to, discharge_to, xs[0], xs[-1])

    px: list[float] = []
    ps: list[float] = []
    if slot.can_charge:
        shift = reach.flat_shift
        if shift is not None:
            px.extend([x - shift for x in xs[:jc]])
            ps.extend(ss[:jc])
            px.append(charge_to - shift)
            ps.append(-kc)
        else:
            _charge_region(xs, ss, jc, reach, kc, px, ps)
    px.extend(xs[jc:jd])
    ps.extend(ss[jc:jd])
    if drop > 0.0:
        px.append(discharge_to)
        ps.append(kd)
        px.extend([x + drop for x in xs[jd:]])
        ps.extend(ss[jd:])
    else:
        px.append(xs[-1])
    low = max(new_low, reach.lowest_start(xs[0]) if slot.can_charge else xs[0])
    high = min(new_high, px[-1])
    out_x, out_s = _clip_slopes(px, ps, low, high)
    return out_x, out_s, decision


def _charge_region(
    xs: list[float],
    ss: list[float],
    jc: int,
    reach: SlotReach,
    kc: float,
    px: list[float],
    ps: list[float],
) -> None:
    """Append the part of V_b where charging is capped by the taper: y = top(E) <= xs[jc]."""
    charge_to = xs[jc]
    knots = [t for t in reach.tops if xs[0] < t < charge_to]
    ys = sorted({*xs[: jc + 1], *knots})
    starts = [reach.lowest_start(y) for y in ys]
    segment = 0
    for i in range(len(ys) - 1):
        y1, y2 = ys[i], ys[i + 1]
        e1, e2 = starts[i], starts[i + 1]
        while segment < jc - 1 and xs[segment + 1] <= y1:
            segment += 1
        width = e2 - e1
        if width <= _TINY_KWH:
            continue
        beta = (y2 - y1) / width
        px.append(e1)
        ps.append(kc * (beta - 1.0) + beta * ss[segment])
    end = starts[-1]
    if charge_to - end > _TINY_KWH:
        px.append(end)
        ps.append(-kc)


def _clip_slopes(
    px: list[float], ps: list[float], low: float, high: float
) -> tuple[list[float], list[float]]:
    """Restrict a slope-form function to [low, high], dropping tiny or redundant segments."""
    low = max(low, px[0])
    high = min(high, px[-1])
    if high - low <= _TINY_KWH:
        return [min(low, high)], []
    first = max(0, bisect_right(px, low) - 1)
    last = bisect_left(px, high)
    out_x = [low]
    out_s: list[float] = []
    for i in range(first, last):
        end = px[i + 1] if i + 1 < last else high
        slope = ps[i]
        if end - out_x[-1] <= _TINY_KWH:
            continue
        if out_s and slope == out_s[-1]:
            out_x[-1] = end
        else:
            out_s.append(slope)
            out_x.append(end)
    # The last segment ends at `high` unless it was too short to keep; then its neighbour does.
    out_x[-1] = high
    return out_x, out_s


def _values_from_slopes(xs: list[float], ss: list[float]) -> list[float]:
    # The running sum of slope * width, from 0 at the first breakpoint (C loops, same order).
    return [0.0, *accumulate(map(mul, ss, map(sub, xs[1:], xs)))]


def _slopes_if_convex(xs: list[float], vs: list[float]) -> list[float] | None:
    slopes = [(vs[i + 1] - vs[i]) / (xs[i + 1] - xs[i]) for i in range(len(xs) - 1)]
    for left, right in pairwise(slopes):
        if right < left - _CONVEX_TOLERANCE * (1.0 + abs(left)):
            return None
    return slopes


# --------------------------------------------------------------------------------------------
# General path (value form)


def _evaluate(xs: list[float], vs: list[float], x: float) -> float:
    # Callers stay inside the domain up to rounding; clamp rather than extrapolate.
    index = bisect_right(xs, x) - 1
    if index >= len(xs) - 1:
        return vs[-1]
    if index < 0:
        return vs[0]
    x1 = xs[index]
    return vs[index] + (vs[index + 1] - vs[index]) * (x - x1) / (xs[index + 1] - x1)


def _lower_of_lines(
    e1: float, e2: float, lines: list[tuple[float, float]], out: list[tuple[float, float]]
) -> None:
    """Append the lower envelope of lines (value at e1, value at e2) over [e1, e2) to `out`."""
    fractions = [0.0]
    for i in range(len(lines)):
        a1, a2 = lines[i]
        for j in range(i + 1, len(lines)):
            b1, b2 = lines[j]
            d1, d2 = a1 - b1, a2 - b2
            if (d1 < 0.0 < d2) or (d2 < 0.0 < d1):
                fractions.append(d1 / (d1 - d2))
    fractions.sort()
    width = e2 - e1
    for t in fractions:
        value = min(v1 + (v2 - v1) * t for v1, v2 in lines)
        out.append((e1 + width * t, value))


def _values_at(fx: list[float], fv: list[float], points: list[float]) -> list[float]:
    """`_evaluate(fx, fv, x)` at each of the (mostly rising) `points`, in one sweep."""
    out: list[float] = []
    end = len(fx) - 1
    index = -1
    for x in points:
        while index >= 0 and fx[index] > x:
            index -= 1
        while index < end and fx[index + 1] <= x:
            index += 1
        if index >= end:
            out.append(fv[-1])
        elif index < 0:
            out.append(fv[0])
        else:
            x1, v1 = fx[index], fv[index]
            out.append(v1 + (fv[index + 1] - v1) * (x - x1) / (fx[index + 1] - x1))
    return out


def _window_minimum(
    xs: list[float],
    gv: list[float],
    points: list[float],
    window_low: list[float],
    window_high: list[float],
) -> list[tuple[float, float]]:
    """min of G over [window_low(E), window_high(E)] at sorted E `points`, exact in between.

    G is PL with breakpoints `xs` and values `gv`; both window ends are non-decreasing in E and
    linear between consecutive `points`, and neither passes a breakpoint of G between them
    (the caller includes every such E in `points`). So between two points G at either end
    is linear, and the breakpoints inside the window give one constant: the least of three
    lines, whose crossings are the only new breakpoints.
    """
    at_low = _values_at(xs, gv, window_low)
    at_high = _values_at(xs, gv, window_high)
    out: list[tuple[float, float]] = []
    append = out.append
    inside: deque[int] = deque()
    next_index = 0
    count = len(xs)
    inf = math.inf
    for i in range(len(points) - 1):
        e1, e2 = points[i], points[i + 1]
        mid_low = (window_low[i] + window_low[i + 1]) / 2.0
        mid_high = (window_high[i] + window_high[i + 1]) / 2.0
        while next_index < count and xs[next_index] < mid_high:
            while inside and gv[inside[-1]] >= gv[next_index]:
                inside.pop()
            inside.append(next_index)
            next_index += 1
        while inside and xs[inside[0]] <= mid_low:
            inside.popleft()
        a1, a2, b1, b2 = at_low[i], at_low[i + 1], at_high[i], at_high[i + 1]
        c = gv[inside[0]] if inside else inf
        append((e1, min(a1, b1, c)))
        fractions = _crossing_fractions(a1, a2, b1, b2, c)
        if fractions:
            width = e2 - e1
            for t in fractions:
                append((e1 + width * t, min(a1 + (a2 - a1) * t, b1 + (b2 - b1) * t, c)))
    last = len(points) - 1
    low_end, high_end = window_low[last], window_high[last]
    final = min(at_low[last], at_high[last])
    for j in range(bisect_right(xs, low_end), count):
        if xs[j] >= high_end:
            break
        final = min(final, gv[j])
    append((points[last], final))
    return out


def _crossing_fractions(a1: float, a2: float, b1: float, b2: float, c: float) -> list[float]:
    """Where (0 < t < 1) the lines a and b, and the constant c (when finite), cross."""
    out: list[float] = []
    d1, d2 = a1 - b1, a2 - b2
    if (d1 < 0.0 < d2) or (d2 < 0.0 < d1):
        out.append(d1 / (d1 - d2))
    if c < math.inf:
        for v1, v2 in ((a1, a2), (b1, b2)):
            d1, d2 = v1 - c, v2 - c
            if (d1 < 0.0 < d2) or (d2 < 0.0 < d1):
                out.append(d1 / (d1 - d2))
        out.sort()
    return out


def _sorted_points(candidates: list[float], low: float, high: float) -> list[float]:
    inner = sorted(x for x in candidates if low < x < high)
    points = [low]
    for x in inner:
        if x - points[-1] > _TINY_KWH:
            points.append(x)
    if high - points[-1] > _TINY_KWH:
        points.append(high)
    elif len(points) > 1:
        points[-1] = high
    return points


def _charge_branch(
    xs: list[float], vs: list[float], slot: DpSlot, low: float, high: float
) -> list[tuple[float, float]]:
    g0, g1 = xs[0], xs[-1]
    reach, kc = slot.reach, slot.charge_cost
    low = max(low, reach.lowest_start(g0))
    high = min(high, g1)
    if low > high:
        return []
    candidates = [*xs, *(reach.lowest_start(x) for x in xs), *reach.starts]
    points = _sorted_points(candidates, low, high)
    gv = [v + kc * x for x, v in zip(xs, vs, strict=True)]
    window_low = [max(e, g0) for e in points]
    window_high = [max(lo, min(reach.top(e), g1)) for e, lo in zip(points, window_low, strict=True)]
    result = _window_minimum(xs, gv, points, window_low, window_high)
    return [(e, m - kc * e) for e, m in result]


def _discharge_branch(
    xs: list[float], vs: list[float], slot: DpSlot, low: float, high: float
) -> list[tuple[float, float]]:
    g0, g1 = xs[0], xs[-1]
    kd, drop = slot.discharge_cost, slot.discharge_kwh
    low = max(low, g0)
    high = min(high, g1 + drop)
    if low > high:
        return []
    points = _sorted_points([*xs, *(x + drop for x in xs)], low, high)
    gv = [v - kd * x for x, v in zip(xs, vs, strict=True)]
    window_high = [min(e, g1) for e in points]
    window_low = [min(max(e - drop, g0), hi) for e, hi in zip(points, window_high, strict=True)]
    result = _window_minimum(xs, gv, points, window_low, window_high)
    return [(e, m + kd * e) for e, m in result]


def _envelope(
    first: list[tuple[float, float]], second: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Pointwise minimum of two PL functions, each defined on its own interval."""
    if not first:
        return second
    if not second:
        return first
    fx = [p[0] for p in first]
    fv = [p[1] for p in first]
    sx = [p[0] for p in second]
    sv = [p[1] for p in second]
    low, high = min(fx[0], sx[0]), max(fx[-1], sx[-1])
    points = _sorted_points([*fx, *sx], low, high)
    out: list[tuple[float, float]] = []

    def values(e: float) -> list[float]:
        found = []
        if fx[0] - _TINY_KWH <= e <= fx[-1] + _TINY_KWH:
            found.append(_evaluate(fx, fv, e))
        if sx[0] - _TINY_KWH <= e <= sx[-1] + _TINY_KWH:
            found.append(_evaluate(sx, sv, e))
        return found

    for i in range(len(points) - 1):
        e1, e2 = points[i], points[i + 1]
        at1, at2 = values(e1), values(e2)
        if len(at1) == 2 and len(at2) == 2:
            _lower_of_lines(e1, e2, [(at1[0], at2[0]), (at1[1], at2[1])], out)
        else:
            mid = values((e1 + e2) / 2.0)
            if len(mid) == 2:
                out.append((e1, min(at1)))
            elif fx[0] <= (e1 + e2) / 2.0 <= fx[-1]:
                out.append((e1, _evaluate(fx, fv, e1)))
            else:
                out.append((e1, _evaluate(sx, sv, e1)))
    out.append((points[-1], min(values(points[-1]))))
    return out


def _simplify(points: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Drop near-duplicate and collinear breakpoints."""
    xs: list[float] = []
    vs: list[float] = []
    for x, v in points:
        if xs and x - xs[-1] <= _TINY_KWH:
            vs[-1] = min(vs[-1], v)
            continue
        if len(xs) >= 2:
            x0, v0, x1, v1 = xs[-2], vs[-2], xs[-1], vs[-1]
            predicted = v0 + (v - v0) * (x1 - x0) / (x - x0)
            if abs(predicted - v1) <= 1e-12 * (1.0 + abs(v1)):
                xs[-1], vs[-1] = x, v
                continue
        xs.append(x)
        vs.append(v)
    return xs, vs


def _general_step(
    xs: list[float], vs: list[float], slot: DpSlot, new_low: float, new_high: float
) -> tuple[list[float], list[float]]:
    # Without charging, top(E) = E and the charge branch is just idling.
    branch = _charge_branch(xs, vs, slot, new_low, new_high)
    if slot.discharge_kwh > 0.0:
        branch = _envelope(branch, _discharge_branch(xs, vs, slot, new_low, new_high))
    if not branch:
        # Only reachable through rounding: keep the nearest feasible point.
        nearest = min(max(new_low, xs[0]), new_high)
        branch = [(nearest, _evaluate(xs, vs, nearest))]
    return _simplify(branch)


# --------------------------------------------------------------------------------------------
# Forward pass


def _clamp(value: float, low: float, high: float) -> float:
    return low if value < low else min(value, high)


def _best_in_window(
    xs: list[float],
    vs: list[float],
    low: float,
    high: float,
    rate: float,
    origin: float,
    best: tuple[float, float] | None,
) -> tuple[float, float] | None:
    """Best (cost, y) for y in [low, high] with cost = rate*(y - origin) + V(y)."""
    if low > high:
        return best
    candidates = [high, low, *(x for x in xs if low < x < high)]
    for y in candidates:
        cost = rate * (y - origin) + _evaluate(xs, vs, y)
        if best is None or cost < best[0] - 1e-12 * (1.0 + abs(best[0])):
            best = (cost, y)
    return best


def _forward(slots: list[DpSlot], start_kwh: float, decisions: list[_Decision]) -> list[float]:
    energies: list[float] = []
    energy = start_kwh
    for slot, decision in zip(slots, decisions, strict=True):
        top = slot.reach.top(energy) if slot.can_charge else energy
        bottom = energy - slot.discharge_kwh if slot.discharge_kwh > 0.0 else energy
        if isinstance(decision, _ConvexDecision):
            if energy < decision.charge_to:
                target = min(top, decision.charge_to)
            elif energy > decision.discharge_to:
                target = max(bottom, decision.discharge_to)
            else:
                target = energy
            target = _clamp(target, decision.low, decision.high)
        else:
            xs, vs = decision.xs, decision.vs
            g0, g1 = xs[0], xs[-1]
            best = (
                _best_in_window(xs, vs, energy, energy, 0.0, energy, None)
                if (g0 <= energy <= g1)
                else None
            )
            if slot.can_charge:
                best = _best_in_window(
                    xs, vs, max(energy, g0), min(top, g1), slot.charge_cost, energy, best
                )
            if slot.discharge_kwh > 0.0:
                best = _best_in_window(
                    xs, vs, max(bottom, g0), min(energy, g1), -slot.discharge_cost, energy, best
                )
            target = best[1] if best is not None else _clamp(energy, g0, g1)
        energy = _clamp(target, bottom, top)
        energies.append(energy)
    return energies
