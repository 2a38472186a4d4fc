"""Cars with a minimum power trading energy between hours: a local search after the turns.

Under a capacity tariff every hour has an import budget the cars share. A minimum power makes
that sharing combinatorial: an hour's budget of 11.93 kW in its cheapest quarter is one car's
10.55 kW plus the other's 1.38 kW minimum, but a car planned on its own (in its turn) fills
the quarter to its own 11 kW and puts the rest, above its 4.14 kW minimum, in a dearer one.
No turn of one car can make that room: the other car would have to take the 1.38 kW in this
hour and give the same energy back in another.

A trade does exactly that. Car B takes `x` kWh of grid energy in hour h1 where car A gives it
up (or less, where h1's budget has room), and gives it back in another hour or two. Each car
then packs its energy in those hours into their cheapest slots, at least its minimum power in
every slot it charges in, and by each slot what a target there asks. No hour imports more than
the plan's peak allows; a trade is kept when the house's energy cost falls and both cars keep
every limit: their own power, minimum, battery and targets, and the house's fuse and export
limit.

The same moves lower the peak (`lower_peak`): energy leaves the hours above a lower peak for
hours with room, with the other car's help where the room is below a car's minimum.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
import math

from . import PriceSlot, stored_after
from .joint import without_limits
from .site import Car, hour_budget, lower_bounds, peak_kw, reach_bounds, slot_cost, stages
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
    prices: Sequence[PriceSlot]
    groups: list[list[int]]
    import_limit: float
    export_limit: float
    # The peak (kW) the hours keep to: the plan's own, or a lower one to reach.
    level: float
    # What each hour (by its first slot) may import: up to the level, or what it imports now
    # where that is more.
    budgets: dict[int, float]

    def slot_cost(self, t: int, net: float) -> float:
        return slot_cost(self.hours[t], self.prices[t], net)

    def within_limits(self, t: int, net: float) -> bool:
        load = self.base[t]
        return (
            net <= max(self.import_limit, load) + _KWH
            and -net <= max(self.export_limit, -load) + _KWH
        )


# What `_pack` answers depends on: the car, the hour, the energy, the rest of the house in each
# slot and what the needs require by each slot (None: not looked at).
type _PackKey = tuple[int, int, float, tuple[float, ...], tuple[float, ...] | None]


@dataclass(slots=True)
class _Plans:
    """The cars' powers and energies as the trades change them."""

    cars: list[Car]
    own: list[list[Stage]]
    needs: list[list[float]]
    charges: list[list[float]]
    discharges: list[list[float]]
    # Each car's energy after every slot, kept with its powers.
    paths: list[list[float]] = field(default_factory=list)
    # `_pack`'s answers: a trade changes two or three hours, so the next pass over the hours
    # asks mostly the same questions again.
    packed: dict[_PackKey, dict[int, float] | None] = field(default_factory=dict)

    def net(self, site: _Site, t: int, powers: dict[tuple[int, int], float] | None = None) -> float:
        """The house's grid power in slot `t`, with the charging `powers` (car, slot) of a
        trade in place of the plans' where given."""
        net = site.base[t]
        for k, (pcs, pds) in enumerate(zip(self.charges, self.discharges, strict=True)):
            charge = pcs[t] if powers is None else powers.get((k, t), pcs[t])
            net += charge - pds[t]
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
    plans = _plans(cars, base, flows)
    traded = False
    for _ in range(_MAX_TRADES):
        if not _trade_once(site, plans):
            break
        traded = True
    if not traded:
        return None
    return list(zip(plans.charges, plans.discharges, strict=True))


def _plans(
    cars: list[Car], base: list[float], flows: list[tuple[list[float], list[float]]]
) -> _Plans:
    own = [stages(without_limits(car), base) for car in cars]
    plans = _Plans(cars, own, [], [list(pcs) for pcs, _ in flows], [list(pds) for _, pds in flows])
    for k, car in enumerate(cars):
        path = energy_path(car, plans.charges[k], plans.discharges[k])
        plans.paths.append(path)
        lower = lower_bounds(car, reach_bounds(car, own[k])[0])[1:]
        # A trade never takes a car further below what it must reach than its plan is now.
        plans.needs.append([min(need, e) for need, e in zip(lower, path, strict=True)])
    return plans


