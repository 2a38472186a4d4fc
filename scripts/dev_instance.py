"""Run a real Home Assistant server with EV Flex and a simulated account (see scripts/develop).

The server's configuration lives in .dev/config (not committed). On first start it completes
onboarding through Home Assistant's own REST API, creates an owner account and links a simulated
vehicle and charger through the real config flow. Later starts reuse all of that.

With --enode it also starts the fake Enode API on 127.0.0.1:8765 (a car and its home charger
waiting to be linked) and prints its client id, secret and base URL, so a person can walk the
real Enode config flow in the browser: Add integration > EV Flex > Enode > environment Custom.
With --enode --check the script walks that flow itself through the REST API, Link redirect
included, and waits for the Enode car's entities.

The sidebar gets an "EV Flex" dashboard: the README's, for the simulated car. --check also
loads the real frontend in headless Chromium (scripts/browser.py): it logs in on the login page,
opens the car's device page and that dashboard (shot at a phone's and a desktop's width), and it
fails when Home Assistant shows a notification (such as "Login attempt failed") or a repair.
"""

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import json
import os
from pathlib import Path
import secrets
import signal
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request
from zoneinfo import ZoneInfo

import aiohttp
from homeassistant.util.yaml import parse_yaml

from scripts.browser import Browser, BrowserError

REPO = Path(__file__).resolve().parents[1]
DEV_DIR = REPO / ".dev"
CONFIG_DIR = DEV_DIR / "config"
CREDENTIALS_FILE = DEV_DIR / "credentials.json"
SCREENSHOTS = DEV_DIR / "screenshots"
DASHBOARD_PATH = "dashboard-ev-flex"
# The placeholder device id in the README's dashboard.
README_DEVICE_ID = "0123456789abcdef0123456789abcdef"
HOST = "127.0.0.1"
PORT = 8123
BASE_URL = f"http://{HOST}:{PORT}"
CLIENT_ID = f"{BASE_URL}/"
REQUIRED_KEYS = ("battery_level", "plugged_in", "charge_rate", "import_price")
ENODE_PORT = 8765
ENODE_URL = f"http://{HOST}:{ENODE_PORT}"
ENODE_CLIENT_ID = "fake-client-id"
ENODE_CLIENT_SECRET = "fake-client-secret"

CONFIGURATION = """\
homeassistant:
  name: EV Flex development
  latitude: 59.9139
  longitude: 10.7522
  elevation: 10
  unit_system: metric
  time_zone: Europe/Oslo
  currency: NOK
  country: "NO"
  # The server listens on loopback only; Enode Link and webhooks come back here.
  internal_url: "BASE_URL"

# Only what the UI needs; no default_config, whose extras reach out to the internet.
api:
config:
onboarding:
frontend:
history:
logbook:
recorder:
  # The demo price sensor's 15-minute lists are too big for the recorder, like real ones.
  exclude:
    entities:
      - sensor.dev_day_ahead_prices

logger:
  default: warning
  logs:
    custom_components.ev_flex: debug
    homeassistant.setup: info
    # Text-to-speech looks for an ffmpeg binary, which EV Flex never needs.
    haffmpeg: critical
"""
TIME_ZONE = ZoneInfo("Europe/Oslo")
DEMO_PRICE_ENTITY = "sensor.dev_day_ahead_prices"
# NOK/kWh by local hour: cheap nights, morning and evening peaks, like a Nordic winter day.
DEMO_HOURLY_PRICES = (
    0.52, 0.47, 0.38, 0.35, 0.36, 0.44, 0.82, 1.46, 1.62, 1.21, 1.02, 0.96,
    0.91, 0.88, 0.93, 1.05, 1.34, 1.78, 1.91, 1.66, 1.24, 0.98, 0.74, 0.61,
)  # fmt: skip


