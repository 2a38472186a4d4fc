"""The battery's charging curve in energy terms, for the planner.

Everything here works on the energy `E` in the battery (kWh) rather than on SoC %, because the
planner's state is energy. `ChargeCurve.power_limit(E)` is the highest charge power at the grid,
`min(max_kw, taper(SoC))`. Because the validated taper is concave and non-increasing, the highest
energy one slot can reach, `SlotReach.top(E) = min(E_upper, E + dt * eta * power_limit(E))`, is
non-decreasing in `E` (strictly increasing below `E_upper`); the planner relies on that, and on
`SlotReach.lowest_start` to invert it.

`ChargeCurve.flow` and `ChargeCurve.required_start` describe charging at full power without slots,
which the planner uses for targets that lie beyond the last price.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
import math


@dataclass(frozen=True, slots=True)
class ChargeCurve:
    """Highest charge power (kW at the grid) as a piecewise-linear function of energy (kWh).

    `energies` are increasing knots and `powers` the limit at each knot, constant beyond the ends.
    """

    energies: tuple[float, ...]
    powers: tuple[float, ...]
    efficiency: float
    upper_kwh: float

    @classmethod
    def build(
        cls,
        capacity_kwh: float,
        max_kw: float,
        taper: Sequence[tuple[float, float]],
        efficiency: float,
        upper_kwh: float,
    ) -> ChargeCurve:
        """Combine the charger limit with the car's taper (points of [SoC %, kW])."""
        if not taper:
            return cls((0.0,), (max_kw,), efficiency, upper_kwh)
        knots = [(soc / 100.0 * capacity_kwh, kw) for soc, kw in taper]
        energies: list[float] = []
        powers: list[float] = []
        # The taper is non-increasing, so min(max_kw, taper) is max_kw up to one crossing.
        if knots[0][1] < max_kw:
            energies.append(knots[0][0])
            powers.append(knots[0][1])
        else:
            for (e1, p1), (e2, p2) in pairwise(knots):
                if p2 < max_kw <= p1:
                    cross = e1 + (p1 - max_kw) / (p1 - p2) * (e2 - e1)
                    energies.append(cross)
                    powers.append(max_kw)
                    break
        for energy, power in knots:
            if power < max_kw and (not energies or energy > energies[-1]):
                energies.append(energy)
                powers.append(power)
        if not energies:
            return cls((0.0,), (max_kw,), efficiency, upper_kwh)
        return cls(tuple(energies), tuple(powers), efficiency, upper_kwh)

    @property
    def is_flat(self) -> bool:
        """True when the limit does not depend on the energy (no taper in play)."""
        return len(self.powers) == 1

    def power_limit(self, energy: float) -> float:
        """The highest charge power (kW at the grid) at this energy."""
        energies, powers = self.energies, self.powers
        index = bisect_right(energies, energy)
        if index == 0:
            return powers[0]
        if index == len(energies):
            return powers[-1]
        e1, e2 = energies[index - 1], energies[index]
        p1, p2 = powers[index - 1], powers[index]
        return p1 + (p2 - p1) * (energy - e1) / (e2 - e1)

    def _piece(self, energy: float, upward: bool) -> tuple[float, float, float]:
        """(alpha, beta, edge): power = alpha + beta*E on the piece beside `energy`.

        `edge` is the end of that piece in the direction of travel (+-inf past the last knot).
        """
        energies, powers = self.energies, self.powers
        index = bisect_right(energies, energy) if upward else bisect_right(energies, energy) - 1
        if not upward and index >= 0 and energies[index] == energy:
            index -= 1
        # Now the piece is between knots index-1 and index (upward) or index and index+1 (down).
        low = index - 1 if upward else index
        high = low + 1
        if low < 0:
            return powers[0], 0.0, energies[0] if upward else -math.inf
        if high >= len(energies):
            return powers[-1], 0.0, math.inf if upward else energies[-1]
        e1, e2 = energies[low], energies[high]
        beta = (powers[high] - powers[low]) / (e2 - e1)
        alpha = powers[low] - beta * e1
        return alpha, beta, e2 if upward else e1

    def flow(self, energy: float, hours: float) -> float:
        """Energy after charging at full power for `hours`, continuously, stopping at the top."""
        eta = self.efficiency
        while hours > 0.0 and energy < self.upper_kwh:
            alpha, beta, edge = self._piece(energy, upward=True)
            edge = min(edge, self.upper_kwh)
            start_power = alpha + beta * energy
            if start_power <= 0.0:
                return energy
            if beta == 0.0:
                needed = (edge - energy) / (eta * start_power)
            else:
                end_power = alpha + beta * edge
                needed = (
                    math.inf
                    if end_power <= 0.0
                    else math.log(end_power / start_power) / (eta * beta)
                )
            if needed >= hours:
                if beta == 0.0:
                    return min(edge, energy + eta * start_power * hours)
                return min(edge, (start_power * math.exp(eta * beta * hours) - alpha) / beta)
            energy, hours = edge, hours - needed
        return energy

    def required_start(self, target: float, hours: float) -> float:
        """The lowest energy from which `flow(E, hours)` reaches `target`; +inf if none does."""
        if target > self.upper_kwh:
            return math.inf
        eta = self.efficiency
        energy = target
        while hours > 0.0:
            alpha, beta, edge = self._piece(energy, upward=False)
            end_power = alpha + beta * energy
            if end_power <= 0.0:
                return energy
            if beta == 0.0:
                needed = (energy - edge) / (eta * end_power)
                if needed >= hours:
                    return energy - eta * end_power * hours
            else:
                start_power = alpha + beta * edge
                needed = math.log(end_power / start_power) / (eta * beta)
                if needed >= hours:
                    return (end_power * math.exp(-eta * beta * hours) - alpha) / beta
            energy, hours = edge, hours - needed
        return energy


