"""A reference for the planner: the same model as a MILP (HiGHS), and an independent simulator.

Written from the planning model (battery, charge curve, targets and prices as the planner's
request states them, and the house around the car as `planner/site.py` states it), not from the
planner's code. The one shared piece is the
energy a target beyond the horizon needs at the horizon's end (`ChargeCurve.required_start`),
which has tests of its own against numerical integration.

Test-only: highspy and numpy are never imported by the integration.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
import math
from typing import Any

import highspy
import numpy as np

from custom_components.ev_flex.core.planner import Plan, PlanRequest, SitePlan, SiteRequest
from custom_components.ev_flex.core.planner.curve import ChargeCurve

FEASIBILITY_KWH = 1e-7


@dataclass
class Model:
    """The request reduced to numbers, one entry per slot of the horizon."""

    capacity: float
    start: float
    upper: float
    floor: float
    hours: list[float]
    imports: list[float]
    exports: list[float | None]
    charge_max: float
    charge_eta: float
    taper: list[tuple[float, float]]
    discharge_max: float
    discharge_eta: float
    wear: float
    protective: float
    # (boundary index, required energy, target energy) per target.
    targets: list[tuple[int, float]]
    beyond: list[tuple[float, float]]
    # The house (site) per slot: base load - solar, and its limits and capacity tariff.
    house: list[float] = field(default_factory=list)
    import_limit: float = math.inf
    export_limit: float = math.inf
    peak_price: float = 0.0
    current_peak: float = 0.0
    # Slot indices per clock hour of the capacity tariff.
    hour_groups: list[list[int]] = field(default_factory=list)
    # The first clock hour's part before now: its length (h) and the house's import then (kWh).
    hour_passed: float = 0.0
    hour_imported: float = 0.0
    min_kw: float = 0.0
    has_site: bool = False

    def power_limit(self, energy: float) -> float:
        """min(max_kw, taper(SoC)), with linear interpolation, constant beyond the ends."""
        limit = self.charge_max
        if self.taper:
            soc = energy / self.capacity * 100.0
            points = self.taper
            if soc <= points[0][0]:
                value = points[0][1]
            elif soc >= points[-1][0]:
                value = points[-1][1]
            else:
                value = points[-1][1]
                for (s1, k1), (s2, k2) in pairwise(points):
                    if s1 <= soc <= s2:
                        value = k1 + (k2 - k1) * (soc - s1) / (s2 - s1)
                        break
            limit = min(limit, value)
        return limit

    def full_charge_path(self) -> list[float]:
        """Energy at every boundary when charging at full power from now."""
        energies = [self.start]
        for i, hours in enumerate(self.hours):
            energy = energies[-1]
            power = min(self.power_limit(energy), self.charge_cap(i))
            least = min(self.min_kw, self.power_limit(energy))
            if power < least and energy + hours * self.charge_eta * power < self.upper:
                power = 0.0
            energies.append(min(self.upper, energy + hours * self.charge_eta * power))
        return energies

    def charge_cap(self, slot: int) -> float:
        """The fuse: the car may not take the house's import over the limit."""
        if not self.house:
            return math.inf
        return max(0.0, self.import_limit - self.house[slot])

    def can_discharge(self, slot: int) -> bool:
        return self.discharge_max > 0.0 and self.exports[slot] is not None


