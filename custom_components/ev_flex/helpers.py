"""Names, store keys and numbers as EV Flex shows them."""

import hashlib
import math
import re

from .core.model import ChargerState, VehicleState
from .texts import Texts


def vehicle_own_name(vehicle: VehicleState) -> str:
    """The vehicle's name as its account gives it (its own, or make and model); empty when
    the account gives none."""
    return vehicle.display_name or " ".join(part for part in (vehicle.make, vehicle.model) if part)


def vehicle_name(vehicle: VehicleState, texts: Texts | None = None) -> str:
    """The vehicle's name, or "Vehicle" in the server's language (English without `texts`,
    e.g. before EV Flex's texts are loaded)."""
    return vehicle_own_name(vehicle) or (texts("device_vehicle") if texts else "Vehicle")


def charger_own_name(charger: ChargerState) -> str:
    """The charger's make and model; empty when the account gives neither."""
    return " ".join(part for part in (charger.make, charger.model) if part)


def charger_name(charger: ChargerState, texts: Texts | None = None) -> str:
    """The charger's name, or "Charger" in the server's language (English without `texts`)."""
    return charger_own_name(charger) or (texts("device_charger") if texts else "Charger")


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


def power_text(value: float, texts: Texts) -> str:
    """A power for text, e.g. "7.36 kW" ("7,36 kW" in German)."""
    return f"{texts.number(power_kw(value) or 0.0)} kW"
