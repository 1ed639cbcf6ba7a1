"""A trigram index for text search in questions (PostgreSQL only).

``?q=`` in the API and the admin's search use ``question__icontains``, which
PostgreSQL runs as ``UPPER(question) LIKE UPPER('%…%')``: a sequential scan of
every trace without this index (~0.5 s at 1M traces, ~50 ms with it;
docs/performance.md). pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it. SQLite has no such index and scans.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS trace_question_trgm_idx ON inspector_trace "
    "USING gin (UPPER(question::text) gin_trgm_ops)",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS trace_question_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("inspector", "0003_usage_facts")]

    operations = [migrations.RunPython(create, drop)]
