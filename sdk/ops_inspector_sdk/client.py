"""The client: a bounded queue, one sender thread, batches to ``POST /inspector/traces``, retries with backoff."""

from __future__ import annotations

import atexit
import json
import logging
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from ops_inspector_sdk.recording import TraceRecorder

log = logging.getLogger("ops_inspector_sdk")
RETRY_STATUSES = {429, 502, 503, 504}


@dataclass
class Stats:
    """What the client did with the traces it was given (read it any time; counts only grow)."""

    queued: int = 0
    sent: int = 0
    dropped_queue_full: int = 0
    dropped_rejected: int = 0
    dropped_unreachable: int = 0
    dropped_unbuildable: int = 0
    retries: int = 0

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_rejected + self.dropped_unreachable + self.dropped_unbuildable


class Client:
    """Sends traces to OPS Inspector at ``base_url`` with an API token, in the background.

    ``max_queue`` traces wait at most; more are dropped (and counted) rather
    than blocking the application. A batch answered 429 or 503 waits as long as
    ``Retry-After`` says; network errors and other 5xx back off exponentially
    (``backoff_s`` × 2ⁿ, at most ``max_backoff_s``) up to ``max_retries`` times.
    A batch refused as a whole (400, 409, 413) is sent again one trace at a time
    so one bad trace does not lose the others.
    """

    def __init__(self, base_url: str, token: str, *, tenant_id: str = "", batch_size: int = 100,
                 max_queue: int = 10_000, flush_interval_s: float = 1.0, timeout_s: float = 10.0,
                 max_retries: int = 5, backoff_s: float = 0.5, max_backoff_s: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + "/inspector/traces"
        self.tenant_id = tenant_id
        self.stats = Stats()
        self._headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        self._batch_size, self._interval, self._timeout = max(1, min(batch_size, 100)), flush_interval_s, timeout_s
        self._max_retries, self._backoff, self._max_backoff = max_retries, backoff_s, max_backoff_s
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=max_queue)
        self._closed = threading.Event()
        self._idle = threading.Condition()
        self._done = 0  # traces taken from the queue and finished with (sent or dropped)
        self._thread = threading.Thread(target=self._run, name="ops-inspector-sender", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- recording ---------------------------------------------------------

    def trace(self, question: str, *, session_id: str = "", trace_id: str = "",
              applied_assets: dict[str, str] | None = None, metadata: dict[str, Any] | None = None) -> TraceRecorder:
        return TraceRecorder(self._enqueue, question, session_id=session_id, trace_id=trace_id,
                             tenant_id=self.tenant_id, applied_assets=applied_assets, metadata=metadata)

    def _enqueue(self, body: dict[str, Any] | None) -> None:
        if body is None:
            self.stats.dropped_unbuildable += 1
            return
        try:
            self._queue.put_nowait(body)
            self.stats.queued += 1
        except queue.Full:
            self.stats.dropped_queue_full += 1

    # -- sending -----------------------------------------------------------

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every queued trace is sent or dropped; False if ``timeout_s`` passed first."""
        deadline = time.monotonic() + timeout_s
        target = self.stats.queued
        with self._idle:
            while self._done < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout_s: float = 30.0) -> None:
        """Send what is queued (up to ``timeout_s``) and stop the sender."""
        if self._closed.is_set():
            return
        self.flush(timeout_s)
        self._closed.set()
        self._thread.join(timeout=1)

    def _run(self) -> None:
        while not self._closed.is_set():
            batch = self._take()
            if not batch:
                continue
            try:
                self._send_batch(batch)
            except Exception:  # the sender thread must outlive anything a batch does
                log.exception("ops-inspector-sdk: a batch failed unexpectedly")
                self.stats.dropped_unreachable += len(batch)
            finally:
                with self._idle:
                    self._done += len(batch)
                    self._idle.notify_all()

    def _take(self) -> list[dict[str, Any]]:
        try:
            first = self._queue.get(timeout=self._interval)
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < self._batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _send_batch(self, batch: list[dict[str, Any]]) -> None:
        status = self._post(batch)
        if status in (200, 201):
            self.stats.sent += len(batch)
        elif status in (400, 409, 413) and len(batch) > 1:
            for body in batch:  # all or nothing on the server: find the bad one, keep the rest
                self._send_batch([body])
        elif status is None:
            self.stats.dropped_unreachable += len(batch)
        else:
            log.warning("ops-inspector-sdk: %d trace(s) refused with HTTP %s", len(batch), status)
            self.stats.dropped_rejected += len(batch)

    def _post(self, batch: list[dict[str, Any]]) -> int | None:
        """The final HTTP status of sending ``batch`` (after retries), or None if the server never answered."""
        data = json.dumps(batch if len(batch) > 1 else batch[0]).encode()
        status = None
        for attempt in range(self._max_retries + 1):
            if attempt:
                self.stats.retries += 1
            wait = None
            try:
                request = urllib.request.Request(self.url, data=data, headers=self._headers, method="POST")
                with urllib.request.urlopen(request, timeout=self._timeout) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                status = error.code
                if status not in RETRY_STATUSES:
                    return status
                wait = _retry_after(error.headers.get("Retry-After"))
            except (urllib.error.URLError, OSError, TimeoutError):
                status = None
            if attempt == self._max_retries or self._closed.is_set():
                break
            delay = wait if wait is not None else min(self._max_backoff, self._backoff * 2 ** attempt)
            time.sleep(delay * (1 if wait is not None else random.uniform(0.8, 1.2)))
        return status


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