def use_instance(directory: Path, port: int) -> None:
    """Keep the server's files in directory and serve on port instead (the card's browser test
    runs its own server beside a developer's)."""
    global DEV_DIR, CONFIG_DIR, CREDENTIALS_FILE, SCREENSHOTS, PORT, BASE_URL, CLIENT_ID  # noqa: PLW0603
    DEV_DIR = directory
    CONFIG_DIR = directory / "config"
    CREDENTIALS_FILE = directory / "credentials.json"
    SCREENSHOTS = directory / "screenshots"
    PORT = port
    BASE_URL = f"http://{HOST}:{PORT}"
    CLIENT_ID = f"{BASE_URL}/"


def log(message: str) -> None:
    print(f"[develop] {message}", flush=True)


def write_configuration() -> None:
    CONFIG_DIR.mkdir(parents=True, exist_ok=True)
    (CONFIG_DIR / "configuration.yaml").write_text(CONFIGURATION.replace("BASE_URL", BASE_URL))
    write_http_settings()
    write_onboarding_progress()
    link = CONFIG_DIR / "custom_components" / "ev_flex"
    link.parent.mkdir(exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(REPO / "custom_components" / "ev_flex")


def write_http_settings() -> None:
    """Bind to loopback only. Home Assistant keeps its HTTP settings in storage, not YAML."""
    storage = CONFIG_DIR / ".storage"
    storage.mkdir(exist_ok=True)
    http_store = storage / "http"
    if http_store.exists():
        return
    settings = {
        "server_host": [HOST],
        "server_port": PORT,
        "cors_allowed_origins": [],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": "2026-01-01T00:00:00+00:00",
        "error": None,
        "error_message": None,
    }
    http_store.write_text(
        json.dumps(
            {
                "version": 2,
                "minor_version": 2,
                "key": "http",
                "data": {"stable": settings, "pending": None, "yaml_migration_done": True},
            }
        )
    )


def write_onboarding_progress() -> None:
    """Mark the location step done: it adds weather, radio and TTS entries that need the internet.

    The location comes from configuration.yaml; the owner account is still made over REST.
    """
    onboarding_store = CONFIG_DIR / ".storage" / "onboarding"
    if onboarding_store.exists():
        return
    onboarding_store.write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config"]},
            }
        )
    )


def credentials() -> dict[str, str]:
    if CREDENTIALS_FILE.exists():
        stored: dict[str, str] = json.loads(CREDENTIALS_FILE.read_text())
        return stored
    created = {"username": "owner", "password": secrets.token_urlsafe(12)}
    DEV_DIR.mkdir(exist_ok=True)
    CREDENTIALS_FILE.write_text(json.dumps(created))
    CREDENTIALS_FILE.chmod(0o600)
    return created


def request(
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
    form: bool = False,
) -> Any:
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE_URL + path, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=30) as response:
        text = response.read().decode()
    return json.loads(text) if text else None


def wait_for_server(process: subprocess.Popen[bytes], deadline: float) -> None:
    """Wait for the frontend's manifest, which needs no login.

    Probing the API without a token would count as a failed login and leave a notification.
    """
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Home Assistant exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{BASE_URL}/manifest.json", timeout=30):
                return
        except urllib.error.HTTPError:
            return  # Any answer means the server is up.
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise SystemExit("Home Assistant did not answer in time")


def exchange_code(code: str) -> str:
    tokens = request(
        "POST",
        "/auth/token",
        {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
        form=True,
    )
    return str(tokens["access_token"])


def onboard_or_login(user: dict[str, str]) -> str:
    """Finish onboarding on the first start; log in with the stored owner afterwards."""
    try:
        steps = {step["step"]: step["done"] for step in request("GET", "/api/onboarding")}
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
        # Fully onboarded: Home Assistant no longer serves the onboarding views.
        steps = dict.fromkeys(("user", "core_config", "analytics", "integration"), True)
    if not steps.get("user"):
        log("onboarding: creating the owner account")
        created = request(
            "POST",
            "/api/onboarding/users",
            {
                "client_id": CLIENT_ID,
                "name": "EV Flex owner",
                "username": user["username"],
                "password": user["password"],
                "language": "en",
            },
        )
        token = exchange_code(created["auth_code"])
    else:
        flow = request(
            "POST",
            "/auth/login_flow",
            {
                "client_id": CLIENT_ID,
                "handler": ["homeassistant", None],
                "redirect_uri": CLIENT_ID,
            },
        )
        result = request(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": CLIENT_ID, **user},
        )
        token = exchange_code(result["result"])
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
    ):
        if not steps.get(step):
            request("POST", f"/api/onboarding/{step}", body, token=token)
    return token


