"""Start a Celery worker for the fault tests, optionally with slow analyses.

``OPS_TEST_SLOW_ANALYSIS_S=N`` makes every analysis write the pid of the
process running it to ``OPS_TEST_PID_FILE`` and sleep N seconds before
computing, so a test can kill that process mid-analysis. Test-only: the
patch lives here, never in the services.

    python tests/reliability/worker_main.py --pool solo
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsproject.settings")

import django

django.setup()

from opsproject.celery import app  # noqa: E402
from regression.services import analyses  # noqa: E402

_slow = float(os.environ.get("OPS_TEST_SLOW_ANALYSIS_S", "0"))
if _slow:
    _compute = analyses._compute

    def _slow_compute(analysis):
        Path(os.environ["OPS_TEST_PID_FILE"]).write_text(str(os.getpid()))
        time.sleep(_slow)
        return _compute(analysis)

    analyses._compute = _slow_compute

if __name__ == "__main__":
    app.worker_main(["worker", "--loglevel", "INFO", "--without-mingle", "--without-gossip", *sys.argv[1:]])
