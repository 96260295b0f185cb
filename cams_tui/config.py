"""Settings and profiles (``config.toml``), credential resolution, and the run context.

The config file is read with ``tomllib`` and checked by :mod:`cams_tui.tables`. It is the
user's file: a change (a theme, the default profile, a profile saved in settings) edits only the
keys that changed, through ``tomlkit``, which keeps every comment, blank line and the order of
keys; nothing the user did not choose is added.
Credentials are referenced, not copied: the Alibaba Cloud environment variables, a profile of
the aliyun CLI (``~/.aliyun/config.json``), or, only when the user insists, stored in the
config file itself (then written with mode 0600).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from cams_tui import paths
from cams_tui.api.credentials import Credentials
from cams_tui.api.endpoints import DEFAULT_REGION, EndpointError, Placement, endpoint_for_region, normalize_endpoint
from cams_tui.engine.limiters.factory import check_limiter_spec
from cams_tui.errors import UserError
from cams_tui.input_files import CONFIG_MAX_BYTES, read_input_text
from cams_tui.tables import CheckedTable, Field, TableError, number, one_of, optional, text

ENV_ENDPOINT = "CAMS_TUI_ENDPOINT"
DEFAULT_RATE = 10.0
DEMO_PROFILE = "demo"


class ConfigError(UserError):
    """The config file (or a credential source) cannot be used; the message says why and where."""


CREDENTIAL_SOURCES = ("env", "aliyun", "stored")
STORED_KEYS = ("access_key_id", "access_key_secret", "security_token")


@dataclass
class CredentialSource(CheckedTable):
    """Where a profile's AccessKey comes from.

    ``env``: ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/_SECURITY_TOKEN; ``aliyun``: a profile of
    ``~/.aliyun/config.json``; ``stored``: the keys below, in the config file (then mode 0600).
    """

    source: str = "env"
    aliyun_profile: str | None = None
    """The aliyun CLI profile name (source = aliyun)."""
    access_key_id: str | None = None
    """Stored AccessKey ID (source = stored)."""
    access_key_secret: str | None = field(default=None, repr=False)
    """Stored AccessKey secret (source = stored)."""
    security_token: str | None = field(default=None, repr=False)
    """Stored STS token (source = stored)."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("source", one_of(CREDENTIAL_SOURCES)),
        Field("aliyun_profile", optional(text)),
        *(Field(name, optional(text)) for name in STORED_KEYS),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        # A key left over from a former "stored" setup would keep a secret in the file that the
        # user believes is gone: refuse it rather than carry it along silently.
        if self.source != "stored":
            leftover = [name for name in STORED_KEYS if getattr(self, name)]
            if leftover:
                raise TableError([((), f"{', '.join(leftover)} only apply when source = \"stored\"; "
                                       "remove them or set source = \"stored\"")])


def _endpoint(value: object) -> str | None:
    # An empty endpoint means "the region's": as if the key were not there.
    return None if value is None or value == "" else normalize_endpoint(text(value))


def _placement(value: object) -> Placement:
    try:
        return Placement(value)
    except ValueError:
        raise ValueError(f"must be one of {', '.join(repr(p.value) for p in Placement)}, not {value!r}") from None


def _two_letter_region(value: object) -> str:
    region = text(value).strip().upper()
    if len(region) != 2 or not region.isalpha():
        raise ValueError(f"must be a two-letter region code such as PH, not {value!r}")
    return region


def _limiter(value: object) -> str:
    return check_limiter_spec(text(value))


def _credentials(value: object) -> CredentialSource:
    return value if isinstance(value, CredentialSource) else CredentialSource.from_table(value)