def build_model(request: PlanRequest) -> Model | None:
    """None when no price covers now."""
    now = request.now
    prices = [p for p in request.prices if p.end > now]
    if not prices or prices[0].start > now:
        return None
    starts: list[datetime] = [now, *(p.start for p in prices[1:])]
    hours = [(p.end - s).total_seconds() / 3600.0 for p, s in zip(prices, starts, strict=True)]
    battery = request.battery
    capacity = battery.capacity_kwh
    start = battery.soc_pct / 100.0 * capacity
    discharge = request.discharge
    discharge_max = discharge.max_kw if discharge is not None else 0.0
    floor = start
    if discharge is not None and discharge_max > 0.0:
        floor = min(start, discharge.min_soc_pct / 100.0 * capacity)
    upper = max(start, battery.max_soc_pct / 100.0 * capacity)
    model = Model(
        capacity=capacity,
        start=start,
        upper=upper,
        floor=floor,
        hours=hours,
        imports=[p.import_price for p in prices],
        exports=[p.export_price for p in prices],
        charge_max=request.charge.max_kw,
        charge_eta=request.charge.efficiency,
        taper=list(request.charge.taper),
        discharge_max=discharge_max,
        discharge_eta=discharge.efficiency if discharge is not None else 1.0,
        wear=discharge.wear_cost_per_kwh if discharge is not None else 0.0,
        protective=request.protective_soc_pct / 100.0 * capacity,
        targets=[],
        beyond=[],
    )
    _add_site(model, request, starts)
    horizon_end = prices[-1].end
    curve = ChargeCurve.build(
        capacity, request.charge.max_kw, request.charge.taper, request.charge.efficiency, upper
    )
    for target in request.targets:
        energy = target.soc_pct / 100.0 * capacity
        if target.by > horizon_end:
            after = (target.by - horizon_end).total_seconds() / 3600.0
            needed = curve.required_start(energy, after)
            model.beyond.append((min(needed, upper + 1.0), energy))
            continue
        index = sum(1 for p in prices if p.end <= target.by)
        model.targets.append((index, energy))
    return model


def _add_site(model: Model, request: PlanRequest, starts: list[datetime]) -> None:
    """The house per slot of the horizon; the request's lists are per price slot."""
    n = len(model.hours)
    model.min_kw = request.charge.min_kw
    site = request.site
    model.house = [0.0] * n
    hours: dict[datetime, list[int]] = {}
    for i, start in enumerate(starts):
        local = start.astimezone(request.now.tzinfo)
        key = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        hours.setdefault(key, []).append(i)
    model.hour_groups = list(hours.values())
    if site is None:
        return
    model.has_site = True
    skip = len(request.prices) - n
    for i in range(n):
        base = site.base_load_kw[skip + i] if site.base_load_kw else 0.0
        solar = site.solar_kw[skip + i] if site.solar_kw else 0.0
        model.house[i] = base - solar
    if site.import_limit_kw is not None:
        model.import_limit = site.import_limit_kw
    if site.export_limit_kw is not None:
        model.export_limit = site.export_limit_kw
    model.peak_price = site.peak_price_per_kw
    model.current_peak = site.current_peak_kw
    now = request.now
    began = now.replace(minute=0, second=0, microsecond=0)
    model.hour_passed = (now - began).total_seconds() / 3600.0
    model.hour_imported = site.hour_import_kwh


def house_cost(model: Model, net: list[float]) -> float:
    """Energy and capacity-tariff cost of the house's net grid power per slot."""
    cost = 0.0
    for i, power in enumerate(net):
        export = model.exports[i] or 0.0
        cost += model.hours[i] * (model.imports[i] * max(power, 0.0) - export * max(-power, 0.0))
    return cost + model.peak_price * max(0.0, peak_of(model, net) - model.current_peak)


def _before(model: Model, group: list[int]) -> tuple[float, float]:
    """The hour's length before now and its import then: only the hour holding now has any."""
    return (model.hour_passed, model.hour_imported) if group[0] == 0 else (0.0, 0.0)


def peak_of(model: Model, net: list[float]) -> float:
    peak = 0.0
    for group in model.hour_groups:
        passed, imported = _before(model, group)
        length = passed + sum(model.hours[i] for i in group)
        energy = imported + sum(model.hours[i] * max(net[i], 0.0) for i in group)
        peak = max(peak, energy / length)
    return peak


