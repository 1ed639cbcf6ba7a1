"""A write naming another tenant answers 403 before its body is validated.

Were the body validated first, the answer would depend on the other tenant's
data ("replan policy with this tenant id already exists"). Every write
endpoint that takes a tenant in its body is tried with a body that would
also fail validation because of what tenant ``globex`` holds.
"""

from __future__ import annotations

import pytest

from access.roles import ADMIN
from controlloop.models import ReplanPolicy
from controlloop.services import ensure_default_policy
from inspector.services import asset_create
from regression.models import GoldenQuery
from regression.suite_models import GoldenSuite
from testkit.plugin import client_for, role_user

pytestmark = pytest.mark.django_db
QUESTION = "Which servers run checkout-api?"


@pytest.fixture
def acme(db):
    ensure_default_policy()
    ReplanPolicy.objects.create(name="globex-policy", tenant_id="globex")
    GoldenQuery.objects.create(name="globex-golden", question=QUESTION, tenant_id="globex")
    asset_create(tenant_id="globex", asset_type="query", name="globex_q")
    GoldenSuite.objects.create(name="globex-suite", tenant_id="globex")
    return client_for(role_user(ADMIN, tenants=["acme"]))


def _refused(response) -> None:
    assert response.status_code == 403, response.json()
    assert "globex" not in str(response.json()).replace("'globex'", "")  # names the tenant asked for, nothing else
    assert "exist" not in str(response.json())


@pytest.mark.parametrize("tenant", ["globex", " globex ", "globex\t"])
def test_creating_a_policy_for_another_tenant_is_403_even_when_it_has_one(acme, tenant):
    _refused(acme.post("/controlloop/policies", {"name": "globex-policy", "tenant_id": tenant}, format="json"))
    assert ReplanPolicy.objects.filter(tenant_id="globex").count() == 1


def test_moving_an_own_policy_to_another_tenant_is_403(acme):
    own = ReplanPolicy.objects.create(name="acme-policy", tenant_id="acme")
    for method in (acme.patch, acme.put):
        _refused(method(f"/controlloop/policies/{own.pk}", {"name": "globex-policy", "tenant_id": "globex"},
                        format="json"))
    own.refresh_from_db()
    assert own.tenant_id == "acme"


def test_creating_or_changing_the_default_policy_needs_a_superuser(acme):
    response = acme.post("/controlloop/policies", {"name": "default", "is_default": True}, format="json")
    assert response.status_code == 403 and "superusers" in response.json()["detail"]


def test_creating_a_golden_query_for_another_tenant_is_403_even_when_its_name_is_taken(acme):
    _refused(acme.post("/inspector/regression/golden-queries",
                       {"name": "globex-golden", "question": QUESTION, "tenant_id": "globex"}, format="json"))
    mine = GoldenQuery.objects.create(name="acme-golden", question=QUESTION, tenant_id="acme")
    _refused(acme.patch(f"/inspector/regression/golden-queries/{mine.pk}",
                        {"name": "globex-golden", "tenant_id": "globex"}, format="json"))


@pytest.mark.parametrize("tenant", ["globex", " globex "])
def test_creating_a_suite_for_another_tenant_is_403_even_when_its_name_is_taken(acme, tenant):
    _refused(acme.post("/inspector/regression/suites", {"name": "globex-suite", "tenant_id": tenant}, format="json"))
    _refused(acme.post("/inspector/regression/suites", {"name": "bad name!", "tenant_id": tenant, "repeats": 0},
                       format="json"))
    mine = GoldenSuite.objects.create(name="acme-suite", tenant_id="acme")
    _refused(acme.patch(f"/inspector/regression/suites/{mine.pk}", {"name": "globex-suite", "tenant_id": tenant},
                        format="json"))
    assert list(GoldenSuite.objects.order_by("name").values_list("name", "tenant_id")) == [
        ("acme-suite", "acme"), ("globex-suite", "globex")]


def test_creating_an_asset_for_another_tenant_is_403_even_when_the_body_is_invalid(acme):
    _refused(acme.post("/asset-registry/assets", {"tenant_id": "globex", "asset_type": "query", "name": "globex_q"},
                       format="json"))
    _refused(acme.post("/asset-registry/assets", {"tenant_id": "globex", "asset_type": "nope", "name": "bad name!"},
                       format="json"))


def test_own_tenant_writes_are_still_validated(acme):
    response = acme.post("/controlloop/policies", {"name": "acme-policy", "tenant_id": "acme", "max_replans": -1},
                         format="json")
    assert response.status_code == 400 and "max_replans" in response.json()
    assert acme.post("/controlloop/policies", {"name": "acme-policy", "tenant_id": "acme"},
                     format="json").status_code == 201
    assert acme.post("/asset-registry/assets", {"tenant_id": "acme", "asset_type": "nope", "name": "q"},
                     format="json").status_code == 400


def test_a_name_another_tenant_uses_is_free(acme):
    """Names are unique per tenant: refusing one that only another tenant uses would reveal it."""
    golden = acme.post("/inspector/regression/golden-queries",
                       {"name": "globex-golden", "question": QUESTION, "tenant_id": "acme"}, format="json")
    assert golden.status_code == 201, golden.json()
    again = acme.post("/inspector/regression/golden-queries",
                      {"name": "globex-golden", "question": QUESTION, "tenant_id": "acme"}, format="json")
    assert again.status_code == 400  # within the tenant, still unique
    policy = acme.post("/controlloop/policies", {"name": "globex-policy", "tenant_id": "acme"}, format="json")
    assert policy.status_code == 201, policy.json()
    suite = acme.post("/inspector/regression/suites", {"name": "globex-suite", "tenant_id": "acme"}, format="json")
    assert suite.status_code == 201, suite.json()
    assert GoldenQuery.objects.filter(name="globex-golden").count() == 2
    assert GoldenSuite.objects.filter(name="globex-suite").count() == 2
    assert ReplanPolicy.objects.filter(name="globex-policy").count() == 2