@dataclass
class Profile(CheckedTable):
    """One CAMS account setup: where to send, as whom, and how fast."""

    region: str = DEFAULT_REGION
    """The CAMS region, e.g. ap-southeast-1."""
    endpoint: str | None = None
    """Overrides the region's endpoint (https, or http on loopback)."""
    placement: Placement = Placement.BODY
    """Where request parameters travel: body (full 1,000-recipient batches) or query (the
    SDK's wire format; batches shrink to fit a 64 KiB URL)."""
    from_: str | None = None
    """The Viber Service ID messages come from (``from`` in the file)."""
    cust_space_id: str | None = None
    """The CAMS space ID (CustSpaceId), if any."""
    rate: float = DEFAULT_RATE
    """SendChatappMassMessage calls per second."""
    default_region: str | None = None
    """Region of national numbers, e.g. PH."""
    lookup_rate: float = 5.0
    """ListChatappMessage calls per second (reconciliation, canary)."""
    reconcile_grace_s: float = 120.0
    """Seconds after a send before an unlisted batch counts as not sent."""
    canary_threshold: float = 0.2
    """Failure share of the canary (or of recent batches) that stops a job."""
    theme: str | None = None
    """The TUI theme's name."""
    repeat_window_h: float = 24.0
    """Hours within which sending the same template to a number already sent it is
    flagged (Review, the plan) and refused headless without ``--allow-repeat``; 0: off."""
    limiter: str = field(default="host", repr=False)
    """Where the account's rate budget is kept: ``process`` (this process alone), ``host``
    (every process of this host) or ``redis://host:port/db`` (every host using that Redis;
    ``rediss://`` for TLS). Not in the repr: a Redis URL may hold a password."""
    account: str | None = None
    """Names the account whose budget this profile shares (default: the AccessKey ID):
    profiles with AccessKeys of one account give the same name."""
    credentials: CredentialSource = field(default_factory=CredentialSource)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("region", text),
        Field("endpoint", _endpoint),
        Field("placement", _placement),
        Field("from_", optional(text), key="from"),
        Field("cust_space_id", optional(text)),
        Field("rate", number(gt=0, le=1000)),
        Field("default_region", optional(_two_letter_region)),
        Field("lookup_rate", number(gt=0, le=100)),
        Field("reconcile_grace_s", number(ge=0, le=86_400)),
        Field("canary_threshold", number(ge=0, lt=1)),
        Field("theme", optional(text)),
        Field("repeat_window_h", number(ge=0, le=24 * 366)),
        Field("limiter", _limiter),
        Field("account", optional(text)),
        Field("credentials", _credentials),
    )

    def resolved_endpoint(self) -> str:
        """The endpoint requests go to."""
        return self.endpoint or endpoint_for_region(self.region)


def _profiles(value: object) -> dict[str, Profile]:
    if not isinstance(value, dict):
        raise ValueError("must be a table of profiles, e.g. [profiles.work]")
    profiles: dict[str, Profile] = {}
    problems: list[tuple[tuple[str, ...], str]] = []
    for name, profile in value.items():
        try:
            profiles[name] = profile if isinstance(profile, Profile) else Profile.from_table(profile)
        except TableError as error:
            problems.extend(error.under(name).problems)
    if problems:
        raise TableError(problems)
    return profiles


