"""The role groups the migration creates, and what each one grants."""

import pytest
from django.contrib.auth.models import Group

from access.roles import ADMIN, ASSET_EDITOR, OPERATOR, PUBLISHER, ROLE_PERMISSIONS, VIEWER, roles_install
from testkit.plugin import role_user

pytestmark = pytest.mark.django_db


def test_migration_created_every_role_group():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_PERMISSIONS)


def test_install_is_idempotent_and_names_only_real_permissions():
    first = roles_install()
    assert roles_install() == first
    assert first[VIEWER] == len(ROLE_PERMISSIONS[VIEWER])
    assert Group.objects.filter(name__in=list(ROLE_PERMISSIONS)).count() == 5


@pytest.mark.parametrize(
    ("role", "granted", "refused"),
    [
        (VIEWER, ["inspector.view_trace", "regression.view_regressionanalysis", "controlloop.view_replanevent",
                  "regression.view_goldensuite", "regression.view_suiterun", "regression.view_suiteitemresult"],
         ["inspector.run_pipeline", "inspector.add_assetversion", "inspector.publish_assetversion",
          "regression.add_goldensuite"]),
        (OPERATOR, ["inspector.run_pipeline", "inspector.use_test_mode", "regression.add_regressionanalysis",
                    "controlloop.add_replanevent", "regression.add_goldensuite", "regression.change_suiteitem",
                    "regression.add_regressionrun"],
         ["inspector.add_assetversion", "inspector.publish_assetversion", "regression.delete_goldensuite"]),
        (ASSET_EDITOR, ["inspector.add_asset", "inspector.add_assetversion"],
         ["inspector.publish_assetversion", "inspector.run_pipeline", "inspector.delete_asset"]),
        (PUBLISHER, ["inspector.publish_assetversion"], ["inspector.add_assetversion", "inspector.run_pipeline"]),
        (ADMIN, ["inspector.delete_asset", "controlloop.change_replanpolicy", "access.add_tenantmembership",
                 "inspector.publish_assetversion", "inspector.run_pipeline"],
         ["auth.delete_user", "auth.change_user", "auth.add_user"]),
    ],
)
def test_each_role_grants_its_permissions_and_no_more(role, granted, refused):
    user = role_user(role)
    assert user.has_perms(granted)
    assert not any(user.has_perm(perm) for perm in refused)


@pytest.mark.django_db(transaction=True)
def test_a_flush_brings_the_role_groups_back_as_it_does_permissions():
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)
    after_flush = {group.name: group.permissions.count() for group in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
    assert after_flush == roles_install()  # every role, each with all of its permissions
