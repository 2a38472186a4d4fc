"""Cars with a minimum power on up to 36 hours: which slots each car charges in, searched.

A minimum power makes the site's problem combinatorial only through the choice of slots each
car charges in. With that choice fixed, the minimum is a lower bound on the chosen slots' powers
and the rest is a linear programme:

- a car with V2G may discharge in the slots it doesn't charge in (a car without a minimum in
  any slot);
- per slot, the house's import is at least its net grid power and at least 0, paid at the
  import price; the net grid power is paid (or earned) at the export price; discharging costs
  its wear;
- the fuse and the export limit;
- under a capacity tariff, every hour's average import at most the peak, which costs its price
  per kW above the month's peak;
- each car between its floor and its full battery, and by each boundary what its targets and
  protective level ask (a shortfall costs far more than any price, and is measured
  afterwards).

Every choice is the same programme with other bounds (`choice_programme.py`), so each is solved
from the basis the last one left (`dual.py`): a few pivots where it differs from the last
choice in a few slots. Each dual pivot's cost is a lower bound of the choice's, so a solve stops
as soon as it reaches the cost from which no choice beats the best plan (`_Descent.cutoff`), or
before the pivot that would: most choices tried are dropped within a few pivots.

The search starts from the site plan's slots. Up to `_BRANCHED_SLOTS` slots it branches and
bounds (`_branch_and_bound`): the programme with the slots not yet decided open to any power
from 0 up, which no choice below it beats, is split on a slot charging below the minimum into
not charging there and each way of charging there (`_ways`: at least the minimum, along the
taper, or filling the battery), until no node may beat the best plan by more than the
search's gap. Where that spends its budget, or beyond those slots, it changes the choice a
little at a time, keeping each change that makes the plan (checked as every other site plan
is) better, until a whole round of changes finds nothing better, the plan is `good_enough`,
or the `Budget` is spent. The small changes (`_small_changes`) come first; the wide ones
(`_wide_changes`, and `_chains`, where one car takes the hour another leaves) follow, ranked
by what the house would pay with the powers simply moved and the energy a car loses or gains
made up in its marginal slot, energy moved past a car's last need counting as lost
(`_Estimate`).
Beyond a day (and wherever the first descent spends its budget) a second descent from the
same start ranks all the changes that way, and beyond a day a third starts from the slots
where the cars charge in the programme without the minimum powers (`relaxed`, rounded); the
best plan wins. Beyond a day, a sweep from it tries every move of a slot by one car, the most
import price saved first (`_priced_moves`), which the estimate may rank last. Where the branch
and bound spent its budget, both its own plan and the descents' best are searched by branch and
bound again over windows of a few slots with the rest held (`_window_searches`), and the better
plan wins: there two cars may trade many slots at once, which no single change pays for. A last
sweep (`_handoffs`) has each car add or drop a slot, then each move of a slot by one car alone,
with another car taking the slot it leaves, leaving the one it enters (and maybe moving on to
another: a chain), or both (the two cars swap): a gain there often opens a single move again.

A taper adds, per charged slot, the power at most each falling piece of the taper at the
slot's start energy (linear in the powers before). Where the taper falls below the minimum, a
slot can't charge at the minimum: there the car charges at exactly its taper, and a slot that
fills the battery may charge at any power. In the descents, which of these applies to each
chosen slot is read from the energies of the plan the choice comes from, then from the
programme's own solution while that changes it (`_branches`); each way is a part of the
model, so its plan keeps every limit.

It applies where that programme is the whole model: no slot whose export pays more than its
import. Where one does (an import price below zero without an export price, say), the
house's cost there is the lesser of its power at either price, which no programme holds:
`search_slots` then also chooses which way the house's power goes in each such slot
(the programme holds either way, `ChoiceProgramme.set_directions`). The branch and bound
splits such a slot into importing and exporting where its relaxation prices it below its
cost (`_underpriced`), before any car's slot; each round of the search starts from the
directions of the best plan so far and turns one direction at a time, with the cars with a
minimum taking or leaving that slot, while that pays (`_turned_directions`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
import heapq
from itertools import pairwise
import math

from .choice_programme import (
    MET_KWH,
    SHORT_COST,
    ChoiceProgramme,
    Direction,
    SlotWay,
    Solved,
    two_way_slots,
)
from .curve import ChargeCurve
from .exchange import energy_path, house_grid
from .site import Car, free_high, hour_imports, lower_bounds, peak_cost, slot_cost

# Of each car's moves into an hour, and of the other's out of it, this many likeliest are
# chained (`_chains`).
_CHAIN_MOVES = 6
# A car charges in a slot when its power is above this (kW).
_CHARGING_KW = 1e-9
# A plan's power may pass the taper by this much (kW): rounding in the programme.
_CURVE_KW = 1e-9
# Programmes solved per choice at most, each with the ways of charging the last one read.
_BRANCH_ROUNDS = 3
# How a car charges in a chosen slot: at least its minimum, or at any power up to filling the
# battery by the slot's end; an index from 0 up is the line of its taper it charges at exactly
# (`_lines`), where the taper is below the minimum.
_AT_LEAST = -1
_FILLS = -2
# The programme's cost may pass a cutoff by this share (rounding) before a choice is dropped.
_CUTOFF_MARGIN = 1e-9
# An open slot whose power is this close (kWh) to 0 or the minimum is not split further.
_SPLIT_KWH = 1e-6
# Not yet decided (a node of `_branch_and_bound`): any power from 0 up to the curve, and a car
# with V2G may discharge there too, which relaxes both choices.
_OPEN = -3
# Decided not to charge in (a node of `_branch_and_bound`).
_OFF = -4
# The house's power decided to go into or out of the grid in a slot priced both ways (a node
# of `_branch_and_bound`, under the key (`_GRID`, slot)).
_GRID = -1
_IMPORTING = -5
_EXPORTING = -6
# A slot priced both ways is split where its relaxation prices it this much below its cost.
_SPLIT_COST = 1e-9

_Flows = list[tuple[list[float], list[float]]]
# Per car, whether it charges in each slot.
_Choice = list[list[bool]]
# Per car and slot, how it charges there (`_AT_LEAST`, `_FILLS` or a taper line).
_Branches = list[list[int]]
_Key = tuple[tuple[int, ...], ...]
# A change of a choice: per car, the slots it changes and whether it charges there then.
_Change = dict[int, tuple[tuple[int, bool], ...]]
# Each car's moves of a slot (left, entered) by (car, hour left, hour entered).
_Moves = dict[tuple[int, int, int], list[tuple[int, int]]]


def applies(cars: Sequence[Car]) -> bool:
    """True where the programme is the whole model: no slot whose export pays more than its
    import (importing and exporting at once then never pays, nor does charging and
    discharging, but at a negative price: see `multi._solved_exactly`)."""
    for price in cars[0].horizon.prices:
        export = 0.0 if price.export_price is None else price.export_price
        if export > price.import_price:
            return False
    return True


@dataclass(frozen=True, slots=True)
class Budget:
    """How long a search may run: programmes solved at most, whether a second descent tries
    the likeliest of all changes first (one does anyway where the first spends its budget),
    the programmes of a third one from the plan without the minimum powers, rounded
    (`_rounded_descent`; 0: none), of a sweep over single cars' moves by the import price
    they save (`_priced_moves`; 0: none), and of a last one over single slots and those
    moves, alone and with another car taking or leaving a slot they touch (`_handoffs`; 0:
    none)."""

    programmes: int
    likeliest_too: bool = False
    rounded: int = 0
    priced: int = 0
    handoffs: int = 0


# Each programme is a few milliseconds on a day of quarters, and a fraction of one where the
# programme's cost reaches the best plan's within a few pivots (`_Descent.cutoff`). On up to a
# day every change is tried; a second descent there took half as long again for gains below
# 3e-4. Beyond, the plans from each car planned first (`multi._other_orders`) are a closer
# start; the second descent took the scans' houses above 0.1 % from 8 to 6 of 48. The third
# took the last of 36 real-price houses from 0.32 % to 0.08 % and three more below 1e-5. The
# last one tries every move of a slot by one car (`_priced_moves`): the estimate (`_Estimate`)
# counts a move into an hour at the capacity tariff's peak as raising it, where the programme
# lowers a car's power in another slot of the hour instead, and ranks such moves last. With
# the cutoff, 3,000 programmes per descent and every wide change, ranked, rather than 500 of
# the likeliest 200, and every move rather than the 300 saving the most import price: of 40
# real-price houses of 28-36 hours, those above 0.1 % of the optimum went from 7 (up to
# 2.4 %) to none (the worst 0.042 %), in about 1.6 times the time (the slowest 21 s); of 12
# on noise prices, from 3 to 2; of 20 more real-price houses drawn afterwards, from 4 (up to
# 5.2 %) to 3 (up to 1.1 %). Last, a sweep over each move with the other car taking the slot
# left or leaving the slot entered (`_handoffs`): none of those 12 was a move away from a better
# plan, yet handoffs took one from 0.29 % to the optimum and another from 0.65 % to 0.16 %,
# for a sixth more time on the real-price houses, where it found nothing more. That sweep now
# also adds and drops single slots, tries each move alone, and has the two cars swap a move's
# slots: a gain there opens moves the sweep before had tried. Of the last 20 real-price houses,
# those above 0.1 % went from 3 (1.1 %, 0.21 %, 0.18 %) to none, and of the 12 on noise
# prices from 1 (0.16 %) to none, with the solves sparing the pivot that reaches the cutoff.
# Within a day the last sweep runs too, after the windows, on the better plan; its chains
# move a slot on from one car to the other, ranked by the price each move saves at the
# house's grid power (solar exported is worth its export price), and a choice reads the taper
# where its lowest energies reach it (`_in_sure_tapers`). Of 300 random cases of up to 56
# quarters, those above 0.1 % of the optimum went from 1 (6.7 %) to none; of 300 of up to 64,
# 2 stayed above (2.7 % and 4.8 %, now 0.16 % and 2.6 %); the sets of up to 48 and 60
# quarters stayed at none. The 56-quarter set took 126 s against 109 s; the others no longer
# than before. On the long houses every gap stayed the same.
WITHIN_A_DAY = Budget(1500, handoffs=20_000)
# Each sweep stops after this much work (`ChoiceProgramme.work`: 5 to 18 s here). A real-price
# house of 29 hours with V2G, 5.2 % above the optimum before, was still 1.1 % above after both
# sweeps: they kept gaining for 9e9 and 10e9 of work. With the pivot that reaches the cutoff
# spared, the moves' sweep ends by itself within 6e9, and the last one reaches the optimum
# within it (39-45 s for the whole plan, against 51 s for the 1.1 % one).
_SWEEP_WORK = 6_000_000_000
BEYOND_A_DAY = Budget(3000, likeliest_too=True, rounded=250, priced=10_000, handoffs=20_000)
# Rounds of directions of `search_slots` at most.
_DIRECTION_ROUNDS = 4
# Up to this many slots, the search starts with a branch and bound over the choices of slots
# (`_branch_and_bound`): at most `_BRANCHED_PROGRAMMES` programmes, and at most
# `_BRANCHED_WORK` of the work of solving them (their pivots times the tableau's rows and
# columns: 1 to 3 ns apiece here, so 2 to 6 s), then the open slots of the `_ROUNDED_NODES`
# lowest nodes left are rounded. The descents follow unless it proved the plan. On seeded
# random cases of two cars with minimums, against the branch and bound on up to 24 slots with
# 16,000,000 / slots cubed programmes: of 500 on up to 12 hours of quarters, 2 above 0.1 % of
# the optimum instead of 3, in 92 s instead of 187 s (the slowest 26 s against 18 s: the
# budget is spent where nothing is proved); of 300 on up to 48 hours, 1 instead of 2 (one
# had been 52 % above), in 46 s against 54 s. A budget in programmes by slots cubed left that
# one unproved: its programmes were small, with most slots closed by the fuse. Each split
# follows its likeliest child down to a plan: of 300 on up to 64 quarters, split by lowest cost
# alone, one of 32 slots never reached a plan within the budget and ended 9.5 % above the
# optimum; with the plunge it reaches it, and that set's total went from 137 s to 113 s. Up to
# 64 slots rather than 48, the set's cases above 0.1 % went from 3 to 2 (one of 49 slots 8.8 %
# above went to the optimum), in 129 s, the slowest 22 s against 11 s. A child whose solve
# reaches the best plan's cost stops there (`_Descent.cutoff`), so the work budget covers more
# nodes: one of those two went from 6.5 % to 3.4 % above, and the sets of up to 48 hours and
# 12 hours of quarters took 18 s and 76 s instead of 22 s and 84 s. Up to 96 slots (a day of
# quarters) rather than 64, with the last sweep's takeovers (`_handoffs`): of 65 random cases
# of 19 to 24 hours of quarters on real tariffs, those above 0.1 % went from 8 (up to 2.1 %) to
# 2 (1.3 % and 0.72 %), in 315 s against 247 s (the slowest 38 s against 37 s); of 51 on any
# tariff, from 4 (up to 1.4 %) to 2 (0.30 % and 0.17 %), in 393 s against 314 s.
_BRANCHED_SLOTS = 96
_BRANCHED_WORK = 2_000_000_000
_BRANCHED_PROGRAMMES = 5000
_ROUNDED_NODES = 20
# Where the branch and bound proves nothing, it runs again on windows of this many slots,
# `_WINDOW_STEP` apart, each within `_WINDOW_PROGRAMMES` (`_window_searches`): from its own plan
# within `_EARLY_WINDOWS_WORK`, and from the descents' plan within `_WINDOWS_WORK` (2 to 6 and
# 4 to 12 s here). On the seeded random cases of two cars with minimums: of 300 on up to 48 hours,
# none above 0.1 % of the optimum instead of 1 (0.5 %), in 53 s against 46 s (the slowest 36 s
# against 27 s); of 500 on up to 12 hours of quarters, none instead of 2 (0.9 % and 2.5 %), in
# 107 s against 92 s. Windows only after the descents left the 2.5 % one; windows only before
# them, with the descents starting from their plan, left two others. With HiGHS, windows of 8
# slots took two of the three to the optimum from the descents' plans; the third needed 32.
_WINDOW_SLOTS = 8
_WINDOW_STEP = 4
_WINDOW_PROGRAMMES = 100
_WINDOWS_WORK = 2 * _BRANCHED_WORK
_EARLY_WINDOWS_WORK = _BRANCHED_WORK
# Programmes of the likeliest-first descent that follows one that spent its budget. Two cars
# charging whole quarters at full power, as cars switched on and off do, ended 0.2-0.5 % above
# the optimum on two of the benchmark's four days without it; with it all four reach the
# optimum, each within its first 80 programmes. Where it gains nothing, a whole budget took
# the kept cases a third longer.
_AFTER_SPENT = 300
# A car charges in a slot of the rounded plan where, without the minimum powers, it charges at
# least this share of its minimum there: a quarter took that house below 0.1 %, a half and
# three quarters left it at 0.2 %.
_ROUNDED_SHARE = 0.25


@dataclass(frozen=True, slots=True)
class Judging[Judged]:
    """How the search judges plans: `judge` checks the powers of a choice of slots (None where
    they break a limit), `better` compares two plans, `may_beat` is a quick look whether
    powers can make a plan better than another at all, and the search stops at a plan
    `good_enough` (close to what no choice can beat, `relaxed`). The branch and bound ranks
    its nodes by the `cost` of their powers, and drops those not `worth` splitting."""

    judge: Callable[[_Flows], Judged | None]
    better: Callable[[Judged, Judged], bool]
    may_beat: Callable[[_Flows, Judged], bool]
    good_enough: Callable[[Judged], bool]
    # What the house pays with these powers; whether a plan that costs that much and leaves
    # that much short (kWh), or any plan costing more, may beat a plan by more than the gap.
    cost: Callable[[_Flows], float]
    worth: Callable[[float, float, Judged], bool]
    # The cost with each kWh short priced at `SHORT_COST` from which no plan is better than
    # this one (infinite where none is known).
    limit: Callable[[Judged], float]


def search_slots[Judged](
    cars: list[Car],
    base: list[float],
    flows: _Flows,
    start: Judged,
    judging: Judging[Judged],
    budget: Budget,
    without_minimums: _Flows | None = None,
) -> Judged:
    """The best plan found from `start`, whose powers are `flows`: on up to `_BRANCHED_SLOTS`
    slots by branch and bound; else (or where that spends its budget) `_descents` within
    `budget`, and from the best of them single cars' moves by the price they save
    (`_priced_moves`, where the budget says); where the branch and bound spent its budget, the
    better of its plan and the descents' after `_window_searches` from each; then the last
    sweep (`_handoffs`, where the budget says).

    Where some slot's export pays more than its import, the house's cost is not convex in its
    power there, so which way its power goes in each such slot is chosen as well. Each round
    takes the directions of the best plan so far, plans with them held (the slots each car
    charges in searched as above, where a car has a minimum; the directions alone by branch
    and bound otherwise), then turns each slot's direction the other way while that pays
    (`_turned_directions`); until a round finds nothing better."""
    problem = _Problem.of(cars, base)
    if not problem.two_way:
        return _searched(problem, flows, start, judging, budget, without_minimums).best
    best = _Descent(problem, judging, start, flows)
    for _ in range(_DIRECTION_ROUNDS):
        problem = _Problem.of(cars, base)
        problem.directions.update(_directions_of(problem, best.around))
        if any(least > 0.0 for least in problem.least):
            searched = _searched(problem, best.around, best.best, judging, budget, without_minimums)
        else:
            searched = _Descent(problem, judging, best.best, best.around)
            searched.improves(_choice_of(problem, best.around))
            if len(base) <= _BRANCHED_SLOTS:
                _branch_and_bound(searched, [])
        _turned_directions(searched)
        if not judging.better(searched.best, best.best):
            break
        best = searched
    return best.best


def _searched[Judged](
    problem: _Problem,
    flows: _Flows,
    start: Judged,
    judging: Judging[Judged],
    budget: Budget,
    without_minimums: _Flows | None,
) -> _Descent[Judged]:
    """`search_slots` on this problem (its directions set): the descent holding the best plan."""
    searched = _Descent(problem, judging, start, flows)
    if judging.good_enough(start):
        return searched
    chosen = [k for k, least in enumerate(problem.least) if least > 0.0]
    windowed: _Descent[Judged] | None = None
    if len(problem.base) <= _BRANCHED_SLOTS:
        if _branch_and_bound(searched, chosen)[0]:
            return searched
        # The windows reach other optima from the branch and bound's plan than from the
        # descents' (which start from it too): both are searched.
        windowed = _Descent(problem, judging, searched.best, searched.around)
        _window_searches(windowed, chosen, _EARLY_WINDOWS_WORK)
    best = _descents(searched, _choice_of(problem, searched.around), chosen, budget)
    if budget.rounded and without_minimums is not None and not judging.good_enough(best.best):
        rounded = _rounded_descent(problem, judging, without_minimums, chosen, budget)
        if rounded is not None and judging.better(rounded.best, best.best):
            best = rounded
    if budget.priced:
        best.sweep(partial(_priced_moves, problem, chosen), budget.priced)
    if windowed is not None:
        _window_searches(best, chosen, _WINDOWS_WORK)
        if judging.better(windowed.best, best.best):
            best = windowed
    if budget.handoffs:
        best.sweep(partial(_handoffs, problem, chosen), budget.handoffs)
    return best


def _directions_of(problem: _Problem, flows: _Flows) -> dict[int, bool]:
    """Per slot priced both ways, whether the house imports there with these powers (at 0
    either way holds)."""
    grid = house_grid(problem.base, flows)
    return {t: grid[t] >= 0.0 for t in problem.two_way}


def _turned_directions[Judged](descent: _Descent[Judged]) -> None:
    """Turn the direction of each slot priced both ways in turn, keeping each turn that makes
    the plan better, until a whole round finds none or `_SWEEP_WORK` is spent. A turn to
    importing may need cars with a minimum to charge there (the house's power below 0
    otherwise), and one to exporting may need them to stop: each set of them is tried too."""
    problem, judging = descent.problem, descent.judging
    two_way = problem.two_way
    chosen = [k for k, least in enumerate(problem.least) if least > 0.0]
    groups = [
        [k for i, k in enumerate(chosen) if mask >> i & 1] for mask in range(1 << len(chosen))
    ]
    most_work = _work(problem) + _SWEEP_WORK
    unchanged = position = 0
    while (
        unchanged < len(two_way)
        and _work(problem) < most_work
        and not judging.good_enough(descent.best)
    ):
        t = two_way[position % len(two_way)]
        position, unchanged = position + 1, unchanged + 1
        was = problem.directions[t]
        problem.directions[t] = importing = not was
        choice = _choice_of(problem, descent.around)
        for group in groups:
            change: _Change = {k: ((t, importing),) for k in group if choice[k][t] != importing}
            # A car of the group already charging that way: a smaller group tries it.
            if len(change) < len(group):
                continue
            if descent.improves(_changed(choice, change)):
                unchanged = 0
                break
        else:
            problem.directions[t] = was


@dataclass(order=True)
class _Node:
    """A node of `_branch_and_bound`: its programme's cost with what it leaves short priced
    as the programme prices it (no plan below it ranks lower), the cost and the shortfall
    (kWh) apart, how each decided slot (car, slot) charges (`_OFF`, or a way of `_ways`) and
    its powers."""

    rank: float
    cost: float = field(compare=False)
    short_kwh: float = field(compare=False)
    fixed: dict[tuple[int, int], int] = field(compare=False)
    flows: _Flows = field(compare=False)


def _branch_and_bound[Judged](
    descent: _Descent[Judged],
    chosen: list[int],
    decided: dict[tuple[int, int], int] | None = None,
    programmes: int = _BRANCHED_PROGRAMMES,
    most_work: int = _BRANCHED_WORK,
) -> tuple[bool, int]:
    """Every choice of the slots not `decided`, by branch and bound: a node's programme leaves
    the slots not yet decided open (`_OPEN`), so no choice below it costs less; the node with
    the lowest cost is split, on the slot whose power is furthest from both 0 and the minimum,
    into not charging there and each way it may charge there (`_ways`), and then its likeliest
    child, down to a plan (a plunge), before the lowest node left again; until no node
    may beat the best plan by more than the search's gap or its budget is spent (`programmes`
    and `most_work`). True where that proves the best plan the optimum within the gap (of
    those choices): no node is left, and no leaf's plan cost more than its node. And the work
    it spent (`_open_node`)."""
    problem, judging = descent.problem, descent.judging
    node_of = partial(_open_node, descent, chosen)
    ways = _ways(problem, chosen)
    closed = {slot: _OFF for slot, own in ways.items() if own == (_OFF,)}
    root, work = node_of({**(decided or {}), **closed})
    if root is None:
        return True, work
    nodes, spent, exact = [root], 1, True
    plunge: _Node | None = None
    while (plunge is not None or nodes) and spent < programmes and work < most_work:
        node = plunge if plunge is not None else heapq.heappop(nodes)
        plunge = None
        if not judging.worth(node.cost, node.short_kwh, descent.best):
            continue
        split = _furthest(problem, chosen, node)
        if split is None:
            problem.directions.update(_settled_directions(problem, node))
            descent.improves(_settled(problem, chosen, node), node.flows)
            # Its plan may cost more than the node where the slots' energies read another way
            # than the node's: then nothing is proved.
            exact = exact and not judging.worth(node.cost, node.short_kwh, descent.best)
            continue
        children = []
        for way in ways[split]:
            child, more = node_of({**node.fixed, split: way})
            spent, work = spent + 1, work + more
            if child is not None and judging.worth(child.cost, child.short_kwh, descent.best):
                children.append(child)
        if children:
            # The likeliest child is split next, down to a plan: a plan found early prunes.
            plunge = min(children)
            for child in children:
                if child is not plunge:
                    heapq.heappush(nodes, child)
    if plunge is not None:
        heapq.heappush(nodes, plunge)
    # Spent: the likeliest nodes' slots, each open one charging where it has energy.
    for node in heapq.nsmallest(_ROUNDED_NODES, nodes):
        problem.directions.update(_settled_directions(problem, node))
        descent.improves(_settled(problem, chosen, node), node.flows)
    problem.directions.update(_directions_of(problem, descent.around))
    return exact and not nodes, work


def _decided_directions(
    problem: _Problem, fixed: dict[tuple[int, int], int]
) -> dict[int, Direction]:
    """Per slot priced both ways, the direction a node decided, None (open) elsewhere."""
    return {
        t: None if (way := fixed.get((_GRID, t))) is None else way == _IMPORTING
        for t in problem.two_way
    }


def _settled_directions(problem: _Problem, node: _Node) -> dict[int, bool]:
    """A node's directions where no slot is to be split: those decided, and the way its
    powers go in the others."""
    grid = house_grid(problem.base, node.flows)
    return {
        t: grid[t] >= 0.0 if (way := node.fixed.get((_GRID, t))) is None else way == _IMPORTING
        for t in problem.two_way
    }


def _window_searches[Judged](descent: _Descent[Judged], chosen: list[int], most_work: int) -> None:
    """A branch and bound over the chosen cars' slots in a window of `_WINDOW_SLOTS`, every
    other slot held as the best plan charges there: a neighbourhood of many changes at once,
    as where two cars trade several slots, that a descent's single changes can't cross. The
    windows step along the horizon and round again, until a whole round since the last better
    plan finds none, the plan is good enough, or `most_work` is spent."""
    problem = descent.problem
    n = len(problem.base)
    if n <= _WINDOW_SLOTS:
        return
    starts = [*range(0, n - _WINDOW_SLOTS, _WINDOW_STEP), n - _WINDOW_SLOTS]
    work = unchanged = position = 0
    while (
        unchanged < len(starts)
        and work < most_work
        and not descent.judging.good_enough(descent.best)
    ):
        start = starts[position % len(starts)]
        position, unchanged = position + 1, unchanged + 1
        choice = _choice_of(problem, descent.around)
        branches = _branches(problem, choice, descent.around)
        held = {
            (k, t): branches[k][t] if choice[k][t] else _OFF
            for k in chosen
            for t in range(n)
            if not start <= t < start + _WINDOW_SLOTS
        }
        for t, importing in _directions_of(problem, descent.around).items():
            if not start <= t < start + _WINDOW_SLOTS:
                held[_GRID, t] = _IMPORTING if importing else _EXPORTING
        before = descent.best
        _, more = _branch_and_bound(descent, chosen, held, _WINDOW_PROGRAMMES, most_work - work)
        work += more
        if descent.best is not before:
            unchanged = 0


def _ways(problem: _Problem, chosen: list[int]) -> dict[tuple[int, int], tuple[int, ...]]:
    """Per chosen car and slot, not charging there and each way it may charge there, which
    together hold every power it may take: at least its minimum, where the fuse and the other
    cars' discharge leave room for it; exactly along each line of its taper that may be below
    the minimum by then; and filling the battery, where less than the minimum may do that by
    then (at the most it can hold, charging at the most it may)."""
    cars, base = problem.cars, problem.base
    site = cars[0].request.site
    assert site is not None
    ways: dict[tuple[int, int], tuple[int, ...]] = {}
    for k in chosen:
        car, least, full = cars[k], problem.least[k], problem.full[k]
        gain, top = car.request.charge.efficiency, car.curve.powers[0]
        lent = sum(c.request.discharge.max_kw for c in cars if c is not car and c.request.discharge)
        most = min(car.start_kwh, full)
        for t, hours in enumerate(car.horizon.hours):
            highest = min(top, max(site.import_cap_kw, base[t]) - base[t] + lent)
            lower = min(least, highest + _CURVE_KW)
            at_least = [_AT_LEAST] if highest >= least - _CURVE_KW else []
            below = [
                j
                for j, line in enumerate(problem.lines[k])
                if min(_at(line, 0.0), _at(line, most)) < lower
            ]
            fills = [_FILLS] if full - most < hours * gain * lower else []
            ways[k, t] = (_OFF, *at_least, *below, *fills)
            most = min(most + hours * gain * max(highest, 0.0), full)
    for t in problem.two_way:
        ways[_GRID, t] = (_IMPORTING, _EXPORTING)
    return ways


def _furthest(problem: _Problem, chosen: list[int], node: _Node) -> tuple[int, int] | None:
    """The open slot (car, slot) whose power is furthest from both 0 and what the car charges
    at least there (its minimum, where its curve or a full battery allow), or where it both
    charges and discharges; None where every open slot's power is either. A slot priced
    both ways whose direction is open comes first, where its relaxation prices it lowest
    below its cost (`_underpriced`)."""
    grid_split = _underpriced(problem, node)
    if grid_split is not None:
        return grid_split
    furthest, split = _SPLIT_KWH, None
    for k in chosen:
        car = problem.cars[k]
        pcs, pds = node.flows[k]
        for t, energy in enumerate(_starts(car, node.flows[k])):
            if (k, t) in node.fixed:
                continue
            hours = car.horizon.hours[t]
            lowest = _least_from(problem, k, hours, energy)
            apart = min(pcs[t], pds[t]) if pds[t] > 0.0 else min(pcs[t], lowest - pcs[t])
            if hours * apart > furthest:
                furthest, split = hours * apart, (k, t)
    return split


def _underpriced(problem: _Problem, node: _Node) -> tuple[int, int] | None:
    """The slot priced both ways, its direction open, that the node's programme prices most
    below its cost: there the programme exports up to what the house could export beyond
    its power (`ChoiceProgramme.set_directions`). None where each is within `_SPLIT_COST`."""
    if not problem.two_way or not problem.programme:
        return None
    slots = problem.programme[0].two_way
    hours, prices = problem.cars[0].horizon.hours, problem.cars[0].horizon.prices
    grid = house_grid(problem.base, node.flows)
    most, split = _SPLIT_COST, None
    for t in problem.two_way:
        if (_GRID, t) in node.fixed:
            continue
        price, net, slot = prices[t], grid[t], slots[t]
        export = 0.0 if price.export_price is None else price.export_price
        relaxed = price.import_price * net - (export - price.import_price) * min(
            slot.most_export, max(0.0, slot.most_import - net)
        )
        below = hours[t] * (min(price.import_price * net, export * net) - relaxed)
        if below > most:
            most, split = below, (_GRID, t)
    return split


def _settled(problem: _Problem, chosen: list[int], node: _Node) -> _Choice:
    """The slots a node charges in where no open slot is to be split: those decided so, and
    the open ones whose energy is more than rounding."""
    hours = problem.cars[0].horizon.hours
    return [
        [
            (node.fixed[k, t] != _OFF if (k, t) in node.fixed else hours[t] * pc > _SPLIT_KWH)
            if k in chosen
            else True
            for t, pc in enumerate(pcs)
        ]
        for k, (pcs, _) in enumerate(node.flows)
    ]


def _open_node[Judged](
    descent: _Descent[Judged], chosen: list[int], fixed: dict[tuple[int, int], int]
) -> tuple[_Node | None, int]:
    """A node's powers and their cost: each decided slot as `fixed` says, the others of the
    chosen cars open; None without a solution, or where none below the node may beat the
    best plan (`_Descent.cutoff`). And the work of solving its programme
    (`ChoiceProgramme.work`), 0 where it was not solved."""
    problem = descent.problem
    n = len(problem.base)
    choice = [
        [fixed.get((k, t), _OPEN) != _OFF for t in range(n)] for k in range(len(problem.cars))
    ]
    branches = [
        [fixed.get((k, t), _OPEN) if k in chosen else _AT_LEAST for t in range(n)]
        for k in range(len(problem.cars))
    ]
    problem.directions.update(_decided_directions(problem, fixed))
    before = _work(problem)
    solved = _solved(problem, choice, branches, cutoff=descent.cutoff())
    work = _work(problem) - before
    if solved is None:
        return None, work
    paid = descent.calibrated(solved)
    if problem.two_way:
        # The programme's cost, which prices an open direction below the plan's.
        assert descent.offset is not None
        paid = solved.objective - SHORT_COST * solved.short_kwh + descent.offset
    rank = paid + SHORT_COST * solved.short_kwh
    return _Node(rank, paid, solved.short_kwh, fixed, solved.flows), work


def _least_from(problem: _Problem, k: int, hours: float, energy: float) -> float:
    """The least car `k` charges at in a slot of `hours` it charges in from `energy`: its
    minimum, or its taper there where that is lower, or what fills its battery."""
    car = problem.cars[k]
    room = (problem.full[k] - energy) / (hours * car.request.charge.efficiency)
    return min(problem.least[k], car.curve.power_limit(energy), room)


def _descents[Judged](
    start: _Descent[Judged], choice: _Choice, chosen: list[int], budget: Budget
) -> _Descent[Judged]:
    """The best of a descent from `start` (whose slots are `choice`) trying the small changes
    first and, where the budget says or the first spends it, one trying the likeliest first:
    each reaches local optima the other misses."""
    judging = start.judging
    best, own = start, budget
    for likeliest_first in (False, True):
        descent = _Descent(start.problem, judging, start.best, start.around)
        descent.descend(choice, chosen, own, likeliest_first)
        if judging.better(descent.best, best.best):
            best = descent
        # A descent that spent its budget stopped short of a local optimum: the likeliest
        # changes first reach further, and soon (`_AFTER_SPENT`).
        spent = len(descent.seen) > budget.programmes
        if judging.good_enough(best.best) or not (budget.likeliest_too or spent):
            break
        if not budget.likeliest_too:
            own = replace(budget, programmes=min(budget.programmes, _AFTER_SPENT))
    return best


def _choice_of(problem: _Problem, flows: _Flows) -> _Choice:
    """The slots each car charges in with these powers; a car without a minimum may charge
    in every slot (the programme sets its powers)."""
    return [
        [pc > _CHARGING_KW or least <= 0.0 for pc in pcs]
        for (pcs, _), least in zip(flows, problem.least, strict=True)
    ]


def _rounded_descent[Judged](
    problem: _Problem,
    judging: Judging[Judged],
    without_minimums: _Flows,
    chosen: list[int],
    budget: Budget,
) -> _Descent[Judged] | None:
    """A descent from the slots where the cars charge without their minimum powers (at least
    `_ROUNDED_SHARE` of it): a start far from the site plan's, in the valley of the optimum
    without the minimums. None where that choice's plan breaks a limit."""
    choice = [
        [pc >= _ROUNDED_SHARE * least or least <= 0.0 for pc in pcs]
        for (pcs, _), least in zip(without_minimums, problem.least, strict=True)
    ]
    branches = _branches(problem, choice, without_minimums)
    for solved in _solutions(problem, choice, branches):
        powers = solved.flows
        judged = judging.judge(powers)
        if judged is not None:
            descent = _Descent(problem, judging, judged, powers)
            own = replace(budget, programmes=budget.rounded)
            descent.descend(choice, chosen, own, likeliest_first=False)
            return descent
    return None


