"""The asset admin: protected deletes, new drafts from a version, rollback and publish, each with its permission."""

import json

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.urls import reverse
from django.utils.html import escape

from access.roles import ADMIN, ASSET_EDITOR, PUBLISHER, VIEWER
from inspector.models import Asset, AssetVersion
from inspector.services import asset_create, asset_version_create, asset_version_publish, trace_ingest
from kernel.errors import InvalidInput
from testkit.factories import VALID_SPECS, UserFactory, trace_body
from testkit.plugin import role_user

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/inspector/assetversion/"


@pytest.fixture
def route_rules():
    """prompt route_rules: v1 published and applied by a stored trace, v2 archived, v3 published, v4 a draft."""
    asset = asset_create(tenant_id="default", asset_type="prompt", name="route_rules", spec=VALID_SPECS["prompt"])
    asset_version_publish(version=asset.versions.get())
    trace_ingest(payload=trace_body())
    for template in ("Second {question}", "Third {question}"):
        asset_version_publish(version=asset_version_create(
            asset=asset, spec={**VALID_SPECS["prompt"], "template": template}))
    asset_version_create(asset=asset, spec=VALID_SPECS["prompt"], note="a draft")
    return asset


def v(asset, number) -> AssetVersion:
    return AssetVersion.objects.get(asset=asset, version=number)


def logged_in(client, role=None, **kwargs):
    user = role_user(role, staff=True, **kwargs) if role else UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


# --- deletion ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "reason"), [(1, "stored traces applied it"), (2, "was published once"),
                                                (3, "the published version the pipeline uses")])
def test_delete_page_of_a_protected_version_says_why_and_deletes_nothing(client, route_rules, number, reason):
    logged_in(client)
    url = reverse("admin:inspector_assetversion_delete", args=[v(route_rules, number).pk])
    for response in (client.get(url, follow=True), client.post(url, {"post": "yes"}, follow=True)):
        assert response.redirect_chain[-1][0] == reverse("admin:inspector_assetversion_change",
                                                         args=[v(route_rules, number).pk])
        assert reason in messages_of(response)
    assert route_rules.versions.count() == 4


def test_bulk_delete_refuses_a_selection_with_a_protected_version(client, route_rules):
    logged_in(client, ADMIN)
    chosen = [v(route_rules, 3).pk, v(route_rules, 4).pk]
    response = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
                           follow=True)
    assert "Nothing was deleted" in messages_of(response) and "published version" in messages_of(response)
    assert route_rules.versions.count() == 4


def test_an_unused_draft_is_deleted_after_confirmation(client, route_rules):
    logged_in(client, ADMIN)
    draft = v(route_rules, 4)
    confirm = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [draft.pk]})
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"})
    assert not AssetVersion.objects.filter(pk=draft.pk).exists()


def test_delete_page_of_a_used_asset_says_why(client, route_rules):
    logged_in(client)
    response = client.post(reverse("admin:inspector_asset_delete", args=[route_rules.pk]), {"post": "yes"},
                           follow=True)
    assert "applied by stored traces" in messages_of(response)
    assert Asset.objects.filter(pk=route_rules.pk).exists()


# --- new draft ---------------------------------------------------------------------------------------------


def draft_url(asset, number=None):
    url = reverse("admin:inspector_assetversion_new_draft", args=[asset.pk])
    return f"{url}?from={number}" if number else url


def test_new_draft_page_shows_the_spec_indented_beside_its_schema(client, route_rules):
    logged_in(client, ASSET_EDITOR)
    page = client.get(draft_url(route_rules, 2)).content.decode()
    spec = route_rules.versions.get(version=2).spec  # as the database hands it back (jsonb reorders keys)
    assert escape(json.dumps(spec, indent=2, ensure_ascii=False)) in page and '\n  &quot;template&quot;: ' in page
    assert 'data-testid="json-schema"' in page and "JSON schema of a prompt spec" in page
    assert "&quot;default_intent&quot;" in page  # a property of the schema


def test_new_draft_starts_from_the_published_version_by_default(client, route_rules):
    logged_in(client, ASSET_EDITOR)
    assert "Third {question}" in client.get(draft_url(route_rules)).content.decode()


