"""The planner's command-line tool runs the planner package on its own, without Home Assistant.

`scripts/plan` runs `python -m planner` from custom_components/ev_flex/core; this runs the same
command and reads what Python imported (`-X importtime` lists every module on stderr).
"""

import json
from pathlib import Path
import subprocess
import sys

from custom_components.ev_flex import core

CORE = Path(core.__file__).parent
REQUEST = {
    "now": "2026-01-13T18:00:00+01:00",
    "battery": {"capacity_kwh": 75, "soc_pct": 36},
    "charge": {"max_kw": 11, "efficiency": 0.9},
    "targets": [{"by": "2026-01-14T07:00:00+01:00", "soc_pct": 80}],
    "prices": [
        {"start": "2026-01-13T18:00:00+01:00", "end": "2026-01-13T23:00:00+01:00", "import": 0.4},
        {"start": "2026-01-13T23:00:00+01:00", "end": "2026-01-14T07:00:00+01:00", "import": 0.1},
    ],
}


def run_cli(request: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "planner"],
        cwd=CORE,
        input=request,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def imported_modules(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and not line.rstrip().endswith("imported package")
    }


def test_the_command_line_plans_without_importing_home_assistant() -> None:
    result = run_cli(json.dumps(REQUEST))
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["status"] == "ok"
    assert answer["targets"][0]["met"] is True
    # Charged in the cheap night hours only.
    assert answer["switch_times"][0]["start"] >= "2026-01-13T23:00:00+01:00"
    modules = imported_modules(result.stderr)
    assert "planner" in modules
    outside = {
        name
        for name in modules
        if name.split(".")[0] in ("homeassistant", "custom_components", "aiohttp")
    }
    assert not outside


def test_the_command_line_names_the_field_that_is_wrong() -> None:
    result = run_cli(json.dumps({**REQUEST, "battery": {"capacity_kwh": -1, "soc_pct": 36}}))
    assert result.returncode == 2
    assert "battery.capacity_kwh" in result.stderr
    assert run_cli("{not json").returncode == 2
