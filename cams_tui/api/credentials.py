"""An AccessKey pair (and optional STS token) that never shows its secret."""

from __future__ import annotations

import os
from collections.abc import Mapping

from cams_tui.errors import UserError

ENV_ACCESS_KEY_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_ACCESS_KEY_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_SECURITY_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"


class CredentialsError(UserError, ValueError):
    """Credentials that cannot be used as given (the message never quotes them)."""


class Credentials:
    """AccessKey ID, secret and optional STS security token.

    The secret and the token are kept out of ``repr``, ``str``, pickling and equality
    output; read them only through :meth:`reveal_secret` / :attr:`security_token` where
    a request is signed.
    """

    __slots__ = ("_secret", "_token", "access_key_id")

    def __init__(self, access_key_id: str, access_key_secret: str, security_token: str | None = None):
        if not access_key_id or not access_key_secret:
            raise CredentialsError("an AccessKey ID and an AccessKey secret are both required")
        # They travel in HTTP headers: a pasted non-breaking space or a stray newline would
        # fail every request later, far from its cause.
        for label, value in (("AccessKey ID", access_key_id), ("STS token", security_token or "")):
            if not (value.isascii() and value.isprintable()):
                raise CredentialsError(
                    f"the {label} contains a character that is not plain printable ASCII "
                    "(a pasted space or line break?): copy it again"
                )
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self._token = security_token or None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials | None:
        """Credentials from the Alibaba Cloud environment variables, or ``None`` if unset."""
        env = os.environ if environ is None else environ
        key_id = env.get(ENV_ACCESS_KEY_ID, "").strip()
        secret = env.get(ENV_ACCESS_KEY_SECRET, "").strip()
        if not key_id or not secret:
            return None
        return cls(key_id, secret, env.get(ENV_SECURITY_TOKEN, "").strip() or None)

    def reveal_secret(self) -> str:
        """The AccessKey secret, for signing only."""
        return self._secret

    @property
    def security_token(self) -> str | None:
        """The STS token, sent as ``x-acs-security-token`` when present."""
        return self._token

    @property
    def masked_id(self) -> str:
        """The AccessKey ID with its middle hidden, for display."""
        key = self.access_key_id
        return key if len(key) <= 8 else f"{key[:4]}…{key[-4:]}"

    def __repr__(self) -> str:
        sts = ", sts" if self._token else ""
        return f"Credentials(access_key_id={self.access_key_id!r}, secret=***{sts})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("credentials are not picklable")
