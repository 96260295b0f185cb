"""Every documented CAMS and gateway code maps to its outcome, and the sender acts on it.

The client's half: each code, with the HTTP status it is documented with, through a real
httpx exchange (``httpx.MockTransport``) into ``send_mass_message``. The sender's half: a
scripted gateway answers some batches of a journaled job with one code, and the journal
shows what was sent, stopped, split or left unknown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from cams_tui.api.client import CamsClient, Placement
from cams_tui.api.credentials import Credentials
from cams_tui.api.errors import CamsApiError, CamsError, Outcome
from cams_tui.api.models import MassMessageOptions, Recipient
from cams_tui.engine.canary_slice import canary_indices
from cams_tui.engine.journal import ENV_KILL_AT_COMMIT, BatchState, Journal, JobState
from cams_tui.engine.planning import plan_batches, replan_for_placement, sender_items, split_in_halves
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.sender import Sender
from tests.support.engine import OPTIONS, items, make_job

ENDPOINT = "https://cams.ap-southeast-1.aliyuncs.com"
CREDENTIALS = Credentials("LTAI5tExampleKeyId", "example-secret")
SEND_OPTIONS = MassMessageOptions(template_code="tpl-1", language="en", from_="12345")
HTML_413 = "<html><head><title>413 Request Entity Too Large</title></head><body>Tengine</body></html>"
HTML_414 = "<html><head><title>414 Request-URI Too Large</title></head><body>Tengine</body></html>"

Handler = Callable[[httpx.Request], httpx.Response]


def gateway_error(code: str, message: str = "refused") -> dict[str, Any]:
    return {"RequestId": "req-42", "HostId": "cams.ap-southeast-1.aliyuncs.com", "Code": code, "Message": message}


async def error_of(status: int, body: Any, placement: Placement = Placement.BODY) -> CamsError:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"content-type": "text/html"})
        return httpx.Response(status, json=body)

    async with CamsClient(CREDENTIALS, ENDPOINT, placement=placement, transport=httpx.MockTransport(handler)) as cams:
        with pytest.raises(CamsError) as caught:
            await cams.send_mass_message(SEND_OPTIONS.with_recipients([Recipient(to="6591000001")]))
    return caught.value


# (code, HTTP status, outcome, whether the job stops) for every code CAMS-API.md documents.
DOCUMENTED = [
    # the caller is refused: clock, account, permission, credentials, subscription
    ("InvalidTimeStamp.Expired", 400, Outcome.FATAL, True),
    ("InvalidTimeStamp.Format", 400, Outcome.FATAL, True),
    ("Forbidden", 403, Outcome.FATAL, True),
    ("Forbidden.RiskControl", 403, Outcome.FATAL, True),
    ("Forbidden.RAM", 403, Outcome.FATAL, True),
    ("CHAT.APIError", 500, Outcome.UNKNOWN, True),
    ("CHAT.APIError", 400, Outcome.FATAL, True),
    ("Ram.PermissionDeny", 400, Outcome.FATAL, True),
    ("Product.Unsubscript", 400, Outcome.FATAL, True),
    ("Unknown.ResourceOwnerId", 400, Outcome.FATAL, True),
    ("InvalidAccessKeyId.NotFound", 404, Outcome.FATAL, True),
    ("InvalidAccessKeyId.Inactive", 400, Outcome.FATAL, True),
    ("SignatureDoesNotMatch", 400, Outcome.FATAL, True),
    ("IncompleteSignature", 400, Outcome.FATAL, True),
    ("Authentication.NoAuth", 400, Outcome.FATAL, True),
    ("InvalidApi.NotFound", 404, Outcome.FATAL, True),
    # throttling: not accepted, retried later
    ("System.LimitControl", 400, Outcome.THROTTLED, False),
    ("Throttling", 400, Outcome.THROTTLED, False),
    ("Throttling.User", 400, Outcome.THROTTLED, False),
    ("Throttling.Api", 400, Outcome.THROTTLED, False),
    # refused before anything was done: safe to send again (a new nonce)
    ("SignatureNonceUsed", 400, Outcome.NOT_SENT, False),
    # this request refused
    ("MissingCustSpaceId", 400, Outcome.FAILED, False),
    ("InvalidParameter.PageInvalid", 400, Outcome.FAILED, False),
    ("InvalidParameter.PhoneNumberError", 400, Outcome.FAILED, False),
    ("DetailError.TemplateNotExist", 400, Outcome.FAILED, False),
    # the server failed: the messages may have been queued
    ("999999", 400, Outcome.UNKNOWN, False),
    ("InternalError", 500, Outcome.UNKNOWN, False),
    ("ServiceUnavailable", 503, Outcome.UNKNOWN, False),
]


@pytest.mark.parametrize(
    ("code", "status", "outcome", "stops"), DOCUMENTED, ids=[f"{c}-{s}" for c, s, _, _ in DOCUMENTED]
)
async def test_documented_code_maps_to_its_outcome(code: str, status: int, outcome: Outcome, stops: bool) -> None:
    error = await error_of(status, gateway_error(code))
    assert isinstance(error, CamsApiError)
    assert (error.outcome, error.stops_job) == (outcome, stops)
    assert error.code == code and error.http_status == status and error.request_id == "req-42"
    assert not error.body_ignored
    if stops:
        # A job that stops says what to do, in plain words.
        assert error.advice and len(error.advice) > 40


@pytest.mark.parametrize(("status", "page"), [(413, HTML_413), (414, HTML_414)])
async def test_a_gateways_html_size_refusal_is_too_large(status: int, page: str) -> None:
    error = await error_of(status, page)
    assert (error.outcome, error.stops_job, error.code) == (Outcome.TOO_LARGE, False, None)


@pytest.mark.parametrize(
    "body",
    [
        {"Code": "OK"},
        {"Code": "OK", "RequestId": "req-1"},
        {"Code": "OK", "GroupMessageId": "g-1"},
        {"Code": "0000", "RequestId": "req-1"},
        {"Code": "OK", "RequestId": "req-1", "GroupMessageId": ""},
        {"Code": "0000", "RequestId": "", "GroupMessageId": "g-1"},
    ],
)
async def test_an_accepting_answer_without_evidence_is_unknown(body: dict[str, Any]) -> None:
    error = await error_of(200, body)
    assert (error.outcome, error.stops_job) == (Outcome.UNKNOWN, False)
    assert error.code == body["Code"]


async def test_0000_with_its_evidence_is_ok() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"Code": "0000", "RequestId": "req-1", "GroupMessageId": "g-1"})

    async with CamsClient(CREDENTIALS, ENDPOINT, transport=httpx.MockTransport(handler)) as cams:
        response = await cams.send_mass_message(SEND_OPTIONS.with_recipients([Recipient(to="6591000001")]))
    assert (response.code, response.group_message_id, response.request_id) == ("0000", "g-1", "req-1")


@pytest.mark.parametrize(
    ("placement", "code", "ignored"),
    [
        (Placement.BODY, "MissingSenderList", True),
        (Placement.BODY, "MissingTemplateCode", True),
        (Placement.BODY, "MissingCustSpaceId", False),  # not sent: a real omission
        (Placement.QUERY, "MissingSenderList", False),
    ],
)
async def test_a_missing_parameter_that_was_in_the_body_shows_the_body_was_not_read(
    placement: Placement, code: str, ignored: bool
) -> None:
    error = await error_of(400, gateway_error(code), placement)
    assert error.body_ignored is ignored
    assert error.stops_job is ignored
    assert error.outcome is (Outcome.FATAL if ignored else Outcome.FAILED)
    if ignored:
        assert error.advice and 'placement = "query"' in error.advice


# --------------------------------------------------------------------- the sender


class Gateway:
    """A scripted gateway: ``answer(recipients, params)`` returns ``(status, body)`` or
    ``None`` for an accepting answer. Records every mass send's recipients."""

    def __init__(self, answer: Callable[[list[str], dict[str, str]], tuple[int, Any] | None]) -> None:
        self.answer = answer
        self.sent: list[list[str]] = []
        self.accepted: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.headers["x-acs-action"] != "SendChatappMassMessage":
            return httpx.Response(200, json={"RequestId": "r", "Code": "OK", "Data": None})
        query = request.extensions.get("target", b"/?").decode().partition("?")[2]
        params = dict(parse_qsl(query or request.content.decode(), keep_blank_values=True))
        numbers = [item["To"] for item in json.loads(params["SenderList"])] if "SenderList" in params else []
        self.sent.append(numbers)
        result = self.answer(numbers, params)
        if result is None:
            self.accepted.extend(numbers)
            n = len(self.sent)
            return httpx.Response(200, json={"RequestId": f"r-{n}", "Code": "OK", "GroupMessageId": f"g-{n}"})
        status, body = result
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers={"content-type": "text/html"})
        return httpx.Response(status, json=body)


