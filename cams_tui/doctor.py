"""Checks of one profile that deliver no message: credentials, CustSpaceId, endpoint,
clock, signature, the mass send's parameter placement and permission (a probe that cannot
deliver), template access and Service IDs; and the account's rate budget (its key, where it is kept,
who sends on it now).

Used by ``cams-tui doctor`` and the settings screen's "check connection".
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cams_tui.api.client import CamsClient
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import ListTemplatesRequest, MassMessageOptions, Page, Recipient
from cams_tui.config import ENV_ENDPOINT, RunContext
from cams_tui.engine.limiters.factory import LIST_MESSAGES, account_usage
from cams_tui.templates import APPROVED_STATUSES, template_variables

# The gateway refuses requests whose x-acs-date is more than 15 minutes off.
MAX_CLOCK_SKEW_S = 15 * 60
WARN_CLOCK_SKEW_S = 60


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str


CUST_SPACE_ID_HELP = (
    "the space ID of an ISV sub-customer, or the instance ID of a direct customer: the CAMS console "
    "shows it under Channel Management"
)
CUST_SPACE_ID_FEATURES = "the Service ID list, lookups of unknown batches, the canary and the delivery funnel"
PROBE_TEMPLATE_CODE = "cams-tui-doctor-probe-no-such-template"
"""A template code no account has: a mass send to it can only be refused, so the probe
delivers nothing, whatever CAMS does with it."""
PROBE_NUMBER = "10000000000"
"""A number with no subscriber (country code 1, area code 000 is never assigned)."""
MASS_SEND_PERMISSION = "cams:SendChatappMassMessage on acs:cams::<your account ID>:*"


async def run_checks(context: RunContext) -> AsyncIterator[Check]:
    """Yield each check's result as it completes; stop early when going on is pointless."""
    if context.credentials is None:
        yield Check(
            "credentials",
            False,
            "no AccessKey found: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, "
            "or give the profile an aliyun CLI profile (credentials.source = \"aliyun\")",
        )
        return
    yield Check("credentials", True, f"AccessKey {context.credentials.masked_id} ({context.profile_name} profile)")
    space = context.profile.cust_space_id
    if space:
        yield Check("CustSpaceId", True, f"{space} (used by {CUST_SPACE_ID_FEATURES})")
    else:
        yield Check(
            "CustSpaceId",
            False,
            f"not set: {CUST_SPACE_ID_FEATURES} need it (CAMS requires it of ListViberServiceMessage and "
            f"ListChatappMessage). It is {CUST_SPACE_ID_HELP}; set cust_space_id in the profile",
        )

    async for check in _account_checks(context):
        yield check
    # Last, and whatever CAMS answered: the budget is kept apart from CAMS.
    yield await _limiter_check(context)


