"""The send monitor's phase in words (``SendState.phase_text``): pure, no screen."""

from __future__ import annotations

from cams_tui.ui.send_state import SendState


def test_each_phase_reads_as_words_and_an_unknown_one_as_itself() -> None:
    state = SendState("job")
    state.phase = "interrupted"
    assert state.phase_text() == "cancelled (resumable)"
    state.phase = "something-new"
    assert state.phase_text() == "something-new"


def test_a_finished_run_with_unsettled_batches_says_what_to_do() -> None:
    state = SendState("job")
    state.phase = "done"
    assert state.phase_text() == "done"
    state.recipients["unknown"] = 1200
    state.not_sent_verified = 3
    assert state.phase_text() == (
        "ended, unsettled: 1,200 unknown: L in Jobs (j) looks them up; "
        "3 verified not sent: S in Jobs (j) sends them"
    )
