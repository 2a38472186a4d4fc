"""EV system pairing: states, inference, capabilities, persistence, merged data and routing."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from custom_components.ev_flex.core.account import (
    AccountAuthError,
    AccountError,
    AccountUnavailableError,
    ControlledElsewhereError,
    SimulatedAccount,
)
from custom_components.ev_flex.core.enode import EnodeAccount
from custom_components.ev_flex.core.model import (
    AccountSnapshot,
    ChargerCapabilities,
    ChargerState,
    CommandKind,
    CommandResult,
    CommandState,
    VehicleCapabilities,
    VehicleState,
)
from custom_components.ev_flex.core.pairing import (
    ActivationSource,
    CommandPath,
    DataSource,
    EvSystem,
    PairingState,
    PairingTracker,
    RouteFailure,
    UnlockedCapabilities,
    route_command,
)
from custom_components.ev_flex.core.simulator import VEHICLE_PRESETS, Simulation
from tests.fakes.enode_server import FakeEnodeServer

from .enode_support import USER, make_client
from .manual_clock import ManualClock

T0 = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
CAPABLE = VehicleCapabilities(can_start_stop=True, reports_location=True)
INCAPABLE = VehicleCapabilities(can_start_stop=False, reports_location=False)


def car(
    *,
    plugged: bool | None = False,
    charging: bool | None = False,
    rate: float | None = None,
    capabilities: VehicleCapabilities = CAPABLE,
    vehicle_id: str = "car",
    **kwargs: object,
) -> VehicleState:
    return VehicleState(
        vehicle_id=vehicle_id,
        is_plugged_in=plugged,
        is_charging=charging,
        charge_rate_kw=rate,
        capabilities=capabilities,
        **kwargs,  # type: ignore[arg-type]
    )


def wallbox(
    *,
    plugged: bool | None = False,
    charging: bool | None = False,
    rate: float | None = None,
    charger_id: str = "wallbox",
    **kwargs: object,
) -> ChargerState:
    return ChargerState(
        charger_id=charger_id,
        is_plugged_in=plugged,
        is_charging=charging,
        charge_rate_kw=rate,
        **kwargs,  # type: ignore[arg-type]
    )


def snapshot(
    vehicles: list[VehicleState], chargers: list[ChargerState], *, reports_ids: bool = False
) -> AccountSnapshot:
    return AccountSnapshot(
        vehicles={v.vehicle_id: v for v in vehicles},
        chargers={c.charger_id: c for c in chargers},
        reports_plugged_in_ids=reports_ids,
    )


# States


def test_a_vehicle_alone_is_unpaired() -> None:
    systems = PairingTracker().update(snapshot([car(rate=3.0)], []), T0)
    system = systems["car"]
    assert system.state is PairingState.UNPAIRED
    assert not system.established
    assert system.charger is None
    assert system.charge_rate_source is DataSource.VEHICLE
    assert system.command_paths(CommandKind.START) == [(CommandPath.VEHICLE, "car")]


def test_same_account_establishes_and_unlocks_start_stop() -> None:
    tracker = PairingTracker()
    system = tracker.update(snapshot([car(capabilities=INCAPABLE)], [wallbox()]), T0)["car"]
    assert system.state is PairingState.ESTABLISHED
    assert system.established
    assert not system.active
    assert system.charger is not None
    assert system.charger.charger_id == "wallbox"
    assert system.vehicle.capabilities.can_start_stop
    # The car's own capability is kept apart: only the charger can act for it.
    assert not system.own_capabilities.can_start_stop
    # Location needs a known charging place.
    assert not system.vehicle.capabilities.reports_location
    assert system.plugged_in_charger_id is None
    assert system.plugged_in_vehicle_id is None


def test_location_unlocks_with_a_known_charging_place() -> None:
    with_zone = PairingTracker().update(
        snapshot([car(capabilities=INCAPABLE)], [wallbox()]), T0, charging_location_known=True
    )["car"]
    assert with_zone.vehicle.capabilities.reports_location
    with_location = PairingTracker().update(
        snapshot([car(capabilities=INCAPABLE)], [wallbox(location_id="home")]), T0
    )["car"]
    assert with_location.vehicle.capabilities.reports_location
    assert with_location.unlocked is not None
    assert with_location.unlocked.location


def test_reported_ids_activate() -> None:
    tracker = PairingTracker()
    reported = snapshot(
        [car(plugged=True, plugged_in_charger_id="wallbox")],
        [wallbox(plugged=True, plugged_in_vehicle_id="car", location_id="home")],
        reports_ids=True,
    )
    system = tracker.update(reported, T0)["car"]
    assert system.state is PairingState.ACTIVE
    assert system.activation is ActivationSource.REPORTED
    assert system.plugged_in_charger_id == "wallbox"
    assert system.plugged_in_vehicle_id == "car"
    assert system.vehicle.location_id == "home"

    # The charger alone saying so is enough.
    only_charger = snapshot(
        [car(plugged=True)], [wallbox(plugged=True, plugged_in_vehicle_id="car")]
    )
    assert PairingTracker().update(only_charger, T0)["car"].active


def test_a_reported_null_is_trusted() -> None:
    """Enode says they are not plugged into each other (say, the car is at a public charger)."""
    tracker = PairingTracker()
    tracker.update(snapshot([car()], [wallbox()], reports_ids=True), T0)
    later = snapshot([car(plugged=True)], [wallbox(plugged=True)], reports_ids=True)
    system = tracker.update(later, T0 + timedelta(minutes=1))["car"]
    assert system.state is PairingState.ESTABLISHED
    assert system.plugged_in_charger_id is None


def test_inferred_from_close_plug_ins_and_earliest_plug_in_time() -> None:
    tracker = PairingTracker()
    tracker.update(snapshot([car()], [wallbox()]), T0)
    # The charger notices the cable first; the car is polled later.
    at_charger = T0 + timedelta(minutes=2)
    system = tracker.update(
        snapshot([car()], [wallbox(plugged=True, charging=True, rate=7.2)]), at_charger
    )["car"]
    assert not system.active
    at_car = T0 + timedelta(minutes=9)
    system = tracker.update(
        snapshot(
            [car(plugged=True, charging=True)], [wallbox(plugged=True, charging=True, rate=7.2)]
        ),
        at_car,
    )["car"]
    assert system.state is PairingState.ACTIVE
    assert system.activation is ActivationSource.INFERRED
    assert system.vehicle.plugged_in_at == at_charger
    assert system.plugged_in_at_source is DataSource.CHARGER
    # The car reports no power: the charger's fills in.
    assert system.vehicle.charge_rate_kw == 7.2
    assert system.charge_rate_source is DataSource.CHARGER


def test_plug_ins_far_apart_are_not_paired() -> None:
    tracker = PairingTracker(plug_in_window=timedelta(minutes=10))
    tracker.update(snapshot([car()], [wallbox()]), T0)
    tracker.update(snapshot([car()], [wallbox(plugged=True)]), T0 + timedelta(minutes=1))
    system = tracker.update(
        snapshot([car(plugged=True)], [wallbox(plugged=True)]), T0 + timedelta(minutes=30)
    )["car"]
    assert system.state is PairingState.ESTABLISHED
    # Not active: the plug-in time is the car's own.
    assert system.vehicle.plugged_in_at == T0 + timedelta(minutes=30)
    assert system.plugged_in_at_source is DataSource.VEHICLE


@pytest.mark.parametrize(
    ("vehicle", "charger"),
    [
        # One charges, the other does not.
        (car(plugged=True, charging=True, rate=11.0), wallbox(plugged=True, charging=False)),
        # Both charge, at very different power.
        (
            car(plugged=True, charging=True, rate=11.0),
            wallbox(plugged=True, charging=True, rate=3.6),
        ),
    ],
)
def test_contradicting_power_blocks_inference(vehicle: VehicleState, charger: ChargerState) -> None:
    tracker = PairingTracker()
    tracker.update(snapshot([car()], [wallbox()]), T0)
    system = tracker.update(snapshot([vehicle], [charger]), T0 + timedelta(minutes=1))["car"]
    assert not system.active


def test_matching_power_pairs_without_plug_in_times() -> None:
    """Both already plugged in when first seen: equal power on the only candidates is enough."""
    both_charging = snapshot(
        [car(plugged=True, charging=True, rate=7.4)],
        [wallbox(plugged=True, charging=True, rate=7.2)],
    )
    system = PairingTracker().update(both_charging, T0)["car"]
    assert system.active
    assert system.activation is ActivationSource.INFERRED
    assert system.vehicle.charge_rate_kw == 7.4
    assert system.charge_rate_source is DataSource.VEHICLE

    second_car = car(plugged=True, charging=True, rate=7.3, vehicle_id="second")
    ambiguous = replace(both_charging, vehicles={**both_charging.vehicles, "second": second_car})
    systems = PairingTracker().update(ambiguous, T0)
    assert not systems["car"].active
    assert not systems["second"].active


def test_closest_plug_in_wins_between_two_cars() -> None:
    tracker = PairingTracker()
    tracker.update(
        snapshot([car(), car(vehicle_id="guest")], [wallbox()]),
        T0,
    )
    systems = tracker.update(
        snapshot(
            [car(plugged=True), car(plugged=True, vehicle_id="guest")],
            [wallbox(plugged=True)],
        ),
        T0 + timedelta(minutes=1),
    )
    # Both plugged in within the same interval: only one may own the charger.
    assert [s.vehicle_id for s in systems.values() if s.active] in (["car"], ["guest"])


def test_inferred_pair_lasts_until_unplugged() -> None:
    tracker = PairingTracker()
    tracker.update(snapshot([car()], [wallbox()]), T0)
    tracker.update(
        snapshot([car(plugged=True)], [wallbox(plugged=True)]), T0 + timedelta(minutes=1)
    )
    # Charging stops on one side first: a short disagreement does not break the pair.
    later = snapshot(
        [car(plugged=True, charging=True, rate=7.0)], [wallbox(plugged=True, charging=False)]
    )
    assert tracker.update(later, T0 + timedelta(minutes=20))["car"].active
    unplugged = snapshot([car()], [wallbox()])
    system = tracker.update(unplugged, T0 + timedelta(minutes=30))["car"]
    assert system.state is PairingState.ESTABLISHED
    assert system.vehicle.plugged_in_at is None


def test_charge_rate_falls_back_only_while_active() -> None:
    established = snapshot(
        [car(plugged=True, charging=True)], [wallbox(plugged=False, charging=True, rate=5.0)]
    )
    system = PairingTracker().update(established, T0)["car"]
    assert not system.active
    assert system.vehicle.charge_rate_kw is None
    assert system.charge_rate_source is None


# Persistence


def test_unlocked_capabilities_persist_while_both_stay_linked() -> None:
    tracker = PairingTracker()
    first = tracker.update(snapshot([car(capabilities=INCAPABLE)], [wallbox()]), T0)["car"]
    assert first.unlocked is not None
    assert first.unlocked.start_stop
    assert first.unlocked.unlocked_at == T0

    # The charger drops offline and reports nothing useful: the unlock stays.
    offline = wallbox(online=False, capabilities=ChargerCapabilities(can_start_stop=False))
    later = tracker.update(
        snapshot([car(capabilities=INCAPABLE)], [offline]), T0 + timedelta(days=2)
    )["car"]
    assert later.vehicle.capabilities.can_start_stop
    assert later.unlocked == first.unlocked

    stored = tracker.export()
    restored = PairingTracker.restore(stored)
    assert restored.unlocked == {"car": first.unlocked}
    again = restored.update(snapshot([car(capabilities=INCAPABLE)], [offline]), T0)["car"]
    assert again.vehicle.capabilities.can_start_stop
    assert again.unlocked == first.unlocked

    # The charger is unlinked: the capabilities reset.
    alone = restored.update(snapshot([car(capabilities=INCAPABLE)], []), T0 + timedelta(days=3))
    assert not alone["car"].vehicle.capabilities.can_start_stop
    assert restored.export() == []

    # Linked again: learned afresh.
    back = restored.update(
        snapshot([car(capabilities=INCAPABLE)], [wallbox()]), T0 + timedelta(days=4)
    )["car"]
    assert back.unlocked is not None
    assert back.unlocked.unlocked_at == T0 + timedelta(days=4)


def test_unlock_resets_when_the_vehicle_goes() -> None:
    tracker = PairingTracker()
    tracker.update(snapshot([car(capabilities=INCAPABLE)], [wallbox()]), T0)
    tracker.update(snapshot([], [wallbox()]), T0)
    assert tracker.unlocked == {}


def test_stored_records_are_read_leniently() -> None:
    good = UnlockedCapabilities(
        vehicle_id="car", charger_id="wallbox", start_stop=True, unlocked_at=T0
    )
    stored: list[dict[str, object]] = [
        good.to_dict(),
        {"vehicle_id": "car"},
        {"vehicle_id": "x", "charger_id": "y", "unlocked_at": "not a date"},
    ]
    assert PairingTracker.restore(stored).unlocked == {"car": good}
    assert UnlockedCapabilities.from_dict(good.to_dict()) == good


# Routing


class ScriptedDevices:
    """Stands in for an account: each device answers as the test scripts it."""

    def __init__(self, **outcomes: CommandState | AccountError) -> None:
        self.outcomes = outcomes
        self.calls: list[tuple[str, CommandKind, float | None]] = []

    async def __call__(
        self, target_id: str, kind: CommandKind, value: float | None
    ) -> CommandResult:
        self.calls.append((target_id, kind, value))
        outcome = self.outcomes.get(target_id, CommandState.CONFIRMED)
        if isinstance(outcome, AccountError):
            raise outcome
        return CommandResult(
            command_id=f"{target_id}-{len(self.calls)}",
            kind=kind,
            target_id=target_id,
            state=outcome,
        )


def active_system(
    *, online: bool = True, capabilities: VehicleCapabilities = CAPABLE, charging: bool = False
) -> EvSystem:
    reported = snapshot(
        [
            car(
                plugged=True,
                charging=charging,
                plugged_in_charger_id="wallbox",
                online=online,
                capabilities=capabilities,
            )
        ],
        [wallbox(plugged=True, charging=charging)],
    )
    system = PairingTracker().update(reported, T0)["car"]
    assert system.active
    return system


def established_system(
    *, capabilities: VehicleCapabilities = CAPABLE, charging: bool = False
) -> EvSystem:
    system = PairingTracker().update(
        snapshot(
            [car(plugged=True, charging=charging, capabilities=capabilities)],
            [wallbox()],
            reports_ids=True,
        ),
        T0,
    )["car"]
    assert system.state is PairingState.ESTABLISHED
    return system


async def test_the_car_acts_when_it_can() -> None:
    devices = ScriptedDevices()
    routed = await route_command(active_system(), CommandKind.START, devices)
    assert routed.succeeded
    assert routed.path is CommandPath.VEHICLE
    assert not routed.fell_back
    assert devices.calls == [("car", CommandKind.START, None)]
    assert routed.result is not None
    assert routed.result.target_id == "car"


@pytest.mark.parametrize(
    "car_outcome",
    [
        CommandState.FAILED,
        CommandState.CANCELLED,
        AccountUnavailableError("the car's cloud is down"),
    ],
)
async def test_the_charger_takes_over_when_the_car_fails(
    car_outcome: CommandState | AccountError,
) -> None:
    devices = ScriptedDevices(car=car_outcome)
    routed = await route_command(active_system(charging=True), CommandKind.STOP, devices)
    assert routed.succeeded
    assert routed.path is CommandPath.CHARGER
    assert routed.fell_back
    assert [call[0] for call in devices.calls] == ["car", "wallbox"]
    assert routed.attempts[0].path is CommandPath.VEHICLE
    assert not routed.attempts[0].succeeded


async def test_an_unreachable_car_is_skipped() -> None:
    devices = ScriptedDevices()
    routed = await route_command(
        active_system(online=False, charging=True), CommandKind.STOP, devices
    )
    assert routed.path is CommandPath.CHARGER
    assert [call[0] for call in devices.calls] == ["wallbox"]


async def test_the_charger_is_used_only_while_active() -> None:
    devices = ScriptedDevices(car=CommandState.FAILED)
    routed = await route_command(established_system(charging=True), CommandKind.STOP, devices)
    assert not routed.succeeded
    assert routed.failure is RouteFailure.ALL_PATHS_FAILED
    assert routed.path is None
    assert [call[0] for call in devices.calls] == ["car"]
    assert routed.result is not None
    assert routed.result.state is CommandState.FAILED

    incapable = await route_command(
        established_system(capabilities=INCAPABLE), CommandKind.START, devices
    )
    assert incapable.failure is RouteFailure.NO_PATH
    assert incapable.result is None
    assert len(devices.calls) == 1


async def test_a_car_that_cannot_start_uses_the_charger() -> None:
    devices = ScriptedDevices()
    routed = await route_command(active_system(capabilities=INCAPABLE), CommandKind.START, devices)
    assert routed.path is CommandPath.CHARGER
    assert not routed.fell_back
    assert devices.calls == [("wallbox", CommandKind.START, None)]


async def test_both_paths_failing_is_reported() -> None:
    devices = ScriptedDevices(car=CommandState.FAILED, wallbox=AccountUnavailableError("down"))
    routed = await route_command(active_system(), CommandKind.START, devices)
    assert routed.failure is RouteFailure.ALL_PATHS_FAILED
    assert isinstance(routed.attempts[-1].error, AccountUnavailableError)


async def test_an_auth_error_stops_routing() -> None:
    devices = ScriptedDevices(car=AccountAuthError("signed out"))
    with pytest.raises(AccountAuthError):
        await route_command(active_system(), CommandKind.START, devices)
    assert [call[0] for call in devices.calls] == ["car"]


async def test_charger_commands_need_an_active_system() -> None:
    devices = ScriptedDevices()
    routed = await route_command(active_system(), CommandKind.SET_MAX_CURRENT, devices, value=10.0)
    assert routed.path is CommandPath.CHARGER
    assert devices.calls == [("wallbox", CommandKind.SET_MAX_CURRENT, 10.0)]
    assert (
        await route_command(established_system(), CommandKind.SET_MAX_CURRENT, devices, value=8)
    ).failure is RouteFailure.NO_PATH
    # This charger cannot discharge.
    assert (
        await route_command(active_system(), CommandKind.DISCHARGE, devices, value=3.0)
    ).failure is RouteFailure.NO_PATH


# With real accounts


async def test_routing_through_the_simulator_waits_for_confirmation() -> None:
    clock = ManualClock()
    simulation = Simulation(
        clock=clock, vehicle=VEHICLE_PRESETS["hatchback"], command_delay=timedelta(seconds=10)
    )

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    account = SimulatedAccount(simulation, command_wait=60.0, poll_interval=5.0, sleep=sleep)
    tracker = PairingTracker()
    system = tracker.update(await account.async_snapshot(), clock.now)[simulation.vehicle_id]
    assert system.active
    routed = await route_command(system, CommandKind.STOP, account.async_send_and_wait)
    assert routed.path is CommandPath.CHARGER
    assert routed.result is not None
    assert routed.result.state is CommandState.CONFIRMED
    assert simulation.charger_state().is_charging is False


async def test_a_pending_command_ends_the_routing() -> None:
    """A command still pending after the sender's wait is not a failure: no other path is tried
    (the caller follows it, and cancels it before any fallback)."""
    devices = ScriptedDevices(car=CommandState.PENDING)
    routed = await route_command(active_system(charging=True), CommandKind.STOP, devices)
    assert routed.failure is None
    assert routed.pending
    assert not routed.succeeded
    assert routed.path is CommandPath.VEHICLE
    assert [call[0] for call in devices.calls] == ["car"]


async def test_redundant_commands_are_not_sent() -> None:
    """A start for a charging car and a stop for an idle plugged-in one change nothing."""
    devices = ScriptedDevices()
    for system, kind in (
        (active_system(charging=True), CommandKind.START),
        (active_system(charging=False), CommandKind.STOP),
    ):
        routed = await route_command(system, kind, devices, skip_redundant=True)
        assert routed.succeeded
        assert routed.redundant
        assert routed.skipped
    assert devices.calls == []
    routed = await route_command(
        active_system(charging=False), CommandKind.START, devices, skip_redundant=True
    )
    assert not routed.redundant
    # Without fresh readings nothing is taken for granted.
    await route_command(active_system(charging=True), CommandKind.START, devices)
    assert devices.calls == [("car", CommandKind.START, None), ("car", CommandKind.START, None)]


async def test_a_schedule_elsewhere_ends_the_routing() -> None:
    """Enode's 422: the charger is not used to get around the car's schedule."""
    devices = ScriptedDevices(car=ControlledElsewhereError("schedule"))
    routed = await route_command(active_system(charging=True), CommandKind.STOP, devices)
    assert routed.failure is RouteFailure.CONTROLLED_ELSEWHERE
    assert [call[0] for call in devices.calls] == ["car"]


async def test_tried_paths_are_skipped() -> None:
    devices = ScriptedDevices()
    routed = await route_command(
        active_system(charging=True), CommandKind.STOP, devices, tried=("car",)
    )
    assert routed.path is CommandPath.CHARGER
    assert [call[0] for call in devices.calls] == ["wallbox"]
    none_left = await route_command(
        active_system(charging=True), CommandKind.STOP, devices, tried=("car", "wallbox")
    )
    assert none_left.failure is RouteFailure.NO_PATH


@pytest.fixture
async def enode_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.parametrize("pairing_ids", [True, False])
async def test_routing_through_enode_falls_back_to_the_charger(
    enode_session: aiohttp.ClientSession, pairing_ids: bool
) -> None:
    """Every car command fails; the charger carries them out. Without Enode's ids the pair is
    inferred from matching power."""
    async with FakeEnodeServer(action_delay=timedelta(0), pairing_ids=pairing_ids) as server:
        site = server.add_site(soc_pct=30.0)
        assert site.vehicle_id is not None
        assert site.charger_id is not None
        server.link(USER, site.vehicle_id)
        server.link(USER, site.charger_id)
        server.faults.vehicle_action_failure_rate = 1.0
        account = EnodeAccount(make_client(enode_session, server), USER)
        tracker = PairingTracker()
        snap = await account.async_snapshot()
        system = tracker.update(snap, datetime.now(UTC))[site.vehicle_id]
        assert system.active
        expected = ActivationSource.REPORTED if pairing_ids else ActivationSource.INFERRED
        assert system.activation is expected

        routed = await route_command(system, CommandKind.STOP, account.async_send_and_wait)
        assert routed.path is CommandPath.CHARGER
        assert routed.fell_back
        assert routed.attempts[0].result is not None
        assert routed.attempts[0].result.state is CommandState.FAILED
        charger = (await account.async_snapshot()).chargers[site.charger_id]
        assert charger.is_charging is False


def test_account_plug_in_times_and_silent_devices() -> None:
    """A plug-in time the account reports wins; a device that says nothing keeps its time."""
    tracker = PairingTracker()
    reported_at = T0 - timedelta(minutes=3)
    tracker.update(
        snapshot(
            [car(plugged=True, plugged_in_at=reported_at, plugged_in_charger_id="wallbox")],
            [wallbox(plugged=True)],
        ),
        T0,
    )
    silent = snapshot(
        [car(plugged=None, charging=None, plugged_in_charger_id="wallbox", online=False)],
        [wallbox(plugged=True)],
    )
    system = tracker.update(silent, T0 + timedelta(minutes=5))["car"]
    assert system.active
    assert system.vehicle.plugged_in_at == reported_at


async def test_a_discharging_charger_takes_discharge_commands() -> None:
    bidirectional = ChargerCapabilities(can_discharge=True)
    system = PairingTracker().update(
        snapshot(
            [car(plugged=True, plugged_in_charger_id="wallbox")],
            [wallbox(plugged=True, capabilities=bidirectional)],
        ),
        T0,
    )["car"]
    devices = ScriptedDevices()
    routed = await route_command(system, CommandKind.DISCHARGE, devices, value=3.0)
    assert routed.path is CommandPath.CHARGER
    assert devices.calls == [("wallbox", CommandKind.DISCHARGE, 3.0)]


async def test_a_refused_path_has_no_result() -> None:
    devices = ScriptedDevices(car=AccountUnavailableError("down"))
    routed = await route_command(established_system(charging=True), CommandKind.STOP, devices)
    assert routed.failure is RouteFailure.ALL_PATHS_FAILED
    assert routed.result is None


def test_more_unlocks_update_the_record() -> None:
    tracker = PairingTracker()
    first = tracker.update(snapshot([car(capabilities=INCAPABLE)], [wallbox()]), T0)["car"]
    assert first.unlocked is not None
    assert not first.unlocked.location
    later = tracker.update(
        snapshot([car(capabilities=INCAPABLE)], [wallbox(location_id="home")]),
        T0 + timedelta(hours=1),
    )["car"]
    assert later.unlocked is not None
    assert later.unlocked.location
    assert later.unlocked.start_stop
    # Still the moment of the first unlock.
    assert later.unlocked.unlocked_at == T0
