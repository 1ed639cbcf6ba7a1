"""The asset registry's request contracts: defaults, limits, and the 400 paths they give."""

import pydantic
import pytest

from inspector.api_errors import pydantic_field_errors
from inspector.asset_contracts import AssetCreate, AssetUpdate, VersionCreate, VersionNumber
from inspector.contracts import ASSET_TYPES, INT_COLUMN_MAX
from kernel.tenancy import SHARED_TENANT


def errors(model, body) -> dict[str, list[str]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate(body)
    return pydantic_field_errors(caught.value)


def test_asset_create_defaults_and_nulls():
    body = AssetCreate.model_validate({"asset_type": "query", "name": "ci_lookup", "description": None, "spec": None})
    assert body.model_dump() == {"tenant_id": SHARED_TENANT, "asset_type": "query", "name": "ci_lookup",
                                 "description": "", "spec": None, "note": ""}


def test_asset_create_takes_every_asset_type_and_a_spec():
    for asset_type in ASSET_TYPES:
        assert AssetCreate.model_validate({"asset_type": asset_type, "name": "a.b-c_1"}).asset_type == asset_type
    body = AssetCreate.model_validate({"asset_type": "query", "name": "q", "spec": {"sql": "SELECT 1"}, "note": "n"})
    assert body.spec == {"sql": "SELECT 1"} and body.note == "n"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"asset_type": "widget", "name": "x"}, "asset_type"),
        ({"name": "x"}, "asset_type"),
        ({"asset_type": "query", "name": "has space"}, "name"),
        ({"asset_type": "query", "name": ""}, "name"),
        ({"asset_type": "query", "name": "x" * 201}, "name"),
        ({"asset_type": "query"}, "name"),
        ({"asset_type": "query", "name": "q", "tenant_id": ""}, "tenant_id"),
        ({"asset_type": "query", "name": "q", "tenant_id": "t" * 65}, "tenant_id"),
        ({"asset_type": "query", "name": "q", "spec": ["not", "an", "object"]}, "spec"),
        ({"asset_type": "query", "name": "q", "note": "n" * 2001}, "note"),
        ({"asset_type": "query", "name": "q", "id": 5}, "id"),
    ],
)
def test_asset_create_refusals_name_their_field(body, path):
    assert path in errors(AssetCreate, body)


def test_asset_update_takes_the_description_and_ignores_the_rest():
    body = AssetUpdate.model_validate({"description": "new", "name": "renamed", "asset_type": "policy"})
    assert body.model_dump() == {"description": "new"}
    assert AssetUpdate.model_validate({"description": ""}).description == ""
    assert "description" in errors(AssetUpdate, {"name": "renamed"})
    assert "description" in errors(AssetUpdate, {"description": 5})


def test_version_create_needs_a_spec_object():
    body = VersionCreate.model_validate({"spec": {"sql": "SELECT 1"}})
    assert body.spec == {"sql": "SELECT 1"} and body.note == ""
    assert "spec" in errors(VersionCreate, {"note": "no spec"})
    assert "spec" in errors(VersionCreate, {"spec": "SELECT 1"})
    assert "spec" in errors(VersionCreate, {"spec": None})
    assert "tenant_id" in errors(VersionCreate, {"spec": {}, "tenant_id": "acme"})


@pytest.mark.parametrize("version", [1, "2", INT_COLUMN_MAX])
def test_version_number_takes_positive_column_sized_integers(version):
    body = VersionNumber.model_validate({"version": version})
    assert body.version == int(version) and body.note == ""


@pytest.mark.parametrize("version", [0, -1, "x", 1.5, INT_COLUMN_MAX + 1, None, [1]])
def test_version_number_refuses_other_versions(version):
    assert list(errors(VersionNumber, {"version": version})) == ["version"]
