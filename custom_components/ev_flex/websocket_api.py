"""What the EV Flex card reads: the vehicles, and one vehicle's plan as it changes.

`ev_flex/vehicles` lists the vehicles under smart charging (for the card editor).
`ev_flex/vehicle_plan/subscribe` sends a vehicle's state, departure, the plan the car follows
(slot by slot) and the known prices at once, and again after every step of its controller.
The slot list travels here and not in state attributes, which the recorder would store.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
import probatio

from .const import DOMAIN, LOGGER
from .core.controller import PlanPendingError
from .core.plan_answer import PRICE_DIGITS, plan_answer
from .core.plan_request import current_slots
from .core.planner import PriceSlot
from .entity import charging_currency
from .helpers import vehicle_name
from .shown_plan import shown_plan
from .smart_charging import VehicleSmartCharging, finite_or_none

# Why a vehicle has no plan to show.
PROBLEM_NO_READING = "no_reading"
PROBLEM_NO_PRICES = "no_prices"
PROBLEM_NO_PLAN = "no_plan"
PROBLEM_UNAVAILABLE = "unavailable"

# Per vehicle, what each open card does when the vehicle's entry unloads.
UNLOAD_WATCHERS: HassKey[dict[VehicleSmartCharging, set[CALLBACK_TYPE]]] = HassKey(
    f"{DOMAIN}_card_unload_watchers"
)

# The vehicle's entities the card's controls use, by platform and description key.
CONTROL_ENTITIES = {
    "smart_charging": ("switch", "smart_charging"),
    "v2g": ("switch", "v2g"),
    "departure_time": ("time", "departure_time"),
    "target_soc": ("number", "target_soc"),
    "state": ("sensor", "smart_charging_state"),
}


@callback
def async_setup_websocket_api(hass: HomeAssistant) -> None:
    """Register the card's commands (once, from async_setup)."""
    websocket_api.async_register_command(hass, websocket_vehicles)
    websocket_api.async_register_command(hass, websocket_subscribe_vehicle_plan)


def _loaded_vehicles(hass: HomeAssistant) -> dict[str, VehicleSmartCharging]:
    vehicles: dict[str, VehicleSmartCharging] = {}
    for entry in hass.config_entries.async_entries(DOMAIN):
        if entry.state is ConfigEntryState.LOADED:
            vehicles.update(entry.runtime_data.smart_charging)
    return vehicles


def _vehicle_for_device(hass: HomeAssistant, device_id: str) -> VehicleSmartCharging | None:
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        return None
    vehicles = _loaded_vehicles(hass)
    return next(
        (
            vehicles[identifier]
            for domain, identifier in device.identifiers
            if domain == DOMAIN and identifier in vehicles
        ),
        None,
    )


