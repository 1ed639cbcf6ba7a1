"""Golden suites end to end on the reference pipeline: baseline, runs, assertions, pass^k, triggers, schedule, reaper."""

import itertools
from datetime import timedelta
from io import StringIO
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from inspector.contracts import ExecutionContext
from inspector.models import Asset, Trace
from inspector.pipeline.runner import pipeline_run
from inspector.services import asset_version_publish
from kernel.errors import Conflict, InvalidInput
from regression import services
from regression.models import GoldenQuery, RegressionAnalysis, RegressionRun
from regression.services import suites
from regression.suite_models import GoldenSuite, SuiteItem, SuiteItemResult, SuiteRun
from regression.tasks import run_scheduled_suite
from testkit.factories import publish_changed_version

pytestmark = pytest.mark.usefixtures("reference_assets", "run_on_commit_now", "steady_stage_clock")
QUESTION = "Events on checkout-api last 30 days"
ROWS = {"stage": "execute", "pointer": "/references", "op": "row_count", "min": 1}
INTENT = {"stage": "route_plan", "pointer": "/result/intent", "op": "equals", "value": "event_history"}


@pytest.fixture
def steady_stage_clock(monkeypatch):
    """Every stage takes 5 ms: unchanged assets give identical metrics, so the statistics can clear them.

    Real millisecond timings of the in-process reference handlers jitter by
    50–150%; with 4 runs a side such a row is "on the fence" (large effect,
    not significant), which the group statistics rightly call inconclusive.
    """
    from inspector.pipeline import executor

    ticks = itertools.count()
    monkeypatch.setattr(executor, "time", SimpleNamespace(perf_counter=lambda: next(ticks) * 0.005))


def _suite(*, question_assertions=(ROWS, INTENT), stage_assertions=(ROWS,), repeats=4, **fields) -> GoldenSuite:
    """Two items (a question, and the execute stage of a stored trace), each run ``repeats`` times.

    Four repeats: the group statistics test nothing below 4 runs a side (at least WARN).
    """
    suite = GoldenSuite.objects.create(name="checkout", repeats=repeats, **fields)
    source = pipeline_run(context=ExecutionContext(question=QUESTION))
    items = [
        SuiteItem(suite=suite, name="events-question", kind="question", question=QUESTION,
                  assertions=list(question_assertions), position=1),
        SuiteItem(suite=suite, name="execute-rerun", kind="stage", stage="execute", trace_id=source.trace_id,
                  assertions=list(stage_assertions), position=2),
    ]
    for item in items:
        services.suite_item_check(item=item)
        item.save()
    return suite


@pytest.fixture
def suite(db) -> GoldenSuite:
    suite = _suite()
    baseline = services.suite_record_baseline(suite=suite)
    baseline.refresh_from_db()
    assert baseline.status == "completed", baseline.error_message
    return suite


def test_recording_the_baseline_stores_repeats_traces_per_item_as_a_baseline_run(suite):
    run = suite.runs.get()
    assert run.trigger == "baseline" and run.verdict == "PASS" and run.progress == 2
    for item in suite.items.all():
        assert len(item.baseline_trace_ids) == 4
        traces = Trace.objects.filter(trace_id__in=item.baseline_trace_ids)
        assert traces.count() == 4 and all(trace.test_mode for trace in traces)
        assert not SuiteItemResult.objects.get(run=run, item=item).analysis_id  # nothing to compare yet
    stage_item = suite.items.get(kind="stage")
    rerun = Trace.objects.get(trace_id=stage_item.baseline_trace_ids[0])
    assert rerun.parent_trace_id == stage_item.trace_id
    assert list(rerun.stage_runs.values_list("stage", flat=True)) == ["execute"]


def test_a_run_with_unchanged_assets_passes_every_item_with_pass_k(suite):
    run = services.suite_run_request(suite=suite)
    run.refresh_from_db()
    assert run.status == "completed", run.error_message
    assert run.verdict == "PASS" and run.score == 0 and run.progress == 2 and run.trigger == "manual"
    results = list(run.results.select_related("analysis", "item"))
    assert len(results) == 2
    for result in results:
        assert result.verdict == "PASS" and result.pass_all and result.passes == result.repeats == 4
        assert result.analysis.kind == RegressionAnalysis.Kind.GROUP and result.analysis.status == "completed"
        assert result.analysis.baseline_trace_ids == result.item.baseline_trace_ids
        assert result.analysis.candidate_trace_ids == result.candidate_trace_ids
        assert len(result.assertion_results) == 4
        assert all(check["passed"] for repeat in result.assertion_results for check in repeat["assertions"])
    question = run.results.get(item__kind="question")
    assert Trace.objects.get(trace_id=question.candidate_trace_ids[0]).parent_trace_id == \
        question.item.baseline_trace_ids[0]