async def _account_checks(context: RunContext) -> AsyncIterator[Check]:
    """The checks that call CAMS; they stop early when going on is pointless."""
    assert context.credentials is not None
    space = context.profile.cust_space_id
    async with CamsClient(context.credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            reply = await client.call(ListTemplatesRequest(page=Page(index=1, size=1), cust_space_id=space))
        except CamsError as exc:
            if exc.outcome in (Outcome.NOT_SENT, Outcome.UNKNOWN) and exc.http_status is None:
                yield Check("endpoint", False, f"{context.endpoint} is not reachable: {exc.message}; "
                            f"check the profile's region/endpoint or {ENV_ENDPOINT}")
                return
            yield Check("endpoint", True, f"{context.endpoint} answers (HTTP {exc.http_status})")
            yield _failed_call("signature", exc)
            return
        yield Check("endpoint", True, f"{context.endpoint} answers ({reply.latency_ms:.0f} ms)")
        yield _clock_check(reply.headers.get("date"))
        yield Check("signature", True, "CAMS accepted the ACS3-HMAC-SHA256 signature")
        for check in await _mass_send_probe(client, context):
            yield check
        yield await _templates_check(client, space)
        yield await _services_check(client, context)


async def _mass_send_probe(client: CamsClient, context: RunContext) -> list[Check]:
    """Placement and permission of the mass send, proved by one that cannot deliver.

    A SendChatappMassMessage to a template no account has is refused whatever else is
    right. *How* it is refused tells two things: ``Missing<Name>`` means CAMS did not see
    the parameters where they were sent (the body, in ``body`` placement);
    ``Ram.PermissionDeny`` means the AccessKey may not call the mass send at all; any other
    refusal shows the request was read and got past authorization.
    """
    placement = client.placement.value
    options = MassMessageOptions(
        template_code=PROBE_TEMPLATE_CODE,
        language="en",
        from_=context.profile.from_ or "0",
        cust_space_id=context.profile.cust_space_id,
    )
    request = options.with_recipients([Recipient(to=PROBE_NUMBER)])
    try:
        reply = await client.send_mass_message(request)
    except CamsError as exc:
        if (exc.code or "").startswith("Missing"):
            return [
                Check(
                    "placement",
                    False,
                    f"CAMS did not read the mass send's parameters in the {placement} ({exc.code}): "
                    'set placement = "query" in the profile (batches then shrink to fit the URL)',
                )
            ]
        if exc.code in {"Ram.PermissionDeny", "Forbidden.RAM", "NoPermission"}:
            return [
                Check("placement", True, f"CAMS reads the mass send's parameters in the {placement}"),
                Check("permission", False, f"the AccessKey may not send ({exc.code}): grant {MASS_SEND_PERMISSION} "
                      "(e.g. the AliyunCAMSFullAccess policy) in the RAM console"),
            ]
        if exc.outcome in (Outcome.NOT_SENT, Outcome.UNKNOWN, Outcome.THROTTLED) and exc.code is None:
            return [_failed_call("placement", exc)]
        return [
            Check("placement", True, f"CAMS reads the mass send's parameters in the {placement} "
                  f"(a probe to a template that does not exist was refused: {exc.code})"),
            Check("permission", True, "the AccessKey may call SendChatappMassMessage"),
        ]
    return [
        Check("placement", True, f"CAMS reads the mass send's parameters in the {placement}"),
        Check("permission", False, f"CAMS accepted a mass send to the template {PROBE_TEMPLATE_CODE}, which should "
              f"not exist (GroupMessageId {reply.group_message_id}): check the account's templates"),
    ]


async def _templates_check(client: CamsClient, space: str | None) -> Check:
    """The account's templates, read exactly as the template step reads them."""
    try:
        templates = await client.list_all_templates(cust_space_id=space, audit_status=None)
    except CamsError as exc:
        return _failed_call("templates", exc)
    approved = [t for t in templates if t.audit_status.lower() in APPROVED_STATUSES]
    if not approved:
        return Check("templates", False, f"{len(templates)} Viber templates, none approved: "
                     "have one approved in the CAMS console")
    first = approved[0]
    try:
        detail = await client.template_detail(first.template_code, first.language, cust_space_id=space)
    except CamsError as exc:
        return _failed_call("templates", exc)
    variables = template_variables(detail)
    return Check(
        "templates",
        True,
        f"{len(approved)} approved of {len(templates)} Viber templates; {first.template_code} ({first.language}) "
        f"reads with variables {', '.join(variables) or '(none)'}",
    )


async def _services_check(client: CamsClient, context: RunContext) -> Check:
    space = context.profile.cust_space_id
    if not space:
        return Check("service IDs", False, "not listed: ListViberServiceMessage needs the profile's cust_space_id")
    try:
        services = await client.list_viber_services(cust_space_id=space)
    except CamsError as exc:
        return _failed_call("service IDs", exc)
    ids = [s.service_id for s in services.data]
    if not ids:
        return Check("service IDs", False, "no Viber Service ID on this account: register one in the CAMS console")
    if context.profile.from_ and context.profile.from_ not in ids:
        sender = context.profile.from_
        return Check("service IDs", False, f"the profile's sender {sender} is not among {', '.join(ids)}")
    states = ", ".join(f"{s.service_id} ({s.state or 'no state'})" for s in services.data)
    return Check("service IDs", True, "usable as From: " + states)


async def _limiter_check(context: RunContext) -> Check:
    """Which key the account's budget is kept under, where, and who sends on it now.

    The key is shown as the profile names it, or as the masked AccessKey ID: never a secret,
    and a Redis URL loses its password."""
    assert context.credentials is not None
    profile = context.profile
    try:
        usage = await account_usage(
            profile.limiter, account=profile.account, access_key_id=context.credentials.access_key_id,
            data_dir=context.data_dir,
        )
        lookups = await account_usage(
            profile.limiter, account=profile.account, access_key_id=context.credentials.access_key_id,
            data_dir=context.data_dir, operation=LIST_MESSAGES,
        )
    except ValueError as exc:
        return Check("account limit", False, f"limiter = {profile.limiter!r}: {exc}")
    if usage.source == "profile":
        key = f"account {usage.account!r} (the profile's account)"
    else:
        key = (
            f"the AccessKey ID {context.credentials.masked_id}"
            " (set account in the profile to share one budget across AccessKeys)"
        )
    if usage.limiter == "process":
        return Check(
            "account limit",
            True,
            f"{key}; limiter process: this process alone, the budget is not "
            'shared with other senders (limiter = "host" or a Redis URL shares it)',
        )
    where = f"a file in {context.data_dir}" if usage.limiter == "host" else usage.limiter
    if usage.senders is None:
        return Check(
            "account limit",
            False,
            f"{key}; kept in {where}, which cannot be used: {usage.error}. "
            "Sends pause until it can (or go on alone with --local-limiter N)",
        )
    return Check(
        "account limit",
        True,
        f"{key}; kept in {where}; sending on it now: "
        f"{usage.senders} sender(s) of SendChatappMassMessage, {lookups.senders or 0} of ListChatappMessage",
    )


def _failed_call(name: str, error: CamsError) -> Check:
    advice = error.advice
    return Check(name, False, f"{error}" + (f". {advice}" if advice else ""))


def _clock_check(date_header: str | None) -> Check:
    if not date_header:
        return Check("clock", True, "the server sent no Date header; skew not measured")
    try:
        server = email.utils.parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return Check("clock", True, f"unreadable server Date {date_header!r}; skew not measured")
    skew = time.time() - server
    if abs(skew) > MAX_CLOCK_SKEW_S:
        return Check(
            "clock",
            False,
            f"this machine's clock is {skew:+.0f} s off CAMS: requests will be refused; fix the time (NTP)",
        )
    if abs(skew) > WARN_CLOCK_SKEW_S:
        return Check("clock", True, f"{skew:+.0f} s off CAMS (allowed: ±{MAX_CLOCK_SKEW_S} s); consider NTP")
    return Check("clock", True, f"{skew:+.1f} s off CAMS")
