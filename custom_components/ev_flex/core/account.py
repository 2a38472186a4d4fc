"""The interface every account kind offers, and the simulated account.

An account reads vehicles and chargers as one `AccountSnapshot` and carries out charging
commands. The Home Assistant layer only talks to accounts through this interface: how long a
command is waited for ("send and wait") is the account's own business, so the glue never asks
which kind of account it has.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .model import AccountSnapshot, CommandKind, CommandResult, CommandState, Reason, ReasonCode
from .simulated_home import SimulatedHome
from .simulator import (
    AccountUnreachableError,
    DeviceOfflineError,
    Simulation,
    SimulatorError,
    UnknownDeviceError,
    UnsupportedCommandError,
)


class AccountError(Exception):
    """Base error of an account. The message is English, for the log; `reason` is for the
    user's language."""

    def __init__(self, message: str, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.reason = reason or Reason(ReasonCode.ACCOUNT_FAILED)


class AccountUnavailableError(AccountError):
    """The account or device could not be reached; trying later may help."""


class AccountAuthError(AccountError):
    """The credentials are no longer accepted."""


class CommandRejectedError(AccountError):
    """The account refused the command; repeating it will not help."""


class ControlledElsewhereError(CommandRejectedError):
    """A schedule or smart charging outside EV Flex controls the device; no other path may be
    used to get around it, and the device is left alone for a while."""


class NoCommandPathError(CommandRejectedError):
    """No device of the EV system can carry out the command now (the car cannot, and it is not
    plugged into a charger that can)."""


class NoOtherPathError(AccountError):
    """Every path for a command was tried in this attempt."""


type Sleep = Callable[[float], Awaitable[None]]


class Account(Protocol):
    """What the Home Assistant layer needs from an account."""

    async def async_snapshot(self) -> AccountSnapshot:
        """Read every vehicle and charger."""

    async def async_send_command(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Send a command; the result may still be pending."""

    async def async_send_and_wait(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Send a command and wait as long as this kind of account settles one in; a result
        still pending is followed by the caller (`async_command_status`)."""

    async def async_command_status(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """The state of a command sent earlier (to `target_id`, when known)."""

    async def async_cancel_command(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """Cancel a pending command; returns its state afterwards (settled ones stay so)."""


async def async_wait_until_settled(
    account: Account,
    result: CommandResult,
    *,
    poll_interval: float,
    max_wait: float,
    sleep: Sleep = asyncio.sleep,
) -> CommandResult:
    """Follow a command until it settles; after `max_wait` seconds it is returned pending."""
    waited = 0.0
    while result.state is CommandState.PENDING and waited < max_wait:
        await sleep(poll_interval)
        waited += poll_interval
        result = await account.async_command_status(result.command_id, result.target_id)
    return result


@dataclass(frozen=True, slots=True)
class HomeReadings:
    """What a simulated home's meters show (kW)."""

    grid_kw: float
    solar_kw: float
    house_load_kw: float


class SimulatedAccount:
    """An account backed by the in-process simulator, optionally with a simulated home.

    Its commands settle after the simulated command delay (seconds), so sending waits for them,
    checking every `poll_interval` seconds for at most `command_wait` seconds.
    """

    def __init__(
        self,
        simulation: Simulation,
        home: SimulatedHome | None = None,
        *,
        command_wait: float = 120.0,
        poll_interval: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.simulation = simulation
        self.home = home
        self.command_wait = command_wait
        self.poll_interval = poll_interval
        self._sleep = sleep

    def home_readings(self, at: datetime) -> HomeReadings | None:
        """The home's meters now, the car's charger included; None without a home."""
        if self.home is None:
            return None
        car_kw = self.simulation.grid_power_kw()
        return HomeReadings(
            grid_kw=self.home.grid_kw(at, car_kw),
            solar_kw=self.home.solar_kw(at),
            house_load_kw=self.home.house_load_kw(at),
        )

    async def async_snapshot(self) -> AccountSnapshot:
        """Read both simulated devices."""
        try:
            return self.simulation.snapshot()
        except SimulatorError as err:
            raise AccountUnavailableError(str(err), err.reason) from err

    async def async_send_command(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Send a command to the simulated vehicle or charger."""
        try:
            return self.simulation.send_command(target_id, kind, value)
        except (AccountUnreachableError, DeviceOfflineError) as err:
            raise AccountUnavailableError(str(err), err.reason) from err
        except (UnsupportedCommandError, UnknownDeviceError) as err:
            raise CommandRejectedError(str(err), err.reason) from err

    async def async_send_and_wait(
        self, target_id: str, kind: CommandKind, value: float | None = None
    ) -> CommandResult:
        """Send a command and follow it until the simulated device carried it out."""
        return await async_wait_until_settled(
            self,
            await self.async_send_command(target_id, kind, value),
            poll_interval=self.poll_interval,
            max_wait=self.command_wait,
            sleep=self._sleep,
        )

    async def async_command_status(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """Follow a simulated command."""
        try:
            return self.simulation.command(command_id)
        except UnknownDeviceError as err:
            raise CommandRejectedError(str(err), err.reason) from err

    async def async_cancel_command(
        self, command_id: str, target_id: str | None = None
    ) -> CommandResult:
        """The simulator cannot take a command back; it reports where the command stands."""
        return await self.async_command_status(command_id, target_id)
