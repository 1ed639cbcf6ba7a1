"""The PostgreSQL wall for ``query`` assets: an inventory schema and a role that can only read it.

``query_role_setup`` (run by ``manage.py setup_query_role`` as a user that may
create roles) copies the bundled inventory into its own schema and creates a
login role with ``SELECT`` on that schema alone, read-only transactions, a
statement timeout and no membership of any role. ``query_role_check`` lists
every way an existing role falls short; an empty list means the wall holds.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from reference.inventory import TABLES, connect_readonly, ensure_inventory

DEFAULT_ROLE = "ops_query"
DEFAULT_SCHEMA = "ops_inventory"
STATEMENT_TIMEOUT = "5s"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Built-in roles that reach files, programs, settings or other sessions' data.
_DANGEROUS_ROLES = (
    "pg_read_server_files", "pg_write_server_files", "pg_execute_server_program", "pg_monitor",
    "pg_read_all_data", "pg_write_all_data", "pg_read_all_settings", "pg_read_all_stats", "pg_signal_backend",
)
# Text sorts byte-wise as in SQLite, so answers do not depend on the engine.
_COLUMN_TYPES = {"TEXT": 'text COLLATE "C"', "INTEGER": "bigint", "REAL": "numeric"}


@dataclass(frozen=True)
class QueryRole:
    role: str = DEFAULT_ROLE
    schema: str = DEFAULT_SCHEMA

    def __post_init__(self) -> None:
        for value in (self.role, self.schema):
            if not _IDENTIFIER.match(value):
                raise ValueError(f"{value!r} is not a plain lower-case identifier")


def query_role_setup(*, cursor, wall: QueryRole, inventory: Path, password: str = "") -> dict[str, int]:
    """Create or refresh the inventory schema and the read-only role; returns rows copied per table."""
    schema, role = sql.Identifier(wall.schema), sql.Identifier(wall.role)
    cursor.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
    counts = _copy_inventory(cursor, wall.schema, ensure_inventory(inventory))
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [wall.role])
    if cursor.fetchone() is None:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    cursor.execute(sql.SQL(
        "ALTER ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS "
        "CONNECTION LIMIT 50").format(role))
    if password:
        cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(password)))
    for setting, value in (("default_transaction_read_only", "on"), ("statement_timeout", STATEMENT_TIMEOUT),
                           ("search_path", wall.schema)):
        cursor.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(role, sql.Identifier(setting), sql.Literal(value)))
    cursor.execute("SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                   "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", [wall.role])
    for (granted,) in cursor.fetchall():
        cursor.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(granted), role))
    cursor.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(schema))
    cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, role))
    cursor.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(schema, role))
    return counts


def _copy_inventory(cursor, schema: str, path: Path) -> dict[str, int]:
    counts = {}
    with contextlib.closing(connect_readonly(path)) as source:
        for table in TABLES:
            columns = source.execute(f"PRAGMA table_info({table})").fetchall()
            target = sql.Identifier(schema, table)
            definition = sql.SQL(", ").join(
                sql.SQL("{} {}{}").format(sql.Identifier(name), sql.SQL(_COLUMN_TYPES.get(kind.upper(), "text")),
                                          sql.SQL(" PRIMARY KEY") if primary else sql.SQL(""))
                for _cid, name, kind, _notnull, _default, primary in columns
            )
            cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
            cursor.execute(sql.SQL("CREATE TABLE {} ({})").format(target, definition))
            rows = source.execute(f"SELECT * FROM {table}").fetchall()
            placeholders = sql.SQL(", ").join(sql.Placeholder() * len(columns))
            cursor.executemany(sql.SQL("INSERT INTO {} VALUES ({})").format(target, placeholders), rows)
            counts[table] = len(rows)
    return counts


def query_role_check(*, cursor, wall: QueryRole, application_tables: list[str]) -> list[str]:
    """Every way the role falls short of the wall; empty when it holds."""
    cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls, rolreplication, rolconfig "
                   "FROM pg_roles WHERE rolname = %s", [wall.role])
    row = cursor.fetchone()
    if row is None:
        return [f"role {wall.role} does not exist (run manage.py setup_query_role)"]
    problems = [f"role {wall.role} has {flag}" for flag, on in zip(
        ("SUPERUSER", "CREATEROLE", "CREATEDB", "BYPASSRLS", "REPLICATION"), row[:5], strict=True) if on]
    config = dict(item.split("=", 1) for item in (row[5] or []))
    if config.get("default_transaction_read_only") != "on":
        problems.append(f"role {wall.role} does not default to read-only transactions")
    if "statement_timeout" not in config:
        problems.append(f"role {wall.role} has no statement_timeout")
    cursor.execute("SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                   "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", [wall.role])
    problems += [f"role {wall.role} is a member of {name}" + (" (files, programs or server state)"
                 if name in _DANGEROUS_ROLES else "") for (name,) in cursor.fetchall()]
    for table in application_tables:
        cursor.execute("SELECT has_table_privilege(%s, %s, 'SELECT,INSERT,UPDATE,DELETE')",
                       [wall.role, sql.Identifier("public", table).as_string(cursor.connection)])
        if cursor.fetchone()[0]:
            problems.append(f"role {wall.role} has a privilege on application table {table}")
    for table in TABLES:
        cursor.execute("SELECT has_table_privilege(%s, %s, 'SELECT')",
                       [wall.role, sql.Identifier(wall.schema, table).as_string(cursor.connection)])
        if not cursor.fetchone()[0]:
            problems.append(f"role {wall.role} cannot read {wall.schema}.{table}")
    return problems

