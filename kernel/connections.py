"""Named data connections for ``source`` assets: operator configuration, read once at start-up.

``OPS_SOURCES`` is a JSON object mapping a connection name to a URL::

    OPS_SOURCES='{"inventory": "postgres://ops_query@127.0.0.1:5432/ops"}'

A ``source`` asset only names a connection (``{"connection": "inventory"}``);
hosts, ports, files and credentials never appear in anything a tenant writes.
Unset, the one connection ``inventory`` is the bundled sample SQLite file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

CONNECTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
ENGINES = {"sqlite": "sqlite", "postgres": "postgresql", "postgresql": "postgresql"}
DEFAULT_CONNECTION = "inventory"


def parse_sources(raw: str, *, bundled_inventory: Path) -> dict[str, str]:
    """``OPS_SOURCES`` as ``{name: url}``; raises ``ImproperlyConfigured`` on anything malformed."""
    if not raw.strip():
        return {DEFAULT_CONNECTION: f"sqlite:///{bundled_inventory}"}
    try:
        sources = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"OPS_SOURCES must be a JSON object of name -> URL: {exc}") from exc
    if not isinstance(sources, dict) or not sources:
        raise ImproperlyConfigured("OPS_SOURCES must be a non-empty JSON object of name -> URL")
    for name, url in sources.items():
        if not CONNECTION_NAME.match(name):
            raise ImproperlyConfigured(f"OPS_SOURCES: connection name {name!r} must match {CONNECTION_NAME.pattern}")
        if not isinstance(url, str) or connection_engine(url) is None:
            raise ImproperlyConfigured(
                f"OPS_SOURCES: connection {name!r} needs a sqlite:///path or postgres:// URL"
            )
    return dict(sources)


def connection_engine(url: str) -> str | None:
    """``sqlite`` or ``postgresql`` for a supported URL, else None."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite" and not url.startswith("sqlite:///"):
        return None
    return ENGINES.get(scheme)


def sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))
