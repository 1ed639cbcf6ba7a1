"""The README states the SECRET_KEY length that start-up really requires with DEBUG off."""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _starts(key: str) -> bool:
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": key}
    result = subprocess.run([sys.executable, "-c", "import opsproject.settings"], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=False)
    return result.returncode == 0


def test_readme_secret_key_length_is_the_one_settings_enforce():
    row = next(line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| `SECRET_KEY`"))
    documented = int(re.search(r"(\d+)\+ random characters", row).group(1))
    alphabet = (string.ascii_letters + string.digits) * 2
    assert _starts(alphabet[:documented])
    assert not _starts(alphabet[:documented - 1])