def ensure_simulated_account(token: str) -> None:
    entries = request("GET", "/api/config/config_entries/entry?domain=ev_flex", token=token)
    if entries:
        return
    log("linking a simulated vehicle and charger through the config flow")
    flow = request("POST", "/api/config/config_entries/flow", {"handler": "ev_flex"}, token=token)
    flow = request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {"next_step_id": "simulator"},
        token=token,
    )
    result = request(
        "POST",
        f"/api/config/config_entries/flow/{flow['flow_id']}",
        {
            "name": "Home",
            "vehicle_preset": "sedan",
            "initial_soc": 35,
            "plugged_in": True,
            "simulated_home": True,
        },
        token=token,
    )
    if result.get("type") != "create_entry":
        raise SystemExit(f"the config flow did not create an entry: {result}")
    log(f"pricing it with the demo day-ahead prices in {DEMO_PRICE_ENTITY}")
    use_demo_prices(token, result["result"]["entry_id"])


def demo_day(day: date, scale: float, hour_shift: int = 0) -> list[dict[str, Any]]:
    """15-minute slots of one local day, in the HACS Nord Pool sensor's format; hour_shift moves
    the day's price shape by whole hours (the card's test puts the evening peak at the present)."""
    start = datetime(day.year, day.month, day.day, tzinfo=TIME_ZONE)
    end_of_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), TIME_ZONE)
    slots = []
    while start < end_of_day:
        # Wall-clock arithmetic in UTC, so DST days get 92 or 100 quarters.
        end = (start.astimezone(ZoneInfo("UTC")) + timedelta(minutes=15)).astimezone(TIME_ZONE)
        quarter = start.minute // 15
        value = (
            DEMO_HOURLY_PRICES[(start.hour + hour_shift) % 24]
            * scale
            * (1.0 + 0.02 * (quarter - 1.5))
        )
        slots.append({"start": start.isoformat(), "end": end.isoformat(), "value": round(value, 4)})
        start = end
    return slots


def publish_demo_prices(token: str, hour_shift: int = 0) -> None:
    """A day-ahead price sensor for today and tomorrow, so smart charging has prices to plan."""
    today = datetime.now(TIME_ZONE).date()
    raw_today = demo_day(today, 1.0, hour_shift)
    raw_tomorrow = demo_day(today + timedelta(days=1), 0.93, hour_shift)
    now = datetime.now(TIME_ZONE)
    current = next(
        slot["value"]
        for slot in raw_today
        if datetime.fromisoformat(slot["start"]) <= now < datetime.fromisoformat(slot["end"])
    )
    request(
        "POST",
        f"/api/states/{DEMO_PRICE_ENTITY}",
        {
            "state": current,
            "attributes": {
                "friendly_name": "Day-ahead prices (development)",
                "unit_of_measurement": "NOK/kWh",
                "unit": "kWh",
                "currency": "NOK",
                "price_in_cents": False,
                "tomorrow_valid": True,
                "raw_today": raw_today,
                "raw_tomorrow": raw_tomorrow,
            },
        },
        token=token,
    )


