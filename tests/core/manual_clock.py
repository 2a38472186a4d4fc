"""A wall clock the core tests move by hand: nothing in them waits for real time."""

from datetime import UTC, datetime, timedelta

# An evening in March, when no test cares which day it is.
DEFAULT_START = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)


class ManualClock:
    """Moves only when told: by `advance`, or by `sleep`, which code that waits is given."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
