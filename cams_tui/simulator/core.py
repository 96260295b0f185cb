"""The simulator: the gateway (protocol, signature, flow control, faults) in front of the service."""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qsl

from cams_tui.api.limits import API_VERSION
from cams_tui.simulator.auth import SignatureVerifier, SignedRequest
from cams_tui.simulator.config import MASS_SEND, SimulatorConfig
from cams_tui.simulator.faults import Faults
from cams_tui.simulator.httpserver import HttpRequest, HttpResponse, HttpServer
from cams_tui.simulator.ratelimit import SlidingWindowLimiter
from cams_tui.simulator.responses import (
    DEFAULT_HOST_ID,
    ApiError,
    encode,
    error_body,
    throttled,
)
from cams_tui.simulator.service import AcceptedRequest, Call, CamsService
from cams_tui.simulator.store import MessageStore, Timing

_FORM = "application/x-www-form-urlencoded"
# The wait a fault-induced throttle advertises, in milliseconds.
_FAULT_RETRY_AFTER_MS = 200
DROPPED = "(dropped)"
"""The ``stats`` key of answers never sent: the connection was closed instead."""


class Simulator:
    """A local CAMS speaking the real wire protocol. See the package docstring."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        seed = self.config.seed if self.config.seed is not None else random.SystemRandom().getrandbits(63)
        self._seed = seed
        self._ids = random.Random(seed)
        self._verifier = SignatureVerifier(
            self.config.access_key_id,
            self.config.access_key_secret,
            security_token=self.config.security_token,
            max_skew_s=self.config.max_clock_skew_s,
            extra_keys=self.config.extra_access_keys,
        )
        self._limiter = SlidingWindowLimiter()
        timing = Timing(
            self.config.delivery_delay_s,
            self.config.read_delay_s,
            self.config.read_share,
            self.config.inbound_delay_s,
        )
        store = MessageStore(seed=seed, timing=timing, records_path=self.config.records_path)
        self.service = CamsService(store, cust_space_id=self.config.cust_space_id)
        for group in store.groups():  # kept from an earlier run (``records_path``)
            if group.group_message_id:
                self.service.accepted.update(group.numbers)
        self.stats: defaultdict[str, Counter[str]] = defaultdict(Counter)
        """Answers per operation and per ``Code`` (``OK``, ``System.LimitControl``, ...)."""
        self.faults = self.config.faults

    def __repr__(self) -> str:
        return f"Simulator(config={self.config!r})"

    # ------------------------------------------------------------------ state

    @property
    def faults(self) -> Faults:
        """The faults in force; assign new ones at any time (a ``burst`` starts counting anew)."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._fault_rng = random.Random(faults.seed if faults.seed is not None else self._seed ^ 0x5EED)
        self._burst_left = faults.burst
        self._faults = faults

    @property
    def accepted(self) -> Counter[str]:
        """Number -> times it was accepted by SendChatappMassMessage."""
        return self.service.accepted

    @property
    def accepted_requests(self) -> list[AcceptedRequest]:
        """Every accepted SendChatappMassMessage, in order."""
        return self.service.accepted_requests

    @property
    def store(self) -> MessageStore:
        """Every accepted message, as ListChatappMessage sees them."""
        return self.service.store

    # ---------------------------------------------------------------- serving

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        """Serve in the current event loop; yields the base URL (``http://host:port``)."""
        server = HttpServer(self.handle)
        bound_host, bound_port = await server.start(host, port)
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        try:
            yield f"http://{shown}:{bound_port}"
        finally:
            await server.close()

    @contextmanager
    def run_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve from a daemon thread with its own event loop; yields the base URL."""
        ready = threading.Event()
        box: dict[str, Any] = {}

        async def main() -> None:
            stop = asyncio.Event()
            box["stop"] = (asyncio.get_running_loop(), stop)
            try:
                async with self.serve(host, port) as url:
                    box["url"] = url
                    ready.set()
                    await stop.wait()
            except Exception as exc:  # noqa: BLE001 - reported to the caller's thread
                box["error"] = exc
                ready.set()

        thread = threading.Thread(target=asyncio.run, args=(main(),), name="cams-simulator", daemon=True)
        thread.start()
        ready.wait()
        if "error" in box:
            thread.join()
            raise box["error"]
        try:
            yield box["url"]
        finally:
            loop, stop = box["stop"]
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
            self.store.close()

    # --------------------------------------------------------------- handling

    async def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer one HTTP request as CAMS would."""
        request_id = self._request_id()
        action = request.header("x-acs-action") or ""
        extra_delay = 0.0
        drop = False
        try:
            body, status, headers, extra_delay, drop = self._process(request, action, request_id)
            code = str(body.get("Code", ""))
        except ApiError as error:
            body = error_body(error, request_id, request.header("host") or DEFAULT_HOST_ID)
            status, headers, code = error.status, list(error.headers), error.code
        self.stats[action or "(none)"][DROPPED if drop else code] += 1
        return HttpResponse(
            status,
            encode(body),
            [("x-acs-request-id", request_id), *headers],
            delay_s=self.config.latency_ms / 1000 + extra_delay,
            drop=drop,
        )

    def _process(
        self, request: HttpRequest, action: str, request_id: str
    ) -> tuple[dict[str, Any], int, list[tuple[str, str]], float, bool]:
        """(body, status, headers, extra delay, drop) of a call, or :class:`ApiError`."""
        if request.method not in ("POST", "GET") or request.path != "/":
            raise ApiError(404, "InvalidApi.NotFound", "Specified api is not found, please check your url and method.")
        if not action:
            raise ApiError(400, "MissingAction", "The x-acs-action header is required.")
        version = request.header("x-acs-version")
        if version != API_VERSION:
            raise ApiError(
                400, "InvalidVersion", f"Specified parameter Version {version!r} is not valid: use {API_VERSION}."
            )
        if not self.service.knows(action):
            raise ApiError(
                404, "InvalidApi.NotFound", f"Specified api {action} is not found, please check your url and method."
            )
        query = dict(parse_qsl(request.query_string, keep_blank_values=True))
        self._verifier.verify(SignedRequest(request.method, request.path, query, request.headers, request.body))
        faults = self._faults
        params = dict(query)
        content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
        reads_body = not (self.config.ignore_body or faults.ignore_body)
        if reads_body and request.body and content_type == _FORM:
            params.update(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
        is_mass = action == MASS_SEND
        self._refusals(faults, action, is_mass)
        # The quota is per account and operation: every AccessKey of the account shares it.
        retry_after = self._limiter.try_acquire((self.config.account_id, action), self.config.rate_of(action))
        if retry_after is not None:
            raise throttled(retry_after)
        if is_mass and self._draw(faults.server_error):
            raise ApiError(
                503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
            )
        if is_mass and self._draw(faults.drop_before_accept):
            # The connection goes before the call is handled: nothing is recorded, and the
            # caller, whose request was written, cannot know.
            return {}, 200, [], 0.0, True
        now_ms = int(time.time() * 1000)
        call = Call(
            action,
            params,
            request_id,
            now_ms,
            faults.fail_delivery,
            self.config.record_delay_s,
            inbound_rate=faults.inbound or self.config.inbound_share,
        )
        body = self.service.handle(call)
        if not is_mass:
            return body, 200, [], 0.0, False
        # Accepted from here on: whatever the caller sees, the recipients are recorded.
        if self._draw(faults.server_error_after_accept):
            raise ApiError(500, "InternalError", "The request processing has failed due to some unknown error.")
        if self._draw(faults.drop):
            return body, 200, [], 0.0, True
        if self._draw(faults.slow):
            return body, 200, [], faults.slow_ms / 1000, False
        return body, 200, [], 0.0, False

    def _refusals(self, faults: Faults, action: str, is_mass: bool) -> None:
        """Account-level and fault-induced refusals, before flow control counts the call."""
        if faults.unsubscribed:
            raise ApiError(400, "Product.Unsubscript", "You have not subscribed to the specified product.")
        if not is_mass:
            return
        if faults.deny:
            raise ApiError(
                400,
                "Ram.PermissionDeny",
                "You are not authorized to perform the operation.",
                access_denied_detail={
                    "AuthAction": f"cams:{action}",
                    "AuthPrincipalType": "SubUser",
                    "AuthPrincipalDisplayName": "cams-demo-user",
                    "NoPermissionType": "ImplicitDeny",
                    "PolicyType": "AccountLevelIdentityBasedPolicy",
                },
            )
        if self._burst_left > 0:
            self._burst_left -= 1
            raise throttled(_FAULT_RETRY_AFTER_MS)
        if self._draw(faults.throttle):
            raise throttled(_FAULT_RETRY_AFTER_MS)

    def _draw(self, probability: float) -> bool:
        return probability > 0 and self._fault_rng.random() < probability

    def _request_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4)).upper()
