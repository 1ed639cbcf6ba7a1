"""Benchmark harness: a throwaway test database for the configured DATABASE_URL."""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsproject.settings")
# Benchmarks run with DEBUG off but without collectstatic.
os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
# The test client speaks plain HTTP; production settings would redirect it to HTTPS.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

# The throwaway PostgreSQL database benchmarks run on unless DATABASE_URL names another.
POSTGRESQL_URL = "postgres://postgres@127.0.0.1:5432/test"
# Settings of every benchmark process: DEBUG off, as in production, and a secret of its own.
# The per-user rate limits are off: a benchmark measures latency, and 200 /ops/ask runs a minute would
# otherwise meet the pipeline limit (120/minute) and stop with a 429.
BENCH_SETTINGS = {"DEBUG": "false", "SECRET_KEY": "bench-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
                  "OPS_THROTTLE_PIPELINE": "none", "OPS_THROTTLE_INGEST": "none"}


def bench_settings(default_database_url: str | None = None) -> None:
    """Default ``BENCH_SETTINGS`` (and DATABASE_URL, if given) where the environment sets nothing."""
    if default_database_url is not None:
        os.environ.setdefault("DATABASE_URL", default_database_url)
    for name, value in BENCH_SETTINGS.items():
        os.environ.setdefault(name, value)


def bench_parser(doc: str | None, *, sqlite_and_postgresql: bool = False) -> argparse.ArgumentParser:
    """A benchmark's command line; ``sqlite_and_postgresql`` adds ``--only current|both`` (see below)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if sqlite_and_postgresql:
        parser.add_argument("--only", choices=["current", "both"], default="both")
    return parser


@contextlib.contextmanager
def benchmark_database() -> Iterator[str]:
    """Create a test database (``test_<name>``), yield its vendor, destroy it afterwards."""
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.vendor
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Call ``fn`` ``repeat`` times; each call's wall time in ms."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} ms, p95 {percentile(values, 95):.2f} ms"


def run_here_or_on_both(only: str, script: str, run_current: Callable[[], None], extra_args: list[str],
                        sqlite_args: list[str] | None = None) -> None:
    """``--only current``: ``run_current()`` on this process's DATABASE_URL; ``both``: ``script`` once per database."""
    if only == "current":
        run_current()
    else:
        run_on_sqlite_and_postgresql(script, extra_args, sqlite_args)


def run_on_sqlite_and_postgresql(script: str, extra_args: list[str], sqlite_args: list[str] | None = None) -> None:
    """Re-run ``script --only current`` once per database, in fresh processes.

    ``sqlite_args`` replace ``extra_args`` for SQLite (e.g. one writer only).
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        targets = {"sqlite": f"sqlite:///{tmp}/bench.sqlite3", "postgresql": POSTGRESQL_URL}
        for name, url in targets.items():
            env = {**os.environ, "DATABASE_URL": url, **BENCH_SETTINGS, "BENCH_DB": name}
            args = sqlite_args if name == "sqlite" and sqlite_args is not None else extra_args
            subprocess.run([sys.executable, script, "--only", "current", *args], env=env, check=True)
