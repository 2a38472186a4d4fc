"""A reference for the planner: the same model as a MILP (HiGHS), and an independent simulator.

Written from the planning model (battery, charge curve, targets and prices as the planner's
request states them), not from the planner's code. The one shared piece is the
energy a target beyond the horizon needs at the horizon's end (`ChargeCurve.required_start`),
which has tests of its own against numerical integration.

Test-only: highspy and numpy are never imported by the integration.
"""

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
import math
from typing import Any

import highspy
import numpy as np

from custom_components.ev_flex.core.planner import Plan, PlanRequest
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
        for hours in self.hours:
            energy = energies[-1]
            energies.append(
                min(self.upper, energy + hours * self.charge_eta * self.power_limit(energy))
            )
        return energies

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


@dataclass
class Reference:
    cost: float
    shortfall: float


def solve_reference(model: Model, stages: int = 2) -> Reference:
    """Lexicographic MILP: least total shortfall, then least cost. One binary per slot.

    `stages=2` solves for the shortfall first, then for the cost (exact). `stages=1` solves once
    with the shortfall penalised (for timing; exact when the targets are reachable).
    """
    n = len(model.hours)
    full = model.full_charge_path()
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-10)
    highs.setOptionValue("primal_feasibility_tolerance", 1e-10)
    highs.setOptionValue("mip_feasibility_tolerance", 1e-10)
    inf = highspy.kHighsInf
    # Columns: E_0..E_n, pc_0..pc_{n-1}, pd_0..pd_{n-1}, z_0..z_{n-1}, shortfalls.
    e_col = list(range(n + 1))
    pc_col = [n + 1 + i for i in range(n)]
    pd_col = [2 * n + 1 + i for i in range(n)]
    z_col = [3 * n + 1 + i for i in range(n)]
    soft = [*model.targets, *((n, need) for need, _ in model.beyond)]
    s_col = [4 * n + 1 + k for k in range(len(soft))]
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
    columns = len(lower)
    highs.addVars(columns, np.array(lower), np.array(upper))
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
        # Taper: pc <= each affine piece of the (concave) curve, in SoC = 100*E/capacity.
        points = model.taper
        if points:
            rows.append((-inf, points[0][1], [pc_col[i]], [1.0]))
            for (s1, k1), (s2, k2) in pairwise(points):
                slope = (k2 - k1) / (s2 - s1)
                # pc - slope*100/cap*E <= k1 - slope*s1
                rows.append(
                    (
                        -inf,
                        k1 - slope * s1,
                        [pc_col[i], e_col[i]],
                        [1.0, -slope * 100.0 / model.capacity],
                    )
                )
    for k, (index, need) in enumerate(soft):
        rows.append((need, inf, [e_col[index], s_col[k]], [1.0, 1.0]))
    for low, high, idx, vals in rows:
        highs.addRow(low, high, len(idx), np.array(idx, dtype=np.int32), np.array(vals))

    shortfall = 0.0
    if soft and stages == 2:
        costs = np.zeros(columns)
        costs[s_col] = 1.0
        highs.changeColsCost(columns, np.arange(columns, dtype=np.int32), costs)
        highs.run()
        assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, (
            highs.modelStatusToString(highs.getModelStatus())
        )
        shortfall = highs.getInfo().objective_function_value
        highs.addRow(
            -inf,
            shortfall * (1 + 1e-9) + 1e-8,
            len(s_col),
            np.array(s_col, dtype=np.int32),
            np.ones(len(s_col)),
        )
    costs = np.zeros(columns)
    for i in range(n):
        dt = model.hours[i]
        costs[pc_col[i]] = dt * model.imports[i]
        export = model.exports[i]
        if export is not None:
            costs[pd_col[i]] = dt * (model.wear / model.discharge_eta - export)
    if stages == 1:
        costs[s_col] = 1e4
    highs.changeColsCost(columns, np.arange(columns, dtype=np.int32), costs)
    highs.run()
    assert highs.getModelStatus() == highspy.HighsModelStatus.kOptimal, highs.modelStatusToString(
        highs.getModelStatus()
    )
    cost = highs.getInfo().objective_function_value
    if stages == 1:
        values = highs.getSolution().col_value
        shortfall = sum(values[c] for c in s_col)
        cost -= 1e4 * shortfall
    return Reference(cost=cost, shortfall=shortfall)


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
    shortfall = sum(max(0.0, need - energies[index]) for index, need in model.targets)
    shortfall += sum(max(0.0, need - energies[-1]) for need, _ in model.beyond)
    return Replay(energies, cost, shortfall)


def check_against_reference(request: PlanRequest, plan: Plan) -> tuple[Replay, Reference] | None:
    """Assert the plan is feasible and as cheap as the MILP; None when there is nothing to plan."""
    model = build_model(request)
    if model is None:
        assert plan.status == "no_prices"
        return None
    data = plan.to_dict()
    replayed = replay(model, data)
    reference = solve_reference(model)
    assert math.isclose(replayed.shortfall, reference.shortfall, rel_tol=1e-6, abs_tol=1e-6), (
        replayed.shortfall,
        reference.shortfall,
    )
    assert math.isclose(replayed.cost, data["cost"], rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(data["cost"], reference.cost, rel_tol=1e-6, abs_tol=1e-6), (
        data["cost"],
        reference.cost,
    )
    return replayed, reference