def use_demo_prices(token: str, entry_id: str) -> None:
    """Pick the demo price sensor in the entry's options, through the real options flow."""
    base = "/api/config/config_entries/options/flow"
    flow = request("POST", base, {"handler": entry_id}, token=token)
    steps: list[dict[str, Any]] = [
        {"next_step_id": "price_source"},
        {"price_entity": DEMO_PRICE_ENTITY},
        {"next_step_id": "save"},
    ]
    for body in steps:
        flow = request("POST", f"{base}/{flow['flow_id']}", body, token=token)
        if flow.get("errors"):
            raise SystemExit(f"the options flow refused the demo prices: {flow['errors']}")
    if flow.get("type") != "create_entry":
        raise SystemExit(f"the options flow did not save: {flow}")


def start_fake_enode() -> subprocess.Popen[bytes]:
    """The fake Enode API with a sedan and a hatchback site to link, settling actions in 5 s."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.enode_server",
            "--host",
            HOST,
            "--port",
            str(ENODE_PORT),
            "--client-id",
            ENODE_CLIENT_ID,
            "--client-secret",
            ENODE_CLIENT_SECRET,
        ],
        cwd=REPO,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the fake Enode API exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{ENODE_URL}/health/ready", timeout=5):
                return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the fake Enode API did not start")


def print_enode_help() -> None:
    log("fake Enode API for the Enode config flow (environment: Custom):")
    log(f"  client id:     {ENODE_CLIENT_ID}")
    log(f"  client secret: {ENODE_CLIENT_SECRET}")
    log(f"  base URL:      {ENODE_URL}")
    log(f"  its state:     {ENODE_URL}/_fake/state")


def flow_step(token: str, flow_id: str, body: dict[str, Any] | None = None) -> Any:
    return request("POST", f"/api/config/config_entries/flow/{flow_id}", body or {}, token=token)


def follow_link(link_url: str) -> str:
    """Act as the browser in Enode Link: link the first free device, return the redirect."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{link_url}?autolink=1", timeout=30)
    except urllib.error.HTTPError as err:
        if err.code == 302:
            return str(err.headers["Location"])
        raise
    raise SystemExit("Enode Link did not redirect back")


def ensure_enode_account(token: str) -> None:
    """Walk the Enode config flow like a person would, through the REST API."""
    entries = request("GET", "/api/config/config_entries/entry?domain=ev_flex", token=token)
    if any(entry.get("title") != "Home" for entry in entries):
        return
    log("linking the fake Enode car and charger through the Enode config flow")
    flow = request("POST", "/api/config/config_entries/flow", {"handler": "ev_flex"}, token=token)
    flow_id = flow["flow_id"]
    flow_step(token, flow_id, {"next_step_id": "enode"})
    result = flow_step(
        token,
        flow_id,
        {
            "client_id": ENODE_CLIENT_ID,
            "client_secret": ENODE_CLIENT_SECRET,
            "environment": "custom",
            "custom": {"base_url": ENODE_URL},
        },
    )
    for _ in range(3):
        if result.get("type") == "create_entry":
            return
        if result.get("type") == "external":
            with urllib.request.urlopen(follow_link(result["url"]), timeout=30) as page:
                page.read()
            result = flow_step(token, flow_id)
        elif result.get("type") == "menu":
            result = flow_step(token, flow_id, {"next_step_id": "link_charger"})
        else:
            break
    if result.get("type") != "create_entry":
        raise SystemExit(f"the Enode config flow did not create an entry: {result}")


def ev_flex_states(token: str) -> list[dict[str, Any]]:
    entity_ids = request(
        "POST",
        "/api/template",
        {"template": "{{ integration_entities('ev_flex') | list | to_json }}"},
        token=token,
    )
    return [request("GET", f"/api/states/{entity_id}", token=token) for entity_id in entity_ids]


@dataclass(frozen=True)
class SimulatedVehicle:
    """The simulated car: the start of its entity ids, its device id and its name."""

    entities: str  # e.g. "ev_flex_simulator_sedan_75_kwh", as in sensor.<entities>_range
    device_id: str
    name: str
    entry: str  # e.g. "home", as in sensor.ev_flex_<entry>_import_price


