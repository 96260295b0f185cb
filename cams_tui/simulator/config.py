"""How a simulator behaves: its credentials, limits, latency, faults and delivery timing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cams_tui.simulator.demo_data import DEMO_CUST_SPACE_ID
from cams_tui.simulator.faults import Faults

DEMO_ACCESS_KEY_ID = "LTAI5tDemoCamsTui"
"""The public AccessKey ID of the demo account (not a real Alibaba Cloud key)."""
DEMO_ACCESS_KEY_SECRET = "demo-secret-not-for-production"
"""The public secret of the demo account: it protects nothing, so it may be shown."""
DEMO_ACCOUNT_ID = "5000000000000001"
"""The demo Alibaba Cloud account (its ParentUid): every AccessKey of it shares one quota."""

MASS_SEND = "SendChatappMassMessage"
SINGLE_SEND = "SendChatappMessage"
# Calls per second per account, per operation (the quota's dimension is region + API +
# account: every AccessKey of one account shares it). The documentation gives 10/s for the
# mass send and 250/s for the single send; ListChatappTemplate is documented at 5/s, kept
# generous here by default so that a UI refreshing its lists is never refused
# (set ``operation_rates`` to be stricter).
DEFAULT_OPERATION_RATES: dict[str, int] = {
    SINGLE_SEND: 250,
    "ListChatappTemplate": 100,
    "GetChatappTemplateDetail": 100,
    "ListViberServiceMessage": 100,
    "ListChatappMessage": 100,
}


@dataclass
class SimulatorConfig:
    """Settings of one :class:`~cams_tui.simulator.Simulator`.

    ``rate``, ``latency_ms``, ``record_delay_s`` and ``operation_rates`` are read on every
    call, so changing them on a running simulator's ``config`` takes effect at once.
    """

    access_key_id: str = DEMO_ACCESS_KEY_ID
    """The account's main AccessKey ID."""
    access_key_secret: str = field(default=DEMO_ACCESS_KEY_SECRET, repr=False)
    """Its secret, used to verify signatures."""
    security_token: str | None = field(default=None, repr=False)
    """When set, the main key is an STS key: requests must carry this ``x-acs-security-token``."""
    extra_access_keys: dict[str, str] = field(default_factory=dict, repr=False)
    """More AccessKeys of the same account (ID -> secret), e.g. other RAM users' keys.
    They share the account's flow control budget with the main key."""
    account_id: str = DEMO_ACCOUNT_ID
    """The account every key belongs to: flow control counts calls per account."""
    cust_space_id: str = DEMO_CUST_SPACE_ID
    """The account's CustSpaceId: required by ListChatappMessage and ListViberServiceMessage;
    any other value, on any operation, is refused with ``Authentication.NoAuth``."""
    rate: int = 10
    """SendChatappMassMessage calls per second per account (sliding 1-second window)."""
    latency_ms: int = 0
    """Added to every answer."""
    faults: Faults = field(default_factory=Faults)
    """Faults in force at start (``Simulator.faults`` may replace them at any time)."""
    record_delay_s: float = 0.0
    """ListChatappMessage shows a message this long after it was accepted."""
    seed: int | None = None
    """Seed of request ids, fault draws and delivery outcomes; ``None`` for a random one."""
    operation_rates: dict[str, int] = field(default_factory=dict)
    """Per-operation overrides of :data:`DEFAULT_OPERATION_RATES`."""
    delivery_delay_s: tuple[float, float] = (1.0, 3.0)
    """A message turns Delivered (or Failed) this long after acceptance, uniformly drawn."""
    read_delay_s: tuple[float, float] = (5.0, 60.0)
    """A read message turns Read this long after delivery."""
    read_share: float = 0.7
    """Share of delivered messages that are eventually read."""
    max_clock_skew_s: float = 900.0
    """How far ``x-acs-date`` may be from the server clock (15 minutes, as the gateway)."""
    inbound_share: float = 0.0
    """Share of delivered recipients who later write back (an ``UP`` record of ListChatappMessage);
    the ``inbound`` fault, when set, takes its place."""
    inbound_delay_s: tuple[float, float] = (5.0, 60.0)
    """A reply comes this long after the message it answers was delivered."""
    records_path: Path | None = None
    """When set, every accepted message is also kept in this file (JSON Lines, mode 0600)
    and read back on start: a simulator restarted on the same file lists what it accepted
    before, as CAMS would. The demo keeps it beside its journal."""
    ignore_body: bool = False
    """The gateway reads only the query string, never a form-encoded body (as the
    ``ignore_body`` fault): a body-placed call is refused as missing its parameters."""

    def __post_init__(self) -> None:
        if not self.access_key_id or not self.access_key_secret:
            raise ValueError("the simulator needs both an AccessKey ID and an AccessKey secret")
        for key_id, secret in self.extra_access_keys.items():
            if not key_id or not secret:
                raise ValueError("extra_access_keys: every key needs both an AccessKey ID and a secret")
        if not self.cust_space_id:
            raise ValueError("cust_space_id: the account needs a CustSpaceId")
        if self.rate < 1:
            raise ValueError(f"rate={self.rate}: the simulator must allow at least 1 call per second")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms={self.latency_ms}: must be 0 or more")
        if self.record_delay_s < 0:
            raise ValueError(f"record_delay_s={self.record_delay_s}: must be 0 or more")
        for name, rate in self.operation_rates.items():
            if rate < 1:
                raise ValueError(f"operation_rates[{name!r}]={rate}: must be at least 1")
        for name in ("delivery_delay_s", "read_delay_s", "inbound_delay_s"):
            low, high = getattr(self, name)
            if not 0 <= low <= high:
                raise ValueError(f"{name}={(low, high)}: give (low, high) with 0 <= low <= high")
        for name in ("read_share", "inbound_share"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{name}={share}: must be between 0 and 1")

    @property
    def access_keys(self) -> dict[str, str]:
        """Every AccessKey of the account (ID -> secret), the main one first."""
        return {self.access_key_id: self.access_key_secret, **self.extra_access_keys}

    def rate_of(self, action: str) -> int:
        """Calls per second allowed for one operation."""
        if action in self.operation_rates:
            return self.operation_rates[action]
        if action == MASS_SEND:
            return self.rate
        return DEFAULT_OPERATION_RATES.get(action, 100)
