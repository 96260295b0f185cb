"""config.toml: round-trip, errors that name the key, aliyun CLI profiles, and where secrets go."""

from __future__ import annotations

import json
from dataclasses import replace
import os
import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from cams_tui import paths
from cams_tui.api.client import Placement
from cams_tui.config import (
    ConfigError,
    CredentialSource,
    Profile,
    Settings,
    load_settings,
    read_aliyun_profile,
    remember_theme,
    resolve_context,
    resolve_credentials,
    save_settings,
)
from tests.support.configs import COMMENTED_CONFIG

SECRET = "s3cr3t-Do-Not-Leak-7f1e"
TOKEN = "sts-TOKEN-Do-Not-Leak-93ab"


def _full_settings() -> Settings:
    return Settings(
        default_profile="work",
        profiles={
            "work": Profile(
                region="ap-southeast-1",
                endpoint="https://cams.ap-southeast-1.aliyuncs.com",
                placement=Placement.QUERY,
                from_="2000001",
                cust_space_id="cams-abc123",
                rate=7.5,
                default_region="ph",
                theme="cams-viber",
                credentials=CredentialSource(source="aliyun", aliyun_profile="prod"),
            ),
            "local sim": Profile(endpoint="http://127.0.0.1:8080", credentials=CredentialSource()),
            "stored": Profile(
                credentials=CredentialSource(
                    source="stored", access_key_id="LTAI5tExampleKey", access_key_secret=SECRET, security_token=TOKEN
                )
            ),
        },
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---------------------------------------------------------------- round trip


def test_round_trip_is_equal(tmp_path: Path) -> None:
    original = _full_settings()
    path = save_settings(original, tmp_path / "config.toml")
    assert load_settings(path) == original


def test_written_file_is_plain_toml_with_the_documented_keys(tmp_path: Path) -> None:
    path = save_settings(_full_settings(), tmp_path / "config.toml")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    work = data["profiles"]["work"]
    assert work["from"] == "2000001"  # the CAMS parameter's name, not the Python one
    assert work["placement"] == "query"
    assert work["default_region"] == "PH"
    assert work["credentials"] == {"source": "aliyun", "aliyun_profile": "prod"}
    assert "theme" in work and "endpoint" not in data["profiles"]["stored"]  # None is left out


def test_a_hand_written_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        'default_profile = "ph"\n[profiles.ph]\nregion = "ap-southeast-1"\nfrom = "123"\nrate = 3\n'
        '[profiles.ph.credentials]\nsource = "env"\n',
        encoding="utf-8",
    )
    loaded = load_settings(path)
    assert loaded.profiles["ph"].from_ == "123"
    assert loaded.profiles["ph"].rate == 3.0


def test_missing_file_gives_empty_settings(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "absent.toml") == Settings()


_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
_values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@hypothesis_settings(max_examples=40, deadline=None)
@given(name=_names, sender=_values, space=_values, rate=st.floats(min_value=0.01, max_value=1000))
def test_round_trip_any_text(tmp_path_factory: pytest.TempPathFactory, name: str, sender: str, space: str, rate: float) -> None:
    settings = Settings(
        default_profile=name,
        profiles={name: Profile(from_=sender, cust_space_id=space, rate=rate, theme=name)},
    )
    path = save_settings(settings, tmp_path_factory.mktemp("rt") / "config.toml")
    assert load_settings(path) == settings


# ---------------------------------------------------------------- errors name the key


def _load_text(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)


def test_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = _load_text(tmp_path, '[profiles.work]\nregoin = "ap-southeast-1"\n')
    assert "profiles.work.regoin: unknown key" in message
    assert "did you mean 'region'?" in message
    assert str(tmp_path / "config.toml") in message


def test_unknown_credentials_key_lists_the_known_ones(tmp_path: Path) -> None:
    message = _load_text(tmp_path, '[profiles.w.credentials]\nsource = "env"\naccess_key = "x"\n')
    assert "profiles.w.credentials.access_key: unknown key" in message
    assert "aliyun_profile" in message


