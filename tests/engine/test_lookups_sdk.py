"""Lookups against ListChatappMessage records shaped as the official SDK declares them: no
GroupMessageId in a record, inbound (``UP``) records for the same numbers, TemplateCode empty
on inbound, CustSpaceId and Page required (:mod:`tests.sdk_cams`). Accepted and never-arrived
batches are told apart; inbound records and records of another template never count; with no
control listed nothing is declared not sent, and so nothing is resent; a job without a
CustSpaceId is not looked up and says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cams_tui.api.client import CamsClient
from cams_tui.api.credentials import Credentials
from cams_tui.delivery import fetch_records, tally
from cams_tui.engine.canary import CanarySettings, SpikeDetector, judge_canary
from cams_tui.engine.events import BatchEvent
from cams_tui.engine.journal import BatchState, Journal
from cams_tui.engine.ratelimit import RateLimiter
from cams_tui.engine.reconcile import ReconcileSettings, Reconciler
from cams_tui.engine.sender import Sender
from cams_tui.listing import NO_CUST_SPACE_ID, MissingCustSpaceId
from cams_tui.simulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET
from cams_tui.simulator.demo_data import SPRING_SALE
from tests.support.engine import CUST_SPACE_ID, LOOKUP_OPTIONS, OPTIONS, make_job
from tests.support.sdk_cams import SdkCams

ENDPOINT = "http://127.0.0.1:9"


def _client(cams: SdkCams) -> CamsClient:
    return CamsClient(
        Credentials(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET), ENDPOINT, transport=cams.transport()
    )


async def _send(cams: SdkCams, journal: Journal, job_id: str, **kwargs: object) -> None:
    async with _client(cams) as client:
        await Sender(client, journal, job_id, limiter=RateLimiter(200), **kwargs).run()  # type: ignore[arg-type]


async def _reconcile(cams: SdkCams, journal: Journal, job_id: str, **settings: object):  # type: ignore[no-untyped-def]
    async with _client(cams) as client:
        settings.setdefault("lookup_rate", 200)
        return await Reconciler(client, journal, job_id, ReconcileSettings(**settings)).run()  # type: ignore[arg-type]


def _numbers(journal: Journal, job_id: str, index: int) -> list[str]:
    return [item["To"] for item in json.loads(journal.sender_list(job_id, index))]


def _accepted(job_id: str, index: int, group: str | None) -> BatchEvent:
    """The sender's event for a batch CAMS accepted."""
    return BatchEvent(job_id, index, 100, "ok", 200, "OK", None, "r", group, 1, 5.0)


def _assert_real_shape(cams: SdkCams) -> None:
    """Every listing asked for outbound messages with a CustSpaceId and a Page; no record had
    a GroupMessageId."""
    assert cams.list_requests
    for params in cams.list_requests:
        assert params["EventAction"] == "DOWN" and params["CustSpaceId"] == CUST_SPACE_ID and params["Page"]
    records = [r for answer in cams.list_answers for r in answer.get("Data", [])]
    assert records and not any("GroupMessageId" in r for r in records)


async def test_accepted_and_never_arrived_batches_are_told_apart(tmp_path: Path) -> None:
    cams = SdkCams(lose_answers={2})  # the second request (batch 1) accepted, its answer lost
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 500, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(job_id, 4)  # committed "sending", then the process died: never left
        await _send(cams, journal, job_id)
        assert [b.index for b in journal.batches(job_id, [BatchState.UNKNOWN])] == [1, 4]
        report = await _reconcile(cams, journal, job_id, grace_s=0.2)
        states = {r.index: r.state for r in report.resolutions}
        assert states == {1: "ok", 4: "not_sent_verified"}, [r.reason for r in report.resolutions]
        found = journal.batches(job_id)[1]
        assert found.evidence is not None and found.evidence["template_code"] == OPTIONS.template_code
        assert found.evidence["found_number"] in _numbers(journal, job_id, 1)
        assert all(mid.startswith("G000002-") for mid in found.evidence["message_ids"])
        verified = journal.batches(job_id)[4]
        assert "is listed" in verified.evidence["control"] and len(verified.evidence["checked"]) == 3
        # Batch 4 may be resent, on request, once; batch 1 never again.
        await _send(cams, journal, job_id, resend_verified=True)
        assert journal.job(job_id).counts == {"ok": 500}
    _assert_real_shape(cams)
    assert len(cams.accepted) == 500 and max(cams.accepted.values()) == 1


