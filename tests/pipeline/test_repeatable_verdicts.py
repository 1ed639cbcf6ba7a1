"""A verdict is a promise: with nothing changed, the same golden query, gate or override test gives the same verdict.

Issue 16: the same override test gave PASS 0, then FAIL 100 twice within 30 s;
a golden query gave FAIL at 11:05 and PASS at 11:27. Both came from the live
control loop (its breaker, fed by other traffic) deciding inside test runs.
Each test below turns the live breaker open half-way through, as production
traffic would, and still expects one outcome.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from inspector.contracts import ExecutionContext
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_v2_install
from reference.demo import GOLDEN, demo_golden_queries_install
from regression.models import GoldenQuery, RegressionAnalysis
from regression.services import golden_query_run, regression_run_execute
from regression.services.override_tests import override_test_execute, override_test_start
from tests.pipeline.test_control_loop_isolation import EMPTY_THEN_FOUND, open_live_breaker

pytestmark = pytest.mark.usefixtures("reference_assets")


@pytest.fixture
def demo_golden_queries() -> list[GoldenQuery]:
    """The demo's golden queries, pinned to live traces of the current (version 2) assets, as seed_demo does."""
    reference_v2_install(publish=True)
    for _, question in GOLDEN:
        pipeline_run(context=ExecutionContext(question=question, user_id="demo"))
    demo_golden_queries_install()
    return list(GoldenQuery.objects.order_by("name"))


def outcome(analysis: RegressionAnalysis) -> tuple:
    """Everything a verdict promises: verdict, score and each finding with its stage, place and penalty."""
    findings = [(stage["stage"], issue["kind"], issue["pointer"], issue.get("penalty", 0))
                for stage in analysis.stage_results for issue in stage.get("issues", [])]
    return analysis.verdict, analysis.score, tuple(findings)


def test_every_demo_golden_query_gives_20_identical_verdicts_and_scores(demo_golden_queries):
    assert [query.name for query in demo_golden_queries] == sorted(name for name, _ in GOLDEN)
    for query in demo_golden_queries:
        seen = []
        for number in range(20):
            if number == 10:
                open_live_breaker()
            run = regression_run_execute(run_id=golden_query_run(golden_query=query, enqueue=False).pk)
            assert run.status == "completed", run.error_message
            seen.append(outcome(run.analysis))
        assert len(set(seen)) == 1, f"{query.name}: {sorted(set(seen))}"


def _junit_without_timestamps(path: Path) -> str:
    return re.sub(r'\s(timestamp|time)="[^"]*"', "", path.read_text())


def _gate(path: Path) -> None:
    try:
        call_command("regression_gate", "--golden", "all", "--junit", str(path), "--fail-on", "FAIL")
    except CommandError:
        pass  # a failing verdict still writes the file; the two files are what is compared


def test_regression_gate_twice_writes_the_same_junit(demo_golden_queries, tmp_path):
    _gate(tmp_path / "first.xml")
    open_live_breaker()
    _gate(tmp_path / "second.xml")

    first = _junit_without_timestamps(tmp_path / "first.xml")
    assert first == _junit_without_timestamps(tmp_path / "second.xml")
    assert first.count("<testcase") == len(GOLDEN)


def test_an_override_test_repeated_10_times_gives_one_verdict():
    reference_v2_install(publish=True)
    trace = pipeline_run(context=ExecutionContext(question=EMPTY_THEN_FOUND, user_id="demo"))
    seen = []
    for number in range(10):
        if number == 5:
            open_live_breaker()
        test = override_test_start(trace=trace, overrides={"screen": "answer_card@1"}, reason=f"repeat {number}")
        test = override_test_execute(test_id=test.pk)
        assert test.status == "completed", test.error_message
        seen.append(outcome(test.analysis))
    assert len(set(seen)) == 1, sorted(set(seen))
