"""An Enode entry against the fake Enode API: setup, polling, webhooks, devices, location."""

from datetime import timedelta
import json
import logging

import aiohttp
from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import CONF_ENODE_LOCATION_ID, DOMAIN
from custom_components.ev_flex.core.enode import SIGNATURE_HEADER, sign_payload
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer

from .core.enode_support import make_client
from .enode_site import (
    ENODE_USER,
    EXTERNAL_URL,
    entity_id,
    link_site,
    poll,
    setup_entry,
    turn_on_smart_charging,
    without_webhook_url,
)


async def test_setup_and_unload(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The entry loads the linked car and charger as devices; unloading drops the webhook."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    assert enode_entry.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(device_registry, enode_entry.entry_id)
    assert {ident for device in devices for _, ident in device.identifiers} == {
        site.vehicle_id,
        site.charger_id,
    }
    battery = entity_id(hass, "sensor", f"{site.vehicle_id}_battery_level")
    assert float(hass.states.get(battery).state) == pytest.approx(45, abs=1)
    assert [hook.url for hook in fake_enode._webhooks.values()] == [
        f"{EXTERNAL_URL}/api/webhook/enode-webhook-id"
    ]

    runtime = enode_entry.runtime_data
    assert runtime.enode is not None
    assert runtime.enode.webhook_active
    assert runtime.coordinator.update_interval == timedelta(minutes=10)

    assert await hass.config_entries.async_unload(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert enode_entry.state is ConfigEntryState.NOT_LOADED
    assert not fake_enode._webhooks


async def test_without_url_polls_every_two_minutes(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With no URL for webhooks, EV Flex polls more often and still notices changes."""
    site = link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    runtime = enode_entry.runtime_data
    assert runtime.enode is not None
    assert not runtime.enode.webhook_active
    assert runtime.coordinator.update_interval == timedelta(minutes=2)

    plugged = entity_id(hass, "binary_sensor", f"{site.vehicle_id}_plugged_in")
    assert hass.states.get(plugged).state == STATE_ON
    fake_enode.unplug(site.vehicle_id or "")
    await poll(hass, freezer)
    assert hass.states.get(plugged).state == STATE_OFF


async def test_stale_webhook_is_replaced(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """A webhook left behind by a crash (same URL) is deleted before the new one is made."""
    link_site(fake_enode)
    url = f"{EXTERNAL_URL}/api/webhook/enode-webhook-id"
    async with aiohttp.ClientSession() as session:
        stale = await make_client(session, fake_enode).create_webhook(url, "s" * 32)
    await setup_entry(hass, enode_entry)
    hooks = list(fake_enode._webhooks.values())
    assert [hook.url for hook in hooks] == [url]
    assert hooks[0].id != stale.id


async def test_webhook_pushes_changes(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """A signed user:vehicle:updated delivery refreshes the entities without waiting."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    plugged = entity_id(hass, "binary_sensor", f"{site.vehicle_id}_plugged_in")
    await fake_enode.tick()  # first observation, nothing to report yet
    fake_enode.unplug(site.vehicle_id or "")
    await fake_enode.tick()
    await hass.async_block_till_done()
    assert fake_enode.deliveries[-1].status == 200
    assert "user:vehicle:updated" in fake_enode.deliveries[-1].events
    assert hass.states.get(plugged).state == STATE_OFF


async def test_webhook_bad_signature_is_refused(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """A delivery with a wrong signature gets 401 and changes nothing; unreadable ones 400."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    plugged = entity_id(hass, "binary_sensor", f"{site.vehicle_id}_plugged_in")
    requests_before = fake_enode.stats.api_requests
    fake_enode.unplug(site.vehicle_id or "")
    body = json.dumps(
        [{"event": "user:vehicle:updated", "user": {"id": ENODE_USER}, "vehicle": {"id": "x"}}]
    ).encode()
    url = "/api/webhook/enode-webhook-id"
    forged = await webhook_client.post(
        url, data=body, headers={SIGNATURE_HEADER: sign_payload(body, "not-the-secret")}
    )
    assert forged.status == 401
    unsigned = await webhook_client.post(url, data=body)
    assert unsigned.status == 401
    await hass.async_block_till_done()
    assert fake_enode.stats.api_requests == requests_before
    assert hass.states.get(plugged).state == STATE_ON

    secret = enode_entry.runtime_data.enode.webhook.secret  # type: ignore[union-attr]
    garbage = b"not json"
    answer = await webhook_client.post(
        url, data=garbage, headers={SIGNATURE_HEADER: sign_payload(garbage, secret)}
    )
    assert answer.status == 400
    signed = await webhook_client.post(
        url, data=body, headers={SIGNATURE_HEADER: sign_payload(body, secret)}
    )
    assert signed.status == 200
    await hass.async_block_till_done()
    assert hass.states.get(plugged).state == STATE_OFF


async def test_credentials_invalidated_event_raises_issue(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A vendor account Enode can no longer use becomes a repair issue naming it."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    fake_enode.invalidate_credentials(ENODE_USER, site.vehicle_vendor)
    await fake_enode.tick()
    await hass.async_block_till_done()
    issue = issue_registry.async_get_issue(
        DOMAIN, f"vendor_relink_{enode_entry.entry_id}_{site.vehicle_vendor}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"entry": "Model 3", "vendor": "Evflexsimulator"}


async def test_rate_limit_slows_polling(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 429 makes the next poll wait longer instead of failing the entry."""
    site = link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    battery = entity_id(hass, "sensor", f"{site.vehicle_id}_battery_level")
    fake_enode.faults.rate_limit_next = 1
    await poll(hass, freezer)
    assert fake_enode.stats.rate_limited == 1
    assert enode_entry.state is ConfigEntryState.LOADED
    assert hass.states.get(battery).state == STATE_UNAVAILABLE

    # The regular two minutes are not enough now: it waits twice as long.
    requests = fake_enode.stats.api_requests
    await poll(hass, freezer, minutes=2.1)
    assert fake_enode.stats.api_requests == requests
    await poll(hass, freezer, minutes=2.1)
    assert fake_enode.stats.api_requests > requests
    assert hass.states.get(battery).state != STATE_UNAVAILABLE


async def test_revoked_credentials_start_reauth(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enode refusing the client makes Home Assistant ask for new credentials."""
    link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    fake_enode.faults.reject_tokens = True
    await poll(hass, freezer)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert flows[0]["context"]["entry_id"] == enode_entry.entry_id


async def test_devices_follow_the_account(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A newly linked car appears as a device by itself; an unlinked charger and car go once
    they stay unlisted."""
    site = link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    new_car = fake_enode.add_vehicle(VEHICLE_PRESETS["suv_v2g"])
    fake_enode.link(ENODE_USER, new_car)
    fake_enode.unlink(site.charger_id or "")
    await poll(hass, freezer)
    assert device_registry.async_get_device_by_identifier((DOMAIN, new_car), enode_entry.entry_id)
    assert entity_id(hass, "sensor", f"{new_car}_battery_level")
    # Smart charging comes with it, without a reload, and can be switched on.
    state = entity_id(hass, "sensor", f"{new_car}_smart_charging_state")
    assert hass.states.get(state).state == "disabled"
    assert entity_id(hass, "calendar", f"{new_car}_plan")
    assert entity_id(hass, "time", f"{new_car}_departure_time")
    await turn_on_smart_charging(hass, new_car)
    assert hass.states.get(state).state != "disabled"
    assert enode_entry.runtime_data.smart_charging[new_car].controller.settings.smart_charging

    # Unlinked again (polling only: no deleted event arrives): once it has been missing from
    # several reads over half an hour, its smart charging stops and its device goes.
    fake_enode.unlink(new_car)
    await poll(hass, freezer)
    await poll(hass, freezer)
    assert new_car in enode_entry.runtime_data.smart_charging
    await poll(hass, freezer, minutes=30)
    assert new_car not in enode_entry.runtime_data.smart_charging
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, new_car), enode_entry.entry_id)
        is None
    )
    assert hass.states.get(state) is None
    assert (
        device_registry.async_get_device_by_identifier(
            (DOMAIN, site.charger_id or ""), enode_entry.entry_id
        )
        is None
    )


async def test_malformed_payloads_make_entities_unknown(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Garbage in one vehicle makes its readings unknown; an id-less one is logged once."""
    link_site(fake_enode)
    fake_enode.add_raw_vehicle(
        ENODE_USER,
        {"id": "broken-car", "chargeState": "nonsense", "information": 5, "capabilities": []},
    )
    fake_enode.add_raw_vehicle(ENODE_USER, {"information": {"brand": "Nameless"}})
    await without_webhook_url(hass)
    with caplog.at_level(logging.WARNING):
        await setup_entry(hass, enode_entry)
        await poll(hass, freezer)
    assert enode_entry.state is ConfigEntryState.LOADED
    battery = entity_id(hass, "sensor", "broken-car_battery_level")
    assert hass.states.get(battery).state == STATE_UNKNOWN
    assert caplog.text.count("unreadable entries") == 1


async def test_charging_location_created_at_enode(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Setup creates the home Location at Enode once and puts every charger in it."""
    site = link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    location_id = enode_entry.data[CONF_ENODE_LOCATION_ID]
    location = fake_enode._locations[location_id]
    assert (location["latitude"], location["longitude"]) == (
        hass.config.latitude,
        hass.config.longitude,
    )
    assert fake_enode.charger_json(site.charger_id or "")["location"]["id"] == location_id

    # A charger linked later joins the same Location; a reload creates no second one.
    charger = fake_enode.add_charger()
    fake_enode.link(ENODE_USER, charger)
    await poll(hass, freezer)
    await hass.async_block_till_done()
    assert fake_enode.charger_json(charger)["location"]["id"] == location_id
    await hass.config_entries.async_reload(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert list(fake_enode._locations) == [location_id]


async def test_no_secret_reaches_the_log(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup, webhook deliveries, commands, a refused token and reauth, all logged at DEBUG:
    the client secret, access tokens, the webhook secret and VINs never show up."""
    site = link_site(fake_enode)
    with caplog.at_level(logging.DEBUG):
        await setup_entry(hass, enode_entry)
        charger_switch = entity_id(hass, "switch", f"{site.charger_id}_charging")
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": charger_switch}, blocking=True
        )
        await fake_enode.tick()
        fake_enode.unplug(site.vehicle_id or "")
        await fake_enode.tick()
        await hass.async_block_till_done()
        fake_enode.faults.reject_tokens = True
        await enode_entry.runtime_data.coordinator.async_refresh()
        await hass.async_block_till_done()
    assert "DEBUG" in caplog.text, "debug logging was on"
    assert fake_enode.deliveries[-1].status == 200, "a webhook delivery was handled"
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN), "reauth started"
    secrets = [
        fake_enode.client_secret,
        *fake_enode._tokens,
        enode_entry.runtime_data.enode.webhook.secret,
        site.simulation.vehicle_spec.vin,
    ]
    for secret in secrets:
        assert secret
        assert secret not in caplog.text


async def test_charging_location_refused_is_tried_again_later(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Enode failing to make the Location does not stop the entry; half an hour later EV Flex
    makes it and puts the charger in it."""
    site = link_site(fake_enode)
    await without_webhook_url(hass)
    fake_enode.faults.failing_paths = {"/locations"}
    with caplog.at_level(logging.WARNING):
        await setup_entry(hass, enode_entry)
    assert enode_entry.state is ConfigEntryState.LOADED
    assert CONF_ENODE_LOCATION_ID not in enode_entry.data
    assert "Could not set the charging location at Enode" in caplog.text

    fake_enode.faults.failing_paths = set()
    await poll(hass, freezer)
    assert CONF_ENODE_LOCATION_ID not in enode_entry.data, "not hammering Enode"
    await poll(hass, freezer, minutes=30)
    await hass.async_block_till_done()
    location_id = enode_entry.data[CONF_ENODE_LOCATION_ID]
    assert fake_enode.charger_json(site.charger_id or "")["location"]["id"] == location_id


async def test_a_charger_enode_will_not_place_is_asked_once(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A charger linked later that Enode refuses to put in the Location is logged once and not
    asked about again on every poll; the entry carries on."""
    link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    new_charger = fake_enode.add_charger(CHARGER_PRESETS["sedan"])
    fake_enode.link(ENODE_USER, new_charger)
    fake_enode.faults.failing_paths = {"/chargers/"}
    with caplog.at_level(logging.WARNING):
        await poll(hass, freezer)
        await poll(hass, freezer)
        await poll(hass, freezer)
    assert caplog.text.count("Could not put a charger in the charging location") == 1
    assert enode_entry.state is ConfigEntryState.LOADED
    assert entity_id(hass, "switch", f"{new_charger}_charging")


async def test_a_vehicle_without_a_name_is_named_in_the_servers_language(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enode gives this car and this charger neither a name nor a brand: their devices are
    "Fahrzeug" and "Ladestation" in German."""
    hass.config.language = "de"
    link_site(fake_enode)
    fake_enode.add_raw_vehicle(
        ENODE_USER,
        {"id": "plain-car", "chargeState": "nonsense", "information": 5, "capabilities": []},
    )
    fake_enode.add_raw_charger(
        ENODE_USER,
        {"id": "plain-charger", "chargeState": "nonsense", "information": 5, "capabilities": []},
    )
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    await poll(hass, freezer)
    devices = dr.async_get(hass)
    for identity, name in (("plain-car", "Fahrzeug"), ("plain-charger", "Ladestation")):
        device = devices.async_get_device_by_identifier((DOMAIN, identity), enode_entry.entry_id)
        assert device is not None
        assert device.name == name
