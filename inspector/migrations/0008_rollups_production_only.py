"""Roll-ups now leave test-mode traces out: days rolled before this counted them, so they are rolled again.

Bumping every day's ``dirty_generation`` makes each rolled day stale: reports
read it from the usage rows (exact, test-mode traces excluded) until the next
roll-up pass (the beat job or ``manage.py rollup_usage``) rebuilds it.
"""

from django.db import migrations
from django.db.models import F
from django.utils import timezone


def days_stale(apps, schema_editor):
    rollup_day = apps.get_model("inspector", "RollupDay")
    rollup_day.objects.update(dirty_generation=F("dirty_generation") + 1, dirtied_at=timezone.now())


class Migration(migrations.Migration):

    dependencies = [
        ("inspector", "0007_trace_id_unique_per_tenant"),
    ]

    operations = [
        migrations.RunPython(days_stale, migrations.RunPython.noop),
    ]
