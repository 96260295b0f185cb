"""A bounded fuzz loop over everything an operator hands the command line: campaign files,
recipients files, config files, environment variables and flags, run through
``cams_tui.cli.main`` in this process against the simulator (dry runs mostly, small real
sends too).

Whatever comes in: no traceback, no "internal error", and only the documented exit codes
(README: 0, 1, 2, 3, 4, 130). A few hundred cases per run; hypothesis keeps the failing ones
in its database and replays them first.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings, strategies as st

from cams_tui.cli import main
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, Faults, Simulator, SimulatorConfig
from cams_tui.simulator.demo_data import DEMO_CUST_SPACE_ID, DEMO_SERVICE_ID, ORDER_SHIPPED

DOCUMENTED_EXITS = {0, 1, 2, 3, 4, 130}
COMMANDS = ["send", "resume", "reconcile", "jobs", "export", "templates", "doctor", "simulator"]
# Control characters, markup, quotes, separators, a BOM, a surrogate-free astral character.
NASTY = ["\x1b]0;pwned\x07", "\x1b[2J", "\x00", "\r", "\t", "[/]", '"', "'", ",", ";", "\ufeff", "𝟘", "=cmd|x", "\x85"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[tuple[Simulator, str]]:
    simulator = Simulator(SimulatorConfig(rate=1000, latency_ms=0, seed=1))
    with simulator.run_in_thread(port=0) as url:
        yield simulator, url


# What the service does during a case: mostly nothing wrong.
FAULTS = ["", "", "", "", "", "", "deny=1", "unsubscribed=1", "throttle=0.3", "5xx=0.3", "drop=0.3",
          "drop_before_accept=0.3", "ignore_body=1", "burst=2", "5xx_after_accept=0.5"]


def _nasty_text(max_size: int = 20) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.lists(st.sampled_from(NASTY + ["a", "1", " ", "PH", "+63"]), max_size=6).map("".join),
    )


_scalars = st.one_of(
    _nasty_text(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=True),
    st.booleans(),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_nasty_text(8), inner, max_size=3), max_leaves=6)


@st.composite
def campaigns(draw: st.DrawFn) -> bytes:
    """A campaign: a valid one with some fields changed, dropped or added, or raw bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    table: dict[str, object] = {
        "template_code": ORDER_SHIPPED, "language": "en", "from": DEMO_SERVICE_ID,
        "cust_space_id": DEMO_CUST_SPACE_ID, "params": {"name": "Ana", "order_id": "A1"},
        "recipients": {"file": "numbers.csv"},
    }
    keys = ["template_code", "language", "from", "label", "ttl", "tag", "task_id", "cust_space_id",
            "fallback", "params", "recipients", "unknown_key"]
    changed = draw(st.lists(st.sampled_from(keys), max_size=3)) if draw(st.integers(0, 9)) >= 5 else []
    for key in changed:
        if draw(st.booleans()):
            table.pop(key, None)
        else:
            table[key] = draw(_values)
    if draw(st.integers(0, 4)) == 0:
        recipients = table.get("recipients")
        if isinstance(recipients, dict):
            recipients["default_region"] = draw(st.sampled_from(["PH", "ph", "XX", "P", "1", "", "ZZ", "001"]) | _nasty_text(3))
    try:
        text = tomli_w.dumps(table)
    except (TypeError, ValueError):
        text = draw(st.text(max_size=200))
    prefix = draw(st.sampled_from(["", "\ufeff"]))
    return (prefix + text).encode("utf-8", "surrogatepass")


