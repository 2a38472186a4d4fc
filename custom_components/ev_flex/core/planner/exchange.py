"""Cars with a minimum power trading energy between hours: a local search after the turns.

Under a capacity tariff every hour has an import budget the cars share. A minimum power makes
that sharing combinatorial: a hour's budget of 11.93 kW in its cheapest quarter is one car's
10.55 kW plus the other's 1.38 kW minimum, but a car planned on its own (in its turn) fills
the quarter to its own 11 kW and puts the rest, above its 4.14 kW minimum, in a dearer one.
No turn of one car can make that room: the other car would have to take the 1.38 kW in this
hour and give the same energy back in another.

A trade does exactly that. Car B takes `x` kWh of grid energy in hour h1 where car A gives it
up, and gives `x` back to A in hour h2. Each car then packs its energy in both hours into
their cheapest slots, at least its minimum power in every slot it charges in. Every hour's
import stays as it was (so the peak does too); a trade is kept when the house's energy cost
falls and both cars keep every limit: their own power, minimum, battery and targets, and the
house's fuse and export limit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
import math

from .joint import without_limits
from .site import Car, hour_budget, lower_bounds, peak_kw, reach_bounds, stages
from .site_dp import Stage

# Trades made at most; each is one pass over the hours.
_MAX_TRADES = 120
# A trade is kept when it saves more than this share of the house's energy cost (or 1e-9).
_SAVING = 1e-9
# Energies and powers this close are equal: rounding.
_KWH = 1e-9
# A trade whose return is split over two hours tries this many of the best hours for each part.
_SPLIT_HOURS = 4
# Subsets of an hour's slots tried when packing a car's energy: hours of up to this many.
_MAX_SLOTS = 6


@dataclass(slots=True)
class _Site:
    """What the trades look at, shared by every car."""

    base: list[float]
    hours: list[float]
    imports: list[float]
    exports: list[float]
    groups: list[list[int]]
    import_limit: float
    export_limit: float
    # What each hour (by its first slot) may import without raising the plan's peak.
    budgets: dict[int, float]

    def slot_cost(self, t: int, net: float) -> float:
        return self.hours[t] * (self.imports[t] * max(net, 0.0) - self.exports[t] * max(-net, 0.0))

    def within_limits(self, t: int, net: float) -> bool:
        load = self.base[t]
        return (
            net <= max(self.import_limit, load) + _KWH
            and -net <= max(self.export_limit, -load) + _KWH
        )


@dataclass(slots=True)
class _Plans:
    """The cars' powers and energies as the trades change them."""

    cars: list[Car]
    own: list[list[Stage]]
    needs: list[list[float]]
    charges: list[list[float]]
    discharges: list[list[float]]

    def net(self, site: _Site, t: int) -> float:
        net = site.base[t]
        for pcs, pds in zip(self.charges, self.discharges, strict=True):
            net += pcs[t] - pds[t]
        return net


def trade_hours(
    cars: list[Car], base: list[float], flows: list[tuple[list[float], list[float]]]
) -> list[tuple[list[float], list[float]]] | None:
    """The cars' charge and discharge powers after the trades that save, or None when none
    does. Only cars with a minimum power need them: without one, planning in turns already
    shares an hour's budget."""
    if len(cars) < 2 or all(car.request.charge.min_kw <= 0.0 for car in cars):
        return None
    site = _site(cars[0], base, flows)
    own = [stages(without_limits(car), base) for car in cars]
    plans = _Plans(
        cars,
        own,
        [],
        [list(pcs) for pcs, _ in flows],
        [list(pds) for _, pds in flows],
    )
    for k, car in enumerate(cars):
        path = energy_path(car, plans.charges[k], plans.discharges[k])
        lower = lower_bounds(car, reach_bounds(car, own[k])[0])[1:]
        # A trade never takes a car further below what it must reach than its plan is now.
        plans.needs.append([min(need, e) for need, e in zip(lower, path, strict=True)])
    traded = False
    for _ in range(_MAX_TRADES):
        if not _trade_once(site, plans):
            break
        traded = True
    if not traded:
        return None
    return list(zip(plans.charges, plans.discharges, strict=True))


