"""Serves the EV Flex card and adds it to every dashboard, so it needs no install of its own.

The card is one module in frontend/, built from the repository's frontend/ sources. Its URL
carries a hash of its content: browsers keep static files for a month, and a new version of
the card must not wait for that.
"""

import hashlib
from pathlib import Path

from homeassistant.components.frontend import add_extra_js_url
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .const import DOMAIN

CARD_FILE = Path(__file__).parent / "frontend" / "ev-flex-card.js"
CARD_URL = f"/{DOMAIN}/ev-flex-card.js"


def _card_version() -> str:
    return hashlib.sha256(CARD_FILE.read_bytes()).hexdigest()[:12]


async def async_register_card(hass: HomeAssistant) -> None:
    """Serve the card and load it with the frontend (once per start, from async_setup)."""
    version = await hass.async_add_executor_job(_card_version)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(CARD_FILE), cache_headers=True)]
    )
    # The frontend is set up first when it is there at all (after_dependencies); without it
    # there are no dashboards to show the card on.
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, f"{CARD_URL}?v={version}")
