"""The Enode config flow against the fake Enode API, Link redirect included, over loopback."""

from typing import Any
from unittest.mock import AsyncMock, patch

import aiohttp
from aiohttp.test_utils import TestClient
from homeassistant.config_entries import SOURCE_USER, ConfigFlowResult
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import instance_id
from homeassistant.helpers.translation import async_get_translations
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from yarl import URL

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_ENODE,
    CONF_ACCOUNT_TYPE,
    CONF_BASE_URL,
    CONF_CUSTOM,
    CONF_ENODE_OWN_START_STOP,
    CONF_ENODE_USER_ID,
    CONF_ENVIRONMENT,
    CONF_WEBHOOK_ID,
    DOMAIN,
)
from custom_components.ev_flex.core.enode import PRODUCTION_ENDPOINTS
from custom_components.ev_flex.core.simulator import CHARGER_PRESETS, VEHICLE_PRESETS
from tests.fakes.enode_server import FakeEnodeServer

from .enode_site import ENODE_USER, enode_entry_data

# Flow tests check the flow only; setting the entry up is tested elsewhere.
pytestmark = pytest.mark.usefixtures("skip_entry_setup")


def credentials(server: FakeEnodeServer, **changes: Any) -> dict[str, Any]:
    """The Enode form filled in for the fake server."""
    return {
        CONF_CLIENT_ID: server.client_id,
        CONF_CLIENT_SECRET: server.client_secret,
        CONF_ENVIRONMENT: "custom",
        CONF_CUSTOM: {CONF_BASE_URL: server.base_url},
        **changes,
    }


async def open_enode_step(hass: HomeAssistant) -> str:
    """Start a flow and choose Enode; returns the flow id."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert ACCOUNT_TYPE_ENODE in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ACCOUNT_TYPE_ENODE}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == ACCOUNT_TYPE_ENODE
    return result["flow_id"]


async def follow_link(
    hass: HomeAssistant, ha_client: TestClient, result: ConfigFlowResult, query: str
) -> ConfigFlowResult:
    """Act as the browser: open Enode Link, let it redirect to Home Assistant, resume the flow."""
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{result['url']}?{query}", allow_redirects=False) as link,
    ):
        assert link.status == 302
        redirect = URL(link.headers["Location"])
    # The flow's state is in the path: Link keeps no query of the redirect URI.
    assert redirect.parent.path == f"/api/ev_flex/link/{result['flow_id']}"
    assert len(redirect.name) >= 32
    page = await ha_client.get(redirect.path_qs)
    assert page.status == 200
    assert "close this window" in await page.text()
    # The frontend asks for the next step once the external step is done.
    return await hass.config_entries.flow.async_configure(result["flow_id"])


def add_site(server: FakeEnodeServer, preset: str) -> None:
    server.add_site(vehicle=VEHICLE_PRESETS[preset], charger=CHARGER_PRESETS[preset])


async def test_capable_car_charger_recommended(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """A car that starts and stops itself; the charger is offered and linked."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["step_id"] == "link_vehicle"
    assert result["url"].startswith(f"{fake_enode.public_url}/link/")

    result = await follow_link(hass, ha_client, result, "autolink=1")
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "charger_recommended"
    assert result["menu_options"] == ["link_charger", "skip_charger"]
    assert result["description_placeholders"] == {"vehicle": "EV Flex Simulator Sedan 75 kWh"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "link_charger"}
    )
    result = await follow_link(hass, ha_client, result, "autolink=1")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    user_id = f"ha-{await instance_id.async_get(hass)}"
    assert result["title"] == "EV Flex Simulator Sedan 75 kWh"
    data = result["data"]
    assert len(data.pop(CONF_WEBHOOK_ID)) == 64
    assert data == {
        CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_ENODE,
        CONF_CLIENT_ID: fake_enode.client_id,
        CONF_CLIENT_SECRET: fake_enode.client_secret,
        CONF_ENVIRONMENT: "custom",
        CONF_BASE_URL: fake_enode.base_url,
        CONF_ENODE_USER_ID: user_id,
        # Seen before the charger was linked: the car's own start/stop.
        CONF_ENODE_OWN_START_STOP: {next(iter(fake_enode._vehicles)): True},
    }
    assert result["result"].unique_id == f"enode-{fake_enode.client_id}-{user_id}"
    site = fake_enode.site_of(next(iter(fake_enode._vehicles)))
    assert site.vehicle_user == site.charger_user == user_id


