"""Which pytest-xdist worker this process is, and the Redis databases that are its own.

Redis has databases 0-15. The configured broker database is left to a serial run;
worker n publishes on database 1 + n and fault-injection tests use 14 - n, so up to
seven workers never share one.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

MAX_WORKERS = 7


def worker_index() -> int | None:
    """0 for ``gw0``, 1 for ``gw1``...; None outside pytest-xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not name.startswith("gw"):
        return None
    index = int(name[2:])
    if index >= MAX_WORKERS:
        raise RuntimeError(f"at most {MAX_WORKERS} pytest-xdist workers have Redis databases of their own")
    return index


def _with_database(url: str, number: int) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{number}"))


def broker_url_for_this_worker(url: str) -> str:
    index = worker_index()
    if index is None or not url.startswith(("redis://", "rediss://")):
        return url
    return _with_database(url, 1 + index)


def scratch_redis_url(url: str) -> str:
    """A Redis database that tests may fill and flush, apart from every broker database."""
    index = worker_index()
    return _with_database(url, 14 - (index or 0))