@dataclass
class Settings(CheckedTable):
    """The whole config file."""

    default_profile: str | None = None
    """The profile used without --profile."""
    profiles: dict[str, Profile] = field(default_factory=dict)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("default_profile", optional(text)),
        Field("profiles", _profiles),
    )


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the config file; a missing file gives empty settings."""
    path = path or paths.config_path()
    try:
        # Read as the campaign is: a byte-order mark (from a Windows editor) is skipped.
        data = tomllib.loads(read_input_text(path, "the config", CONFIG_MAX_BYTES))
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables nested too deeply to read; a config needs none") from None
    try:
        settings = Settings.from_table(data)
    except TableError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    _refuse_exposed_secret(settings, path)
    return settings


def _refuse_exposed_secret(settings: Settings, path: Path) -> None:
    """A config holding a stored secret must be its owner's alone, as ssh insists for a key
    file: another user able to read it has the AccessKey."""
    holding = [
        name
        for name, profile in settings.profiles.items()
        if profile.credentials.source == "stored"
        and (profile.credentials.access_key_secret or profile.credentials.security_token)
    ]
    if not holding:
        return
    try:
        status = path.stat()
    except OSError:
        return  # read a moment ago: gone now, nothing left to expose
    if status.st_mode & 0o077:
        raise ConfigError(
            f"{path} holds a stored AccessKey secret (profile {holding[0]!r}) but other users may read it "
            f"(mode {stat.S_IMODE(status.st_mode):04o}): run  chmod 600 {path}  and try again"
        )
    if status.st_uid != os.getuid() and os.getuid() != 0:
        raise ConfigError(
            f"{path} holds a stored AccessKey secret (profile {holding[0]!r}) but belongs to another user: "
            "use a config of your own (CAMS_TUI_CONFIG), or have it chowned to you"
        )


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write ``settings`` into the config file, changing only what differs from the file.

    Keys whose value is unchanged stay as the user wrote them (comments, quotes, order);
    a changed key is replaced in place, a key no longer set is removed, a new profile is
    added with only the keys that differ from the defaults. The file is written with mode
    0600 (it may hold a stored secret) in one atomic rename.
    """
    path = path or paths.config_path()
    # For start-up time: tomlkit loads only to write the config.
    import tomlkit  # only needed to write, which a start never does

    try:
        document = tomlkit.parse(read_input_text(path, "the config", CONFIG_MAX_BYTES))
        before = Settings.from_table(document.unwrap()).to_table()
    except FileNotFoundError:
        document, before = tomlkit.document(), {}
    except (TableError, tomllib.TOMLDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise ConfigError(f"{path}: cannot be edited as it stands ({exc}); fix it first") from None
    _merge_table(document, before, settings.to_table(), defaults=Settings().to_table())
    _write_private(path, tomlkit.dumps(document))
    return path


def _merge_table(
    target: Any, before: dict[str, Any], after: dict[str, Any], *, defaults: dict[str, Any], profiles: bool = False
) -> None:
    """Change ``target`` (a tomlkit table) from ``before`` to ``after``, key by key
    (``profiles``: ``target`` is the table of profiles, whose new entries are kept even empty)."""
    # For start-up time: tomlkit loads only to write the config.
    import tomlkit

    for key in [k for k in before if k not in after]:
        if key in target:
            del target[key]
    for key, value in after.items():
        if isinstance(value, dict):
            if key not in target:
                if before.get(key) == value:
                    continue  # a table the file leaves to its defaults, still unchanged
                fresh = _without_defaults(value, key)
                if fresh or profiles or key == "profiles":
                    target[key] = tomlkit.table(is_super_table=key == "profiles")
                    _merge_table(target[key], {}, fresh, defaults={}, profiles=key == "profiles")
                continue
            _merge_table(target[key], before.get(key, {}), value, defaults={}, profiles=key == "profiles")
        elif key not in before and defaults.get(key) == value:
            continue
        elif before.get(key) != value:
            target[key] = value


def _without_defaults(table: dict[str, Any], key: str) -> dict[str, Any]:
    """A new profile (or a new table inside one) with only the keys that differ from the defaults."""
    if key == "profiles":
        return table
    default = Profile().to_table()
    out = {k: v for k, v in table.items() if default.get(k) != v}
    if isinstance(table.get("credentials"), dict):
        credentials = {
            k: v for k, v in table["credentials"].items() if CredentialSource().to_table().get(k) != v
        }
        if credentials:
            out["credentials"] = credentials
        else:
            out.pop("credentials", None)
    return out


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 in one rename: the secret never sits in a
    file with looser permissions, and a crash mid-write leaves the old file whole."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:  # mkstemp creates the file with mode 0600
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_aliyun_profile(name: str | None, path: Path | None = None) -> Credentials:
    """Credentials from a profile of the aliyun CLI's config (modes AK and StsToken)."""
    path = path or paths.aliyun_cli_config_path()
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the aliyun CLI config {path} does not exist: run `aliyun configure`") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the aliyun CLI config {path}: {exc}") from None
    wanted = name or data.get("current") or "default"
    profile = next((p for p in data.get("profiles", []) if p.get("name") == wanted), None)
    if profile is None:
        raise ConfigError(f"the aliyun CLI config {path} has no profile named {wanted!r}")
    mode = profile.get("mode", "AK")
    if mode not in {"AK", "StsToken"}:
        raise ConfigError(
            f"aliyun CLI profile {wanted!r} uses mode {mode!r}; cams-tui reads modes AK and StsToken"
        )
    key_id = profile.get("access_key_id") or ""
    secret = profile.get("access_key_secret") or ""
    if not key_id or not secret:
        raise ConfigError(f"aliyun CLI profile {wanted!r} has no access_key_id/access_key_secret")
    token = profile.get("sts_token") if mode == "StsToken" else None
    return Credentials(key_id, secret, token or None)


