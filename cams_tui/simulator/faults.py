"""Faults the simulator can inject into SendChatappMassMessage, and their SPEC string.

A SPEC is comma-separated ``key=value`` pairs, e.g.
``throttle=0.1,5xx=0.05,drop=0.05,slow=0.02,slow_ms=40000,deny=1,fail_delivery=0.3,inbound=0.1,seed=7``.
Probabilities are between 0 and 1; ``deny``, ``unsubscribed`` and ``ignore_body`` take 0/1
(or true/false).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# SPEC key -> attribute name, where they differ (an attribute cannot start with a digit).
_SPEC_ALIASES = {"5xx": "server_error", "5xx_after_accept": "server_error_after_accept"}
_ATTRIBUTE_TO_SPEC = {attribute: key for key, attribute in _SPEC_ALIASES.items()}
_PROBABILITIES = (
    "throttle",
    "server_error",
    "server_error_after_accept",
    "drop",
    "drop_before_accept",
    "slow",
    "fail_delivery",
    "inbound",
)
_SWITCHES = ("deny", "unsubscribed", "ignore_body")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Faults:
    """Misbehaviours of the simulated service; all off by default.

    Probabilistic faults are drawn independently per SendChatappMassMessage call, in this
    order: ``deny``, ``unsubscribed``, ``burst``, ``throttle``, ``5xx`` (all refuse the call,
    nothing is accepted), ``drop_before_accept`` (the connection is closed: nothing is
    accepted, and the caller cannot know), then validation, then acceptance, then ``5xx_after_accept``,
    ``drop`` and ``slow`` (the call *was* accepted and its recipients recorded, but the
    caller cannot know: the outcome is really unknown).
    """

    throttle: float = 0.0
    """Share of calls refused with ``System.LimitControl`` (HTTP 400, ``x-acs-retry-after``)."""
    server_error: float = 0.0
    """SPEC ``5xx``: share answered HTTP 503 ``ServiceUnavailable``; not accepted."""
    server_error_after_accept: float = 0.0
    """SPEC ``5xx_after_accept``: share accepted, then answered HTTP 500 ``InternalError``."""
    drop: float = 0.0
    """Share accepted, then the connection is closed without an answer."""
    drop_before_accept: float = 0.0
    """Share whose connection is closed without an answer before the call is handled:
    nothing is accepted (the caller sees the same as ``drop``)."""
    slow: float = 0.0
    """Share accepted, then answered only after ``slow_ms`` milliseconds."""
    slow_ms: int = 40_000
    """How late a ``slow`` answer comes."""
    deny: bool = False
    """Every mass send gets ``Ram.PermissionDeny``."""
    unsubscribed: bool = False
    """Every operation gets ``Product.Unsubscript``."""
    fail_delivery: float = 0.0
    """Share of accepted messages whose status later becomes ``Failed`` with a Viber error."""
    inbound: float = 0.0
    """Share of delivered recipients who later write back: an ``UP`` record (same number,
    same Service ID, no template) joins their ``DOWN`` one in ListChatappMessage."""
    ignore_body: bool = False
    """The gateway reads no form-encoded body (every operation): parameters placed there
    are missing, so such a call is refused with ``Missing<first required parameter>``."""
    burst: int = 0
    """Throttle the next N mass sends (counted from when these faults are installed)."""
    seed: int | None = None
    """Seed of the fault draws, for reproducible runs."""

    def __post_init__(self) -> None:
        for name in _PROBABILITIES:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"fault {_spec_key(name)}={value}: a probability must be between 0 and 1")
        if self.slow_ms < 0:
            raise ValueError(f"fault slow_ms={self.slow_ms}: must be 0 or more milliseconds")
        if self.burst < 0:
            raise ValueError(f"fault burst={self.burst}: must be 0 or more calls")

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """Faults from a SPEC string; an empty SPEC means no faults.

        Raises ``ValueError`` naming the bad key or value.
        """
        known = {f.name: f for f in fields(cls)}
        values: dict[str, object] = {}
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, text = item.partition("=")
            key, text = key.strip(), text.strip()
            attribute = _SPEC_ALIASES.get(key, key)
            if attribute not in known or key in _ATTRIBUTE_TO_SPEC:
                raise ValueError(
                    f"unknown fault {key!r} in {spec!r}: known faults are {', '.join(_spec_keys())}"
                )
            if not sep or not text:
                raise ValueError(f"fault {key!r} needs a value, as in {key}=1")
            values[attribute] = _parse_value(key, attribute, text)
        return cls(**values)  # type: ignore[arg-type]

    def to_spec(self) -> str:
        """The SPEC string of the faults that are on (empty when none)."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if isinstance(value, bool):
                value = int(value)
            parts.append(f"{_spec_key(f.name)}={value}")
        return ",".join(parts)


def _spec_key(attribute: str) -> str:
    return _ATTRIBUTE_TO_SPEC.get(attribute, attribute)


def _spec_keys() -> list[str]:
    return [_spec_key(f.name) for f in fields(Faults)]


def _parse_value(key: str, attribute: str, text: str) -> object:
    if attribute in _SWITCHES:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"fault {key}={text!r}: give 1 (on) or 0 (off)")
    if attribute in _PROBABILITIES:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"fault {key}={text!r}: give a probability such as 0.05") from None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"fault {key}={text!r}: give a whole number") from None
