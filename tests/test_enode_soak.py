"""A simulated day of an Enode account through the fake API over loopback, with the API
misbehaving (5xx, 429, failing and refused actions) while the user does anything: the entry
stays loaded, nothing logs an error, commands stay few, and calm brings the car to its target."""

from datetime import datetime, timedelta
import logging
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN
from custom_components.ev_flex.controller_entity import STATE_OPTIONS
from custom_components.ev_flex.core.enode.fake_server import FakeEnodeServer

from .conftest import enode_entry_data, link_site, setup_entry
from .test_smart_charging import PRICE_ENTITY, START, TZ, TZ_NAME, advance, set_prices, settle

CAR = "ev_flex_simulator_hatchback_40_kwh"
STATE = f"sensor.{CAR}_smart_charging_state"
MAX_ACTIONS_PER_HOUR = 20


@pytest.fixture(autouse=True)
async def no_webhooks(hass: HomeAssistant, fake_enode: FakeEnodeServer) -> None:
    """Polled every 2 minutes: Home Assistant has no URL for webhooks here."""
    assert await async_setup_component(hass, "http", {})
    hass.config.internal_url = hass.config.external_url = None
    hass.config.api = None


async def _call(hass: HomeAssistant, domain: str, service: str, data: dict[str, object]) -> None:
    refusal: HomeAssistantError | None = None
    try:
        await hass.services.async_call(domain, service, data, blocking=True)
    except HomeAssistantError as err:
        refusal = err
    if refusal is not None:
        assert refusal.translation_key, f"untranslated: {domain}.{service}: {refusal}"


@pytest.mark.parametrize("seed", [11, 12])
async def test_a_day_of_a_misbehaving_api(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    rng = random.Random(seed)
    freezer.move_to(START)
    await hass.config.async_set_time_zone(TZ_NAME)
    await hass.config.async_update(latitude=59.91, longitude=10.75)
    set_prices(hass)
    site = link_site(fake_enode, "hatchback", soc_pct=40.0)
    assert site.vehicle_id is not None
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Hatchback",
        unique_id=f"enode-{fake_enode.client_id}-soak",
        data=enode_entry_data(fake_enode),
        options={"price_entity": PRICE_ENTITY},
        version=1,
        minor_version=1,
    )
    await setup_entry(hass, entry)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, site.vehicle_id), entry.entry_id
    )
    assert device is not None
    await _call(hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"})

    faults = fake_enode.faults
    end = START + timedelta(days=1)
    hour_start, actions_at_hour_start = datetime.now(TZ), len(fake_enode._actions)
    with caplog.at_level(logging.WARNING):
        while datetime.now(TZ) < end:
            event = rng.randrange(8)
            if event == 0:
                faults.server_error_rate = rng.choice([0.0, 0.0, 0.3])
            elif event == 1:
                faults.rate_limit_next = rng.choice([0, 1, 3])
            elif event == 2:
                faults.charger_action_failure_rate = rng.choice([0.0, 0.5, 1.0])
            elif event == 3:
                faults.interference = rng.choice([set(), {site.charger_id or ""}])
            elif event == 4:
                if rng.random() < 0.5:
                    fake_enode.unplug(site.vehicle_id)
                else:
                    fake_enode.plug_in(site.vehicle_id)
            user = rng.randrange(6)
            if user == 0:
                await _call(
                    hass,
                    "switch",
                    rng.choice(["turn_on", "turn_off"]),
                    {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"},
                )
            elif user == 1:
                await _call(hass, DOMAIN, "charge_now", {"device_id": device.id})
            elif user == 2:
                await _call(hass, DOMAIN, "cancel_override", {"device_id": device.id})
            await settle(hass)
            await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=rng.randrange(5, 30)))

            assert entry.state is ConfigEntryState.LOADED
            state = hass.states.get(STATE)
            assert state is not None
            assert state.state in [*STATE_OPTIONS, "unavailable"], state.state
            if datetime.now(TZ) - hour_start >= timedelta(hours=1):
                actions = len(fake_enode._actions) - actions_at_hour_start
                assert actions <= MAX_ACTIONS_PER_HOUR, f"{actions} actions in an hour"
                hour_start, actions_at_hour_start = datetime.now(TZ), len(fake_enode._actions)

    # The day was not idle: EV Flex acted, and the API refused and failed along the way.
    assert len(fake_enode._actions) >= 5
    assert fake_enode.stats.server_errors > 0
    assert fake_enode.stats.rate_limited > 0
    # Home Assistant's coordinator logs "Error fetching" once per outage (then "recovered");
    # that is the expected way to say an API is down. Anything else is a problem.
    problems = [
        r
        for r in caplog.records
        if (r.levelno >= logging.ERROR or r.exc_info)
        and not r.getMessage().startswith("Error fetching ev_flex account")
    ]
    assert not problems, [r.getMessage() for r in problems]

    # Calm: a healthy API, the car plugged in, and a departure twelve hours away.
    faults.server_error_rate = 0.0
    faults.rate_limit_next = 0
    faults.charger_action_failure_rate = 0.0
    faults.interference = set()
    fake_enode.plug_in(site.vehicle_id)
    set_prices(hass, today=datetime.now(TZ))
    await _call(hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{CAR}_smart_charging"})
    await _call(hass, DOMAIN, "cancel_override", {"device_id": device.id})
    departure = datetime.now(TZ) + timedelta(hours=12)
    await _call(
        hass,
        DOMAIN,
        "set_departure",
        {"device_id": device.id, "departure": departure, "target_soc": 80},
    )
    await advance(hass, freezer, departure)
    level = site.simulation.vehicle_state().battery_level_pct
    assert level is not None
    assert level >= 79.5
