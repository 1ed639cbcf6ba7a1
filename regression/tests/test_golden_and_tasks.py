"""Golden queries, baselines, runs, the publish trigger, claims, failures and the reaper."""

from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from inspector.contracts import ExecutionContext
from inspector.models import Asset
from inspector.pipeline.runner import pipeline_run
from inspector.services import asset_version_publish
from regression import services
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun
from regression.tasks import run_analysis
from testkit.factories import publish_changed_version

pytestmark = pytest.mark.usefixtures("reference_assets", "run_on_commit_now")
QUESTION = "Events on checkout-api last 30 days"


@pytest.fixture
def golden(db):
    query = GoldenQuery.objects.create(name="checkout-events", question=QUESTION)
    trace = pipeline_run(context=ExecutionContext(question=QUESTION))
    services.golden_query_set_baseline(golden_query=query, trace_id=trace.trace_id)
    return query


def test_run_against_unchanged_assets_passes(golden):
    run = services.golden_query_run(golden_query=golden)
    run.refresh_from_db()
    assert run.status == "completed" and run.analysis.verdict == "PASS" and run.analysis.score == 0
    assert run.candidate_trace.parent_trace_id == golden.current_baseline.trace.trace_id


def test_run_with_a_behaviour_changing_override_does_not_pass(golden, reference_v2_drafts):
    run = services.golden_query_run(golden_query=golden, overrides={"query": "event_history@2"})
    run.refresh_from_db()
    assert run.analysis.verdict in {"WARN", "FAIL"}
    assert any(stage["stage"] == "execute" and stage["score"] > 0 for stage in run.analysis.stage_results)


def test_publishing_an_asset_used_by_a_baseline_enqueues_a_run(golden, reference_v2_drafts):
    asset = Asset.objects.get(name="event_history")
    asset_version_publish(version=asset.versions.get(version=2))
    run = RegressionRun.objects.get(golden_query=golden)
    assert run.trigger == "asset_publish" and run.status == "completed"
    assert run.analysis.verdict != "PASS"


def test_publishing_an_unrelated_asset_enqueues_nothing(golden):
    publish_changed_version("ci_lookup", row_limit=5)  # the baseline's question never runs this query
    assert not RegressionRun.objects.filter(trigger="asset_publish").exists()


def test_newest_baseline_wins_and_must_answer_the_question(golden):
    other = pipeline_run(context=ExecutionContext(question=QUESTION))
    services.golden_query_set_baseline(golden_query=golden, trace_id=other.trace_id)
    assert golden.current_baseline.trace.trace_id == other.trace_id and golden.baselines.count() == 2
    wrong = pipeline_run(context=ExecutionContext(question="hello"))
    from kernel.errors import InvalidInput

    with pytest.raises(InvalidInput, match="different question"):
        services.golden_query_set_baseline(golden_query=golden, trace_id=wrong.trace_id)


def test_redelivered_task_does_the_work_once(golden):
    base = golden.current_baseline.trace.trace_id
    other = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[base], candidate_trace_ids=[other])
    assert run_analysis.apply(args=[str(analysis.pk)]).get(timeout=10) == "completed"
    assert run_analysis.apply(args=[str(analysis.pk)]).get(timeout=10) == "skipped: already claimed"
    analysis.refresh_from_db()
    assert analysis.attempts == 1


def test_a_failing_analysis_ends_failed_with_a_message(golden, monkeypatch):
    from regression.services import analyses

    def explode(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(analyses, "compare_pair", explode)
    base = golden.current_baseline.trace.trace_id
    other = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    analysis = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[base], candidate_trace_ids=[other])
    with pytest.raises(RuntimeError):
        services.analysis_execute(analysis_id=analysis.pk)
    analysis.refresh_from_db()
    assert analysis.status == "failed" and "engine exploded" in analysis.error_message


def test_reaper_requeues_analyses_whose_worker_died_and_fails_them_after_the_last_attempt(golden, settings):
    base = golden.current_baseline.trace.trace_id
    other = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    long_ago = timezone.now() - timedelta(hours=2)
    # A worker claimed this one and died mid-way: it is stuck in running.
    stuck = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[base], candidate_trace_ids=[other],
                                              status="running", started_at=long_ago, attempts=1)
    exhausted = RegressionAnalysis.objects.create(kind="pair", baseline_trace_ids=[base],
                                                  candidate_trace_ids=[other], status="running",
                                                  started_at=long_ago, attempts=settings.OPS_ANALYSIS_MAX_ATTEMPTS)
    result = services.work_reap()
    stuck.refresh_from_db()
    exhausted.refresh_from_db()
    assert result["analyses_requeued"] == 1 and result["analyses_failed"] == 1
    assert stuck.status == "completed" and stuck.attempts == 2  # re-run eagerly here
    assert exhausted.status == "failed" and "worker lost" in exhausted.error_message


def test_regression_gate_command_passes_and_fails_with_junit(golden, tmp_path, request):
    out = StringIO()
    junit = tmp_path / "gate.xml"
    call_command("regression_gate", "--golden", "all", "--junit", str(junit), stdout=out)
    assert "checkout-events" in out.getvalue() and "PASS" in out.getvalue()
    assert 'failures="0"' in Path(junit).read_text()
    request.getfixturevalue("reference_v2_drafts")
    with pytest.raises(CommandError, match="at or above WARN"):
        call_command("regression_gate", "--override", "query=event_history@2", "--fail-on", "WARN",
                     "--junit", str(junit), stdout=StringIO())
    assert "<failure" in Path(junit).read_text()


def test_regression_gate_rejects_unknown_names(golden):
    with pytest.raises(CommandError, match="unknown golden query"):
        call_command("regression_gate", "--golden", "nope", stdout=StringIO())


def test_golden_query_api(operator_client, golden, db):
    from testkit.factories import UserFactory
    from testkit.plugin import client_for, grant

    client = client_for(grant(UserFactory(), "regression.view_goldenquery", "regression.add_goldenquery",
                              "regression.add_regressionrun", "regression.view_regressionrun",
                              "regression.add_baseline", "regression.view_baseline"))
    listed = client.get("/inspector/regression/golden-queries").json()["results"]
    assert listed[0]["name"] == "checkout-events" and listed[0]["baseline_trace_id"]
    created = client.post("/inspector/regression/golden-queries",
                          {"name": "hello", "question": "hello", "options": {"bogus": 1}}, format="json")
    assert created.status_code == 400
    run = client.post(f"/inspector/regression/golden-queries/{golden.pk}/run", {}, format="json")
    assert run.status_code == 202 and run.json()["status"] == "completed" and run.json()["verdict"] == "PASS"
    assert client.get("/inspector/regression/runs").json()["results"][0]["verdict"] == "PASS"
    no_baseline = GoldenQuery.objects.create(name="empty", question="hello")
    assert client.post(f"/inspector/regression/golden-queries/{no_baseline.pk}/run", {},
                       format="json").status_code == 400
    assert operator_client.get("/inspector/regression/golden-queries").status_code == 403