def _site(first: Car, base: list[float], flows: list[tuple[list[float], list[float]]]) -> _Site:
    site = first.request.site
    assert site is not None
    prices = first.horizon.prices
    grid = list(base)
    for pcs, pds in flows:
        for t, (pc, pd) in enumerate(zip(pcs, pds, strict=True)):
            grid[t] += pc - pd
    hours = first.horizon.hours
    level = max(site.current_peak_kw, peak_kw(first.hour_groups, hours, grid, first.hour_before))
    budgets = {}
    for group in first.hour_groups:
        imported = sum(hours[t] * max(grid[t], 0.0) for t in group)
        budgets[group[0]] = max(imported, hour_budget(first, group, level))
    return _Site(
        base=base,
        hours=list(first.horizon.hours),
        imports=[p.import_price for p in prices],
        exports=[0.0 if p.export_price is None else p.export_price for p in prices],
        groups=first.hour_groups,
        import_limit=math.inf if site.import_limit_kw is None else site.import_limit_kw,
        export_limit=math.inf if site.export_limit_kw is None else site.export_limit_kw,
        budgets=budgets,
    )


def energy_path(car: Car, pcs: Sequence[float], pds: Sequence[float]) -> list[float]:
    """The energies after every slot with these powers."""
    charge = car.request.charge
    discharge = car.request.discharge
    energy = car.start_kwh
    path: list[float] = []
    for hours, pc, pd in zip(car.horizon.hours, pcs, pds, strict=True):
        energy += hours * charge.efficiency * pc
        if pd > 0.0 and discharge is not None:
            energy -= hours * pd / discharge.efficiency
        path.append(energy)
    return path


def _tradable(plans: _Plans, group: list[int]) -> bool:
    """An hour where no car discharges and it fits the packing's subsets."""
    return len(group) <= _MAX_SLOTS and all(
        pds[t] <= 0.0 for pds in plans.discharges for t in group
    )


def _energy(plans: _Plans, site: _Site, k: int, group: list[int]) -> float:
    return sum(site.hours[t] * plans.charges[k][t] for t in group)


def _pack(
    site: _Site, plans: _Plans, k: int, group: list[int], energy: float, other: dict[int, float]
) -> dict[int, float] | None:
    """Car k's cheapest powers in one hour that draw `energy` kWh from the grid, at least its
    minimum in every slot it charges in; `other` is the rest of the house per slot. None when
    no set of slots can take the energy."""
    if energy < -_KWH:
        return None
    if energy <= _KWH:
        return dict.fromkeys(group, 0.0)
    charge = plans.cars[k].request.charge
    own = plans.own[k]
    low_kw = min(charge.min_kw, charge.max_kw)
    # The most the car may draw in each slot: its own power, and what the fuse leaves it.
    top_kw = {t: min(charge.max_kw, max(site.import_limit, site.base[t]) - other[t]) for t in group}
    open_slots = sorted(
        (t for t in group if own[t].can_charge and top_kw[t] >= low_kw),
        key=lambda t: site.imports[t],
    )
    best: dict[int, float] | None = None
    best_cost = math.inf
    for mask in range(1, 1 << len(open_slots)):
        chosen = [t for i, t in enumerate(open_slots) if mask >> i & 1]
        least = sum(site.hours[t] * low_kw for t in chosen)
        most = sum(site.hours[t] * top_kw[t] for t in chosen)
        if energy < least - _KWH or energy > most + _KWH:
            continue
        powers = dict.fromkeys(group, 0.0)
        rest = energy - least
        for t in chosen:  # cheapest first
            extra = min((top_kw[t] - low_kw) * site.hours[t], max(rest, 0.0))
            powers[t] = low_kw + extra / site.hours[t]
            rest -= extra
        cost = sum(site.slot_cost(t, other[t] + powers[t]) for t in group)
        if cost < best_cost:
            best, best_cost = powers, cost
    return best


def _hour_cost(site: _Site, plans: _Plans, group: list[int]) -> tuple[float, float]:
    """The hour's energy cost and its import (kWh)."""
    cost = 0.0
    imported = 0.0
    for t in group:
        net = plans.net(site, t)
        cost += site.slot_cost(t, net)
        imported += site.hours[t] * max(net, 0.0)
    return cost, imported


# The grid energy (kWh) the taker takes and the giver gives in the hour a trade starts in.
type _Amount = tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Trade:
    saving: float
    giver: int
    taker: int
    # The hours (their slots) the trade changes, the one it starts in first.
    groups: tuple[list[int], ...]
    powers: dict[tuple[int, int], float]


