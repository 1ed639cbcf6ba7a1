"""A stage snapshot carries what its model call used (``result.usage``), for the regression engine's usage rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from inspector.trace_comparison import StageSnapshot


def _output(usage=None) -> dict:
    result = {"blocks": []} if usage is None else {"blocks": [], "usage": usage}
    return {"stage": "compose", "result": result, "diagnostics": {"status": "ok"}, "duration_ms": 5}


def test_from_output_reads_model_tokens_and_the_given_cost():
    snap = StageSnapshot.from_output(_output({"model": "gpt-4o", "input_tokens": 900, "output_tokens": 100,
                                              "cost": 0.01}))

    assert (snap.model, snap.input_tokens, snap.output_tokens, snap.tokens, snap.cost) == ("gpt-4o", 900, 100, 1000, 0.01)
    assert snap.cost_known


def test_openai_names_are_read_as_input_and_output_tokens():
    snap = StageSnapshot.from_output(_output({"prompt_tokens": 7, "completion_tokens": 3}))

    assert (snap.input_tokens, snap.output_tokens) == (7, 3)


def test_tokens_without_a_cost_leave_the_cost_unknown_not_free():
    # Ingest prices such tokens from the price table (StageRun.cost); an output alone cannot know that cost.
    snap = StageSnapshot.from_output(_output({"model": "gpt-4o", "input_tokens": 1000}))

    assert snap.cost == 0.0 and not snap.cost_known


def test_no_usage_means_no_tokens_and_a_known_cost_of_nothing():
    snap = StageSnapshot.from_output(_output())

    assert (snap.model, snap.tokens, snap.cost, snap.cost_known) == ("", 0, 0.0, True)
    assert StageSnapshot.from_output({"stage": "compose", "result": "not a mapping"}).tokens == 0


def test_usage_figures_are_never_negative():
    with pytest.raises(ValidationError):
        StageSnapshot(stage="compose", input_tokens=-1)
    with pytest.raises(ValidationError):
        StageSnapshot(stage="compose", cost=-0.5)
