"""The settings screen's profile form: its fields, in the screen's order, and what they offer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Select

from cams_tui.api.endpoints import DEFAULT_REGION, Placement, endpoint_for_region
from cams_tui.ui.widgets.text import Label, Static

SOURCES: list[tuple[str, str]] = [
    ("environment: ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / _SECURITY_TOKEN", "env"),
    ("aliyun CLI profile in ~/.aliyun/config.json (AK or StsToken)", "aliyun"),
    ("stored in config.toml (mode 0600; not recommended)", "stored"),
]
PLACEMENTS: list[tuple[str, str]] = [
    ("body: full 1,000-recipient batches", Placement.BODY.value),
    ("query: the SDK's wire format (smaller batches)", Placement.QUERY.value),
]
# Form field ids by the config key they edit, to point at the field pydantic complains about.
FIELD_OF_KEY = {
    "region": "region",
    "endpoint": "endpoint",
    "placement": "placement",
    "from": "sender",
    "cust_space_id": "cust-space",
    "rate": "rate",
    "limiter": "limiter",
    "account": "account",
    "default_region": "default-region",
    "theme": "theme",
    "source": "source",
    "aliyun_profile": "aliyun-profile",
    "access_key_id": "key-id",
    "access_key_secret": "key-secret",
    "security_token": "sts-token",
}


def profile_form() -> ComposeResult:
    """The form's widgets: one line per field, the stored-secret warning, the error line, the buttons."""
    yield from _field("Name", Input(id="name", placeholder="e.g. work"))
    yield from _field("Region", Input(id="region", placeholder=DEFAULT_REGION))
    yield from _field(
        "Endpoint", Input(id="endpoint", placeholder=f"blank: {endpoint_for_region(DEFAULT_REGION)}")
    )
    yield from _field("Placement", Select(PLACEMENTS, id="placement", allow_blank=False))
    yield from _field("Service ID", Input(id="sender", placeholder="Viber Service ID (From)"))
    yield from _field(
        "CustSpaceId",
        Input(
            id="cust-space",
            placeholder="CAMS console › Channel Management",
            tooltip=(
                "The space ID of an ISV sub-customer, or the instance ID of a direct customer, "
                "as the CAMS console shows it under Channel Management. The Service ID list, "
                "lookups of unknown batches, the canary and the delivery funnel need it."
            ),
        ),
    )
    yield from _field("Rate", Input(id="rate", placeholder="10 calls/s", type="number"))
    region = Input(id="default-region", placeholder="e.g. PH", max_length=2)
    yield from _field("Default region", region)
    yield from _field(
        "Limiter",
        Input(
            id="limiter",
            placeholder="host",
            tooltip=(
                "Who shares the account's rate budget: host (every cams-tui of this machine), "
                "redis://host:6379/0 (every machine using that Redis) or process (this one alone). "
                "A saved Redis password is not shown: leave the URL as shown to keep it."
            ),
        ),
    )
    yield from _field(
        "Account",
        Input(
            id="account",
            placeholder="blank: the AccessKey ID",
            tooltip="The budget's name: give profiles with AccessKeys of one account the same name.",
        ),
    )
    yield from _field("Theme", Select([], id="theme", prompt="the app's default"))
    yield from _field("AccessKey from", Select(SOURCES, id="source", allow_blank=False))
    yield from _field(
        "aliyun profile",
        Input(id="aliyun-profile", placeholder="blank: the CLI's current profile"),
        group="aliyun-only",
    )
    yield Static(
        "⚠ The AccessKey secret will be written into config.toml (mode 0600, readable by you only). "
        "Prefer the environment or an aliyun CLI profile on shared machines.",
        id="stored-warning",
        classes="stored-only",
    )
    yield from _field("AccessKey ID", Input(id="key-id"), group="stored-only")
    yield from _field("AccessKey secret", Input(id="key-secret", password=True), group="stored-only")
    yield from _field(
        "STS token", Input(id="sts-token", password=True, placeholder="optional"), group="stored-only"
    )
    yield Static("", id="form-error")
    with Horizontal(id="form-buttons"):
        yield Button("Save ^s", id="save", variant="primary", compact=True)
        yield Button("Use ^r", id="use", compact=True)
        yield Button("Check ^t", id="check", compact=True)
        yield Button("New ^n", id="new", compact=True)


def _field(label: str, widget: Input | Select[str], group: str = "") -> ComposeResult:
    widget.compact = True  # one line per field: the whole form fits in 80×24
    with Horizontal(classes=f"field {group}".strip()):
        yield Label(label, classes="field-label")
        yield widget
