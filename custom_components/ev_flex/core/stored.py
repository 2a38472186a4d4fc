"""Reading stored data back without trusting it.

A store can hold anything: a file edited by hand, one written by a newer version, or one cut
short. Reading is total: a part that does not read back exactly as this version writes it
(wrong shape, naive or impossible times, NaN or infinity) is left out and named, so the caller
starts that part afresh and can tell the user which parts it reset.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
import math
from typing import Any

# What parsing hostile data may raise (a RecursionError is a RuntimeError: deeply nested junk).
READ_ERRORS = (
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    OverflowError,
    RuntimeError,
)


def sound(value: object) -> bool:
    """Every datetime inside is aware and every float finite."""
    if isinstance(value, datetime):
        return value.tzinfo is not None and value.utcoffset() is not None
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str | bytes | int):
        return True
    if isinstance(value, Mapping):
        return all(sound(key) and sound(item) for key, item in value.items())
    if isinstance(value, Sequence | set | frozenset):
        return all(sound(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return all(sound(getattr(value, field.name)) for field in fields(value))
    return True


def written_back(original: object, written: object) -> bool:
    """Whether `original` (stored JSON) reappears in `written` (what parsing it and writing it
    again gives). Keys only one side knows are skipped: older and newer versions add fields."""
    if isinstance(original, Mapping):
        return isinstance(written, Mapping) and all(
            written_back(value, written[key]) for key, value in original.items() if key in written
        )
    if isinstance(original, list | tuple):
        return (
            isinstance(written, list | tuple)
            and len(original) == len(written)
            and all(written_back(a, b) for a, b in zip(original, written, strict=True))
        )
    if isinstance(original, bool) or isinstance(written, bool):
        return original is written
    if isinstance(original, int | float) and isinstance(written, int | float):
        return original == written
    return type(original) is type(written) and original == written


def read_fields[T](
    data: object,
    parse: Callable[[Mapping[str, Any]], T],
    write: Callable[[T], Mapping[str, Any]],
    check: Callable[[T], object] | None = None,
) -> tuple[T, list[str]]:
    """Parse stored fields; the ones that do not read back are dropped (they take their
    defaults). Returns the value and the names of the dropped fields ("*" for all)."""

    def readable(part: Mapping[str, Any]) -> T | None:
        try:
            value = parse(part)
            if check is not None:
                check(value)
            if sound(value) and written_back(part, write(value)):
                return value
        except READ_ERRORS:
            pass
        return None

    if not isinstance(data, Mapping) or not all(isinstance(key, str) for key in data):
        return parse({}), ["*"]
    if (whole := readable(data)) is not None:
        return whole, []
    good = {key: value for key, value in data.items() if readable({key: value}) is not None}
    dropped = sorted(data.keys() - good.keys())
    if (value := readable(good)) is not None:
        return value, dropped
    return parse({}), ["*"]
