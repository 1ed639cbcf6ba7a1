"""The one "own or shared asset" look-up: a tenant's assets and the shared tenant's, its own first."""

import pytest

from inspector.selectors import asset_own_or_shared, asset_version_own_or_shared
from inspector.services import asset_create
from kernel.tenancy import SHARED_TENANT
from testkit.factories import VALID_SPECS

pytestmark = pytest.mark.django_db


def _prompt(tenant_id: str, name: str = "route_rules"):
    return asset_create(tenant_id=tenant_id, asset_type="prompt", name=name, spec=VALID_SPECS["prompt"])


def test_the_tenant_own_copy_comes_first_though_created_after_the_shared_one():
    shared, own = _prompt(SHARED_TENANT), _prompt("acme")

    assert asset_own_or_shared(tenant_id="acme").filter(name="route_rules").first() == own
    assert asset_version_own_or_shared(tenant_id="acme").filter(asset__name="route_rules").first() == own.versions.get()
    assert asset_own_or_shared(tenant_id="globex").filter(name="route_rules").first() == shared


def test_another_tenant_assets_are_not_offered():
    _prompt("globex", name="theirs")

    assert not asset_own_or_shared(tenant_id="acme").filter(name="theirs").exists()
    assert not asset_version_own_or_shared(tenant_id="acme").filter(asset__name="theirs").exists()
