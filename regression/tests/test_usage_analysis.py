"""Tokens and cost of ingested traces reach the scoring (issue 18): snapshots, group metrics, a stored analysis."""

from __future__ import annotations

import pytest

from inspector.services import asset_create, asset_version_publish, trace_ingest
from regression.selectors import group_metrics, trace_snapshots
from regression.services import analysis_request
from testkit.factories import trace_body

pytestmark = pytest.mark.django_db
PRICES = {"currency": "USD", "models": {"gpt-4o": {"input_per_million": 2.5, "output_per_million": 10.0}}}


def _ingest(trace_id: str, usage: dict | None) -> str:
    """A trace whose compose stage reported ``usage`` (None: no usage at all)."""
    body = trace_body(trace_id=trace_id)
    if usage is not None:
        compose = next(stage for stage in body["stages"] if stage["stage"] == "compose")
        compose["output"]["result"]["usage"] = usage
    trace_ingest(payload=body)
    return trace_id


@pytest.fixture
def price_table(db):
    asset = asset_create(tenant_id="default", asset_type="price_table", name="model_prices", spec=PRICES)
    asset_version_publish(version=asset.versions.get(version=1))


def test_a_pair_whose_compose_used_three_times_the_tokens_is_warn(run_on_commit_now):
    _ingest("base", {"model": "gpt-4o", "input_tokens": 800, "output_tokens": 200})
    _ingest("cand", {"model": "gpt-4o", "input_tokens": 2400, "output_tokens": 600})

    analysis = analysis_request(baseline_trace_ids=["base"], candidate_trace_ids=["cand"])

    analysis.refresh_from_db()
    assert (analysis.status, analysis.verdict, analysis.score) == ("completed", "WARN", 25)
    compose = next(stage for stage in analysis.stage_results if stage["stage"] == "compose")
    assert [(i["kind"], i["pointer"], i["penalty"]) for i in compose["issues"]] == [
        ("tokens_increased", "/result/usage", 25)]  # the changed usage fields are not also output_changed
    assert compose["issues"][0]["message"].startswith("compose: used 3,000 tokens instead of 1,000")


def test_snapshots_carry_the_final_attempts_usage_with_the_cost_ingest_computed(price_table):
    _ingest("priced", {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 500})
    _ingest("plain", None)

    snapshots = trace_snapshots(["priced", "plain"], tenant_id="")

    compose = snapshots["priced"].stages["compose"]
    assert (compose.model, compose.input_tokens, compose.output_tokens) == ("gpt-4o", 1000, 500)
    assert compose.cost == pytest.approx(0.0075)  # priced at ingest: the output alone has no cost
    assert compose.cost_known
    plain = snapshots["plain"].stages["compose"]
    assert (plain.model, plain.tokens, plain.cost) == ("", 0, 0.0)


def test_a_computed_cost_that_doubled_is_charged_with_the_tokens_once(price_table, run_on_commit_now):
    _ingest("base", {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 500})
    _ingest("cand", {"model": "gpt-4o", "input_tokens": 2000, "output_tokens": 1000})

    analysis = analysis_request(baseline_trace_ids=["base"], candidate_trace_ids=["cand"])

    analysis.refresh_from_db()
    compose = next(stage for stage in analysis.stage_results if stage["stage"] == "compose")
    assert [(i["kind"], i["penalty"]) for i in compose["issues"]] == [("tokens_increased", 25), ("cost_increased", 0)]
    assert (analysis.verdict, analysis.score) == ("WARN", 25)


def test_group_metrics_record_tokens_and_known_cost_of_runs_that_reported_usage(price_table):
    _ingest("priced", {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 500})
    _ingest("unpriced", {"model": "mystery", "input_tokens": 300})
    _ingest("plain", None)

    compose = group_metrics(["priced", "unpriced", "plain"], tenant_id="")["compose"]

    assert compose["tokens"] == [1500.0, 300.0]  # "plain" reported no usage: no sample, not a 0
    assert compose["cost"] == [pytest.approx(0.0075)]  # "unpriced" has no known cost


def test_a_group_analysis_does_not_charge_tokens_inside_the_baselines_spread(run_on_commit_now):
    # Baseline tokens 1000..1800: their band is 1200..1600 (width 400). The pair compares the first
    # baseline run (1000) with a candidate run of 1350: +35 %, charged 10 without the noise floor.
    baseline = [_ingest(f"base-{n}", {"model": "gpt-4o", "input_tokens": tokens})
                for n, tokens in enumerate([1000, 1600, 1200, 1400, 1800])]
    candidate = [_ingest(f"cand-{n}", {"model": "gpt-4o", "input_tokens": 1350}) for n in range(5)]

    analysis = analysis_request(baseline_trace_ids=baseline, candidate_trace_ids=candidate)

    analysis.refresh_from_db()
    compose = next(stage for stage in analysis.stage_results if stage["stage"] == "compose")
    assert compose["issues"] == []
    assert compose["noise_ignored"] == ["tokens: change of +350 is within the baseline spread of 400"]
    assert "compose tokens" in [row["name"] for row in analysis.statistics["table"]]
