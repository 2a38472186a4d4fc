"""The base-load profile and the month's peak, learned from the recorder's statistics."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import async_import_statistics
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.ev_flex.const import DOMAIN

TZ_NAME = "Europe/Oslo"
TZ = ZoneInfo(TZ_NAME)
START = datetime(2026, 6, 16, 18, 0, tzinfo=TZ)
HOUSE = "sensor.house_power"
PV = "sensor.pv_power"
PEAK = "sensor.ev_flex_garage_house_expected_peak_this_month"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder first (it must start before Home Assistant), then EV Flex."""


async def settle(hass: HomeAssistant) -> None:
    for _ in range(3):
        await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _hourly(days: int, kw_at: Any) -> list[StatisticData]:
    """Hourly statistics rows for the days before START (local hours)."""
    first = (START - timedelta(days=days)).replace(hour=0)
    return [
        StatisticData(start=hour, mean=kw_at(hour), min=0.0, max=10.0)
        for index in range(days * 24)
        if (hour := first + timedelta(hours=index)) < START.replace(minute=0)
    ]


def _metadata(entity_id: str) -> StatisticMetaData:
    return StatisticMetaData(
        has_mean=True,
        mean_type=StatisticMeanType.ARITHMETIC,
        has_sum=False,
        name=None,
        source="recorder",
        statistic_id=entity_id,
        unit_class="power",
        unit_of_measurement="kW",
    )


async def test_base_load_is_learned_from_the_recorder(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulator_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A grid meter with solar: the house's own load is the meter plus production; the
    month's peak is the highest hourly import this month."""

    def meter(hour: datetime) -> float:
        local = hour.astimezone(TZ)
        if local.date() == datetime(2026, 6, 3).date() and local.hour == 19:
            return 6.5  # the month's peak so far
        return 3.0 if local.hour == 18 else 0.5 - (1.0 if 11 <= local.hour < 15 else 0.0)

    def pv(hour: datetime) -> float:
        return 1.5 if 11 <= hour.astimezone(TZ).hour < 15 else 0.0

    freezer.move_to(START)
    await hass.config.async_set_time_zone(TZ_NAME)
    async_import_statistics(hass, _metadata(HOUSE), _hourly(21, meter))
    async_import_statistics(hass, _metadata(PV), _hourly(21, pv))
    await async_wait_recording_done(hass)
    hass.states.async_set(HOUSE, "1.0", {"unit_of_measurement": "kW"})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=simulator_entry.title,
        unique_id=simulator_entry.unique_id,
        data=dict(simulator_entry.data),
        options={"site": {"house_entity": HOUSE, "solar_entity": PV, "fuse_a": 25}},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)

    site = entry.runtime_data.site
    assert site is not None
    tuesday = START.replace(hour=18)
    assert site.profile.expected_kw(tuesday, TZ) == pytest.approx(3.0)
    # At noon the meter shows -0.5 kW while the panels make 1.5 kW: the house uses 1 kW.
    assert site.profile.expected_kw(tuesday.replace(hour=12), TZ) == pytest.approx(1.0)
    peak = hass.states.get(PEAK)
    assert float(peak.state) == pytest.approx(6.5)

    # Learned once a day; what was learned survives a restart without the recorder asking.
    assert site.profile_learned_at == dt_util.utcnow()
    freezer.tick(timedelta(days=1))
    async_fire_time_changed(hass)
    await settle(hass)
    assert site.profile_learned_at == dt_util.utcnow()
