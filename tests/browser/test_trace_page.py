"""The trace page in a real browser: stage panel, payloads on demand, copy, expand all, escaping."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.runner import pipeline_run
from inspector.services import trace_ingest
from reference.assets import reference_assets_install
from testkit.factories import trace_body
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser

XSS = '<script>window.__xss = 1; alert(1)</script>"><img src=x onerror="window.__xss = 2">'


def open_stage(page, selector: str):
    """Open a stage section and wait until its full payloads replaced the previews."""
    section = page.locator(selector)
    section.locator("summary").click()
    expect(section).to_have_attribute("data-loaded", "true", timeout=20_000)
    return section


def trace_url(live_server, trace: Trace) -> str:
    return live_server.url + reverse("admin:inspector_trace_change", args=[trace.pk])


def compare_url(live_server, candidate: Trace, baseline: Trace) -> str:
    return (live_server.url + reverse("admin:inspector_trace_compare", args=[candidate.pk])
            + f"?baseline={baseline.trace_id}")


@pytest.fixture
def pipeline_trace(transactional_db):
    reference_assets_install()
    return pipeline_run(context=ExecutionContext(question="What does checkout depend on?"))


def test_stage_panel_shows_recorded_input_and_output(staff_page, live_server, pipeline_trace):
    page = staff_page
    page.goto(trace_url(live_server, pipeline_trace))

    labels = page.locator(".ops-stage-label").all_inner_texts()
    assert labels == ["ROUTE_PLAN", "VALIDATE", "EXECUTE", "COMPOSE", "PRESENT"]
    assert page.get_by_test_id("question").inner_text() == "What does checkout depend on?"
    assert "query:dependency_path@1" in page.get_by_test_id("applied-assets").inner_text()

    execute = open_stage(page, "#stage-execute-1")
    output = execute.get_by_test_id("output-pane")
    assert execute.locator('.ops-pane-body[data-full="true"]').count() == 2
    # open result → tool_results → [0] → rows and find a recorded value
    output.get_by_text('"result"').click()
    output.get_by_text('"tool_results"').click()
    output.locator("details.json-node summary", has_text="0:").first.click()
    expect(output.get_by_text('"dependency_path@1"')).to_have_count(1)
    expect(output.locator("summary", has_text='"rows"')).to_contain_text("11 items")
    output.get_by_text('"rows"').click()
    output.locator("details.json-node summary", has_text="0:").nth(1).click()
    expect(output.get_by_text('"checkout-api"').first).to_be_visible()
    input_pane = execute.get_by_test_id("input-pane")
    input_pane.get_by_text('"applied_assets"').click()
    expect(input_pane.get_by_text('"dependency_path@1"')).to_have_count(1)
    assert "11 warning" not in execute.get_by_test_id("stage-summary").inner_text()
    refs = execute.get_by_test_id("references")
    refs.locator("ol li").first.wait_for()
    expect(refs.locator("ol li:visible")).to_have_count(5)
    refs.get_by_role("button", name="+6 more").click()
    expect(refs.locator("ol li:visible")).to_have_count(11)


def test_copy_button_puts_the_payload_on_the_clipboard(page, live_server, staff_user, pipeline_trace, context):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    from tests.browser.conftest import login

    login(page, live_server)
    page.goto(trace_url(live_server, pipeline_trace))
    section = open_stage(page, "#stage-validate-1")
    section.locator('.ops-copy[data-side="output"]').click()
    page.wait_for_function("document.querySelector('#stage-validate-1 .ops-copy[data-side=output]').textContent === 'Copied'")
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert copied["stage"] == "validate" and copied["result"]["validation_passed"] is True


def test_expand_all_and_collapse_all(staff_page, live_server, pipeline_trace):
    page = staff_page
    page.goto(trace_url(live_server, pipeline_trace))
    page.get_by_role("button", name="Expand all").click()
    page.wait_for_function("document.querySelectorAll('details.ops-stage[data-loaded=\"true\"]').length === 5")
    assert page.locator("details.ops-stage[open]").count() == 5
    page.get_by_role("button", name="Collapse all").click()
    assert page.locator("details.ops-stage[open]").count() == 0


def test_large_payload_loads_only_on_demand(staff_page, live_server, transactional_db):
    body = trace_body(trace_id="t-large", padding=5 * 1024 * 1024)
    body["stages"][2]["output"]["result"]["needle"] = "found-me-at-the-end"
    trace, _ = trace_ingest(payload=body)
    page = staff_page
    payload_requests = []
    page.on("request", lambda request: payload_requests.append(request.url) if "/stages/" in request.url else None)

    response = page.goto(trace_url(live_server, trace))
    assert len(response.body()) < 300_000  # previews only, not 25 MB of payloads
    assert payload_requests == []

    section = open_stage(page, "#stage-execute-1")
    output = section.get_by_test_id("output-pane")
    output.get_by_text('"result"').click()
    expect(output.get_by_text('"found-me-at-the-end"')).to_have_count(1)
    expect(output.get_by_role("button", name="show all 5242880 characters")).to_have_count(1)
    assert len(payload_requests) == 1 and "/stages/execute" in payload_requests[0]


def test_payload_text_is_escaped(staff_page, live_server, transactional_db):
    body = trace_body(trace_id="t-xss", question=XSS)
    body["stages"][2]["output"]["result"]["note"] = XSS
    body["stages"][2]["output"]["diagnostics"]["warnings"] = [XSS]
    body["stages"][2]["output"]["references"][0]["entity_name"] = XSS
    trace, _ = trace_ingest(payload=body)
    page = staff_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(trace_url(live_server, trace))
    section = open_stage(page, "#stage-execute-1")
    section.get_by_test_id("output-pane").get_by_text('"result"').click()
    section.get_by_test_id("references").locator("ol li").first.wait_for()

    assert XSS in page.get_by_test_id("question").inner_text()
    assert section.locator(".ops-warnings li").inner_text() == XSS
    expect(section.get_by_text(json.dumps(XSS)).first).to_be_visible()
    assert XSS in section.get_by_test_id("references").inner_text()
    assert dialogs == [] and page.evaluate("window.__xss") is None
    assert page.locator("img[src=x]").count() == 0


def test_compare_page_shows_stage_by_stage_diff(staff_page, live_server, pipeline_trace):
    other = pipeline_run(context=ExecutionContext(question="What does checkout depend on? last 2 days"))
    page = staff_page
    page.goto(trace_url(live_server, other))
    page.get_by_role("link", name="Compare with…").click()
    page.fill("#baseline", pipeline_trace.trace_id)
    page.get_by_test_id("compare-id").click()
    table = page.get_by_test_id("diff-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(table).to_contain_text("ROUTE_PLAN")
    expect(table.locator('tr[data-stage="route_plan"]')).to_contain_text("change")  # params.days differs
    page.fill("#baseline", other.trace_id)
    page.get_by_test_id("compare-id").click()
    expect(page.get_by_test_id("compare-error")).to_contain_text("cannot be compared with itself")


def test_baseline_picker_offers_the_same_question_first_and_compares_the_picked_trace(staff_page, live_server,
                                                                                     transactional_db):
    """Issue 19: the baseline was typed by hand; now it is picked, and the diff shows before/after and attempts."""
    reference_assets_install()
    baseline = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 last 4 days", test_mode=True))
    earlier = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 today", test_mode=True))
    candidate = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 today", test_mode=True))
    page = staff_page
    page.goto(trace_url(live_server, candidate))
    page.get_by_role("link", name="Compare with…").click()
    expect(page.get_by_test_id("compare-empty")).to_be_visible()

    picker = page.get_by_test_id("baseline-picker")
    groups = picker.locator("optgroup")
    expect(groups).to_have_count(2)
    expect(groups.first).to_have_attribute("label", "Same question")
    expect(groups.first.locator("option")).to_have_count(1)
    expect(groups.first.locator("option")).to_have_attribute("value", earlier.trace_id)
    expect(groups.nth(1).locator(f'option[value="{baseline.trace_id}"]')).to_contain_text(
        "Events on web-staging-03 last 4 days")
    picker.locator("select").select_option(baseline.trace_id)
    page.get_by_test_id("compare-picked").click()

    expect(page.get_by_test_id("compared-traces")).to_contain_text(baseline.trace_id)
    expect(picker.locator("select")).to_have_value(baseline.trace_id)  # the pick stays shown
    execute = page.get_by_test_id("diff-table").locator('tr[data-stage="execute"]')
    attempts = execute.get_by_test_id("attempts")
    expect(attempts).to_contain_text("1 → 2 attempts")
    expect(attempts.locator('[data-side="baseline"] li')).to_have_count(1)
    candidate_attempts = attempts.locator('[data-side="candidate"] li')
    expect(candidate_attempts).to_have_count(2)
    expect(candidate_attempts.first.get_by_test_id("replan")).to_contain_text("replan on empty_result → auto_retry")
    expect(candidate_attempts.nth(1)).to_contain_text("attempt 2: ok")
    replace = page.get_by_test_id("diff-table").locator('.ops-ops li[data-op="replace"]').first
    before, after = replace.locator(".ops-before").inner_text(), replace.locator(".ops-after").inner_text()
    assert before and after and before != after
    save_screenshot(page, "compare-picker.png")


def test_expand_json_opens_every_node_of_the_open_stages(staff_page, live_server, pipeline_trace):
    """Issue 19: "Expand all" opened the stages but not the JSON inside them."""
    page = staff_page
    page.goto(trace_url(live_server, pipeline_trace))
    page.get_by_role("button", name="Expand JSON").click()
    expect(page.get_by_test_id("expand-json-status")).to_contain_text("Open a stage first")

    page.get_by_role("button", name="Expand all").click()
    page.get_by_role("button", name="Expand JSON").click()
    expect(page.get_by_test_id("expand-json-status")).to_contain_text("JSON of 5 open stages expanded")
    execute = page.locator("#stage-execute-1")
    assert execute.locator("details.json-node").count() > 10
    assert page.locator("details.ops-stage details.json-node:not([open])").count() == 0
    # A value four levels down shows without a click: result → tool_results → 0 → rows → 0.
    expect(execute.get_by_test_id("output-pane").get_by_text('"checkout-api"').first).to_be_visible()

    page.get_by_role("button", name="Collapse all").click()
    page.locator("#stage-validate-1 > summary").click()
    page.get_by_role("button", name="Expand JSON").click()
    expect(page.get_by_test_id("expand-json-status")).to_contain_text("JSON of 1 open stage expanded")


def test_trace_list_filters_and_search(staff_page, live_server, pipeline_trace):
    pipeline_run(context=ExecutionContext(question="hello"))
    page = staff_page
    page.goto(f"{live_server.url}/admin/inspector/trace/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator("#changelist-filter").get_by_role("link", name="direct").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/admin/inspector/trace/")
    page.fill("#searchbar", "checkout")
    page.keyboard.press("Enter")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator("h1")).to_contain_text("Trace ")


@pytest.fixture
def replanned_trace(transactional_db):
    """A live run whose empty execute was retried (and found rows), plus the decisions issue 19 was about."""
    from controlloop.contracts import ReplanTrigger
    from controlloop.services import replan_decide, replan_record_execution

    reference_assets_install()
    trace = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 today"))
    for trigger_type, stage in (("policy_violation", "validate"), ("empty_result", "execute"),
                                ("empty_result", "execute")):
        record = replan_decide(trace_id=trace.trace_id, tenant_id=trace.tenant_id, plan={},
                               trigger=ReplanTrigger(trigger_type=trigger_type, stage_name=stage))
        if record.decision.approved and record.decision.decision == "auto_retry":
            replan_record_execution(decision_event=record.decision_event, succeeded=False)
    return trace


def test_replans_table_says_what_each_decision_did_in_words(staff_page, live_server, replanned_trace):
    """Issue 19: "approved" on stop_with_guidance decisions and "3 / 2" on denied ones."""
    page = staff_page
    page.goto(trace_url(live_server, replanned_trace))
    rows = page.get_by_test_id("replans").locator("tbody tr")
    expect(rows).to_have_count(4)
    outcomes = rows.locator('[data-testid="replan-outcome"]').all_inner_texts()
    counts = rows.locator('[data-testid="replan-count"]').all_inner_texts()
    assert outcomes == ["✓ replanned · re-run succeeded", "■ stopped with guidance", "✕ replanned · re-run failed",
                        "⊘ replan denied (no replans left) · stopped with guidance"]
    assert counts == ["replan 1 of 2", "no replan made (1 of 2 used before)", "replan 2 of 2",
                      "none left: 2 of 2 replans already used"]
    assert not any("approved" in text for text in outcomes) and "3 / 2" not in page.get_by_test_id("replans").inner_text()


def test_trace_page_screenshots(staff_page, live_server, replanned_trace):
    """Screenshots for docs/ (written when OPS_SCREENSHOT_DIR is set): light and dark, labels in one case."""
    page = staff_page
    page.goto(trace_url(live_server, replanned_trace))
    open_stage(page, "#stage-execute-2").get_by_test_id("output-pane").get_by_text('"result"').click()
    pill = page.locator("#stage-execute-2 [data-testid=stage-status]")
    outcome = page.get_by_test_id("replan-outcome").first
    colours = {}
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        colours[scheme] = pill.evaluate("e => getComputedStyle(e).color")
        # Single-word pills in upper case, phrases as written, in both schemes.
        assert pill.evaluate("e => getComputedStyle(e).textTransform") == "uppercase"
        assert pill.inner_text() == "OK"
        assert outcome.inner_text() == "✓ replanned · re-run succeeded"
        save_screenshot(page, f"trace-page-{scheme}.png")
    assert colours == {"light": "rgb(46, 125, 50)", "dark": "rgb(129, 199, 132)"}
    # The admin's theme switch (data-theme) wins over the system scheme.
    page.evaluate("document.documentElement.dataset.theme = 'dark'")
    page.emulate_media(color_scheme="light")
    assert pill.evaluate("e => getComputedStyle(e).color") == "rgb(129, 199, 132)"
    assert page.locator("details.ops-stage[open]").count() == 1


def test_compare_page_shows_the_regression_analysis(staff_page, live_server, pipeline_trace):
    from regression.services import analysis_request

    broken = pipeline_run(context=ExecutionContext(question="What does checkout depend on? last 400 days"))
    analysis_request(baseline_trace_ids=[pipeline_trace.trace_id], candidate_trace_ids=[broken.trace_id])
    page = staff_page
    page.goto(compare_url(live_server, broken, pipeline_trace))
    analysis = page.get_by_test_id("analysis")
    expect(analysis).to_contain_text("FAIL")
    expect(analysis).to_contain_text("critical")
    expect(analysis.locator("code").first).to_contain_text("/")


def test_compare_page_shows_every_attempt_and_both_values_of_a_change(staff_page, live_server, transactional_db):
    """Issue 16: a candidate that newly needs a retry showed `ok → ok`; a change showed only its new value."""
    reference_assets_install()
    baseline = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 last 4 days", test_mode=True))
    candidate = pipeline_run(context=ExecutionContext(question="Events on web-staging-03 today", test_mode=True))
    assert candidate.stage_runs.filter(stage="execute").count() == 2
    page = staff_page
    page.goto(compare_url(live_server, candidate, baseline))

    execute = page.get_by_test_id("diff-table").locator('tr[data-stage="execute"]')
    attempts = execute.get_by_test_id("attempts")
    expect(attempts).to_contain_text("1 → 2 attempts")
    expect(attempts.locator('[data-side="baseline"] li')).to_have_count(1)
    candidate_attempts = attempts.locator('[data-side="candidate"] li')
    expect(candidate_attempts).to_have_count(2)
    expect(candidate_attempts.first).to_contain_text("attempt 1: warning, empty")
    expect(candidate_attempts.first).to_contain_text("replan on empty_result → auto_retry")
    expect(candidate_attempts.nth(1)).to_contain_text("attempt 2: ok")
    replace = page.get_by_test_id("diff-table").locator(".ops-ops li", has_text="replace").first
    expect(replace.locator(".ops-before")).not_to_be_empty()
    expect(replace).to_contain_text(" → ")
    before, after = replace.locator(".ops-before").inner_text(), replace.locator(".ops-after").inner_text()
    assert before and after and before != after


def test_compare_page_says_a_refused_retry_comes_from_the_control_loop(staff_page, live_server, transactional_db):
    from regression.services import analysis_request
    from tests.pipeline.test_control_loop_isolation import EMPTY_THEN_FOUND, LIVE_TENANT, open_live_breaker

    reference_assets_install()
    baseline = pipeline_run(context=ExecutionContext(question=EMPTY_THEN_FOUND, tenant_id=LIVE_TENANT, test_mode=True))
    open_live_breaker()
    candidate = pipeline_run(context=ExecutionContext(question=EMPTY_THEN_FOUND, tenant_id=LIVE_TENANT))
    analysis_request(baseline_trace_ids=[baseline.trace_id], candidate_trace_ids=[candidate.trace_id])
    page = staff_page
    page.goto(compare_url(live_server, candidate, baseline))

    analysis = page.get_by_test_id("analysis")
    expect(analysis).to_contain_text("FAIL")
    expect(page.get_by_test_id("analysis-notes").locator("li").first).to_contain_text(
        "the difference comes from the control loop, not the asset")
    expect(analysis).to_contain_text("execute retry refused: breaker_open")
    attempts = page.get_by_test_id("diff-table").locator('tr[data-stage="execute"]').get_by_test_id("attempts")
    expect(attempts).to_contain_text("2 → 1 attempts")
    expect(attempts.locator('[data-side="candidate"] li').first).to_contain_text("refused: breaker_open")