def price_items(
    start: datetime, imports: list[float], minutes: int = 60, exports: list[float] | None = None
) -> list[dict[str, Any]]:
    """Price slots in the request's JSON form, `minutes` long each from `start`."""
    items = []
    for i, price in enumerate(imports):
        begin = start + timedelta(minutes=minutes * i)
        item: dict[str, Any] = {
            "start": begin.isoformat(),
            "end": (begin + timedelta(minutes=minutes)).isoformat(),
            "import": price,
        }
        if exports is not None:
            item["export"] = exports[i]
        items.append(item)
    return items


@dataclass
class Reference:
    cost: float
    shortfall: float


def solve_reference(model: Model, stages: int = 2) -> Reference:
    """Lexicographic MILP: least total shortfall, then least cost. One binary per slot.

    `stages=2` solves for the shortfall first, then for the cost (exact). `stages=1` solves once
    with the shortfall penalised (for timing; exact when the targets are reachable).
    """
    return solve_site_reference([model], stages)


def solve_site_reference(models: list[Model], stages: int = 2, presolve: bool = True) -> Reference:
    """The same MILP for several cars on one house (the site taken from the first model)."""
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    if not presolve:
        highs.setOptionValue("presolve", "off")
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-10)
    highs.setOptionValue("primal_feasibility_tolerance", 1e-10)
    highs.setOptionValue("mip_feasibility_tolerance", 1e-10)
    inf = highspy.kHighsInf
    cars = [_add_car(highs, model) for model in models]
    site = models[0]
    site_cols = _add_site_rows(highs, site, cars)
    columns = highs.getNumCol()
    soft = [c for car in cars for c in car.shortfall]
    shortfall = 0.0
    if soft and stages == 2:
        costs = np.zeros(columns)
        costs[soft] = 1.0
        highs.changeColsCost(columns, np.arange(columns, dtype=np.int32), costs)
        highs.run()
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, (
            highs.modelStatusToString(highs.getModelStatus())
        )
        shortfall = highs.getInfo().objective_function_value
        highs.addRow(
            -inf,
            shortfall * (1 + 1e-9) + 1e-8,
            len(soft),
            np.array(soft, dtype=np.int32),
            np.ones(len(soft)),
        )
    costs = np.zeros(columns)
    for model, car in zip(models, cars, strict=True):
        for i in range(len(model.hours)):
            dt = model.hours[i]
            export = model.exports[i]
            if model.has_site:
                costs[car.pd[i]] = dt * model.wear / model.discharge_eta
                continue
            costs[car.pc[i]] = dt * model.imports[i]
            if export is not None:
                costs[car.pd[i]] = dt * (model.wear / model.discharge_eta - export)
    baseline = 0.0
    if site.has_site:
        for i in range(len(site.hours)):
            costs[site_cols.imports[i]] = site.hours[i] * site.imports[i]
            costs[site_cols.exports[i]] = -site.hours[i] * (site.exports[i] or 0.0)
        costs[site_cols.excess_peak] = site.peak_price
        baseline = house_cost(site, site.house)
    if stages == 1:
        costs[soft] = 1e4
    highs.changeColsCost(columns, np.arange(columns, dtype=np.int32), costs)
    highs.run()
    if highs.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        # HiGHS's presolve can call the second stage infeasible, though the first stage's
        # solution satisfies it; solving without presolve settles it.
        highs.setOptionValue("presolve", "off")
        highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, highs.modelStatusToString(
        highs.getModelStatus()
    )
    cost = highs.getInfo().objective_function_value - baseline
    if stages == 1:
        values = highs.getSolution().col_value
        shortfall = sum(values[c] for c in soft)
        cost -= 1e4 * shortfall
    return Reference(cost=cost, shortfall=shortfall)


@dataclass
class _CarColumns:
    e: list[int]
    pc: list[int]
    pd: list[int]
    z: list[int]
    shortfall: list[int]