def simulated_vehicle(token: str, states: list[dict[str, Any]]) -> SimulatedVehicle:
    battery = min(
        (
            state["entity_id"]
            for state in states
            if state["entity_id"].endswith("_battery_level") and "simulator" in state["entity_id"]
        ),
        key=len,  # the car's own battery level, not the estimated one
    )
    template = (
        f"{{% set device = device_id('{battery}') %}}"
        "{{ [device, device_attr(device, 'name')] | to_json }}"
    )
    device_id, name = request("POST", "/api/template", {"template": template}, token=token)
    entities = battery.removeprefix("sensor.").removesuffix("_battery_level")
    price = next(
        state["entity_id"] for state in states if state["entity_id"].endswith("_import_price")
    )
    entry = price.removeprefix("sensor.ev_flex_").removesuffix("_import_price")
    return SimulatedVehicle(entities, str(device_id), str(name), entry)


# The smart-charging states on the way from off to following the plan.
UNSETTLED_STATES = frozenset({"disabled", "plan_executing_starting", "plan_executing_stopping"})


def check_smart_charging(token: str, vehicle: SimulatedVehicle) -> None:
    """Ask the running server for a plan (ev_flex.plan_charging) and switch smart charging on."""
    device_id = vehicle.device_id
    answer = request(
        "POST",
        "/api/services/ev_flex/plan_charging?return_response",
        {"device_id": device_id},
        token=token,
    )
    plan = answer["service_response"]["summary"]
    windows = ", ".join(
        f"{window['start'][11:16]}-{window['end'][11:16]}" for window in plan["switch_times"]
    )
    log(
        f"plan_charging: {plan['status']}, charge {windows or 'never'}, "
        f"cost {plan['cost']:.2f} instead of {plan['charge_now_cost']:.2f}"
    )
    switch = f"switch.{vehicle.entities}_smart_charging"
    request("POST", "/api/services/switch/turn_on", {"entity_id": switch}, token=token)
    state_entity = f"sensor.{vehicle.entities}_smart_charging_state"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = request("GET", f"/api/states/{state_entity}", token=token)["state"]
        # Settled: the car has confirmed the first start or stop the plan sent it.
        if state not in UNSETTLED_STATES:
            log(f"smart charging switched on: {state_entity} is {state}")
            return
        time.sleep(1)
    raise SystemExit(f"smart charging did not settle: {state_entity} is {state}")


def readme_dashboard(vehicle: SimulatedVehicle) -> dict[str, Any]:
    """The README's dashboard, for the simulated car."""
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("### Dashboard", 1)[1]
    text = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    text = text.replace("my_car", vehicle.entities).replace("my_entry", vehicle.entry)
    text = text.replace(README_DEVICE_ID, vehicle.device_id)
    dashboard: dict[str, Any] = parse_yaml(text)  # type: ignore[assignment]
    return dashboard


def ensure_dashboard(token: str, vehicle: SimulatedVehicle) -> None:
    """Show the README's dashboard in the sidebar, as it is in the README now."""
    dashboards = asyncio.run(websocket_command(token, {"type": "lovelace/dashboards/list"}))
    if not any(dashboard["url_path"] == DASHBOARD_PATH for dashboard in dashboards):
        create = {
            "type": "lovelace/dashboards/create",
            "url_path": DASHBOARD_PATH,
            "title": "EV Flex",
            "icon": "mdi:car-electric",
            "show_in_sidebar": True,
            "require_admin": False,
            "mode": "storage",
        }
        asyncio.run(websocket_command(token, create))
    save = {
        "type": "lovelace/config/save",
        "url_path": DASHBOARD_PATH,
        "config": readme_dashboard(vehicle),
    }
    asyncio.run(websocket_command(token, save))


