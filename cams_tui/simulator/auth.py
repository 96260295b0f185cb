"""Checks a request's ACS3-HMAC-SHA256 signature as the OpenAPI gateway does.

The canonical request is rebuilt from what arrived: the query string is decoded and
re-encoded with :func:`cams_tui.api.signing.canonical_query` (so ``+`` and ``%20`` are the
same space), the headers are exactly those named in ``SignedHeaders``, and the payload hash
must be both the ``x-acs-content-sha256`` header and the SHA-256 of the body received.
"""

from __future__ import annotations

import calendar
import hmac
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cams_tui.api import signing
from cams_tui.simulator.responses import ApiError

# Headers that must be covered by the signature whenever they are present.
_ALWAYS_SIGNED = ("host", "content-type")
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs of an HTTP request."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Sequence[tuple[str, str]]
    """Header names lowercased, in arrival order; repeated names kept."""
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, or ``None``."""
        return next((value for key, value in self.headers if key == name), None)


class SignatureVerifier:
    """Verifies signatures for an AccessKey pair (and optional STS token), plus any more
    keys of the same account given as ``extra_keys`` (ID -> secret, no token).

    Remembers nonces for as long as a timestamp stays acceptable, so a replayed request
    is refused either as a reused nonce or as a stale timestamp.
    """

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        *,
        security_token: str | None = None,
        max_skew_s: float = 900.0,
        clock: Callable[[], float] = time.time,
        extra_keys: Mapping[str, str] | None = None,
    ) -> None:
        self._key_id = access_key_id
        self._secrets = {**(extra_keys or {}), access_key_id: access_key_secret}
        self._token = security_token
        self._max_skew_s = max_skew_s
        self._clock = clock
        self._nonces: set[tuple[str, str]] = set()
        self._nonce_expiry: deque[tuple[float, tuple[str, str]]] = deque()

    def __repr__(self) -> str:
        return f"SignatureVerifier(access_key_id={self._key_id!r}, secret=***)"

    def verify(self, request: SignedRequest) -> str:
        """Return the request's AccessKey ID, or raise :class:`ApiError` saying what is wrong."""
        authorization = request.header("authorization")
        if not authorization:
            raise ApiError(400, "IncompleteSignature", "The request has no Authorization header.")
        parsed = signing.parse_authorization(authorization)
        if parsed is None:
            raise ApiError(
                400,
                "IncompleteSignature",
                "The Authorization header is not ACS3-HMAC-SHA256 "
                "Credential=...,SignedHeaders=...,Signature=...",
            )
        key_id, signed_names, signature_hex = parsed
        secret = self._secrets.get(key_id)
        if secret is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        self._check_token(request, key_id)
        now = self._clock()
        self._check_date(request, now)
        nonce = request.header("x-acs-signature-nonce")
        if not nonce:
            raise ApiError(400, "MissingSignatureNonce", "The x-acs-signature-nonce header is required.")
        self._check_signed_names(request, signed_names)
        payload_hash = request.header("x-acs-content-sha256")
        if payload_hash != signing.payload_sha256(request.body):
            raise ApiError(
                400,
                "SignatureDoesNotMatch",
                "The x-acs-content-sha256 header is not the SHA-256 of the request body received.",
            )
        names = [name.lower() for name in signed_names]
        wanted = set(names)
        block, _ = signing.canonical_headers((k, v) for k, v in request.headers if k in wanted)
        canonical = signing.canonical_request(
            request.method,
            request.path,
            signing.canonical_query(request.query),
            block,
            ";".join(names),
            payload_hash,
        )
        to_sign = signing.string_to_sign(canonical)
        expected = signing.signature(secret, to_sign)
        if not hmac.compare_digest(expected, signature_hex.lower()):
            raise ApiError(
                400,
                "SignatureDoesNotMatch",
                "Specified signature does not match our calculation. "
                f"server string to sign is:{to_sign}",
            )
        self._use_nonce(key_id, nonce, now)
        return key_id

    def _check_token(self, request: SignedRequest, key_id: str) -> None:
        token = request.header("x-acs-security-token")
        # Only the main key may be an STS key; the extra keys are plain ones.
        expected = self._token if key_id == self._key_id else None
        if token is None and expected is None:
            return
        if token is None:
            raise ApiError(
                400,
                "InvalidSecurityToken.Malformed",
                "This AccessKey is an STS key: the x-acs-security-token header is required.",
            )
        if expected is None or not hmac.compare_digest(token, expected):
            raise ApiError(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
        header_key = request.header("x-acs-accesskey-id")
        if header_key is not None and header_key != key_id:
            raise ApiError(
                400,
                "InvalidSecurityToken.MismatchWithAccessKey",
                "Specified SecurityToken mismatch with the AccessKey.",
            )

    def _check_date(self, request: SignedRequest, now: float) -> None:
        text = request.header("x-acs-date")
        if not text:
            raise ApiError(400, "InvalidTimeStamp.Format", "The x-acs-date header is required.")
        try:
            stamp = calendar.timegm(time.strptime(text, _DATE_FORMAT))
        except ValueError:
            raise ApiError(
                400,
                "InvalidTimeStamp.Format",
                f"Specified time stamp {text!r} is not in the format yyyy-MM-ddTHH:mm:ssZ (UTC).",
            ) from None
        if abs(now - stamp) > self._max_skew_s:
            raise ApiError(
                400,
                "InvalidTimeStamp.Expired",
                f"Specified time stamp or date value is expired: {text} is more than "
                f"{int(self._max_skew_s // 60)} minutes away from the server time.",
            )

    @staticmethod
    def _check_signed_names(request: SignedRequest, signed_names: list[str]) -> None:
        listed = {name.lower() for name in signed_names}
        present = {name for name, _ in request.headers}
        for name in sorted(present):
            if (name.startswith("x-acs-") or name in _ALWAYS_SIGNED) and name not in listed:
                raise ApiError(
                    400, "IncompleteSignature", f"The header {name} must be listed in SignedHeaders."
                )
        for name in sorted(listed - present):
            raise ApiError(
                400,
                "IncompleteSignature",
                f"SignedHeaders lists {name}, but the request has no such header.",
            )

    def _use_nonce(self, key_id: str, nonce: str, now: float) -> None:
        while self._nonce_expiry and self._nonce_expiry[0][0] < now:
            self._nonces.discard(self._nonce_expiry.popleft()[1])
        entry = (key_id, nonce)
        if entry in self._nonces:
            raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
        self._nonces.add(entry)
        # Past twice the skew, any replay is refused for its timestamp anyway.
        self._nonce_expiry.append((now + 2 * self._max_skew_s, entry))