def _site(
    first: Car,
    base: list[float],
    flows: list[tuple[list[float], list[float]]],
    peak: float | None = None,
) -> _Site:
    """The site as the trades see it: each hour may import up to `peak` (kW on average, the
    plan's own peak by default), or what it imports now where that is more."""
    site = first.request.site
    assert site is not None
    prices = first.horizon.prices
    grid = house_grid(base, flows)
    hours = first.horizon.hours
    if peak is None:
        peak = peak_kw(first.hour_groups, hours, grid, first.hour_before)
    level = max(site.current_peak_kw, peak)
    budgets = {}
    for group in first.hour_groups:
        imported = sum(hours[t] * max(grid[t], 0.0) for t in group)
        budgets[group[0]] = max(imported, hour_budget(first, group, level))
    return _Site(
        base=base,
        hours=list(first.horizon.hours),
        prices=prices,
        groups=first.hour_groups,
        import_limit=site.import_cap_kw,
        export_limit=site.export_cap_kw,
        level=level,
        budgets=budgets,
    )


def house_grid(base: list[float], flows: list[tuple[list[float], list[float]]]) -> list[float]:
    """The house's grid power per slot with every car's powers."""
    grid = list(base)
    for pcs, pds in flows:
        for t, (pc, pd) in enumerate(zip(pcs, pds, strict=True)):
            grid[t] += pc - pd
    return grid


def energy_path(car: Car, pcs: Sequence[float], pds: Sequence[float]) -> list[float]:
    """The energies after every slot with these powers."""
    energy = car.start_kwh
    path: list[float] = []
    for hours, pc, pd in zip(car.horizon.hours, pcs, pds, strict=True):
        energy = stored_after(car.request, hours, energy, pc, pd)
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
    site: _Site,
    plans: _Plans,
    k: int,
    group: list[int],
    energy: float,
    other: dict[int, float],
    entering: float | None = None,
) -> dict[int, float] | None:
    """Car k's cheapest powers in one hour that draw `energy` kWh from the grid, at least its
    minimum in every slot it charges in, and by every slot what its needs ask of it there (a
    target may fall inside the hour); `other` is the rest of the house per slot, `entering`
    what the car has more as the hour begins (kWh, moved earlier in the same trade), or None
    not to look at the needs (a first guess the trade's check settles). None when no set of
    slots can take the energy."""
    if energy < -_KWH:
        return None
    required = (
        dict.fromkeys(group, 0.0)
        if entering is None
        else _required(site, plans, k, group, entering)
    )
    key = (
        k,
        group[0],
        energy,
        tuple(other[t] for t in group),
        None if entering is None else tuple(required.values()),
    )
    if key in plans.packed:
        return plans.packed[key]
    if energy <= _KWH:
        return dict.fromkeys(group, 0.0) if max(required.values()) <= _KWH else None
    charge = plans.cars[k].request.charge
    own = plans.own[k]
    low_kw = min(charge.min_kw, charge.max_kw)
    # The most the car may draw in each slot: its own power, and what the fuse leaves it.
    top_kw = {t: min(charge.max_kw, max(site.import_limit, site.base[t]) - other[t]) for t in group}
    open_slots = sorted(
        (t for t in group if own[t].can_charge and top_kw[t] >= low_kw),
        key=lambda t: site.prices[t].import_price,
    )
    best: dict[int, float] | None = None
    best_cost = math.inf
    # The least and the most each set of slots can draw, built from the set without its first
    # slot: most sets can't draw the energy, and this skips them without filling them.
    least = [0.0] * (1 << len(open_slots))
    most = [0.0] * (1 << len(open_slots))
    for mask in range(1, 1 << len(open_slots)):
        first = mask & -mask
        t = open_slots[first.bit_length() - 1]
        least[mask] = least[mask ^ first] + site.hours[t] * low_kw
        most[mask] = most[mask ^ first] + site.hours[t] * top_kw[t]
        # `_filled` sums in another order: the margin keeps every set it would take.
        if not least[mask] - 2 * _KWH <= energy <= most[mask] + 2 * _KWH:
            continue
        chosen = [t for i, t in enumerate(open_slots) if mask >> i & 1]
        powers = _filled(site, group, chosen, energy, low_kw, top_kw, required)
        if powers is None:
            continue
        cost = sum(site.slot_cost(t, other[t] + powers[t]) for t in group)
        if cost < best_cost:
            best, best_cost = powers, cost
    plans.packed[key] = best
    return best