def test_a_failing_assertion_fails_the_item_and_the_suite_naming_it(suite):
    item = suite.items.get(kind="question")
    item.assertions = [INTENT, {"stage": "route_plan", "pointer": "/result/intent", "op": "equals",
                                "value": "metric_history"}]
    services.suite_item_check(item=item)
    item.save()
    run = services.suite_run_request(suite=suite)
    run.refresh_from_db()
    assert run.status == "completed" and run.verdict == "FAIL"
    failed = run.results.get(item=item)
    assert failed.verdict == "FAIL" and failed.passes == 0 and not failed.pass_all
    assert failed.analysis.verdict == "PASS"  # the statistics saw no change: the assertion alone fails it
    check = failed.assertion_results[0]["assertions"][1]
    assert not check["passed"] and check["index"] == 1
    assert "route_plan/result/intent" in check["message"] and '"metric_history"' in check["message"]
    assert '"event_history"' in check["message"]
    assert run.results.get(item__kind="stage").verdict == "PASS"
    report = {line.name: line for line in services.suite_run_report(run)}
    assert report["events-question"].verdict == "FAIL"
    assert any("metric_history" in problem for problem in report["events-question"].problems)
    assert report["execute-rerun"].problems == []


def test_one_repeat_failing_an_assertion_breaks_pass_k(suite, monkeypatch):
    real = suites._stage_outputs

    def second_repeat_without_rows(trace_ids, tenant_id):
        outputs = real(trace_ids, tenant_id)
        outputs[trace_ids[1]]["execute"]["references"] = []  # as if that one repeat came back empty
        return outputs

    monkeypatch.setattr(suites, "_stage_outputs", second_repeat_without_rows)
    run = services.suite_run_request(suite=suite)
    run.refresh_from_db()
    for result in run.results.all():
        assert result.passes == 3 and result.repeats == 4 and not result.pass_all and result.verdict == "FAIL"
        assert [repeat["passed"] for repeat in result.assertion_results] == [True, False, True, True]
    assert run.verdict == "FAIL"


def test_an_override_that_changes_behaviour_does_not_pass(suite, reference_v2_drafts):
    run = services.suite_run_request(suite=suite, overrides={"query": "event_history@2"})
    run.refresh_from_db()
    assert run.status == "completed" and run.overrides == {"query": "event_history@2"}
    for result in run.results.select_related("analysis"):
        assert result.analysis.verdict in {"WARN", "FAIL"}
        assert result.verdict != "PASS" and result.score > 0
    assert run.verdict in {"WARN", "FAIL"} and run.score == max(r.score for r in run.results.all())


def test_bad_assertions_and_items_are_refused_with_the_field_named(db):
    suite = GoldenSuite.objects.create(name="bad")
    bad_assertions = [
        ([{"stage": "execute", "pointer": "/result/rows", "op": "row_count"}], "min, max or both"),
        ([{"stage": "execute", "op": "matches", "pattern": "("}], "assertions[0].pattern"),
        ([{"stage": "nowhere", "op": "equals", "value": 1}], "assertions[0].stage"),
        ([{"stage": "execute", "op": "sorted"}], "'sorted'"),
    ]
    for assertions, expected in bad_assertions:
        item = SuiteItem(suite=suite, name="q", kind="question", question=QUESTION, assertions=assertions)
        with pytest.raises(InvalidInput, match=expected.replace("[", r"\[").replace("]", r"\]")) as caught:
            services.suite_item_check(item=item)
        assert caught.value.field == "assertions"
    with pytest.raises(InvalidInput) as caught:
        services.suite_item_check(item=SuiteItem(suite=suite, name="s", kind="stage", stage="execute",
                                                 trace_id="no-such-trace"))
    assert caught.value.field == "trace_id"
    with pytest.raises(InvalidInput) as caught:
        services.suite_item_check(item=SuiteItem(suite=suite, name="q", kind="question", question="  "))
    assert caught.value.field == "question"


def test_bad_suite_settings_are_refused(db):
    for fields, field in (({"repeats": 0}, "repeats"), ({"repeats": 51}, "repeats"),
                          ({"options": {"no_such_option": 1}}, "options"),
                          ({"schedule": "0 3 * *"}, "schedule"), ({"schedule": "61 3 * * *"}, "schedule")):
        with pytest.raises(InvalidInput) as caught:
            services.suite_check(suite=GoldenSuite(name="s", **fields))
        assert caught.value.field == field
    services.suite_check(suite=GoldenSuite(name="s", repeats=5, schedule="30 2 * * 1-5"))


