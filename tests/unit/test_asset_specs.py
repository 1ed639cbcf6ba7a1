"""Per-type asset spec validation."""

import pydantic
import pytest

from inspector.asset_specs import SPEC_MODELS, validate_spec
from tests.factories import VALID_SPECS


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


def test_source_never_holds_a_secret():
    with pytest.raises(pydantic.ValidationError, match="env://"):
        validate_spec("source", {"engine": "postgresql", "password": "hunter2"})
    with pytest.raises(pydantic.ValidationError, match="must not contain a password"):
        validate_spec("source", {"engine": "postgresql", "url": "postgresql://ops:hunter2@db/inv"})
    with pytest.raises(pydantic.ValidationError, match="looks like a secret"):
        validate_spec("source", {"engine": "postgresql", "options": {"api_key": "abc"}})
    ok = validate_spec("source", {"engine": "postgresql", "url": "postgresql://ops@db/inv", "password": "env://PW"})
    assert ok["password"] == "env://PW"
