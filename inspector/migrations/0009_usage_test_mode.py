"""Usage rows carry their trace's test mode, in the covering index (impact leaves test-mode traffic out)."""

from django.db import migrations, models


def copy_test_mode(apps, schema_editor):
    usage = apps.get_model("inspector", "TraceAssetUsage")
    usage.objects.filter(trace__test_mode=True).update(test_mode=True)


class Migration(migrations.Migration):

    dependencies = [
        ('inspector', '0008_rollups_production_only'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='traceassetusage',
            name='usage_version_stage_time_idx',
        ),
        migrations.AddField(
            model_name='traceassetusage',
            name='test_mode',
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(copy_test_mode, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name='traceassetusage',
            index=models.Index(fields=['asset_version', 'stage', 'started_at'], include=('status', 'duration_ms', 'result_empty', 'replanned', 'references_count', 'rows_count', 'tenant_id', 'test_mode'), name='usage_version_stage_time_idx'),
        ),
    ]
