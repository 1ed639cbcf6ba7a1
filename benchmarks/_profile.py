"""Sampling profiles of served processes with py-spy, summed up by function.

py-spy reads the workers' stacks from outside (ptrace), so the served code runs
unchanged: no profiler hooks inflating the cheap calls as cProfile does.
"""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

# "frame (file:line)" in py-spy's raw (collapsed) output; the first frame of a sub-process is "process N:...".
_FRAME = re.compile(r"^(?P<function>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


@contextlib.contextmanager
def py_spy(pid: int, output: Path, rate: int = 250) -> Iterator[None]:
    """Record ``pid`` and its sub-processes (gunicorn's workers) while the block runs; CPU samples only."""
    binary = shutil.which("py-spy") or str(Path(__file__).resolve().parent.parent / ".venv/bin/py-spy")
    recorder = subprocess.Popen([binary, "record", "--pid", str(pid), "--subprocesses", "--format", "raw",
                                 "--rate", str(rate), "--nonblocking", "--output", str(output)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        try:
            recorder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            recorder.kill()


def _label(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['function']} ({path})"


def summary(output: Path, top: int = 25) -> str:
    """Self and inclusive share of samples per function, and per area (our code, Django, DRF, psycopg, …)."""
    self_counts, inclusive, areas = collections.Counter(), collections.Counter(), collections.Counter()
    total = 0
    for line in output.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_label(frame) for frame in stack.split(";") if not frame.startswith("process ")]
        if not frames:
            continue
        samples = int(count)
        total += samples
        self_counts[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
        areas[_area(stack.split(";")[-1])] += samples
    if not total:
        return "no samples"
    lines = [f"{total:,} samples", "", "| self % | function |", "|---|---|"]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in self_counts.most_common(top)]
    lines += ["", "| inclusive % | function |", "|---|---|"]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in inclusive.most_common(top)]
    lines += ["", "| self % | area (leaf frame's package) |", "|---|---|"]
    lines += [f"| {100 * n / total:.1f} | {name} |" for name, n in areas.most_common()]
    return "\n".join(lines)


def _area(frame: str) -> str:
    for package in ("django/template", "django/db", "django/", "rest_framework", "psycopg", "gunicorn", "orjson",
                    "drf_spectacular", "pydantic", "redis", "whitenoise", "json/", "zlib"):
        if f"/{package}" in frame or f"site-packages/{package}" in frame:
            return package.rstrip("/")
    if "/work/" in frame:
        return "OPS Inspector"
    return "Python and other"
