"""Constants for EV Flex."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "ev_flex"
LOGGER = logging.getLogger(__package__)

CONF_ACCOUNT_TYPE: Final = "account_type"
CONF_VEHICLE_PRESET: Final = "vehicle_preset"
CONF_INITIAL_SOC: Final = "initial_soc"
CONF_PLUGGED_IN: Final = "plugged_in"
CONF_COMMAND_DELAY: Final = "command_delay"

CONF_SOC_ENTITY: Final = "soc_entity"
CONF_PLUGGED_IN_ENTITY: Final = "plugged_in_entity"
CONF_CHARGING_ENTITY: Final = "charging_entity"
CONF_VEHICLE_POWER_ENTITY: Final = "vehicle_power_entity"
CONF_LOCATION_ENTITY: Final = "location_entity"
CONF_BATTERY_CAPACITY: Final = "battery_capacity_kwh"
CONF_CHARGER_SWITCH_ENTITY: Final = "charger_switch_entity"
CONF_CHARGER_CURRENT_ENTITY: Final = "charger_current_entity"
CONF_CHARGER_POWER_ENTITY: Final = "charger_power_entity"
CONF_SUPPORTS_DISCHARGE: Final = "supports_discharge"

ACCOUNT_TYPE_SIMULATOR: Final = "simulator"
ACCOUNT_TYPE_ENTITIES: Final = "entities"

SIMULATOR_UPDATE_INTERVAL: Final = timedelta(seconds=30)
DEFAULT_COMMAND_DELAY_SECONDS: Final = 5.0

# Options of smart charging.
CONF_NOTIFY_V2G: Final = "notify_v2g"
CONF_OUTAGE_ENTITY: Final = "outage_entity"
