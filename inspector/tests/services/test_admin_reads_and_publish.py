"""What the trace and asset admins read (selectors, trace_page contexts) and the admin's publish service."""

import pytest

from access.errors import TenantForbidden
from access.tenancy import EVERY_TENANT, TenantScope
from inspector import selectors, trace_page
from inspector.models import Asset, AssetVersion, Trace
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from inspector.services.assets import asset_version_publish_selected
from kernel.errors import InvalidInput
from testkit.factories import VALID_SPECS, trace_body

pytestmark = pytest.mark.django_db


def ingest(trace_id, tenant_id="default", **fields):
    return trace_ingest(payload=trace_body(trace_id=trace_id, tenant_id=tenant_id, **fields))[0]


def test_traces_with_id_answers_an_exact_trace_id_only():
    ingest("t-exact", question="Which servers run checkout-api?")
    ingest("t-other", question="t-exact is mentioned here")
    found = selectors.traces_with_id(Trace.objects.all(), trace_id="  t-exact ")
    assert [t.trace_id for t in found] == ["t-exact"]
    assert selectors.traces_with_id(Trace.objects.all(), trace_id="checkout-api") is None
    assert selectors.traces_with_id(Trace.objects.all(), trace_id="   ") is None
    assert selectors.traces_with_id(Trace.objects.filter(tenant_id="acme"), trace_id="t-exact") is None


def test_trace_pk_picks_the_tenant_or_the_first_stored():
    first = ingest("shared-id", tenant_id="acme")
    second = ingest("shared-id", tenant_id="globex")
    traces = Trace.objects.all()
    assert selectors.trace_pk(traces, trace_id="shared-id") == first.pk
    assert selectors.trace_pk(traces, trace_id="shared-id", tenant="globex") == second.pk
    assert selectors.trace_pk(traces.filter(tenant_id="acme"), trace_id="shared-id", tenant="globex") is None
    assert selectors.trace_pk(traces, trace_id="missing") is None


def test_summaries_leave_out_the_heavy_columns():
    ingest("t-summary")
    trace = selectors.trace_summaries(Trace.objects.all()).get()
    assert {"metadata", "content_hash"} <= trace.get_deferred_fields()
    run = selectors.stage_run_summaries(trace.stage_runs.all()).first()
    assert {"diagnostics", "applied_assets"} <= run.get_deferred_fields()
    assert not hasattr(run, "input_head")  # no payload bytes: previews are the detail's alone


def test_assets_with_version_summary_counts_versions_and_names_the_published_one():
    used = asset_create(tenant_id="default", asset_type="policy", name="budget", spec=VALID_SPECS["policy"])
    asset_version_create(asset=used, spec=VALID_SPECS["policy"])
    asset_version_publish(version=used.versions.get(version=1))
    asset_create(tenant_id="default", asset_type="query", name="empty")
    rows = {a.name: (a._version_count, a._published)
            for a in selectors.assets_with_version_summary(Asset.objects.all())}
    assert rows == {"budget": (2, 1), "empty": (0, None)}


def test_traces_using_asset_by_asset_and_version():
    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    asset_version_publish(version=asset.versions.get())
    ingest("t-uses")
    ingest("t-not", applied_assets={}, stages=())
    assert [t.trace_id for t in selectors.traces_using_asset(asset=asset)] == ["t-uses"]
    assert [t.trace_id for t in selectors.traces_using_asset(asset=asset, version=1)] == ["t-uses"]
    assert list(selectors.traces_using_asset(asset=asset, version=2)) == []
    assert list(selectors.traces_using_asset(asset=asset, scope=TenantScope(tenants=frozenset({"acme"})))) == []


def test_publish_selected_needs_exactly_one_version_in_scope():
    asset = asset_create(tenant_id="acme", asset_type="policy", name="budget", spec=VALID_SPECS["policy"])
    asset_version_create(asset=asset, spec=VALID_SPECS["policy"])
    with pytest.raises(InvalidInput, match="Select exactly one version"):
        asset_version_publish_selected(versions=AssetVersion.objects.all(), scope=EVERY_TENANT)
    with pytest.raises(InvalidInput, match="Select exactly one version"):
        asset_version_publish_selected(versions=AssetVersion.objects.none(), scope=EVERY_TENANT)
    second = AssetVersion.objects.filter(version=2)
    with pytest.raises(TenantForbidden):
        asset_version_publish_selected(versions=second, scope=TenantScope(tenants=frozenset({"globex"})))
    assert AssetVersion.objects.get(version=2).status == "draft"
    published = asset_version_publish_selected(versions=second, scope=TenantScope(tenants=frozenset({"acme"})))
    assert (published.version, published.status) == (2, "published")


def test_page_context_reloads_the_trace_with_its_stages():
    parent = ingest("t-parent")
    trace = ingest("t-child", parent_trace_id="t-parent")
    context = trace_page.page_context(Trace.objects.only("id", "trace_id", "tenant_id").get(pk=trace.pk))
    assert context["trace"].pk == trace.pk and context["title"] == "Trace t-child"
    assert [g.stage for g in context["groups"]] == ["route_plan", "validate", "execute", "compose", "present"]
    assert context["parent"].pk == parent.pk and context["replanned"] == []
    assert context["compare_url"].endswith(f"/{trace.pk}/compare/") and context["overrides_url"] == ""
    assert "trace=t-child" in context["timeline_url"]


def test_compare_context_defaults_to_the_parent_and_shows_errors():
    ingest("t-base")
    trace = ingest("t-cand", parent_trace_id="t-base")
    by_parent = trace_page.compare_context(trace, baseline_id="", scope=EVERY_TENANT)
    assert by_parent["baseline_id"] == "t-base" and by_parent["error"] == ""
    assert [row["stage"] for row in by_parent["comparison"]["stages"]] == ["route_plan", "validate", "execute",
                                                                       "compose", "present"]
    missing = trace_page.compare_context(trace, baseline_id=" nope ", scope=EVERY_TENANT)
    assert missing["comparison"] is None and missing["analysis"] is None and "nope" in missing["error"]
    orphan = ingest("t-orphan")
    nothing = trace_page.compare_context(orphan, baseline_id="", scope=EVERY_TENANT)
    assert (nothing["baseline_id"], nothing["comparison"], nothing["error"]) == ("", None, "")
