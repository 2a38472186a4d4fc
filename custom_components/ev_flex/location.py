"""The charging location in Home Assistant: the configured zone, and whether a car is there.

The rule itself is in `core/location.py`; this module finds the zone and measures the distance
with Home Assistant's own helpers. Smart charging, the repair issues and the Enode glue all ask
one `ChargingLocation` per entry, so they always give the same answer.
"""

from collections.abc import Callable, Mapping
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


class ChargingLocation:
    """Where one entry's cars charge: the zone chosen in its options, and the account's own
    place for it where the account keeps one (Enode's Location)."""

    def __init__(
        self,
        hass: HomeAssistant,
        options: Callable[[], Mapping[str, Any]],
        account_location_id: Callable[[], str | None] | None = None,
    ) -> None:
        """`options`: the entry's options now; `account_location_id`: the account's id for the
        place, for accounts that keep one (None: the zone is all there is)."""
        self._hass = hass
        self._options = options
        self._account_location_id = account_location_id

    @property
    def zone(self) -> ChargingZone | None:
        """The zone chosen in the options (default: home); None when it does not exist."""
        return configured_charging_zone(self._hass, self._options())

    @property
    def account_location_id(self) -> str | None:
        """The account's own id for the charging location, when it has one yet."""
        return None if self._account_location_id is None else self._account_location_id()

    @property
    def known(self) -> bool:
        """Whether the charger's place is known, so the charger tells where its car is: an
        account that keeps its own place must have it made first."""
        return self._account_location_id is None or self.account_location_id is not None

    def contains(self, system: EvSystem) -> bool:
        """Whether the car of an EV system is at the charging location."""
        return system_at_charging_location(system, self.zone, self.account_location_id)