def resolve_credentials(profile: Profile, environ: dict[str, str] | None = None) -> Credentials | None:
    """The credentials a profile refers to, or ``None`` when none are configured."""
    source = profile.credentials
    if source.source == "aliyun":
        return read_aliyun_profile(source.aliyun_profile)
    if source.source == "stored":
        if not source.access_key_id or not source.access_key_secret:
            raise ConfigError("credentials.source is 'stored' but access_key_id or access_key_secret is missing")
        return Credentials(source.access_key_id, source.access_key_secret, source.security_token)
    return Credentials.from_env(environ)


@dataclass
class RunContext:
    """Everything one run needs to reach CAMS: the profile, endpoint, credentials, data dir."""

    profile_name: str
    profile: Profile
    endpoint: str
    credentials: Credentials | None
    data_dir: Path
    demo: bool = False

    @property
    def rate(self) -> float:
        """SendChatappMassMessage calls per second for this run."""
        return self.profile.rate


def resolve_context(
    *,
    profile_name: str | None = None,
    endpoint: str | None = None,
    data_dir: str | Path | None = None,
    settings: Settings | None = None,
    environ: dict[str, str] | None = None,
) -> RunContext:
    """Combine the config file, the environment and command-line overrides for one run."""
    env = dict(os.environ) if environ is None else environ
    settings = settings if settings is not None else load_settings()
    # Without a default_profile, a profile named "default" is the one used: it is where a
    # theme chosen without any config is remembered.
    name = profile_name or settings.default_profile or ("default" if "default" in settings.profiles else None)
    if name and name not in settings.profiles:
        known = ", ".join(sorted(settings.profiles)) or "none"
        raise ConfigError(f"no profile named {name!r} in {paths.config_path()} (profiles: {known})")
    profile = settings.profiles[name] if name else Profile()
    if endpoint is not None and not endpoint.strip():
        raise EndpointError(
            "--endpoint is empty: give a URL such as https://cams.ap-southeast-1.aliyuncs.com, or leave the "
            "flag out to use the profile's endpoint"
        )
    from_env = env.get(ENV_ENDPOINT)
    if endpoint is None and from_env is not None and not from_env.strip():
        raise EndpointError(
            f"{ENV_ENDPOINT} is set but empty: unset it (unset {ENV_ENDPOINT}) to use the profile's endpoint, "
            "or set it to a URL"
        )
    chosen = endpoint or (from_env or "").strip() or None
    resolved = normalize_endpoint(chosen) if chosen else profile.resolved_endpoint()
    return RunContext(
        profile_name=name or "default",
        profile=profile,
        endpoint=resolved,
        credentials=resolve_credentials(profile, env),
        data_dir=paths.data_dir(data_dir),
    )


def remember_theme(profile_name: str, theme: str, path: Path | None = None) -> bool:
    """Store ``theme`` in the profile ``profile_name``; return whether the file changed.

    Only that profile's ``theme`` key is written. A profile that is not in the file gets a
    table holding that one key, and ``default_profile`` is left as the user set it (or unset).
    """
    settings = load_settings(path)
    profile = settings.profiles.get(profile_name)
    if profile is not None and profile.theme == theme:
        return False
    settings.profiles[profile_name] = replace(profile or Profile(), theme=theme)
    save_settings(settings, path)
    return True


def set_default_profile(profile_name: str, path: Path | None = None) -> bool:
    """Make ``profile_name`` the ``default_profile``, editing only that key; return whether
    the file changed."""
    settings = load_settings(path)
    if settings.default_profile == profile_name:
        return False
    save_settings(replace(settings, default_profile=profile_name), path)
    return True
