"""Tokens and cost in the trace API: answers, filters, and refused usage."""

from __future__ import annotations

import pytest
from django.urls import reverse

from inspector.models import Trace
from inspector.services import asset_create, asset_version_publish, trace_ingest
from inspector.tests.services.test_trace_costs import PRICES, _with_usage
from testkit.factories import UserFactory, trace_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def costed():
    asset = asset_create(tenant_id="default", asset_type="price_table", name="model_prices", spec=PRICES)
    asset_version_publish(version=asset.versions.get(version=1))
    trace_ingest(payload=_with_usage("cheap", {"model": "gpt-4o", "input_tokens": 400, "output_tokens": 100}))
    trace_ingest(payload=_with_usage("dear", {"model": "gpt-4o", "input_tokens": 40_000, "output_tokens": 10_000}))
    trace_ingest(payload=_with_usage("odd", {"model": "unknown-model", "input_tokens": 5}))
    trace_ingest(payload=trace_body(trace_id="none"))


def test_every_trace_answer_carries_tokens_and_cost(viewer_client, costed):
    listed = {t["trace_id"]: t for t in viewer_client.get("/inspector/traces").json()["results"]}
    assert listed["dear"]["input_tokens"] == 40_000 and listed["dear"]["output_tokens"] == 10_000
    assert listed["dear"]["cost"] == pytest.approx(0.2)  # 40k × 2.5/M + 10k × 10/M
    assert listed["odd"]["unpriced_runs"] == 1 and listed["odd"]["cost"] == 0
    assert (listed["none"]["cost"], listed["none"]["input_tokens"], listed["none"]["unpriced_runs"]) == (0, 0, 0)
    stages = viewer_client.get("/inspector/traces/cheap").json()["stages"]
    compose = next(stage for stage in stages if stage["stage"] == "compose")
    assert compose["model"] == "gpt-4o" and compose["cost_source"] == "price_table"
    assert (compose["input_tokens"], compose["output_tokens"], compose["cost"]) == (400, 100, pytest.approx(0.002))
    route = next(stage for stage in stages if stage["stage"] == "route_plan")
    assert (route["model"], route["cost_source"], route["cost"]) == ("", "", 0)


def test_the_list_filters_by_cost_and_tokens(viewer_client, costed):
    def ids(query):
        return sorted(t["trace_id"] for t in viewer_client.get(f"/inspector/traces?{query}").json()["results"])

    assert ids("cost_min=0.01") == ["dear"]
    assert ids("cost_min=0.001&cost_max=0.01") == ["cheap"]
    assert ids("tokens_min=500") == ["cheap", "dear"]
    assert ids("tokens_min=1") == ["cheap", "dear", "odd"]


@pytest.mark.parametrize("query", ["cost_min=cheap", "tokens_min=many", "cost_max=NaN"])
def test_bad_bounds_are_refused(viewer_client, query):
    response = viewer_client.get(f"/inspector/traces?{query}")
    assert response.status_code == 400 and query.split("=")[0] in response.json()


@pytest.mark.parametrize(("usage", "said"), [
    ("lots", "usage"), ({"input_tokens": -1}, "usage.input_tokens"), ({"cost": "free"}, "usage.cost"),
    ({"output_tokens": 2**31}, "usage.output_tokens"), ({"model": "m" * 201}, "usage.model"),
])
def test_malformed_usage_is_refused_and_nothing_is_written(editor_client, usage, said):
    response = editor_client.post("/inspector/traces", _with_usage("bad", usage), format="json")
    assert response.status_code == 400 and said in str(response.json())
    assert not Trace.objects.filter(trace_id="bad").exists()


def test_the_trace_page_and_list_show_tokens_and_cost(client, costed):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    page = client.get(reverse("admin:inspector_trace_change", args=[Trace.objects.get(trace_id="dear").pk]))
    html = page.content.decode()
    assert 'data-testid="trace-tokens">40,000 in · 10,000 out<' in html
    assert 'data-testid="trace-cost"' in html and ">0.2<" in html
    assert "gpt-4o · 40,000 in · 10,000 out · cost 0.2" in html and "computed from the price table" in html
    odd = client.get(reverse("admin:inspector_trace_change", args=[Trace.objects.get(trace_id="odd").pk]))
    assert "≥ 0 (1 run unpriced)" in odd.content.decode()
    listed = client.get(reverse("admin:inspector_trace_changelist") + "?cost=0.01-0.1").content.decode()
    assert ">0.2<" not in listed and "50,000 · 0.2" not in listed
    listed = client.get(reverse("admin:inspector_trace_changelist") + "?cost=0.1-and-above").content.decode()
    assert "50,000 · 0.2" in listed and "cheap" not in listed
    unpriced = client.get(reverse("admin:inspector_trace_changelist") + "?cost=unpriced").content.decode()
    assert "odd" in unpriced and "dear" not in unpriced
