"""Turning account errors into translated Home Assistant errors; names and numbers as shown."""

import hashlib
import math
import re

from homeassistant.exceptions import HomeAssistantError

from .const import DOMAIN
from .core.account import (
    AccountAuthError,
    AccountError,
    AccountUnavailableError,
    CommandRejectedError,
)
from .core.enode import InterferenceError
from .core.model import ChargerState, CommandResult, CommandState, VehicleState


def account_error_to_ha(err: AccountError) -> HomeAssistantError:
    """The translated error a user sees for an account error."""
    if isinstance(err, AccountAuthError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="auth_failed")
    if isinstance(err, InterferenceError):
        return HomeAssistantError(translation_domain=DOMAIN, translation_key="interference")
    if isinstance(err, CommandRejectedError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_rejected",
            translation_placeholders={"error": str(err)},
        )
    if isinstance(err, AccountUnavailableError):
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="account_unreachable",
            translation_placeholders={"error": str(err)},
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="command_failed",
        translation_placeholders={"error": str(err)},
    )


def raise_if_failed(result: CommandResult) -> None:
    """Raise a translated error when a command settled as failed."""
    if result.state in (CommandState.FAILED, CommandState.CANCELLED):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="command_failed",
            translation_placeholders={"error": result.failure_reason or result.state.value},
        )


def vehicle_name(vehicle: VehicleState) -> str:
    """The name a vehicle's device gets."""
    return (
        vehicle.display_name
        or " ".join(part for part in (vehicle.make, vehicle.model) if part)
        or "Vehicle"
    )


def charger_name(charger: ChargerState) -> str:
    """The name a charger's device gets."""
    return " ".join(part for part in (charger.make, charger.model) if part) or "Charger"


# What a store key may hold as it is: Enode's UUIDs and EV Flex's own ids.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]{1,100}")


def store_key_part(device_id: str) -> str:
    """A device id fit to be part of a store's file name.

    Ids come from outside and may hold `/` or `..`; those are hashed, so a hostile id never
    names a file outside the storage folder. Plain ids stay as they are, so existing stores
    keep their names.
    """
    if _PLAIN_KEY.fullmatch(device_id):
        return device_id
    return "id-" + hashlib.sha256(device_id.encode()).hexdigest()[:32]


# Power is shown to 10 W everywhere: sensors, calendar events and messages.
POWER_DIGITS = 2


def power_kw(value: float | None) -> float | None:
    """A power as EV Flex shows it: rounded to POWER_DIGITS, None when not finite."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, POWER_DIGITS) + 0.0


def power_text(value: float) -> str:
    """A power for text, e.g. "7.36 kW"."""
    return f"{power_kw(value) or 0.0:g} kW"
