"""A simulated day of an Enode account through the fake API over loopback, with the API
misbehaving (5xx, 429, failing and refused actions) while the user does anything: the entry
stays loaded, nothing logs an error, commands stay few, and calm brings the car to its target."""

from datetime import datetime, timedelta
import logging
import random

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest

from custom_components.ev_flex.const import DOMAIN
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import HATCHBACK, set_up_hatchback
from .priced_simulator import START, TZ, advance, set_prices, settle
from .scenario_support import assert_still_sound, call_as_user, maybe_steer, problems

MAX_ACTIONS_PER_HOUR = 20


# Enode is polled every 2 minutes: Home Assistant has no URL for webhooks here.
pytestmark = pytest.mark.usefixtures("polling_only")


@pytest.mark.parametrize("seed", [11, 12])
async def test_a_day_of_a_misbehaving_api(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    seed: int,
) -> None:
    rng = random.Random(seed)
    entry, site = await set_up_hatchback(hass, fake_enode, freezer)
    assert site.vehicle_id is not None
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, site.vehicle_id), entry.entry_id
    )
    assert device is not None
    await call_as_user(
        hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{HATCHBACK}_smart_charging"}
    )

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
            await maybe_steer(hass, rng, HATCHBACK, device.id)
            await settle(hass)
            await advance(hass, freezer, datetime.now(TZ) + timedelta(minutes=rng.randrange(5, 30)))
            assert_still_sound(hass, entry, HATCHBACK)
            if datetime.now(TZ) - hour_start >= timedelta(hours=1):
                actions = len(fake_enode._actions) - actions_at_hour_start
                assert actions <= MAX_ACTIONS_PER_HOUR, f"{actions} actions in an hour"
                hour_start, actions_at_hour_start = datetime.now(TZ), len(fake_enode._actions)

    # The day was not idle: EV Flex acted, and the API refused and failed along the way.
    assert len(fake_enode._actions) >= 5
    assert fake_enode.stats.server_errors > 0
    assert fake_enode.stats.rate_limited > 0
    # An account that cannot be reached is said once per outage; anything else is a problem.
    found = problems(caplog.records, outages_expected=True)
    assert not found, found

    # Calm: a healthy API, the car plugged in, and a departure twelve hours away.
    faults.server_error_rate = 0.0
    faults.rate_limit_next = 0
    faults.charger_action_failure_rate = 0.0
    faults.interference = set()
    fake_enode.plug_in(site.vehicle_id)
    set_prices(hass, today=datetime.now(TZ))
    await call_as_user(
        hass, "switch", "turn_on", {ATTR_ENTITY_ID: f"switch.{HATCHBACK}_smart_charging"}
    )
    await call_as_user(hass, DOMAIN, "cancel_override", {"device_id": device.id})
    departure = datetime.now(TZ) + timedelta(hours=12)
    await call_as_user(
        hass,
        DOMAIN,
        "set_departure",
        {"device_id": device.id, "departure": departure, "target_soc": 80},
    )
    await advance(hass, freezer, departure)
    level = site.simulation.vehicle_state().battery_level_pct
    assert level is not None
    assert level >= 79.5
