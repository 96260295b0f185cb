"""What a send reads from CAMS about its template before it plans: the template's variables
(each recipient's parameters are checked against them) and its languages."""

from __future__ import annotations

from cams_tui.api.errors import CamsError, Outcome
from cams_tui.campaign import Campaign
from cams_tui.cli.context import cams_client_class, require_credentials
from cams_tui.config import RunContext
from cams_tui.engine.grouping import template_languages
from cams_tui.errors import CannotProceed, UserError
from cams_tui.templates import template_variables


async def fetch_variables(context: RunContext, campaign: Campaign) -> list[str]:
    """The variables of the campaign's template (in its language), as CAMS lists them."""
    credentials = require_credentials(context)
    async with cams_client_class()(credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            detail = await client.template_detail(
                campaign.template_code,
                campaign.language,
                cust_space_id=campaign.cust_space_id or context.profile.cust_space_id,
            )
        except CamsError as exc:
            advice = exc.advice
            if exc.outcome is Outcome.FATAL:
                raise FatalBeforeSend(f"cannot read template {campaign.template_code}: {exc}", advice) from None
            if exc.outcome in (Outcome.NOT_SENT, Outcome.UNKNOWN, Outcome.THROTTLED):
                # The endpoint did not answer (or not usefully): not the campaign's fault.
                raise CannotProceed(
                    f"cannot read template {campaign.template_code} ({campaign.language}): {exc}. Check the "
                    "endpoint, the network and any proxy, then run again; nothing was sent"
                ) from None
            raise UserError(
                f"cannot read template {campaign.template_code} ({campaign.language}): {exc}"
                + (f"\n{advice}" if advice else "")
            ) from None
    return template_variables(detail)


async def fetch_languages(context: RunContext, campaign: Campaign) -> frozenset[str]:
    """The languages the campaign's template has (ListChatappTemplate: a row per language)."""
    credentials = require_credentials(context)
    async with cams_client_class()(credentials, context.endpoint, placement=context.profile.placement) as client:
        try:
            templates = await client.list_all_templates(
                cust_space_id=campaign.cust_space_id or context.profile.cust_space_id
            )
        except CamsError as exc:
            raise CannotProceed(
                f"cannot list the languages of template {campaign.template_code}: {exc}. Check the endpoint "
                "and the network, then run again; nothing was sent"
            ) from None
    return template_languages(templates, campaign.template_code)


class FatalBeforeSend(Exception):
    """A fatal CAMS error before the job started (exit 4)."""

    def __init__(self, message: str, advice: str | None) -> None:
        super().__init__(message)
        self.advice = advice
