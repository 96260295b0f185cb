"""Fixtures of the client tests: the official SDK run for real up to the socket."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alibabacloud_tea_openapi.utils import Utils as SdkUtils
from darabonba.core import DaraCore
from darabonba.request import DaraRequest
from darabonba.response import DaraResponse

from tests.support.sdk_signing import FIXED_DATE, FIXED_NONCE


@pytest.fixture
def sdk_capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[DaraRequest]]:
    """Run the SDK for real up to the socket: fixed clock and nonce, requests captured."""
    captured: list[DaraRequest] = []

    def do_action(request: DaraRequest, runtime: object = None) -> DaraResponse:
        captured.append(request)
        response = DaraResponse()
        response.status_code = 200
        response.headers = {"content-type": "application/json"}
        response.body = b'{"RequestId":"r-1","Code":"OK","GroupMessageId":"g-1"}'
        return response

    monkeypatch.setattr(SdkUtils, "get_timestamp", staticmethod(lambda: FIXED_DATE))
    monkeypatch.setattr(SdkUtils, "get_nonce", staticmethod(lambda: FIXED_NONCE))
    monkeypatch.setattr(DaraCore, "do_action", staticmethod(do_action))
    yield captured
