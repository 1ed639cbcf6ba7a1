"""Per-type asset spec validation."""

import pydantic
import pytest

from inspector.asset_specs import SPEC_MODELS, validate_spec
from testkit.factories import VALID_SPECS


@pytest.mark.parametrize("asset_type", sorted(SPEC_MODELS))
def test_every_type_accepts_its_sample_spec(asset_type):
    normalised = validate_spec(asset_type, VALID_SPECS[asset_type])
    assert isinstance(normalised, dict)


def test_defaults_are_filled_in():
    assert validate_spec("policy", {})["max_rows"] == 500


@pytest.mark.parametrize(
    ("asset_type", "spec", "message"),
    [
        ("prompt", {}, "template"),
        ("mapping", {"blocks": []}, "at least 1"),
        ("mapping", {"blocks": [{"block_type": "chart"}]}, "block_type"),
        ("query", {"sql": ""}, "at least 1"),
        ("policy", {"max_steps": 0}, "greater than or equal to 1"),
        ("schema", {}, "tables"),
        ("resolver", {"aliases": {}}, "at least 1"),
        ("screen", {"max_blocks": "many"}, "integer"),
    ],
)
def test_invalid_specs_are_rejected(asset_type, spec, message):
    with pytest.raises(pydantic.ValidationError, match=message):
        validate_spec(asset_type, spec)


@pytest.mark.parametrize("field", ["url", "host", "port", "path", "file", "user", "password", "engine", "options"])
def test_source_refuses_connection_details_naming_the_field(field):
    with pytest.raises(pydantic.ValidationError, match=f"spec.{field}: connection details are operator configuration"):
        validate_spec("source", {"connection": "inventory", field: "postgres://ops@db/inv"})


@pytest.mark.parametrize("asset_type", sorted(SPEC_MODELS))
def test_no_spec_may_hold_an_environment_reference(asset_type):
    spec = {**VALID_SPECS[asset_type], "description": "env://SECRET_KEY"}
    with pytest.raises(pydantic.ValidationError, match="environment references"):
        validate_spec(asset_type, spec)


def test_source_names_a_connection():
    assert validate_spec("source", {}) == {"connection": "inventory", "description": ""}
    with pytest.raises(pydantic.ValidationError, match="pattern"):
        validate_spec("source", {"connection": "../../etc/passwd"})
