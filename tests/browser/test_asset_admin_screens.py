"""Asset versions and policies in a real browser: a refused delete, a new draft with the contract's errors beside the
schema, a rollback from the list, the policy rules editor."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from controlloop.services import ensure_default_policy
from inspector.contracts import ExecutionContext
from inspector.models import Asset, AssetVersion
from inspector.pipeline.runner import pipeline_run
from reference.assets import reference_assets_install, reference_v2_install
from tests.browser.conftest import save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def event_history(transactional_db):
    """event_history v1 applied by a trace and archived; v2 published."""
    reference_assets_install()
    pipeline_run(context=ExecutionContext(question="Events on checkout-api last 7 days"))
    reference_v2_install(publish=True)
    return Asset.objects.get(name="event_history")


def version_url(live_server, asset, number):
    version = AssetVersion.objects.get(asset=asset, version=number)
    return live_server.url + reverse("admin:inspector_assetversion_change", args=[version.pk])


def test_deleting_a_version_traces_applied_is_refused_with_the_reason(staff_page, live_server, event_history):
    page = staff_page
    page.goto(version_url(live_server, event_history, 1))
    page.locator(".submit-row a.deletelink").click()
    expect(page).to_have_url(re.compile(r"/assetversion/\d+/change/$"))
    message = page.locator(".messagelist .error")
    expect(message).to_contain_text("stored traces applied it, and it stays for their history")
    save_screenshot(page, "asset-version-delete-refused.png")
    assert event_history.versions.count() == 2


def test_new_draft_shows_the_schema_and_the_contracts_errors(staff_page, live_server, event_history):
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(version_url(live_server, event_history, 2))
    page.get_by_test_id("new-draft-link").click()
    editor = page.get_by_test_id("json-editor")
    assert '\n  "sql": ' in editor.input_value()  # indented by two
    schema = page.get_by_test_id("json-schema")
    expect(schema.locator("pre")).not_to_be_visible()
    schema.locator("summary").click()
    expect(schema.locator("pre")).to_contain_text('"row_limit"')
    editor.fill('{\n  "sql": "",\n  "row_limit": 0\n}')
    page.get_by_test_id("save-draft").click()
    errors = page.locator(".field-spec .errorlist")
    expect(errors).to_contain_text("sql: String should have at least 1 character")
    expect(errors).to_contain_text("row_limit: Input should be greater than or equal to 1")
    assert editor.input_value() == '{\n  "sql": "",\n  "row_limit": 0\n}'  # what was typed, kept to fix
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.get_by_test_id("json-schema").evaluate("e => e.open = true")
        save_screenshot(page, f"asset-new-draft-{scheme}.png")
    assert event_history.versions.count() == 2

    editor.fill('{"sql": "SELECT id, kind FROM events WHERE ci = :ci", "params": ["ci"]}')
    page.locator("#id_note").fill("Only two columns")
    page.get_by_test_id("save-draft").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Draft v3 of event_history saved from v2")
    expect(page.get_by_test_id("publish-link")).to_be_visible()
    assert AssetVersion.objects.get(asset=event_history, version=3).status == "draft"


def test_roll_back_from_the_version_list(staff_page, live_server, event_history):
    page = staff_page
    page.goto(live_server.url + reverse("admin:inspector_assetversion_changelist") + f"?q={event_history.name}")
    archived = AssetVersion.objects.get(asset=event_history, version=1)
    page.locator(f"input.action-select[value='{archived.pk}']").check()
    page.locator("select[name=action]").select_option("rollback_selected")
    page.locator("button[name=index], input[name=index]").first.click()
    expect(page.locator("h1")).to_have_text("Roll back event_history to v1")
    expect(page.locator("#content-main")).to_contain_text("The published v2 is archived")
    page.locator("#id_note").fill("v2 hid the events we need")
    save_screenshot(page, "asset-version-rollback.png")
    page.get_by_test_id("confirm-submit").click()
    expect(page.locator(".messagelist .success")).to_contain_text("v3, a copy of v1, is published")
    copy = AssetVersion.objects.get(asset=event_history, version=3)
    assert (copy.status, copy.spec, copy.note) == ("published", archived.spec, "v2 hid the events we need")


def test_policy_rules_editor_validates_and_shows_the_schema(staff_page, live_server):
    policy = ensure_default_policy()
    page = staff_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(live_server.url + reverse("admin:controlloop_replanpolicy_change", args=[policy.pk]))
    rules = page.get_by_test_id("json-editor")
    assert rules.input_value().startswith('{\n  "')
    expect(page.get_by_label("Tool error fatal")).to_be_checked()
    rules.fill('{\n  "timeout": {"decision": "retry_forever"}\n}')
    page.locator("input[name=_continue]").click()
    expect(page.locator(".field-rules .errorlist")).to_contain_text(
        "timeout.decision: Input should be 'auto_retry', 'ask_user' or 'stop_with_guidance'")
    page.get_by_test_id("json-schema").locator("summary").click()
    expect(page.get_by_test_id("json-schema").locator("pre")).to_contain_text('"stop_with_guidance"')
    page.get_by_test_id("json-schema").scroll_into_view_if_needed()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"policy-rules-editor-{scheme}.png")
    policy.refresh_from_db()
    assert policy.version == 1