async def test_inbound_records_and_other_templates_are_never_evidence(tmp_path: Path) -> None:
    # A lenient listing that ignores EventAction and TemplateCode: what reaches us includes
    # the users' own messages (no TemplateCode) and another template's messages.
    cams = SdkCams(ignore_filters={"EventAction", "TemplateCode"})
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 300, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(job_id, 0)  # never left
        for number in _numbers(journal, job_id, 0):
            cams.add(number, "", event_action="UP", business_number=OPTIONS.from_)
            cams.add(number, SPRING_SALE, business_number=OPTIONS.from_)
        await _send(cams, journal, job_id)
        report = await _reconcile(cams, journal, job_id, grace_s=0.2)
        (resolution,) = report.resolutions
        assert resolution.state == "not_sent_verified", resolution.reason
    # The records really were there for the lookups to see.
    seen = [r for answer in cams.list_answers for r in answer.get("Data", [])]
    assert any(r["EventAction"] == "UP" and r["TemplateCode"] == "" for r in seen)
    assert any(r["TemplateCode"] == SPRING_SALE for r in seen)
    _assert_real_shape(cams)


async def test_with_no_control_a_late_listing_declares_nothing_and_nothing_is_resent(tmp_path: Path) -> None:
    # Every answer lost, and the listing 25 s late: with a grace of 0.2 s, an empty lookup
    # means nothing, and nothing accepted after these batches is listed to say otherwise.
    cams = SdkCams(listing_delay_s=25.0, lose_answers={1, 2, 3})
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 300, 100, options=LOOKUP_OPTIONS)
        await _send(cams, journal, job_id)
        assert journal.job(job_id).counts == {"unknown": 300}
        report = await _reconcile(cams, journal, job_id, grace_s=0.2)
        assert [r.state for r in report.resolutions] == ["unknown"] * 3
        for resolution in report.resolutions:
            assert "no batch on this Service ID accepted after this one is listed" in resolution.reason
        await _send(cams, journal, job_id, resend_verified=True)
        assert journal.job(job_id).counts == {"unknown": 300}
    assert sum(cams.accepted.values()) == 300 and max(cams.accepted.values()) == 1


async def test_a_control_not_listed_yet_leaves_the_batch_unknown(tmp_path: Path) -> None:
    cams = SdkCams(listing_delay_s=25.0)
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 400, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(job_id, 0)  # never left; batches 1 to 3 are accepted after it
        await _send(cams, journal, job_id)
        report = await _reconcile(cams, journal, job_id, grace_s=0.2)
        (resolution,) = report.resolutions
        assert resolution.state == "unknown"
        assert "CAMS's listing runs late" in resolution.reason and "batch 1" in resolution.reason
        assert "NOT listed" in report.control
        await _send(cams, journal, job_id, resend_verified=True)
        assert journal.job(job_id).counts == {"unknown": 100, "ok": 300}
    assert sum(cams.accepted.values()) == 300
    # Once the listing has caught up, the same batch is verified not sent.
    cams.listing_delay_s = 0.0
    with Journal(tmp_path) as journal:
        report = await _reconcile(cams, journal, job_id, grace_s=0.2)
        assert report.resolutions[0].state == "not_sent_verified"


