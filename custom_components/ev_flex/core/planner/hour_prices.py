"""Several hours' import budgets at one cap, priced together: exact where the slots are convex.

At a cap on the hourly import, an hour whose slots can't share its budget by a fixed rule (a
target or the protective level inside it, a dip below the floor, a taper) gets a price `nu_h` on
its import instead: its slots are ordinary slots whose import costs `nu_h` more, and the DP is
exact for those prices. With one such hour the best price is a one-dimensional search
(`site._solve_priced`). With several, the prices must be found together. Here they come from a
small master LP over the plans found so far (Dantzig-Wolfe):

    minimise  sum_k w_k cost_k   subject to  sum_k w_k excess_k,h <= 0 per hour h,
              sum_k w_k = 1,  w >= 0

where `excess_k,h` is plan k's import in hour h minus its budget. The master's duals are the
hours' prices for the next plan, which joins the master when it is cheaper at those prices than
the master's mix; when none is, the mix is the cheapest plan at this cap. The mix of plans is a
plan too (the problem at a cap is convex), and its hours keep to their budgets, since an hour's
import is convex in its slots' moves.

An hour the plans can't keep to its budget shows as a paid slack in the master, at a price
far above any energy price: when the best mix still needs it, no plan keeps to the cap.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import math

from .simplex import Row, solve_lp

# Plans priced before the mix is taken as it is.
_MAX_PLANS = 60
# The master's price per kWh of an hour's import over its budget.
_SLACK_PRICE = 1e4
# A plan must undercut the mix by this much (relative to the cost) to join the master.
_IMPROVEMENT = 1e-11
# The master stops when its mix costs at most this much (relative) above the best lower
# bound its plans give.
_GAP = 1e-9
# An hour over its budget by this much (kWh) in the mix keeps to it.
_BUDGET_TOLERANCE_KWH = 1e-9
# Weights below this drop out of the mix.
_WEIGHT = 1e-12


@dataclass(frozen=True, slots=True)
class PricedPlan:
    """One plan at some prices: its energies, its cost without the prices, each priced hour's
    import minus its budget, and the hours that couldn't be followed inside (`site._expand`)."""

    path: list[float]
    cost: float
    excess: list[float]
    broken: set[int]


@dataclass(frozen=True, slots=True)
class PricedMix:
    """What a mix of priced plans tells of the plans within the budgets: none costs less than
    `bound` (the best of the plans' Lagrangian values), and the mix is made of `members`."""

    bound: float
    members: list[list[float]]


def mix_within_budgets(
    solve_at: Callable[[Sequence[float]], PricedPlan],
    count: int,
    start: PricedPlan,
    ceiling: float = math.inf,
    warm: Sequence[PricedPlan] = (),
    mixes: list[PricedMix] | None = None,
) -> tuple[list[float], set[int]] | None:
    """The cheapest mix of plans whose `count` hours keep to their budgets, found from the plan
    without prices `start`; the broken hours of the first plan that has some; None when no mix
    keeps to the budgets.

    A plan at prices p is the cheapest there: every plan within the budgets costs at least its
    cost + p . excess. When that is above `ceiling`, the most any plan can cost, no plan keeps
    to the budgets, which the master would only find after many plans. `warm`: plans kept
    from other caps that keep to this one elsewhere, to start the master with. `mixes` gets
    the mix found, with its lower bound."""
    plans = [start, *warm]
    weights = [1.0] + [0.0] * len(warm)
    bound = -math.inf
    for _ in range(_MAX_PLANS):
        costs = [plan.cost for plan in plans] + [_SLACK_PRICE] * count
        rows = [
            Row({**{k: plan.excess[h] for k, plan in enumerate(plans)}, len(plans) + h: -1.0}, 0.0)
            for h in range(count)
        ]
        rows.append(Row(dict.fromkeys(range(len(plans)), 1.0), 1.0, equal=True))
        upper = [1.0] * len(plans) + [float("inf")] * count
        try:
            result = solve_lp(costs, rows, upper)
        except ValueError:
            break
        weights = result.values[: len(plans)]
        prices = [max(0.0, -dual) for dual in result.duals[:count]]
        plan = solve_at(prices)
        if plan.broken:
            return plan.path, plan.broken
        value = plan.cost + sum(p * e for p, e in zip(prices, plan.excess, strict=True))
        if value > ceiling + _IMPROVEMENT * (1.0 + abs(ceiling)):
            return None
        # Every plan's value at its prices bounds the best mix from below, the master's mix
        # from above: close enough, the mix is the cheapest.
        bound = max(bound, value)
        if bound >= result.objective - _GAP * (1.0 + abs(result.objective)):
            break
        plans.append(plan)
        weights.append(0.0)
    if mixes is not None:
        members = [plan.path for w, plan in zip(weights, plans, strict=True) if w > _WEIGHT]
        mixes.append(PricedMix(bound, members))
    return _mix(plans, weights, count)


def _mix(
    plans: list[PricedPlan], weights: list[float], count: int
) -> tuple[list[float], set[int]] | None:
    members = [(w, plan) for w, plan in zip(weights, plans, strict=True) if w > _WEIGHT]
    total = sum(w for w, _ in members)
    for h in range(count):
        if sum(w * plan.excess[h] for w, plan in members) / total > _BUDGET_TOLERANCE_KWH:
            return None
    path = [0.0] * len(plans[0].path)
    for weight, plan in members:
        path = [p + weight / total * e for p, e in zip(path, plan.path, strict=True)]
    return path, set()
