"""Simulator physics, commands, plugging and faults."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ev_flex.core.model import CommandKind, CommandState
from custom_components.ev_flex.core.simulator import (
    VEHICLE_PRESETS,
    AccountUnreachableError,
    ChargerSpec,
    DeviceOfflineError,
    FaultSettings,
    Simulation,
    SimulatorError,
    UnknownDeviceError,
    UnsupportedCommandError,
    VehicleSpec,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(clock: Clock, **kwargs: object) -> Simulation:
    return Simulation(clock=clock, command_delay=timedelta(seconds=10), **kwargs)  # type: ignore[arg-type]


def test_soc_rises_with_elapsed_time(clock: Clock) -> None:
    """Two hours at 11 kW with 90 % efficiency store 19.8 kWh: 26.4 points of 75 kWh."""
    sim = make(clock, soc_pct=20.0)
    clock.advance(hours=2)
    vehicle = sim.vehicle_state()
    assert vehicle.battery_level_pct == pytest.approx(46.4, abs=0.01)
    assert vehicle.is_charging
    assert sim.energy_delivered_kwh == pytest.approx(22.0, abs=0.01)


def test_charger_current_limits_power(clock: Clock) -> None:
    """A 16 A three-phase charger delivers 11.04 kW but the car takes at most 7.4 kW."""
    sim = make(clock, vehicle=VEHICLE_PRESETS["hatchback"])
    assert sim.charger_power_kw() == pytest.approx(11.04)
    assert sim.vehicle_state().charge_rate_kw == pytest.approx(7.4)

    sim = make(clock, charger=ChargerSpec(phases=1))
    assert sim.vehicle_state().charge_rate_kw == pytest.approx(3.68)


def test_taper_slows_charging_above_80(clock: Clock) -> None:
    """At 90 % the accepted power is halfway between 11 kW and 3 kW."""
    spec = VehicleSpec()
    assert spec.accepted_power_kw(50) == 11.0
    assert spec.accepted_power_kw(90) == pytest.approx(7.0)
    assert spec.accepted_power_kw(100) == pytest.approx(3.0)
    sim = make(clock, soc_pct=90.0)
    assert sim.vehicle_state().charge_rate_kw == pytest.approx(7.0)


def test_taper_makes_the_last_points_slow(clock: Clock) -> None:
    """80 to 100 % takes far longer than the same energy at full power."""
    sim = make(clock, soc_pct=80.0)
    full_power_minutes = 15.0 / (11.0 * 0.9) * 60
    remaining = sim.vehicle_state().charge_time_remaining_min
    assert remaining is not None
    assert remaining > 1.5 * full_power_minutes
    clock.advance(minutes=remaining + 1)
    assert sim.vehicle_state().battery_level_pct == pytest.approx(100.0, abs=0.1)


def test_charging_stops_at_charge_limit(clock: Clock) -> None:
    """The car never charges past its own limit."""
    sim = make(clock, soc_pct=75.0)
    sim.set_charge_limit(80.0)
    clock.advance(hours=3)
    vehicle = sim.vehicle_state()
    assert vehicle.battery_level_pct == pytest.approx(80.0)
    assert not vehicle.is_charging
    assert vehicle.is_fully_charged


def test_commands_take_effect_after_delay(clock: Clock) -> None:
    """STOP stays pending for the delay, then charging stops and SoC holds."""
    sim = make(clock, soc_pct=50.0)
    result = sim.send_command(sim.charger_id, CommandKind.STOP)
    assert result.state is CommandState.PENDING
    clock.advance(seconds=5)
    assert sim.command(result.command_id).state is CommandState.PENDING
    assert sim.charger_state().is_charging
    clock.advance(seconds=5)
    assert sim.command(result.command_id).state is CommandState.CONFIRMED
    soc = sim.vehicle_state().battery_level_pct
    clock.advance(hours=1)
    assert sim.vehicle_state().battery_level_pct == soc

    start = sim.send_command(sim.vehicle_id, CommandKind.START)
    clock.advance(seconds=10)
    assert sim.command(start.command_id).state is CommandState.CONFIRMED
    assert not sim.charger_state().is_charging, "the charger is still stopped"


def test_energy_is_split_across_the_delay(clock: Clock) -> None:
    """Charging continues until the moment a STOP takes effect, not a step more."""
    sim = make(clock, soc_pct=50.0)
    sim.send_command(sim.charger_id, CommandKind.STOP)
    clock.advance(hours=1)
    # 10 seconds at 11 kW * 0.9 before the stop: 0.0275 kWh, 0.0367 points.
    assert sim.vehicle_state().battery_level_pct == pytest.approx(50.04, abs=0.01)


def test_car_without_start_stop(clock: Clock) -> None:
    """A car that cannot start or stop charging refuses at once; its charger can."""
    sim = make(clock, vehicle=VEHICLE_PRESETS["hatchback"])
    with pytest.raises(UnsupportedCommandError):
        sim.send_command(sim.vehicle_id, CommandKind.STOP)
    assert not sim.vehicle_state().capabilities.can_start_stop


def test_zero_delay_confirms_at_once(clock: Clock) -> None:
    sim = Simulation(clock=clock, command_delay=timedelta(0))
    result = sim.send_command(sim.charger_id, CommandKind.SET_MAX_CURRENT, 10)
    assert result.state is CommandState.CONFIRMED
    assert sim.charger_state().max_current_a == 10


def test_max_current_bounds(clock: Clock) -> None:
    sim = make(clock)
    with pytest.raises(UnsupportedCommandError):
        sim.send_command(sim.charger_id, CommandKind.SET_MAX_CURRENT, 40)
    with pytest.raises(UnsupportedCommandError):
        sim.send_command(sim.charger_id, CommandKind.SET_MAX_CURRENT, None)
    with pytest.raises(UnsupportedCommandError):
        sim.send_command(sim.vehicle_id, CommandKind.SET_MAX_CURRENT, 10)
    with pytest.raises(UnknownDeviceError):
        sim.send_command("nobody", CommandKind.START)
    with pytest.raises(UnknownDeviceError):
        sim.command("sim-cmd-999")


def test_plug_and_drive(clock: Clock) -> None:
    """Driving unplugs, uses energy and adds distance; plugging back in resumes charging."""
    sim = make(clock, soc_pct=60.0)
    sim.drive(100)
    vehicle = sim.vehicle_state()
    assert not vehicle.is_plugged_in
    assert vehicle.battery_level_pct == pytest.approx(60.0 - 16.0 / 75.0 * 100, abs=0.01)
    assert vehicle.odometer_km == pytest.approx(12_100.0)
    assert vehicle.charge_rate_kw == 0.0
    assert vehicle.plugged_in_charger_id is None
    clock.advance(hours=1)
    assert sim.vehicle_state().battery_level_pct == vehicle.battery_level_pct

    assert vehicle.plugged_in_at is None
    sim.plug_in()
    assert sim.charger_state().plugged_in_vehicle_id == sim.vehicle_id
    assert sim.charger_state().is_charging
    plugged_at = clock.now
    assert sim.vehicle_state().plugged_in_at == plugged_at
    assert sim.charger_state().plugged_in_at == plugged_at
    clock.advance(minutes=5)
    sim.plug_in()  # already in: the time it went in stays
    assert sim.vehicle_state().plugged_in_at == plugged_at


def test_discharge_needs_bidirectional_hardware(clock: Clock) -> None:
    """Only a bidirectional car and charger discharge; the SoC then falls."""
    plain = make(clock)
    with pytest.raises(UnsupportedCommandError):
        plain.send_command(plain.charger_id, CommandKind.DISCHARGE, 5.0)

    sim = Simulation(
        clock=clock,
        command_delay=timedelta(0),
        vehicle=VEHICLE_PRESETS["suv_v2g"],
        charger=ChargerSpec(can_discharge=True),
        soc_pct=80.0,
    )
    sim.send_command(sim.charger_id, CommandKind.DISCHARGE, 9.0)
    assert sim.charger_state().charge_rate_kw == pytest.approx(-9.0)
    clock.advance(hours=1)
    # 9 kWh at the grid is 10 kWh out of the battery at 90 %.
    assert sim.vehicle_state().battery_level_pct == pytest.approx(80.0 - 10.0 / 99.0 * 100, 0.01)

    sim.send_command(sim.charger_id, CommandKind.START)
    assert sim.charger_state().charge_rate_kw == pytest.approx(11.0)


def test_discharge_without_bidirectional_car_does_nothing(clock: Clock) -> None:
    sim = Simulation(
        clock=clock, command_delay=timedelta(0), charger=ChargerSpec(can_discharge=True)
    )
    sim.send_command(sim.charger_id, CommandKind.DISCHARGE, 9.0)
    assert sim.charger_state().charge_rate_kw == 0.0


def test_command_failure_rate_is_seeded(clock: Clock) -> None:
    """With a 30 % failure rate about 30 of 100 commands fail, the same ones every run."""

    def failures() -> list[int]:
        sim = Simulation(
            clock=clock,
            command_delay=timedelta(0),
            faults=FaultSettings(command_failure_rate=0.3),
            seed=7,
        )
        return [
            i
            for i in range(100)
            if sim.send_command(sim.charger_id, CommandKind.START).state is CommandState.FAILED
        ]

    first = failures()
    assert 20 <= len(first) <= 40
    assert first == failures()


def test_offline_devices(clock: Clock) -> None:
    sim = make(clock)
    sim.set_faults(FaultSettings(vehicle_offline=True, charger_offline=True))
    with pytest.raises(DeviceOfflineError):
        sim.vehicle_state()
    with pytest.raises(DeviceOfflineError):
        sim.charger_state()
    with pytest.raises(DeviceOfflineError):
        sim.send_command(sim.vehicle_id, CommandKind.START)
    with pytest.raises(DeviceOfflineError):
        sim.send_command(sim.charger_id, CommandKind.START)
    snapshot = sim.snapshot()
    assert not snapshot.vehicles[sim.vehicle_id].online
    assert not snapshot.chargers[sim.charger_id].online
    soc_before = sim._vehicle.soc_pct
    clock.advance(hours=1)
    sim.advance()
    assert sim._vehicle.soc_pct == soc_before, "an offline charger delivers nothing"


def test_unreachable_account(clock: Clock) -> None:
    sim = make(clock)
    sim.set_faults(FaultSettings(account_unreachable=True))
    with pytest.raises(AccountUnreachableError):
        sim.snapshot()
    with pytest.raises(AccountUnreachableError):
        sim.send_command(sim.charger_id, CommandKind.START)


def test_naive_clock_is_refused() -> None:
    with pytest.raises(SimulatorError):
        Simulation(clock=lambda: datetime(2026, 1, 1))


def test_set_soc_is_clamped(clock: Clock) -> None:
    sim = make(clock)
    sim.set_soc(140)
    assert sim.vehicle_state().battery_level_pct == 100.0
    sim.set_charge_limit(10)
    assert sim.vehicle_state().charge_limit_pct == 50.0


def test_restore_continues_where_it_stopped(clock: Clock) -> None:
    """A restored simulation keeps its state and simulates the time it was away."""
    sim = make(clock, soc_pct=30.0)
    sim.set_charge_limit(90)
    sim.send_command(sim.charger_id, CommandKind.SET_MAX_CURRENT, 10)
    clock.advance(seconds=10)
    saved = sim.to_dict()
    soc_at_save = sim.vehicle_state().battery_level_pct
    assert soc_at_save is not None

    clock.advance(hours=1)
    restored = make(clock, soc_pct=99.0)
    restored.restore(saved)
    vehicle = restored.vehicle_state()
    # One hour at 6.9 kW (10 A, three phases) with 90 % efficiency: 6.21 kWh, 8.28 points.
    assert vehicle.battery_level_pct == pytest.approx(soc_at_save + 8.28, abs=0.02)
    assert vehicle.charge_limit_pct == 90
    assert restored.charger_state().max_current_a == 10
    assert vehicle.plugged_in_at == sim.vehicle_state().plugged_in_at
    assert vehicle.plugged_in_at is not None

    # What older versions saved has no plug-in time; it stays unknown.
    older = {key: value for key, value in saved.items() if key != "plugged_in_at"}
    restored.restore(older)
    assert restored.vehicle_state().plugged_in_at is None


def test_restore_rejects_garbage(clock: Clock) -> None:
    sim = make(clock)
    with pytest.raises(SimulatorError, match="unreadable"):
        sim.restore({"saved_at": "yesterday"})


def test_a_fresh_connection_charges_whatever_was_asked_before(clock: Clock) -> None:
    """Stopped through its account, the car stays stopped while plugged in; a new plug-in
    starts charging again, as most cars do."""
    sim = make(clock, soc_pct=50.0)
    sim.send_command(sim.vehicle_id, CommandKind.STOP)
    clock.advance(seconds=10)
    assert not sim.charger_state().is_charging
    sim.plug_in()  # already in: nothing changes
    assert not sim.charger_state().is_charging
    sim.unplug()
    sim.plug_in()
    assert sim.charger_state().is_charging
