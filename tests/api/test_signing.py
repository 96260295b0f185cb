"""ACS3-HMAC-SHA256: our signature against the official SDK's, which serves as the oracle.

Three levels, from the pure functions up to the SDK's real request path:

1. ``cams_tui.api.signing`` and ``alibabacloud_tea_openapi.utils.Utils.get_authorization``
   agree on generated and hand-picked method/query/headers/payload/credentials.
2. Every request ``CamsClient.build`` makes (query and body placement, AK and STS) carries
   the Authorization the SDK computes over exactly what goes on the wire.
3. The SDK's own ``Client.send_chatapp_mass_message_with_options`` (clock, nonce and network
   patched out) and our client, given the same campaign, produce the same parameters and
   header values, and our functions reproduce the SDK's Authorization.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from darabonba.core import DaraCore
from darabonba.request import DaraRequest
from hypothesis import given, settings
from hypothesis import strategies as st

from cams_tui.api import signing
from cams_tui.api.client import Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import (
    MassMessageOptions,
    Recipient,
    sender_list_json,
)
from tests.support.sdk_signing import (
    AK_ID,
    AK_SECRET,
    ENDPOINT_HOST,
    FIXED_DATE,
    FIXED_NONCE,
    FULL_OPTIONS,
    STS_TOKEN,
    make_client,
    recipients,
    request_target,
    sdk_authorization,
    sdk_authorization_of,
    sdk_send,
)

# Strings that have broken request signers before: reserved characters, the ones `quote`
# and `urlencode` disagree on, percent signs that look already encoded, non-BMP text.
TRICKY_VALUES = [
    "",
    " ",
    "  leading and trailing  ",
    "* ~ + & = %",
    "a+b",
    "a%20b",
    "100%",
    "%E4%B8%AD",
    "~tilde~",
    "!'()*",
    "/?#[]@",
    "$&+,;=:",
    "Ünïcödé ñ",
    "中文 模板",
    "مرحبا",
    "😀🎉 emoji",
    "👩🏽‍💻",
    "line\nbreak\ttab",
    "\u00a0nbsp",
    '{"json":"inside","n":[1,2]}',
]

PARAM_NAMES = st.from_regex(r"[A-Z][A-Za-z0-9]{0,15}", fullmatch=True)
PARAM_VALUES = st.one_of(
    st.sampled_from(TRICKY_VALUES),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
)
HEADER_VALUES = st.one_of(
    st.sampled_from(TRICKY_VALUES),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc",)), max_size=30),
)


# ------------------------------------------------------------------------- oracle helpers


def our_authorization(
    *,
    method: str,
    path: str,
    query: Mapping[str, str | None],
    headers: Mapping[str, str],
    payload_hash: str,
    access_key_id: str,
    secret: str,
) -> str:
    """The Authorization ``cams_tui.api.signing`` computes for the same inputs."""
    return signing.sign(
        method=method,
        path=path,
        query=signing.canonical_query(query),
        headers=headers.items(),
        payload_hash=payload_hash,
        access_key_id=access_key_id,
        secret=secret,
    )


def acs_headers(**extra: str) -> dict[str, str]:
    """The headers a CAMS request signs, plus ``extra``."""
    headers = {
        "host": ENDPOINT_HOST,
        "x-acs-action": "SendChatappMassMessage",
        "x-acs-version": "2020-06-06",
        "x-acs-date": FIXED_DATE,
        "x-acs-signature-nonce": FIXED_NONCE,
        "accept": "application/json",
        "x-acs-content-sha256": signing.EMPTY_PAYLOAD_SHA256,
    }
    headers.update(extra)
    return headers


# ----------------------------------------------------------- 1. the pure functions


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    method=st.sampled_from(["POST", "GET"]),
    path=st.sampled_from(["/", ""]),
    query=st.dictionaries(PARAM_NAMES, st.one_of(PARAM_VALUES, st.none()), max_size=8),
    extra_headers=st.dictionaries(
        st.sampled_from(
            ["user-agent", "User-Agent", "Accept", "X-Acs-Action", "content-type", "x-acs-credentials-provider"]
        ),
        HEADER_VALUES,
        max_size=4,
    ),
    nonce=HEADER_VALUES,
    body=st.one_of(st.just(b""), st.binary(max_size=64)),
    access_key_id=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=24),
    secret=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=40),
)
def test_generated_inputs_sign_like_the_sdk(
    method: str,
    path: str,
    query: dict[str, str | None],
    extra_headers: dict[str, str],
    nonce: str,
    body: bytes,
    access_key_id: str,
    secret: str,
) -> None:
    # Header names in mixed case, repeated after lowercasing ("Accept" next to "accept"),
    # and values with surrounding spaces all go through both canonicalizations.
    headers = acs_headers(**{"x-acs-signature-nonce": nonce, "x-acs-content-sha256": signing.payload_sha256(body)})
    headers.update(extra_headers)
    inputs: dict[str, Any] = dict(
        method=method,
        path=path,
        query=query,
        headers=headers,
        payload_hash=signing.payload_sha256(body),
        access_key_id=access_key_id,
        secret=secret,
    )
    assert our_authorization(**inputs) == sdk_authorization(**inputs)


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_tricky_values_sign_like_the_sdk(value: str) -> None:
    inputs: dict[str, Any] = dict(
        method="POST",
        path="/",
        query={"TemplateCode": value, "Tag": value, "FallBackContent": value + value, "Empty": ""},
        headers=acs_headers(**{"x-acs-signature-nonce": value.strip() or "n"}),
        payload_hash=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id=AK_ID,
        secret=AK_SECRET,
    )
    assert our_authorization(**inputs) == sdk_authorization(**inputs)


def test_canonical_query_encodes_like_the_sdk() -> None:
    """Spot checks of the encoding itself, independent of the HMAC."""
    query = {"B": "a b", "A": "*~+&=%", "C": "😀", "D": ""}
    assert signing.canonical_query(query) == "A=%2A~%2B%26%3D%25&B=a%20b&C=%F0%9F%98%80&D="
    from alibabacloud_tea_openapi.utils import get_canonical_query_string

    assert signing.canonical_query(query) == get_canonical_query_string(query)
    assert signing.canonical_query({}) == get_canonical_query_string({}) == ""
    assert signing.canonical_query({"A": None, "B": "1"}) == get_canonical_query_string({"A": None, "B": "1"})


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_encode_component_equals_quote(value: str) -> None:
    assert signing.encode_component(value) == quote(value, safe="~", encoding="utf-8")


def test_encode_component_covers_every_byte() -> None:
    every_char = "".join(chr(c) for c in range(0x800)) + "😀\uffff\U0010ffff"
    assert signing.encode_component(every_char) == quote(every_char, safe="~")
    assert signing.encode_component("%25%") == "%2525%25"  # escapes are never escaped again


def test_empty_query_and_empty_values_sign_like_the_sdk() -> None:
    for query in ({}, {"A": ""}, {"A": "", "B": ""}, {"A": None}):
        inputs: dict[str, Any] = dict(
            method="POST",
            path="/",
            query=query,
            headers=acs_headers(),
            payload_hash=signing.EMPTY_PAYLOAD_SHA256,
            access_key_id=AK_ID,
            secret=AK_SECRET,
        )
        assert our_authorization(**inputs) == sdk_authorization(**inputs), query


@pytest.mark.parametrize("with_params", [False, True])
def test_thousand_recipient_sender_list_signs_like_the_sdk(with_params: bool) -> None:
    params = {"name": "Zoë ❤ & co", "code": "50% off *today*", "url": "https://x.y/?a=1&b=2"}
    sender_list = sender_list_json(recipients(1000, params if with_params else None))
    assert sender_list.startswith('[{"TemplateParams":{"name":"Zoë' if with_params else '[{"To":"6591000000"}')
    query = {
        "ChannelType": "viber",
        "TemplateCode": "744c4b5c79c9432497a075bdfca36bf5",
        "Language": "en",
        "From": "12345",
        "SenderList": sender_list,
        "Ttl": "86400",
    }
    inputs: dict[str, Any] = dict(
        method="POST",
        path="/",
        query=query,
        headers=acs_headers(),
        payload_hash=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id=AK_ID,
        secret=AK_SECRET,
    )
    assert our_authorization(**inputs) == sdk_authorization(**inputs)


def test_sts_headers_sign_like_the_sdk() -> None:
    inputs: dict[str, Any] = dict(
        method="POST",
        path="/",
        query={"ChannelType": "viber"},
        headers=acs_headers(**{"x-acs-accesskey-id": AK_ID, "x-acs-security-token": STS_TOKEN}),
        payload_hash=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id=AK_ID,
        secret=AK_SECRET,
    )
    ours = our_authorization(**inputs)
    assert ours == sdk_authorization(**inputs)
    assert "x-acs-security-token" in signing.parse_authorization(ours)[1]  # type: ignore[index]


def test_a_changed_input_changes_the_signature() -> None:
    """The comparison can fail: one changed byte anywhere gives another signature."""
    base: dict[str, Any] = dict(
        method="POST",
        path="/",
        query={"A": "1"},
        headers=acs_headers(),
        payload_hash=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id=AK_ID,
        secret=AK_SECRET,
    )
    reference = sdk_authorization(**base)
    for change in (
        {"query": {"A": "2"}},
        {"headers": acs_headers(**{"x-acs-date": "2023-11-14T22:13:21Z"})},
        {"payload_hash": signing.payload_sha256(b"x")},
        {"secret": AK_SECRET + "x"},
        {"method": "GET"},
    ):
        assert our_authorization(**{**base, **change}) != reference, change


def test_parse_authorization_round_trip() -> None:
    value = our_authorization(
        method="POST",
        path="/",
        query={},
        headers=acs_headers(),
        payload_hash=signing.EMPTY_PAYLOAD_SHA256,
        access_key_id=AK_ID,
        secret=AK_SECRET,
    )
    parsed = signing.parse_authorization(value)
    assert parsed is not None
    key_id, names, sig = parsed
    assert key_id == AK_ID and names == sorted(acs_headers()) and len(sig) == 64
    assert signing.parse_authorization("ACS3-HMAC-SHA256 Credential=x") is None
    assert signing.parse_authorization("HMAC-SHA1 Credential=a,SignedHeaders=b,Signature=c") is None


# ------------------------------------------------- 2. requests the client builds


def sent_params(request: httpx.Request) -> dict[str, str]:
    """The parameters a server reads back from the request (query or form body)."""
    text = request_target(request)[1] or request.content.decode("ascii")
    return dict(parse_qsl(text, keep_blank_values=True))


MSISDN = st.from_regex(r"[1-9][0-9]{6,14}", fullmatch=True)
TEMPLATE_PARAMS = st.one_of(st.none(), st.dictionaries(PARAM_NAMES, PARAM_VALUES, max_size=3))
# fixed_dictionaries, not builds(): hypothesis would also fill in the models' aliases.
OPTIONS = st.fixed_dictionaries(
    dict(
    template_code=PARAM_VALUES.filter(bool),
    language=st.sampled_from(["en", "zh_CN", "ru", "my"]),
    from_=st.from_regex(r"[0-9]{3,10}", fullmatch=True),
    task_id=st.one_of(st.none(), PARAM_VALUES),
    tag=st.one_of(st.none(), PARAM_VALUES),
    ttl=st.one_of(st.none(), st.integers(30, 1_209_600)),
    label=st.one_of(st.none(), st.sampled_from(["promotion", "transaction"])),
    fall_back_content=st.one_of(st.none(), PARAM_VALUES),
    fall_back_rule=st.one_of(st.none(), st.sampled_from(["undelivered", "sentFailed"])),
    fall_back_duration=st.one_of(st.none(), st.integers(60, 43_200)),
    )
).map(lambda fields: MassMessageOptions(**fields))
RECIPIENT = st.fixed_dictionaries(dict(to=MSISDN, template_params=TEMPLATE_PARAMS)).map(
    lambda fields: Recipient(**fields)
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    options=OPTIONS,
    batch=st.lists(RECIPIENT, min_size=1, max_size=5),
    placement=st.sampled_from(list(Placement)),
    sts=st.booleans(),
)
def test_built_requests_carry_the_sdk_signature(
    options: MassMessageOptions, batch: list[Recipient], placement: Placement, sts: bool
) -> None:
    credentials = Credentials(AK_ID, AK_SECRET, STS_TOKEN if sts else None)
    request = options.with_recipients(batch)
    built = make_client(credentials, placement).build(request)
    # The server reads back exactly the parameters we meant to send ...
    assert sent_params(built) == request.to_params()
    # ... and the SDK, signing what is on the wire, agrees with our Authorization.
    assert built.headers["authorization"] == sdk_authorization_of(built, AK_SECRET)
    assert built.headers["x-acs-content-sha256"] == hashlib.sha256(built.content).hexdigest()
    if sts:
        assert built.headers["x-acs-security-token"] == STS_TOKEN
        assert built.headers["x-acs-accesskey-id"] == AK_ID


@pytest.mark.parametrize("sts", [False, True])
def test_thousand_recipient_body_request_carries_the_sdk_signature(sts: bool) -> None:
    credentials = Credentials(AK_ID, AK_SECRET, STS_TOKEN if sts else None)
    options = MassMessageOptions(template_code="tpl", language="en", from_="12345", tag="a b*c")
    request = options.with_recipients(recipients(1000, {"name": "Zoë 😀", "promo": "5% + 5%"}))
    built = make_client(credentials, Placement.BODY).build(request)
    assert request_target(built) == ("/", "")
    assert built.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent_params(built) == request.to_params()
    assert built.headers["authorization"] == sdk_authorization_of(built, AK_SECRET)


def test_loopback_endpoint_signs_host_with_port() -> None:
    built = make_client(Credentials(AK_ID, AK_SECRET), Placement.QUERY, "http://127.0.0.1:8080").build(
        MassMessageOptions(template_code="t", language="en", from_="1").with_recipients(recipients(2))
    )
    assert built.headers["host"] == "127.0.0.1:8080"
    assert built.headers["authorization"] == sdk_authorization_of(built, AK_SECRET)


# --------------------------------------------- 3. through the SDK's real request path


@pytest.mark.parametrize("sts", [False, True], ids=["ak", "sts"])
@pytest.mark.parametrize("size", [1, 1000])
def test_our_functions_reproduce_the_sdk_request_signature(
    sdk_capture: list[DaraRequest], sts: bool, size: int
) -> None:
    """Given the exact request the SDK's client builds, our functions give its Authorization."""
    batch = recipients(size, {"name": "Zoë ❤", "offer": "* ~ + & = %"})
    sdk_request = sdk_send(FULL_OPTIONS, batch, sts, sdk_capture)
    headers = {k: v for k, v in sdk_request.headers.items() if k != "Authorization"}
    assert ("x-acs-security-token" in headers) is sts
    assert sdk_request.query["SenderList"] == sender_list_json(batch)
    ours = our_authorization(
        method=sdk_request.method,
        path=sdk_request.pathname,
        query=sdk_request.query,
        headers=headers,
        payload_hash=headers["x-acs-content-sha256"],
        access_key_id=AK_ID,
        secret=AK_SECRET,
    )
    assert ours == sdk_request.headers["Authorization"]


