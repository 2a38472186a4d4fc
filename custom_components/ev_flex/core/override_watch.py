"""Noticing that something else steers charging: another app, a schedule, the car's own timer.

After EV Flex's start or stop is confirmed, the device should stay in that state while the cable
stays in. When it later reports the opposite (after a grace period for slow vendor data), some
other controller overrode EV Flex.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

# Vendor data can lag a confirmed command by a few minutes.
DEFAULT_GRACE = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True)
class Expectation:
    """What EV Flex last asked of one device."""

    charging: bool
    since: datetime


class OverrideWatch:
    """Remembers the last confirmed command per device and spots contradictions."""

    def __init__(self, grace: timedelta = DEFAULT_GRACE) -> None:
        self.grace = grace
        self._expected: dict[str, Expectation] = {}

    def expect(self, device_id: str, charging: bool, now: datetime) -> None:
        """A start (True) or stop (False) was confirmed for this device."""
        self._expected[device_id] = Expectation(charging=charging, since=now)

    def forget(self, device_id: str) -> None:
        """Stop watching a device (unplugged, removed)."""
        self._expected.pop(device_id, None)

    def observe(
        self,
        device_id: str,
        *,
        plugged_in: bool | None,
        charging: bool | None,
        finished: bool | None,
        now: datetime,
    ) -> bool:
        """Whether this reading contradicts EV Flex's last command (an override).

        `finished` says the battery reached its limit; a charge that stopped is only an
        override when it is known not to have finished (a charger cannot tell, so it passes
        None and only unexpected starts count). Unplugging ends the expectation.
        """
        expectation = self._expected.get(device_id)
        if expectation is None:
            return False
        if plugged_in is False:
            self.forget(device_id)
            return False
        if charging is None or now - expectation.since < self.grace:
            return False
        if expectation.charging and not charging and finished is not False:
            return False
        if charging != expectation.charging:
            # Report once; the user decides what to do about it.
            self.forget(device_id)
            return True
        return False