class _Descent[Judged]:
    """One search from a plan: the best plan so far, its powers, and the choices tried."""

    def __init__(
        self, problem: _Problem, judging: Judging[Judged], start: Judged, flows: _Flows
    ) -> None:
        self.problem, self.judging = problem, judging
        self.best, self.around = start, flows
        # Choices already tried, with how each car charges in each slot: a later round meets
        # most of them again.
        self.seen: set[tuple[_Key, _Key, tuple[Direction, ...]]] = set()
        # What the house pays beyond the programme's cost (the same for every choice): read
        # off the first solution.
        self.offset: float | None = None

    def cutoff(self) -> float:
        """The programme's cost from which no choice beats the best plan (`Judging.limit`)."""
        if self.offset is None:
            return math.inf
        limit = self.judging.limit(self.best)
        return limit - self.offset + _CUTOFF_MARGIN * (1.0 + abs(limit))

    def calibrated(self, solved: Solved) -> float:
        """What the house pays with a solution's powers; the first one read sets `offset`."""
        paid = self.judging.cost(solved.flows)
        if self.offset is None:
            self.offset = paid + SHORT_COST * solved.short_kwh - solved.objective
            if self.problem.two_way:
                # A solution with a direction open costs more than its programme says.
                self.offset = self.problem.load_cost()
        return paid

    def improves(self, other: _Choice, around: _Flows | None = None) -> bool:
        """Whether the plan with these slots is better than the best so far (kept if so), each
        car charging in them as the energies of `around` (or the best plan's) say."""
        problem, judging = self.problem, self.judging
        branches = _branches(problem, other, self.around if around is None else around)
        key = (_key(other), _key(branches), tuple(problem.directions.values()))
        if key in self.seen:
            return False
        self.seen.add(key)
        found = False
        for solved in _solutions(problem, other, branches, self.cutoff()):
            powers = solved.flows
            if self.offset is None:
                self.calibrated(solved)
            if not judging.may_beat(powers, self.best) or not _within_curves(problem, powers):
                continue
            judged = judging.judge(powers)
            if judged is not None and judging.better(judged, self.best):
                self.best, self.around, found = judged, powers, True
        return found

    def descend(
        self, choice: _Choice, chosen: list[int], budget: Budget, likeliest_first: bool
    ) -> None:
        """Keep each change that makes the plan better, until a whole round of changes finds
        nothing, the plan is good enough, or the budget is spent. The plan's own slots first:
        its powers may not be the best for them."""
        self.improves(choice)
        changes = self.changes(choice, chosen, likeliest_first)
        unchanged = position = 0
        while (
            len(self.seen) <= budget.programmes
            and unchanged < len(changes)
            and not self.judging.good_enough(self.best)
        ):
            other = changes[position % len(changes)]
            position += 1
            unchanged += 1
            if self.improves(other):
                choice, changes = other, self.changes(other, chosen, likeliest_first)
                unchanged = position = 0

    def sweep(
        self, changes_of: Callable[[_Choice, _Flows], list[_Change]], programmes: int
    ) -> None:
        """Try the changes (`changes_of` the plan's choice and powers) in turn, keeping each that
        makes the plan better and going on from there with the changes of its choice, until a
        whole round finds none, or `programmes` more or `_SWEEP_WORK` are spent."""
        limit = len(self.seen) + programmes
        most_work = _work(self.problem) + _SWEEP_WORK
        choice = _choice_of(self.problem, self.around)
        changes = changes_of(choice, self.around)
        position = unchanged = 0
        while (
            unchanged < len(changes)
            and len(self.seen) <= limit
            and _work(self.problem) < most_work
            and not self.judging.good_enough(self.best)
        ):
            change = changes[position % len(changes)]
            position, unchanged = position + 1, unchanged + 1
            if self.improves(_changed(choice, change)):
                choice = _choice_of(self.problem, self.around)
                changes = changes_of(choice, self.around)
                unchanged = 0

    def changes(self, choice: _Choice, chosen: list[int], likeliest_first: bool) -> list[_Choice]:
        """The small changes, then the wide ones by what the house would pay with the powers
        simply moved, the cheapest first; or, `likeliest_first`, all of them so."""
        hour_of = self.problem.cars[0].hour_of
        estimate = _Estimate(self.problem, self.around, hour_of)
        moves = _moves(choice, chosen, hour_of)
        wide = sorted(
            (
                *_wide_changes(choice, chosen, hour_of, moves),
                *_chains(chosen, moves, estimate, hour_of),
            ),
            key=estimate.moved,
        )
        small = _small_changes(choice, chosen, moves)
        ordered = (
            sorted((*small, *wide), key=estimate.moved) if likeliest_first else (*small, *wide)
        )
        return [_changed(choice, change) for change in ordered]


