"""The shape of the integration's code: no function is longer than a reader can follow."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "custom_components" / "ev_flex"
MAX_FUNCTION_LINES = 80

# Functions still being split into named parts; each entry goes once its function is short.
BEING_SPLIT: frozenset[str] = frozenset()


def function_lengths(package: Path = PACKAGE) -> dict[str, int]:
    """Lines of every function and method (nested ones too) of a package, by "path:name"."""
    lengths: dict[str, int] = {}
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                name = f"{module}:{node.name}"
                lengths[name] = max(lengths.get(name, 0), node.end_lineno - node.lineno + 1)
    return lengths


def test_no_function_is_longer_than_80_lines() -> None:
    too_long = {
        name: lines
        for name, lines in function_lengths().items()
        if lines > MAX_FUNCTION_LINES and name not in BEING_SPLIT
    }
    assert too_long == {}


def test_every_function_being_split_is_still_long() -> None:
    """An entry whose function got short (or went away) is dropped, so the list only shrinks."""
    lengths = function_lengths()
    done = {name for name in BEING_SPLIT if lengths.get(name, 0) <= MAX_FUNCTION_LINES}
    assert done == set()


def test_the_measure_finds_long_methods_and_nested_functions(tmp_path: Path) -> None:
    body = "        pass\n" * 80
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "shape.py").write_text(
        f"class Entity:\n    async def long(self):\n{body}\n\n"
        f"def outer():\n    def inner():\n{body}    return inner\n\n\ndef short():\n    return 1\n"
    )
    assert function_lengths(tmp_path) == {
        "sub/shape.py:long": 81,
        "sub/shape.py:outer": 83,
        "sub/shape.py:inner": 81,
        "sub/shape.py:short": 2,
    }


def printing_functions(package: Path = PACKAGE) -> set[str]:
    """Every function (by "path:name") that calls print: the integration logs instead."""
    found: set[str] = set()
    for path in sorted(package.rglob("*.py")):
        module = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Name)
                        and call.func.id == "print"
                    ):
                        found.add(f"{module}:{node.name}")
    return found


def test_only_the_planners_command_line_prints() -> None:
    assert printing_functions() == {"core/planner/__init__.py:main"}