@dataclass(frozen=True, slots=True)
class SlotReach:
    """`top(E)`: the highest energy reachable in one slot of `hours`, as a monotone PL map.

    Stored as knots (`starts`, `tops`) over [0, upper]; `slopes[i]` is the slope after knot i.
    """

    starts: tuple[float, ...]
    tops: tuple[float, ...]
    slopes: tuple[float, ...]
    # E + shift when the curve is flat (no taper), which allows fast paths.
    flat_shift: float | None
    upper_kwh: float

    @classmethod
    def build(cls, curve: ChargeCurve, hours: float) -> SlotReach:
        """The one-slot reach map for a slot of this length."""
        gain = hours * curve.efficiency
        upper = curve.upper_kwh
        knots = [0.0, *(e for e in curve.energies if 0.0 < e < upper), upper]
        raw = [e + gain * curve.power_limit(e) for e in knots]
        starts: list[float] = []
        tops: list[float] = []
        for i, (energy, top) in enumerate(zip(knots, raw, strict=True)):
            if top >= upper:
                if i > 0 and raw[i - 1] < upper:
                    # Where the uncapped reach crosses the upper limit.
                    prev_e, prev_top = knots[i - 1], raw[i - 1]
                    cross = prev_e + (upper - prev_top) / (top - prev_top) * (energy - prev_e)
                    if cross > starts[-1]:
                        starts.append(cross)
                        tops.append(upper)
                elif i == 0:
                    starts.append(energy)
                    tops.append(upper)
                break
            starts.append(energy)
            tops.append(top)
        if starts[-1] < upper:
            starts.append(upper)
            tops.append(upper)
        slopes = [
            (t2 - t1) / (s2 - s1)
            for s1, s2, t1, t2 in zip(starts, starts[1:], tops, tops[1:], strict=False)
        ]
        slopes.append(0.0)
        flat = gain * curve.powers[0] if curve.is_flat else None
        return cls(tuple(starts), tuple(tops), tuple(slopes), flat, upper)

    @classmethod
    def flat(cls, shift: float, upper: float) -> SlotReach | None:
        """`build` of a flat curve whose slot adds `shift` kWh, made directly (a search makes
        many); None outside the usual case `0 < shift < upper`, where `build` is the way."""
        if not 0.0 < shift < upper:
            return None
        knee = 0.0 + (upper - shift) / ((upper + shift) - shift) * (upper - 0.0)
        if not 0.0 < knee < upper:
            return None
        rising = (upper - shift) / (knee - 0.0)
        return cls((0.0, knee, upper), (shift, upper, upper), (rising, 0.0, 0.0), shift, upper)

    def top(self, energy: float) -> float:
        """The highest energy one slot of full-power charging reaches from `energy`."""
        if self.flat_shift is not None:
            return min(self.upper_kwh, energy + self.flat_shift)
        starts = self.starts
        index = bisect_right(starts, energy) - 1
        if index < 0:
            return self.tops[0] + (energy - starts[0]) * self.slopes[0]
        if index >= len(starts) - 1:
            return self.upper_kwh
        return min(self.upper_kwh, self.tops[index] + (energy - starts[index]) * self.slopes[index])

    def lowest_start(self, target: float) -> float:
        """The lowest energy from which one slot can reach `target` (target <= upper)."""
        if self.flat_shift is not None:
            return min(target, self.upper_kwh) - self.flat_shift
        tops = self.tops
        index = bisect_left(tops, target)
        if index == 0:
            return self.starts[0]
        if index == len(tops):
            return self.starts[-1]
        return self.starts[index - 1] + (target - tops[index - 1]) / self.slopes[index - 1]