def relaxed(cars: list[Car], base: list[float]) -> _Flows | None:
    """The cheapest powers without the minimum powers (every slot open to every car, the
    house's power going either way in a slot whose export pays more than its import). None
    where the programme has no solution."""
    return relaxation(cars, base)[0]


def relaxation(cars: list[Car], base: list[float]) -> tuple[_Flows | None, float]:
    """`relaxed`'s powers, and what the house pays at least with any plan meeting the
    targets: that programme's cost, `_Problem.load_cost` added (-inf where it has no solution
    or leaves a target short). Where no slot is priced both ways, the powers' own cost is
    that bound too."""
    problem = replace(_Problem.of(cars, base), least=[0.0] * len(cars))
    problem.directions.update(dict.fromkeys(problem.two_way, None))
    n, count = len(base), len(cars)
    every = [[True] * n for _ in range(count)]
    solved = _solved(problem, every, [[_AT_LEAST] * n for _ in range(count)], relax=True)
    if solved is None:
        return None, -math.inf
    if solved.short_kwh > MET_KWH:
        return solved.flows, -math.inf
    return solved.flows, solved.objective - SHORT_COST * solved.short_kwh + problem.load_cost()


def _solutions(
    problem: _Problem, choice: _Choice, branches: _Branches, cutoff: float = math.inf
) -> Iterator[Solved]:
    """The cheapest powers for this choice, charging in each slot as `branches` say (along the
    taper where `_in_sure_tapers` is sure of it), then as each solution's energies say while
    that changes them (`_branches`), each where the programme's cost of them is below
    `cutoff`. Where that has no solution, `_retried`."""
    branches = _in_sure_tapers(problem, choice, branches)
    tried = [branches]
    for _ in range(_BRANCH_ROUNDS):
        solved = _solved(problem, choice, branches, cutoff=cutoff)
        if solved is None:
            retried = _retried(branches, tried)
            if retried is None:
                return
            branches = retried
            tried.append(branches)
            continue
        yield solved
        branches = _branches(problem, choice, solved.flows)
        if branches in tried:
            return
        tried.append(branches)


