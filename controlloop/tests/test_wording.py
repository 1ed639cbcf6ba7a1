"""How the timeline words a decision: never "attempt 3 of 2", never "approved" for a stop. No database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from controlloop.wording import delta_text, moment_input_text, moment_text, outcome_label, replan_count_text


@pytest.mark.parametrize(("fields", "text"), [
    ({"decision": "auto_retry", "approved": True, "veto": "", "attempt": 1}, "replan 1 of 2"),
    ({"decision": "stop_with_guidance", "approved": False, "veto": "no_replans_left", "attempt": 3},
     "none left: 2 of 2 replans already used"),
    ({"decision": "stop_with_guidance", "approved": False, "veto": "breaker_open", "attempt": 2},
     "would have been replan 2 of 2; not made"),
    ({"decision": "stop_with_guidance", "approved": False, "veto": "trigger_not_allowed", "attempt": 3},
     "none left: 2 of 2 replans already used"),
    ({"decision": "stop_with_guidance", "approved": True, "veto": "", "attempt": 2},
     "no replan made (1 of 2 used before)"),
    ({"decision": "ask_user", "approved": True, "veto": "", "attempt": 1}, "no replan made (0 of 2 used before)"),
])
def test_the_replan_count_never_passes_the_limit(fields, text):
    assert replan_count_text(max_attempts=2, **fields) == text
    assert "3 of 2" not in text


def test_outcomes_say_what_happened():
    assert outcome_label("stopped") == "stopped with guidance"
    assert outcome_label("asked_user") == "asked the user"
    assert outcome_label("succeeded") == "replanned · re-run succeeded"
    assert outcome_label("denied", veto="breaker_open") == "replan denied (breaker open) · stopped with guidance"


def test_times_read_to_the_second_with_their_zone():
    moment = datetime(2026, 11, 27, 23, 52, 21, 118187, tzinfo=UTC)
    assert moment_text(moment, UTC) == "27 Nov 2026, 23:52:21 UTC"
    assert moment_text(moment, timezone(timedelta(hours=2), "CEST")) == "28 Nov 2026, 01:52:21 CEST"
    assert moment_input_text(moment, UTC) == "2026-11-27 23:52:21"
    assert moment_input_text(moment.replace(second=0), UTC) == "2026-11-27 23:52"


@pytest.mark.parametrize(("seconds", "text"), [(0.016, "+16 ms"), (2.44, "+2.4 s"), (180, "+3 min"),
                                               (9000, "+2.5 h")])
def test_steps_apart_read_in_their_unit(seconds, text):
    assert delta_text(seconds) == text
