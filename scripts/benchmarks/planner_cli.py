"""How fast the planner's command-line tool answers, as a user runs it (`scripts/plan`).

Each run is a fresh Python process: `python -m planner` from custom_components/ev_flex/core,
with a request on stdin (a day of real 15-minute day-ahead prices, DK1, Source: Energinet; 75 kWh
at 30 %, 11 kW, 80 % by the end of the day) and the plan read from stdout. The time is wall
time from start to exit, so it includes starting Python and every import. For comparison, the
same request through the integration's package path (`python -m
custom_components.ev_flex.core.planner`), which imports Home Assistant first. The processor time
of each run (user + system) is shown too: on a busy machine wall time also counts the waiting.
"""

from datetime import UTC, datetime, timedelta
import gzip
import json
from pathlib import Path
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "custom_components" / "ev_flex" / "core"
PRICES = REPO / ".." / "shared" / "data" / "prices" / "DK1.csv.gz"
START = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
RUNS = 20
PACKAGE_RUNS = 3
GOAL_S = 0.3


def _request() -> dict[str, Any]:
    prices: list[dict[str, Any]] = []
    with gzip.open(PRICES, "rt") as handle:
        next(handle)
        for line in handle:
            start, end, price, _source = line.strip().split(",")
            begin = datetime.fromisoformat(start)
            if START <= begin < START + timedelta(days=1):
                prices.append({"start": start, "end": end, "import": float(price) / 1000.0})
    prices.sort(key=lambda item: item["start"])
    return {
        "now": START.isoformat(),
        "battery": {"capacity_kwh": 75.0, "soc_pct": 30.0},
        "charge": {"max_kw": 11.0, "efficiency": 0.9},
        "targets": [{"by": (START + timedelta(days=1)).isoformat(), "soc_pct": 80.0}],
        "prices": prices,
    }


def _seconds(command: list[str], cwd: Path, request: str) -> tuple[float, float]:
    """Wall time and processor time of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    begin = time.perf_counter()
    result = subprocess.run(
        command, check=False, cwd=cwd, input=request, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - begin
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0 or json.loads(result.stdout)["status"] != "ok":
        raise SystemExit(f"the planner failed: {result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    request = json.dumps(_request())
    slots = len(json.loads(request)["prices"])
    alone = [_seconds([sys.executable, "-m", "planner"], CORE, request) for _ in range(RUNS)]
    package = [
        _seconds([sys.executable, "-m", "custom_components.ev_flex.core.planner"], REPO, request)
        for _ in range(PACKAGE_RUNS)
    ]
    median = statistics.median(wall for wall, _cpu in alone)
    cpu = statistics.median(cpu for _wall, cpu in alone)
    print(f"request: {slots} slots, charge only")
    print(
        f"scripts/plan (python -m planner): median {median:.3f} s, max "
        f"{max(wall for wall, _cpu in alone):.3f} s over {RUNS} runs, processor time "
        f"{cpu:.3f} s (goal < {GOAL_S} s: {'met' if median < GOAL_S else 'MISSED'})"
    )
    print(
        f"through the integration's package (imports Home Assistant): median "
        f"{statistics.median(wall for wall, _cpu in package):.3f} s, processor time "
        f"{statistics.median(cpu for _wall, cpu in package):.3f} s over {PACKAGE_RUNS} runs"
    )


if __name__ == "__main__":
    main()
