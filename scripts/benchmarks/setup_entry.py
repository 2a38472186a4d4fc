"""How long setting up one simulated account takes, and how much memory it adds.

Runs inside a real (test) Home Assistant instance. The first setup imports the integration and
its platforms; it is reported separately and left out of the median.
"""

import asyncio
import gc
import statistics
import time
import tracemalloc

from homeassistant import loader
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_test_home_assistant

from custom_components.ev_flex.const import (
    ACCOUNT_TYPE_SIMULATOR,
    CONF_ACCOUNT_TYPE,
    CONF_INITIAL_SOC,
    CONF_PLUGGED_IN,
    CONF_VEHICLE_PRESET,
    DOMAIN,
)

RUNS = 30


def _entry(index: int) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Bench {index}",
        unique_id=f"simulator-bench-{index}",
        data={
            CONF_ACCOUNT_TYPE: ACCOUNT_TYPE_SIMULATOR,
            CONF_NAME: f"Bench {index}",
            CONF_VEHICLE_PRESET: "sedan",
            CONF_INITIAL_SOC: 40.0,
            CONF_PLUGGED_IN: True,
        },
    )


async def _set_up(hass: HomeAssistant, index: int) -> tuple[MockConfigEntry, float]:
    entry = _entry(index)
    entry.add_to_hass(hass)
    started = time.perf_counter()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, time.perf_counter() - started


async def _remove(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()


async def main() -> None:
    async with async_test_home_assistant() as hass:
        # Let the loader find custom_components/ in the repository.
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)

        first_entry, first_seconds = await _set_up(hass, 0)
        await _remove(hass, first_entry)

        durations = []
        for index in range(1, RUNS + 1):
            entry, seconds = await _set_up(hass, index)
            durations.append(seconds)
            await _remove(hass, entry)

        gc.collect()
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        entry, _ = await _set_up(hass, RUNS + 1)
        gc.collect()
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        added = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
        await _remove(hass, entry)
        await hass.async_stop(force=True)

    print(f"first setup (imports included): {first_seconds * 1000:.1f} ms")
    print(
        f"setup time, median of {RUNS}: {statistics.median(durations) * 1000:.2f} ms "
        f"(min {min(durations) * 1000:.2f}, max {max(durations) * 1000:.2f})"
    )
    print(f"memory added by one entry: {added / 1024:.1f} KiB")


if __name__ == "__main__":
    asyncio.run(main())
