"""Which devices an account still has, judged over several reads.

One read that lacks a device proves little: a cloud account can answer with an empty list
during an outage of its own. A device missing from a read is kept, offline and with its last
known data, until it has been missing from several reads in a row over a while, or until the
account says it was deleted. Only then is it removed (with its entities and stored settings).
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .model import AccountSnapshot, ChargerState, VehicleState

# Reads in a row, and time since the first of them, before a missing device is removed.
MISSING_READS_BEFORE_REMOVAL = 3
MISSING_TIME_BEFORE_REMOVAL = timedelta(minutes=30)


@dataclass(kw_only=True)
class _Missing:
    since: datetime
    reads: int = 0


@dataclass(kw_only=True)
class DeviceRoster:
    """Remembers the last state of every device and how long each has been missing."""

    reads_before_removal: int = MISSING_READS_BEFORE_REMOVAL
    time_before_removal: timedelta = MISSING_TIME_BEFORE_REMOVAL
    _vehicles: dict[str, VehicleState] = field(default_factory=dict)
    _chargers: dict[str, ChargerState] = field(default_factory=dict)
    _missing: dict[str, _Missing] = field(default_factory=dict)
    _deleted: set[str] = field(default_factory=set)

    def mark_deleted(self, device_id: str) -> None:
        """The account said the device was deleted: the next read that lacks it removes it."""
        if device_id in self._vehicles or device_id in self._chargers:
            self._deleted.add(device_id)

    def reconcile(
        self, snapshot: AccountSnapshot, now: datetime, *, complete: bool = True
    ) -> tuple[AccountSnapshot, set[str]]:
        """The snapshot with missing devices kept (offline), and the ids removed just now.

        `complete` is False when the account left out entries it could not read: a device
        missing from such a read may be among them, so the read does not count against it.
        """
        for device_id in snapshot.vehicles.keys() | snapshot.chargers.keys():
            self._missing.pop(device_id, None)
            self._deleted.discard(device_id)
        removed: set[str] = set()
        vehicles = self._keep_missing(self._vehicles, snapshot.vehicles, now, complete, removed)
        chargers = self._keep_missing(self._chargers, snapshot.chargers, now, complete, removed)
        return replace(snapshot, vehicles=vehicles, chargers=chargers), removed

    def _keep_missing[S: (VehicleState, ChargerState)](
        self,
        known: dict[str, S],
        listed: dict[str, S],
        now: datetime,
        complete: bool,
        removed: set[str],
    ) -> dict[str, S]:
        known.update(listed)
        kept = dict(listed)
        for device_id in list(known.keys() - listed.keys()):
            if self._gone(device_id, now, complete=complete):
                del known[device_id]
                self._missing.pop(device_id, None)
                self._deleted.discard(device_id)
                removed.add(device_id)
            else:
                kept[device_id] = replace(known[device_id], online=False)
        return kept

    def _gone(self, device_id: str, now: datetime, *, complete: bool) -> bool:
        if device_id in self._deleted:
            return True
        missing = self._missing.setdefault(device_id, _Missing(since=now))
        if complete:
            missing.reads += 1
        return (
            missing.reads >= self.reads_before_removal
            and now - missing.since >= self.time_before_removal
        )
