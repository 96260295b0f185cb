"""The outcome taxonomy: what one request's answer (or its absence) means for the engine.

| outcome    | meaning                                                  | engine action                  |
|------------|----------------------------------------------------------|--------------------------------|
| ok         | CAMS accepted the request, with the evidence to prove it | record it                      |
| throttled  | refused by the rate limit, not sent                      | retry after the delay, slow down |
| not_sent   | failed before the request was written, or refused unread | retry with backoff             |
| fatal      | the caller is refused (credentials, permission, clock,   | stop the job (resumable)       |
|            | account, subscription): nothing was sent                 |                                |
| too_large  | the gateway refused the request's size (HTTP 413/414)    | split the batch, send halves   |
| failed     | CAMS refused this request (bad parameter, template, ...) | record, go on                  |
| unknown    | the request left, the answer was lost or proves nothing  | never resend automatically     |

Independently of the outcome, :attr:`CamsError.stops_job` says whether the answer refuses the
caller rather than the request: the job then stops. A caller-refusing code answered with a
5xx (``CHAT.APIError`` is documented as HTTP 500) stops the job *and* leaves the batch
``unknown``: a server error may come after the messages were queued.

An ``OK`` (or ``0000``) answer counts as ``ok`` for a mass send only with a ``GroupMessageId``
and a ``RequestId``: without them nothing could ever look the batch up, so it is ``unknown``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(str, enum.Enum):
    """What the engine does with one request's result (see the module docstring)."""

    OK = "ok"
    THROTTLED = "throttled"
    NOT_SENT = "not_sent"
    FATAL = "fatal"
    TOO_LARGE = "too_large"
    FAILED = "failed"
    UNKNOWN = "unknown"


# Success: the gateway's "OK", and CAMS's own "0000" (documented, HTTP 200).
SUCCESS_CODES = frozenset({"OK", "0000"})
# HTTP statuses of a gateway that refuses a request's size (an HTML page, not JSON).
TOO_LARGE_STATUSES = frozenset({413, 414})
# The server failed: the request may have been acted on ("999999" comes with HTTP 400).
UNKNOWN_CODES = frozenset({"999999", "InternalError", "ServiceUnavailable", "InternalServerError"})
# Refused before anything was done, safe to send again as is: a fresh request carries a new
# nonce.
NOT_SENT_CODES = frozenset({"SignatureNonceUsed"})
# The prefix of the gateway's "a required parameter is missing" codes (MissingSenderList, ...).
MISSING_PREFIX = "Missing"

THROTTLING_CODES = frozenset({"System.LimitControl"})
# Throttling, Throttling.User, Throttling.Api, ThrottlingException, ...
THROTTLING_PREFIXES = ("Throttling",)
FATAL_CODES = frozenset(
    {
        "Ram.PermissionDeny",
        "Product.Unsubscript",
        "Unknown.ResourceOwnerId",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "Forbidden.RAM",
        "NoPermission",
        "Forbidden",
        "CHAT.APIError",
        "InvalidApi.NotFound",
    }
)
FATAL_PREFIXES = (
    "InvalidAccessKeyId",
    "Authentication.",
    "InvalidSecurityToken",
    "InvalidTimeStamp.",
    "Forbidden.",
)

# What an operator should do about each fatal code, in plain words.
_ADVICE: dict[str, str] = {
    "Ram.PermissionDeny": (
        "The AccessKey's RAM user lacks a permission: grant it the action "
        "cams:{action} (for example the AliyunCAMSFullAccess policy) in the RAM console, "
        "under Identities > Users > Permissions."
    ),
    "Forbidden.RAM": (
        "The AccessKey's RAM user lacks a permission: grant it cams:{action} in the RAM console."
    ),
    "NoPermission": (
        "The AccessKey's RAM user lacks a permission: grant it cams:{action} in the RAM console."
    ),
    "Product.Unsubscript": (
        "This Alibaba Cloud account has not activated Chat App Message Service: "
        "activate it in the CAMS console, then resume the job."
    ),
    "Unknown.ResourceOwnerId": (
        "The resource (Service ID, template or CustSpaceId) does not belong to this account: "
        "check the profile's CustSpaceId and sender in the CAMS console (Channel Management)."
    ),
    "SignatureDoesNotMatch": (
        "CAMS rejected the request signature: the AccessKey secret is wrong, or the clock "
        "is far off. Check ALIBABA_CLOUD_ACCESS_KEY_SECRET (or the profile) and the time."
    ),
    "IncompleteSignature": (
        "CAMS found the request signature incomplete: check the profile's credentials."
    ),
    "Forbidden.RiskControl": (
        "Alibaba Cloud's risk control has blocked this account's calls: check the account's "
        "status and notifications in the console (or open a ticket), then resume the job."
    ),
    "Forbidden": (
        "Alibaba Cloud refused this account the operation cams:{action}: check the account's "
        "status and the RAM user's permissions, then resume the job."
    ),
    "CHAT.APIError": (
        "CAMS says this account is not authorized for {action}: check that the channel "
        "(Viber Service ID, CustSpaceId) is approved for this account in the CAMS console and "
        "that the RAM user has cams:{action}, then resume the job."
    ),
    "InvalidApi.NotFound": (
        "The endpoint does not serve CAMS's {action}: check the profile's region and endpoint "
        "(for example https://cams.ap-southeast-1.aliyuncs.com)."
    ),
}
_PREFIX_ADVICE: dict[str, str] = {
    "InvalidAccessKeyId": (
        "CAMS does not know this AccessKey ID: check ALIBABA_CLOUD_ACCESS_KEY_ID "
        "(or the profile) and that the key is enabled in the RAM console."
    ),
    "InvalidSecurityToken": (
        "The STS security token is invalid or has expired: get a fresh one and resume."
    ),
    "InvalidTimeStamp.": (
        "CAMS refused the request's time: this machine's clock is more than 15 minutes off. "
        "Set the clock right (enable NTP time synchronization), then resume the job."
    ),
    "Forbidden.": (
        "Alibaba Cloud refused this account the operation cams:{action}: check the account's "
        "status and the RAM user's permissions in the console, then resume the job."
    ),
    "Authentication.": (
        "CAMS did not authorize this account for the operation: check the account's CAMS "
        "channel setup and the RAM user's permissions."
    ),
}