@websocket_api.websocket_command({probatio.Required("type"): "ev_flex/vehicles"})
@callback
def websocket_vehicles(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """The vehicles under smart charging: device id and name, in name order."""
    devices = dr.async_get(hass)
    found = []
    for vehicle_id, charging in _loaded_vehicles(hass).items():
        device = devices.async_get_device_by_identifier(
            (DOMAIN, vehicle_id), charging.entry.entry_id
        )
        if device is not None:
            found.append({"device_id": device.id, "name": device.name_by_user or device.name})
    found.sort(key=lambda vehicle: str(vehicle["name"]).casefold())
    connection.send_result(msg["id"], found)


@websocket_api.websocket_command(
    {
        probatio.Required("type"): "ev_flex/vehicle_plan/subscribe",
        probatio.Required("device_id"): str,
    }
)
@callback
def websocket_subscribe_vehicle_plan(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send the vehicle's plan now and after every step, until unsubscribed or unloaded."""
    charging = _vehicle_for_device(hass, msg["device_id"])
    if charging is None:
        connection.send_error(
            msg["id"], websocket_api.ERR_NOT_FOUND, f"No EV Flex vehicle {msg['device_id']}"
        )
        return

    @callback
    def send_plan() -> None:
        try:
            message = vehicle_plan(charging, dt_util.utcnow())
        except Exception:  # noqa: BLE001 (logged in full below)
            # The card's view of a step must never stop the step's other listeners (entities).
            LOGGER.exception("The EV Flex card could not show the plan of %s", charging.entry.title)
            return
        if message is not None:
            connection.send_message(websocket_api.event_message(msg["id"], message))

    @callback
    def unloaded() -> None:
        # The entry went away or reloads: the card says so and subscribes again later.
        stop_following()
        stop_waiting()
        connection.subscriptions.pop(msg["id"], None)
        connection.send_message(
            websocket_api.event_message(msg["id"], {"problem": PROBLEM_UNAVAILABLE})
        )

    stop_following = charging.async_add_listener(send_plan)
    stop_waiting = charging.shown_plans.async_add_listener(send_plan)
    stop_watching = _async_watch_unload(hass, charging, unloaded)

    @callback
    def unsubscribe() -> None:
        stop_following()
        stop_waiting()
        stop_watching()

    connection.subscriptions[msg["id"]] = unsubscribe
    connection.send_result(msg["id"])
    send_plan()


@callback
def _async_watch_unload(
    hass: HomeAssistant, charging: VehicleSmartCharging, unloaded: CALLBACK_TYPE
) -> CALLBACK_TYPE:
    """Call unloaded when the vehicle's entry unloads; returns what stops watching.

    One unload callback per vehicle serves all its cards, so cards that come and go leave
    nothing behind on the entry.
    """
    watchers = hass.data.setdefault(UNLOAD_WATCHERS, {})
    if charging not in watchers:
        watchers[charging] = set()

        @callback
        def entry_unloaded() -> None:
            for watcher in watchers.pop(charging, set()):
                watcher()

        charging.entry.async_on_unload(entry_unloaded)
    watchers[charging].add(unloaded)
    return lambda: watchers.get(charging, set()).discard(unloaded)


def _entity_ids(hass: HomeAssistant, vehicle_id: str) -> dict[str, str | None]:
    registry = er.async_get(hass)
    return {
        name: registry.async_get_entity_id(platform, DOMAIN, f"{vehicle_id}_{key}")
        for name, (platform, key) in CONTROL_ENTITIES.items()
    }


def _local(moment: datetime | None) -> str | None:
    return None if moment is None else dt_util.as_local(moment).isoformat()


def _price_slots(prices: Sequence[PriceSlot]) -> list[dict[str, Any]]:
    """The known import prices, slot by slot, with local times."""
    return [
        {
            "start": _local(slot.start),
            "end": _local(slot.end),
            "price": round(slot.import_price, PRICE_DIGITS),
        }
        for slot in prices
    ]


def vehicle_plan(charging: VehicleSmartCharging, now: datetime) -> dict[str, Any] | None:
    """What the card shows for one vehicle now (JSON-ready); None while its plan is made."""
    observation = charging.observation()
    decision = charging.controller.decision
    prices = current_slots(charging.price_slots(), now)
    money = charging_currency(charging)
    answer: dict[str, Any] = {
        "name": charging.entry.title,
        "entities": _entity_ids(charging.hass, charging.vehicle_id),
        "can_discharge": observation.max_discharge_kw > 0,
        "plugged_in": observation.plugged_in,
        "soc_pct": finite_or_none(observation.soc_pct),
        "currency": money,
        "prices": _price_slots(prices),
        "plan": None,
        "problem": None,
    }
    if (vehicle := charging.coordinator.data.vehicles.get(charging.vehicle_id)) is not None:
        answer["name"] = vehicle_name(vehicle)
    if decision is not None:
        answer.update(
            status=decision.status.translation_key,
            reason=decision.reason,
            departure=_local(decision.departure),
            target_soc_pct=finite_or_none(decision.target_soc_pct),
            expected_soc_at_departure_pct=finite_or_none(decision.expected_soc_at_departure_pct),
            shortfall_pct=finite_or_none(decision.shortfall_pct),
            next_start=_local(decision.next_start),
            next_stop=_local(decision.next_stop),
            estimated_cost=finite_or_none(decision.estimated_cost),
            charge_now_cost=finite_or_none(decision.charge_now_cost),
        )
    if observation.soc_pct is None or not observation.capacity_kwh:
        answer["problem"] = PROBLEM_NO_READING
        return answer
    if not prices:
        answer["problem"] = PROBLEM_NO_PRICES
        return answer
    try:
        planned = shown_plan(charging, now)
    except PlanPendingError:
        # Made off the event loop: the card gets it when it is ready.
        return None
    if planned is None:
        answer["problem"] = PROBLEM_NO_PLAN
        return answer
    request, plan = planned
    shown = plan_answer(plan, request, tz=dt_util.get_default_time_zone(), currency=money)
    answer["plan"] = {"summary": shown["summary"], "slots": shown["slots"]}
    return answer