def _add_car(highs: Any, model: Model) -> _CarColumns:
    """One car's columns and rows: energy balance, power limits, taper, targets, minimum."""
    n = len(model.hours)
    full = model.full_charge_path()
    inf = highspy.kHighsInf
    first = highs.getNumCol()
    # Columns: E_0..E_n, pc_0..pc_{n-1}, pd_0..pd_{n-1}, z_0..z_{n-1}, shortfalls.
    e_col = [first + i for i in range(n + 1)]
    pc_col = [first + n + 1 + i for i in range(n)]
    pd_col = [first + 2 * n + 1 + i for i in range(n)]
    z_col = [first + 3 * n + 1 + i for i in range(n)]
    soft = [*model.targets, *((n, need) for need, _ in model.beyond)]
    s_col = [first + 4 * n + 1 + k for k in range(len(soft))]
    lower: list[float] = []
    upper: list[float] = []
    for b in range(n + 1):
        low = model.floor
        # Protective: full power until the level, never below it afterwards.
        low = max(low, min(model.protective, full[b] - 1e-9))
        lower.append(model.start if b == 0 else low)
        upper.append(model.start if b == 0 else model.upper)
    for _ in range(n):
        lower.append(0.0)
        upper.append(model.charge_max)
    for i in range(n):
        lower.append(0.0)
        upper.append(model.discharge_max if model.can_discharge(i) else 0.0)
    for _ in range(n):
        lower.append(0.0)
        upper.append(1.0)
    for _ in soft:
        lower.append(0.0)
        upper.append(inf)
    highs.addVars(len(lower), np.array(lower), np.array(upper))
    highs.changeColsIntegrality(
        n, np.array(z_col, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n)
    )
    rows: list[tuple[float, float, list[int], list[float]]] = []
    for i in range(n):
        dt = model.hours[i]
        # E_{i+1} - E_i - dt*eta_c*pc + dt/eta_d*pd = 0
        rows.append(
            (
                0.0,
                0.0,
                [e_col[i + 1], e_col[i], pc_col[i], pd_col[i]],
                [1.0, -1.0, -dt * model.charge_eta, dt / model.discharge_eta],
            )
        )
        rows.append((-inf, 0.0, [pc_col[i], z_col[i]], [1.0, -model.charge_max]))
        rows.append((-inf, model.discharge_max, [pd_col[i], z_col[i]], [1.0, model.discharge_max]))
        rows += _taper_rows(model, pc_col[i], e_col[i])
        if model.min_kw > 0.0:
            rows += _minimum_rows(highs, model, pc_col[i], z_col[i], e_col[i], e_col[i + 1])
    for k, (index, need) in enumerate(soft):
        rows.append((need, inf, [e_col[index], s_col[k]], [1.0, 1.0]))
    for low, high, idx, vals in rows:
        highs.addRow(low, high, len(idx), np.array(idx, dtype=np.int32), np.array(vals))
    return _CarColumns(e_col, pc_col, pd_col, z_col, s_col)


def _taper_rows(
    model: Model, pc: int, energy: int
) -> list[tuple[float, float, list[int], list[float]]]:
    """pc <= each affine piece of the (concave) taper, in SoC = 100*E/capacity."""
    points = model.taper
    if not points:
        return []
    inf = highspy.kHighsInf
    rows: list[tuple[float, float, list[int], list[float]]] = [(-inf, points[0][1], [pc], [1.0])]
    for (s1, k1), (s2, k2) in pairwise(points):
        slope = (k2 - k1) / (s2 - s1)
        # pc - slope*100/cap*E <= k1 - slope*s1
        rows.append((-inf, k1 - slope * s1, [pc, energy], [1.0, -slope * 100.0 / model.capacity]))
    return rows


