"""The domain logic in custom_components/ev_flex/core never imports Home Assistant."""

import ast
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "custom_components" / "ev_flex" / "core"


def _core_modules() -> list[Path]:
    # A __main__ runs its command line when imported, so it is checked by its imports only.
    return sorted(
        p for p in CORE.rglob("*.py") if "__pycache__" not in p.parts and p.name != "__main__.py"
    )


def _imported_names(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_no_core_module_mentions_homeassistant_in_an_import() -> None:
    modules = _core_modules()
    assert CORE / "planner" / "__init__.py" in modules
    offenders = {
        str(path.relative_to(REPO)): name
        for path in [*modules, *CORE.rglob("__main__.py")]
        for name in _imported_names(path)
        if name == "homeassistant" or name.startswith("homeassistant.")
    }
    assert offenders == {}


def test_importing_every_core_module_loads_no_homeassistant() -> None:
    """Catches indirect imports too (through a third-party package or a relative import).

    The integration's own __init__ imports Home Assistant, so the parent packages are stood in
    for by empty ones: only what the core modules themselves import gets loaded.
    """
    names = [
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for path in _core_modules()
    ]
    script = (
        "import importlib, sys, types\n"
        "for name, path in (('custom_components', 'custom_components'),\n"
        "                   ('custom_components.ev_flex', 'custom_components/ev_flex')):\n"
        "    package = types.ModuleType(name)\n"
        "    package.__path__ = [path]\n"
        "    sys.modules[name] = package\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'homeassistant')\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
