"""Webhook signatures, event parsing, and deliveries from the fake Enode server."""

import json
import logging

import aiohttp
import pytest

from custom_components.ev_flex.core.enode import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    ActionState,
    ChargeKind,
    ChargerEvent,
    CredentialsInvalidatedEvent,
    EnodeNotFoundError,
    EnodeSignatureError,
    EnodeWebhookPayloadError,
    OtherEvent,
    TargetType,
    VehicleEvent,
    VendorActionEvent,
    parse_events,
    read_delivery,
    sign_payload,
    signature_is_valid,
    verify_and_parse,
)
from tests.fakes.enode_server import FakeEnodeServer

from .enode_support import USER, make_client, webhook_receiver
from .manual_clock import ManualClock

pytestmark = pytest.mark.usefixtures("socket_enabled")

SECRET = "a-webhook-secret-of-enough-length"


# Signatures


def test_signature_matches_the_documented_example() -> None:
    body = b'{"payload":"example"}'
    expected = "sha1=e417e6fc2e7f8a78c93a35a7b344d36ce179fc8d"
    assert sign_payload(body, "example-secret") == expected
    assert signature_is_valid(body, expected, "example-secret")
    # Header values are compared without regard to case or surrounding space.
    assert signature_is_valid(
        body, f" {expected.upper().replace('SHA1', 'sha1')} ", "example-secret"
    )


@pytest.mark.parametrize(
    ("body", "signature", "secret"),
    [
        (b'{"payload":"example"}', None, "example-secret"),
        (b'{"payload":"example"}', "", "example-secret"),
        (b'{"payload":"example"}', "sha1=e417e6fc2e7f8a78c93a35a7b344d36ce179fc8d", "other"),
        (
            b'{"payload":"exampl3"}',
            "sha1=e417e6fc2e7f8a78c93a35a7b344d36ce179fc8d",
            "example-secret",
        ),
        (b'{"payload":"example"}', "e417e6fc2e7f8a78c93a35a7b344d36ce179fc8d", "example-secret"),
        (b'{"payload":"example"}', "sha1=e417e6fc2e7f8a78c93a35a7b344d36ce179fc8d", ""),
    ],
)
def test_bad_signatures_are_refused(body: bytes, signature: str | None, secret: str) -> None:
    assert not signature_is_valid(body, signature, secret)
    with pytest.raises(EnodeSignatureError):
        verify_and_parse(body, signature, secret)


# Parsing


def test_events_are_typed() -> None:
    body = json.dumps(
        [
            {
                "event": "user:vehicle:updated",
                "createdAt": "2026-03-10T18:00:00.000Z",
                "version": "2024-10-01",
                "user": {"id": USER},
                "vehicle": {"id": "v1", "chargeState": {"batteryLevel": 61, "isCharging": True}},
                "updatedFields": ["chargeState.batteryLevel"],
            },
            {
                "event": "user:charger:updated",
                "user": {"id": USER},
                "charger": {"id": "c1", "chargeState": {"isPluggedIn": True}},
            },
            {
                "event": "user:vendor-action:updated",
                "user": {"id": USER},
                "vendorAction": {"id": "a1", "state": "CONFIRMED", "targetType": "charger"},
            },
            {"event": "user:credentials:invalidated", "user": {"id": USER}, "vendor": "TESLA"},
            {"event": "system:heartbeat", "pendingEvents": 0},
        ]
    ).encode()
    events = verify_and_parse(body, sign_payload(body, SECRET), SECRET)
    vehicle, charger, action, invalid, heartbeat = events
    assert isinstance(vehicle, VehicleEvent)
    assert vehicle.user_id == USER
    assert vehicle.vehicle.charge_state.battery_level == 61
    assert vehicle.updated_fields == ("chargeState.batteryLevel",)
    assert vehicle.created_at is not None
    assert vehicle.created_at.isoformat() == "2026-03-10T18:00:00+00:00"
    assert isinstance(charger, ChargerEvent)
    assert charger.charger.charge_state.is_plugged_in is True
    assert isinstance(action, VendorActionEvent)
    assert action.action.state is ActionState.CONFIRMED
    assert action.action.target_type is TargetType.CHARGER
    assert isinstance(invalid, CredentialsInvalidatedEvent)
    assert invalid.vendor == "TESLA"
    assert isinstance(heartbeat, OtherEvent)
    assert heartbeat.event == "system:heartbeat"


