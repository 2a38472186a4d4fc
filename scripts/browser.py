"""Drive headless Chromium through the Chrome DevTools Protocol, for scripts/develop --check.

Debian's chromium package is launched with its own headless mode and a fresh profile; the
protocol (Target, Page, Runtime, Input and Emulation domains, as documented for Chromium 156)
is spoken over the browser's websocket with aiohttp, which Home Assistant already brings, so
nothing has to download a browser build or a driver.
"""

import asyncio
import base64
from collections.abc import Awaitable, Callable
import contextlib
import itertools
import json
from pathlib import Path
import re
import shutil
import tempfile
from typing import Any, Self

import aiohttp

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)

# Text of the page, shadow roots included: Home Assistant's frontend lives in web components.
DEEP_TEXT = """
(() => {
  const parts = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { parts.push(node.textContent); return; }
    if (node.nodeName === 'SCRIPT' || node.nodeName === 'STYLE') return;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document);
  return parts.join(' ').replace(/\\s+/g, ' ');
})()
"""

# The first element matching a CSS selector anywhere, shadow roots included.
DEEP_QUERY = """
window.__deepQuery = (selector) => {
  const visit = (root) => {
    const found = root.querySelector(selector);
    if (found) return found;
    for (const element of root.querySelectorAll('*')) {
      if (element.shadowRoot) {
        const inner = visit(element.shadowRoot);
        if (inner) return inner;
      }
    }
    return null;
  };
  return visit(document);
};
"""

# True once the frontend's launch screen has left the document and no view transition (the
# frontend's fade from it to the app) is still animating.
LAUNCH_SCREEN_GONE = """
(() => !document.getElementById('ha-launch-screen') && !document.getAnimations().some(
  (animation) => (animation.effect?.pseudoElement || '').startsWith('::view-transition')))()
"""


# Failed websocket answers that are not faults, as (command, error code); None matches any command.
# A dashboard nobody has edited yet is generated, and the frontend may unsubscribe from a
# subscription that already ended while it navigated.
HARMLESS_FAILURES = frozenset({(None, "config_not_found"), ("unsubscribe_events", "not_found")})


# What Chromium answers to a script or screenshot while the page is being replaced.
NAVIGATION_ERRORS = (
    "Inspected target navigated or closed",
    "Cannot find context with specified id",
    "Execution context was destroyed",
    "Not attached to an active page",
)


class BrowserError(Exception):
    """Chromium failed, or the page did not show what was expected in time."""


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError("no Chromium on PATH (scripts/setup installs it)")


