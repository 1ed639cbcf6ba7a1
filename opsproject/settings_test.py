"""Test settings: the normal settings, with tasks run in-process by default.

CI points CELERY_BROKER_URL at Redis; tests still run tasks eagerly unless a
test starts a real worker (regression/tests/test_worker.py does).
"""

import os

from opsproject.settings import *  # noqa: F403
from testkit.parallel import broker_url_for_this_worker

# Under pytest-xdist each worker has its own test database; a real Celery worker
# started by one test run must not take another run's tasks, so each gets its own
# Redis database too. Celery reads the environment before these settings.
CELERY_BROKER_URL = broker_url_for_this_worker(CELERY_BROKER_URL)  # noqa: F405
if os.environ.get("CELERY_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL

CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Test data live in an uncommitted transaction that other connections cannot see.
OPS_IMPACT_PARALLEL = False
# Rate limits are tested on purpose (inspector/tests/api/test_limits.py); elsewhere they
# would only make test order matter.
OPS_THROTTLE_RATES = {"ingest": "none", "pipeline": "none"}
