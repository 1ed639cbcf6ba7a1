"""Baselines, golden-query runs and override tests point at a trace's primary key, not its ``trace_id``.

Trace ids become unique per tenant (inspector 0007), so a foreign key can no
longer target ``trace_id``. Each reference gets a new key column, filled from
the trace with that id (unique until inspector 0007 runs after this one),
then replaces the old column under the same field name.

Golden-query names become unique per tenant too: a name another tenant uses
must not be refused, which would reveal it.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

# (model, field, nullable, on_delete)
REFERENCES = [
    ("baseline", "trace", False, django.db.models.deletion.PROTECT),
    ("regressionrun", "candidate_trace", True, django.db.models.deletion.SET_NULL),
    ("overridetest", "trace", False, django.db.models.deletion.CASCADE),
    ("overridetest", "baseline_trace", False, django.db.models.deletion.CASCADE),
    ("overridetest", "candidate_trace", True, django.db.models.deletion.SET_NULL),
]


def _by_id(on_delete, null: bool):
    return models.ForeignKey(null=null, blank=null, on_delete=on_delete, related_name="+", to="inspector.trace")


def _by_trace_id(on_delete, null: bool):
    return models.ForeignKey(null=null, blank=null, on_delete=on_delete, related_name="+", to="inspector.trace",
                             to_field="trace_id")


def _check_now(schema_editor):
    """PostgreSQL: run the deferred foreign-key checks the updates queued, so the tables can be altered next."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


def _fill_keys(apps, schema_editor):
    trace = apps.get_model("inspector", "Trace")
    for model_name, field, _, _ in REFERENCES:
        model = apps.get_model("regression", model_name)
        key = trace.objects.filter(trace_id=OuterRef(f"{field}_id")).values("pk")[:1]
        model.objects.update(**{f"{field}_key": Subquery(key)})
    _check_now(schema_editor)


def _fill_trace_ids(apps, schema_editor):
    trace = apps.get_model("inspector", "Trace")
    for model_name, field, _, _ in REFERENCES:
        model = apps.get_model("regression", model_name)
        trace_id = trace.objects.filter(pk=OuterRef(f"{field}_key_id")).values("trace_id")[:1]
        model.objects.update(**{field: Subquery(trace_id)})
    _check_now(schema_editor)


def _operations():
    before, after = [], []
    for model_name, field, null, on_delete in REFERENCES:
        if not null:
            before.append(migrations.AlterField(model_name, field, _by_trace_id(on_delete, True)))
        before.append(migrations.AddField(model_name, f"{field}_key", _by_id(on_delete, True)))
        after += [
            migrations.RemoveField(model_name, field),
            migrations.RenameField(model_name, f"{field}_key", field),
            migrations.AlterField(model_name, field, _by_id(on_delete, null)),
        ]
    names = [
        migrations.AlterField("goldenquery", "name", models.SlugField(max_length=100)),
        migrations.AddConstraint("goldenquery", models.UniqueConstraint(fields=("tenant_id", "name"),
                                                                        name="golden_query_unique_name_per_tenant")),
    ]
    return [*before, migrations.RunPython(_fill_keys, _fill_trace_ids), *after, *names]


class Migration(migrations.Migration):

    dependencies = [
        ("inspector", "0006_source_specs_name_connections"),
        ("regression", "0006_work_heartbeat_outbox"),
    ]
    # The trace_id unique index goes in inspector 0007: these foreign keys must not need it by then.
    run_before = [("inspector", "0007_trace_id_unique_per_tenant")]

    operations = _operations()