async def test_another_jobs_later_batch_on_the_same_service_id_is_a_control(tmp_path: Path) -> None:
    cams = SdkCams()
    with Journal(tmp_path) as journal:
        first = make_job(journal, ENDPOINT, 100, 100, options=LOOKUP_OPTIONS)
        journal.mark_sending(first, 0)  # its only batch never left
        journal.recover(first)
        second = make_job(journal, ENDPOINT, 100, 100, options=LOOKUP_OPTIONS, item_list=None)
        await _send(cams, journal, second)
        report = await _reconcile(cams, journal, first, grace_s=0.2)
        (resolution,) = report.resolutions
        assert resolution.state == "not_sent_verified", resolution.reason
        assert f"of job {second}" in resolution.evidence["control"]


async def test_without_a_cust_space_id_nothing_is_asked_and_the_reason_is_plain(tmp_path: Path) -> None:
    cams = SdkCams(lose_answers={1})
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 200, 100)  # no CustSpaceId
        await _send(cams, journal, job_id)
        report = await _reconcile(cams, journal, job_id, grace_s=0.0)
        assert report.lookups == 0 and report.blocked == NO_CUST_SPACE_ID
        assert [r.state for r in report.resolutions] == ["unknown"]
        assert "cust_space_id" in report.resolutions[0].reason and "CAMS console" in report.resolutions[0].reason
        assert journal.job(job_id).counts == {"unknown": 100, "ok": 100}
        (group,) = [b.group_message_id for b in journal.batches(job_id) if b.group_message_id]
        async with _client(cams) as client:
            with pytest.raises(MissingCustSpaceId, match="cust_space_id"):
                async for _ in fetch_records(client, business_number=OPTIONS.from_, group_message_ids=[group]):
                    pass
            verdict = await judge_canary(client, journal, job_id, range(2), CanarySettings(settle_timeout_s=1, poll_s=0.1))
            assert not verdict.healthy and NO_CUST_SPACE_ID in verdict.reason
            detector = SpikeDetector(client, OPTIONS.from_, lambda _r: None, settle_after_s=0.0)
            detector.observe(_accepted(job_id, 1, group))
            await detector.check()
            assert detector.lookups == 0 and detector.unavailable and "cust_space_id" in detector.unavailable
    assert cams.list_requests == []


async def test_funnel_canary_and_spike_watch_count_outbound_messages_only(tmp_path: Path) -> None:
    cams = SdkCams(ignore_filters={"EventAction"})
    with Journal(tmp_path) as journal:
        job_id = make_job(journal, ENDPOINT, 200, 100, options=LOOKUP_OPTIONS)
        cams.failing_numbers = set(_numbers(journal, job_id, 0)[:10])
        await _send(cams, journal, job_id)
        groups = [b.group_message_id for b in journal.batches(job_id)]
        async with _client(cams) as client:
            records = [
                r
                async for page in fetch_records(
                    client, business_number=OPTIONS.from_, group_message_ids=groups, cust_space_id=CUST_SPACE_ID
                )
                for r in page
            ]
            funnel = tally(records, accepted=200)
            assert (funnel.reported, funnel.delivered, funnel.failed) == (200, 190, 10)
            verdict = await judge_canary(client, journal, job_id, range(1), CanarySettings(settle_timeout_s=2, poll_s=0.1))
            assert verdict.healthy and verdict.settled and verdict.judged == 100 and verdict.bad == 10
            detector = SpikeDetector(
                client, OPTIONS.from_, lambda _r: None, cust_space_id=CUST_SPACE_ID, settle_after_s=0.0, min_sample=1
            )
            detector.observe(_accepted(job_id, 0, groups[0]))
            await detector.check()
            # One page of 100: 50 outbound messages (10 of them failed) and 50 replies, left out.
            assert detector.lookups == 1 and detector.failure_share == pytest.approx(10 / 50)
    # The listing did hand out the users' messages: they were left out on our side.
    seen = [r for answer in cams.list_answers for r in answer.get("Data", [])]
    assert any(r["EventAction"] == "UP" for r in seen)
    _assert_real_shape(cams)
