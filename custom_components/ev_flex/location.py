"""The charging location in Home Assistant: the configured zone, and whether a car is there.

The rule itself is in `core/location.py`; this module finds the zone and measures the distance
with Home Assistant's own helpers.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.const import ATTR_LATITUDE, ATTR_LONGITUDE
from homeassistant.core import HomeAssistant
from homeassistant.util.location import distance

from .const import CONF_CHARGING_ZONE, DEFAULT_CHARGING_ZONE
from .core.location import ChargingZone, at_charging_location
from .core.pairing import EvSystem

# The zone state's radius attribute, in metres.
ATTR_ZONE_RADIUS = "radius"
# A zone without a radius (or the home location without a zone) covers this much.
DEFAULT_ZONE_RADIUS_M = 100.0


def charging_zone(hass: HomeAssistant, entity_id: str | None) -> ChargingZone | None:
    """The zone as Home Assistant knows it; the home zone falls back to the home location."""
    entity_id = entity_id or DEFAULT_CHARGING_ZONE
    state = hass.states.get(entity_id)
    if state is not None:
        latitude = state.attributes.get(ATTR_LATITUDE)
        longitude = state.attributes.get(ATTR_LONGITUDE)
        if isinstance(latitude, int | float) and isinstance(longitude, int | float):
            radius = state.attributes.get(ATTR_ZONE_RADIUS)
            return ChargingZone(
                entity_id=entity_id,
                name=state.name,
                latitude=float(latitude),
                longitude=float(longitude),
                radius_m=float(radius)
                if isinstance(radius, int | float)
                else DEFAULT_ZONE_RADIUS_M,
            )
    if entity_id == DEFAULT_CHARGING_ZONE:
        return ChargingZone(
            entity_id=entity_id,
            name=hass.config.location_name or "Home",
            latitude=hass.config.latitude,
            longitude=hass.config.longitude,
            radius_m=DEFAULT_ZONE_RADIUS_M,
        )
    return None


def configured_charging_zone(
    hass: HomeAssistant, options: Mapping[str, Any]
) -> ChargingZone | None:
    """The charging zone an entry's options name (default: home)."""
    return charging_zone(hass, options.get(CONF_CHARGING_ZONE, DEFAULT_CHARGING_ZONE))


def distance_from_zone(zone: ChargingZone, latitude: float, longitude: float) -> float | None:
    """Metres from the zone's centre (None when it cannot be measured)."""
    return distance(zone.latitude, zone.longitude, latitude, longitude)


def system_at_charging_location(
    system: EvSystem, zone: ChargingZone | None, location_id: str | None
) -> bool:
    """Whether the car of an EV system is at its charging location (see core/location.py).

    `location_id` is the account's own id for the charging location, where it has one.
    """
    vehicle = system.vehicle
    position = vehicle.location
    distance_m = (
        None
        if position is None or zone is None
        else distance_from_zone(zone, position.latitude, position.longitude)
    )
    return at_charging_location(
        plugged_into_home_charger=system.active,
        in_account_location=location_id is not None and vehicle.location_id == location_id,
        distance_m=distance_m,
        radius_m=None if zone is None else zone.radius_m,
    )