async def test_capable_car_charger_skipped(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """A car that starts and stops itself: the charger can be skipped; the entry is created
    with the car alone."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    result = await follow_link(hass, ha_client, result, "autolink=1")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "skip_charger"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ACCOUNT_TYPE] == ACCOUNT_TYPE_ENODE


async def test_incapable_car_requires_charger(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """A car that cannot start or stop itself cannot go on without a charger."""
    add_site(fake_enode, "hatchback")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    result = await follow_link(hass, ha_client, result, "autolink=1")
    assert result["step_id"] == "charger_required"
    assert result["menu_options"] == ["link_charger"]

    # Cancelling Link for the charger offers only to try again: no way to skip it.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "link_charger"}
    )
    result = await follow_link(hass, ha_client, result, "cancel=1")
    assert result["step_id"] == "link_failed"
    assert result["menu_options"] == ["link_again"]
    assert result["description_placeholders"] == {
        "device": "charger",
        "reason": "linking was cancelled",
    }

    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "link_again"})
    result = await follow_link(hass, ha_client, result, "autolink=1")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "EV Flex Simulator Hatchback 40 kWh"


async def test_optional_charger_failure_can_be_skipped(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """When an optional charger's Link links nothing, the user may go on without it."""
    fake_enode.add_vehicle(VEHICLE_PRESETS["sedan"])
    fake_enode.create_devices_on_link = False
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    result = await follow_link(hass, ha_client, result, "autolink=1")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "link_charger"}
    )
    # No charger is free to link: the browser comes back without one.
    await ha_client.get(await _redirect_without_linking(fake_enode, result["url"]))
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "link_failed"
    assert result["menu_options"] == ["link_again", "skip_charger"]
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "skip_charger"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_link_returns_nothing_then_retry(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """A redirect without a linked vehicle says so, and Link can be opened again."""
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    link_url = result["url"]
    # The browser comes back without linking (as if Link had nothing to offer).
    state_redirect = await _redirect_without_linking(fake_enode, link_url)
    await ha_client.get(state_redirect)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "link_failed"
    assert result["description_placeholders"]["reason"] == "nothing was linked"

    add_site(fake_enode, "sedan")
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "link_again"})
    result = await follow_link(hass, ha_client, result, "autolink=1")
    assert result["step_id"] == "charger_recommended"


async def _redirect_without_linking(server: FakeEnodeServer, link_url: str) -> str:
    token = URL(link_url).name
    return str(URL(server._link_sessions[token].redirect_uri).relative())


