"""Create the named role groups: viewer, operator, asset editor, publisher, admin."""

from django.db import migrations


def install(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from access.roles import roles_install

    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    roles_install(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove(apps, schema_editor):
    from access.roles import ROLE_PERMISSIONS

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLE_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_tenant_membership"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("inspector", "0003_usage_facts"),
        ("regression", "0003_override_test_related_name"),
        ("controlloop", "0003_breaker_cooldown"),
    ]

    operations = [migrations.RunPython(install, remove)]