def test_a_syntax_error_says_where_and_saves_nothing(client, route_rules):
    logged_in(client, ASSET_EDITOR)
    response = client.post(draft_url(route_rules), {"spec": '{\n  "template": "x",\n  oops\n}', "note": ""})
    assert response.status_code == 400
    assert "Not valid JSON: Expecting property name enclosed in double quotes (line 3, column 3)." in (
        response.content.decode())
    assert route_rules.versions.count() == 4


def test_the_contracts_messages_are_the_errors_and_nothing_is_saved(client, route_rules):
    logged_in(client, ASSET_EDITOR)
    response = client.post(draft_url(route_rules), {"spec": '{"template": "", "rules": [{"kind": "maybe"}]}',
                                                    "note": "x" * 2001})
    page = response.content.decode()
    assert response.status_code == 400
    assert "template: String should have at least 1 character" in page
    assert "rules.0.intent: Field required" in page
    assert "String should have at most 2000 characters" in page  # the note, checked by VersionCreate first
    response = client.post(draft_url(route_rules), {"spec": '{"template": "", "rules": [{"kind": "maybe"}]}'})
    assert "rules.0.kind: Input should be &#x27;plan&#x27;, &#x27;direct&#x27; or &#x27;reject&#x27;" in (
        response.content.decode())
    assert client.post(draft_url(route_rules), {"spec": "[1, 2]"}).status_code == 400
    assert route_rules.versions.count() == 4


def test_a_valid_draft_is_saved_as_the_next_version(client, route_rules):
    logged_in(client, ASSET_EDITOR)
    response = client.post(draft_url(route_rules, 2), {"spec": '{"template": "Fifth {question}"}', "note": "short"})
    draft = v(route_rules, 5)
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:inspector_assetversion_change", args=[draft.pk])
    assert (draft.status, draft.note, draft.spec["template"], draft.spec["rules"]) == (
        "draft", "short", "Fifth {question}", [])
    assert LogEntry.objects.get(object_id=str(draft.pk)).action_flag == ADDITION


@pytest.mark.parametrize(("role", "tenants"), [(VIEWER, ("default",)), (PUBLISHER, ("default",)),
                                               (ASSET_EDITOR, ("acme",))])
def test_a_draft_needs_the_add_permission_in_the_assets_tenant(client, route_rules, role, tenants):
    logged_in(client, role, tenants=tenants)
    assert client.get(draft_url(route_rules)).status_code == 403
    assert client.post(draft_url(route_rules), {"spec": '{"template": "x"}'}).status_code == 403
    assert route_rules.versions.count() == 4


def test_another_tenants_asset_is_not_found(client):
    secret = asset_create(tenant_id="globex", asset_type="screen", name="secret", spec=VALID_SPECS["screen"])
    logged_in(client, ASSET_EDITOR, tenants=("acme",))
    assert client.get(draft_url(secret)).status_code == 404


# --- rollback and publish ----------------------------------------------------------------------------------


def rollback_url(version):
    return reverse("admin:inspector_assetversion_rollback", args=[version.pk])


def test_rollback_publishes_a_copy_and_archives_the_published_version(client, route_rules):
    logged_in(client, PUBLISHER)
    page = client.get(rollback_url(v(route_rules, 2))).content.decode()
    assert "becomes <strong>v5</strong>" in page and "The published <strong>v3</strong> is archived" in page
    response = client.post(rollback_url(v(route_rules, 2)), {"note": "v3 broke routing"}, follow=True)
    copy = v(route_rules, 5)
    assert response.redirect_chain[-1][0] == reverse("admin:inspector_assetversion_change", args=[copy.pk])
    assert (copy.status, copy.copied_from_id, copy.note) == ("published", v(route_rules, 2).pk, "v3 broke routing")
    assert copy.spec == v(route_rules, 2).spec and v(route_rules, 3).status == "archived"
    assert "is published" in messages_of(response)


