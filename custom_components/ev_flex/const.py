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

ACCOUNT_TYPE_SIMULATOR: Final = "simulator"

SIMULATOR_UPDATE_INTERVAL: Final = timedelta(seconds=30)
DEFAULT_COMMAND_DELAY_SECONDS: Final = 5.0