async def run_sender(journal: Journal, job_id: str, gateway: Gateway, placement: Placement = Placement.BODY):  # type: ignore[no-untyped-def]
    async with CamsClient(CREDENTIALS, ENDPOINT, placement=placement, transport=httpx.MockTransport(gateway)) as cams:
        sender = Sender(cams, journal, job_id, limiter=RateLimiter(200), max_in_flight=1)
        return await sender.run()


def states(journal: Journal, job_id: str) -> list[str]:
    return [b.state for b in journal.batches(job_id)]


def nth_batch_answers(n: int, status: int, body: Any) -> Callable[[list[str], dict[str, str]], tuple[int, Any] | None]:
    calls = {"n": 0}

    def answer(numbers: list[str], params: dict[str, str]) -> tuple[int, Any] | None:
        calls["n"] += 1
        return (status, body) if calls["n"] == n else None

    return answer


@pytest.mark.parametrize(
    ("code", "status", "batch_state"),
    [
        ("InvalidTimeStamp.Expired", 400, "planned"),
        ("InvalidTimeStamp.Format", 400, "planned"),
        ("Forbidden.RiskControl", 403, "planned"),
        ("Forbidden", 403, "planned"),
        ("CHAT.APIError", 500, "unknown"),
    ],
)
async def test_a_code_that_refuses_the_caller_stops_the_job(
    tmp_path: Path, code: str, status: int, batch_state: str
) -> None:
    gateway = Gateway(nth_batch_answers(2, status, gateway_error(code)))
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 50, 10)
        done = await run_sender(journal, job_id, gateway)
        assert done.state == JobState.STOPPED.value
        assert done.code == code and done.advice
        assert states(journal, job_id) == ["ok", batch_state, "planned", "planned", "planned"]
        assert len(gateway.sent) == 2
        assert journal.job(job_id).stop_code == code