def test_rollback_needs_the_publish_permission(client, route_rules):
    logged_in(client, ASSET_EDITOR)
    assert client.get(rollback_url(v(route_rules, 2))).status_code == 403
    assert client.post(rollback_url(v(route_rules, 2))).status_code == 403
    assert route_rules.versions.count() == 4


def test_a_failed_rollback_leaves_nothing_half_written(client, route_rules, monkeypatch):
    def refuse(**kwargs):
        raise InvalidInput("the broker is down")

    monkeypatch.setattr("inspector.services.assets.asset_version_publish", refuse)
    logged_in(client, PUBLISHER)
    response = client.post(rollback_url(v(route_rules, 2)))
    assert response.status_code == 400 and "the broker is down Nothing was changed." in response.content.decode()
    assert route_rules.versions.count() == 4 and v(route_rules, 3).status == "published"


def test_rolling_back_to_the_published_version_is_refused(client, route_rules):
    logged_in(client, PUBLISHER)
    response = client.post(rollback_url(v(route_rules, 3)))
    assert response.status_code == 400 and "already the published version" in response.content.decode()
    assert route_rules.versions.count() == 4


def test_publish_page_publishes_a_draft(client, route_rules):
    logged_in(client, PUBLISHER)
    url = reverse("admin:inspector_assetversion_publish", args=[v(route_rules, 4).pk])
    assert client.post(url).status_code == 302
    assert (v(route_rules, 4).status, v(route_rules, 3).status) == ("published", "archived")
    logged_in(client, ASSET_EDITOR)
    assert client.post(url).status_code == 403


# --- buttons and actions follow the permissions -------------------------------------------------------------


@pytest.mark.parametrize(("role", "number", "shown", "hidden"), [
    (VIEWER, 2, [], ["new-draft-link", "rollback-link", "publish-link"]),
    (ASSET_EDITOR, 2, ["new-draft-link"], ["rollback-link", "publish-link"]),
    (PUBLISHER, 2, ["rollback-link"], ["new-draft-link", "publish-link"]),
    (PUBLISHER, 4, ["publish-link"], ["rollback-link"]),
    (PUBLISHER, 3, [], ["rollback-link", "publish-link"]),  # the published version
])
def test_version_page_buttons_follow_permissions(client, route_rules, role, number, shown, hidden):
    logged_in(client, role)
    page = client.get(reverse("admin:inspector_assetversion_change", args=[v(route_rules, number).pk])).content.decode()
    assert all(f'data-testid="{name}"' in page for name in shown)
    assert not any(f'data-testid="{name}"' in page for name in hidden)


def test_actions_open_the_draft_and_rollback_pages_for_one_version(client, route_rules):
    logged_in(client)
    chosen = {"_selected_action": [v(route_rules, 2).pk]}
    draft = client.post(CHANGELIST, {"action": "new_draft_selected", **chosen})
    assert draft["Location"] == draft_url(route_rules, 2)
    rollback = client.post(CHANGELIST, {"action": "rollback_selected", **chosen})
    assert rollback["Location"] == rollback_url(v(route_rules, 2))
    two = client.post(CHANGELIST, {"action": "rollback_selected",
                                   "_selected_action": [v(route_rules, 1).pk, v(route_rules, 2).pk]}, follow=True)
    assert "Select exactly one version to roll back to." in messages_of(two)


def test_actions_are_offered_by_permission(client, route_rules):
    logged_in(client, VIEWER)
    page = client.get(CHANGELIST).content.decode()
    assert "new_draft_selected" not in page and "rollback_selected" not in page
    logged_in(client, PUBLISHER)
    page = client.get(CHANGELIST).content.decode()
    assert "rollback_selected" in page and "new_draft_selected" not in page


def test_saving_a_new_asset_goes_on_to_its_first_draft(client):
    logged_in(client, ASSET_EDITOR)
    response = client.post(reverse("admin:inspector_asset_add"),
                           {"tenant_id": "default", "asset_type": "query", "name": "ci_count", "description": "",
                            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0"})
    asset = Asset.objects.get(name="ci_count")
    assert response.status_code == 302 and response["Location"] == draft_url(asset)
    page = client.get(response["Location"]).content.decode()
    assert "It has no version yet." in page and "JSON schema of a query spec" in page
