"""Whether a car is at its charging location: the one rule smart charging, repairs and the
account glue all follow.

A car is there when it is plugged into a charger of its own account (those chargers are the home
chargers), when the account places it in the charging location, or when its position lies in the
charging zone. A car that does not say where it is, or a zone that cannot be found, gives no
reason to think it is away.
"""

from dataclasses import dataclass
import math


@dataclass(frozen=True, kw_only=True)
class ChargingZone:
    """Where the home charger is: a circle around a point."""

    entity_id: str
    name: str
    latitude: float
    longitude: float
    radius_m: float


def at_charging_location(
    *,
    plugged_into_home_charger: bool,
    in_account_location: bool,
    distance_m: float | None,
    radius_m: float | None,
) -> bool:
    """The rule; `distance_m` is from the zone's centre (None: position or zone unknown)."""
    if plugged_into_home_charger or in_account_location:
        return True
    if distance_m is None or radius_m is None or not math.isfinite(distance_m):
        return True
    return distance_m <= radius_m