@st.composite
def recipients_files(draw: st.DrawFn) -> bytes:
    """Numbers, national and international, broken ones, with or without a CSV header and
    parameter columns; sometimes another encoding or raw bytes."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=300))
    number = st.one_of(
        st.integers(0, 9_999_999).map(lambda n: f"+63917{n:07d}"),
        st.integers(0, 9_999_999).map(lambda n: f"0917{n:07d}"),
        st.text("0123456789+-() ", max_size=18),
        _nasty_text(),
    )
    lines = draw(st.lists(number, min_size=0, max_size=12))
    if draw(st.booleans()):
        lines += [f"+63917{i:07d}" for i in range(draw(st.integers(1, 300)))]
    if draw(st.booleans()):
        lines = ["phone,order_id"] + [f"{line},{draw(_nasty_text(6))}" for line in lines]
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


@st.composite
def configs(draw: st.DrawFn) -> tuple[bytes, int] | None:
    """No config, a profile with some fields set to anything, or raw bytes; and its mode."""
    kind = draw(st.integers(0, 9))
    if kind <= 4:
        return None
    mode = draw(st.sampled_from([0o600, 0o644]))
    if kind == 1:
        return draw(st.binary(max_size=200)), mode
    profile: dict[str, object] = {}
    fields = ["region", "endpoint", "placement", "from", "cust_space_id", "rate", "default_region", "lookup_rate",
              "reconcile_grace_s", "canary_threshold", "theme", "limiter", "account", "credentials", "bogus"]
    for key in draw(st.lists(st.sampled_from(fields), max_size=4)):
        profile[key] = draw(_values)
    if draw(st.booleans()):
        profile["limiter"] = draw(st.sampled_from(["process", "host", "bogus"]))
    if draw(st.booleans()):
        profile["credentials"] = draw(st.sampled_from([
            {"source": "env"},
            {"source": "stored", "access_key_id": DEMO_ACCESS_KEY_ID, "access_key_secret": DEMO_ACCESS_KEY_SECRET},
            {"source": "aliyun", "aliyun_profile": "nope"},
            {"source": "env", "access_key_secret": "left-over"},
        ]))
    table = {"default_profile": draw(st.sampled_from(["p"] * 4 + ["missing"])), "profiles": {"p": profile}}
    try:
        text = tomli_w.dumps(table)
    except (TypeError, ValueError):
        text = "[profiles.p]\n"
    return (draw(st.sampled_from(["", "\ufeff"])) + text).encode("utf-8", "surrogatepass"), mode


def _flag_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(COMMANDS + ["0", "-1", "1e9", "nan", "inf", "0.5", "20%", "100%", "ph", "XX", "", " ", "--yes",
                                    "1000", "1001", "numbers.csv", "campaign.toml", "/dev/null", "/dev/full",
                                    "/nonexistent/x", "."]),
        _nasty_text(8),
    )


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    """A subcommand with some of its flags, each flag's value anything (other commands'
    names included)."""
    command = draw(st.sampled_from(["send"] * 5 + ["resume", "reconcile", "jobs", "export", "templates"]))
    argv = [command]
    if command == "send":
        argv.append(draw(st.sampled_from(["campaign.toml"] * 6 + ["numbers.csv", "missing.toml", ".", "/dev/null"])))
        argv.append("--dry-run" if draw(st.integers(0, 4)) else "--yes")
        flags = ["--recipients", "--default-region", "--suppress", "--rate", "--batch-size", "--canary",
                 "--canary-threshold", "--json", "--resend-verified", "--no-reconcile", "--lookup-rate", "--yes"]
    elif command in {"resume", "reconcile", "export"}:
        argv.append(draw(_flag_values()))
        flags = {"resume": ["--retry-unknown", "--yes", "--json", "--rate", "--no-reconcile"],
                 "reconcile": ["--no-wait", "--json", "--lookup-rate"],
                 "export": ["--format", "-o"]}[command]
    else:
        flags = ["--json"]
    takes_no_value = {"--json", "--yes", "--dry-run", "--resend-verified", "--no-reconcile", "--retry-unknown", "--no-wait"}
    for flag in draw(st.lists(st.sampled_from(flags), max_size=3 if draw(st.booleans()) else 0)):
        argv.append(flag)
        if flag not in takes_no_value:
            argv.append(draw(_flag_values()))
    if command == "reconcile" and "--no-wait" not in argv:
        argv.append("--no-wait")  # a job found would otherwise wait out its grace period
    if command == "send":
        # A real send judges its canary and settles unknowns: keep those waits short.
        argv += ["--canary-timeout", "2", "--canary-poll", "0.1", "--grace", "0"]
    return argv


ENV_NAMES = ["ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
             "CAMS_TUI_ENDPOINT", "CAMS_TUI_DATA_DIR", "CAMS_TUI_CONFIG"]


@st.composite
def environments(draw: st.DrawFn, url: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": DEMO_ACCESS_KEY_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": DEMO_ACCESS_KEY_SECRET,
        "ALIBABA_CLOUD_SECURITY_TOKEN": None,
        "CAMS_TUI_ENDPOINT": url,
    }
    changed = draw(st.lists(st.sampled_from(ENV_NAMES), max_size=2)) if draw(st.integers(0, 9)) >= 6 else []
    anything = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=10)
    for name in changed:
        if name == "CAMS_TUI_ENDPOINT":
            # Never unset and never a host name: nothing may reach a real endpoint or DNS.
            env[name] = draw(st.sampled_from(
                ["", " ", "http://example.com", "ftp://x", "http://127.0.0.1:1", url + "/path", "/dev/null", url + "/",
                 "http://[::1]:1", "https://"]
            ))
        elif name == "CAMS_TUI_DATA_DIR":
            # Inside the case's folder (or a file or device), never a system folder.
            env[name] = draw(st.sampled_from(["", " ", "numbers.csv", "/dev/null", "."]) | anything.map(
                lambda text: "./" + text.replace("/", "_")))
        else:
            env[name] = draw(st.none() | st.sampled_from(["", " ", "/dev/null", "."]) | anything)
    return env


@contextlib.contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_case(folder: Path, argv: list[str], env: dict[str, str | None]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    old_cwd = os.getcwd()
    os.chdir(folder)
    try:
        with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse: a usage error (2) or --help (0)
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(old_cwd)
    return code, out.getvalue() + err.getvalue()


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_fuzzed_inputs_give_documented_exits_and_never_a_traceback(
    simulator: tuple[Simulator, str], data: st.DataObject
) -> None:
    service, simulator_url = simulator
    spec = data.draw(st.sampled_from(FAULTS), label="faults")
    service.faults = Faults.parse(spec + (",seed=3" if spec else ""))
    campaign = data.draw(campaigns(), label="campaign")
    numbers = data.draw(recipients_files(), label="recipients")
    config = data.draw(configs(), label="config")
    argv = data.draw(command_lines(), label="argv")
    env = data.draw(environments(simulator_url), label="env")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        (folder / "campaign.toml").write_bytes(campaign)
        (folder / "numbers.csv").write_bytes(numbers)
        env.setdefault("CAMS_TUI_DATA_DIR", str(folder / "data"))
        if env.get("CAMS_TUI_DATA_DIR") is None:
            env["CAMS_TUI_DATA_DIR"] = str(folder / "data")
        if config is not None:
            (folder / "config.toml").write_bytes(config[0])
            os.chmod(folder / "config.toml", config[1])
        if "CAMS_TUI_CONFIG" not in env or env["CAMS_TUI_CONFIG"] is None:
            env["CAMS_TUI_CONFIG"] = str(folder / "config.toml")
        code, output = _run_case(folder, argv, env)
    service.faults = Faults()
    event(f"{argv[0]} exit {code}")
    if os.environ.get("FUZZ_SHOW"):  # with --hypothesis-show-statistics: what each case ended with
        event(f"{argv[0]} {code}: {output.strip().splitlines()[-1][:110] if output.strip() else ''}")
    assert "Traceback" not in output, (argv, output)
    assert "internal error" not in output and "unexpected error" not in output, (argv, output)
    assert code in DOCUMENTED_EXITS, (code, argv, output)