def test_a_run_needs_items_with_a_baseline_and_valid_overrides(db):
    empty = GoldenSuite.objects.create(name="empty")
    with pytest.raises(InvalidInput, match="no items"):
        services.suite_record_baseline(suite=empty)
    suite = _suite()
    with pytest.raises(InvalidInput, match="without a baseline: events-question, execute-rerun"):
        services.suite_run_request(suite=suite)
    with pytest.raises(InvalidInput):
        suites._request(suite, SuiteRun.Trigger.MANUAL, {"query": "no_such_asset@1"}, None, False)
    assert not SuiteRun.objects.exists()


def test_saving_a_schedule_keeps_a_beat_entry_in_step(db):
    suite = GoldenSuite.objects.create(name="nightly", schedule="15 2 * * *")
    entry = PeriodicTask.objects.get(name=f"golden-suite-{suite.pk}")
    assert entry.task == "regression.tasks.run_scheduled_suite" and entry.args == f"[{suite.pk}]" and entry.enabled
    assert (entry.crontab.minute, entry.crontab.hour, entry.crontab.day_of_week) == ("15", "2", "*")
    suite.schedule = "0 6 * * 1"
    suite.save()
    entry.refresh_from_db()
    assert (entry.crontab.minute, entry.crontab.hour, entry.crontab.day_of_week) == ("0", "6", "1")
    suite.enabled = False
    suite.save()
    entry.refresh_from_db()
    assert not entry.enabled
    suite.schedule = ""
    suite.save()
    assert not PeriodicTask.objects.filter(name=f"golden-suite-{suite.pk}").exists()
    suite.schedule = "0 1 * * *"
    suite.save()
    services.suite_delete(suite=suite)
    assert not PeriodicTask.objects.filter(name__startswith="golden-suite-").exists()


def test_the_beat_task_runs_the_suite_by_id(suite):
    assert run_scheduled_suite(suite.pk).startswith("suite run ")
    run = suite.runs.get(trigger="schedule")
    assert run.status == "completed" and run.verdict == "PASS"
    suite.enabled = False
    suite.save()
    assert run_scheduled_suite(suite.pk).startswith("skipped")
    assert run_scheduled_suite(999_999).startswith("skipped")


def test_publishing_an_asset_a_baseline_used_runs_the_suite(suite, reference_v2_drafts):
    asset = Asset.objects.get(name="event_history")
    asset_version_publish(version=asset.versions.get(version=2))
    run = suite.runs.get(trigger="asset_publish")
    assert run.status == "completed" and run.verdict in {"WARN", "FAIL"}


def test_publishing_an_unrelated_asset_runs_no_suite(suite):
    publish_changed_version("ci_lookup", row_limit=5)  # the suite's question never runs this query
    assert not suite.runs.filter(trigger="asset_publish").exists()


def test_a_suite_with_runs_is_kept(suite):
    with pytest.raises(Conflict, match="disable it instead"):
        services.suite_delete(suite=suite)