def _required(
    site: _Site, plans: _Plans, k: int, group: list[int], entering: float
) -> dict[int, float]:
    """The grid energy car k must have drawn in the hour by the end of each of its slots for
    its needs, from the energy it has as the hour begins."""
    car = plans.cars[k]
    start = group[0]
    energy = entering + (car.start_kwh if start == 0 else plans.paths[k][start - 1])
    eta = car.request.charge.efficiency
    return {t: max(0.0, (plans.needs[k][t] - energy) / eta) for t in group}


def _filled(
    site: _Site,
    group: list[int],
    chosen: list[int],
    energy: float,
    low_kw: float,
    top_kw: dict[int, float],
    required: dict[int, float],
) -> dict[int, float] | None:
    """The powers that draw `energy` kWh in the chosen slots (cheapest first), the minimum in
    each, what the needs require by each slot from the cheapest slots before it; None when
    they can't."""
    least = sum(site.hours[t] * low_kw for t in chosen)
    most = sum(site.hours[t] * top_kw[t] for t in chosen)
    if energy < least - _KWH or energy > most + _KWH:
        return None
    powers = dict.fromkeys(group, 0.0)
    for t in chosen:
        powers[t] = low_kw
    rest = energy - least
    drawn = 0.0
    for t in group:
        drawn += site.hours[t] * powers[t]
        short = required[t] - drawn
        for s in chosen:  # the cheapest slots up to t make up what the needs lack there
            if short <= _KWH:
                break
            if s > t:
                continue
            extra = min((top_kw[s] - powers[s]) * site.hours[s], short, max(rest, 0.0))
            powers[s] += extra / site.hours[s]
            rest -= extra
            short -= extra
            drawn += extra
        if short > _KWH:
            return None
    for t in chosen:
        extra = min((top_kw[t] - powers[t]) * site.hours[t], max(rest, 0.0))
        powers[t] += extra / site.hours[t]
        rest -= extra
    return powers


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
    dearest = max((site.prices[t].import_price for g in groups for t in g), default=0.0)
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
    for t in sorted(group, key=lambda t: site.prices[t].import_price):
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
    site: _Site,
    plans: _Plans,
    group: list[int],
    giver: int,
    taker: int,
    amount: _Amount,
    entering: dict[int, float] | None = None,
) -> dict[tuple[int, int], float] | None:
    """Both cars' powers in one hour after the taker takes `amount[0]` kWh and the giver gives
    `amount[1]`; `entering` is what each car has more as the hour begins (kWh in the battery,
    from an earlier hour of the same trade), or None not to look at the needs. None when either
    can't pack its new energy."""
    taken_kwh, given_kwh = amount

    def before(k: int) -> float | None:
        return None if entering is None else entering.get(k, 0.0)

    if giver == taker:
        alone = {t: plans.net(site, t) - plans.charges[giver][t] for t in group}
        energy = _energy(plans, site, giver, group) + taken_kwh - given_kwh
        packed = _pack(site, plans, giver, group, energy, alone, before(giver))
        return None if packed is None else {(giver, t): p for t, p in packed.items()}
    others = {
        t: plans.net(site, t) - plans.charges[giver][t] - plans.charges[taker][t] for t in group
    }
    giving = _pack(
        site,
        plans,
        giver,
        group,
        _energy(plans, site, giver, group) - given_kwh,
        dict(others),
        before(giver),
    )
    if giving is None:
        return None
    with_giver = {t: others[t] + giving[t] for t in group}
    taking = _pack(
        site,
        plans,
        taker,
        group,
        _energy(plans, site, taker, group) + taken_kwh,
        with_giver,
        before(taker),
    )
    if taking is None:
        return None
    powers = {(giver, t): p for t, p in giving.items()}
    powers.update({(taker, t): p for t, p in taking.items()})
    return powers