def _minimum_rows(
    highs: Any, model: Model, pc: int, z: int, energy: int, energy_after: int
) -> list[tuple[float, float, list[int], list[float]]]:
    """Charging moves at least min(min_kw, taper(E)), unless it fills the battery (`fills`).

    The taper is the least of its affine pieces. Where one of them drops below min_kw, the
    power must reach min_kw or one of those pieces: a binary per choice (`picks`).
    """
    inf = highspy.kHighsInf
    # (kW at E = 0, kW per kWh) of each choice: min_kw, then the taper's pieces below it.
    pieces = [(model.min_kw, 0.0)]
    for _, bound, columns, values in _taper_rows(model, pc, energy):
        per_kwh = -values[1] if len(columns) == 2 else 0.0
        if min(bound, bound + per_kwh * model.capacity) < model.min_kw:
            pieces.append((bound, per_kwh))
    if model.charge_max < model.min_kw:
        pieces.append((model.charge_max, 0.0))
    fills = highs.getNumCol()
    count = 1 if len(pieces) == 1 else 1 + len(pieces)
    highs.addVars(count, np.zeros(count), np.ones(count))
    highs.changeColsIntegrality(
        count,
        np.arange(fills, fills + count, dtype=np.int32),
        np.array([highspy.HighsVarType.kInteger] * count),
    )
    rows: list[tuple[float, float, list[int], list[float]]] = [
        (-1.0, inf, [energy_after, fills], [1.0, -(model.upper + 1.0)]),
    ]
    if len(pieces) == 1:
        return [*rows, (0.0, inf, [pc, z, fills], [1.0, -model.min_kw, model.min_kw])]
    picks = list(range(fills + 1, fills + count))
    # Charging picks one choice, unless it fills the battery.
    rows.append((0.0, inf, [*picks, z, fills], [*([1.0] * len(pieces)), -1.0, 1.0]))
    for pick, (at_zero, per_kwh) in zip(picks, pieces, strict=True):
        # pc >= at_zero + per_kwh * E when picked; big enough never to bind otherwise.
        big = max(0.0, at_zero, at_zero + per_kwh * model.capacity)
        columns, values = [pc, pick, energy], [1.0, -big, -per_kwh]
        count = 3 if per_kwh else 2
        rows.append((at_zero - big, inf, columns[:count], values[:count]))
    return rows


@dataclass
class _SiteColumns:
    imports: list[int]
    exports: list[int]
    excess_peak: int


def _add_site_rows(highs: Any, model: Model, cars: list[_CarColumns]) -> _SiteColumns:
    """The house's grid power with every car, its limits and its peak."""
    if not model.has_site:
        return _SiteColumns([], [], -1)
    n = len(model.hours)
    inf = highspy.kHighsInf

    def add(count: int, low: float, high: float, binary: bool = False) -> list[int]:
        first = highs.getNumCol()
        highs.addVars(count, np.full(count, low), np.full(count, high))
        cols = list(range(first, first + count))
        if binary:
            highs.changeColsIntegrality(
                count,
                np.array(cols, dtype=np.int32),
                np.array([highspy.HighsVarType.kInteger] * count),
            )
        return cols

    def row(low: float, high: float, cols: list[int], values: list[float]) -> None:
        highs.addRow(low, high, len(cols), np.array(cols, dtype=np.int32), np.array(values))

    imports = add(n, 0.0, inf)
    exports = add(n, 0.0, inf)
    importing = add(n, 0.0, 1.0, binary=True)
    peak, excess = add(2, 0.0, inf)
    big = 1000.0
    for i in range(n):
        load = model.house[i]
        # load + sum(pc - pd) = import - export, one of them zero.
        flows = [c for car in cars for c in (car.pc[i], car.pd[i])]
        signs = [v for _ in cars for v in (1.0, -1.0)]
        row(-load, -load, [*flows, imports[i], exports[i]], [*signs, -1.0, 1.0])
        row(-inf, 0.0, [imports[i], importing[i]], [1.0, -big])
        row(-inf, big, [exports[i], importing[i]], [1.0, big])
        if math.isfinite(model.import_limit):
            row(-inf, max(model.import_limit, load), [imports[i], exports[i]], [1.0, -1.0])
        if math.isfinite(model.export_limit):
            row(-inf, max(model.export_limit, -load), [exports[i], imports[i]], [1.0, -1.0])
    for group in model.hour_groups:
        passed, imported = _before(model, group)
        length = passed + sum(model.hours[i] for i in group)
        row(
            -inf,
            -imported,
            [*(imports[i] for i in group), peak],
            [*(model.hours[i] for i in group), -length],
        )
    row(-model.current_peak, inf, [excess, peak], [1.0, -1.0])
    return _SiteColumns(imports, exports, excess)