async def shoot_dashboard(browser: Browser, width: int, height: int) -> None:
    await browser.set_width(width, height, mobile=width < 600)
    await browser.goto(f"{BASE_URL}/{DASHBOARD_PATH}/car")
    await browser.wait_for_text("Follow the plan")
    # A card with a wrong option shows an error card in its place.
    if await browser.evaluate("!!window.__deepQuery('hui-error-card')"):
        raise BrowserError("the dashboard shows a card error")
    await browser.screenshot(SCREENSHOTS / f"dashboard-{width}.png", full_page=True)


async def log_in(browser: Browser, user: dict[str, str]) -> None:
    """Log in on the real login page and wait until the frontend is past its launch screen."""
    await browser.goto(f"{BASE_URL}/")
    await browser.type_into("input[autocomplete=username]", user["username"])
    await browser.type_into("input[type=password]", user["password"])
    await browser.press_enter()
    # The sidebar appears once the frontend has loaded past its launch screen.
    await browser.wait_for("ha-sidebar", seconds=90)


async def check_frontend(user: dict[str, str], vehicle: SimulatedVehicle) -> None:
    """Log in on the real login page, open the car's device page and the README's dashboard.

    The dashboard is shot at a phone's and a desktop's width into .dev/screenshots.
    """
    async with Browser() as browser:
        await browser.set_width(1280)
        try:
            await log_in(browser, user)
            await browser.goto(f"{BASE_URL}/config/devices/device/{vehicle.device_id}")
            await browser.wait_for_text(vehicle.name)
            await browser.wait_for_text("Smart charging")
            for width, height in ((360, 740), (1280, 900)):
                await shoot_dashboard(browser, width, height)
        except BrowserError:
            shot = DEV_DIR / "check-failure.png"
            await browser.screenshot(shot)
            log(f"the frontend check failed; screenshot in {shot}")
            for line in browser.console[-20:]:
                log(f"  browser: {line}")
            raise
        if problems := browser.failed_commands():
            raise BrowserError("the frontend's calls failed:\n" + "\n".join(problems))
    log(f"frontend: logged in, opened {vehicle.name} and the dashboard (shots in {SCREENSHOTS})")