def _retried(branches: _Branches, tried: list[_Branches]) -> _Branches | None:
    """The branches to try where these have no solution: the energies they were read from
    need not hold for this choice (another car may need a car to discharge first, or a car
    that discharges more sits below its taper). So each car that was to fill its battery
    charges at its minimum instead; then, that tried too, every car at its minimum, the
    solution telling where its taper holds it. None once both were tried."""
    at_least = [[_AT_LEAST if b == _FILLS else b for b in own] for own in branches]
    if at_least not in tried:
        return at_least
    at_least = [[_AT_LEAST] * len(own) for own in branches]
    return None if at_least in tried else at_least


def _in_sure_tapers(problem: _Problem, choice: _Choice, branches: _Branches) -> _Branches:
    """`branches`, but along the taper where the lowest energies the choice may have
    (`_lowest_flows`) put a car without V2G into it already: read from another plan's
    energies, a slot may say at least the minimum where a car that now charges earlier is in
    its taper, and leave another car too little room under the fuse. A car with V2G may
    discharge below those energies first (on 1,000 random cases of up to 24 hours, reading it
    so too left one 0.38 % above the optimum, which it had reached)."""
    if all(
        car.request.discharge is not None or least <= 0.0
        for car, least in zip(problem.cars, problem.least, strict=True)
    ):
        # No car it applies to (a car without a minimum reads no taper): it runs per choice.
        return branches
    lowest = _branches(problem, choice, _lowest_flows(problem, choice))
    return [
        own
        if car.request.discharge is not None
        else [
            low if way == _AT_LEAST and low >= 0 else way
            for way, low in zip(own, lows, strict=True)
        ]
        for car, own, lows in zip(problem.cars, branches, lowest, strict=True)
    ]