def test_a_failure_fails_the_run_with_its_message(suite, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("handler exploded")

    monkeypatch.setattr(suites, "pipeline_run", broken)
    run = services.suite_run_request(suite=suite)  # the eager task logs the error; the row records it
    run.refresh_from_db()
    assert run.status == "failed" and "RuntimeError: handler exploded" in run.error_message


def test_a_retry_keeps_finished_items_and_the_reaper_recovers_a_lost_run(suite):
    run = services.suite_run_request(suite=suite, enqueue=False)
    finished = services.suite_run_execute(run_id=run.pk)
    # As if the worker died after the first item: the second item's result is gone, the claim is stale.
    finished.results.get(item__kind="stage").delete()
    kept = finished.results.get(item__kind="question")
    SuiteRun.objects.filter(pk=run.pk).update(status="running", progress=1, verdict="",
                                             heartbeat_at=timezone.now() - timedelta(hours=1))
    assert services.work_reap()["suite_runs_requeued"] == 1  # and sent again: eager here, so it ran
    run.refresh_from_db()
    assert run.status == "completed" and run.progress == 2 and run.attempts == 2 and run.verdict == "PASS"
    assert run.results.get(item__kind="question").candidate_trace_ids == kept.candidate_trace_ids
    assert run.results.count() == 2


def test_fewer_repeats_than_the_statistics_need_is_at_least_warn(db):
    suite = _suite(repeats=3)
    services.suite_record_baseline(suite=suite)
    run = services.suite_run_request(suite=suite)
    run.refresh_from_db()
    assert run.verdict == "WARN" and run.score == 0
    for result in run.results.select_related("analysis"):
        # The assertions all held (pass^k), but 3 + 3 runs are too few for the statistics to clear the item.
        assert result.verdict == "WARN" and result.pass_all and result.passes == 3
        assert result.analysis.statistics["insufficient"]


def _junit_cases(path) -> dict[str, dict[str, ET.Element]]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return {suite.get("name"): {case.get("name"): case for case in suite.iter("testcase")}
            for suite in root.iter("testsuite")}


def test_the_gate_runs_a_suite_and_writes_one_testcase_per_item(suite, tmp_path):
    out, junit = StringIO(), tmp_path / "gate.xml"
    call_command("regression_gate", "--suite", "checkout", "--junit", str(junit), stdout=out)
    table = out.getvalue()
    assert "suite checkout: PASS" in table and "pass^k" in table
    assert "events-question" in table and "4/4" in table
    cases = _junit_cases(junit)
    assert list(cases) == ["suite:checkout"]
    assert set(cases["suite:checkout"]) == {"events-question", "execute-rerun"}
    assert all(case.find("failure") is None for case in cases["suite:checkout"].values())
    assert suite.runs.filter(trigger="gate", status="completed", verdict="PASS").exists()
    assert not RegressionRun.objects.exists()  # --suite alone runs no golden query


def test_the_gate_fails_on_a_failing_item_naming_the_assertion(suite, tmp_path):
    item = suite.items.get(kind="stage")
    item.assertions = [{"stage": "execute", "pointer": "/references", "op": "row_count", "max": 2}]
    item.save()
    junit = tmp_path / "gate.xml"
    with pytest.raises(CommandError, match="1 suite item at or above FAIL"):
        call_command("regression_gate", "--suite", "checkout", "--junit", str(junit), stdout=StringIO())
    cases = _junit_cases(junit)["suite:checkout"]
    assert cases["events-question"].find("failure") is None
    failure = cases["execute-rerun"].find("failure")
    assert failure.get("message").startswith("FAIL") and "0/4 repeats passed" in failure.get("message")
    assert "execute/references: expected a list of at most 2 rows, got 13 rows" in failure.text


def test_the_gate_runs_golden_queries_and_suites_together(suite, tmp_path):
    query = GoldenQuery.objects.create(name="checkout-events", question=QUESTION)
    services.golden_query_set_baseline(golden_query=query,
                                       trace_id=pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id)
    junit = tmp_path / "gate.xml"
    call_command("regression_gate", "--golden", "all", "--suite", "checkout", "--junit", str(junit),
                 stdout=StringIO())
    cases = _junit_cases(junit)
    assert set(cases) == {"regression_gate", "suite:checkout"} and set(cases["regression_gate"]) == {"checkout-events"}


def test_the_gate_refuses_unknown_suites_and_suites_without_a_baseline(db):
    with pytest.raises(CommandError, match="unknown suite: nope"):
        call_command("regression_gate", "--suite", "nope", stdout=StringIO())
    _suite()
    with pytest.raises(CommandError, match="without a baseline"):
        call_command("regression_gate", "--suite", "checkout", stdout=StringIO())


def test_the_reaper_leaves_an_item_analysis_to_its_run_and_fails_it_with_a_lost_run(db, settings):
    suite = GoldenSuite.objects.create(name="lost")
    item = SuiteItem.objects.create(suite=suite, name="q", question=QUESTION, baseline_trace_ids=["b1", "b2"])
    long_ago = timezone.now() - timedelta(hours=1)
    run = SuiteRun.objects.create(suite=suite, status="running", attempts=settings.OPS_ANALYSIS_MAX_ATTEMPTS,
                                  started_at=long_ago, heartbeat_at=long_ago)
    analysis = RegressionAnalysis.objects.create(kind="group", baseline_trace_ids=["b1", "b2"],
                                                 candidate_trace_ids=["c1", "c2"], status="running",
                                                 started_at=long_ago, heartbeat_at=long_ago)
    SuiteItemResult.objects.create(run=run, item=item, candidate_trace_ids=["c1", "c2"], analysis=analysis)
    RegressionAnalysis.objects.filter(pk=analysis.pk).update(created_at=long_ago)

    result = services.work_reap()
    # The run's own claim is what the reaper judges; the analysis it owns is never requeued or sent by itself.
    assert result["suite_runs_failed"] == 1 and result["analyses_requeued"] == 0 and result["analyses_sent"] == 0
    run.refresh_from_db()
    analysis.refresh_from_db()
    assert run.status == "failed" and "worker lost" in run.error_message
    assert analysis.status == "failed" and "worker lost" in analysis.error_message
