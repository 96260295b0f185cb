"""Where each operation's parameters travel, with the SDK 5.3.1 client as the oracle.

Every operation but SendChatappMassMessage travels exactly as the SDK sends it: every
parameter in the query string, an empty body, whatever placement the client (the profile)
says. Only SendChatappMassMessage honours ``placement``: the form body by default, or the
query string.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from alibabacloud_cams20200606 import models as sdk_models
from alibabacloud_cams20200606.client import Client as SdkClient
from alibabacloud_tea_openapi.models import Config as SdkConfig
from darabonba.core import DaraCore
from darabonba.request import DaraRequest
from darabonba.runtime import RuntimeOptions

from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import (
    CamsRequest,
    ListMessagesRequest,
    ListTemplatesRequest,
    ListViberServicesRequest,
    Page,
    SendMessageRequest,
    TemplateDetailRequest,
)
from tests.support.sdk_signing import (
    AK_ID,
    AK_SECRET,
    ENDPOINT_HOST,
    FULL_OPTIONS,
    make_client,
    recipients,
    request_target,
    sdk_authorization_of,
    sdk_send,
)

SdkCall = Callable[[SdkClient], Any]

# Each operation we call other than the mass send: our request, and the SDK's call with the
# same values.
OPERATIONS: dict[str, tuple[CamsRequest, SdkCall]] = {
    "SendChatappMessage": (
        SendMessageRequest(
            from_="12345", to="6591000001", template_code="tpl 1", language="en",
            template_params={"name": "Zoë ❤", "offer": "* ~ + & = %"}, cust_space_id="cs-1", tag="a&b",
        ),
        lambda sdk: sdk.send_chatapp_message_with_options(
            sdk_models.SendChatappMessageRequest(
                channel_type="viber", type="template", from_="12345", to="6591000001",
                template_code="tpl 1", language="en", template_params={"name": "Zoë ❤", "offer": "* ~ + & = %"},
                cust_space_id="cs-1", tag="a&b",
            ),
            RuntimeOptions(),
        ),
    ),
    "ListChatappTemplate": (
        ListTemplatesRequest(page=Page(index=2, size=50), cust_space_id="cs-1", name="spring sale"),
        lambda sdk: sdk.list_chatapp_template_with_options(
            sdk_models.ListChatappTemplateRequest(
                template_type="VIBER", audit_status="pass", cust_space_id="cs-1", name="spring sale",
                page=sdk_models.ListChatappTemplateRequestPage(index=2, size=50),
            ),
            RuntimeOptions(),
        ),
    ),
    "GetChatappTemplateDetail": (
        TemplateDetailRequest(template_code="tpl-1", language="zh_CN", cust_space_id="cs-1"),
        lambda sdk: sdk.get_chatapp_template_detail_with_options(
            sdk_models.GetChatappTemplateDetailRequest(
                template_code="tpl-1", language="zh_CN", template_type="VIBER", cust_space_id="cs-1"
            ),
            RuntimeOptions(),
        ),
    ),
    "ListViberServiceMessage": (
        ListViberServicesRequest(cust_space_id="cs-1"),
        lambda sdk: sdk.list_viber_service_message_with_options(
            sdk_models.ListViberServiceMessageRequest(cust_space_id="cs-1"), RuntimeOptions()
        ),
    ),
    "ListChatappMessage": (
        ListMessagesRequest(
            business_number="12345", cust_space_id="cs-1", page=Page(index=1, size=100),
            group_message_id="g-1", user_number="6591000001", event_action="DOWN",
            start_time=1_700_000_000_000, end_time=1_700_000_600_000,
        ),
        lambda sdk: sdk.list_chatapp_message_with_options(
            sdk_models.ListChatappMessageRequest(
                channel_type="viber", business_number="12345", cust_space_id="cs-1",
                page=sdk_models.ListChatappMessageRequestPage(index=1, size=100),
                group_message_id="g-1", user_number="6591000001", event_action="DOWN",
                start_time=1_700_000_000_000, end_time=1_700_000_600_000,
            ),
            RuntimeOptions(),
        ),
    ),
}


def sdk_request_of(call: SdkCall, captured: list[DaraRequest]) -> DaraRequest:
    config = SdkConfig(access_key_id=AK_ID, access_key_secret=AK_SECRET, endpoint=ENDPOINT_HOST)
    call(SdkClient(config))
    assert len(captured) == 1
    return captured[0]


def wire_query(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request_target(request)[1], keep_blank_values=True))


@pytest.mark.parametrize("placement", list(Placement), ids=lambda p: f"profile-{p.value}")
@pytest.mark.parametrize("action", list(OPERATIONS))
def test_every_other_operation_travels_as_the_sdk_sends_it(
    sdk_capture: list[DaraRequest], action: str, placement: Placement
) -> None:
    ours_request, sdk_call = OPERATIONS[action]
    assert ours_request.action == action
    sdk_request = sdk_request_of(sdk_call, sdk_capture)
    assert sdk_request.headers["x-acs-action"] == action
    # The SDK: every parameter in the query string, nothing in the body.
    assert not sdk_request.body
    assert sdk_request.headers["x-acs-content-sha256"] == hashlib.sha256(b"").hexdigest()

    client = make_client(Credentials(AK_ID, AK_SECRET), placement)
    assert client.placement_for(action) is Placement.QUERY
    ours = client.build(ours_request)
    assert ours.content == b""
    assert "content-type" not in ours.headers
    assert wire_query(ours) == sdk_request.query
    sdk_wire = urlsplit(DaraCore.compose_url(sdk_request)).query
    assert dict(parse_qsl(sdk_wire, keep_blank_values=True)) == wire_query(ours)
    assert ours.headers["x-acs-content-sha256"] == sdk_request.headers["x-acs-content-sha256"]
    assert ours.headers["authorization"] == sdk_authorization_of(ours, AK_SECRET)


@pytest.mark.parametrize("placement", list(Placement), ids=lambda p: p.value)
def test_only_the_mass_send_honours_the_placement(sdk_capture: list[DaraRequest], placement: Placement) -> None:
    batch = recipients(3, {"name": "Zoë"})
    sdk_request = sdk_send(FULL_OPTIONS, batch, False, sdk_capture)
    client = make_client(Credentials(AK_ID, AK_SECRET), placement)
    assert client.placement_for("SendChatappMassMessage") is placement
    ours = client.build(FULL_OPTIONS.with_recipients(batch))
    if placement is Placement.QUERY:
        assert ours.content == b""
        assert wire_query(ours) == sdk_request.query
    else:
        assert request_target(ours) == ("/", "")
        assert ours.headers["content-type"] == "application/x-www-form-urlencoded"
        assert dict(parse_qsl(ours.content.decode("ascii"), keep_blank_values=True)) == sdk_request.query
    assert ours.headers["authorization"] == sdk_authorization_of(ours, AK_SECRET)


async def test_a_body_placed_client_sends_listings_in_the_query_over_http() -> None:
    """Through the real send path too, not only ``build``."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"RequestId": "r-1", "Code": "OK", "Data": []})

    async with CamsClient(
        Credentials(AK_ID, AK_SECRET), placement=Placement.BODY, transport=httpx.MockTransport(handler)
    ) as client:
        await client.list_viber_services(cust_space_id="cs-1")
        await client.list_messages(ListMessagesRequest(business_number="12345", cust_space_id="cs-1"))
    assert [r.headers["x-acs-action"] for r in seen] == ["ListViberServiceMessage", "ListChatappMessage"]
    for request in seen:
        assert request.content == b""
        assert wire_query(request)["CustSpaceId"] == "cs-1"
