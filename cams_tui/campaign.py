"""A campaign: one send, fully described and validated, stored as TOML.

```toml
template_code = "TPL_PROMO"
language = "en"
from = "2000001"            # the Viber Service ID
label = "promotion"         # or "transaction"
ttl = 86400                 # seconds, 30 to 1,209,600
tag = "spring"
task_id = "spring-2026"
cust_space_id = "..."

[fallback]                  # SMS when Viber does not deliver
id = "S00001"
content = "Your code: SPRING24"
rule = "undelivered"        # or "sentFailed"
duration = 120              # seconds, 60 to 43,200

[params]                    # values for every recipient; CSV columns override per recipient
code = "SPRING24"

[recipients]
file = "numbers.csv"        # relative to this file
default_region = "PH"       # for national numbers

[schedule]                  # send later, and within hours (cams_tui.schedule)
at = "2026-12-24T09:00+08:00"
window = "09:00-20:00"      # each recipient's local time
days = ["mon", "tue", "wed", "thu", "fri"]

[schedule.zones]            # one zone for a country of several
US = "America/New_York"

language_fallback = false   # a recipient's language the template lacks: rejected
[languages]                 # per-country defaults; a "language" column overrides them
RU = "ru"
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cams_tui.api.limits import FALLBACK_DURATION_RANGE, TTL_RANGE
from cams_tui.api.models import MassMessageOptions
from cams_tui.durations import parse_duration
from cams_tui.errors import UserError
from cams_tui.input_files import CAMPAIGN_MAX_BYTES, PARAM_VALUE_MAX_CHARS, InputFileError, read_input_text
from cams_tui.output_files import atomic_text_file
from cams_tui.schedule import ScheduleOptions

if TYPE_CHECKING:
    from cams_tui.api.models import MassMessageOptions


def _seconds(value: Any) -> Any:
    """A duration as the TUI teaches it (``"1d"``, ``"15m"``, ``"1d 12h"``) in seconds;
    a number is seconds already."""
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError:
            raise ValueError(
                f"{value.strip()!r} is not a duration: write seconds (86400) or e.g. 90s, 15m, 12h, 1d"
            ) from None
    return value


class CampaignError(UserError):
    """A campaign file that cannot be used; the message names the field and what is allowed."""


def _check_range(name: str, value: int | None, bounds: tuple[int, int], unit: str) -> int | None:
    if value is None:
        return None
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low:,} and {high:,} {unit}; got {value:,}")
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class Fallback(BaseModel):
    """The SMS fallback: which policy, what text, and when it triggers."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str | None = Field(None, description="The fallback policy ID (FallBackId).")
    content: str | None = Field(None, description="The fallback SMS text (FallBackContent).")
    rule: Literal["undelivered", "sentFailed"] | None = Field(
        None,
        description="undelivered: SMS when Viber does not deliver (the default); "
        "sentFailed: SMS also when the template parameters fail verification.",
    )
    duration: int | None = Field(
        None, description="Seconds to wait for a delivery receipt before the SMS (60 to 43,200)."
    )

    _blank = field_validator("id", "content", "rule", mode="before")(_blank_to_none)

    _readable = field_validator("duration", mode="before")(lambda value: _seconds(value))

    @field_validator("duration")
    @classmethod
    def _duration_range(cls, value: int | None) -> int | None:
        return _check_range("fallback.duration", value, FALLBACK_DURATION_RANGE, "seconds (1 minute to 12 hours)")


class CanaryOptions(BaseModel):
    """Send the first recipients alone, judge their delivery, then go on or stop."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    size: str = Field("100", description="Recipients in the canary: a number (100) or a share (1%).")
    threshold: float | None = Field(
        None, ge=0, lt=1, description="Failure share that stops the job (default: the profile's, 0.2)."
    )
    auto_continue: bool = Field(True, description="Go on by itself when healthy (false: ask first).")

    @field_validator("size", mode="before")
    @classmethod
    def _size_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            text = value.strip()
            number = text[:-1] if text.endswith("%") else text
            try:
                ok = float(number) > 0 and (text.endswith("%") or number.isdigit())
            except ValueError:
                ok = False
            if not ok or (text.endswith("%") and float(number) > 100):
                raise ValueError(f"canary.size must be a number of recipients (100) or a share (1%); got {value!r}")
            return text
        return value


class RecipientsSource(BaseModel):
    """Where the numbers come from."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    file: str | None = Field(None, description="A .txt/.csv/.tsv file, relative to the campaign file.")
    default_region: str | None = Field(None, description="Region of national numbers, e.g. PH.")

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError(f"default_region must be a two-letter region code such as PH; got {value!r}")
        return value


