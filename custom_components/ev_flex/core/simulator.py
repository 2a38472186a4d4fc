"""A simulated vehicle and home charger with plausible charging physics.

Time never moves by itself: every read or command first advances the physics to the injected
clock's "now". Tests drive the clock (Home Assistant's time freezer), the dev instance uses the
wall clock. Nothing here sleeps.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
import random
from typing import Any

from .model import (
    AccountSnapshot,
    ChargerCapabilities,
    ChargerState,
    CommandKind,
    CommandResult,
    CommandState,
    Location,
    Reason,
    ReasonCode,
    VehicleCapabilities,
    VehicleState,
)

GRID_VOLTAGE_V = 230.0
# Physics is integrated in steps no longer than this, so the taper is followed closely.
_MAX_STEP = timedelta(seconds=60)


class SimulatorError(Exception):
    """Base error of the simulator; `reason` is for the user's language."""

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.reason = reason or Reason(ReasonCode.ACCOUNT_FAILED)


def _offline(device_id: str) -> Reason:
    return Reason(ReasonCode.DEVICE_OFFLINE, {"device": device_id})


def _cannot(kind: CommandKind) -> Reason:
    return Reason(ReasonCode.CANNOT, {"action": kind.value})


class DeviceOfflineError(SimulatorError):
    """The device does not answer."""


class UnsupportedCommandError(SimulatorError):
    """The device cannot carry out this command."""


class AccountUnreachableError(SimulatorError):
    """The account as a whole does not answer."""


class UnknownDeviceError(SimulatorError):
    """No device has that id."""


@dataclass(frozen=True, kw_only=True)
class VehicleSpec:
    """The fixed properties of a simulated vehicle."""

    make: str = "Tesla"
    model: str = "Model 3 Long Range"
    year: int = 2024
    vin: str = "5YJ3E7EB0SF000001"
    capacity_kwh: float = 75.0
    onboard_charger_kw: float = 11.0
    # Above taper_start_pct the accepted power falls linearly to power_at_full_kw at 100 %.
    taper_start_pct: float = 80.0
    power_at_full_kw: float = 3.0
    charge_efficiency: float = 0.9
    discharge_efficiency: float = 0.9
    consumption_kwh_per_km: float = 0.16
    can_start_stop: bool = True
    can_discharge: bool = False

    def accepted_power_kw(self, soc_pct: float) -> float:
        """The most grid power the car takes at this state of charge."""
        if soc_pct <= self.taper_start_pct:
            return self.onboard_charger_kw
        share = min(1.0, (soc_pct - self.taper_start_pct) / (100.0 - self.taper_start_pct))
        return self.onboard_charger_kw + share * (self.power_at_full_kw - self.onboard_charger_kw)


@dataclass(frozen=True, kw_only=True)
class ChargerSpec:
    """The fixed properties of a simulated home charger."""

    make: str = "Easee"
    model: str = "Home"
    serial_number: str = "EH000001"
    max_current_limit_a: float = 32.0
    min_current_a: float = 6.0
    phases: int = 3
    can_discharge: bool = False


@dataclass(frozen=True, kw_only=True)
class FaultSettings:
    """Optional misbehaviour, for tests and benchmarks."""

    command_failure_rate: float = 0.0
    vehicle_offline: bool = False
    charger_offline: bool = False
    # The whole account cannot be reached (a cloud outage).
    account_unreachable: bool = False


@dataclass(kw_only=True)
class _PendingCommand:
    result: CommandResult
    due_at: datetime
    will_fail: bool
    value: float | None = None


@dataclass(kw_only=True)
class _VehicleRuntime:
    soc_pct: float
    charge_limit_pct: float = 100.0
    plugged_in: bool = False
    plugged_in_at: datetime | None = None
    # The car's own wish to charge (its start/stop). Cars without start/stop always want to.
    wants_charge: bool = True
    odometer_km: float = 12_000.0
    location: Location = field(default_factory=lambda: Location(latitude=59.91, longitude=10.75))
    charge_rate_kw: float = 0.0
    discharge_rate_kw: float = 0.0
    energy_delivered_kwh: float = 0.0


