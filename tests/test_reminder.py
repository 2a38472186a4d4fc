"""The plug-in reminder through Home Assistant: its event, and the notification the user chose."""

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Event, HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.translation import async_load_integrations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    async_capture_events,
    mock_config_flow,
    mock_integration,
    mock_platform,
    setup_test_component_platform,
)

from custom_components.ev_flex.const import (
    CONF_DEPARTURES,
    CONF_PLUGGED_IN,
    CONF_REMINDER_NOTIFY,
    DOMAIN,
)
from custom_components.ev_flex.price_source import CONF_PRICE_ENTITY

from .fakes.calendar_notify import MemoryNotifier
from .prices_common import (
    HACS_NORDPOOL,
    START,
    TODAY,
    TOMORROW,
    TZ_NAME,
    day_slots,
    set_hacs_nordpool,
)
from .schedule_support import CAR, VEHICLE_ID, advance, set_up_simulator

EVENT = "ev_flex_plug_in_reminder"
# START is Tuesday 7 October 2025, 00:20 in Stockholm; the car leaves at 07:00.
DEPARTURE = START.replace(hour=7, minute=0)


@pytest.fixture
async def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """A legacy notify action, notify.phone, as the mobile app registers one."""
    calls: list[ServiceCall] = []

    async def send(call: ServiceCall) -> None:
        calls.append(call)

    hass.services.async_register("notify", "phone", send)
    return calls


class NotifierFlow(ConfigFlow):
    """The config flow of the integration that provides the notify entity."""


@pytest.fixture
async def display(hass: HomeAssistant) -> AsyncGenerator[MemoryNotifier]:
    """A notify entity, notify.kitchen_display, set up through a config entry as integrations
    provide them."""
    notifier = MemoryNotifier("Kitchen display")

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(entry, ["notify"])
        return True

    mock_integration(hass, MockModule("test", async_setup_entry=setup_entry))
    mock_platform(hass, "test.config_flow")
    setup_test_component_platform(hass, "notify", [notifier], from_config_entry=True)
    assert await async_setup_component(hass, "notify", {})
    with mock_config_flow("test", NotifierFlow):
        entry = MockConfigEntry(domain="test")
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        yield notifier


async def set_up(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator_entry: MockConfigEntry,
    *,
    plugged_in: bool,
    notify: str,
) -> MockConfigEntry:
    """The simulated car at 40 % in Stockholm, with prices, smart charging on."""
    await hass.config.async_set_time_zone(TZ_NAME)
    freezer.move_to(START)
    set_hacs_nordpool(hass, day_slots(TODAY), day_slots(TOMORROW))
    options = {
        CONF_PRICE_ENTITY: HACS_NORDPOOL,
        CONF_DEPARTURES: {VEHICLE_ID: {CONF_REMINDER_NOTIFY: notify}},
    }
    entry = await set_up_simulator(hass, simulator_entry, options, **{CONF_PLUGGED_IN: plugged_in})
    await hass.services.async_call(
        "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


async def test_unplugged_at_home_is_reminded_once_an_hour_before_it_is_too_late(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator_entry: MockConfigEntry,
    phone: list[ServiceCall],
) -> None:
    events = async_capture_events(hass, EVENT)
    entry = await set_up(hass, freezer, simulator_entry, plugged_in=False, notify="notify.phone")
    await advance(hass, freezer, DEPARTURE - timedelta(minutes=10))
    assert len(events) == 1
    reminder: Event[Any] = events[0]
    plug_in_by = datetime.fromisoformat(reminder.data["plug_in_by"])
    fired_at = reminder.time_fired
    # Fired within a step (5 minutes here) of an hour before the last moment to plug in.
    assert plug_in_by - timedelta(hours=1) <= fired_at < plug_in_by - timedelta(minutes=55)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    assert reminder.data == {
        "vehicle_id": VEHICLE_ID,
        "device_id": device.id,
        "vehicle": "EV Flex Simulator Sedan 75 kWh",
        "reason": "unplugged",
        "departure": DEPARTURE.isoformat(),
        "target_soc": 80.0,
        "soc": pytest.approx(40.0, abs=0.5),
        "plug_in_by": reminder.data["plug_in_by"],
        "shortfall": None,
    }
    assert len(phone) == 1
    assert phone[0].data["title"] == "EV Flex: plug in EV Flex Simulator Sedan 75 kWh"
    assert "for the departure Tuesday 07:00" in phone[0].data["message"]

    # Not again for the same departure, not even after a restart.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await advance(hass, freezer, DEPARTURE - timedelta(minutes=1))
    assert len(events) == 1
    assert len(phone) == 1


async def test_a_car_near_full_is_reminded_in_time_for_its_slower_last_per_cents(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator_entry: MockConfigEntry,
    phone: list[ServiceCall],
) -> None:
    """At 70 % for 100 % by 07:00: 7.5 kWh at full power (11 kW, 90 % into the battery), then
    15 kWh ever slower down to 3.3 kW. Plugging in by 03:38 makes it, not by 04:44 as a flat
    11 kW would have it, and the reminder comes an hour before 03:38."""
    events = async_capture_events(hass, EVENT)
    entry = await set_up(hass, freezer, simulator_entry, plugged_in=False, notify="notify.phone")
    entry.runtime_data.account.simulation.set_soc(70.0)
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "set_departure",
        {"device_id": device.id, "departure": DEPARTURE, "target_soc": 100},
        blocking=True,
    )
    await advance(hass, freezer, DEPARTURE - timedelta(hours=4, minutes=30))
    assert events == []
    await advance(hass, freezer, DEPARTURE - timedelta(hours=3, minutes=30))
    assert [event.data["reason"] for event in events] == ["unplugged"]
    plug_in_by = datetime.fromisoformat(events[0].data["plug_in_by"])
    hours = 7.5 / 9.9 + 15.0 / 0.9 * math.log(3.3 / 11.0) / (3.3 - 11.0)
    assert (DEPARTURE - plug_in_by).total_seconds() / 3600 == pytest.approx(hours, abs=0.02)
    assert events[0].time_fired <= plug_in_by - timedelta(minutes=55)