BODY_IGNORED_ADVICE = (
    "The gateway did not read the request's form body (it reported a parameter missing that "
    "was sent): set placement = \"query\" in the profile, then resume the job (its unsent "
    "batches are re-planned to fit a URL)."
)


def refuses_caller(code: str | None) -> bool:
    """Whether ``code`` refuses the caller (credentials, permission, clock, account) rather
    than one request: every later request would get it too, so the job must stop."""
    return code is not None and (code in FATAL_CODES or code.startswith(FATAL_PREFIXES))


def missing_parameter(code: str | None) -> str | None:
    """The parameter a ``Missing<Name>`` code names (``MissingSenderList`` → ``SenderList``)."""
    if code and code.startswith(MISSING_PREFIX) and len(code) > len(MISSING_PREFIX):
        return code[len(MISSING_PREFIX) :]
    return None


def classify_code(code: str | None, http_status: int | None = None) -> Outcome:
    """The outcome of an answer that carries a ``Code`` (any HTTP status)."""
    if code in SUCCESS_CODES:
        return Outcome.OK
    if http_status in TOO_LARGE_STATUSES:
        return Outcome.TOO_LARGE
    if code is not None:
        if code in THROTTLING_CODES or code.startswith(THROTTLING_PREFIXES):
            return Outcome.THROTTLED
        if code in UNKNOWN_CODES:
            return Outcome.UNKNOWN
        if refuses_caller(code):
            # A 5xx may come after the messages were queued: unknown (the job still stops).
            return Outcome.UNKNOWN if http_status is not None and http_status >= 500 else Outcome.FATAL
        if code in NOT_SENT_CODES:
            return Outcome.NOT_SENT
    if http_status is not None and http_status >= 500:
        # A server error may have been raised after the messages were queued.
        return Outcome.UNKNOWN
    if code is None:
        return Outcome.UNKNOWN
    return Outcome.FAILED


def advice_for(code: str, action: str = "SendChatappMassMessage") -> str | None:
    """What an operator should do about a caller-refusing code, or ``None`` if we have
    nothing to add."""
    text = _ADVICE.get(code)
    if text is None:
        # The longest matching prefix: "Forbidden." before any shorter one.
        matches = [prefix for prefix in _PREFIX_ADVICE if code.startswith(prefix)]
        text = _PREFIX_ADVICE[max(matches, key=len)] if matches else None
    return text.format(action=action) if text else None


@dataclass(eq=False)
class CamsError(Exception):
    """Any failed CAMS call. ``outcome`` says what the engine should do about it."""

    outcome: Outcome
    message: str
    action: str = ""
    http_status: int | None = None
    code: str | None = None
    request_id: str | None = None
    retry_after_s: float | None = None
    recommend: str | None = None
    access_denied_detail: str | None = None
    latency_ms: float | None = None
    body: str | None = None
    body_ignored: bool = False
    """A ``Missing<Name>`` answer naming a parameter that was sent in the form body: the
    gateway did not read the body (see :data:`BODY_IGNORED_ADVICE`)."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [self.code or self.outcome.value]
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        text = " ".join(parts) + f": {self.message}"
        if self.request_id:
            text += f" (RequestId {self.request_id})"
        return text

    @property
    def stops_job(self) -> bool:
        """Whether the answer refuses the caller rather than this request: no later request
        would fare better, so the job stops (resumable once the cause is fixed)."""
        return self.outcome is Outcome.FATAL or self.body_ignored or refuses_caller(self.code)

    @property
    def advice(self) -> str | None:
        """Plain-words advice for an error that stops the job, naming the missing permission
        when known."""
        if self.body_ignored:
            return BODY_IGNORED_ADVICE
        return advice_for(self.code, self.action or "SendChatappMassMessage") if self.code else None


class CamsApiError(CamsError):
    """CAMS answered, with a ``Code`` other than ``OK`` or an unreadable body."""


class CamsTransportError(CamsError):
    """No answer: the connection failed before the request was written, or the answer was lost."""