@dataclass(kw_only=True)
class _ChargerRuntime:
    enabled: bool = True
    max_current_a: float = 16.0
    discharge_request_kw: float = 0.0


def _number(value: object, low: float, high: float) -> float:
    """A stored number within its bounds (NaN and infinity are not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    if not low <= value <= high:
        raise ValueError(f"{value!r} is not between {low:g} and {high:g}")
    return float(value)


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{value!r} is not true or false")
    return value


def _aware(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no offset")
    return moment.astimezone(UTC)


class Simulation:
    """One simulated vehicle plugged into (or away from) one simulated home charger."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        vehicle: VehicleSpec | None = None,
        charger: ChargerSpec | None = None,
        soc_pct: float = 45.0,
        plugged_in: bool = True,
        command_delay: timedelta = timedelta(seconds=5),
        faults: FaultSettings | None = None,
        seed: int = 0,
        vehicle_id: str = "sim-vehicle-1",
        charger_id: str = "sim-charger-1",
        home: Location | None = None,
    ) -> None:
        self._clock = clock
        self.vehicle_spec = vehicle or VehicleSpec()
        self.charger_spec = charger or ChargerSpec()
        self.vehicle_id = vehicle_id
        self.charger_id = charger_id
        self.command_delay = command_delay
        self.faults = faults or FaultSettings()
        self._random = random.Random(seed)
        self._vehicle = _VehicleRuntime(soc_pct=soc_pct, plugged_in=plugged_in)
        if home is not None:
            self._vehicle.location = home
        self._charger = _ChargerRuntime()
        self._pending: list[_PendingCommand] = []
        self._settled: dict[str, CommandResult] = {}
        self._command_counter = 0
        self._last_update = self._now()
        if plugged_in:
            self._vehicle.plugged_in_at = self._last_update

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise SimulatorError("the simulator clock must return aware datetimes")
        return now.astimezone(UTC)

    # Physics

    def charger_power_kw(self) -> float:
        """What the charger can deliver at its current setting."""
        return self._charger.max_current_a * self.charger_spec.phases * GRID_VOLTAGE_V / 1000.0

    def _flow_kw(self) -> tuple[float, float]:
        """Grid power into the car and out of it, given the state right now."""
        vehicle, charger = self._vehicle, self._charger
        if not vehicle.plugged_in or self.faults.charger_offline:
            return 0.0, 0.0
        if charger.discharge_request_kw > 0:
            if not (self.vehicle_spec.can_discharge and self.charger_spec.can_discharge):
                return 0.0, 0.0
            if vehicle.soc_pct <= 0:
                return 0.0, 0.0
            return 0.0, charger.discharge_request_kw
        if not (charger.enabled and vehicle.wants_charge):
            return 0.0, 0.0
        if vehicle.soc_pct >= vehicle.charge_limit_pct:
            return 0.0, 0.0
        power = min(self.charger_power_kw(), self.vehicle_spec.accepted_power_kw(vehicle.soc_pct))
        return max(0.0, power), 0.0

    def advance(self) -> None:
        """Bring the physics and pending commands up to the clock's now."""
        now = self._now()
        self._settle_commands(until=self._last_update)
        while self._last_update < now:
            # A step ends where a command takes effect, so energy is split at that moment.
            ends = [now] + [p.due_at for p in self._pending if p.due_at > self._last_update]
            if (longest := self._longest_step()) is not None:
                ends.append(self._last_update + longest)
            step_end = min(ends)
            hours = (step_end - self._last_update).total_seconds() / 3600.0
            self._integrate(hours)
            self._last_update = step_end
            self._settle_commands(until=step_end)
        charge_kw, discharge_kw = self._flow_kw()
        self._vehicle.charge_rate_kw = charge_kw
        self._vehicle.discharge_rate_kw = discharge_kw

    def _longest_step(self) -> timedelta | None:
        """How far one step may integrate: None while the flow cannot change by itself.

        Only the taper needs short steps; idle time, a discharge (constant until empty, where
        `_integrate` stops) and charging below the taper are integrated in one step, so a
        simulation saved long ago catches up in a few hundred steps at most.
        """
        charge_kw, _discharge_kw = self._flow_kw()
        if charge_kw <= 0:
            return None
        vehicle, spec = self._vehicle, self.vehicle_spec
        if vehicle.soc_pct >= spec.taper_start_pct:
            return _MAX_STEP
        # Constant power until the taper starts (or the limit, where `_integrate` stops).
        boundary = min(spec.taper_start_pct, vehicle.charge_limit_pct)
        stored_kwh = (boundary - vehicle.soc_pct) / 100.0 * spec.capacity_kwh
        hours = stored_kwh / (charge_kw * spec.charge_efficiency)
        return max(_MAX_STEP, timedelta(hours=hours))

    def _integrate(self, hours: float) -> None:
        vehicle, spec = self._vehicle, self.vehicle_spec
        charge_kw, discharge_kw = self._flow_kw()
        energy_kwh = vehicle.soc_pct / 100.0 * spec.capacity_kwh
        if charge_kw > 0:
            limit_kwh = vehicle.charge_limit_pct / 100.0 * spec.capacity_kwh
            stored = min(
                charge_kw * hours * spec.charge_efficiency, max(0.0, limit_kwh - energy_kwh)
            )
            energy_kwh += stored
            vehicle.energy_delivered_kwh += stored / spec.charge_efficiency
        elif discharge_kw > 0:
            drawn = min(discharge_kw * hours / spec.discharge_efficiency, energy_kwh)
            energy_kwh -= drawn
        vehicle.soc_pct = max(0.0, min(100.0, energy_kwh / spec.capacity_kwh * 100.0))

    # Commands

    def _settle_commands(self, *, until: datetime) -> None:
        still_pending: list[_PendingCommand] = []
        for pending in self._pending:
            if pending.due_at > until:
                still_pending.append(pending)
                continue
            result = pending.result
            if pending.will_fail:
                result = replace(
                    result,
                    state=CommandState.FAILED,
                    failure_reason=Reason(ReasonCode.DEVICE_REJECTED),
                )
            else:
                self._apply(result.kind, result.target_id, pending.value)
                result = replace(result, state=CommandState.CONFIRMED)
            self._settled[result.command_id] = result
        self._pending = still_pending

    def _apply(self, kind: CommandKind, target_id: str, value: float | None) -> None:
        is_vehicle = target_id == self.vehicle_id
        if kind is CommandKind.START:
            if is_vehicle:
                self._vehicle.wants_charge = True
            else:
                self._charger.enabled = True
                self._charger.discharge_request_kw = 0.0
        elif kind is CommandKind.STOP:
            if is_vehicle:
                self._vehicle.wants_charge = False
            else:
                self._charger.enabled = False
                self._charger.discharge_request_kw = 0.0
        elif kind is CommandKind.SET_MAX_CURRENT and value is not None:
            self._charger.max_current_a = value
        elif kind is CommandKind.DISCHARGE and value is not None:
            self._charger.discharge_request_kw = value

    def send_command(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Queue a command; it takes effect after the command delay unless it fails.

        Raises DeviceOfflineError, UnsupportedCommandError or UnknownDeviceError at once, as a
        real account would refuse the request.
        """
        self.advance()
        if self.faults.account_unreachable:
            raise AccountUnreachableError(
                "the simulated account does not answer", Reason(ReasonCode.SIMULATION_UNREACHABLE)
            )
        self._check_command(target_id, kind, value)
        self._command_counter += 1
        will_fail = self._random.random() < self.faults.command_failure_rate
        result = CommandResult(
            command_id=f"sim-cmd-{self._command_counter}",
            kind=kind,
            target_id=target_id,
            state=CommandState.PENDING,
        )
        self._pending.append(
            _PendingCommand(
                result=result,
                due_at=self._now() + self.command_delay,
                will_fail=will_fail,
                value=value,
            )
        )
        if self.command_delay <= timedelta(0):
            self.advance()
            return self._settled[result.command_id]
        return result

    def _check_command(self, target_id: str, kind: CommandKind, value: float | None) -> None:
        if target_id == self.vehicle_id:
            if self.faults.vehicle_offline:
                raise DeviceOfflineError(f"vehicle {target_id} is offline", _offline(target_id))
            if kind in (CommandKind.START, CommandKind.STOP):
                if not self.vehicle_spec.can_start_stop:
                    raise UnsupportedCommandError(
                        "this vehicle cannot start or stop charging", _cannot(kind)
                    )
                return
            raise UnsupportedCommandError(f"a vehicle cannot {kind.value}", _cannot(kind))
        if target_id == self.charger_id:
            if self.faults.charger_offline:
                raise DeviceOfflineError(f"charger {target_id} is offline", _offline(target_id))
            if kind is CommandKind.SET_MAX_CURRENT:
                spec = self.charger_spec
                if value is None or not spec.min_current_a <= value <= spec.max_current_limit_a:
                    raise UnsupportedCommandError(
                        f"max current must be between {spec.min_current_a:g} "
                        f"and {spec.max_current_limit_a:g} A",
                        Reason(
                            ReasonCode.CURRENT_RANGE,
                            {
                                "low": f"{spec.min_current_a:g}",
                                "high": f"{spec.max_current_limit_a:g}",
                            },
                        ),
                    )
            if kind is CommandKind.DISCHARGE and not self.charger_spec.can_discharge:
                raise UnsupportedCommandError("this charger cannot discharge", _cannot(kind))
            return
        raise UnknownDeviceError(
            f"no device with id {target_id}", Reason(ReasonCode.NO_DEVICE, {"id": target_id})
        )

    def command(self, command_id: str) -> CommandResult:
        """The current state of a command sent earlier."""
        self.advance()
        if command_id in self._settled:
            return self._settled[command_id]
        for pending in self._pending:
            if pending.result.command_id == command_id:
                return pending.result
        raise UnknownDeviceError(
            f"no command with id {command_id}", Reason(ReasonCode.NO_COMMAND, {"id": command_id})
        )

    # Plugging and settings

    def plug_in(self) -> None:
        """Connect the car to the charger."""
        self.advance()
        if not self._vehicle.plugged_in:
            self._vehicle.plugged_in_at = self._now()
            # Like most cars, a fresh connection starts charging whatever was asked before.
            self._vehicle.wants_charge = True
        self._vehicle.plugged_in = True

    def unplug(self) -> None:
        """Disconnect the car."""
        self.advance()
        self._vehicle.plugged_in = False
        self._vehicle.plugged_in_at = None

    def drive(self, distance_km: float) -> None:
        """Drive away, use energy and come back (leaves the car unplugged)."""
        self.advance()
        vehicle, spec = self._vehicle, self.vehicle_spec
        vehicle.plugged_in = False
        vehicle.plugged_in_at = None
        used_pct = distance_km * spec.consumption_kwh_per_km / spec.capacity_kwh * 100.0
        vehicle.soc_pct = max(0.0, vehicle.soc_pct - used_pct)
        vehicle.odometer_km += distance_km

    def set_soc(self, soc_pct: float) -> None:
        """Force the state of charge (a test hook)."""
        self.advance()
        self._vehicle.soc_pct = max(0.0, min(100.0, soc_pct))

    def set_charge_limit(self, charge_limit_pct: float) -> None:
        """Change the car's own charge limit."""
        self.advance()
        self._vehicle.charge_limit_pct = max(50.0, min(100.0, charge_limit_pct))

    def set_faults(self, faults: FaultSettings) -> None:
        """Change the injected faults."""
        self.advance()
        self.faults = faults

    def grid_power_kw(self) -> float:
        """What the charger draws from the house now: negative while discharging (kW)."""
        self.advance()
        charge_kw, discharge_kw = self._flow_kw()
        return charge_kw - discharge_kw

    @property
    def energy_delivered_kwh(self) -> float:
        """Energy drawn from the grid into the car since the simulation started."""
        self.advance()
        return self._vehicle.energy_delivered_kwh

    # Persistence

    def to_dict(self) -> dict[str, object]:
        """What changes while the simulation runs, as JSON-safe data."""
        self.advance()
        vehicle, charger = self._vehicle, self._charger
        return {
            "saved_at": self._last_update.isoformat(),
            "soc_pct": vehicle.soc_pct,
            "charge_limit_pct": vehicle.charge_limit_pct,
            "plugged_in": vehicle.plugged_in,
            "plugged_in_at": (
                vehicle.plugged_in_at.isoformat() if vehicle.plugged_in_at is not None else None
            ),
            "wants_charge": vehicle.wants_charge,
            "odometer_km": vehicle.odometer_km,
            "energy_delivered_kwh": vehicle.energy_delivered_kwh,
            "charger_enabled": charger.enabled,
            "max_current_a": charger.max_current_a,
            "discharge_request_kw": charger.discharge_request_kw,
        }

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Continue from saved data; time that passed meanwhile is simulated as well."""
        try:
            saved_at = _aware(saved["saved_at"])
            # Absent from what older versions saved.
            plugged_in_at = saved.get("plugged_in_at")
            vehicle = replace(
                self._vehicle,
                soc_pct=_number(saved["soc_pct"], 0.0, 100.0),
                charge_limit_pct=_number(saved["charge_limit_pct"], 50.0, 100.0),
                plugged_in=_flag(saved["plugged_in"]),
                plugged_in_at=None if plugged_in_at is None else _aware(plugged_in_at),
                wants_charge=_flag(saved["wants_charge"]),
                odometer_km=_number(saved["odometer_km"], 0.0, 10_000_000.0),
                energy_delivered_kwh=_number(saved["energy_delivered_kwh"], 0.0, 1e9),
            )
            charger = replace(
                self._charger,
                enabled=_flag(saved["charger_enabled"]),
                max_current_a=_number(
                    saved["max_current_a"],
                    self.charger_spec.min_current_a,
                    self.charger_spec.max_current_limit_a,
                ),
                discharge_request_kw=_number(saved["discharge_request_kw"], 0.0, 1000.0),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise SimulatorError(f"saved simulation state is unreadable: {err}") from err
        if not vehicle.plugged_in:
            vehicle.plugged_in_at = None
        self._vehicle, self._charger = vehicle, charger
        self._last_update = min(saved_at, self._now())
        self.advance()

    # Reads

    def vehicle_state(self) -> VehicleState:
        """The vehicle as its account would report it now."""
        self.advance()
        if self.faults.vehicle_offline:
            raise DeviceOfflineError(
                f"vehicle {self.vehicle_id} is offline", _offline(self.vehicle_id)
            )
        vehicle, spec = self._vehicle, self.vehicle_spec
        stored_kwh = vehicle.soc_pct / 100.0 * spec.capacity_kwh
        charging = vehicle.charge_rate_kw > 0
        return VehicleState(
            vehicle_id=self.vehicle_id,
            make=spec.make,
            model=spec.model,
            year=spec.year,
            vin=spec.vin,
            battery_level_pct=round(vehicle.soc_pct, 2),
            battery_capacity_kwh=spec.capacity_kwh,
            range_km=round(stored_kwh / spec.consumption_kwh_per_km, 1),
            charge_limit_pct=vehicle.charge_limit_pct,
            is_plugged_in=vehicle.plugged_in,
            plugged_in_at=vehicle.plugged_in_at,
            is_charging=charging,
            is_fully_charged=vehicle.soc_pct >= vehicle.charge_limit_pct,
            # Negative while discharging, as the charger shows it.
            charge_rate_kw=round(vehicle.charge_rate_kw - vehicle.discharge_rate_kw, 3),
            charge_time_remaining_min=self._time_remaining_min() if charging else None,
            odometer_km=round(vehicle.odometer_km, 1),
            location=vehicle.location,
            plugged_in_charger_id=self.charger_id if vehicle.plugged_in else None,
            last_seen=self._now(),
            capabilities=VehicleCapabilities(
                can_start_stop=spec.can_start_stop,
                can_set_charge_limit=True,
                reports_location=True,
                can_discharge=spec.can_discharge,
            ),
        )

    def _time_remaining_min(self) -> float:
        """Minutes to the charge limit at the present charger setting, following the taper."""
        vehicle, spec = self._vehicle, self.vehicle_spec
        soc, minutes = vehicle.soc_pct, 0.0
        step_pct = 0.5
        while soc < vehicle.charge_limit_pct:
            power = min(self.charger_power_kw(), spec.accepted_power_kw(soc))
            if power <= 0:
                break
            step = min(step_pct, vehicle.charge_limit_pct - soc)
            minutes += step / 100.0 * spec.capacity_kwh / (power * spec.charge_efficiency) * 60.0
            soc += step
        return round(minutes, 1)

    def charger_state(self) -> ChargerState:
        """The charger as its account would report it now."""
        self.advance()
        if self.faults.charger_offline:
            raise DeviceOfflineError(
                f"charger {self.charger_id} is offline", _offline(self.charger_id)
            )
        vehicle, charger, spec = self._vehicle, self._charger, self.charger_spec
        return ChargerState(
            charger_id=self.charger_id,
            make=spec.make,
            model=spec.model,
            serial_number=spec.serial_number,
            is_plugged_in=vehicle.plugged_in,
            plugged_in_at=vehicle.plugged_in_at,
            is_charging=vehicle.charge_rate_kw > 0,
            charge_rate_kw=round(vehicle.charge_rate_kw - vehicle.discharge_rate_kw, 3),
            max_current_a=charger.max_current_a,
            max_current_limit_a=spec.max_current_limit_a,
            min_current_a=spec.min_current_a,
            phases=spec.phases,
            plugged_in_vehicle_id=self.vehicle_id if vehicle.plugged_in else None,
            last_seen=self._now(),
            capabilities=ChargerCapabilities(
                can_start_stop=True, can_set_max_current=True, can_discharge=spec.can_discharge
            ),
        )

    def snapshot(self) -> AccountSnapshot:
        """Both devices; an offline device is listed with online=False and no readings."""
        if self.faults.account_unreachable:
            raise AccountUnreachableError(
                "the simulated account does not answer", Reason(ReasonCode.SIMULATION_UNREACHABLE)
            )
        self.advance()
        if self.faults.vehicle_offline:
            vehicle = VehicleState(vehicle_id=self.vehicle_id, online=False)
        else:
            vehicle = self.vehicle_state()
        if self.faults.charger_offline:
            charger = ChargerState(charger_id=self.charger_id, online=False)
        else:
            charger = self.charger_state()
        return AccountSnapshot(
            vehicles={self.vehicle_id: vehicle}, chargers={self.charger_id: charger}
        )


# Ready-made simulated cars, so people can try each kind of EV system.
VEHICLE_PRESETS: dict[str, VehicleSpec] = {
    # A car whose own account can start and stop charging.
    "sedan": VehicleSpec(
        make="EV Flex Simulator",
        model="Sedan 75 kWh",
        vin="SIMSEDAN000000001",
        capacity_kwh=75.0,
        onboard_charger_kw=11.0,
    ),
    # A car that cannot start or stop charging by itself: it needs the charger for that.
    "hatchback": VehicleSpec(
        make="EV Flex Simulator",
        model="Hatchback 40 kWh",
        vin="SIMHATCH000000001",
        capacity_kwh=40.0,
        onboard_charger_kw=7.4,
        taper_start_pct=85.0,
        power_at_full_kw=2.0,
        consumption_kwh_per_km=0.15,
        can_start_stop=False,
    ),
    # A bidirectional car for trying vehicle-to-grid.
    "suv_v2g": VehicleSpec(
        make="EV Flex Simulator",
        model="SUV 99 kWh bidirectional",
        vin="SIMSUVV2G00000001",
        capacity_kwh=99.0,
        onboard_charger_kw=11.0,
        consumption_kwh_per_km=0.2,
        can_discharge=True,
    ),
}

# A bidirectional home charger goes with the bidirectional car.
CHARGER_PRESETS: dict[str, ChargerSpec] = {
    "sedan": ChargerSpec(make="EV Flex Simulator", model="Wallbox 22 kW"),
    "hatchback": ChargerSpec(make="EV Flex Simulator", model="Wallbox 22 kW"),
    "suv_v2g": ChargerSpec(
        make="EV Flex Simulator", model="Bidirectional wallbox 11 kW", can_discharge=True
    ),
}