async def test_system_exception_is_unknown_and_the_job_goes_on(tmp_path: Path) -> None:
    gateway = Gateway(nth_batch_answers(2, 400, gateway_error("999999", "System Exception")))
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 30, 10)
        done = await run_sender(journal, job_id, gateway)
        assert done.state == JobState.DONE.value
        assert states(journal, job_id) == ["ok", "unknown", "ok"]


async def test_ok_without_a_group_message_id_is_unknown_not_sent(tmp_path: Path) -> None:
    gateway = Gateway(nth_batch_answers(1, 200, {"Code": "OK"}))
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 20, 10)
        done = await run_sender(journal, job_id, gateway)
        assert states(journal, job_id) == ["unknown", "ok"]
        assert done.ok == 10 and done.unknown == 10


@pytest.mark.parametrize("status", [413, 414])
async def test_a_size_refusal_splits_the_batch_until_it_passes(tmp_path: Path, status: int) -> None:
    """The gateway refuses more than 3 recipients a request: 10 become 5+5, then 2+3 each
    (3 passes), every recipient sent exactly once, in order."""
    page = HTML_413 if status == 413 else HTML_414
    gateway = Gateway(lambda numbers, params: (status, page) if len(numbers) > 3 else None)
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 20, 10)
        planned = [json.loads(s)["To"] for b, text in journal.iter_sender_lists(job_id) for s in sender_items(text)]
        done = await run_sender(journal, job_id, gateway)
        assert done.state == JobState.DONE.value and done.ok == 20
        assert sorted(gateway.accepted) == sorted(planned) and len(gateway.accepted) == 20
        assert gateway.accepted == planned  # halves go first: the order holds
        batches = journal.batches(job_id)
        assert all(b.state == BatchState.OK.value for b in batches)
        assert sorted(b.size for b in batches) == [2, 2, 2, 2, 3, 3, 3, 3]
        job = journal.job(job_id)
        assert job.batches == len(batches) and job.recipients == 20
        # The refused attempt is kept under the old index, which is never reused.
        assert journal.attempts(job_id, 0)[0]["outcome"] == Outcome.TOO_LARGE.value
        assert 0 not in {b.index for b in batches}


