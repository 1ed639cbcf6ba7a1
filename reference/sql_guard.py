"""The second line of defence for ``query`` assets: parse the SQL, allow only reads of listed tables.

The first line is the database itself (a read-only role on PostgreSQL, an
authorizer on SQLite: ``reference/sql.py``). This module parses the
statement with sqlglot, so quoting, schema qualifiers, comments, comma joins,
subqueries and CTEs cannot hide a table or a function from the check:

- exactly one statement, and it is a query (``SELECT``, ``UNION`` …);
- no write, DDL, ``INTO``, locking, ``PRAGMA``, ``ATTACH`` or command node anywhere;
- every table is unqualified and listed in the schema asset (an empty list
  allows none); a CTE name counts as a table only where SQL makes it visible;
- every function is on :data:`ALLOWED_FUNCTIONS`.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# Plain aggregates, arithmetic, text and date helpers. Nothing that reads
# files, settings, other databases or server state (pg_read_file,
# current_setting, load_extension, sqlite_version, …).
ALLOWED_FUNCTIONS: frozenset[str] = frozenset({
    "abs", "avg", "case", "cast", "ceil", "coalesce", "concat", "count", "date", "datetime", "date_trunc",
    "extract", "floor", "group_concat", "greatest", "if", "ifnull", "instr", "julianday", "least", "length",
    "like", "glob", "lower", "ltrim", "max", "min", "nullif", "replace", "round", "rtrim", "string_agg",
    "strftime", "substr", "substring", "sum", "time", "total", "trim", "upper",
    # sqlglot's own names for some of the above
    "groupconcat", "timetostr", "strtotime", "tsordstodate", "datestrtodate", "timestrtotime", "anyvalue",
    "countif", "stddev", "variance", "dpipe", "safedivide",
})

# Node types that write, change the schema, lock, or leave SQL altogether.
_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = (
    exp.DML, exp.DDL, exp.Command, exp.Into, exp.Lock, exp.Pragma, exp.Attach, exp.Detach, exp.Set,
    exp.Transaction, exp.Use, exp.Copy, exp.Commit, exp.Rollback,
)
_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres"}
_NAMED_PARAM = re.compile(r"(?<![:\w]):([a-zA-Z_]\w*)")


class SqlRejected(ValueError):
    """The SQL is not one read-only query over allowed tables and functions."""


def check_query(sql: str, *, allowed_tables: set[str], engine: str = "sqlite") -> None:
    """Raise ``SqlRejected`` unless ``sql`` reads only ``allowed_tables`` with allowed functions."""
    statement = _parse_one(sql, _DIALECTS.get(engine, "sqlite"))
    if not isinstance(statement, exp.Query):
        raise SqlRejected(f"only SELECT queries are allowed, got {statement.key.upper()}")
    for node in statement.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise SqlRejected(f"{node.key.upper()} is not allowed in a query")
    allowed = {name.lower() for name in allowed_tables}
    for table in statement.find_all(exp.Table):
        _check_table(table, allowed)
    for function in statement.find_all(exp.Func):
        _check_function(function)


def _parse_one(sql: str, dialect: str) -> exp.Expression:
    # Named parameters (:name) are bound by the runner; the parser sees literals.
    try:
        statements = [s for s in sqlglot.parse(_NAMED_PARAM.sub("NULL", sql), read=dialect) if s is not None]
    except SqlglotError as exc:
        raise SqlRejected(f"the query does not parse: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1:
        raise SqlRejected(f"more than one statement: expected exactly one, got {len(statements)}")
    return statements[0]


def _check_table(table: exp.Table, allowed: set[str]) -> None:
    if not isinstance(table.this, exp.Identifier):
        # A table-valued function (pg_ls_dir(...), pragma_table_info(...)):
        # its function node is checked against the allow-list.
        return
    name = table.name.lower()
    if table.args.get("db") or table.args.get("catalog"):
        raise SqlRejected(f"table {table.sql()} is qualified; name tables of the schema asset without a schema")
    if name in _visible_ctes(table):
        return
    if name not in allowed:
        raise SqlRejected(f"table {table.name!r} is not in the schema asset")


def _visible_ctes(node: exp.Expression) -> set[str]:
    """CTE names that ``node`` may refer to, following SQL's scoping.

    A CTE sees the ones defined before it (and itself under RECURSIVE); the
    query body sees all of them. A name defined later, or its own name in a
    non-recursive CTE, refers to a real table and is checked as one.
    """
    visible: set[str] = set()
    child, parent = node, node.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            names = [cte.alias_or_name.lower() for cte in parent.expressions]
            index = next(i for i, cte in enumerate(parent.expressions) if cte is child)
            recursive = bool(parent.args.get("recursive"))
            visible.update(names[: index + 1] if recursive else names[:index])
        else:
            with_ = parent.args.get("with_")
            if with_ is not None and with_ is not child:
                visible.update(cte.alias_or_name.lower() for cte in with_.expressions)
        child, parent = parent, parent.parent
    return visible


def _check_function(function: exp.Func) -> None:
    if isinstance(function, exp.Connector | exp.Binary | exp.Unary | exp.Predicate):
        return  # AND, OR, =, +, NOT … are operators, not calls
    name = (function.name if isinstance(function, exp.Anonymous) else function.sql_name()).lower()
    if name not in ALLOWED_FUNCTIONS and function.key.lower() not in ALLOWED_FUNCTIONS:
        raise SqlRejected(f"function {name}() is not allowed in a query")


def param_names(sql: str) -> list[str]:
    """Named parameters (``:name``) of ``sql``, in order of first use."""
    return list(dict.fromkeys(_NAMED_PARAM.findall(sql)))


def to_pyformat(sql: str) -> str:
    """``:name`` placeholders as psycopg's ``%(name)s`` (and literal ``%`` escaped)."""
    return _NAMED_PARAM.sub(lambda m: f"%({m.group(1)})s", sql.replace("%", "%%"))
