"""The asset registry endpoints: CRUD by type and name, versions, publish, rollback."""

import pytest

from inspector.models import Asset, AssetVersion
from testkit.factories import VALID_SPECS

URL = "/asset-registry/assets"
pytestmark = pytest.mark.django_db


def create(client, asset_type="query", name="ci_lookup", **extra):
    body = {"asset_type": asset_type, "name": name, "spec": VALID_SPECS[asset_type], **extra}
    return client.post(URL, body, format="json")


def test_create_asset_with_first_version(editor_client, editor):
    response = create(editor_client, description="Looks up a CI by name")
    assert response.status_code == 201, response.json()
    asset = Asset.objects.get(pk=response.json()["id"])
    assert asset.versions.get().author == editor


def test_create_rejects_bad_type_name_and_spec(editor_client):
    bad_type = editor_client.post(URL, {"asset_type": "widget", "name": "x"}, format="json")
    assert bad_type.status_code == 400 and "asset_type" in bad_type.json()
    bad_name = editor_client.post(URL, {"asset_type": "query", "name": "has space"}, format="json")
    assert bad_name.status_code == 400 and "name" in bad_name.json()
    bad_spec = editor_client.post(URL, {"asset_type": "query", "name": "q", "spec": {"sql": ""}}, format="json")
    assert bad_spec.status_code == 400 and "sql" in bad_spec.json()
    assert Asset.objects.count() == 0


def test_duplicate_asset_is_409(editor_client):
    create(editor_client)
    assert create(editor_client).status_code == 409


def test_list_filters_by_type_name_and_search(editor_client):
    create(editor_client, "query", "ci_lookup", description="find configuration items")
    create(editor_client, "policy", "budget")
    assert [a["name"] for a in editor_client.get(URL + "?type=policy").json()["results"]] == ["budget"]
    assert [a["name"] for a in editor_client.get(URL + "?name=ci_lookup").json()["results"]] == ["ci_lookup"]
    assert [a["name"] for a in editor_client.get(URL + "?q=configuration").json()["results"]] == ["ci_lookup"]
    assert editor_client.get(URL + "?type=widget").status_code == 400


def test_versions_publish_and_rollback_flow(editor_client):
    asset_id = create(editor_client).json()["id"]
    second = editor_client.post(
        f"{URL}/{asset_id}/versions", {"spec": {"sql": "SELECT id FROM ci"}, "note": "simpler"}, format="json"
    )
    assert second.status_code == 201 and second.json()["version"] == 2

    assert editor_client.post(f"{URL}/{asset_id}/publish", {"version": 1}, format="json").json()["status"] == (
        "published"
    )
    assert editor_client.post(f"{URL}/{asset_id}/publish", {"version": 2}, format="json").status_code == 200
    assert editor_client.get(f"{URL}/{asset_id}").json()["published_version"] == 2

    rollback = editor_client.post(f"{URL}/{asset_id}/rollback", {"version": 1}, format="json")
    assert rollback.status_code == 201
    assert rollback.json()["version"] == 3 and rollback.json()["copied_from"] == 1

    versions = editor_client.get(f"{URL}/{asset_id}/versions").json()["results"]
    assert [(v["version"], v["status"]) for v in versions] == [(3, "published"), (2, "archived"), (1, "archived")]


def test_publish_and_rollback_errors(editor_client):
    asset_id = create(editor_client).json()["id"]
    assert editor_client.post(f"{URL}/{asset_id}/publish", {"version": 9}, format="json").status_code == 404
    assert editor_client.post(f"{URL}/{asset_id}/publish", {"version": "x"}, format="json").status_code == 400
    assert editor_client.post(f"{URL}/{asset_id}/rollback", {"version": 5}, format="json").status_code == 400
    assert editor_client.post(f"{URL}/999999/publish", {"version": 1}, format="json").status_code == 404
    bad_spec = editor_client.post(f"{URL}/{asset_id}/versions", {"spec": {"row_limit": 0}}, format="json")
    assert bad_spec.status_code == 400
    assert AssetVersion.objects.count() == 1


def test_patch_changes_description_only_and_delete_unused(editor_client):
    asset_id = create(editor_client).json()["id"]
    patched = editor_client.patch(f"{URL}/{asset_id}", {"description": "new", "name": "renamed"}, format="json")
    assert patched.status_code == 200 and patched.json()["name"] == "ci_lookup"
    assert patched.json()["description"] == "new"
    assert editor_client.delete(f"{URL}/{asset_id}").status_code == 204


def test_put_is_not_allowed(editor_client):
    asset_id = create(editor_client).json()["id"]
    assert editor_client.put(f"{URL}/{asset_id}", {"description": "x"}, format="json").status_code == 405


def test_permissions(anon_client, viewer_client, editor_client, editor):
    asset_id = create(editor_client).json()["id"]
    assert anon_client.get(URL).status_code == 401
    assert viewer_client.get(URL).status_code == 200
    assert viewer_client.get(f"{URL}/{asset_id}/versions").status_code == 200
    assert create(viewer_client, name="other").status_code == 403
    assert viewer_client.post(f"{URL}/{asset_id}/versions", {"spec": {"sql": "SELECT 1"}}, format="json").status_code == 403
    assert viewer_client.post(f"{URL}/{asset_id}/publish", {"version": 1}, format="json").status_code == 403
    assert viewer_client.post(f"{URL}/{asset_id}/rollback", {"version": 1}, format="json").status_code == 403
    assert viewer_client.delete(f"{URL}/{asset_id}").status_code == 403
    assert AssetVersion.objects.get().status == "draft"


def test_publisher_permission_is_separate_from_version_creation(editor):
    from django.contrib.auth.models import Permission
    from rest_framework.test import APIClient

    from testkit.factories import UserFactory
    from testkit.plugin import grant

    author = grant(UserFactory(), "inspector.view_asset", "inspector.view_assetversion", "inspector.add_assetversion")
    client = APIClient()
    client.force_authenticate(author)
    editor_client = APIClient()
    editor_client.force_authenticate(editor)
    asset_id = create(editor_client).json()["id"]
    assert client.post(f"{URL}/{asset_id}/versions", {"spec": {"sql": "SELECT 1"}}, format="json").status_code == 201
    assert client.post(f"{URL}/{asset_id}/publish", {"version": 2}, format="json").status_code == 403
    assert Permission.objects.filter(codename="publish_assetversion").exists()
