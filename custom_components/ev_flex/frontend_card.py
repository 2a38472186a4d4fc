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

from .const import DOMAIN, LOGGER

CARD_FILE = Path(__file__).parent / "frontend" / "ev-flex-card.js"
CARD_URL = f"/{DOMAIN}/ev-flex-card.js"


def _card_version(card: Path) -> str | None:
    """A short hash of the card's module; None when it cannot be read."""
    try:
        return hashlib.sha256(card.read_bytes()).hexdigest()[:12]
    except OSError:
        return None


async def async_register_card(hass: HomeAssistant, card: Path = CARD_FILE) -> None:
    """Serve the card and load it with the frontend (once per start, from async_setup).

    An install that lost the module (a partial copy) still sets up; only the card is missing.
    """
    version = await hass.async_add_executor_job(_card_version, card)
    if version is None:
        LOGGER.warning("The EV Flex card is missing from %s; reinstall EV Flex to get it", card)
        return
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_URL, str(card), cache_headers=True)]
    )
    # The frontend is set up first when it is there at all (after_dependencies); without it
    # there are no dashboards to show the card on.
    if "frontend" in hass.config.components:
        add_extra_js_url(hass, f"{CARD_URL}?v={version}")