class Browser:
    """One headless Chromium with one page, controlled over the DevTools websocket."""

    def __init__(self) -> None:
        self._profile = tempfile.TemporaryDirectory(
            prefix="ev-flex-chromium-", ignore_cleanup_errors=True
        )
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._page_session = ""
        self.console: list[str] = []
        self._websocket_commands: dict[int, str] = {}
        self._failed_commands: list[str] = []

    async def __aenter__(self) -> Self:
        self._process = await asyncio.create_subprocess_exec(
            chromium_path(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={self._profile.name}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        socket_url = await self._devtools_url()
        self._session = aiohttp.ClientSession()
        self._socket = await self._session.ws_connect(socket_url, max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )
        self._page_session = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Network.enable")
        await self.send("Page.addScriptToEvaluateOnNewDocument", {"source": DEEP_QUERY})
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._reader:
            self._reader.cancel()
        if self._socket:
            await self._socket.close()
        if self._session:
            await self._session.close()
        if self._process and self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        self._profile.cleanup()

    async def _devtools_url(self) -> str:
        assert self._process
        assert self._process.stderr
        seen: list[str] = []
        async with asyncio.timeout(60):
            while line := (await self._process.stderr.readline()).decode(errors="replace"):
                seen.append(line)
                if match := re.search(r"DevTools listening on (ws://\S+)", line):
                    return match.group(1)
        raise BrowserError("Chromium exited before opening DevTools:\n" + "".join(seen[-20:]))

    async def _read(self) -> None:
        assert self._socket
        async for message in self._socket:
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future and not future.done():
                future.set_result(data)
            elif data.get("method") == "Runtime.consoleAPICalled":
                arguments = data["params"].get("args", [])
                words = (str(arg.get("value", arg.get("description", ""))) for arg in arguments)
                self.console.append(f"{data['params']['type']}: {' '.join(words)}")
            elif data.get("method") == "Network.webSocketFrameSent":
                self._note_websocket_command(data["params"]["response"]["payloadData"])
            elif data.get("method") == "Network.webSocketFrameReceived":
                self._note_websocket_failure(data["params"]["response"]["payloadData"])
            elif data.get("method") == "Runtime.exceptionThrown":
                details = data["params"]["exceptionDetails"]
                thrown = details.get("exception", {}).get("description", details.get("text"))
                self.console.append(f"exception: {thrown}")

    def _note_websocket_command(self, payload: str) -> None:
        with contextlib.suppress(ValueError, TypeError, KeyError):
            command = json.loads(payload)
            self._websocket_commands[command["id"]] = command["type"]

    def _note_websocket_failure(self, payload: str) -> None:
        """Home Assistant's websocket API answers a failed command with success false."""
        with contextlib.suppress(ValueError, TypeError):
            answers = json.loads(payload)
            for answer in answers if isinstance(answers, list) else [answers]:
                if answer.get("type") == "result" and answer.get("success") is False:
                    command = self._websocket_commands.get(answer.get("id"), "?")
                    self.console.append(f"websocket command {command} failed: {answer['error']}")
                    code = answer["error"].get("code")
                    if not {(None, code), (command, code)} & HARMLESS_FAILURES:
                        self._failed_commands.append(self.console[-1])

    def failed_commands(self) -> list[str]:
        """The frontend's websocket commands that Home Assistant answered with an error."""
        return list(self._failed_commands)

    async def send(
        self, method: str, params: dict[str, Any] | None = None, page: bool = True
    ) -> dict[str, Any]:
        assert self._socket
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self._page_session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._socket.send_str(json.dumps(message))
        async with asyncio.timeout(60):
            answer = await future
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def evaluate(self, expression: str) -> Any:
        """The script's value. A script cut short by a navigation (the frontend reloads itself
        at times) runs again in the new page, for up to 10 seconds."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        for _ in range(20):
            try:
                answer = await self.send("Runtime.evaluate", params)
                break
            except BrowserError as err:
                if not any(sign in str(err) for sign in NAVIGATION_ERRORS):
                    raise
                await asyncio.sleep(0.5)
        else:
            raise BrowserError("the page kept navigating away while a script ran")
        if "exceptionDetails" in answer:
            raise BrowserError(f"script failed: {answer['exceptionDetails'].get('text')}")
        return answer["result"].get("value")

    async def set_width(self, width: int, height: int = 900, mobile: bool = False) -> None:
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    async def set_dark(self, dark: bool) -> None:
        """Prefer a dark or a light colour scheme, as the system setting does (the frontend's
        default theme follows it)."""
        scheme = {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}
        await self.send("Emulation.setEmulatedMedia", {"features": [scheme]})

    async def set_time_zone(self, zone: str) -> None:
        """Run the page in this IANA time zone, as a browser in that place would."""
        await self.send("Emulation.setTimezoneOverride", {"timezoneId": zone})

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})

    async def text(self) -> str:
        return str(await self.evaluate(DEEP_TEXT))

    async def poll(self, check: Callable[[], Awaitable[bool]], seconds: float) -> bool:
        """Ask check twice a second until it says yes (True) or the time is up (False)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    if await check():
                        return True
                    await asyncio.sleep(0.5)
        return False

    async def wait_for_text(self, needle: str, seconds: float = 60) -> None:
        """Wait until the page's text (shadow roots included) contains needle."""

        async def shown() -> bool:
            return needle in await self.text()

        if not await self.poll(shown, seconds):
            raise BrowserError(f"the page never showed {needle!r}; it shows: {await self._gist()}")

    async def _wait_until(self, expression: str, seconds: float, missing: str) -> None:
        """Wait until a script's value is true; else fail saying what is missing."""

        async def true() -> bool:
            return bool(await self.evaluate(expression))

        if not await self.poll(true, seconds):
            raise BrowserError(f"{missing}; the page shows: {await self._gist()}")

    async def wait_for(self, selector: str, seconds: float = 60) -> None:
        """Wait until an element matching selector exists, shadow roots included."""
        probe = f"!!window.__deepQuery({json.dumps(selector)})"
        await self._wait_until(probe, seconds, f"no {selector!r} appeared")

    async def wait_for_launch_screen_gone(self, seconds: float = 60) -> None:
        """Wait until Home Assistant's launch screen (logo and "Loading…") has faded out and left
        the document, view transition included, so it is not drawn over what a shot shows.

        Follows the frontend's removeLaunchScreen (home-assistant/frontend 2026): it removes
        #ha-launch-screen after a fade-out or inside a view transition."""
        await self._wait_until(LAUNCH_SCREEN_GONE, seconds, "the launch screen never went away")

    async def _gist(self) -> str:
        return repr((await self.text())[:600])

    async def type_into(self, selector: str, text: str) -> None:
        """Type text into the field matching selector (shadow roots included), replacing it."""
        await self.wait_for(selector)
        field = f"window.__deepQuery({json.dumps(selector)})"
        await self.evaluate(f"{field}.focus(); {field}.select && {field}.select()")
        await self.send("Input.insertText", {"text": text})

    async def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send(
                "Input.dispatchKeyEvent",
                {
                    "type": kind,
                    "key": "Enter",
                    "code": "Enter",
                    "windowsVirtualKeyCode": 13,
                    "text": "\r" if kind == "keyDown" else "",
                },
            )

    async def screenshot(
        self, path: Path, full_page: bool = False, element: str | None = None
    ) -> None:
        """The viewport, the whole page, or the box of the element matching a CSS selector
        (shadow roots included)."""
        params: dict[str, Any] = {"format": "png"}
        if element is not None:
            box = await self.evaluate(
                f"(() => {{ const r = window.__deepQuery({json.dumps(element)})"
                ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()"
            )
            x, y, width, height = box
            params["captureBeyondViewport"] = True
            params["clip"] = {"x": x, "y": y, "width": width, "height": height, "scale": 1}
        elif full_page:
            params["captureBeyondViewport"] = True
            metrics = await self.send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
        shot = await self.send("Page.captureScreenshot", params)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
