"""The shapes of the service's answers: success bodies and gateway error bodies."""

from __future__ import annotations

import json
from typing import Any

DEFAULT_HOST_ID = "cams.ap-southeast-1.aliyuncs.com"
RETRY_AFTER_HEADER = "x-acs-retry-after"


class ApiError(Exception):
    """A refusal: the HTTP status, the ``Code`` and ``Message`` of the error body."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        access_denied_detail: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.access_denied_detail = access_denied_detail


def throttled(retry_after_ms: int) -> ApiError:
    """``System.LimitControl`` with the wait before a retry, in milliseconds."""
    return ApiError(
        400,
        "System.LimitControl",
        "The system is under flow control.",
        headers=((RETRY_AFTER_HEADER, str(max(1, retry_after_ms))),),
    )


def error_body(error: ApiError, request_id: str, host_id: str) -> dict[str, Any]:
    """The gateway's error body: RequestId, HostId, Code, Message, Recommend."""
    body: dict[str, Any] = {
        "RequestId": request_id,
        "HostId": host_id,
        "Code": error.code,
        "Message": error.message,
        "Recommend": (
            f"https://api.alibabacloud.com/troubleshoot?q={error.code}"
            f"&product=cams&requestId={request_id}"
        ),
    }
    if error.access_denied_detail is not None:
        body["AccessDeniedDetail"] = error.access_denied_detail
    return body


def success_body(request_id: str, **fields: Any) -> dict[str, Any]:
    """A successful answer: RequestId, ``Code`` OK, ``Message`` SUCCESS, then the fields."""
    return {"RequestId": request_id, "Code": "OK", "Message": "SUCCESS", **fields}


def encode(body: dict[str, Any]) -> bytes:
    """A body as the service sends it: compact UTF-8 JSON."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
