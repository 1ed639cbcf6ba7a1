"""Viewers read golden suites and their runs; operators keep suites and their items (issue 16)."""

from django.db import migrations


def reinstall(apps, schema_editor):
    from access.roles import roles_install_migration

    roles_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("access", "0003_admin_role_without_user_changes"), ("regression", "0008_golden_suites")]

    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
