"""Enode webhooks as they really behave: only an external HTTPS address (or a Home Assistant
Cloud webhook) is registered, it counts as working only once Enode's test event arrived, it is
checked again now and then, and whatever reaches it from outside is answered calmly."""

from collections.abc import AsyncIterator
from datetime import timedelta
import json
import logging
import sys
import types

from aiohttp.test_utils import TestClient
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.util.aiohttp import MockRequest
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ev_flex.const import DOMAIN, WEBHOOK_CHECK_INTERVAL
from custom_components.ev_flex.core.enode import API_VERSION, SIGNATURE_HEADER, sign_payload
from custom_components.ev_flex.diagnostics import async_get_config_entry_diagnostics
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import ENODE_USER, entity_id, link_site, poll, setup_entry, without_webhook_url

WEBHOOK_PATH = "/api/webhook/enode-webhook-id"
# Nothing listens here: deliveries through this "proxy" fail.
DEAD_PROXY = "http://127.0.0.1:9"


def webhook_secret(entry: MockConfigEntry) -> str:
    enode = entry.runtime_data.enode
    assert enode is not None
    return enode.webhook.secret


async def check_webhook(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the hourly webhook check run."""
    await poll(hass, freezer, minutes=WEBHOOK_CHECK_INTERVAL.total_seconds() / 60)


async def test_working_webhook_is_tested_and_pinned(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """The webhook is made at the external HTTPS address for the client's API version and
    counts as working because Enode's test event arrived."""
    link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    [hook] = fake_enode._webhooks.values()
    assert hook.api_version == API_VERSION == "2024-10-01"
    assert [(d.events, d.status) for d in fake_enode.deliveries] == [(["enode:webhook:test"], 200)]
    assert enode_entry.runtime_data.coordinator.update_interval == timedelta(minutes=10)


async def test_internal_http_address_only_polls_and_says_so_once(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A plain-HTTP home address is no place for Enode to post: nothing is registered, EV Flex
    polls every two minutes, the log says so once and diagnostics tell why."""
    link_site(fake_enode)
    with caplog.at_level(logging.WARNING):
        await setup_entry(hass, enode_entry)
        await hass.config_entries.async_reload(enode_entry.entry_id)
        await hass.async_block_till_done()
    assert not fake_enode._webhooks
    assert enode_entry.runtime_data.coordinator.update_interval == timedelta(minutes=2)
    assert caplog.text.count("external HTTPS address") == 1
    diagnostics = await async_get_config_entry_diagnostics(hass, enode_entry)
    assert diagnostics["enode"]["webhook_status"] == "no_https_url"
    assert diagnostics["enode"]["webhook_active"] is False


async def test_a_test_event_that_never_arrives_means_polling(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Enode accepted the webhook, but its test event does not get through (a proxy that is
    down): EV Flex does not count on it and polls."""
    link_site(fake_enode)
    fake_enode.webhook_proxy = DEAD_PROXY
    with caplog.at_level(logging.WARNING):
        await setup_entry(hass, enode_entry)
    assert "test event did not reach Home Assistant" in caplog.text
    assert len(fake_enode._webhooks) == 1
    enode = enode_entry.runtime_data.enode
    assert enode is not None
    assert enode.webhook.status == "test_failed"
    assert enode_entry.runtime_data.coordinator.update_interval == timedelta(minutes=2)


async def test_a_webhook_enode_switched_off_falls_back_to_polling_and_recovers(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Deliveries keep failing until Enode marks the webhook inactive: the next check notices
    and polls faster; once deliveries get through again, a test reactivates it."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    coordinator = enode_entry.runtime_data.coordinator
    working_proxy = fake_enode.webhook_proxy
    fake_enode.webhook_proxy = DEAD_PROXY
    await fake_enode.tick()
    for _ in range(25):
        fake_enode.unplug(site.vehicle_id or "")
        await fake_enode.tick()
        fake_enode.plug_in(site.vehicle_id or "")
        await fake_enode.tick()
    [hook] = fake_enode._webhooks.values()
    assert not hook.is_active
    assert coordinator.update_interval == timedelta(minutes=10), "not noticed yet"

    await check_webhook(hass, freezer)
    assert coordinator.update_interval == timedelta(minutes=2)
    assert enode_entry.runtime_data.enode.webhook.status == "inactive"  # type: ignore[union-attr]

    fake_enode.webhook_proxy = working_proxy
    await check_webhook(hass, freezer)
    assert hook.is_active
    assert coordinator.update_interval == timedelta(minutes=10)


async def test_invalid_vendor_credentials_are_found_by_polling(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Without a webhook no credentials-invalidated event arrives; the poll reads the user's
    linked vendors and raises the relink repair all the same."""
    site = link_site(fake_enode)
    await without_webhook_url(hass)
    await setup_entry(hass, enode_entry)
    issue_id = f"vendor_relink_{enode_entry.entry_id}_{site.vehicle_vendor}"
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    fake_enode.invalidate_credentials(ENODE_USER, site.vehicle_vendor)
    await poll(hass, freezer)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


async def test_deleted_event_removes_the_car_at_once(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Enode saying the vehicle was deleted is proof enough: no waiting for more reads."""
    site = link_site(fake_enode)
    car = site.vehicle_id or ""
    await setup_entry(hass, enode_entry)
    fake_enode.unlink(car)
    await fake_enode.tick()
    await hass.async_block_till_done()
    assert "user:vehicle:deleted" in fake_enode.deliveries[-1].events
    assert (
        device_registry.async_get_device_by_identifier((DOMAIN, car), enode_entry.entry_id) is None
    )
    assert car not in enode_entry.runtime_data.smart_charging


async def test_hostile_deliveries_are_answered_calmly(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A signed body nested too deeply, an unsigned body over the size limit, a signed delivery
    of thousands of junk events and a stream of forged ones: plain answers, no traceback, and
    at most one warning a minute."""
    link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    secret = webhook_secret(enode_entry)
    nested = b"[" * 200_000 + b"]" * 200_000
    junk = json.dumps([{"event": 5, "junk": i} for i in range(5000)]).encode()
    forged = json.dumps([{"event": "user:vehicle:updated", "vehicle": {"id": "x"}}]).encode()
    with caplog.at_level(logging.WARNING):
        answer = await webhook_client.post(
            WEBHOOK_PATH, data=nested, headers={SIGNATURE_HEADER: sign_payload(nested, secret)}
        )
        assert answer.status == 400
        huge = await webhook_client.post(WEBHOOK_PATH, data=b"x" * (3 * 1024 * 1024))
        assert huge.status == 413

        async def endless() -> AsyncIterator[bytes]:
            # Chunked, without a length to refuse it by.
            for _ in range(64):
                yield b"x" * 65536

        streamed = await webhook_client.post(WEBHOOK_PATH, data=endless())
        assert streamed.status == 413
        answer = await webhook_client.post(
            WEBHOOK_PATH, data=junk, headers={SIGNATURE_HEADER: sign_payload(junk, secret)}
        )
        assert answer.status == 200
        for _ in range(20):
            answer = await webhook_client.post(
                WEBHOOK_PATH, data=forged, headers={SIGNATURE_HEADER: "sha1=00"}
            )
            assert answer.status == 401
        await hass.async_block_till_done()
    # aiohttp's access log trips over the frozen clock in tests; that is not ours.
    ours = [r for r in caplog.records if r.name != "aiohttp.access"]
    assert not [r for r in ours if r.exc_info or r.levelno >= logging.ERROR]
    warnings = [r.getMessage() for r in ours if r.levelno >= logging.WARNING]
    assert len(warnings) == 1, warnings

    caplog.clear()
    freezer.tick(timedelta(minutes=1, seconds=1))
    with caplog.at_level(logging.WARNING):
        await webhook_client.post(WEBHOOK_PATH, data=forged)
    assert "wrong signature" in caplog.text


class CloudStub:
    """Home Assistant Cloud as EV Flex uses it: a subscription and cloudhooks."""

    def __init__(self) -> None:
        self.created: list[str] = []
        self.deleted: list[str] = []
        self.subscribed = True

    def module(self) -> types.ModuleType:
        module = types.ModuleType("homeassistant.components.cloud")

        class CloudNotAvailable(HomeAssistantError):  # noqa: N818 (the real name)
            """Cloud is not available."""

        async def create(hass: HomeAssistant, webhook_id: str) -> str:
            self.created.append(webhook_id)
            # The relay forwards by path here; the real one hides the webhook id.
            return f"https://hooks.cloud.example/api/webhook/{webhook_id}"

        async def delete(hass: HomeAssistant, webhook_id: str) -> None:
            self.deleted.append(webhook_id)

        module.CloudNotAvailable = CloudNotAvailable  # type: ignore[attr-defined]
        module.async_active_subscription = lambda hass: self.subscribed  # type: ignore[attr-defined]
        module.async_create_cloudhook = create  # type: ignore[attr-defined]
        module.async_delete_cloudhook = delete  # type: ignore[attr-defined]
        return module


async def test_home_assistant_cloud_webhook_is_used_and_removed(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    enode_entry: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a Cloud subscription (and no external address) Enode posts to a cloudhook, made
    once and kept with the entry; removing the entry deletes it."""
    cloud = CloudStub()
    monkeypatch.setitem(sys.modules, "homeassistant.components.cloud", cloud.module())
    hass.config.components.add("cloud")
    fake_enode.webhook_proxy = str(ha_client.make_url("/")).rstrip("/")
    link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    assert [hook.url for hook in fake_enode._webhooks.values()] == [
        "https://hooks.cloud.example/api/webhook/enode-webhook-id"
    ]
    assert enode_entry.runtime_data.enode.webhook_active  # type: ignore[union-attr]
    assert enode_entry.data["cloudhook_url"].startswith("https://hooks.cloud.example/")

    await hass.config_entries.async_reload(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert cloud.created == ["enode-webhook-id"], "made once"

    # A subscription that ended: the stored cloudhook is no use; without an external HTTPS
    # address EV Flex polls.
    cloud.subscribed = False
    await hass.config_entries.async_reload(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert not enode_entry.runtime_data.enode.webhook_active  # type: ignore[union-attr]
    assert not fake_enode._webhooks

    await hass.config_entries.async_remove(enode_entry.entry_id)
    await hass.async_block_till_done()
    assert cloud.deleted == ["enode-webhook-id"]


async def test_a_refused_webhook_is_tried_again_hourly(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enode failing to create the webhook leaves EV Flex polling; an hour later it tries
    again and, once the test event arrives, counts on the webhook."""
    link_site(fake_enode)
    fake_enode.faults.failing_paths = {"/webhooks"}
    await setup_entry(hass, enode_entry)
    enode = enode_entry.runtime_data.enode
    assert enode is not None
    assert enode.webhook.status == "refused"
    assert enode_entry.runtime_data.coordinator.update_interval == timedelta(minutes=2)

    fake_enode.faults.failing_paths = set()
    await check_webhook(hass, freezer)
    assert enode.webhook.status == "working"
    assert len(fake_enode._webhooks) == 1
    assert enode_entry.runtime_data.coordinator.update_interval == timedelta(minutes=10)


async def test_deliveries_that_stop_arriving_are_noticed_within_the_hour(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enode would keep a failing webhook active for a day; the hourly test event notices
    at once that nothing gets through, and EV Flex polls faster."""
    link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    fake_enode.webhook_proxy = DEAD_PROXY
    await check_webhook(hass, freezer)
    [hook] = fake_enode._webhooks.values()
    assert hook.is_active
    assert enode_entry.runtime_data.coordinator.update_interval == timedelta(minutes=2)


async def test_a_delivery_relayed_by_home_assistant_cloud_is_read(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    webhook_client: TestClient,
    enode_entry: MockConfigEntry,
) -> None:
    """Home Assistant Cloud hands a cloudhook delivery over as a stand-in request (no
    aiohttp stream): it is read and acted on like any other."""
    site = link_site(fake_enode)
    await setup_entry(hass, enode_entry)
    fake_enode.unplug(site.vehicle_id or "")
    body = json.dumps(
        [{"event": "user:vehicle:updated", "user": {"id": ENODE_USER}, "vehicle": {"id": "x"}}]
    ).encode()
    request = MockRequest(
        content=body,
        mock_source="cloudhook",
        method="POST",
        headers={SIGNATURE_HEADER: sign_payload(body, webhook_secret(enode_entry))},
    )
    response = await webhook.async_handle_webhook(hass, "enode-webhook-id", request)  # type: ignore[arg-type]
    assert response.status == 200
    await hass.async_block_till_done()
    plugged = hass.states.get(entity_id(hass, "binary_sensor", f"{site.vehicle_id}_plugged_in"))
    assert plugged.state == "off"

    oversized = MockRequest(
        content=b"x" * (2 * 1024 * 1024), mock_source="cloudhook", method="POST"
    )
    response = await webhook.async_handle_webhook(hass, "enode-webhook-id", oversized)  # type: ignore[arg-type]
    assert response.status == 413