def _lowest_flows(problem: _Problem, choice: _Choice) -> _Flows:
    """Each car charging the least it may in every slot it charges in (`_least_from`) and
    never discharging: a slot where this puts a car into its taper is in its taper in every
    plan of this choice that doesn't discharge before it."""
    flows: _Flows = []
    for k, car in enumerate(problem.cars):
        gain, energy = car.request.charge.efficiency, car.start_kwh
        pcs: list[float] = []
        for t, hours in enumerate(car.horizon.hours):
            power = 0.0
            if choice[k][t] and problem.least[k] > 0.0:
                power = max(0.0, _least_from(problem, k, hours, energy))
            pcs.append(power)
            energy += hours * gain * power
        flows.append((pcs, [0.0] * len(pcs)))
    return flows


def _branches(problem: _Problem, choice: _Choice, flows: _Flows) -> _Branches:
    """How each car charges in each chosen slot, at the slot's start energy in `flows`: in its
    last (in any, with V2G: it may discharge after), up to a full battery where its minimum
    would fill it; where its taper is below the minimum, along the taper's lowest line there;
    elsewhere at least at its minimum."""
    out: _Branches = []
    for k, car in enumerate(problem.cars):
        least, lines = problem.least[k], problem.lines[k]
        gain = car.request.charge.efficiency
        last = max((t for t, own in enumerate(choice[k]) if own), default=-1)
        refills = car.request.discharge is not None
        own: list[int] = []
        for t, energy in enumerate(_starts(car, flows[k])):
            if not choice[k][t] or least <= 0.0:
                own.append(_AT_LEAST)
                continue
            limit = car.curve.power_limit(energy)
            added = car.horizon.hours[t] * gain * min(least, limit)
            if (t == last or refills) and energy + added >= problem.full[k] - MET_KWH:
                own.append(_FILLS)
            elif limit < least:
                own.append(min(range(len(lines)), key=lambda j: _at(lines[j], energy)))
            else:
                own.append(_AT_LEAST)
        out.append(own)
    return out