def _cost_with(
    site: _Site, plans: _Plans, group: list[int], powers: dict[tuple[int, int], float]
) -> float:
    return sum(site.slot_cost(t, plans.net(site, t, powers)) for t in group)


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
    taker_eta = plans.cars[taker].request.charge.efficiency
    giver_eta = plans.cars[giver].request.charge.efficiency
    after_first = {taker: taken * taker_eta, giver: -given * giver_eta}
    after_return = {taker: -taken * taker_eta, giver: given * giver_eta}
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
            # A whole return is packed knowing the hour before it; the parts of a split one
            # are a first guess.
            whole = into is returns
            entering = (after_first if second[0] > first[0] else {}) if whole else None
            back = _traded(site, plans, second, taker, giver, amount, entering)
            if back is not None:
                into.append(
                    (_cost_with(site, plans, second, back) - costs[second[0]][0], second, back)
                )
    candidates = []
    for lost, second, back in returns:
        entering = {} if second[0] > first[0] else after_return
        packed = _traded(site, plans, first, giver, taker, (taken, given), entering)
        if packed is not None:
            gained = costs[first[0]][0] - _cost_with(site, plans, first, packed)
            candidates.append(
                _Trade(gained - lost, giver, taker, (first, second), {**packed, **back})
            )
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
            net = plans.net(site, t, trade.powers)
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
    changed = {t: power for (j, t), power in trade.powers.items() if j == k}
    begin = min(group[0] for group in trade.groups)
    # Before the trade's first hour and after its last, the car's energies are what they were.
    end = max(group[-1] for group in trade.groups) + 1
    energy = car.start_kwh if begin == 0 else plans.paths[k][begin - 1]
    for t in range(begin, end):
        stage = own[t]
        charge = changed.get(t, plans.charges[k][t])
        after = stored_after(
            car.request, car.horizon.hours[t], energy, charge, plans.discharges[k][t]
        )
        if charge > 0.0:
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
    for k in {k for k, _ in trade.powers}:
        car = plans.cars[k]
        plans.paths[k] = energy_path(car, plans.charges[k], plans.discharges[k])


# --------------------------------------------------------------------------------------------
# Lowering the peak

# Moves made at most to bring the hours under a lower peak.
_MAX_SHIFTS = 200
# Halvings of the peak's range searched.
_PEAK_HALVINGS = 8


def lower_peak(
    cars: list[Car],
    base: list[float],
    flows: list[tuple[list[float], list[float]]],
    floor: float,
) -> list[list[tuple[list[float], list[float]]]]:
    """The cars' powers at lower peaks: a search between the plan's peak and `floor` (kW),
    each peak found reachable by moving energy out of the hours above it. The lowest first.

    Each car's own search of the peak can't move the other car: where an hour's room is
    below a car's minimum, the other car gives up that much in this hour and takes it again
    in the hour above the peak, which then imports less (a trade, as above).
    """
    first = cars[0]
    grid = house_grid(base, flows)
    high = peak_kw(first.hour_groups, first.horizon.hours, grid, first.hour_before)
    low = floor
    if high - low <= _KWH:
        return []
    # The month's peak itself first: nothing lower costs less.
    at_floor = _under_peak(cars, base, flows, floor)
    if at_floor is not None:
        return [at_floor]
    found: list[list[tuple[list[float], list[float]]]] = []
    for _ in range(_PEAK_HALVINGS):
        if high - low <= _KWH:
            break
        middle = (low + high) / 2.0
        shifted = _under_peak(cars, base, flows, middle)
        if shifted is None:
            low = middle
        else:
            high = middle
            found.append(shifted)
    found.reverse()
    return found


def _under_peak(
    cars: list[Car], base: list[float], flows: list[tuple[list[float], list[float]]], peak: float
) -> list[tuple[list[float], list[float]]] | None:
    """The cars' powers with every hour imported under `peak`, or None when no moves get there."""
    site = _site(cars[0], base, flows, peak)
    targets = {g[0]: hour_budget(cars[0], g, site.level) for g in site.groups}
    plans = _plans(cars, base, flows)
    for _ in range(_MAX_SHIFTS):
        groups = [g for g in site.groups if _tradable(plans, g)]
        every = {g[0]: _hour_cost(site, plans, g) for g in site.groups}
        costs = {g[0]: every[g[0]] for g in groups}
        over = [g for g in site.groups if every[g[0]][1] > targets[g[0]] + _KWH]
        if not over:
            return list(zip(plans.charges, plans.discharges, strict=True))
        shift = None
        for group in over:
            if group[0] in costs:
                shift = _best_shift(site, plans, costs, groups, targets, group)
                if shift is not None:
                    break
        if shift is None:
            return None
        _apply(plans, shift)
        # The hour moved out of may not take that import again.
        for group in shift.groups:
            site.budgets[group[0]] = min(
                site.budgets[group[0]], max(targets[group[0]], _hour_cost(site, plans, group)[1])
            )
    return None