async def test_the_pieces_of_a_split_canary_batch_stay_in_the_canary(tmp_path: Path) -> None:
    """A canary batch the gateway refuses as too large is split; its pieces get indices after
    every other batch, yet are sent in the canary's stage, and the rest waits for the verdict."""
    gateway = Gateway(lambda numbers, params: (413, HTML_413) if len(numbers) > 5 else None)
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 20, 10)
        journal.set_canary(job_id, {"batches": 1, "verdict": None})
        async with CamsClient(CREDENTIALS, ENDPOINT, transport=httpx.MockTransport(gateway)) as cams:
            canary = journal.job(job_id).canary
            assert canary is not None
            sender = Sender(
                cams, journal, job_id, limiter=RateLimiter(200), max_in_flight=1, only_batches=canary_indices(canary)
            )
            await sender.run()
        canary = journal.job(job_id).canary
        assert canary is not None and canary["pieces"] == [2, 3]
        assert canary_indices(canary) == {0, 2, 3}
        by_index = {b.index: b.state for b in journal.batches(job_id)}
        assert by_index == {1: BatchState.PLANNED.value, 2: BatchState.OK.value, 3: BatchState.OK.value}
        assert len(gateway.accepted) == 10


def test_splitting_a_batch_outside_the_canary_leaves_the_canary_as_it_was(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 20, 10)
        journal.set_canary(job_id, {"batches": 1, "verdict": None})
        journal.split_batch(job_id, 1, split_in_halves(journal.sender_list(job_id, 1)))
        assert journal.job(job_id).canary == {"batches": 1, "verdict": None}


async def test_a_single_recipient_too_large_fails(tmp_path: Path) -> None:
    gateway = Gateway(lambda numbers, params: (413, HTML_413))
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 2, 2)
        done = await run_sender(journal, job_id, gateway)
        assert done.state == JobState.DONE.value and done.failed == 2
        assert sorted(b.size for b in journal.batches(job_id)) == [1, 1]
        assert states(journal, job_id) == ["failed", "failed"]


async def test_a_body_the_gateway_does_not_read_stops_the_job_at_the_first_batch(tmp_path: Path) -> None:
    gateway = Gateway(lambda numbers, params: (400, gateway_error("MissingSenderList")))
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 30, 10)
        done = await run_sender(journal, job_id, gateway)
        assert done.state == JobState.STOPPED.value
        assert done.advice and 'placement = "query"' in done.advice
        assert states(journal, job_id) == ["planned", "planned", "planned"]
        assert len(gateway.sent) == 1


# ------------------------------------------------------- re-planning for the query


def long_items(count: int) -> list[str]:
    from cams_tui.engine.planning import sender_item

    return [sender_item(f"63917{i:07d}", {"name": "Zoë " * 20, "order_id": f"A{i}"}) for i in range(count)]