def _lines(curve: ChargeCurve) -> list[tuple[float, float]]:
    """The curve's limit as the least of lines (kW at no energy, kW per kWh): its first power,
    then each falling piece (a valid taper is concave)."""
    lines = [(curve.powers[0], 0.0)]
    for (e1, p1), (e2, p2) in pairwise(zip(curve.energies, curve.powers, strict=True)):
        slope = (p2 - p1) / (e2 - e1)
        lines.append((p1 - slope * e1, slope))
    return lines


def _at(line: tuple[float, float], energy: float) -> float:
    return line[0] + line[1] * energy


def _within_curves(problem: _Problem, flows: _Flows) -> bool:
    """True when no car charges above its curve's limit at a slot's start energy."""
    for car, car_flows in zip(problem.cars, flows, strict=True):
        for pc, energy in zip(car_flows[0], _starts(car, car_flows), strict=True):
            if pc > car.curve.power_limit(energy) + _CURVE_KW:
                return False
    return True


def _starts(car: Car, flows: tuple[list[float], list[float]]) -> list[float]:
    """The car's energy at the start of every slot with these powers."""
    return [car.start_kwh, *energy_path(car, *flows)[:-1]]


def _key(choice: _Choice | _Branches) -> _Key:
    return tuple(tuple(own) for own in choice)


def _needs(car: Car, base: list[float]) -> dict[int, tuple[float, bool]]:
    """What each boundary needs (kWh) beyond what the car has anyway (its start, or with
    discharging its floor), and whether that is a target's (whose shortfall the plans'
    comparison counts) rather than the protective level's."""
    needs: dict[int, tuple[float, bool]] = {}
    lower = lower_bounds(car, free_high(car, base))
    held = car.start_kwh if car.request.discharge is None else car.floor_kwh
    for boundary in range(1, len(lower)):
        if lower[boundary] > held + MET_KWH:
            needs[boundary] = (lower[boundary], False)
    for rule in car.rules:
        if 1 <= rule.index < len(lower):
            need = max(needs.get(rule.index, (0.0, True))[0], rule.required)
            needs[rule.index] = (need, True)
    return needs


def _small_changes(choice: _Choice, chosen: list[int], moves: _Moves) -> Iterator[_Change]:
    """One car dropping or adding a slot, or moving one within its hour or to the next."""
    slots = range(len(choice[0]))
    for k in chosen:
        for t in slots:
            if choice[k][t]:
                yield {k: ((t, False),)}
        for t in slots:
            if not choice[k][t]:
                yield {k: ((t, True),)}
    for (k, left, entered), forth in moves.items():
        if abs(left - entered) <= 1:
            for a, b in forth:
                yield {k: ((a, False), (b, True))}


def _priced_moves(
    problem: _Problem, chosen: list[int], choice: _Choice, _flows: _Flows
) -> list[_Change]:
    """Each car's moves of a slot to another, the most import price saved first, but none from
    before a car's last need to after it."""
    return [
        {k: ((left, False), (entered, True))}
        for _, k, left, entered in _moves_by_price(problem, chosen, choice)
    ]


