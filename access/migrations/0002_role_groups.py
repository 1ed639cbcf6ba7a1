"""Create the named role groups: viewer, operator, asset editor, publisher, admin."""

from django.db import migrations


def install(apps, schema_editor):
    from access.roles import roles_install_migration

    roles_install_migration(apps, schema_editor)


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
