# Heartbeat claims and the outbox mark for every work item (docs/reliability.md).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('regression', '0005_work_started_at'),
    ]

    operations = [
        migrations.AddField(
            model_name='overridetest',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='regressionrun',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='overridetest',
            name='enqueued_at',
            field=models.DateTimeField(blank=True, help_text='When the broker last accepted its task message; empty = not sent yet.', null=True),
        ),
        migrations.AddField(
            model_name='overridetest',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Refreshed while a live worker holds the claim; a stale one is reaped.', null=True),
        ),
        migrations.AddField(
            model_name='regressionanalysis',
            name='enqueued_at',
            field=models.DateTimeField(blank=True, help_text='When the broker last accepted its task message; empty = not sent yet.', null=True),
        ),
        migrations.AddField(
            model_name='regressionanalysis',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Refreshed while a live worker holds the claim; a stale one is reaped.', null=True),
        ),
        migrations.AddField(
            model_name='regressionrun',
            name='enqueued_at',
            field=models.DateTimeField(blank=True, help_text='When the broker last accepted its task message; empty = not sent yet.', null=True),
        ),
        migrations.AddField(
            model_name='regressionrun',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Refreshed while a live worker holds the claim; a stale one is reaped.', null=True),
        ),
    ]
