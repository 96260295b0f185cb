"""The outcome taxonomy: what one request's answer (or its absence) means for the engine.

| outcome    | meaning                                                  | engine action                  |
|------------|----------------------------------------------------------|--------------------------------|
| ok         | CAMS accepted the request                                | record it                      |
| throttled  | refused by the rate limit, not sent                      | retry after the delay, slow down |
| not_sent   | failed before the request was written                    | retry with backoff             |
| fatal      | credentials, permission or subscription problem          | stop the job (resumable)       |
| failed     | CAMS refused this request (bad parameter, template, ...) | record, go on                  |
| unknown    | the request left, the answer was lost                    | never resend automatically     |
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
    FAILED = "failed"
    UNKNOWN = "unknown"


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
    }
)
FATAL_PREFIXES = ("InvalidAccessKeyId", "Authentication.", "InvalidSecurityToken")

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
}
_PREFIX_ADVICE: dict[str, str] = {
    "InvalidAccessKeyId": (
        "CAMS does not know this AccessKey ID: check ALIBABA_CLOUD_ACCESS_KEY_ID "
        "(or the profile) and that the key is enabled in the RAM console."
    ),
    "InvalidSecurityToken": (
        "The STS security token is invalid or has expired: get a fresh one and resume."
    ),
    "Authentication.": (
        "CAMS did not authorize this account for the operation: check the account's CAMS "
        "channel setup and the RAM user's permissions."
    ),
}


def classify_code(code: str | None, http_status: int | None = None) -> Outcome:
    """The outcome of an answer that carries a ``Code`` (any HTTP status)."""
    if code == "OK":
        return Outcome.OK
    if code is not None:
        if code in THROTTLING_CODES or code.startswith(THROTTLING_PREFIXES):
            return Outcome.THROTTLED
        if code in FATAL_CODES or code.startswith(FATAL_PREFIXES):
            return Outcome.FATAL
    if http_status is not None and http_status >= 500:
        # A server error may have been raised after the messages were queued.
        return Outcome.UNKNOWN
    if code is None:
        return Outcome.UNKNOWN
    return Outcome.FAILED


def advice_for(code: str, action: str = "SendChatappMassMessage") -> str | None:
    """What an operator should do about a fatal code, or ``None`` if we have nothing to add."""
    text = _ADVICE.get(code)
    if text is None:
        text = next((t for prefix, t in _PREFIX_ADVICE.items() if code.startswith(prefix)), None)
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
    def advice(self) -> str | None:
        """Plain-words advice for a fatal error, naming the missing permission when known."""
        return advice_for(self.code, self.action or "SendChatappMassMessage") if self.code else None


class CamsApiError(CamsError):
    """CAMS answered, with a ``Code`` other than ``OK`` or an unreadable body."""


class CamsTransportError(CamsError):
    """No answer: the connection failed before the request was written, or the answer was lost."""
