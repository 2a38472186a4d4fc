"""Interference: something else steers charging (another app, a schedule, the car's own timer).

After EV Flex's start or stop is confirmed, the devices should stay so while the cable stays
in. Two watchers notice when they don't:
- the controller (`notice_interference`), every step, from the power it sees against what the
  executor got confirmed; a contradiction that lasts a minute is an override, and smart charging
  keeps its hands off (`OVERRIDDEN`) until the car is unplugged or the user cancels;
- the account's repair issues (`OverrideWatch`), per car and charger, from each reading against
  the last confirmed command, next to the vendor refusing a command because something else
  controls the device (Enode's 422).
Both raise the same repair issue (`interference`) in the Home Assistant layer.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .controller_data import EventKind, Override, OverrideKind
from .controller_work import POWER_ON_KW, Work
from .executor import DeviceMode
from .soc_estimator import SocEstimate

# Readings right after a confirmed command may still show the old state (cloud accounts lag).
INTERFERENCE_GRACE = timedelta(minutes=3)
# A contradiction must last this long before it counts as interference.
INTERFERENCE_CONFIRM = timedelta(seconds=60)
# "Again and again": this many interferences within the window ask for a repair issue.
REPEATED_INTERFERENCE_COUNT = 3
REPEATED_INTERFERENCE_WINDOW = timedelta(days=14)
# A confirmed start that produces no power within this long means the charge was interrupted.
INTERRUPT_GRACE = timedelta(minutes=5)
# The account's watch: vendor data can lag a confirmed command by a few minutes.
DEFAULT_GRACE = timedelta(minutes=5)


def notice_interference(work: Work, soc: SocEstimate | None) -> bool:
    """Detect a third party's start or stop; returns True when the charge was interrupted."""
    state, executor, obs, now = work.state, work.executor, work.observation, work.now
    confirmed, confirmed_at = executor.confirmed, executor.confirmed_at
    power = obs.power_kw
    if power is None:
        power = 1.0 if obs.charging else 0.0
    charging = power >= POWER_ON_KW
    discharging = power <= -POWER_ON_KW
    if confirmed is None or confirmed_at is None or executor.in_flight is not None:
        state.contradiction_since = None
        return False
    if charging and confirmed.mode is DeviceMode.CHARGE:
        state.power_seen_for = confirmed_at
    if discharging and confirmed.mode is DeviceMode.DISCHARGE:
        state.power_seen_for = confirmed_at
    if now - confirmed_at < INTERFERENCE_GRACE:
        work.wake_at(confirmed_at + INTERFERENCE_GRACE)
        state.contradiction_since = None
        return False
    limit = obs.charge_limit_pct if obs.charge_limit_pct is not None else 100.0
    car_is_full = bool(obs.fully_charged) or (soc is not None and soc.soc_pct >= limit - 1.0)
    power_was_seen = state.power_seen_for == confirmed_at
    # Charging although we stopped it, or stopped after it had been charging for us.
    contradiction = (confirmed.mode is not DeviceMode.CHARGE and charging) or (
        confirmed.mode is DeviceMode.CHARGE and power_was_seen and not charging and not car_is_full
    )
    if state.last_action is not None and contradiction:
        # What we asked for last already matches what is seen: we are mid-change, not overruled.
        wanted = state.last_action.mode
        if (wanted is DeviceMode.CHARGE and charging) or (
            wanted is DeviceMode.IDLE and not charging and not discharging
        ):
            contradiction = False
    if not contradiction:
        state.contradiction_since = None
        interrupted = (
            confirmed.mode is DeviceMode.CHARGE
            and not power_was_seen
            and not charging
            and not car_is_full
            and now - confirmed_at >= INTERRUPT_GRACE
        )
        if confirmed.mode is DeviceMode.CHARGE and not power_was_seen:
            work.wake_at(confirmed_at + INTERRUPT_GRACE)
        return interrupted
    if executor.confirmed_without_command:
        # EV Flex sent nothing (the devices already were so) and they changed by themselves
        # (a charger back online, say): now a command is due, this is no one's override.
        state.contradiction_since = None
        work.reassert = True
        return False
    if state.contradiction_since is None:
        state.contradiction_since = now
    if now - state.contradiction_since >= INTERFERENCE_CONFIRM:
        state.override = Override(kind=OverrideKind.EXTERNAL, since=now)
        state.contradiction_since = None
        # What the devices do is no longer what we confirmed: forget it, so the first command
        # after the override is sent even if it looks like the last one.
        work.reassert = True
        state.interference_times = [
            *[t for t in state.interference_times if now - t <= REPEATED_INTERFERENCE_WINDOW],
            now,
        ][-20:]
        work.event(EventKind.INTERFERENCE, "started" if charging else "stopped")
    else:
        work.wake_at(state.contradiction_since + INTERFERENCE_CONFIRM)
    return False


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
