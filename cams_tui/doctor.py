"""Checks of one profile that send no message: credentials, endpoint, clock, signature,
parameter placement, template access and Service IDs.

Used by ``cams-tui doctor`` and the settings screen's "check connection".
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cams_tui.api.client import CamsClient
from cams_tui.api.errors import CamsError, Outcome
from cams_tui.api.models import ListTemplatesRequest, Page, TemplateDetailRequest
from cams_tui.config import ENV_ENDPOINT, RunContext

# The gateway refuses requests whose x-acs-date is more than 15 minutes off.
MAX_CLOCK_SKEW_S = 15 * 60
WARN_CLOCK_SKEW_S = 60


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str


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

    async with CamsClient(context.credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            reply = await client.call(ListTemplatesRequest(page=Page(index=1, size=1), cust_space_id=context.profile.cust_space_id))
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

        templates = reply.data.get("ListTemplate") or []
        if not templates:
            yield Check("templates", False, "no approved Viber template: create one in the CAMS console")
        else:
            first = templates[0]
            total = reply.data.get("Total", len(templates))
            try:
                await client.call(
                    TemplateDetailRequest(
                        template_code=first.get("TemplateCode", ""),
                        language=first.get("Language", ""),
                        cust_space_id=context.profile.cust_space_id,
                    )
                )
            except CamsError as exc:
                if _says_parameter_missing(exc):
                    yield Check(
                        "placement",
                        False,
                        f"parameters sent in the {client.placement.value} were not read by CAMS ({exc}); "
                        "switch the profile's placement",
                    )
                else:
                    yield _failed_call("templates", exc)
            else:
                yield Check("placement", True, f"CAMS reads parameters sent in the {client.placement.value}")
                yield Check("templates", True, f"{total} approved Viber template(s) readable")

        try:
            services = await client.list_viber_services(cust_space_id=context.profile.cust_space_id)
        except CamsError as exc:
            yield _failed_call("service IDs", exc)
            return
        ids = [s.service_id for s in services.data]
        if not ids:
            yield Check("service IDs", False, "no Viber Service ID on this account: register one in the CAMS console")
        elif context.profile.from_ and context.profile.from_ not in ids:
            yield Check("service IDs", False, f"the profile's sender {context.profile.from_} is not among {', '.join(ids)}")
        else:
            yield Check("service IDs", True, "usable as From: " + ", ".join(ids))


def _says_parameter_missing(error: CamsError) -> bool:
    """Whether CAMS answered as if the parameters we sent were not there at all."""
    return (error.code or "").startswith("Missing") or "required" in (error.message or "").lower()


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
        return Check("clock", False, f"this machine's clock is {skew:+.0f} s off CAMS: requests will be refused; fix the time (NTP)")
    if abs(skew) > WARN_CLOCK_SKEW_S:
        return Check("clock", True, f"{skew:+.0f} s off CAMS (allowed: ±{MAX_CLOCK_SKEW_S} s); consider NTP")
    return Check("clock", True, f"{skew:+.1f} s off CAMS")
