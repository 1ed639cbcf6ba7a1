"""Create (or check) the PostgreSQL role that query assets run as: SELECT on the inventory schema, nothing else."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from reference.query_role import DEFAULT_ROLE, DEFAULT_SCHEMA, QueryRole, query_role_check, query_role_setup


class Command(BaseCommand):
    help = ("Copy the inventory into its own schema and create a login role that can only read it "
            "(read-only transactions, statement timeout, no role memberships, no privilege on application "
            "tables); --check only reports what falls short. See docs/security.md.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--role", default=DEFAULT_ROLE)
        parser.add_argument("--schema", default=DEFAULT_SCHEMA)
        parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the wall does not hold")

    def handle(self, *args, role: str, schema: str, check: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("setup_query_role needs PostgreSQL (DATABASE_URL); on SQLite the inventory file is "
                               "opened read-only behind an authorizer instead")
        try:
            wall = QueryRole(role=role, schema=schema)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not check:
            with transaction.atomic(), connection.cursor() as cursor:
                counts = query_role_setup(cursor=cursor.cursor, wall=wall, inventory=settings.OPS_INVENTORY_PATH,
                                          password=os.environ.get("OPS_QUERY_ROLE_PASSWORD", ""))
            self.stdout.write(f"schema {schema}: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
        with connection.cursor() as cursor:
            problems = query_role_check(cursor=cursor.cursor, wall=wall,
                                        application_tables=connection.introspection.table_names(cursor))
        for problem in problems:
            self.stderr.write(f"problem: {problem}")
        if problems:
            raise CommandError(f"the query role does not hold ({len(problems)} problem(s))")
        db = connection.settings_dict
        self.stdout.write(f"role {role} can read {schema} only. Declare it, e.g.:\n"
                          f"  OPS_SOURCES='{{\"inventory\": \"postgres://{role}@{db['HOST'] or 'localhost'}:"
                          f"{db['PORT'] or 5432}/{db['NAME']}\"}}'")