def _handoffs(
    problem: _Problem, chosen: list[int], choice: _Choice, flows: _Flows
) -> list[_Change]:
    """Each car adding or dropping a slot; then each move of a slot by one car alone, with
    another car taking the slot it leaves (and maybe moving there from one of its own, by one
    of its `_CHAIN_MOVES` cheapest moves there: the slot is taken over), leaving the slot it
    enters (and maybe moving to one of its `_CHAIN_MOVES` cheapest slots: the two moves pass
    the slot on), or both (a swap).
    The moves go by the price they save at the house's grid power with these `flows` (a slot
    that exports its solar is worth its export price), a chain by both moves'. After a gain
    here, a change the earlier sweeps tried may pay again."""
    changes: list[_Change] = [
        {k: ((t, not own),)} for k in chosen for t, own in enumerate(choice[k])
    ]
    moves = _moves_by_price(problem, chosen, choice, flows)
    onward: dict[tuple[int, int], list[tuple[float, int]]] = {}
    inward: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for saved, k, left, entered in moves:
        if len(further := onward.setdefault((k, left), [])) < _CHAIN_MOVES:
            further.append((saved, entered))
        if len(earlier := inward.setdefault((k, entered), [])) < _CHAIN_MOVES:
            earlier.append((saved, left))
    ranked: list[tuple[float, int, _Change]] = []

    def add(key: float, change: _Change) -> None:
        ranked.append((key, len(ranked), change))

    for key, k, left, entered in moves:
        move = ((left, False), (entered, True))
        add(key, {k: move})
        for j in (j for j in chosen if j != k):
            takes, leaves = not choice[j][left], choice[j][entered]
            if takes:
                add(key, {k: move, j: ((left, True),)})
                for earlier_key, other in inward.get((j, left), ()):
                    if other != entered:
                        add(key + earlier_key, {k: move, j: ((other, False), (left, True))})
            if leaves:
                add(key, {k: move, j: ((entered, False),)})
                for further_key, other in onward.get((j, entered), ()):
                    if other != left:
                        add(key + further_key, {k: move, j: ((entered, False), (other, True))})
            if takes and leaves:
                add(key, {k: move, j: ((entered, False), (left, True))})
    ranked.sort(key=lambda item: item[:2])
    changes.extend(change for _, _, change in ranked)
    return changes


def _moves_by_price(
    problem: _Problem,
    chosen: list[int],
    choice: _Choice,
    flows: _Flows | None = None,
) -> list[tuple[float, int, int, int]]:
    """Each car's moves of a slot as (what it costs more, car, slot left, slot entered), the
    cheapest first, but none from before a car's last need to after it. At the import prices;
    or, with the cars' `flows`, at the price of a slot's grid energy at the margin: its import
    price where the house still imports with the car's power halved there (leaving) or its
    minimum's half added (entering), else its export price."""
    prices = problem.cars[0].horizon.prices
    imports = [price.import_price for price in prices]
    exports = [0.0 if price.export_price is None else price.export_price for price in prices]
    grid = [] if flows is None else house_grid(problem.base, flows)
    moves: list[tuple[float, int, int, int]] = []
    for k in chosen:
        last = max(problem.needs[k], default=len(prices))
        on = [t for t, own in enumerate(choice[k]) if own]
        off = [t for t, own in enumerate(choice[k]) if not own]
        leaving = entering = imports
        if flows is not None:
            pcs, half = flows[k][0], problem.least[k] / 2.0
            leaving = [
                imports[t] if grid[t] - pcs[t] / 2.0 > 0.0 else exports[t] for t in range(len(grid))
            ]
            entering = [
                imports[t] if grid[t] + half > 0.0 else exports[t] for t in range(len(grid))
            ]
        moves.extend(
            (entering[entered] - leaving[left], k, left, entered)
            for left in on
            for entered in off
            if not left < last <= entered
        )
    moves.sort()
    return moves


def _moves(choice: _Choice, chosen: list[int], hour_of: list[int]) -> _Moves:
    """Each car's moves of a slot by (car, hour left, hour entered)."""
    slots = range(len(choice[0]))
    moves: _Moves = {}
    for k in chosen:
        for a in (a for a in slots if choice[k][a]):
            for b in (b for b in slots if not choice[k][b]):
                moves.setdefault((k, hour_of[a], hour_of[b]), []).append((a, b))
    return moves


def _wide_changes(
    choice: _Choice, chosen: list[int], hour_of: list[int], moves: _Moves
) -> Iterator[_Change]:
    """Two cars swapping a slot each; one car leaving a slot where another takes a slot of that
    hour; two cars trading hours (one moving a slot from one hour to another, the other the
    opposite way); one car leaving a slot where another moves into its hour; one car moving a
    slot hours away."""
    slots = range(len(choice[0]))
    on = {k: [t for t in slots if choice[k][t]] for k in chosen}
    off = {k: [t for t in slots if not choice[k][t]] for k in chosen}
    pairs = [(k, j) for k in chosen for j in chosen if k != j]
    for k, j in pairs:
        for a in (a for a in on[k] if k < j and not choice[j][a]):
            for b in (b for b in on[j] if not choice[k][b]):
                yield {k: ((a, False), (b, True)), j: ((b, False), (a, True))}
    for k, j in pairs:
        for a in on[k]:
            for b in (b for b in off[j] if hour_of[b] == hour_of[a]):
                yield {k: ((a, False),), j: ((b, True),)}
    for (k, left, entered), forth in moves.items():
        for j in (j for j in chosen if j > k and left != entered):
            for a, b in forth:
                for c, d in moves.get((j, entered, left), []):
                    yield {k: ((a, False), (b, True)), j: ((c, False), (d, True))}
    for k, j in pairs:
        for a in on[k]:
            for (owner, _, entered), forth in moves.items():
                if owner == j and entered == hour_of[a]:
                    for c, d in forth:
                        yield {k: ((a, False),), j: ((c, False), (d, True))}
    for (k, left, entered), forth in moves.items():
        if abs(left - entered) > 1:
            for a, b in forth:
                yield {k: ((a, False), (b, True))}


def _chains(
    chosen: list[int], moves: _Moves, estimate: _Estimate, hour_of: list[int]
) -> Iterator[_Change]:
    """One car moving a slot into (or adding one in) an hour that another car leaves for
    another hour: the hour's import budget passes from one car to the other, where neither
    move alone pays. Of each car's moves into an hour the `_CHAIN_MOVES` cheapest at the
    slots' prices (the hour's budget is the other car's to free), and of the other's out of
    it the likeliest."""
    by_prices = partial(estimate.moved, peak=False)
    for k in chosen:
        for j in (j for j in chosen if j != k):
            into: dict[int, list[_Change]] = {}
            out: dict[int, list[_Change]] = {}
            addable: set[int] = set()
            for (owner, left, entered), forth in moves.items():
                if owner == k:
                    addable.update(b for _, b in forth)
                if left == entered or owner not in (k, j):
                    continue
                hour, where = (entered, into) if owner == k else (left, out)
                where.setdefault(hour, []).extend(
                    {owner: ((a, False), (b, True))} for a, b in forth
                )
            # Or car k adds a slot there, and charges less where it is dearest.
            for b in addable:
                into.setdefault(hour_of[b], []).append({k: ((b, True),)})
            for hour, entering in into.items():
                leaving = out.get(hour)
                if not leaving:
                    continue
                seconds = heapq.nsmallest(_CHAIN_MOVES, leaving, key=estimate.moved)
                for first in heapq.nsmallest(_CHAIN_MOVES, entering, key=by_prices):
                    for second in seconds:
                        yield {**first, **second}


def _changed(choice: _Choice, changes: _Change) -> _Choice:
    out = [list(own) for own in choice]
    for k, settings in changes.items():
        for t, charging in settings:
            out[k][t] = charging
    return out