async def test_view_ignores_foreign_redirects(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """A redirect without the flow's state (or for an unknown flow) does not move the flow."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))

    wrong_state = await ha_client.get(f"/api/ev_flex/link/{flow_id}/guess")
    assert wrong_state.status == 404
    unknown_flow = await ha_client.get("/api/ev_flex/link/nope/guess")
    assert unknown_flow.status == 404
    assert hass.config_entries.flow.async_get(flow_id)["step_id"] == "link_vehicle"

    # Configuring the flow directly with a wrong state keeps it at the external step.
    again = await hass.config_entries.flow.async_configure(flow_id, {"state": "guess"})
    assert again["type"] is FlowResultType.EXTERNAL_STEP
    assert again["url"] == result["url"]

    # A closed flow: the redirect finds nothing to resume.
    redirect = await _redirect_without_linking(fake_enode, result["url"])
    hass.config_entries.flow.async_abort(flow_id)
    closed = await ha_client.get(redirect)
    assert closed.status == 404


async def test_redirect_to_closed_flow(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """A redirect whose state is still known but whose flow vanished says so."""
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    redirect = await _redirect_without_linking(fake_enode, result["url"])
    # Remove the flow behind the view's back (as a restart would).
    hass.config_entries.flow._progress.pop(flow_id)
    closed = await ha_client.get(redirect)
    assert closed.status == 404
    assert "closed" in await closed.text()


@pytest.mark.parametrize(
    ("language", "page_says", "device"),
    [
        ("en", "<h1>Linking cancelled</h1><p>Nothing was linked.", "vehicle"),
        ("de", "<h1>Verknüpfen abgebrochen</h1><p>Es wurde nichts verknüpft.", "Fahrzeug"),
    ],
)
async def test_vehicle_link_cancelled_page(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    language: str,
    page_says: str,
    device: str,
) -> None:
    """Cancelling in Link shows a cancelled page, in the server's language, and the flow
    offers to try again."""
    hass.config.language = language
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{result['url']}?cancel=1", allow_redirects=False) as link,
    ):
        redirect = URL(link.headers["Location"])
    page = await ha_client.get(redirect.path_qs)
    text = await page.text()
    assert page_says in text
    assert f"<html lang='{language}'>" in text
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "link_failed"
    assert result["menu_options"] == ["link_again"]
    assert result["description_placeholders"]["device"] == device


async def test_already_linked_user_skips_linking(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """Re-adding an entry for a user who still has a car and charger needs no Link."""
    user_id = f"ha-{await instance_id.async_get(hass)}"
    site = fake_enode.add_site()
    assert site.vehicle_id is not None
    assert site.charger_id is not None
    fake_enode.link(user_id, site.vehicle_id)
    fake_enode.link(user_id, site.charger_id)
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({CONF_CLIENT_SECRET: "wrong"}, "invalid_auth"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "not a url"}}, "invalid_url"),
        ({CONF_CUSTOM: {}}, "invalid_url"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://127.0.0.1:9"}}, "cannot_connect"),
        # Bad input never reaches the HTTP layer as "unknown" with a traceback.
        ({CONF_CLIENT_ID: "client:with-colon"}, "invalid_credentials"),
        ({CONF_CLIENT_SECRET: "line\nbreak"}, "invalid_credentials"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://user:password@127.0.0.1:8765"}}, "invalid_url"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://" + "a" * 300 + ".example"}}, "invalid_url"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://" + "a." * 200 + "example"}}, "invalid_url"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://127.0.0.1:99999"}}, "invalid_url"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://fake enode.example"}}, "invalid_url"),
        ({CONF_CUSTOM: {CONF_BASE_URL: "http://127.0.0.1:8765/?x=1"}}, "invalid_url"),
    ],
)
async def test_credential_errors_recover(
    hass: HomeAssistant,
    fake_enode: FakeEnodeServer,
    ha_client: TestClient,
    changes: dict[str, Any],
    error: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each problem gets its translated error, and the same flow then goes on."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, credentials(fake_enode, **changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert "Traceback" not in caplog.text

    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["type"] is FlowResultType.EXTERNAL_STEP


async def test_unexpected_error_is_unknown(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """An unexpected failure in the HTTP layer shows "unknown" and is logged."""
    flow_id = await open_enode_step(hass)
    with patch.object(aiohttp.ClientSession, "request", side_effect=RuntimeError("boom")):
        result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["errors"] == {"base": "unknown"}


async def test_server_trouble_while_linking(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """Enode failing to create a link session or to list devices leads to "try again"."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    # The credential check and the vehicle list pass; the link session fails.
    fake_enode.faults.server_error_rate = 0.0
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["type"] is FlowResultType.EXTERNAL_STEP

    fake_enode.faults.server_error_rate = 1.0
    redirect = await _redirect_via_autolink(result["url"])
    await _deliver(ha_client, redirect)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "link_failed"
    assert "500" in result["description_placeholders"]["reason"]

    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "link_again"})
    assert result["step_id"] == "link_failed"
    assert "500" in result["description_placeholders"]["reason"]

    fake_enode.faults.server_error_rate = 0.0
    result = await hass.config_entries.flow.async_configure(flow_id, {"next_step_id": "link_again"})
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["step_id"] == "link_vehicle"