def test_unreadable_events_are_left_out(caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(
        [
            {"no": "name"},
            {"event": "user:vehicle:updated", "vehicle": {"chargeState": {}}},
            "not an object",
            {"event": "user:charge-action:updated", "action": {"id": "a2", "state": "WEIRD"}},
        ]
    ).encode()
    delivery = read_delivery(body)
    assert delivery.unreadable == 3
    with caplog.at_level(logging.DEBUG):
        events = parse_events(body)
    assert len(events) == 1
    only = events[0]
    assert isinstance(only, VendorActionEvent)
    # An action state Enode may add later is read as UNKNOWN, not refused.
    assert only.action.state is ActionState.UNKNOWN
    assert not only.action.is_settled
    # One line for the delivery, not one per entry (a junk delivery holds thousands).
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["Left out 3 unreadable Enode webhook events"]


def test_a_deeply_nested_body_is_unreadable_not_a_crash() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(EnodeWebhookPayloadError):
        read_delivery(body)


def test_single_event_object_is_accepted() -> None:
    events = parse_events(b'{"event": "enode:webhook:test"}')
    assert [e.event for e in events] == ["enode:webhook:test"]


@pytest.mark.parametrize("body", [b"not json", b'"a string"', b"42"])
def test_non_list_bodies_are_refused(body: bytes) -> None:
    with pytest.raises(EnodeWebhookPayloadError):
        parse_events(body)


# Delivery from the fake server


def _events_of(bodies: list[bytes]) -> list[dict[str, object]]:
    return [event for body in bodies for event in json.loads(body)]


async def test_webhook_test_delivers_a_signed_event(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    async with webhook_receiver() as receiver:
        hook = await client.create_webhook(
            receiver.url, SECRET, authentication=("X-Api-Key", "letmein")
        )
        assert hook.is_active
        assert hook.events == ("*",)
        assert [h.id for h in await client.list_webhooks()] == [hook.id]

        result = await client.test_webhook(hook.id)
        assert result.succeeded
        assert result.response_code == 200
        body, headers = receiver.bodies[0], receiver.headers[0]
        assert signature_is_valid(body, headers[SIGNATURE_HEADER], SECRET)
        assert headers[DELIVERY_HEADER]
        assert headers["x-api-key"] == "letmein"
        assert [e.event for e in verify_and_parse(body, headers[SIGNATURE_HEADER], SECRET)] == [
            "enode:webhook:test"
        ]

        receiver.status = 500
        failed = await client.test_webhook(hook.id)
        assert not failed.succeeded
        assert failed.response_code == 500

    await client.delete_webhook(hook.id)
    assert await client.list_webhooks() == []
    with pytest.raises(EnodeNotFoundError):
        await client.test_webhook(hook.id)


async def test_device_and_action_updates_are_delivered(
    server: FakeEnodeServer, session: aiohttp.ClientSession, clock: ManualClock
) -> None:
    client = make_client(session, server)
    site = server.add_site()
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    async with webhook_receiver() as receiver:
        await client.create_webhook(receiver.url, SECRET)
        server.link(USER, site.vehicle_id)
        server.link(USER, site.charger_id)
        await server.tick()
        assert [e["event"] for e in _events_of(receiver.bodies)] == [
            "user:vehicle:discovered",
            "user:charger:discovered",
        ]

        receiver.bodies.clear()
        receiver.headers.clear()
        # Nothing changed: nothing is sent.
        await server.tick()
        assert receiver.bodies == []

        server.unplug(site.vehicle_id)
        await server.tick()
        events = [
            event
            for body, headers in zip(receiver.bodies, receiver.headers, strict=True)
            for event in verify_and_parse(body, headers[SIGNATURE_HEADER], SECRET)
        ]
        vehicle_events = [e for e in events if isinstance(e, VehicleEvent)]
        charger_events = [e for e in events if isinstance(e, ChargerEvent)]
        assert len(vehicle_events) == 1
        assert len(charger_events) == 1
        assert "chargeState.isPluggedIn" in vehicle_events[0].updated_fields
        assert vehicle_events[0].vehicle.charge_state.is_plugged_in is False
        assert charger_events[0].charger.charge_state.is_plugged_in is False

        receiver.bodies.clear()
        server.plug_in(site.charger_id)
        action = await client.create_charge_action(
            TargetType.CHARGER, site.charger_id, ChargeKind.STOP
        )
        clock.advance(seconds=5)
        await server.tick()
        actions = [
            event
            for body in receiver.bodies
            for event in parse_events(body)
            if isinstance(event, VendorActionEvent)
        ]
        assert [(a.action.id, a.action.state) for a in actions] == [
            (action.id, ActionState.CONFIRMED)
        ]


async def test_failed_deliveries_are_retried(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    async with webhook_receiver() as receiver:
        await client.create_webhook(receiver.url, SECRET, events=["user:vehicle:discovered"])
        receiver.status = 503
        server.link(USER, server.add_vehicle())
        # Not subscribed: charger events are never queued.
        server.link(USER, server.add_charger())
        await server.tick()
        assert len(server.pending_events()) == 1
        assert server.deliveries[-1].status == 503

        receiver.status = 204
        await server.tick()
        assert server.pending_events() == []
        assert [e["event"] for e in _events_of(receiver.bodies[-1:])] == ["user:vehicle:discovered"]


async def test_credentials_invalidated_event(
    server: FakeEnodeServer, session: aiohttp.ClientSession
) -> None:
    client = make_client(session, server)
    async with webhook_receiver() as receiver:
        await client.create_webhook(receiver.url, SECRET, events=["user:credentials:invalidated"])
        server.invalidate_credentials(USER, "TESLA")
        await server.tick()
        (event,) = parse_events(receiver.bodies[0])
        assert isinstance(event, CredentialsInvalidatedEvent)
        assert event.user_id == USER
        assert event.vendor == "TESLA"


def test_a_delivery_of_thousands_of_events_is_read_only_as_far_as_enode_goes() -> None:
    """Enode sends at most 100 events; past 200 the rest are left out unread."""
    event = {"event": "user:vehicle:updated", "user": {"id": "u"}, "vehicle": {"id": "v"}}
    delivery = read_delivery(json.dumps([event] * 5000).encode())
    assert len(delivery.events) == 200
    assert delivery.unreadable == 4800
