"""Traces and stages as context managers, and the ``@stage`` decorator (sync and async functions)."""

from __future__ import annotations

import contextvars
import functools
import inspect
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

STAGES = ("route_plan", "validate", "execute", "compose", "present")
_current: contextvars.ContextVar[TraceRecorder | None] = contextvars.ContextVar("ops_inspector_trace", default=None)
F = TypeVar("F", bound=Callable[..., Any])


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data (anything JSON cannot hold becomes its ``str``)."""
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def _as_object(value: Any) -> dict[str, Any]:
    value = _jsonable(value)
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def _now() -> str:
    return datetime.now(UTC).isoformat()


class StageRecorder:
    """One stage run: set ``output``, add ``warning()``s and ``error()``s; an exception inside is an error."""

    def __init__(self, name: str, attempt: int, input: Any, assets: dict[str, str]) -> None:
        if name not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}")
        self.name, self.attempt, self.input, self.assets = name, attempt, input, assets
        self.output: Any = None
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self._started_at, self._clock = _now(), time.perf_counter()
        self._duration_ms = 0

    def warning(self, message: str) -> None:
        self.warnings.append(str(message))

    def error(self, message: str) -> None:
        self.errors.append(str(message))

    def __enter__(self) -> StageRecorder:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is not None:
            self.errors.append(f"{kind.__name__}: {error}")
        self._duration_ms = int((time.perf_counter() - self._clock) * 1000)
        # The application's exception goes on: the SDK records it, never swallows it.

    def body(self) -> dict[str, Any]:
        status = "error" if self.errors else "warning" if self.warnings else "ok"
        return {
            "stage": self.name, "attempt": self.attempt, "started_at": self._started_at,
            "input": {"stage": self.name, "params": _as_object(self.input), "applied_assets": dict(self.assets)},
            "output": {"stage": self.name, "result": _as_object(self.output), "duration_ms": self._duration_ms,
                       "diagnostics": {"status": status, "warnings": self.warnings, "errors": self.errors}},
        }


class TraceRecorder:
    """One run of the pipeline; sent to the client's queue when the ``with`` block ends."""

    def __init__(self, send: Callable[[dict[str, Any] | None], None], question: str, *, session_id: str = "",
                 trace_id: str = "", tenant_id: str = "", applied_assets: dict[str, str] | None = None,
                 metadata: dict[str, Any] | None = None) -> None:
        self._send = send
        self.question, self.session_id, self.tenant_id = question, session_id, tenant_id
        self.trace_id = trace_id or f"sdk-{uuid.uuid4().hex}"
        self.applied_assets = dict(applied_assets or {})
        self.metadata = dict(metadata or {})
        self.stages: list[StageRecorder] = []
        self._attempts: Counter[str] = Counter()
        self._started_at, self._clock = _now(), time.perf_counter()
        self._token: contextvars.Token | None = None

    def stage(self, name: str, *, input: Any = None, assets: dict[str, str] | None = None) -> StageRecorder:
        """A stage run of this trace (``assets``: ``{"prompt": "route_rules@2"}``); a repeated name is its next attempt."""
        self._attempts[name] += 1
        recorder = StageRecorder(name, self._attempts[name], input, assets or {})
        self.stages.append(recorder)
        return recorder

    def __enter__(self) -> TraceRecorder:
        self._token = _current.set(self)
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self._token is not None:
            _current.reset(self._token)
        try:
            body = self.body(int((time.perf_counter() - self._clock) * 1000))
        except Exception:  # never into the application: a trace that cannot be built is counted, not raised
            logging.getLogger("ops_inspector_sdk").warning("a trace could not be built", exc_info=True)
            body = None
        self._send(body)

    def body(self, duration_ms: int = 0) -> dict[str, Any]:
        metadata = {**_as_object(self.metadata), "client": "ops-inspector-sdk"}
        assets = {}
        for asset_type, ref in self.applied_assets.items():
            name, _, version = ref.rpartition("@")
            if name and version.isdigit():
                assets[asset_type] = {"name": name, "version": int(version)}
        body = {"trace_id": self.trace_id, "question": self.question, "started_at": self._started_at,
                "duration_ms": duration_ms, "applied_assets": assets, "metadata": metadata,
                "stages": [recorder.body() for recorder in self.stages]}
        if self.tenant_id:
            body["tenant_id"] = self.tenant_id
        if self.session_id:
            body["session_id"] = self.session_id
        return body


def stage(name: str, *, assets: dict[str, str] | None = None) -> Callable[[F], F]:
    """Record each call of the function as a stage of the current trace (its arguments in, its result out).

    Outside a ``client.trace(...)`` block the function just runs.
    """

    def decorate(function: F) -> F:
        signature = inspect.signature(function)

        def arguments(args, kwargs) -> dict[str, Any]:
            try:
                bound = signature.bind(*args, **kwargs)
                return {key: value for key, value in bound.arguments.items() if key != "self"}
            except TypeError:
                return {"args": list(args), "kwargs": kwargs}

        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def run_async(*args, **kwargs):
                trace = _current.get()
                if trace is None:
                    return await function(*args, **kwargs)
                with trace.stage(name, input=arguments(args, kwargs), assets=assets) as recorder:
                    recorder.output = await function(*args, **kwargs)
                    return recorder.output
            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args, **kwargs):
            trace = _current.get()
            if trace is None:
                return function(*args, **kwargs)
            with trace.stage(name, input=arguments(args, kwargs), assets=assets) as recorder:
                recorder.output = function(*args, **kwargs)
                return recorder.output
        return run  # type: ignore[return-value]

    return decorate
