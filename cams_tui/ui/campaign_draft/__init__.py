"""The compose flow's state and the pure rules about it, with no UI.

The TUI keeps one :class:`ComposeState` for the send being prepared: the chosen template, the
sender, the recipients report, the params and the options. Everything that can be decided
without a screen lives here: which steps are done or need attention and why (``steps``), what
the options' fields mean and whether they are valid (``options_form``), where each variable's
value comes from (``params``), how many batches the send takes and how long at the profile's
rate, the :class:`Campaign` the state stands for (``state``), and writing it as a job (``job``).
"""

from cams_tui.ui.campaign_draft.job import create_job
from cams_tui.ui.campaign_draft.options_form import (
    FALLBACK_DURATION_RANGE_TEXT,
    FALLBACK_RULES,
    LABELS,
    TTL_RANGE_TEXT,
    OptionsForm,
)
from cams_tui.ui.campaign_draft.params import (
    MAX_PARAM_VALUE_CHARS,
    ParamRow,
    ParamSource,
    RecipientRow,
    RecipientsReport,
    is_set,
)
from cams_tui.ui.campaign_draft.state import ComposeState, SentJob, TrialSend
from cams_tui.ui.campaign_draft.steps import Estimate, Step, StepState, StepStatus

__all__ = [
    "FALLBACK_DURATION_RANGE_TEXT",
    "FALLBACK_RULES",
    "LABELS",
    "MAX_PARAM_VALUE_CHARS",
    "TTL_RANGE_TEXT",
    "ComposeState",
    "Estimate",
    "OptionsForm",
    "ParamRow",
    "ParamSource",
    "RecipientRow",
    "RecipientsReport",
    "SentJob",
    "Step",
    "StepState",
    "StepStatus",
    "TrialSend",
    "create_job",
    "is_set",
]
