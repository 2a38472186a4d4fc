"""EV systems: a vehicle and a home charger of the same account, working as one.

The rules are the same for every account kind (Enode, entities already in Home Assistant, the
simulator), because they only look at `AccountSnapshot`s:

- *Established*: the vehicle and at least one charger belong to the same account.
- *Active*: the vehicle and a charger are plugged into each other. The account's own word
  (Enode's pluggedInChargerId / pluggedInVehicleId) wins; without it, a pair is inferred from
  plug-in events close in time, with charging state and power that agree.
- An established system unlocks start/stop (through the charger) and location (from the
  charger's place) for the vehicle. Unlocked capabilities are remembered while both stay linked
  and forgotten as soon as one of them is gone.
- Commands: a vehicle start/stop goes down a path that can do it. The car's own path comes first;
  when it fails or the car is unreachable the charger takes over, but only while the system is
  active. A pending command is not a failure (the caller follows it), a start for a car that
  charges or a stop for one that does not is not sent at all, and a device controlled by a
  schedule elsewhere (Enode's 422) ends the routing: no other path is used to get around it.
  The result says which path acted; `command_outcome` turns it into the result or the account
  error every caller (switch, smart charging) acts on.
- Merged data: the charge rate falls back to the charger's; the plug-in time is the earlier of
  the two devices' signals.
"""

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
import logging
from typing import Self

from .account import (
    AccountAuthError,
    AccountError,
    AccountUnavailableError,
    CommandRejectedError,
    ControlledElsewhereError,
    NoCommandPathError,
    NoOtherPathError,
)
from .model import (
    AccountSnapshot,
    ChargerState,
    CommandKind,
    CommandResult,
    CommandState,
    Reason,
    ReasonCode,
    VehicleCapabilities,
    VehicleState,
)

_LOGGER = logging.getLogger(__name__)

# Plug-in events of a car and a charger at most this far apart belong to one plug-in.
DEFAULT_PLUG_IN_WINDOW = timedelta(minutes=10)
# Power readings of the car and the charger agree when this close (or within 20 %).
DEFAULT_POWER_TOLERANCE_KW = 1.0
_POWER_TOLERANCE_SHARE = 0.2

type CommandSender = Callable[[str, CommandKind, float | None], Awaitable[CommandResult]]
"""Sends one command to one device and returns its result, settled or still PENDING.
Raises an `AccountError` when the account refuses or cannot be reached."""


class PairingState(StrEnum):
    """How far a vehicle and a charger are paired."""

    UNPAIRED = "unpaired"
    ESTABLISHED = "established"
    ACTIVE = "active"


class ActivationSource(StrEnum):
    """Who said the two are plugged into each other."""

    REPORTED = "reported"
    INFERRED = "inferred"


class CommandPath(StrEnum):
    """Which device carried out a command."""

    VEHICLE = "vehicle"
    CHARGER = "charger"


class DataSource(StrEnum):
    """Which device a merged reading came from."""

    VEHICLE = "vehicle"
    CHARGER = "charger"


