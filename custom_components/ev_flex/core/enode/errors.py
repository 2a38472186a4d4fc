"""Typed errors of the Enode client.

Every failure the client can report is one of these, so callers can decide what to do (ask the
user to reauthenticate, slow polling down, show a repair issue, retry later) without looking at
HTTP status codes themselves.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import EnodeAction


@dataclass(frozen=True, kw_only=True)
class Problem:
    """An RFC 7807 problem document as Enode sends it with 4xx and 5xx answers."""

    type: str | None = None
    title: str | None = None
    detail: str | None = None
    issues: tuple[Any, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        """One line for logs and error messages."""
        parts = [part for part in (self.title, self.detail) if part]
        return ": ".join(parts) if parts else (self.type or "no details")


class EnodeError(Exception):
    """Base of every error the Enode client raises."""


class EnodeConnectionError(EnodeError):
    """The API could not be reached (DNS, refused connection, reset)."""


class EnodeTimeoutError(EnodeError):
    """The API did not answer within the request timeout."""


class EnodeMalformedResponseError(EnodeError):
    """The API answered with something that is not the documented JSON."""


class EnodeApiError(EnodeError):
    """The API answered with an error status."""

    def __init__(self, status: int, problem: Problem | None = None) -> None:
        self.status = status
        self.problem = problem or Problem()
        super().__init__(f"HTTP {status}: {self.problem.describe()}")


class EnodeAuthError(EnodeApiError):
    """The client credentials or the access token were refused."""


class EnodeBadRequestError(EnodeApiError):
    """The request was invalid (HTTP 400), e.g. a capability the device lacks."""


class EnodeForbiddenError(EnodeApiError):
    """Authenticated but not allowed (HTTP 403), e.g. the connections limit is reached."""


class EnodeNotFoundError(EnodeApiError):
    """The user, device, action, location or webhook does not exist (HTTP 404)."""


class EnodeConflictError(EnodeApiError):
    """The request conflicts with the resource's state (HTTP 409), e.g. cancelling a settled
    action. The settled action is attached when the body carried it."""

    def __init__(
        self, status: int, problem: Problem | None = None, action: EnodeAction | None = None
    ) -> None:
        super().__init__(status, problem)
        self.action = action


class EnodeInterferenceError(EnodeApiError):
    """The device is controlled by a schedule or smart charging (HTTP 422).

    The user has to turn that control off (or use a smart override) before EV Flex can steer.
    """


class EnodeRateLimitedError(EnodeApiError):
    """Too many requests (HTTP 429). Wait `retry_after` seconds before the next call."""

    def __init__(self, status: int, problem: Problem | None, retry_after: float) -> None:
        super().__init__(status, problem)
        self.retry_after = retry_after


class EnodeServerError(EnodeApiError):
    """Enode failed (HTTP 5xx); trying again later may help."""


class EnodeActionTimeoutError(EnodeTimeoutError):
    """An action was still pending when the caller stopped waiting for it."""

    def __init__(self, action: EnodeAction) -> None:
        self.action = action
        super().__init__(f"action {action.id} still {action.state.value} when the wait ended")


class EnodeWebhookError(EnodeError):
    """A webhook delivery cannot be trusted or read."""


class EnodeSignatureError(EnodeWebhookError):
    """The x-enode-signature header is missing or does not match the body."""


class EnodeWebhookPayloadError(EnodeWebhookError):
    """The webhook body is not a JSON array of events."""
