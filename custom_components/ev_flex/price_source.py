"""Prices in Home Assistant: read the user's price entity, apply the tariff, keep it current.

The HA-free core (`core.prices`, `core.tariff`) does the reading and the arithmetic; this module
feeds it. `PriceEntityReader` turns a price entity into a `PriceEntitySnapshot` (state, attributes
and entity registry platform), calls the price integration's response-only action when the core
asks for one, and normalises. `PriceCoordinator` keeps the priced series of one config entry:
it follows the price entity (state changes are pushed), wakes up at the next slot boundary and at
local midnight, and never polls. Problems with the price entity become repair issues; the rest of
EV Flex keeps working without prices.
"""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import (
    CALLBACK_TYPE,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util
import probatio

from .const import DOMAIN, LOGGER
from .coordinator import EvFlexConfigEntry
from .core.prices import (
    ACTION_AMBER_FORECASTS,
    ACTION_EASYENERGY_RETURN,
    ACTION_EASYENERGY_USAGE,
    ACTION_ENERGYZERO_PRICES,
    ACTION_ENTSOE_PRICES,
    ACTION_NORDPOOL_PRICES,
    ACTION_TIBBER_PRICES,
    ActionResponse,
    PriceEntitySnapshot,
    PriceFormat,
    PriceReadResult,
    PriceReason,
    PriceSeries,
    PriceStatus,
    detect_format,
    next_slot_boundary,
    normalise_prices,
    required_action,
)
from .core.tariff import (
    ExportKind,
    PricedSlot,
    Tariff,
    TariffError,
    apply_tariff,
    priced_slot_at,
)
from .texts import async_error_words, cached_texts, price_read_text

# Config entry options written by the options flow.
CONF_PRICE_ENTITY: Final = "price_entity"
CONF_TARIFF: Final = "tariff"

# Entity domains that can carry prices: sensors, and Octopus Energy's rate event entities.
PRICE_ENTITY_DOMAINS: Final = ("sensor", "event")

# Nord Pool's delivery days run from midnight to midnight Central European time.
NORD_POOL_DELIVERY_ZONE: Final = ZoneInfo("Europe/Oslo")

# EnergyZero's and easyEnergy's actions: whole days, with or without VAT.
WHOLE_DAY_ACTIONS: Final = (
    ACTION_ENERGYZERO_PRICES,
    ACTION_EASYENERGY_USAGE,
    ACTION_EASYENERGY_RETURN,
)

# Amber Electric's price channels (amberelectric/services.py at 058a67d).
AMBER_CHANNELS: Final = ("general", "controlled_load", "feed_in")

# A price action that takes longer than this is treated as failed; the last data is kept.
ACTION_TIMEOUT: Final = timedelta(seconds=30)
# Actions are not asked again sooner than this, even when the entity changes often.
MIN_REFETCH_INTERVAL: Final = timedelta(minutes=5)

ISSUE_ENTITY_MISSING: Final = "price_entity_missing"
ISSUE_ENTITY_UNREADABLE: Final = "price_entity_unreadable"

_USABLE = (PriceStatus.OK, PriceStatus.AWAITING)


def _action_failed(action: str, error: str) -> PriceActionError:
    """The action's own error text is the other integration's, shown as it is."""
    return PriceActionError(
        PriceReason.ACTION_FAILED, f"{action} failed: {error}", action=action, error=error
    )


class PriceActionError(Exception):
    """A price integration's action could not be called or failed.

    The English message is for the log; `reason` and `facts` word it in the user's language.
    """

    def __init__(self, reason: PriceReason, message: str, **facts: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.facts = facts


@dataclass(frozen=True, kw_only=True)
class EntityRead:
    """The outcome of reading one price entity in Home Assistant."""

    entity_id: str
    result: PriceReadResult
    # False when the entity has neither a state nor an entity registry entry.
    exists: bool
    # Why the price action failed, when the entity needs one and it did.
    action_error: str | None = None

    @property
    def usable(self) -> bool:
        return self.result.usable


def _local_midnight(day: date) -> datetime:
    return dt_util.start_of_local_day(day)


def nord_pool_delivery_days(today: date) -> list[date]:
    """The Nord Pool delivery days (CET) that the user's local today and tomorrow overlap.

    East of CET (Finland, the Baltics) the local day starts at 23:00 CET of the day before; west
    of it the local tomorrow ends in the delivery day after.
    """
    first = _local_midnight(today).astimezone(NORD_POOL_DELIVERY_ZONE).date()
    end = _local_midnight(today + timedelta(days=2)) - timedelta(microseconds=1)
    last = end.astimezone(NORD_POOL_DELIVERY_ZONE).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def entsoe_window(today: date) -> dict[str, str]:
    """Whole local days that Entso-e answers from its own cache: today and tomorrow.

    Its cache (coordinator.py at 557010f) groups hours by the date of their label, and labels the
    last hour of a 25-hour day with the next day's date; a 25-hour tomorrow needs that day too.
    """
    tomorrow = today + timedelta(days=1)
    day_after = tomorrow + timedelta(days=1)
    # In UTC: subtracting two times of one zone would give the wall-clock difference.
    length = dt_util.as_utc(_local_midnight(day_after)) - dt_util.as_utc(_local_midnight(tomorrow))
    last = day_after if length > timedelta(hours=24) else tomorrow
    return {"start": _local_midnight(today).isoformat(), "end": _local_midnight(last).isoformat()}


def _area_from_responses(
    action: str, responses: tuple[ActionResponse, ...], guess: str | None
) -> str | None:
    """The area/home key to read: the guess when present, else the only key, else the guess.

    Leaving a wrong guess in place lets the core name the choices in its error message.
    """
    keys: set[str] = set()
    for response in responses:
        body: Any = response.response
        if action == ACTION_TIBBER_PRICES:
            body = body.get("prices")
        if isinstance(body, Mapping):
            keys.update(str(key) for key in body)
    if guess is not None and guess in keys:
        return guess
    if len(keys) == 1:
        return None
    return guess


class PriceEntityReader:
    """Reads one price entity, fetching its integration's action when it has no price lists.

    Action responses are kept and reused until a new fetch is due: on a new local day, or while
    the last read was not complete (tomorrow not yet published, or a failure), at most once per
    `MIN_REFETCH_INTERVAL`. So a Nord Pool sensor that changes every 15 minutes does not cause two
    network calls every 15 minutes once tomorrow's prices are known.
    """

    def __init__(self, hass: HomeAssistant, entity_id: str) -> None:
        """Read `entity_id`."""
        self.hass = hass
        self.entity_id = entity_id
        self._responses: tuple[ActionResponse, ...] = ()
        self._fetched_at: datetime | None = None
        self._complete = False

    def _snapshot(self, registry_entry: er.RegistryEntry | None) -> PriceEntitySnapshot | None:
        state = self.hass.states.get(self.entity_id)
        if state is None:
            return None
        platform = registry_entry.platform if registry_entry is not None else None
        related: tuple[PriceEntitySnapshot, ...] = ()
        if self.entity_id.endswith("_current_day_rates"):
            # Octopus Energy publishes tomorrow's rates on a sibling event entity.
            sibling_id = self.entity_id.removesuffix("_current_day_rates") + "_next_day_rates"
            if (sibling := self.hass.states.get(sibling_id)) is not None:
                related = (
                    PriceEntitySnapshot(
                        entity_id=sibling_id,
                        state=sibling.state,
                        attributes=sibling.attributes,
                        platform=platform,
                    ),
                )
        return PriceEntitySnapshot(
            entity_id=self.entity_id,
            state=state.state,
            attributes=state.attributes,
            platform=platform,
            related=related,
            unique_id=registry_entry.unique_id if registry_entry is not None else None,
        )

    def _area_guess(self, registry_entry: er.RegistryEntry, action: str) -> str | None:
        """The Nord Pool area or Tibber home this entity is about, for entries with several."""
        if action == ACTION_NORDPOOL_PRICES and registry_entry.unique_id:
            # Core Nord Pool sensors have unique ids like "SE3-current_price".
            return registry_entry.unique_id.partition("-")[0]
        if action == ACTION_TIBBER_PRICES:
            state = self.hass.states.get(self.entity_id)
            nickname = state.attributes.get("app_nickname") if state is not None else None
            if isinstance(nickname, str) and nickname:
                return nickname
            if registry_entry.device_id is not None:
                device = dr.async_get(self.hass).async_get(registry_entry.device_id)
                if device is not None and device.name:
                    return device.name
        return None

    def _read_sibling_lists(
        self, registry_entry: er.RegistryEntry, tz: tzinfo, now: datetime
    ) -> PriceReadResult | None:
        """When the action failed: the price lists of another entity of the same entry.

        Entso-e's current-price sensor has no lists, but its average-price sensor does; reading
        them keeps prices while the action (or the ENTSO-e service behind it) is failing.
        """
        if registry_entry.config_entry_id is None:
            return None
        registry = er.async_get(self.hass)
        for sibling in er.async_entries_for_config_entry(registry, registry_entry.config_entry_id):
            state = self.hass.states.get(sibling.entity_id)
            if sibling.entity_id == self.entity_id or state is None:
                continue
            snapshot = PriceEntitySnapshot(
                entity_id=self.entity_id, state=state.state, attributes=state.attributes
            )
            if detect_format(snapshot) is None:
                continue
            result = normalise_prices(snapshot, tz, now)
            if result.usable:
                LOGGER.debug("%s: prices read from %s", self.entity_id, sibling.entity_id)
                return result
        return None

    def _fetch_due(self, now: datetime) -> bool:
        if self._fetched_at is None:
            return True
        if dt_util.as_local(self._fetched_at).date() != dt_util.as_local(now).date():
            return True
        return not self._complete and now - self._fetched_at >= MIN_REFETCH_INTERVAL

    async def _call(self, action: str, data: dict[str, Any]) -> Mapping[str, Any]:
        domain, _, service = action.partition(".")
        try:
            async with asyncio.timeout(ACTION_TIMEOUT.total_seconds()):
                response = await self.hass.services.async_call(
                    domain, service, data, blocking=True, return_response=True
                )
        except TimeoutError as err:
            raise PriceActionError(
                PriceReason.ACTION_TIMEOUT, f"{action} did not answer in time", action=action
            ) from err
        except HomeAssistantError as err:
            # In the server's language where the integration translates its error.
            raise _action_failed(action, await async_error_words(self.hass, err)) from err
        except probatio.Invalid as err:
            raise _action_failed(action, str(err)) from err
        except Exception as err:
            # Another integration's bug must not stop EV Flex: it means "no prices" here.
            LOGGER.debug("%s raised unexpectedly", action, exc_info=True)
            raise _action_failed(action, f"{type(err).__name__}: {err}") from err
        return response or {}

    async def _fetch(
        self, action: str, registry_entry: er.RegistryEntry, now: datetime
    ) -> tuple[ActionResponse, ...]:
        today = dt_util.as_local(now).date()
        if action == ACTION_TIBBER_PRICES:
            window = {
                "start": _local_midnight(today).isoformat(),
                "end": _local_midnight(today + timedelta(days=2)).isoformat(),
            }
            return (ActionResponse(action, await self._call(action, window)),)
        config_entry_id = registry_entry.config_entry_id
        if config_entry_id is None:
            raise PriceActionError(
                PriceReason.ACTION_NO_ENTRY,
                f"{self.entity_id} belongs to no config entry, so {action} cannot be asked",
                action=action,
            )
        if action == ACTION_ENTSOE_PRICES:
            data = {"config_entry": config_entry_id, **entsoe_window(today)}
            return (ActionResponse(action, await self._call(action, data)),)
        if action == ACTION_AMBER_FORECASTS:
            channel = {
                "site_id": config_entry_id,
                "channel_type": self._amber_channel(registry_entry),
            }
            return (ActionResponse(action, await self._call(action, channel)),)
        if action in WHOLE_DAY_ACTIONS:
            # They read only the dates of start and end; EV Flex applies the VAT itself.
            whole_days: dict[str, Any] = {
                "config_entry": config_entry_id,
                "incl_vat": False,
                "start": _local_midnight(today).isoformat(),
                "end": _local_midnight(today + timedelta(days=1)).isoformat(),
            }
            return (ActionResponse(action, await self._call(action, whole_days)),)
        return await self._fetch_delivery_days(action, config_entry_id, today, now)

    def _amber_channel(self, registry_entry: er.RegistryEntry) -> str:
        """Amber's channel: the sensor's attribute, else its unique id "<site>-<kind>-<channel>"."""
        state = self.hass.states.get(self.entity_id)
        channel = state.attributes.get("channel_type") if state is not None else None
        if channel in AMBER_CHANNELS:
            return str(channel)
        suffix = (registry_entry.unique_id or "").rsplit("-", 1)[-1]
        return suffix if suffix in AMBER_CHANNELS else "general"

    async def _fetch_delivery_days(
        self, action: str, config_entry_id: str, today: date, now: datetime
    ) -> tuple[ActionResponse, ...]:
        """Core Nord Pool: one call per CET delivery day that the local today or tomorrow touch.

        Only the delivery day running now must answer; the others (tomorrow not yet published,
        or the previous day that covers the first local hour east of CET) are asked again later.
        """
        current_day = now.astimezone(NORD_POOL_DELIVERY_ZONE).date()
        responses: list[ActionResponse] = []
        for day in nord_pool_delivery_days(today):
            data = {"config_entry": config_entry_id, "date": str(day)}
            try:
                responses.append(ActionResponse(action, await self._call(action, data)))
            except PriceActionError as err:
                if day == current_day:
                    raise
                LOGGER.debug(
                    "%s: prices for delivery day %s not fetched: %s", self.entity_id, day, err
                )
        return tuple(responses)

    async def async_read(self, now: datetime, tz: tzinfo) -> EntityRead:
        """Read the entity now. Never raises for bad or missing price data."""
        registry_entry = er.async_get(self.hass).async_get(self.entity_id)
        snapshot = self._snapshot(registry_entry)
        if snapshot is None:
            # A disabled entity has a registry entry but will never have prices again.
            exists = registry_entry is not None and not registry_entry.disabled
            if exists:
                reason, message = PriceReason.NO_STATE, f"{self.entity_id} has no state yet"
            elif registry_entry is not None:
                reason, message = PriceReason.DISABLED, f"{self.entity_id} is disabled"
            else:
                reason, message = PriceReason.MISSING, f"{self.entity_id} does not exist"
            return EntityRead(
                entity_id=self.entity_id,
                exists=exists,
                result=PriceReadResult(
                    entity_id=self.entity_id,
                    status=PriceStatus.NO_PRICES,
                    message=message,
                    reason=reason,
                    facts={"entity_id": self.entity_id},
                ),
            )
        action = required_action(snapshot)
        action_error: PriceActionError | None = None
        # Actions are named by the registry platform, so an action implies a registry entry.
        if (
            action is not None
            and registry_entry is not None
            and snapshot.state != STATE_UNAVAILABLE
        ):
            if self._fetch_due(now):
                try:
                    self._responses = await self._fetch(action, registry_entry, now)
                except PriceActionError as err:
                    action_error = err
                self._fetched_at = now
            snapshot = replace(
                snapshot,
                action_responses=self._responses,
                area=_area_from_responses(
                    action, self._responses, self._area_guess(registry_entry, action)
                ),
            )
        result = normalise_prices(snapshot, tz, now)
        if action_error is not None and registry_entry is not None:
            result = self._read_sibling_lists(registry_entry, tz, now) or result
        if action_error is not None and not result.usable:
            result = PriceReadResult(
                entity_id=self.entity_id,
                status=PriceStatus.NO_PRICES,
                message=f"{self.entity_id}: {action_error}",
                reason=action_error.reason,
                facts={"entity_id": self.entity_id, **action_error.facts},
                source_format=result.source_format,
            )
        # Complete means through the end of local tomorrow; east of CET today's delivery day
        # already reaches into tomorrow. After a failed action, ask again soon in any case.
        series = result.series
        self._complete = (
            result.status is PriceStatus.OK
            and series is not None
            and not series.ends_early
            and action_error is None
        )
        return EntityRead(
            entity_id=self.entity_id,
            result=result,
            exists=True,
            action_error=str(action_error) if action_error is not None else None,
        )


async def async_read_price_entity(hass: HomeAssistant, entity_id: str) -> EntityRead:
    """Read a price entity once, for example to check it in the options flow."""
    return await PriceEntityReader(hass, entity_id).async_read(
        dt_util.utcnow(), dt_util.get_default_time_zone()
    )


def tariff_from_options(options: Mapping[str, Any]) -> Tariff:
    """The tariff stored in the entry options; the plain default if it is missing or broken."""
    try:
        return Tariff.from_dict(options.get(CONF_TARIFF) or {})
    except TariffError as err:
        LOGGER.warning("Stored tariff is invalid (%s); prices are shown without fees", err)
        return Tariff()


@dataclass(frozen=True, kw_only=True)
class PriceData:
    """The prices of one config entry at one moment: what the controller and the sensors read."""

    status: PriceStatus
    message: str
    price_entity: str
    source_format: PriceFormat | None
    # ISO currency code, from the price entity or else Home Assistant's configured currency.
    currency: str
    series: PriceSeries | None
    # Every slot of the series with the tariff applied (import, and export when configured).
    priced: tuple[PricedSlot, ...]
    export_kind: ExportKind
    # Only for the "another price entity" export kind: how reading that entity went.
    export_status: PriceStatus | None = None
    export_message: str | None = None

    @property
    def usable(self) -> bool:
        """True when the planner can work with the prices (possibly awaiting tomorrow)."""
        return self.status in _USABLE and bool(self.priced)

    @property
    def awaiting_tomorrow(self) -> bool:
        return self.series is not None and self.series.awaiting_tomorrow

    def slot_at(self, moment: datetime) -> PricedSlot | None:
        """The priced slot containing `moment`, or None (gap, outside the series, unusable)."""
        if not self.usable:
            return None
        return priced_slot_at(self.priced, moment)


class PriceCoordinator(DataUpdateCoordinator[PriceData]):
    """Keeps the priced series of one config entry current, following the price entity."""

    config_entry: EvFlexConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: EvFlexConfigEntry, price_entity: str, tariff: Tariff
    ) -> None:
        """Follow `price_entity` and price it with `tariff`."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} prices {entry.title}",
            # No polling: the price entity pushes, and slot boundaries are timed exactly.
            update_interval=None,
        )
        self.tariff = tariff
        self.import_reader = PriceEntityReader(hass, price_entity)
        export = tariff.export_tariff
        self.export_reader = (
            PriceEntityReader(hass, export.entity_id)
            if export.kind is ExportKind.ENTITY and export.entity_id is not None
            else None
        )
        self._lock = asyncio.Lock()
        # A read is queued and has not looked at the price entity yet: later changes join it.
        self._push_queued = False
        self._unsub_timer: CALLBACK_TYPE | None = None
        self.next_refresh: datetime | None = None

    @property
    def price_entity(self) -> str:
        return self.import_reader.entity_id

    @property
    def watched_entities(self) -> list[str]:
        """The entities whose state changes trigger a new read."""
        entities = [self.import_reader.entity_id]
        if self.export_reader is not None:
            entities.append(self.export_reader.entity_id)
        state_id = self.import_reader.entity_id
        if state_id.endswith("_current_day_rates"):
            entities.append(state_id.removesuffix("_current_day_rates") + "_next_day_rates")
        return entities

    # ----------------------------------------------------------------------------------------
    # Public API for the controller and the entities (data is set before setup finishes)

    @property
    def status(self) -> PriceStatus:
        """ok / awaiting / no_prices / stale / invalid."""
        return self.data.status

    @property
    def priced_slots(self) -> tuple[PricedSlot, ...]:
        """Every known slot with import (and export) prices; empty without usable prices."""
        return self.data.priced if self.data.usable else ()

    # ----------------------------------------------------------------------------------------
    # Lifecycle

    async def async_start(self) -> None:
        """Read the prices now and start following the price entity."""
        self.async_set_updated_data(await self._async_update_data())
        entry = self.config_entry
        entry.async_on_unload(
            async_track_state_change_event(
                self.hass, self.watched_entities, self._handle_state_change
            )
        )
        if self.hass.state is not CoreState.running:
            # A price entity missing at start-up may just not be loaded yet: look again later.
            entry.async_on_unload(async_at_started(self.hass, self._handle_started))
        entry.async_on_unload(self._cancel_timer)

    async def async_shutdown(self) -> None:
        """Stop timers; repair issues go with the entry (they are raised again on setup)."""
        await super().async_shutdown()
        self._cancel_timer()
        for role in ("import", "export"):
            for issue in (ISSUE_ENTITY_MISSING, ISSUE_ENTITY_UNREADABLE):
                ir.async_delete_issue(self.hass, DOMAIN, self._issue_id(issue, role))

    @callback
    def _cancel_timer(self) -> None:
        if self._unsub_timer is not None:
            self._unsub_timer()
            self._unsub_timer = None
        self.next_refresh = None

    @callback
    def _handle_state_change(self, event: Event[EventStateChangedData]) -> None:
        self._schedule_push()

    async def _handle_started(self, hass: HomeAssistant) -> None:
        await self._async_push()

    @callback
    def _handle_timer(self, now: datetime) -> None:
        self._unsub_timer = None
        self._schedule_push()

    @callback
    def _schedule_push(self) -> None:
        """Read again soon; a burst of changes before that read starts makes only one read."""
        if self._push_queued:
            return
        self._push_queued = True
        # Not eager: the read starts after the changes already queued in this loop iteration.
        self.config_entry.async_create_task(
            self.hass,
            self._async_push(),
            f"{DOMAIN} price update {self.price_entity}",
            eager_start=False,
        )

    async def _async_push(self) -> None:
        if self._shutdown_requested:
            # Queued before the entry unloaded: nothing is listening any more.
            return
        self.async_set_updated_data(await self._async_update_data())

    # ----------------------------------------------------------------------------------------
    # Reading

    async def _async_update_data(self) -> PriceData:
        async with self._lock:
            # From here on the entity's latest state is read; a change after this reads again.
            self._push_queued = False
            now = dt_util.utcnow()
            tz = dt_util.get_default_time_zone()
            imported = await self.import_reader.async_read(now, tz)
            self._update_issues("import", imported)
            exported: EntityRead | None = None
            if self.export_reader is not None:
                exported = await self.export_reader.async_read(now, tz)
                self._update_issues("export", exported)
            data = self._build(imported, exported, tz)
            self._schedule_timer(data, exported, now)
            return data

    def _build(self, imported: EntityRead, exported: EntityRead | None, tz: tzinfo) -> PriceData:
        result = imported.result
        series = result.series
        export_series = exported.result.series if exported is not None and exported.usable else None
        priced = apply_tariff(series, self.tariff, tz, export_series) if series is not None else ()
        currency = (
            series.currency if series is not None and series.currency else self.hass.config.currency
        )
        return PriceData(
            status=result.status,
            message=result.message,
            price_entity=self.price_entity,
            source_format=result.source_format,
            currency=currency,
            series=series,
            priced=priced,
            export_kind=self.tariff.export_tariff.kind,
            export_status=exported.result.status if exported is not None else None,
            export_message=exported.result.message if exported is not None else None,
        )

    def _schedule_timer(self, data: PriceData, exported: EntityRead | None, now: datetime) -> None:
        """Wake up when the current price changes, and at local midnight (the day rolls over)."""
        self._cancel_timer()
        candidates = [
            dt_util.as_utc(_local_midnight(dt_util.as_local(now).date() + timedelta(days=1)))
        ]
        for series in (data.series, exported.result.series if exported is not None else None):
            if series is not None and (boundary := next_slot_boundary(series, now)) is not None:
                candidates.append(boundary)
        self.next_refresh = min(candidates)
        self._unsub_timer = async_track_point_in_utc_time(
            self.hass, self._handle_timer, self.next_refresh
        )

    # ----------------------------------------------------------------------------------------
    # Repairs

    def _issue_id(self, issue: str, role: str) -> str:
        return f"{issue}_{self.config_entry.entry_id}_{role}"

    def _update_issues(self, role: str, read: EntityRead) -> None:
        """Raise an issue for a vanished or unreadable entity; delete it once that is over."""
        placeholders = {
            "entity_id": read.entity_id,
            "entry_title": self.config_entry.title,
            "details": price_read_text(cached_texts(self.hass), read.result),
        }
        # At start-up the price integration may load after EV Flex; only judge once running.
        missing = not read.exists and self.hass.state is CoreState.running
        unreadable = read.result.status is PriceStatus.INVALID
        for issue, active in (
            (ISSUE_ENTITY_MISSING, missing),
            (ISSUE_ENTITY_UNREADABLE, unreadable),
        ):
            issue_id = self._issue_id(issue, role)
            if active:
                ir.async_create_issue(
                    self.hass,
                    DOMAIN,
                    issue_id,
                    is_fixable=False,
                    severity=ir.IssueSeverity.WARNING,
                    translation_key=f"{issue}_{role}",
                    translation_placeholders=placeholders,
                )
            else:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id)


async def async_setup_prices(
    hass: HomeAssistant, entry: EvFlexConfigEntry
) -> PriceCoordinator | None:
    """Start the price source of an entry, or None when no price entity is configured."""
    price_entity = entry.options.get(CONF_PRICE_ENTITY)
    if not price_entity:
        return None
    coordinator = PriceCoordinator(hass, entry, price_entity, tariff_from_options(entry.options))
    await coordinator.async_start()
    return coordinator
