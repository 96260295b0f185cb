"""The official SDK as the oracle of request signing: fixed credentials, clock and nonce, the
Authorization the SDK computes, and a send through the SDK's own client up to the socket."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import parse_qsl

import httpx
from alibabacloud_cams20200606 import models as sdk_models
from alibabacloud_cams20200606.client import Client as SdkClient
from alibabacloud_tea_openapi.models import Config as SdkConfig
from alibabacloud_tea_openapi.utils import Utils as SdkUtils
from darabonba.request import DaraRequest
from darabonba.runtime import RuntimeOptions

from cams_tui.api import signing
from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.models import MassMessageOptions, Recipient

ALGORITHM = "ACS3-HMAC-SHA256"
ENDPOINT_HOST = "cams.ap-southeast-1.aliyuncs.com"
FIXED_EPOCH = 1_700_000_000.0
FIXED_DATE = "2023-11-14T22:13:20Z"  # FIXED_EPOCH as the SDK formats x-acs-date
FIXED_NONCE = "3f2a9c1e5b7d4e0f8a6b2c4d6e8f0a1b"
AK_ID = "LTAI5tExampleKeyId"
AK_SECRET = "kX9-example+Secret/=é"
STS_TOKEN = "CAIS+example/STS==token"


def sdk_authorization(
    *,
    method: str,
    path: str,
    query: Mapping[str, str | None],
    headers: Mapping[str, str],
    payload_hash: str,
    access_key_id: str,
    secret: str,
) -> str:
    """The Authorization the SDK computes for these inputs."""
    request = DaraRequest()
    request.method = method
    request.pathname = path
    request.query = dict(query)
    request.headers = dict(headers)
    return SdkUtils.get_authorization(request, ALGORITHM, payload_hash, access_key_id, secret)


def numbers(count: int, start: int = 6591000000) -> list[str]:
    """``count`` distinct digits-only E.164 numbers."""
    return [str(start + i) for i in range(count)]


def recipients(count: int, params: Mapping[str, str] | None = None) -> list[Recipient]:
    """``count`` recipients, each with its own copy of ``params`` plus a per-row value."""
    return [
        Recipient(to=number, template_params=None if params is None else {**params, "row": str(i)})
        for i, number in enumerate(numbers(count))
    ]


def make_client(credentials: Credentials, placement: Placement, endpoint: str = "https://" + ENDPOINT_HOST) -> CamsClient:
    """A client at a fixed clock and nonce, so that its signatures can be compared."""
    return CamsClient(
        credentials,
        endpoint,
        placement=placement,
        clock=lambda: FIXED_EPOCH,
        nonce=lambda: FIXED_NONCE,
    )


def request_target(request: httpx.Request) -> tuple[str, str]:
    """The path and query of the request line, as the transport writes it.

    Query placement hands the request line to httpx through its "target" extension.
    """
    target = request.extensions.get("target")
    if target is None:
        return request.url.path, request.url.query.decode("ascii")
    path, _, query = target.decode("ascii").partition("?")
    return path, query


def sdk_authorization_of(request: httpx.Request, secret: str) -> str:
    """What the SDK would sign over this request as it goes on the wire."""
    parsed = signing.parse_authorization(request.headers["authorization"])
    assert parsed is not None
    access_key_id, signed_names, _ = parsed
    path, query_text = request_target(request)
    query = dict(parse_qsl(query_text, keep_blank_values=True))
    return sdk_authorization(
        method=request.method,
        path=path,
        query=query,
        headers={name: request.headers[name] for name in signed_names},
        payload_hash=hashlib.sha256(request.content).hexdigest(),
        access_key_id=access_key_id,
        secret=secret,
    )


def sdk_send(options: MassMessageOptions, batch: list[Recipient], sts: bool, captured: list[DaraRequest]) -> DaraRequest:
    """Send through the SDK's client and return the request it would have put on the wire."""
    config = SdkConfig(
        access_key_id=AK_ID,
        access_key_secret=AK_SECRET,
        security_token=STS_TOKEN if sts else None,
        endpoint=ENDPOINT_HOST,
    )
    sdk_request = sdk_models.SendChatappMassMessageRequest(
        channel_type=options.channel_type,
        template_code=options.template_code,
        language=options.language,
        from_=options.from_,
        task_id=options.task_id,
        cust_space_id=options.cust_space_id,
        ttl=options.ttl,
        label=options.label,
        tag=options.tag,
        fall_back_id=options.fall_back_id,
        fall_back_content=options.fall_back_content,
        fall_back_rule=options.fall_back_rule,
        fall_back_duration=options.fall_back_duration,
        sender_list=[
            sdk_models.SendChatappMassMessageRequestSenderList(to=r.to, template_params=r.template_params)
            for r in batch
        ],
    )
    response = SdkClient(config).send_chatapp_mass_message_with_options(sdk_request, RuntimeOptions())
    assert response.body.group_message_id == "g-1"
    assert len(captured) == 1
    return captured[0]


FULL_OPTIONS = MassMessageOptions(
    template_code="744c4b5c79c9432497a075bdfca36bf5",
    language="en",
    from_="12345",
    task_id="task 1/2 *",
    cust_space_id="cs-123",
    ttl=86_400,
    label="promotion",
    tag="spring & summer",
    fall_back_id="fb-1",
    fall_back_content="Hi ~ 50% off + free 😀",
    fall_back_rule="sentFailed",
    fall_back_duration=600,
)