def _trade_once(site: _Site, plans: _Plans) -> bool:
    """Make the trade that saves most in the hour it starts in and keeps every limit; False
    when none saves."""
    groups = [g for g in site.groups if _tradable(plans, g)]
    costs = {g[0]: _hour_cost(site, plans, g) for g in groups}
    total = abs(sum(c for c, _ in costs.values()))
    starts: list[tuple[float, int, int, list[int], _Amount]] = []
    # The most a kWh the hour a trade ends in imports less can save: what bounds the saving
    # of a trade that imports more in the hour it starts in.
    dearest = max((site.imports[t] for g in groups for t in g), default=0.0)
    count = len(plans.cars)
    for group in groups:
        for giver in range(count):
            given = _energy(plans, site, giver, group)
            if given <= _KWH:
                continue
            for taker in range(count):
                if taker == giver:
                    continue
                room = site.budgets[group[0]] - costs[group[0]][1]
                for amount in _amounts(site, plans, giver, taker, group, given, room):
                    powers = _traded(site, plans, group, giver, taker, amount)
                    if powers is None:
                        continue
                    saving = costs[group[0]][0] - _cost_with(site, plans, group, powers)
                    if saving + (amount[0] - amount[1]) * dearest > _SAVING * (1.0 + total):
                        starts.append((saving, giver, taker, group, amount))
    starts.sort(key=lambda item: -item[0])
    for saving, giver, taker, first, amount in starts:
        trade = _best_return(site, plans, costs, groups, (saving, giver, taker, first, amount))
        if trade is not None and trade.saving > _SAVING * (1.0 + total):
            _apply(plans, trade)
            return True
    return False


def _amounts(
    site: _Site,
    plans: _Plans,
    giver: int,
    taker: int,
    group: list[int],
    given: float,
    room: float,
) -> set[_Amount]:
    """The grid energies worth trading in one hour: the taker's minimum in one slot, its full
    power in the cheapest slots, what leaves the giver filling fewer slots at full power or
    only its minimum in some, or all the giver has. The giver gives as much as the taker
    takes, or less where the hour's budget has room for the rest."""
    taker_charge = plans.cars[taker].request.charge
    giver_charge = plans.cars[giver].request.charge
    holds = _energy(plans, site, taker, group)
    amounts = {given}
    low_kw = min(taker_charge.min_kw, taker_charge.max_kw)
    for t in group:
        amounts.add(site.hours[t] * low_kw)
    giver_low_kw = min(giver_charge.min_kw, giver_charge.max_kw)
    full = kept = filled = 0.0
    for t in sorted(group, key=lambda t: site.imports[t]):
        full += site.hours[t] * giver_charge.max_kw
        kept += site.hours[t] * giver_low_kw
        filled += site.hours[t] * taker_charge.max_kw
        # The giver keeps fewer slots at full power, or only its minimum in some; the taker
        # fills the cheapest slots at full power.
        amounts.update((given - full, given - kept, filled))
    # Whatever the hour's budget holds, the taker can't take more than full power in it.
    most = sum(site.hours[t] * taker_charge.max_kw for t in group) - holds
    taken = {a for a in amounts if _KWH < a <= most + _KWH}
    pairs = {(a, a) for a in taken if a <= given + _KWH}
    if room > _KWH:
        pairs |= {(a, max(0.0, a - room)) for a in taken}
    return pairs


def _traded(
    site: _Site, plans: _Plans, group: list[int], giver: int, taker: int, amount: _Amount
) -> dict[tuple[int, int], float] | None:
    """Both cars' powers in one hour after the taker takes `amount[0]` kWh and the giver gives
    `amount[1]`; None when either can't pack its new energy."""
    taken_kwh, given_kwh = amount
    others = {
        t: plans.net(site, t) - plans.charges[giver][t] - plans.charges[taker][t] for t in group
    }
    giving = _pack(
        site, plans, giver, group, _energy(plans, site, giver, group) - given_kwh, dict(others)
    )
    if giving is None:
        return None
    with_giver = {t: others[t] + giving[t] for t in group}
    taking = _pack(
        site, plans, taker, group, _energy(plans, site, taker, group) + taken_kwh, with_giver
    )
    if taking is None:
        return None
    powers = {(giver, t): p for t, p in giving.items()}
    powers.update({(taker, t): p for t, p in taking.items()})
    return powers


