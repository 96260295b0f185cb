"""Reading a CAMS answer: its body within a cap on its decompressed size, its retry-after
header, and the outcome of an answer that is not a plain ``Code: OK``."""

from __future__ import annotations

import zlib

import httpx

from cams_tui.api.errors import SUCCESS_CODES, TOO_LARGE_STATUSES, Outcome, classify_code

RETRY_AFTER_HEADER = "x-acs-retry-after"
# The largest decompressed answer read: CAMS's biggest (a page of 100 message records)
# is tens of kilobytes.
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class AnswerTooLarge(Exception):
    """The decompressed answer exceeded the client's cap."""


def outcome_of(status: int, code: str, retry_after: float | None) -> Outcome:
    """The outcome of an answer that is not a plain HTTP 200 ``Code: OK``.

    A throttling code, or HTTP 429, always means "not accepted". A gateway's 413/414 (an HTML
    page) refuses the request's size: not accepted, ``too_large``. Otherwise a 5xx may hide
    an accepted request even when it carries a retry-after header, so it is unknown; so are
    an answer without a ``Code`` (unreadable, or some middlebox's) and a ``Code: OK`` with a
    status other than 200.
    """
    if status in TOO_LARGE_STATUSES:
        return Outcome.TOO_LARGE
    if code and classify_code(code, status) is Outcome.THROTTLED:
        return Outcome.THROTTLED
    if status >= 500:
        return Outcome.UNKNOWN
    if status == 429:
        return Outcome.THROTTLED
    if not code or code in SUCCESS_CODES:
        return Outcome.UNKNOWN
    if retry_after is not None:
        return Outcome.THROTTLED
    return classify_code(code, status)


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The answer's body, decompressed here rather than by httpx: zlib's ``max_length``
    stops at the cap however much one compressed chunk would expand (httpx would inflate a
    whole chunk first: 64 KiB of a gzip bomb is 64 MiB)."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in {"", "identity"}:
        decoder = None
    elif encoding in {"gzip", "x-gzip"}:
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    else:
        raise httpx.DecodingError(f"unsupported content encoding {encoding!r}")
    if response.is_stream_consumed:
        # An answer built in memory (a test transport), already decoded by httpx.
        content = response.content
        if len(content) > cap:
            raise AnswerTooLarge
        return content
    body = bytearray()
    try:
        async for raw in response.aiter_raw():
            body += raw if decoder is None else decoder.decompress(raw, cap + 1 - len(body))
            if len(body) > cap:
                raise AnswerTooLarge
        if decoder is not None:
            body += decoder.flush()
    except zlib.error as exc:
        raise httpx.DecodingError(f"corrupt {encoding} answer: {exc}") from None
    if len(body) > cap:
        raise AnswerTooLarge
    return bytes(body)


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    value = headers.get(RETRY_AFTER_HEADER)
    if value is None:
        return None
    try:
        return max(0.0, float(value) / 1000.0)
    except ValueError:
        return 1.0