def _best_shift(
    site: _Site,
    plans: _Plans,
    costs: dict[int, tuple[float, float]],
    groups: list[list[int]],
    targets: dict[int, float],
    over: list[int],
) -> _Trade | None:
    """The move that takes most of the hour's import above its budget to an hour with room,
    then costs least; None when none keeps every limit.

    A car moves energy out of the hour into one with room; where that room is below its
    minimum, the other car gives up the rest there and takes it in this hour instead.
    """
    excess = costs[over[0]][1] - targets[over[0]]
    candidates: list[tuple[float, float, _Trade]] = []
    for mover in range(len(plans.cars)):
        has = _energy(plans, site, mover, over)
        if has <= _KWH:
            continue
        charge = plans.cars[mover].request.charge
        low_kw = min(charge.min_kw, charge.max_kw)
        for into in groups:
            if into is over:
                continue
            room = targets[into[0]] - costs[into[0]][1]
            if room <= _KWH:
                continue
            amounts = {min(excess, room, has), has}
            chunk = 0.0
            for t in sorted(into, key=lambda t: site.prices[t].import_price):
                chunk += site.hours[t] * low_kw
                amounts.add(chunk)
            for amount in amounts:
                if amount <= _KWH or amount > has + _KWH:
                    continue
                for other in range(len(plans.cars)):
                    trade = _shift(site, plans, costs, over, into, mover, other, amount, room)
                    if trade is None:
                        continue
                    moved = min(excess, amount if other == mover else min(amount, room))
                    candidates.append((-moved, -trade.saving, trade))
    candidates.sort(key=lambda item: (item[0], item[1]))
    for _, _, trade in candidates:
        if _keeps_limits(site, plans, trade):
            return trade
    return None


def _shift(
    site: _Site,
    plans: _Plans,
    costs: dict[int, tuple[float, float]],
    over: list[int],
    into: list[int],
    mover: int,
    other: int,
    amount: float,
    room: float,
) -> _Trade | None:
    """The mover's `amount` kWh moved from hour `over` to hour `into`: alone (`other` is the
    mover) where `into` has room for it, else with the other car giving up the rest in `into`
    and taking it in `over`."""
    eta = {k: car.request.charge.efficiency for k, car in enumerate(plans.cars)}
    if other == mover:
        if amount > room + _KWH:
            return None
        into_amount: _Amount = (amount, 0.0)
        over_amount: _Amount = (0.0, amount)
        into_change = {mover: amount * eta[mover]}
        over_change = {mover: -amount * eta[mover]}
    else:
        given = max(0.0, amount - room)
        if given <= _KWH or given > _energy(plans, site, other, into) + _KWH:
            return None
        into_amount = (amount, given)
        over_amount = (given, amount)
        into_change = {mover: amount * eta[mover], other: -given * eta[other]}
        over_change = {mover: -amount * eta[mover], other: given * eta[other]}
    # The later hour is packed knowing what the earlier one changed.
    if into[0] < over[0]:
        there = _traded(site, plans, into, other, mover, into_amount, {})
        back = _traded(site, plans, over, mover, other, over_amount, into_change)
    else:
        back = _traded(site, plans, over, mover, other, over_amount, {})
        there = _traded(site, plans, into, other, mover, into_amount, over_change)
    if there is None or back is None:
        return None
    saving = (
        costs[into[0]][0]
        + costs[over[0]][0]
        - _cost_with(site, plans, into, there)
        - _cost_with(site, plans, over, back)
    )
    giver = mover if other == mover else other
    return _Trade(saving, giver, mover, (into, over), {**there, **back})