def test_bad_values_name_their_keys(tmp_path: Path) -> None:
    message = _load_text(
        tmp_path,
        '[profiles.w]\nrate = 0\ndefault_region = "Philippines"\nplacement = "header"\n'
        '[profiles.w.credentials]\nsource = "vault"\n',
    )
    for key in ("profiles.w.rate", "profiles.w.default_region", "profiles.w.placement", "profiles.w.credentials.source"):
        assert key in message


def test_plain_http_endpoint_to_a_remote_host_is_refused(tmp_path: Path) -> None:
    message = _load_text(tmp_path, '[profiles.w]\nendpoint = "http://cams.example.com"\n')
    assert "profiles.w.endpoint" in message


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    message = _load_text(tmp_path, "[profiles.w]\nrate = = 3\n")
    assert "is not valid TOML" in message and "line 2" in message


def test_leftover_stored_secret_is_refused_and_not_echoed(tmp_path: Path) -> None:
    message = _load_text(
        tmp_path, f'[profiles.w.credentials]\nsource = "env"\naccess_key_secret = "{SECRET}"\n'
    )
    assert "profiles.w.credentials" in message and "access_key_secret" in message
    assert SECRET not in message


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    settings = Settings(profiles={"a": Profile(), "b": Profile()})
    with pytest.raises(ConfigError, match=r"no profile named 'c'.*profiles: a, b"):
        resolve_context(profile_name="c", settings=settings, environ={})


# ---------------------------------------------------------------- the aliyun CLI's config


def _aliyun_config(path: Path, current: str = "default") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "current": current,
                "profiles": [
                    {"name": "default", "mode": "AK", "access_key_id": "LTAIdefault0001", "access_key_secret": SECRET,
                     "region_id": "ap-southeast-1"},
                    {"name": "sts", "mode": "StsToken", "access_key_id": "STS.tempkey0002", "access_key_secret": SECRET,
                     "sts_token": TOKEN},
                    {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "x"},
                    {"name": "empty", "mode": "AK", "access_key_id": "", "access_key_secret": ""},
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_aliyun_ak_profile_is_read(tmp_path: Path) -> None:
    path = _aliyun_config(tmp_path / "config.json")
    creds = read_aliyun_profile("default", path)
    assert creds.access_key_id == "LTAIdefault0001"
    assert creds.reveal_secret() == SECRET
    assert creds.security_token is None


def test_aliyun_sts_profile_carries_the_token(tmp_path: Path) -> None:
    creds = read_aliyun_profile("sts", _aliyun_config(tmp_path / "config.json"))
    assert creds.access_key_id == "STS.tempkey0002"
    assert creds.security_token == TOKEN
    assert SECRET not in repr(creds) and TOKEN not in repr(creds)


def test_aliyun_current_profile_is_used_when_none_is_named(tmp_path: Path) -> None:
    creds = read_aliyun_profile(None, _aliyun_config(tmp_path / "config.json", current="sts"))
    assert creds.access_key_id == "STS.tempkey0002"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("role", "mode 'RamRoleArn'"), ("empty", "no access_key_id"), ("nope", "no profile named 'nope'")],
)
def test_aliyun_unusable_profiles_say_why(tmp_path: Path, name: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        read_aliyun_profile(name, _aliyun_config(tmp_path / "config.json"))


def test_aliyun_missing_file_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="aliyun configure"):
        read_aliyun_profile(None, tmp_path / "absent.json")


def test_profile_with_aliyun_source_reads_home_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    _aliyun_config(tmp_path / ".aliyun" / "config.json")
    profile = Profile(credentials=CredentialSource(source="aliyun", aliyun_profile="sts"))
    creds = resolve_credentials(profile, environ={})
    assert creds is not None and creds.security_token == TOKEN


