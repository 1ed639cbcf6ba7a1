"""The admin role no longer adds or changes user accounts (a way to make anyone superuser)."""

from django.db import migrations


def reinstall(apps, schema_editor):
    from access.roles import roles_install_migration

    roles_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("access", "0002_role_groups")]

    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