@pytest.mark.parametrize("sts", [False, True], ids=["ak", "sts"])
@pytest.mark.parametrize("size", [1, 300])
def test_our_client_matches_the_sdk_client(sdk_capture: list[DaraRequest], sts: bool, size: int) -> None:
    """Same campaign through both clients: same wire parameters, same header values, and
    the same Authorization once our signature covers the headers only the SDK adds."""
    batch = recipients(size, {"name": "Zoë ❤", "offer": "* ~ + & = %"})
    sdk_request = sdk_send(FULL_OPTIONS, batch, sts, sdk_capture)
    credentials = Credentials(AK_ID, AK_SECRET, STS_TOKEN if sts else None)
    ours = make_client(credentials, Placement.QUERY).build(FULL_OPTIONS.with_recipients(batch))

    # Same parameters, on the signature's side and on the wire's.
    assert sent_params(ours) == sdk_request.query
    sdk_wire_query = urlsplit(DaraCore.compose_url(sdk_request)).query
    assert dict(parse_qsl(sdk_wire_query, keep_blank_values=True)) == sent_params(ours)
    assert request_target(ours)[0] == sdk_request.pathname == "/"
    assert ours.method == sdk_request.method

    # Every header we sign carries the SDK's value; the SDK signs two more of its own.
    parsed = signing.parse_authorization(ours.headers["authorization"])
    assert parsed is not None
    our_signed = {name: ours.headers[name] for name in parsed[1]}
    sdk_signed = {k: v for k, v in sdk_request.headers.items() if k != "Authorization"}
    for name, value in our_signed.items():
        assert sdk_signed[name] == value, name
    assert set(sdk_signed) - set(our_signed) == {"user-agent", "x-acs-credentials-provider"}

    # Over the SDK's header set, our signing of our request gives the SDK's Authorization.
    assert (
        our_authorization(
            method=ours.method,
            path=request_target(ours)[0],
            query=sent_params(ours),
            headers={**our_signed, **sdk_signed},
            payload_hash=ours.headers["x-acs-content-sha256"],
            access_key_id=AK_ID,
            secret=AK_SECRET,
        )
        == sdk_request.headers["Authorization"]
    )
    # And over our own header set, the SDK's function gives our Authorization.
    assert ours.headers["authorization"] == sdk_authorization_of(ours, AK_SECRET)
