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
# A simulated house with rooftop solar and a grid meter around the simulated charger.
CONF_SIMULATED_HOME: Final = "simulated_home"

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

ACCOUNT_TYPE_ENODE: Final = "enode"

# Enode account data (the client credentials live under homeassistant.const's CONF_CLIENT_*).
CONF_ENVIRONMENT: Final = "environment"
CONF_CUSTOM: Final = "custom"
CONF_BASE_URL: Final = "base_url"
CONF_ENODE_USER_ID: Final = "enode_user_id"
CONF_WEBHOOK_ID: Final = "webhook_id"
# The Home Assistant Cloud address made for the entry's webhook (where the user has Cloud).
CONF_CLOUDHOOK_URL: Final = "cloudhook_url"
CONF_ENODE_LOCATION_ID: Final = "enode_location_id"
CONF_ENODE_LOCATION_ZONE: Final = "enode_location_zone"
# The zone's name and centre as last sent to Enode: when the user moves or renames the zone, the
# Location follows.
CONF_ENODE_LOCATION_PLACE: Final = "enode_location_place"
# Whether each car can start and stop charging by itself, as seen while no charger was linked
# (Enode's EV-charger pairing later reports the charger's ability as the car's).
CONF_ENODE_OWN_START_STOP: Final = "enode_own_start_stop"
# Options: the zone where the home charger is (default: the Home Assistant home zone).
CONF_CHARGING_ZONE: Final = "charging_zone"
DEFAULT_CHARGING_ZONE: Final = "zone.home"

# Enode refreshes vendor data every few minutes; with webhooks pushing changes, polling is only
# a safety net. Without webhooks it is the only way to notice plug-ins.
ENODE_POLL_INTERVAL: Final = timedelta(minutes=2)
ENODE_POLL_INTERVAL_WITH_WEBHOOK: Final = timedelta(minutes=10)
# How often EV Flex checks that Enode still delivers to its webhook.
WEBHOOK_CHECK_INTERVAL: Final = timedelta(hours=1)
# How long one charging command may take to be confirmed before its path counts as failed.
COMMAND_TIMEOUT_SECONDS: Final = 90.0
COMMAND_POLL_SECONDS: Final = 3.0

# The flow's state is part of the path: Enode Link may drop the redirect URI's query.
LINK_VIEW_URL: Final = "/api/ev_flex/link/{flow_id}/{state}"

# Day names of a weekly departure schedule, Monday first (as datetime.weekday() counts).
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Options per vehicle id: the calendar its departures are read from and where plug-in reminders
# are sent ({vehicle_id: {"calendar": entity id, "notify": notify entity or service}}).
CONF_DEPARTURES: Final = "departures"
CONF_CALENDAR: Final = "calendar"
CONF_REMINDER_NOTIFY: Final = "notify"
