"""Test settings: the normal settings, with tasks run in-process by default.

CI points CELERY_BROKER_URL at Redis; tests still run tasks eagerly unless a
test starts a real worker (regression/tests/test_worker.py does).
"""

from opsproject.settings import *  # noqa: F403

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
