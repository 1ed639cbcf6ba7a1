"""Ingest prices usage with the price table, records which version did, and sums tokens and cost per trace."""

from __future__ import annotations

import copy

import pytest

from inspector.models import StageRun, Trace, TraceAssetUsage
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db

PRICES = {"currency": "USD", "models": {"gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0}}}


def _prices(spec=PRICES, *, tenant_id="default", publish=True):
    asset = asset_create(tenant_id=tenant_id, asset_type="price_table", name="model_prices", spec=spec)
    if publish:
        asset_version_publish(version=asset.versions.get(version=1))
    return asset


def _with_usage(trace_id, *usages, **fields):
    """A trace whose compose stage ran once per usage (attempts 1, 2, …)."""
    body = trace_body(trace_id=trace_id, **fields)
    compose = next(stage for stage in body["stages"] if stage["stage"] == "compose")
    attempts = []
    for number, usage in enumerate(usages, start=1):
        attempt = copy.deepcopy(compose)
        attempt["attempt"] = number
        attempt["output"]["result"]["usage"] = usage
        attempts.append(attempt)
    index = body["stages"].index(compose)
    body["stages"][index:index + 1] = attempts
    return body


def test_usage_without_cost_is_priced_by_the_published_table_which_joins_the_bill_of_materials():
    _prices()
    trace, _ = trace_ingest(payload=_with_usage("t1", {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 500}))
    run = StageRun.objects.get(trace=trace, stage="compose")
    assert (run.model, run.input_tokens, run.output_tokens, run.cost_source) == ("gpt-4o", 1000, 500, "price_table")
    assert run.cost == pytest.approx(0.0075)
    trace.refresh_from_db()
    assert (trace.input_tokens, trace.output_tokens, trace.unpriced_runs) == (1000, 500, 0)
    assert trace.cost == pytest.approx(0.0075)
    priced_by = TraceAssetUsage.objects.get(trace=trace, asset_type="price_table")
    assert (priced_by.asset_name, priced_by.version, priced_by.stage) == ("model_prices", 1, "")
    trace_row = TraceAssetUsage.objects.get(trace=trace, asset_type="prompt", stage="")
    assert (trace_row.tokens, trace_row.cost) == (1500, pytest.approx(0.0075))


def test_retries_cost_too_and_a_given_cost_is_kept():
    _prices()
    trace, _ = trace_ingest(payload=_with_usage(
        "t2", {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 0, "cost": 0.5},
        {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 0}))
    runs = StageRun.objects.filter(trace=trace, stage="compose").order_by("attempt")
    assert [(r.cost_source, r.cost) for r in runs] == [("given", 0.5), ("price_table", pytest.approx(0.0025))]
    trace.refresh_from_db()
    assert trace.cost == pytest.approx(0.5025) and trace.input_tokens == 2000
    stage_row = TraceAssetUsage.objects.filter(trace=trace, stage="compose").first()
    assert stage_row is None or stage_row.tokens == 2000  # the stage row, when the stage applied an asset


def test_a_model_without_price_or_no_table_leaves_the_tokens_unpriced():
    trace, _ = trace_ingest(payload=_with_usage("t3", {"model": "gpt-4o", "input_tokens": 10, "output_tokens": 10}))
    trace.refresh_from_db()
    assert (trace.cost, trace.unpriced_runs, trace.input_tokens) == (0.0, 1, 10)
    assert not TraceAssetUsage.objects.filter(trace=trace, asset_type="price_table").exists()
    _prices()
    other, _ = trace_ingest(payload=_with_usage("t4", {"model": "mystery", "input_tokens": 10}))
    other.refresh_from_db()
    assert other.unpriced_runs == 1 and StageRun.objects.get(trace=other, stage="compose").cost_source == ""


def test_a_new_published_version_prices_the_next_trace_and_a_trace_may_pin_one():
    asset = _prices()
    usage = {"model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 0}
    trace_ingest(payload=_with_usage("before", usage))
    cheaper = asset_version_create(asset=asset, spec={"models": {"gpt-4o": {"input_per_million": 1.25,
                                                                             "output_per_million": 5.0}}})
    asset_version_publish(version=cheaper)
    trace_ingest(payload=_with_usage("after", usage))
    pinned = _with_usage("pinned", usage)
    pinned["applied_assets"]["price_table"] = "model_prices@1"
    trace_ingest(payload=pinned)
    costs = dict(Trace.objects.values_list("trace_id", "cost"))
    assert costs == {"before": 2.5, "after": 1.25, "pinned": 2.5}
    versions = dict(TraceAssetUsage.objects.filter(asset_type="price_table").values_list("trace__trace_id", "version"))
    assert versions == {"before": 1, "after": 2, "pinned": 1}


def test_a_tenants_own_table_wins_over_the_shared_one():
    _prices()
    _prices({"models": {"gpt-4o": {"input_per_million": 100, "output_per_million": 100}}}, tenant_id="acme")
    trace, _ = trace_ingest(payload=_with_usage("t5", {"model": "gpt-4o", "input_tokens": 10_000}, tenant_id="acme"))
    trace.refresh_from_db()
    assert trace.cost == pytest.approx(1.0)


def test_a_draft_table_prices_nothing():
    _prices(publish=False)
    trace, _ = trace_ingest(payload=_with_usage("t6", {"model": "gpt-4o", "input_tokens": 10}))
    trace.refresh_from_db()
    assert trace.unpriced_runs == 1