@dataclass
class Replay:
    energies: list[float]
    cost: float
    shortfall: float


def replay(model: Model, plan_dict: dict[str, Any]) -> Replay:
    """Re-simulate the plan's powers through the model; assert that no constraint is broken."""
    slots = plan_dict["slots"]
    assert len(slots) == len(model.hours)
    energy = model.start
    energies = [energy]
    cost = 0.0
    full = model.full_charge_path()
    tol = FEASIBILITY_KWH
    for i, slot in enumerate(slots):
        pc, pd = slot["charge_kw"], slot["discharge_kw"]
        dt = model.hours[i]
        assert pc >= 0.0
        assert pd >= 0.0
        assert pc == 0.0 or pd == 0.0, f"slot {i} charges and discharges"
        assert pc <= model.power_limit(energy) + 1e-9, f"slot {i} charges above the limit"
        if pc > 0.0 and model.min_kw > 0.0:
            least = min(model.min_kw, model.power_limit(energy))
            fills = energy + dt * model.charge_eta * pc >= model.upper - tol
            assert pc >= least - 1e-9 or fills, f"slot {i} charges below the minimum"
        if not model.can_discharge(i):
            assert pd == 0.0, f"slot {i} discharges without an export price"
        assert pd <= model.discharge_max + 1e-9
        energy = energy + dt * (model.charge_eta * pc - pd / model.discharge_eta)
        energies.append(energy)
        assert energy <= model.upper + tol, f"boundary {i + 1} above the upper limit"
        if pd > 0.0:
            assert energy >= model.floor - tol, f"slot {i} discharges below the floor"
        assert energy >= min(model.protective, full[i + 1]) - 1e-6, "protective level broken"
        cost += dt * model.imports[i] * pc
        export = slot["export"]
        if pd > 0.0:
            cost += dt * pd * (model.wear / model.discharge_eta - export)
    if model.has_site:
        cost = _replay_site(model, slots)
    shortfall = sum(max(0.0, need - energies[index]) for index, need in model.targets)
    shortfall += sum(max(0.0, need - energies[-1]) for need, _ in model.beyond)
    return Replay(energies, cost, shortfall)


def _replay_site(model: Model, slots: list[dict[str, Any]]) -> float:
    """Check the house's limits; the house's cost with the plan minus without it."""
    net: list[float] = []
    wear = 0.0
    for i, slot in enumerate(slots):
        load = model.house[i]
        power = load + slot["charge_kw"] - slot["discharge_kw"]
        assert power <= max(model.import_limit, load) + 1e-9, f"slot {i} over the import limit"
        assert -power <= max(model.export_limit, -load) + 1e-9, f"slot {i} over the export limit"
        assert math.isclose(slot["grid_kw"], power, rel_tol=1e-9, abs_tol=1e-9)
        net.append(power)
        wear += model.hours[i] * slot["discharge_kw"] * model.wear / model.discharge_eta
    return house_cost(model, net) - house_cost(model, model.house) + wear