async def test_server_trouble_after_charger_link(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """Enode failing to list chargers after Link leads to "try again" for the charger."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    result = await follow_link(hass, ha_client, result, "autolink=1")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "link_charger"}
    )
    redirect = await _redirect_via_autolink(result["url"])
    fake_enode.faults.server_error_rate = 1.0
    await _deliver(ha_client, redirect)
    result = await hass.config_entries.flow.async_configure(flow_id)
    assert result["step_id"] == "link_failed"
    assert result["menu_options"] == ["link_again", "skip_charger"]


async def _redirect_via_autolink(link_url: str) -> str:
    async with (
        aiohttp.ClientSession() as browser,
        browser.get(f"{link_url}?autolink=1", allow_redirects=False) as link,
    ):
        return str(URL(link.headers["Location"]).path_qs)


async def _deliver(ha_client: TestClient, path_qs: str) -> None:
    page = await ha_client.get(path_qs)
    assert page.status == 200


async def test_no_url_for_the_redirect(hass: HomeAssistant, fake_enode: FakeEnodeServer) -> None:
    """Without a URL the browser can come back to, the flow explains instead of failing."""
    add_site(fake_enode, "sedan")
    flow_id = await open_enode_step(hass)
    hass.config.internal_url = hass.config.external_url = None
    hass.config.api = None
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_url_available"


async def test_already_configured(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, ha_client: TestClient
) -> None:
    """The same Enode client and user cannot be added twice."""
    user_id = f"ha-{await instance_id.async_get(hass)}"
    MockConfigEntry(
        domain=DOMAIN, unique_id=f"enode-{fake_enode.client_id}-{user_id}", data={}
    ).add_to_hass(hass)
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


# Reauth and reconfigure


def _entry(server: FakeEnodeServer, **changes: Any) -> MockConfigEntry:
    data = enode_entry_data(server, **changes)
    return MockConfigEntry(
        domain=DOMAIN,
        title="Car",
        unique_id=f"enode-{data[CONF_CLIENT_ID]}-{ENODE_USER}",
        data=data,
    )


async def test_reauth(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, skip_entry_setup: AsyncMock
) -> None:
    """A wrong secret is refused; the right one is stored and the entry reloads."""
    entry = _entry(fake_enode, **{CONF_CLIENT_SECRET: "expired"})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"] == {"name": "Car"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: fake_enode.client_id, CONF_CLIENT_SECRET: "still wrong"},
    )
    assert result["errors"] == {"base": "invalid_auth"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: fake_enode.client_id, CONF_CLIENT_SECRET: fake_enode.client_secret},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_CLIENT_SECRET] == fake_enode.client_secret
    assert entry.data[CONF_ENODE_USER_ID] == ENODE_USER


async def test_reauth_with_another_client_aborts(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """Credentials of a different Enode client cannot replace the entry's."""
    entry = _entry(fake_enode, **{CONF_CLIENT_ID: "old-client"})
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: fake_enode.client_id, CONF_CLIENT_SECRET: fake_enode.client_secret},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_client"
    assert entry.data[CONF_CLIENT_ID] == "old-client"


async def test_reconfigure(hass: HomeAssistant, fake_enode: FakeEnodeServer) -> None:
    """The connection can be changed; an unreachable one is refused first."""
    entry = _entry(fake_enode, **{CONF_BASE_URL: "http://127.0.0.1:9"})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(fake_enode, **{CONF_CUSTOM: {CONF_BASE_URL: "ftp://x"}})
    )
    assert result["errors"] == {"base": "invalid_url"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(fake_enode)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_BASE_URL] == fake_enode.base_url
    assert entry.data[CONF_WEBHOOK_ID] == "enode-webhook-id"


async def test_reconfigure_never_shows_the_secret(
    hass: HomeAssistant, fake_enode: FakeEnodeServer, skip_entry_setup: AsyncMock
) -> None:
    """The form carries no stored secret, even after an error; left empty, the secret stays."""
    entry = _entry(fake_enode)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)

    def suggested_secret(result: ConfigFlowResult) -> object:
        schema = result["data_schema"]
        assert schema is not None
        for key in schema.schema:
            if key == CONF_CLIENT_SECRET:
                return (key.description or {}).get("suggested_value")
        raise AssertionError("no secret field")

    assert suggested_secret(result) is None
    changes = {CONF_CLIENT_SECRET: "", CONF_CUSTOM: {CONF_BASE_URL: "ftp://x"}}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(fake_enode, **changes)
    )
    assert result["errors"] == {"base": "invalid_url"}
    assert suggested_secret(result) is None
    assert fake_enode.client_secret not in str(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(fake_enode, **{CONF_CLIENT_SECRET: ""})
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_CLIENT_SECRET] == fake_enode.client_secret