class _Estimate:
    """What the house would pay more with a change's powers simply moved: each car's energy from
    the slots it leaves spread evenly over those it enters (at least its minimum there), each
    slot at its prices and the highest hour at the capacity tariff. Quick, to rank changes."""

    def __init__(self, problem: _Problem, flows: _Flows, hour_of: list[int]) -> None:
        first = problem.cars[0]
        self.problem, self.car, self.flows, self.hour_of = problem, first, flows, hour_of
        self.grid = house_grid(problem.base, flows)
        # Per clock hour: its length and import (kWh), and the hours by their average import.
        self.widths: list[float] = []
        self.imports: list[float] = []
        for width, imported in hour_imports(
            first.hour_groups, first.horizon.hours, self.grid, first.hour_before
        ):
            self.widths.append(width)
            self.imports.append(imported)
        self.highest = sorted(
            ((e / w, h) for h, (e, w) in enumerate(zip(self.imports, self.widths, strict=True))),
            reverse=True,
        )
        self.peak_cost = peak_cost(first, self.highest[0][0] if self.highest else 0.0)
        # Per car, what a kWh costs where the programme would make up energy a change loses
        # (its cheapest slot with room) and saves where it would shed energy a change adds
        # (its dearest slot above its minimum): a change is not a saving of the energy the
        # car needs anyway. Without V2G, energy after its last need is worth nothing to it:
        # moved there, it is made up before.
        prices = [price.import_price for price in first.horizon.prices]
        self.refill: list[float] = []
        self.shed: list[float] = []
        self.useful: list[int] = []
        for k, (pcs, _) in enumerate(flows):
            car = problem.cars[k]
            top, least = car.request.charge.max_kw, problem.least[k]
            last = max(problem.needs[k], default=len(pcs))
            self.useful.append(last if car.request.discharge is None else len(pcs))
            on = [t for t, pc in enumerate(pcs) if pc > _CHARGING_KW and t < self.useful[k]]
            self.refill.append(
                min((prices[t] for t in on if pcs[t] < top - _CURVE_KW), default=max(prices))
            )
            self.shed.append(
                max((prices[t] for t in on if pcs[t] > least + _CURVE_KW), default=0.0)
            )

    def moved(self, change: _Change, peak: bool = True) -> float:
        """The estimate; without `peak`, only the slots' prices (moves into an hour whose
        budget another car is to leave)."""
        hours = self.car.horizon.hours
        added: dict[int, float] = {}
        made_up = 0.0
        for k, settings in change.items():
            pcs, useful = self.flows[k][0], self.useful[k]
            left = [t for t, charging in settings if not charging]
            entered = [t for t, charging in settings if charging]
            for t in left:
                added[t] = added.get(t, 0.0) - pcs[t]
            energy = sum(hours[t] * pcs[t] for t in left)
            gained = -sum(hours[t] * pcs[t] for t in left if t < useful)
            if entered:
                power = max(energy / sum(hours[t] for t in entered), self.problem.least[k])
                gained += power * sum(hours[t] for t in entered if t < useful)
                for t in entered:
                    added[t] = added.get(t, 0.0) + power
            made_up += -gained * (self.refill[k] if gained < 0.0 else self.shed[k])
        return self._more(added, peak) + made_up

    def _more(self, added: dict[int, float], with_peak: bool) -> float:
        car, hours, prices = self.car, self.car.horizon.hours, self.car.horizon.prices
        more = 0.0
        imports: dict[int, float] = {}
        for t, power in added.items():
            before, after = self.grid[t], self.grid[t] + power
            more += slot_cost(hours[t], prices[t], after) - slot_cost(hours[t], prices[t], before)
            h = self.hour_of[t]
            imports[h] = imports.get(h, 0.0) + hours[t] * (max(after, 0.0) - max(before, 0.0))
        if not with_peak:
            return more
        # The highest hour the change leaves alone, and the hours it changes.
        peak = next((average for average, h in self.highest if h not in imports), 0.0)
        for h, extra in imports.items():
            peak = max(peak, (self.imports[h] + extra) / self.widths[h])
        return more + peak_cost(car, peak) - self.peak_cost


@dataclass(frozen=True, slots=True)
class _Problem:
    """What every choice's programme shares."""

    cars: list[Car]
    base: list[float]
    # Per car: what each boundary needs (`_needs`), the most it may hold (kWh), its minimum,
    # and its curve as lines (`_lines`).
    needs: list[dict[int, tuple[float, bool]]]
    full: list[float]
    least: list[float]
    lines: list[list[tuple[float, float]]]
    # The slots whose export pays more than their import (`two_way_slots`).
    two_way: list[int]
    # The programme every choice shares, built at the first solve.
    programme: list[ChoiceProgramme] = field(default_factory=list, init=False, compare=False)
    # Which way the house's power goes in each slot whose export pays more than its import
    # (`ChoiceProgramme.set_directions`).
    directions: dict[int, Direction] = field(default_factory=dict, init=False, compare=False)

    @classmethod
    def of(cls, cars: list[Car], base: list[float]) -> _Problem:
        return cls(
            cars,
            base,
            [_needs(car, base) for car in cars],
            [car.curve.upper_kwh for car in cars],
            [min(car.request.charge.min_kw, car.request.charge.max_kw) for car in cars],
            [_lines(car.curve) for car in cars],
            two_way_slots(cars),
        )

    def load_cost(self) -> float:
        """What the programme leaves out of the house's cost: its own load, at the export
        price (at the import price in a slot priced both ways, whose cars' powers it prices
        so)."""
        hours, prices = self.cars[0].horizon.hours, self.cars[0].horizon.prices
        two_way = set(self.two_way)
        cost = 0.0
        for t, (h, price, load) in enumerate(zip(hours, prices, self.base, strict=True)):
            export = 0.0 if price.export_price is None else price.export_price
            cost += h * load * (price.import_price if t in two_way else export)
        return cost


def _powers(
    problem: _Problem, choice: _Choice, branches: _Branches, relax: bool = False
) -> _Flows | None:
    """The cheapest powers with the cars charging in exactly the chosen slots (each as its
    branch says) and a car with V2G free to discharge in the others (in every slot with
    `relax`); None where the fuse or the battery can't take a minimum, or the protective
    level is missed."""
    solved = _solved(problem, choice, branches, relax)
    return None if solved is None else solved.flows


def _work(problem: _Problem) -> int:
    """The work of every programme of the problem solved so far (`ChoiceProgramme.work`)."""
    return problem.programme[0].work if problem.programme else 0


def _solved(
    problem: _Problem,
    choice: _Choice,
    branches: _Branches,
    relax: bool = False,
    cutoff: float = math.inf,
) -> Solved | None:
    """The cheapest powers of a choice, solved on the problem's programme from the last
    choice's basis; None without a solution, or where the programme's cost of it is at least
    `cutoff`."""
    ways = _slot_ways(problem, choice, branches, relax)
    if ways is None:
        return None
    if not problem.programme:
        programme = ChoiceProgramme(
            problem.cars, problem.base, problem.needs, problem.full, problem.lines
        )
        problem.programme.append(programme)
    programme = problem.programme[0]
    programme.set_directions(problem.directions)
    # The programme with every slot open to every car is the only one its problem solves.
    return programme.solve(ways, once=relax, cutoff=cutoff)


def _slot_ways(
    problem: _Problem, choice: _Choice, branches: _Branches, relax: bool
) -> list[list[SlotWay]] | None:
    """How each car may charge in each slot of a choice (`SlotWay`); None where a car's curve
    is below its minimum where it is to charge at least that."""
    out: list[list[SlotWay]] = []
    for k, car in enumerate(problem.cars):
        top, least = car.curve.powers[0], problem.least[k]
        own: list[SlotWay] = []
        for charges, branch in zip(choice[k], branches[k], strict=True):
            free = relax or not charges or least <= 0.0 or branch == _OPEN
            if not charges:
                own.append(SlotWay(0.0, 0.0, free))
            elif branch == _AT_LEAST:
                if top < least - _CURVE_KW:
                    return None
                own.append(SlotWay(least, max(top, least), free))
            elif branch in (_OPEN, _FILLS):
                own.append(SlotWay(0.0, top, free, fills=branch == _FILLS))
            else:
                own.append(SlotWay(0.0, top, free, line=branch))
        out.append(own)
    return out