class Campaign(BaseModel):
    """Everything one send needs but the numbers themselves."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    template_code: str = Field(min_length=1, description="The approved Viber template's code.")
    language: str = Field(min_length=1, description="The template's language, e.g. en.")
    from_: str = Field(alias="from", min_length=1, description="The Viber Service ID (From).")
    label: Literal["promotion", "transaction"] | None = Field(None, description="Viber message type.")
    ttl: int | None = Field(None, description="Seconds Viber keeps trying to deliver (30 to 1,209,600).")
    tag: str | None = None
    task_id: str | None = None
    cust_space_id: str | None = None
    fallback: Fallback = Field(default_factory=Fallback)
    params: dict[str, str] = Field(default_factory=dict, description="Template variables for everyone.")
    recipients: RecipientsSource = Field(default_factory=RecipientsSource)
    canary: CanaryOptions | None = Field(None, description="Send a canary slice first (off when absent).")
    schedule: ScheduleOptions | None = Field(None, description="Send at a later time (now when absent).")
    languages: dict[str, str] = Field(
        default_factory=dict,
        description="A template language per country (PH = \"tl\"); a recipient's language column overrides it.",
    )
    language_fallback: bool = Field(
        False, description="Send in `language` to a recipient whose language the template lacks (else rejected)."
    )

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        checked = {}
        for region, language in value.items():
            code = region.strip().upper()
            if len(code) != 2 or not code.isalpha():
                raise ValueError(f"languages: {region!r} is not a two-letter region code such as PH")
            if not str(language).strip():
                raise ValueError(f"languages.{code} is empty: give a template language such as en")
            checked[code] = str(language).strip()
        return checked

    _blank = field_validator("label", "tag", "task_id", "cust_space_id", mode="before")(_blank_to_none)

    _readable_ttl = field_validator("ttl", mode="before")(lambda value: _seconds(value))

    @field_validator("ttl")
    @classmethod
    def _ttl_range(cls, value: int | None) -> int | None:
        return _check_range("ttl", value, TTL_RANGE, "seconds (30 seconds to 14 days)")

    @field_validator("params", mode="before")
    @classmethod
    def _params_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            value = {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}
            for name, text in value.items():
                if len(text) > PARAM_VALUE_MAX_CHARS:
                    raise ValueError(
                        f"params.{name} is {len(text):,} characters long; a parameter value takes at most "
                        f"{PARAM_VALUE_MAX_CHARS:,} (a Viber message's longest)"
                    )
        return value

    @field_validator("from_")
    @classmethod
    def _numeric_sender(cls, value: str) -> str:
        value = value.strip()
        if not value.isdigit():
            raise ValueError(f"from must be the numeric Viber Service ID, e.g. 2000001; got {value!r}")
        return value

    def message_options(self) -> MassMessageOptions:
        """The request fields this campaign sends with every batch."""

        return MassMessageOptions(
            template_code=self.template_code,
            language=self.language,
            from_=self.from_,
            task_id=self.task_id,
            cust_space_id=self.cust_space_id,
            ttl=self.ttl,
            label=self.label,
            tag=self.tag,
            fall_back_id=self.fallback.id,
            fall_back_content=self.fallback.content,
            fall_back_rule=self.fallback.rule,
            fall_back_duration=self.fallback.duration,
        )

    def recipients_path(self, campaign_file: Path | None) -> Path | None:
        """The recipients file, resolved against the campaign file's folder."""
        if not self.recipients.file:
            return None
        path = Path(self.recipients.file).expanduser()
        if not path.is_absolute() and campaign_file is not None:
            path = campaign_file.parent / path
        return path


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, each naming the field."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(file)"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "is not a campaign field (check the spelling)"
        elif item["type"] == "missing":
            message = "is required"
        lines.append(f"{where}: {message}")
    return "\n".join(lines)


def parse_campaign(data: dict[str, Any]) -> Campaign:
    """Validate a campaign given as a dict (TOML tables), raising :class:`CampaignError`."""
    try:
        return Campaign.model_validate(data)
    except ValidationError as exc:
        raise CampaignError(describe_validation_error(exc)) from None


def load_campaign(path: Path) -> Campaign:
    """Read and validate a campaign file."""
    try:
        text = read_input_text(path, "the campaign", CAMPAIGN_MAX_BYTES)
    except FileNotFoundError:
        raise CampaignError(f"{path}: no such file") from None
    except InputFileError as exc:
        raise CampaignError(f"{path}: cannot read it: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CampaignError(f"{path}: cannot read it ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CampaignError(f"{path}: not valid TOML ({exc})") from None
    except RecursionError:
        raise CampaignError(f"{path}: arrays or tables nested too deeply to read; a campaign needs none") from None
    try:
        return parse_campaign(data)
    except CampaignError as exc:
        raise CampaignError(f"{path}:\n{exc}") from None


def campaign_to_toml(campaign: Campaign) -> str:
    """The campaign as TOML text, empty tables left out."""
    data = campaign.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not data.get("language_fallback"):
        data.pop("language_fallback", None)
    if isinstance(data.get("schedule"), dict) and not data["schedule"].get("zones"):
        data["schedule"].pop("zones", None)
    for table in ("fallback", "params", "recipients", "schedule", "languages"):
        if not data.get(table):
            data.pop(table, None)
    return tomli_w.dumps(data)


def save_campaign(campaign: Campaign, path: Path) -> Path:
    """Write the campaign atomically with mode 0600, as exports and the journal are (a
    campaign names the recipients' file and may hold personal parameters)."""

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_text_file(path) as handle:
        handle.write(campaign_to_toml(campaign))
    return path