async def test_a_body_job_resumed_in_query_placement_is_replanned_to_fit_a_url(tmp_path: Path) -> None:
    item_list = long_items(1500)
    with Journal(tmp_path) as journal:
        batches = plan_batches(item_list, OPTIONS, placement=Placement.BODY, max_query_length=60_000)
        job_id = journal.create_job(
            options=OPTIONS, params={}, batches=batches, endpoint=ENDPOINT, placement=Placement.BODY
        )
        # The first batch was sent before the profile changed; the second was not.
        journal.set_job_state(job_id, JobState.INTERRUPTED)
        first = journal.batches(job_id)[0]
        attempt = journal.mark_sending(job_id, first.index)
        from cams_tui.engine.journal import Answer

        journal.record_answer(job_id, first.index, attempt, BatchState.OK, Answer("ok", 200, "OK", request_id="r", group_message_id="g"))
        client = CamsClient(CREDENTIALS, ENDPOINT, placement=Placement.QUERY)
        split = replan_for_placement(journal, job_id, Placement.QUERY, client.max_query_length)
        await client.aclose()
        assert split == 1
        job = journal.job(job_id)
        assert job.placement is Placement.QUERY and job.recipients == 1500
        after = journal.batches(job_id)
        assert after[0].index == first.index and after[0].state == "ok" and after[0].size == 1000
        assert len(after) > 2 and sum(b.size for b in after[1:]) == 500
        # Byte for byte the same recipients, in the same order.
        texts = [journal.sender_list(job_id, b.index) for b in after]
        assert [i for t in texts for i in sender_items(t)] == item_list
        # Sent in the query, every new batch fits.
        gateway = Gateway(lambda numbers, params: None)
        done = await run_sender(journal, job_id, gateway, Placement.QUERY)
        assert done.state == JobState.DONE.value and done.ok == 1500
        assert len(gateway.accepted) == 500
        # Nothing left to split: a second call changes nothing.
        assert replan_for_placement(journal, job_id, Placement.QUERY, 60_000) == 0


def test_a_failed_replan_leaves_the_job_as_it_was(tmp_path: Path) -> None:
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 20, 10)
        before = [(b.index, b.size, journal.sender_list(job_id, b.index)) for b in journal.batches(job_id)]
        halves = {0: list(plan_batches(items(10), OPTIONS, placement=Placement.BODY, max_query_length=0, max_size=5))}
        attempt = journal.mark_sending(job_id, 1)
        assert attempt == 1
        wrong = {**halves, 1: list(plan_batches(items(10, 10), OPTIONS, placement=Placement.BODY, max_query_length=0, max_size=5))}
        with pytest.raises(Exception, match="only an unsent batch"):
            journal.replan_batches(job_id, wrong, Placement.QUERY)
        assert journal.job(job_id).placement is None
        journal.recover(job_id)
        after = [(b.index, b.size, journal.sender_list(job_id, b.index)) for b in journal.batches(job_id)]
        assert after == before


_SPLIT_SCRIPT = """
import sys
from pathlib import Path
from cams_tui.engine.journal import Journal
from cams_tui.engine.planning import split_in_halves
with Journal(Path(sys.argv[1])) as journal:
    job_id = sys.argv[2]
    journal.split_batch(job_id, 0, split_in_halves(journal.sender_list(job_id, 0)))
print("split")
"""


@pytest.mark.parametrize(("when", "split"), [("before", False), ("after", True)])
def test_a_crash_mid_split_leaves_the_old_batch_or_the_new_ones(tmp_path: Path, when: str, split: bool) -> None:
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 20, 10)
        original = journal.sender_list(job_id, 0)
    env = {**os.environ, ENV_KILL_AT_COMMIT: f"{when}:1"}
    result = subprocess.run(
        [sys.executable, "-c", _SPLIT_SCRIPT, str(tmp_path), job_id], env=env, capture_output=True, timeout=60
    )
    assert result.returncode == -9, result.stderr
    with Journal(tmp_path) as journal:
        batches = journal.batches(job_id)
        assert sum(b.size for b in batches) == 20
        assert journal.job(job_id).batches == len(batches)
        if split:
            assert [b.size for b in batches] == [10, 5, 5] and [b.index for b in batches] == [1, 2, 3]
            halves = [journal.sender_list(job_id, i) for i in (2, 3)]
            assert sender_items(halves[0]) + sender_items(halves[1]) == sender_items(original)
        else:
            assert [(b.index, b.size) for b in batches] == [(0, 10), (1, 10)]
            assert journal.sender_list(job_id, 0) == original