def unbeaten_reference(models: list[Model], shortfall: float, cost: float) -> Reference:
    """The MILP's optimum, solved again without presolve where the plan beats it: HiGHS's
    presolve has called a dearer point optimal (cars with a minimum power)."""
    reference = solve_site_reference(models)
    beaten = shortfall < reference.shortfall - 1e-6 or (
        shortfall <= reference.shortfall + 1e-6
        and cost < reference.cost - 1e-6 * (1.0 + abs(reference.cost))
    )
    if not beaten:
        return reference
    try:
        again = solve_site_reference(models, presolve=False)
    except AssertionError:
        # Without presolve HiGHS may call the second stage infeasible instead.
        return reference
    return min(reference, again, key=lambda r: (round(r.shortfall, 6), r.cost))


def check_against_reference(
    request: PlanRequest, plan: Plan, rel_tol: float = 1e-6
) -> tuple[Replay, Reference] | None:
    """Assert the plan is feasible and as cheap as the MILP; None when there is nothing to plan."""
    model = build_model(request)
    if model is None:
        assert plan.status == "no_prices"
        return None
    data = plan.to_dict()
    replayed = replay(model, data)
    reference = unbeaten_reference([model], replayed.shortfall, data["cost"])
    assert math.isclose(replayed.shortfall, reference.shortfall, rel_tol=1e-6, abs_tol=1e-6), (
        replayed.shortfall,
        reference.shortfall,
    )
    assert math.isclose(replayed.cost, data["cost"], rel_tol=1e-9, abs_tol=1e-9)
    assert data["cost"] >= reference.cost - 1e-6 * (1.0 + abs(reference.cost)), (
        data["cost"],
        reference.cost,
    )
    assert math.isclose(data["cost"], reference.cost, rel_tol=rel_tol, abs_tol=1e-6), (
        data["cost"],
        reference.cost,
    )
    if model.has_site:
        net = [slot["grid_kw"] for slot in data["slots"]]
        assert math.isclose(data["peak_kw"], peak_of(model, net), rel_tol=1e-9, abs_tol=1e-9)
    return replayed, reference


def check_site_against_reference(
    request: SiteRequest, result: SitePlan, rel_tol: float | None = 1e-3
) -> Reference | None:
    """Assert every car's plan is feasible, the house stays within its limits, and the site plan
    costs at most `rel_tol` more than the MILP for all cars together (None: not compared)."""
    models = []
    shortfall = 0.0
    for index, vehicle in enumerate(result.vehicles):
        model = build_model(request.vehicle_request(index))
        assert model is not None
        data = vehicle.plan.to_dict()
        # Each car on its own: limits of the battery, charger and minimum power.
        solo = replace(model, has_site=False)
        shortfall += replay(solo, data).shortfall
        models.append(model)
    site = models[0]
    net = list(site.house)
    for vehicle in result.vehicles:
        for i, slot in enumerate(vehicle.plan.slots):
            net[i] += slot.charge_kw - slot.discharge_kw
    wear = 0.0
    for model, vehicle in zip(models, result.vehicles, strict=True):
        for i, slot in enumerate(vehicle.plan.slots):
            wear += model.hours[i] * slot.discharge_kw * model.wear / model.discharge_eta
    for i, power in enumerate(net):
        load = site.house[i]
        # Summed as the site plan sums it (the house, then each car in turn): not a rounding
        # over.
        assert power <= max(site.import_limit, load), f"slot {i} over the import limit"
        assert -power <= max(site.export_limit, -load), f"slot {i} over the export limit"
        assert math.isclose(result.slots[i].grid_kw, power, rel_tol=1e-9, abs_tol=1e-9)
    cost = house_cost(site, net) - house_cost(site, site.house) + wear
    assert math.isclose(result.cost, cost, rel_tol=1e-9, abs_tol=1e-9)
    if rel_tol is None:
        return None
    reference = unbeaten_reference(models, shortfall, cost)
    assert shortfall <= reference.shortfall + 1e-6, (shortfall, reference.shortfall)
    assert cost >= reference.cost - 1e-6 * (1.0 + abs(reference.cost))
    assert cost <= reference.cost + rel_tol * max(1.0, abs(reference.cost)), (cost, reference.cost)
    return reference