def _cost_with(
    site: _Site, plans: _Plans, group: list[int], powers: dict[tuple[int, int], float]
) -> float:
    cost = 0.0
    for t in group:
        net = site.base[t]
        for k in range(len(plans.cars)):
            net += powers.get((k, t), plans.charges[k][t]) - plans.discharges[k][t]
        cost += site.slot_cost(t, net)
    return cost


def _best_return(
    site: _Site,
    plans: _Plans,
    costs: dict[int, tuple[float, float]],
    groups: list[list[int]],
    start: tuple[float, int, int, list[int], _Amount],
) -> _Trade | None:
    """Where the taker gives the energy back at the least cost, with every limit kept; None
    when nowhere saves.

    What the giver gave, the taker gives back to it in one hour (a trade at equal import);
    what the taker took beyond that it gives up alone, in the same hour or another, which
    imports less there.
    """
    saving, giver, taker, first, (taken, given) = start
    there = _traded(site, plans, first, giver, taker, (taken, given))
    assert there is not None
    alone = taken - given
    returns: list[tuple[float, list[int], dict[tuple[int, int], float]]] = []
    traded_back: list[tuple[float, list[int], dict[tuple[int, int], float]]] = []
    given_up: list[tuple[float, list[int], dict[tuple[int, int], float]]] = []
    for second in groups:
        has = _energy(plans, site, taker, second)
        if second is first or has <= _KWH:
            continue
        for amount, into in (
            ((given, taken), returns),
            ((given, given), traded_back if alone > _KWH else []),
            ((0.0, alone), given_up if given > _KWH else []),
        ):
            if amount[1] <= _KWH or has < amount[1] - _KWH:
                continue
            back = _traded(site, plans, second, taker, giver, amount)
            if back is not None:
                into.append(
                    (_cost_with(site, plans, second, back) - costs[second[0]][0], second, back)
                )
    candidates = [
        _Trade(saving - lost, giver, taker, (first, second), {**there, **back})
        for lost, second, back in returns
    ]
    traded_back.sort(key=lambda item: item[0])
    given_up.sort(key=lambda item: item[0])
    for lost, second, back in traded_back[:_SPLIT_HOURS]:
        for more, third, rest in given_up[:_SPLIT_HOURS]:
            if third is not second:
                candidates.append(
                    _Trade(
                        saving - lost - more,
                        giver,
                        taker,
                        (first, second, third),
                        {**there, **back, **rest},
                    )
                )
    candidates.sort(key=lambda trade: -trade.saving)
    for trade in candidates:
        if trade.saving <= 0.0:
            break
        if _keeps_limits(site, plans, trade):
            return trade
    return None


def _keeps_limits(site: _Site, plans: _Plans, trade: _Trade) -> bool:
    """True when the trade keeps the hours' imports, the house's limits and both cars' own."""
    for group in trade.groups:
        imported = 0.0
        for t in group:
            net = site.base[t]
            for k in range(len(plans.cars)):
                net += trade.powers.get((k, t), plans.charges[k][t]) - plans.discharges[k][t]
            if not site.within_limits(t, net):
                return False
            imported += site.hours[t] * max(net, 0.0)
        if imported > site.budgets[group[0]] + _KWH:
            return False
    return all(_car_keeps(plans, k, trade) for k in (trade.giver, trade.taker))


def _car_keeps(plans: _Plans, k: int, trade: _Trade) -> bool:
    """True when car k's plan with the trade keeps its power, minimum, battery and needs."""
    car = plans.cars[k]
    own = plans.own[k]
    charges = list(plans.charges[k])
    for (j, t), power in trade.powers.items():
        if j == k:
            charges[t] = power
    path = energy_path(car, charges, plans.discharges[k])
    begin = min(group[0] for group in trade.groups)
    # After the trade's last hour the car's energies are what they were.
    end = max(group[-1] for group in trade.groups) + 1
    energy = car.start_kwh if begin == 0 else path[begin - 1]
    for t in range(begin, end):
        stage = own[t]
        after = path[t]
        if charges[t] > 0.0:
            if not stage.can_charge or after > stage.top(energy) + _KWH:
                return False
            if after < stage.least_charge(energy) - _KWH:
                return False
        if after < plans.needs[k][t] - _KWH or after < car.floor_kwh - _KWH:
            return False
        if after > stage.reach.upper_kwh + _KWH:
            return False
        energy = after
    return True


def _apply(plans: _Plans, trade: _Trade) -> None:
    for (k, t), power in trade.powers.items():
        plans.charges[k][t] = power