@dataclass(frozen=True, kw_only=True)
class UnlockedCapabilities:
    """Vehicle capabilities a charger unlocked; kept while both stay linked."""

    vehicle_id: str
    charger_id: str
    start_stop: bool = False
    location: bool = False
    unlocked_at: datetime

    def to_dict(self) -> dict[str, object]:
        """JSON-safe data for storage."""
        return {
            "vehicle_id": self.vehicle_id,
            "charger_id": self.charger_id,
            "start_stop": self.start_stop,
            "location": self.location,
            "unlocked_at": self.unlocked_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Self | None:
        """Read stored data; None when it is unreadable (it is then simply relearned)."""
        vehicle_id, charger_id = data.get("vehicle_id"), data.get("charger_id")
        unlocked_at = data.get("unlocked_at")
        if not (
            isinstance(vehicle_id, str)
            and isinstance(charger_id, str)
            and isinstance(unlocked_at, str)
        ):
            return None
        try:
            when = datetime.fromisoformat(unlocked_at)
        except ValueError:
            return None
        if when.tzinfo is None:
            return None
        return cls(
            vehicle_id=vehicle_id,
            charger_id=charger_id,
            start_stop=data.get("start_stop") is True,
            location=data.get("location") is True,
            unlocked_at=when,
        )


@dataclass(frozen=True, kw_only=True)
class EvSystem:
    """One vehicle and the charger(s) of its account, as of the last update."""

    # The vehicle with merged data and the capabilities the system gives it.
    vehicle: VehicleState
    # The charger it is plugged into, else the account's charger (None when there is none).
    charger: ChargerState | None
    charger_ids: tuple[str, ...]
    state: PairingState
    activation: ActivationSource | None
    # The vehicle's own capabilities, before the charger unlocked anything.
    own_capabilities: VehicleCapabilities
    unlocked: UnlockedCapabilities | None
    charge_rate_source: DataSource | None
    # Where the merged plug-in time came from.
    plugged_in_at_source: DataSource | None

    @property
    def vehicle_id(self) -> str:
        """The vehicle's id."""
        return self.vehicle.vehicle_id

    @property
    def established(self) -> bool:
        """A charger of the same account is linked."""
        return self.state is not PairingState.UNPAIRED

    @property
    def active(self) -> bool:
        """The vehicle is plugged into that charger."""
        return self.state is PairingState.ACTIVE

    @property
    def plugged_in_charger_id(self) -> str | None:
        """The charger the vehicle is plugged into (an attribute for the vehicle)."""
        return self.charger.charger_id if self.active and self.charger else None

    @property
    def plugged_in_vehicle_id(self) -> str | None:
        """The vehicle plugged into the charger (an attribute for the charger)."""
        return self.vehicle_id if self.active else None

    def command_paths(self, kind: CommandKind) -> list[tuple[CommandPath, str]]:
        """The devices a command may go to, in the order they are tried."""
        paths: list[tuple[CommandPath, str]] = []
        if kind in (CommandKind.START, CommandKind.STOP):
            if self.own_capabilities.can_start_stop and self.vehicle.online:
                paths.append((CommandPath.VEHICLE, self.vehicle_id))
            charger = self.charger
            if (
                self.active
                and charger is not None
                and charger.online
                and charger.capabilities.can_start_stop
            ):
                paths.append((CommandPath.CHARGER, charger.charger_id))
        elif kind is CommandKind.SET_MAX_CURRENT:
            if (
                self.active
                and self.charger is not None
                and self.charger.online
                and self.charger.capabilities.can_set_max_current
            ):
                paths.append((CommandPath.CHARGER, self.charger.charger_id))
        elif (
            kind is CommandKind.DISCHARGE
            and self.active
            and self.charger is not None
            and self.charger.online
            and self.charger.capabilities.can_discharge
        ):
            paths.append((CommandPath.CHARGER, self.charger.charger_id))
        return paths


class RouteFailure(StrEnum):
    """Why no path carried out a command."""

    NO_PATH = "no_path"
    ALL_PATHS_FAILED = "all_paths_failed"
    # A schedule or smart charging elsewhere controls the device.
    CONTROLLED_ELSEWHERE = "controlled_elsewhere"


@dataclass(frozen=True, kw_only=True)
class RouteAttempt:
    """One try down one path."""

    path: CommandPath
    target_id: str
    result: CommandResult | None = None
    error: AccountError | None = field(default=None, compare=False)

    @property
    def succeeded(self) -> bool:
        """The device confirmed the command."""
        return self.result is not None and self.result.state is CommandState.CONFIRMED

    @property
    def accepted(self) -> bool:
        """The device confirmed the command, or it is still on its way (not a failure)."""
        return self.result is not None and self.result.state in (
            CommandState.CONFIRMED,
            CommandState.PENDING,
        )


@dataclass(frozen=True, kw_only=True)
class RoutedCommand:
    """What happened to a command sent through an EV system."""

    kind: CommandKind
    attempts: tuple[RouteAttempt, ...]
    failure: RouteFailure | None = None
    # Nothing was sent: the readings showed the devices already so.
    skipped: bool = False

    @property
    def succeeded(self) -> bool:
        """Some path confirmed the command."""
        return self.failure is None and self.attempts[-1].succeeded

    @property
    def pending(self) -> bool:
        """A path accepted the command and it is still on its way."""
        return self.failure is None and not self.attempts[-1].succeeded

    @property
    def path(self) -> CommandPath | None:
        """The path that acted (or is acting), or None when none did."""
        return self.attempts[-1].path if self.failure is None else None

    @property
    def result(self) -> CommandResult | None:
        """The confirmed result, or the last failed one."""
        for attempt in reversed(self.attempts):
            if attempt.result is not None:
                return attempt.result
        return None

    @property
    def fell_back(self) -> bool:
        """The charger acted after the vehicle's own path failed."""
        return self.failure is None and len(self.attempts) > 1

    @property
    def redundant(self) -> bool:
        """Nothing had to be done: the device already was in the requested state."""
        result = self.result
        return self.failure is None and result is not None and result.redundant


def already_done(system: EvSystem, kind: CommandKind) -> bool:
    """A start for a car that charges, or a stop for one that is plugged in and does neither
    charge nor discharge (as of the latest reading)."""
    vehicle = system.vehicle
    if kind is CommandKind.START:
        return vehicle.is_charging is True
    if kind is CommandKind.STOP:
        return (
            vehicle.is_plugged_in is True
            and vehicle.is_charging is False
            and vehicle.power_delivery_state != "PLUGGED_IN:DISCHARGING"
        )
    return False


async def route_command(
    system: EvSystem,
    kind: CommandKind,
    send: CommandSender,
    *,
    value: float | None = None,
    tried: Iterable[str] = (),
    skip_redundant: bool = False,
) -> RoutedCommand:
    """Send a command through the system, falling back from the car to the charger.

    With `skip_redundant` (the system's readings are newer than any command sent), a start
    for a charging car or a stop for an idle one is not sent but counted as done. Paths whose
    device is in `tried` are skipped (their command already ended without effect).
    A path that accepts the command ends the routing, even while the command is pending: only
    the caller, following it, may fall back further. A refusal because a schedule or smart
    charging elsewhere controls the device ends it too. An `AccountAuthError` is raised at
    once: the other path would be refused as well, and the user has to sign in again. Any
    other account error counts as that path failing.
    """
    if skip_redundant and already_done(system, kind):
        vehicle_id = system.vehicle_id
        result = CommandResult(
            command_id=f"redundant-{vehicle_id}",
            kind=kind,
            target_id=vehicle_id,
            state=CommandState.CONFIRMED,
            redundant=True,
        )
        attempt = RouteAttempt(path=CommandPath.VEHICLE, target_id=vehicle_id, result=result)
        return RoutedCommand(kind=kind, attempts=(attempt,), skipped=True)
    skip = set(tried)
    paths = [(path, target) for path, target in system.command_paths(kind) if target not in skip]
    if not paths:
        return RoutedCommand(kind=kind, attempts=(), failure=RouteFailure.NO_PATH)
    attempts: list[RouteAttempt] = []
    for path, target_id in paths:
        try:
            result = await send(target_id, kind, value)
        except AccountAuthError:
            raise
        except ControlledElsewhereError as err:
            attempts.append(RouteAttempt(path=path, target_id=target_id, error=err))
            return RoutedCommand(
                kind=kind, attempts=tuple(attempts), failure=RouteFailure.CONTROLLED_ELSEWHERE
            )
        except AccountError as err:
            _LOGGER.debug("%s via %s %s failed: %s", kind.value, path.value, target_id, err)
            attempts.append(RouteAttempt(path=path, target_id=target_id, error=err))
            continue
        attempt = RouteAttempt(path=path, target_id=target_id, result=result)
        attempts.append(attempt)
        if attempt.accepted:
            return RoutedCommand(kind=kind, attempts=tuple(attempts))
        _LOGGER.debug("%s via %s ended %s", kind.value, path.value, result.state.value)
    return RoutedCommand(kind=kind, attempts=tuple(attempts), failure=RouteFailure.ALL_PATHS_FAILED)


def command_outcome(routed: RoutedCommand, *, tried: Iterable[str] = ()) -> CommandResult:
    """What a routed command came to: the result of the path that acted (confirmed or still
    pending), the last failed result, or the account error that says why no path took it.

    `tried`: the devices whose command for this step already ended without effect; with them,
    having no path left means the fallback is used up (NoOtherPathError).
    """
    action = routed.kind.value
    facts = {"action": action}
    if routed.failure is RouteFailure.NO_PATH:
        if tried:
            raise NoOtherPathError(
                f"no other way to {action} for this vehicle",
                Reason(ReasonCode.NO_OTHER_PATH, facts),
            )
        raise NoCommandPathError(
            f"no way to {action} for this vehicle", Reason(ReasonCode.NO_PATH, facts)
        )
    if routed.failure is RouteFailure.CONTROLLED_ELSEWHERE:
        # The account's own refusal, as it is: another app controls the device.
        error = routed.attempts[-1].error
        assert isinstance(error, ControlledElsewhereError)
        raise error
    if (result := routed.result) is not None:
        return result
    failed = [attempt for attempt in routed.attempts if attempt.error is not None]
    detail = "; ".join(f"{attempt.path.value}: {attempt.error}" for attempt in failed)
    last = failed[-1].error.reason if failed and failed[-1].error is not None else None
    if failed and all(isinstance(attempt.error, AccountUnavailableError) for attempt in failed):
        # Nothing answered: a passing outage, not a refusal.
        raise AccountUnavailableError(detail, last)
    raise CommandRejectedError(
        f"no way to {action} for this vehicle" + (f" ({detail})" if detail else ""),
        Reason(ReasonCode.ALL_PATHS_FAILED, facts, last),
    )


@dataclass
class _PlugTrack:
    plugged: bool | None = None
    since: datetime | None = None


def _rates_agree(first: float, second: float, tolerance_kw: float) -> bool:
    allowed = max(tolerance_kw, _POWER_TOLERANCE_SHARE * max(abs(first), abs(second)))
    return abs(first - second) <= allowed


class PairingTracker:
    """Follows one account's snapshots and keeps its EV systems up to date.

    Create one per account, feed it every snapshot with `update`, and store `export()` so that
    unlocked capabilities survive a restart (`PairingTracker(unlocked=...)` or `restore`).
    """

    def __init__(
        self,
        *,
        plug_in_window: timedelta = DEFAULT_PLUG_IN_WINDOW,
        power_tolerance_kw: float = DEFAULT_POWER_TOLERANCE_KW,
        unlocked: Iterable[UnlockedCapabilities] = (),
    ) -> None:
        self.plug_in_window = plug_in_window
        self.power_tolerance_kw = power_tolerance_kw
        self._unlocked: dict[str, UnlockedCapabilities] = {u.vehicle_id: u for u in unlocked}
        self._vehicle_plugs: dict[str, _PlugTrack] = {}
        self._charger_plugs: dict[str, _PlugTrack] = {}
        # Inferred pairs (vehicle id -> charger id), kept while both stay plugged in.
        self._inferred: dict[str, str] = {}
        self.systems: dict[str, EvSystem] = {}

    @classmethod
    def restore(
        cls,
        stored: Iterable[Mapping[str, object]],
        *,
        plug_in_window: timedelta = DEFAULT_PLUG_IN_WINDOW,
        power_tolerance_kw: float = DEFAULT_POWER_TOLERANCE_KW,
    ) -> PairingTracker:
        """A tracker that remembers capabilities stored with `export()`; unreadable entries are
        dropped (they are learned again)."""
        records = [UnlockedCapabilities.from_dict(item) for item in stored]
        return cls(
            plug_in_window=plug_in_window,
            power_tolerance_kw=power_tolerance_kw,
            unlocked=[record for record in records if record is not None],
        )

    def export(self) -> list[dict[str, object]]:
        """The unlocked capabilities as JSON-safe data."""
        return [record.to_dict() for record in self._unlocked.values()]

    @property
    def unlocked(self) -> dict[str, UnlockedCapabilities]:
        """Unlocked capabilities by vehicle id."""
        return dict(self._unlocked)

    # Plug-in times

    @staticmethod
    def _track(
        track: _PlugTrack, plugged: bool | None, reported_since: datetime | None, now: datetime
    ) -> datetime | None:
        """Remember the plug state; returns when the cable was connected, if known."""
        if plugged is None:
            # No news (the device did not say): keep what we knew.
            return track.since if track.plugged else None
        if not plugged:
            track.plugged, track.since = False, None
            return None
        if reported_since is not None:
            track.since = reported_since
        elif track.plugged is False:
            # We saw it change: the plug-in happened since the previous update.
            track.since = now
        track.plugged = True
        return track.since

    # Activation

    def _reported_pairs(self, snapshot: AccountSnapshot) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for vehicle in snapshot.vehicles.values():
            if vehicle.plugged_in_charger_id in snapshot.chargers:
                pairs[vehicle.vehicle_id] = vehicle.plugged_in_charger_id
        for charger in snapshot.chargers.values():
            if charger.plugged_in_vehicle_id in snapshot.vehicles:
                pairs.setdefault(charger.plugged_in_vehicle_id, charger.charger_id)
        return pairs

    def _contradicts(self, vehicle: VehicleState, charger: ChargerState) -> bool:
        """Charging state or power that cannot belong to one car on one charger."""
        if (
            vehicle.is_charging is not None
            and charger.is_charging is not None
            and vehicle.is_charging != charger.is_charging
        ):
            return True
        if (
            vehicle.is_charging
            and charger.is_charging
            and vehicle.charge_rate_kw is not None
            and charger.charge_rate_kw is not None
        ):
            return not _rates_agree(
                vehicle.charge_rate_kw, charger.charge_rate_kw, self.power_tolerance_kw
            )
        return False

    def _power_matches(self, vehicle: VehicleState, charger: ChargerState) -> bool:
        return bool(
            vehicle.is_charging
            and charger.is_charging
            and vehicle.charge_rate_kw is not None
            and charger.charge_rate_kw is not None
            and vehicle.charge_rate_kw > 0
            and _rates_agree(
                vehicle.charge_rate_kw, charger.charge_rate_kw, self.power_tolerance_kw
            )
        )

    def _inferred_pairs(
        self,
        snapshot: AccountSnapshot,
        vehicle_since: Mapping[str, datetime | None],
        charger_since: Mapping[str, datetime | None],
    ) -> dict[str, str]:
        plugged_vehicles = [v for v in snapshot.vehicles.values() if v.is_plugged_in]
        plugged_chargers = [c for c in snapshot.chargers.values() if c.is_plugged_in]
        plugged_vehicle_ids = {v.vehicle_id for v in plugged_vehicles}
        plugged_charger_ids = {c.charger_id for c in plugged_chargers}
        # Keep earlier inferences while both ends stay plugged in.
        pairs = {
            vehicle_id: charger_id
            for vehicle_id, charger_id in self._inferred.items()
            if vehicle_id in plugged_vehicle_ids and charger_id in plugged_charger_ids
        }
        candidates: list[tuple[float, str, str]] = []
        for vehicle in plugged_vehicles:
            if vehicle.vehicle_id in pairs:
                continue
            for charger in plugged_chargers:
                if charger.charger_id in pairs.values() or self._contradicts(vehicle, charger):
                    continue
                v_since = vehicle_since.get(vehicle.vehicle_id)
                c_since = charger_since.get(charger.charger_id)
                if v_since is not None and c_since is not None:
                    gap = abs((v_since - c_since).total_seconds())
                    if gap <= self.plug_in_window.total_seconds():
                        candidates.append((gap, vehicle.vehicle_id, charger.charger_id))
                        continue
                # Without plug-in times, matching power is enough when nothing else could be.
                if (
                    len(plugged_vehicles) == 1
                    and len(plugged_chargers) == 1
                    and self._power_matches(vehicle, charger)
                ):
                    candidates.append((float("inf"), vehicle.vehicle_id, charger.charger_id))
        # Closest plug-in times first; each device joins one pair at most.
        for _, vehicle_id, charger_id in sorted(candidates):
            if vehicle_id not in pairs and charger_id not in pairs.values():
                pairs[vehicle_id] = charger_id
        return pairs

    # Update

    def update(
        self,
        snapshot: AccountSnapshot,
        now: datetime,
        *,
        charging_location_known: bool = False,
    ) -> dict[str, EvSystem]:
        """Recompute every EV system from a fresh snapshot.

        `charging_location_known` says the user set where the charger is (a Location or the
        Home Assistant home zone), which lets the charger unlock the vehicle's location.
        """
        vehicle_since = {
            v.vehicle_id: self._track(
                self._vehicle_plugs.setdefault(v.vehicle_id, _PlugTrack()),
                v.is_plugged_in,
                v.plugged_in_at,
                now,
            )
            for v in snapshot.vehicles.values()
        }
        charger_since = {
            c.charger_id: self._track(
                self._charger_plugs.setdefault(c.charger_id, _PlugTrack()),
                c.is_plugged_in,
                c.plugged_in_at,
                now,
            )
            for c in snapshot.chargers.values()
        }
        self._forget_missing(snapshot)

        reported = self._reported_pairs(snapshot)
        if reported or snapshot.reports_plugged_in_ids:
            pairs, source = reported, ActivationSource.REPORTED
            self._inferred = {}
        else:
            pairs, source = self._inferred_pairs(snapshot, vehicle_since, charger_since), None
            self._inferred = dict(pairs)

        systems: dict[str, EvSystem] = {}
        for vehicle in snapshot.vehicles.values():
            charger_id = pairs.get(vehicle.vehicle_id)
            systems[vehicle.vehicle_id] = self._system(
                snapshot,
                vehicle,
                active_charger_id=charger_id,
                activation=(source or ActivationSource.INFERRED) if charger_id else None,
                vehicle_since=vehicle_since.get(vehicle.vehicle_id),
                charger_since=charger_since.get(charger_id) if charger_id else None,
                charging_location_known=charging_location_known,
                now=now,
            )
        self.systems = systems
        return systems

    def _forget_missing(self, snapshot: AccountSnapshot) -> None:
        for vehicle_id in list(self._vehicle_plugs):
            if vehicle_id not in snapshot.vehicles:
                del self._vehicle_plugs[vehicle_id]
        for charger_id in list(self._charger_plugs):
            if charger_id not in snapshot.chargers:
                del self._charger_plugs[charger_id]
        # Unlocked capabilities last only while both devices stay linked.
        for vehicle_id, record in list(self._unlocked.items()):
            if vehicle_id not in snapshot.vehicles or record.charger_id not in snapshot.chargers:
                _LOGGER.debug("Forgetting capabilities %s unlocked for %s", record, vehicle_id)
                del self._unlocked[vehicle_id]

    def _unlock(
        self,
        vehicle_id: str,
        charger: ChargerState,
        *,
        charging_location_known: bool,
        now: datetime,
    ) -> UnlockedCapabilities:
        previous = self._unlocked.get(vehicle_id)
        start_stop = charger.capabilities.can_start_stop
        location = charging_location_known or charger.location_id is not None
        if previous is not None:
            # Once unlocked, a capability stays while both stay linked (no flapping when the
            # charger is briefly offline or reports less).
            start_stop = start_stop or previous.start_stop
            location = location or previous.location
            if (previous.start_stop, previous.location) == (start_stop, location):
                return previous
        record = UnlockedCapabilities(
            vehicle_id=vehicle_id,
            charger_id=charger.charger_id,
            start_stop=start_stop,
            location=location,
            unlocked_at=previous.unlocked_at if previous else now,
        )
        self._unlocked[vehicle_id] = record
        return record

    def _system(
        self,
        snapshot: AccountSnapshot,
        vehicle: VehicleState,
        *,
        active_charger_id: str | None,
        activation: ActivationSource | None,
        vehicle_since: datetime | None,
        charger_since: datetime | None,
        charging_location_known: bool,
        now: datetime,
    ) -> EvSystem:
        charger_ids = tuple(sorted(snapshot.chargers))
        if not charger_ids:
            return _unpaired_system(vehicle, vehicle_since)
        if active_charger_id is not None:
            charger = snapshot.chargers[active_charger_id]
        else:
            remembered = self._unlocked.get(vehicle.vehicle_id)
            charger_id = (
                remembered.charger_id
                if remembered and remembered.charger_id in snapshot.chargers
                else charger_ids[0]
            )
            charger = snapshot.chargers[charger_id]
        unlocked = self._unlock(
            vehicle.vehicle_id,
            charger,
            charging_location_known=charging_location_known,
            now=now,
        )
        active = active_charger_id is not None
        merged, rate_source, since_source = _merged_vehicle(
            vehicle,
            charger,
            unlocked,
            active=active,
            vehicle_since=vehicle_since,
            charger_since=charger_since,
        )
        return EvSystem(
            vehicle=merged,
            charger=charger,
            charger_ids=charger_ids,
            state=PairingState.ACTIVE if active else PairingState.ESTABLISHED,
            activation=activation,
            own_capabilities=vehicle.capabilities,
            unlocked=unlocked,
            charge_rate_source=rate_source,
            plugged_in_at_source=since_source,
        )


def _unpaired_system(vehicle: VehicleState, vehicle_since: datetime | None) -> EvSystem:
    """A vehicle whose account has no charger: it is on its own."""
    return EvSystem(
        vehicle=replace(vehicle, plugged_in_at=vehicle.plugged_in_at or vehicle_since),
        charger=None,
        charger_ids=(),
        state=PairingState.UNPAIRED,
        activation=None,
        own_capabilities=vehicle.capabilities,
        unlocked=None,
        charge_rate_source=DataSource.VEHICLE if vehicle.charge_rate_kw is not None else None,
        plugged_in_at_source=DataSource.VEHICLE if vehicle_since else None,
    )


def _merged_vehicle(
    vehicle: VehicleState,
    charger: ChargerState,
    unlocked: UnlockedCapabilities,
    *,
    active: bool,
    vehicle_since: datetime | None,
    charger_since: datetime | None,
) -> tuple[VehicleState, DataSource | None, DataSource | None]:
    """The vehicle with what its charger adds, and where its charge rate and plug-in time
    came from."""
    own = vehicle.capabilities
    capabilities = replace(
        own,
        can_start_stop=own.can_start_stop or unlocked.start_stop,
        reports_location=own.reports_location or unlocked.location,
    )

    charge_rate, rate_source = vehicle.charge_rate_kw, None
    charger_rate = charger.charge_rate_kw if active else None
    if charger_rate is not None and (charge_rate is None or (charger_rate < 0 <= charge_rate)):
        # Many cars report no rate, or 0, while the charger discharges them.
        charge_rate, rate_source = charger_rate, DataSource.CHARGER
    elif charge_rate is not None:
        rate_source = DataSource.VEHICLE

    plugged_in_at, since_source = vehicle_since, DataSource.VEHICLE if vehicle_since else None
    if (
        active
        and charger_since is not None
        and (plugged_in_at is None or charger_since < plugged_in_at)
    ):
        plugged_in_at, since_source = charger_since, DataSource.CHARGER

    merged = replace(
        vehicle,
        capabilities=capabilities,
        charge_rate_kw=charge_rate,
        plugged_in_at=plugged_in_at,
        plugged_in_charger_id=charger.charger_id if active else vehicle.plugged_in_charger_id,
    )
    if active:
        merged = replace(
            merged,
            # The charger sees the cable and the power first.
            is_plugged_in=True,
            is_charging=vehicle.is_charging
            if vehicle.is_charging is not None
            else charger.is_charging,
            location_id=vehicle.location_id or charger.location_id,
        )
    return merged, rate_source, since_source