def test_env_credentials_follow_the_alibaba_cloud_names() -> None:
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
        "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN,
    }
    creds = resolve_credentials(Profile(), env)
    assert creds is not None and creds.access_key_id == "LTAIenv" and creds.security_token == TOKEN
    assert resolve_credentials(Profile(), {}) is None


def test_stored_source_without_keys_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="access_key_secret is missing"):
        resolve_credentials(Profile(credentials=CredentialSource(source="stored", access_key_id="LTAI")), {})


# ---------------------------------------------------------------- secrets stay where the user chose


def test_config_file_is_written_with_mode_0600(tmp_path: Path) -> None:
    path = save_settings(_full_settings(), tmp_path / "new" / "config.toml")
    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700  # a folder we created is private too


def test_rewriting_a_loose_file_makes_it_0600(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("", encoding="utf-8")
    os.chmod(path, 0o644)
    save_settings(_full_settings(), path)
    assert _mode(path) == 0o600
    assert SECRET in path.read_text(encoding="utf-8")  # stored, as the "stored" profile asked


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    save_settings(_full_settings(), tmp_path / "config.toml")
    save_settings(_full_settings(), tmp_path / "config.toml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_a_failed_save_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save_settings(Settings(default_profile="old"), tmp_path / "config.toml")

    def explode(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", explode)
    with pytest.raises(OSError):
        save_settings(_full_settings(), path)
    assert load_settings(path).default_profile == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_secrets_from_env_or_aliyun_are_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(paths.ENV_CONFIG, str(tmp_path / "cfg" / "config.toml"))
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenv")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET)
    aliyun = _aliyun_config(tmp_path / "home" / ".aliyun" / "config.json")
    settings = Settings(
        default_profile="env",
        profiles={
            "env": Profile(),
            "cli": Profile(credentials=CredentialSource(source="aliyun", aliyun_profile="sts")),
        },
    )
    save_settings(settings)
    for name in ("env", "cli"):
        context = resolve_context(profile_name=name, data_dir=tmp_path / "data")
        assert context.credentials is not None
        assert SECRET not in repr(context) and TOKEN not in repr(context)
    save_settings(load_settings())  # e.g. the TUI remembering a theme
    for file in tmp_path.rglob("*"):
        if file.is_file() and file != aliyun:
            text = file.read_text(encoding="utf-8", errors="replace")
            assert SECRET not in text and TOKEN not in text, file


def test_stored_secret_never_shows_in_reprs_or_errors(tmp_path: Path) -> None:
    settings = _full_settings()
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert TOKEN not in repr(settings.profiles["stored"])
    path = tmp_path / "config.toml"
    path.write_text(
        f'[profiles.w.credentials]\nsource = "stored"\naccess_key_id = "LTAI"\naccess_key_secret = "{SECRET}"\nrate = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert SECRET not in str(caught.value)


# ---------------------------------------------------------------- paths


def test_config_path_honours_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_CONFIG, str(tmp_path / "elsewhere.toml"))
    assert paths.config_path() == tmp_path / "elsewhere.toml"
    assert paths.config_dir() == tmp_path


def test_config_path_defaults_to_the_user_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ENV_CONFIG, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert paths.config_path() == tmp_path / "cams-tui" / "config.toml"


def test_endpoint_environment_variable_overrides_the_profile(tmp_path: Path) -> None:
    context = resolve_context(
        settings=Settings(), environ={"CAMS_TUI_ENDPOINT": "http://127.0.0.1:9999"}, data_dir=tmp_path
    )
    assert context.endpoint == "http://127.0.0.1:9999"
    assert context.credentials is None


# ---------------------------------------------------------------- the theme is remembered in the profile


def test_remember_theme_updates_the_profile_and_keeps_the_rest(tmp_path: Path) -> None:
    path = save_settings(_full_settings(), tmp_path / "config.toml")
    assert remember_theme("work", "cams-light", path)
    assert not remember_theme("work", "cams-light", path)  # unchanged: no write
    loaded = load_settings(path)
    assert loaded.profiles["work"].theme == "cams-light"
    assert loaded.profiles["stored"] == _full_settings().profiles["stored"]
    assert _mode(path) == 0o600


def test_remember_theme_without_a_config_writes_that_key_only(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    assert remember_theme("default", "cams-viber", path)
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"profiles": {"default": {"theme": "cams-viber"}}}
    loaded = load_settings(path)
    assert loaded.default_profile is None, "nobody chose a default profile"
    context = resolve_context(settings=loaded, environ={}, data_dir=tmp_path)
    assert context.profile.theme == "cams-viber"


def test_private_dirs_created_on_the_way_are_private_too(tmp_path: Path) -> None:
    from cams_tui.paths import ensure_private_dir

    os.chmod(tmp_path, 0o755)
    target = ensure_private_dir(tmp_path / "data" / "demo")
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755, "an existing folder is left alone"


def test_a_stored_secret_in_a_config_others_can_read_is_refused_with_the_chmod(tmp_path: Path) -> None:
    path = save_settings(_full_settings(), tmp_path / "config.toml")
    assert load_settings(path).profiles["stored"].credentials.access_key_secret == SECRET  # 0600: fine
    for mode in (0o644, 0o640, 0o604):
        os.chmod(path, mode)
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        message = str(caught.value)
        assert f"chmod 600 {path}" in message and f"{mode:04o}" in message and "'stored'" in message
        assert SECRET not in message and TOKEN not in message
    # Without a stored secret, a readable config is fine (it holds nothing to steal).
    path.write_text('[profiles.w]\nregion = "ap-southeast-1"\n', encoding="utf-8")
    os.chmod(path, 0o644)
    assert "w" in load_settings(path).profiles


@pytest.mark.parametrize("where", ["flag", "env"])
def test_an_empty_endpoint_is_refused_rather_than_meaning_production(where: str) -> None:
    from cams_tui.api.endpoints import EndpointError

    kwargs = {"endpoint": "  "} if where == "flag" else {"environ": {"CAMS_TUI_ENDPOINT": ""}}
    with pytest.raises(EndpointError, match="empty"):
        resolve_context(settings=Settings(), **kwargs)  # type: ignore[arg-type]


def test_changing_theme_and_default_profile_keeps_the_rest_byte_identical(tmp_path: Path) -> None:
    from cams_tui.config import set_default_profile

    path = tmp_path / "config.toml"
    path.write_text(COMMENTED_CONFIG, encoding="utf-8")
    assert remember_theme("work", "cams-light", path)
    assert set_default_profile("staging", path)
    expected = COMMENTED_CONFIG.replace('theme = "cams-dark"', 'theme = "cams-light"').replace(
        'default_profile = "work"', 'default_profile = "staging"'
    )
    assert path.read_text(encoding="utf-8") == expected
    assert _mode(path) == 0o600


def test_a_theme_for_a_profile_not_in_the_file_adds_only_that_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED_CONFIG, encoding="utf-8")
    assert remember_theme("other", "cams-viber", path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith(COMMENTED_CONFIG)
    assert tomllib.loads(text[len(COMMENTED_CONFIG):]) == {"profiles": {"other": {"theme": "cams-viber"}}}


def test_saving_a_profile_from_settings_keeps_other_profiles_comments(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(COMMENTED_CONFIG, encoding="utf-8")
    settings = load_settings(path)
    settings.profiles["staging"] = replace(settings.profiles["staging"], rate=3.0)
    save_settings(settings, path)
    text = path.read_text(encoding="utf-8")
    assert "# My cams-tui setup" in text and "# rate = 5  (was too slow)" in text and "# a test gateway" in text
    assert "region = 'ap-southeast-1'   # single quotes on purpose" in text
    assert load_settings(path).profiles["staging"].rate == 3.0
    assert "lookup_rate" not in text, "defaults are not padded in"