@pytest.mark.parametrize(
    ("language", "title", "said"),
    [
        (
            "en",
            "EV Flex: EV Flex Simulator Sedan 75 kWh will not be ready",
            "short of 100 % at the departure Tuesday 01:00.",
        ),
        (
            "de",
            "EV Flex: EV Flex Simulator Sedan 75 kWh wird nicht bereit sein",
            "Bei der Abfahrt Dienstag 01:00 fehlen EV Flex Simulator Sedan 75 kWh",
        ),
    ],
)
async def test_a_plan_that_falls_short_while_plugged_in_is_announced(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator_entry: MockConfigEntry,
    display: MemoryNotifier,
    language: str,
    title: str,
    said: str,
) -> None:
    """Full by 01:00 from 40 % can't be done: the notify entity gets the message, in the
    server's language."""
    events = async_capture_events(hass, EVENT)
    entry = await set_up(
        hass, freezer, simulator_entry, plugged_in=True, notify="notify.kitchen_display"
    )
    # The server's language changes, and Home Assistant loads its texts.
    hass.config.language = language
    await async_load_integrations(hass, {DOMAIN})
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, VEHICLE_ID), entry.entry_id)
    assert device is not None
    await hass.services.async_call(
        DOMAIN,
        "set_departure",
        {"device_id": device.id, "departure": START + timedelta(minutes=40), "target_soc": 100},
        blocking=True,
    )
    await advance(hass, freezer, START + timedelta(minutes=10))
    assert [event.data["reason"] for event in events] == ["shortfall"]
    assert events[0].data["shortfall"] > 1
    assert len(display.sent) == 1
    assert display.sent[0][0] == title
    assert said in display.sent[0][1]


async def test_without_smart_charging_or_a_target_nobody_is_bothered(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator_entry: MockConfigEntry,
    phone: list[ServiceCall],
) -> None:
    events = async_capture_events(hass, EVENT)
    await set_up(hass, freezer, simulator_entry, plugged_in=False, notify="notify.phone")
    await hass.services.async_call(
        "switch", "turn_off", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"}, blocking=True
    )
    await advance(hass, freezer, DEPARTURE - timedelta(minutes=10))
    assert events == []
    assert phone == []


async def test_a_notify_target_that_is_gone_only_logs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = async_capture_events(hass, EVENT)
    await set_up(hass, freezer, simulator_entry, plugged_in=False, notify="notify.old_phone")
    await advance(hass, freezer, DEPARTURE - timedelta(minutes=10))
    assert len(events) == 1
    assert "The plug-in reminder could not be sent through notify.old_phone" in caplog.text