async def test_reconfigure_refuses_unknown_client(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """Credentials Enode does not know are refused before anything is stored."""
    entry = _entry(fake_enode)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(fake_enode, **{CONF_CLIENT_ID: "other-client"})
    )
    # The fake does not know that client.
    assert result["errors"] == {"base": "invalid_auth"}


async def test_reconfigure_with_another_client_aborts(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """Reconfigure keeps the Enode client: a different one aborts."""
    entry = _entry(fake_enode, **{CONF_CLIENT_ID: "old-client"})
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], credentials(fake_enode)
    )
    assert result["reason"] == "wrong_client"


async def test_reconfigure_other_kinds_not_supported(
    hass: HomeAssistant, simulator_entry: MockConfigEntry
) -> None:
    """Simulated accounts have no connection to change."""
    simulator_entry.add_to_hass(hass)
    result = await simulator_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_not_supported"


async def test_production_uses_enode_hosts(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The production environment talks to Enode's own token host (no base URL needed)."""
    aioclient_mock.post(
        PRODUCTION_ENDPOINTS.token_url, status=401, json={"error": "invalid_client"}
    )
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {CONF_CLIENT_ID: "id", CONF_CLIENT_SECRET: "secret", CONF_ENVIRONMENT: "production"},
    )
    assert result["errors"] == {"base": "invalid_auth"}
    assert [str(call[1]) for call in aioclient_mock.mock_calls] == [PRODUCTION_ENDPOINTS.token_url]


def custom_section(result: ConfigFlowResult) -> section:
    schema = result["data_schema"]
    assert schema is not None
    found: section = next(value for key, value in schema.schema.items() if key == CONF_CUSTOM)
    return found


def custom_section_collapsed(result: ConfigFlowResult) -> bool:
    """Whether the form shows the custom-environment section collapsed."""
    return bool(custom_section(result).options["collapsed"])


async def test_custom_section_stays_open_after_an_error(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """Closed at first; open when the form comes back for the custom environment."""
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, None)
    assert custom_section_collapsed(result)

    wrong_secret = credentials(fake_enode, **{CONF_CLIENT_SECRET: "wrong"})
    result = await hass.config_entries.flow.async_configure(flow_id, wrong_secret)
    assert result["errors"] == {"base": "invalid_auth"}
    assert not custom_section_collapsed(result)
    base_url = next(iter(custom_section(result).schema.schema))
    assert base_url.description == {"suggested_value": fake_enode.base_url}

    result = await hass.config_entries.flow.async_configure(
        flow_id, wrong_secret | {CONF_ENVIRONMENT: "sandbox"}
    )
    assert custom_section_collapsed(result)


async def test_reconfigure_opens_the_custom_section_of_a_custom_entry(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """The base URL being edited is in sight; production entries keep it closed."""
    custom = _entry(fake_enode)
    custom.add_to_hass(hass)
    result = await custom.start_reconfigure_flow(hass)
    assert not custom_section_collapsed(result)

    production = MockConfigEntry(
        domain=DOMAIN,
        unique_id="enode-production",
        data=enode_entry_data(fake_enode, **{CONF_ENVIRONMENT: "production"}),
    )
    production.add_to_hass(hass)
    result = await production.start_reconfigure_flow(hass)
    assert custom_section_collapsed(result)


async def test_link_steps_name_themselves_in_their_text(
    hass: HomeAssistant, fake_enode: FakeEnodeServer
) -> None:
    """The frontend shows no title over an external step, so its text starts with one."""
    add_site(fake_enode, "hatchback")
    strings = await async_get_translations(hass, "en", "config", {DOMAIN})
    flow_id = await open_enode_step(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, credentials(fake_enode))
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    for step in ("link_vehicle", "link_charger"):
        title = strings[f"component.{DOMAIN}.config.step.{step}.title"]
        description = strings[f"component.{DOMAIN}.config.step.{step}.description"]
        assert description.startswith(f"**{title}**\n\n"), step
