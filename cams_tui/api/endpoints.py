"""CAMS endpoints and where parameters travel: plain values, cheap to import (no HTTP stack)."""

from __future__ import annotations

import enum
import ipaddress
from urllib.parse import urlsplit

DEFAULT_REGION = "ap-southeast-1"
DEFAULT_ENDPOINT = f"https://cams.{DEFAULT_REGION}.aliyuncs.com"


class Placement(str, enum.Enum):
    """Where a request's parameters travel."""

    QUERY = "query"
    BODY = "body"


class EndpointError(ValueError):
    """An endpoint URL cams-tui refuses to use."""


def endpoint_for_region(region: str) -> str:
    """The public CAMS endpoint of a region."""
    return f"https://cams.{region}.aliyuncs.com"


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_endpoint(url: str) -> str:
    """Check an endpoint and return it as ``scheme://host[:port]``.

    HTTPS is required, except for a loopback address (the simulator), which may use HTTP.
    A bare host name is taken as HTTPS.
    """
    text = url.strip()
    if not text:
        raise EndpointError("the endpoint is empty: give a URL such as " + DEFAULT_ENDPOINT)
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise EndpointError(f"{url!r} is not an http(s) URL: give a URL such as {DEFAULT_ENDPOINT}")
    if parts.path not in {"", "/"} or parts.query or parts.fragment:
        raise EndpointError(f"{url!r} must be a bare origin (scheme, host and port), no path")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise EndpointError(
            f"{url!r} uses plain http: only https is allowed, except on a loopback address "
            "such as http://127.0.0.1:8080 (the simulator)"
        )
    return f"{parts.scheme}://{parts.netloc}"


# The longest URL we send: httpx's own cap (httpx/_urlparse.py, MAX_URL_LENGTH). The query
# does not pass through httpx's URL parser (see ``CamsClient._build``); the cap is kept anyway
# so that request lines stay within what common servers and proxies accept. Here, not in the
# client, so that planning a job (a dry run) does not import the HTTP stack.
MAX_URL_LENGTH = 65_536


def max_query_length(endpoint: str) -> int:
    """The longest encoded query string a request to ``endpoint`` may carry (``POST /?…``)."""
    return MAX_URL_LENGTH - len(normalize_endpoint(endpoint) + "/") - 1
