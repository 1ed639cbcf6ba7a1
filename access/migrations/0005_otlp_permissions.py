"""Viewers read the OpenTelemetry span rules and buffer; asset editors keep the span rules (issue 18)."""

from django.db import migrations


def reinstall(apps, schema_editor):
    from access.roles import roles_install_migration

    roles_install_migration(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("access", "0004_suite_permissions"), ("otlp", "0001_initial")]

    operations = [migrations.RunPython(reinstall, migrations.RunPython.noop)]
