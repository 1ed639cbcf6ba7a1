"""run_pipeline, seed_assets and seed_demo management commands."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from inspector.models import Asset, AssetVersion, Trace


@pytest.mark.django_db
def test_seed_assets_is_idempotent():
    call_command("seed_assets", stdout=StringIO())
    call_command("seed_assets", stdout=StringIO())
    assert set(Asset.objects.values_list("asset_type", flat=True)) == {
        "prompt", "policy", "mapping", "query", "source", "schema", "resolver", "screen"}
    assert AssetVersion.objects.exclude(status="published").count() == 0


@pytest.mark.usefixtures("reference_assets")
def test_run_pipeline_prints_stages_and_answer():
    out = StringIO()
    call_command("run_pipeline", "What does checkout depend on?", stdout=out)
    text = out.getvalue()
    assert "ROUTE_PLAN" in text and "PRESENT" in text and "dependency_path@1" in text
    assert "answer:" in text


@pytest.mark.usefixtures("reference_assets")
def test_run_pipeline_json_with_override():
    out = StringIO()
    call_command("run_pipeline", "What is checkout-api?", "--override", "query=ci_lookup@1", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["test_mode"] is True and data["applied_assets"]["query"]["version"] == 1


@pytest.mark.usefixtures("reference_assets")
@pytest.mark.parametrize("override", ["query", "query=nope@1"])
def test_run_pipeline_bad_override_is_a_command_error(override):
    with pytest.raises(CommandError):
        call_command("run_pipeline", "q", "--override", override, stdout=StringIO())
    assert Trace.objects.count() == 0


@pytest.mark.django_db
def test_seed_demo_makes_varied_real_runs_across_two_asset_versions():
    call_command("seed_demo", stdout=StringIO())
    traces = Trace.objects.all()
    assert traces.count() >= 200
    by_route = dict(traces.values_list("route").annotate(n=Count("id")))
    assert by_route["plan"] > 100 and by_route["direct"] > 0 and by_route["reject"] > 0
    statuses = set(traces.values_list("status", flat=True))
    assert statuses == {"success", "warning", "error"}
    assert traces.filter(stage_runs__stage="execute", stage_runs__result_empty=True).exists()
    assert traces.filter(test_mode=True, trace_id__startswith="demo-rerun").exclude(parent_trace_id="").count() == 3
    days = {t.date() for t in traces.values_list("started_at", flat=True)}
    assert len(days) >= 5
    published_v2 = AssetVersion.objects.filter(version=2, status="published").count()
    assert published_v2 >= 2
    used_versions = set(traces.filter(asset_usages__asset_type="prompt", asset_usages__stage="")
                        .values_list("asset_usages__version", flat=True))
    assert used_versions == {1, 2}
    from controlloop.models import ReplanEvent

    assert traces.filter(replan_count__gt=0).exists()
    decisions = ReplanEvent.objects.filter(kind="decision")
    assert decisions.filter(approved=True, decision="auto_retry").exists()
    assert decisions.filter(decision="ask_user").exists() and decisions.filter(approved=False).exists()
    assert ReplanEvent.objects.filter(kind="execution", outcome="succeeded").exists()
    from regression.models import GoldenQuery, RegressionRun

    assert GoldenQuery.objects.count() == 3
    assert set(RegressionRun.objects.values_list("status", flat=True)) == {"completed"}
    call_command("seed_demo", stdout=StringIO())  # idempotent
    assert Trace.objects.count() == traces.count()