async def websocket_command(token: str, command: dict[str, Any]) -> Any:
    """One command over Home Assistant's websocket API; its result."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{BASE_URL}/api/websocket") as socket,
    ):
        await socket.receive_json()  # auth_required
        await socket.send_json({"type": "auth", "access_token": token})
        if (await socket.receive_json()).get("type") != "auth_ok":
            raise SystemExit("the websocket API refused the owner's token")
        await socket.send_json({"id": 1, **command})
        answer = await socket.receive_json()
    if not answer.get("success"):
        raise SystemExit(f"{command['type']} failed: {answer.get('error')}")
    return answer["result"]


# Home Assistant warns that a plain Python install (its "Core" method) is deprecated. This
# development server is one by design; the owner has nothing to do about it.
CORE_INSTALL_ISSUE = ("homeassistant", "deprecated_method")


def active_repairs(token: str) -> list[dict[str, Any]]:
    issues = asyncio.run(websocket_command(token, {"type": "repairs/list_issues"}))["issues"]
    return [issue for issue in issues if not issue.get("ignored")]


def ignore_core_install_repair(token: str, deadline: float) -> None:
    """Ignore the Core-install warning, raised shortly after start, once it is there."""
    while time.monotonic() < deadline:
        if any((i["domain"], i["issue_id"]) == CORE_INSTALL_ISSUE for i in active_repairs(token)):
            domain, issue_id = CORE_INSTALL_ISSUE
            command = {"domain": domain, "issue_id": issue_id, "ignore": True}
            asyncio.run(websocket_command(token, {"type": "repairs/ignore_issue", **command}))
            return
        time.sleep(1)


def check_nothing_to_dismiss(token: str) -> None:
    """A fresh start leaves no notification ("Login attempt failed") and no repair."""
    found = asyncio.run(websocket_command(token, {"type": "persistent_notification/get"}))
    if found:
        titles = ", ".join(f"{item['notification_id']}: {item.get('title')}" for item in found)
        raise SystemExit(f"Home Assistant shows notifications: {titles}")
    if repairs := active_repairs(token):
        names = ", ".join(f"{issue['domain']}.{issue['issue_id']}" for issue in repairs)
        raise SystemExit(f"Home Assistant shows repairs: {names}")
    log("notifications and repairs: none")


def is_live(state: dict[str, Any]) -> bool:
    return state["state"] not in ("unavailable", "unknown")


def wait_for_entities(token: str, deadline: float, vehicles: int = 1) -> list[dict[str, Any]]:
    while time.monotonic() < deadline:
        states = ev_flex_states(token)
        batteries = [
            state
            for state in states
            if state["entity_id"].endswith("_battery_level") and is_live(state)
        ]
        if len(batteries) < vehicles:
            time.sleep(1)
            continue
        live = {
            key
            for key in REQUIRED_KEYS
            for state in states
            if state["entity_id"].endswith(f"_{key}") and is_live(state)
        }
        if states and live == set(REQUIRED_KEYS):
            return states
        time.sleep(1)
    raise SystemExit("the EV Flex entities did not become live in time")


def print_states(states: list[dict[str, Any]]) -> None:
    for state in sorted(states, key=lambda state: state["entity_id"]):
        unit = state["attributes"].get("unit_of_measurement", "")
        print(f"  {state['entity_id']:<64} {state['state']} {unit}".rstrip(), flush=True)


def wait_until_running(token: str, deadline: float) -> None:
    """Stopping during start-up makes half-finished setups log noise; wait it out."""
    while time.monotonic() < deadline:
        if request("GET", "/api/config", token=token).get("state") == "RUNNING":
            return
        time.sleep(1)


def stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        # SIGTERM is Home Assistant's graceful stop; SIGINT raises KeyboardInterrupt.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.returncode or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="start, wait until the EV Flex entities are live, print them, stop",
    )
    parser.add_argument(
        "--enode",
        action="store_true",
        help="also start the fake Enode API, to walk the Enode config flow",
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    enode = start_fake_enode() if args.enode else None

    write_configuration()
    user = credentials()
    log(f"starting Home Assistant with config in {CONFIG_DIR}")
    process = subprocess.Popen(
        [sys.executable, "-m", "homeassistant", "-c", str(CONFIG_DIR)],
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + args.timeout
    try:
        wait_for_server(process, deadline)
        token = onboard_or_login(user)
        publish_demo_prices(token)
        ensure_simulated_account(token)
        if enode is not None and args.check:
            ensure_enode_account(token)
        states = wait_for_entities(
            token, deadline, vehicles=2 if enode is not None and args.check else 1
        )
        log("EV Flex entities:")
        print_states(states)
        if args.check:
            vehicle = simulated_vehicle(token, states)
            ensure_dashboard(token, vehicle)
            check_smart_charging(token, vehicle)
            wait_until_running(token, deadline)
            ignore_core_install_repair(token, time.monotonic() + 30)
            asyncio.run(check_frontend(user, vehicle))
            check_nothing_to_dismiss(token)
            log("check passed")
            stop(process)
            return 0
        ensure_dashboard(token, simulated_vehicle(token, states))
        wait_until_running(token, deadline)
        ignore_core_install_repair(token, time.monotonic() + 30)
        if enode is not None:
            print_enode_help()
        log(f"Home Assistant runs at {BASE_URL}")
        log(f"log in as '{user['username']}' with password '{user['password']}'")
        log("press Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            while process.poll() is None:
                # Keep the demo prices current (a new day brings new ones).
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=600)
                if process.poll() is None:
                    # Access tokens last 30 minutes: log in again each time.
                    publish_demo_prices(onboard_or_login(user))
        return 0
    except BaseException:
        stop(process)
        raise
    finally:
        if process.poll() is None:
            stop(process)
        if enode is not None:
            stop(enode)


if __name__ == "__main__":
    sys.exit(main())
