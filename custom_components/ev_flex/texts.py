"""Sentences EV Flex puts into its other translated texts, in the server's language.

Home Assistant fills a text's placeholders with plain text. Where that text is itself a sentence
(why a price entity can't be read, why Link failed), the core gives a stable code and its
technical facts (an entity id, a time, an HTTP status), and the sentence comes from the `common`
texts of the translation files, in the server's language (Settings > System > General). The
notifications EV Flex sends are worded the same way, and option labels (weekdays, months) come
from the `selector` texts.
"""

from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)

from .const import DOMAIN
from .core.account import AccountError
from .core.calendar_departures import CalendarWarning
from .core.enode import EnodeError, LinkFailure, LinkRefused, VendorType
from .core.enode.convert import enode_reason
from .core.model import Reason, ReasonCode
from .core.planner import PlanValidationError
from .core.prices import PriceReadResult, PriceReason

PREFIX = f"component.{DOMAIN}.common."
SELECTOR_PREFIX = f"component.{DOMAIN}.selector."
CATEGORIES = ("common", "selector")
# The error code of a Link the user cancelled: OAuth's access_denied (Enode's reference, 2024-01-01,
# names only the `error` and `error_message` parameters). Other codes show Enode's own words.
LINK_CANCELLED = "access_denied"
# What a fact the text names but the caller doesn't know shows as.
UNKNOWN_FACT = "-"


class _Facts(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return UNKNOWN_FACT


class Texts:
    """EV Flex's `common` and `selector` texts in one language, filled in with facts."""

    def __init__(self, strings: Mapping[str, str]) -> None:
        self._strings = strings

    def __call__(self, key: str, /, **facts: Any) -> str:
        """The text `key` with its facts; the key itself when the language lacks it."""
        template = self._strings.get(f"{PREFIX}{key}")
        if template is None:
            return key
        # tests/test_translations.py holds every language to English's placeholders.
        return template.format_map(_Facts({name: str(v) for name, v in facts.items()}))

    def number(self, value: float, spec: str = "g") -> str:
        """A number as the language writes it: its decimal separator (a comma in most)."""
        separator = self._strings.get(f"{PREFIX}decimal_separator", ".")
        return format(value, spec).replace(".", separator)

    def option(self, selector: str, option: str) -> str:
        """An option's label (a weekday, a month), or the option itself when there is none."""
        return self._strings.get(f"{SELECTOR_PREFIX}{selector}.options.{option}", option)


async def async_texts(hass: HomeAssistant) -> Texts:
    """The texts in the server's language (loaded when they aren't yet)."""
    language = hass.config.language
    strings: dict[str, str] = {}
    for category in CATEGORIES:
        strings |= await async_get_translations(hass, language, category, {DOMAIN})
    return Texts(strings)


@callback
def cached_texts(hass: HomeAssistant) -> Texts:
    """The texts in the server's language, as Home Assistant loaded them for EV Flex's setup."""
    language = hass.config.language
    strings: dict[str, str] = {}
    for category in CATEGORIES:
        strings |= async_get_cached_translations(hass, language, category, DOMAIN)
    return Texts(strings)


async def async_error_words(hass: HomeAssistant, err: HomeAssistantError) -> str:
    """What another integration's error says, in the server's language where that integration
    translates it (Home Assistant words `str(err)` in English)."""
    words = str(err)
    domain, key = err.translation_domain, err.translation_key
    if domain and key:
        strings = await async_get_translations(hass, hass.config.language, "exceptions", {domain})
        template = strings.get(f"component.{domain}.exceptions.{key}.message")
        if template:
            with suppress(KeyError, IndexError, ValueError):
                words = template.format(**(err.translation_placeholders or {}))
    return words.rstrip(".")


def calendar_warning_text(texts: Texts, warning: CalendarWarning) -> str:
    """Why an event sets no departure (or the calendar can't be read), in words."""
    facts = dict(warning.facts)
    if "event" in facts:
        facts["event"] = facts["event"] or texts("calendar_no_title")
    why = texts(f"calendar_{warning.problem.value}", **facts)
    return texts("calendar_ignored", why=why, **facts) if "day" in facts else why


def price_read_text(texts: Texts, result: PriceReadResult) -> str:
    """What a read of a price entity found, in words."""
    facts = dict(result.facts)
    if result.reason is PriceReason.BAD_DATA:
        facts["problem"] = texts(f"price_data_{facts.get('problem', 'layout')}", **facts)
    text = texts(f"price_{result.reason.value}", **facts)
    if "gaps" in facts:
        text = f"{text}; {texts('price_gaps', **facts)}"
    return text


def plan_problem_text(texts: Texts, err: PlanValidationError) -> str:
    """What is wrong with a plan request, in words, after the field it names."""
    return f"{err.field}: {texts(f'plan_{err.code.value}', **err.facts)}"


def reason_text(texts: Texts, reason: Reason) -> str:
    """Why a command or an account failed, in words: the reason it passes on inside, the
    account's own words after a colon."""
    facts = dict(reason.facts)
    words = facts.pop("words", None)
    if reason.code is ReasonCode.WORDS:
        return words or UNKNOWN_FACT
    if "action" in facts:
        facts["action"] = texts(f"command_{facts['action']}")
    if reason.cause is not None:
        facts["reason"] = reason_text(texts, reason.cause)
    text = texts(f"reason_{reason.code.value}", **facts)
    return f"{text}: {words}" if words else text


def enode_error_text(texts: Texts, err: EnodeError) -> str:
    """Why a call to Enode failed, in words; an HTTP answer keeps its status and Enode's words."""
    return reason_text(texts, enode_reason(err))


def account_error_text(texts: Texts, err: AccountError) -> str:
    """Why an account failed, in words."""
    return reason_text(texts, err.reason)


def link_failure_placeholders(
    texts: Texts, linking: VendorType, failure: LinkFailure | None
) -> dict[str, str]:
    """What Link should have linked ("a charger") and why it didn't, for the link_failed step."""
    if failure is None:
        reason = texts("link_nothing")
    elif isinstance(failure, LinkRefused):
        reason = (
            texts("link_cancelled")
            if failure.code == LINK_CANCELLED
            else texts("link_refused", error=failure.words)
        )
    else:
        reason = enode_error_text(texts, failure)
    return {"device": texts(f"link_device_{linking.value}"), "reason": reason}
