"""A stage handler that delegates the stage to an HTTP service in any language.

Wire contract (one ``POST`` per stage run to ``settings.OPS_STAGE_HTTP_URLS[stage]``)::

    request headers:  Content-Type: application/json, Accept: application/json,
                      Authorization: Bearer <OPS_STAGE_HTTP_TOKEN>   (only when set)
    request body:     {"stage_input": StageInput, "context": ExecutionContext,
                       "assets": {asset_type: {"name": str, "version": int, "spec": {...}}}}
    response:         2xx with a JSON ``StageOutput`` whose ``stage`` is the requested stage,
                      body at most 20 MB.

Anything else (non-2xx, redirect, timeout, unreachable host, bad JSON, bad
contract) raises ``HandlerError`` naming the URL, so the executor records a
readable error diagnostic.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from http.client import HTTPException
from typing import Any

from django.conf import settings
from pydantic import ValidationError

from inspector.contracts import StageOutput
from inspector.pipeline.base import HandlerError, StageRequest

MAX_BODY_BYTES = 20 * 1024 * 1024
ERROR_SNIPPET_CHARS = 200


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would replay the bearer token to any host a redirect names and turn
    # the POST into a GET; a stage service has no reason to redirect, so a 3xx
    # surfaces as an HTTP error instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def http_stage_handler(request: StageRequest) -> StageOutput:
    """Run ``request``'s stage by POSTing it to the configured URL; see the module docstring."""
    stage = str(request.stage_input.stage)
    url = getattr(settings, "OPS_STAGE_HTTP_URLS", {}).get(stage)
    if not url:
        raise HandlerError(f"no URL configured for stage {stage!r} (OPS_STAGE_HTTP_URLS)")
    timeout = float(getattr(settings, "OPS_STAGE_HTTP_TIMEOUT_S", 10.0))
    body = _post(url, _payload(request), timeout)
    output = _parse_output(url, body)
    if str(output.stage) != stage:
        raise HandlerError(f"stage mismatch from {url}: asked for {stage!r}, got {str(output.stage)!r}")
    return output


def _payload(request: StageRequest) -> bytes:
    assets = {
        asset_type: {"name": asset.name, "version": asset.version, "spec": asset.spec}
        for asset_type, asset in request.applied.items()
    }
    return json.dumps(
        {
            "stage_input": request.stage_input.model_dump(mode="json"),
            "context": request.context.model_dump(mode="json"),
            "assets": assets,
        }
    ).encode("utf-8")


def _post(url: str, data: bytes, timeout: float) -> bytes:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    token = getattr(settings, "OPS_STAGE_HTTP_TOKEN", "")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    http_request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    # HTTPError is a URLError and a timeout may arrive bare or wrapped, so the
    # order of these clauses matters.
    try:
        with _opener.open(http_request, timeout=timeout) as response:
            body = response.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise HandlerError(f"HTTP {exc.code} from {url}: {_error_snippet(exc)}") from exc
    except TimeoutError as exc:
        raise HandlerError(f"timed out after {timeout:g} s calling {url}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise HandlerError(f"timed out after {timeout:g} s calling {url}") from exc
        raise HandlerError(f"cannot reach {url}: {exc.reason}") from exc
    except (OSError, HTTPException) as exc:
        # Failures after the request was sent (peer reset, malformed status line).
        raise HandlerError(f"cannot reach {url}: {exc!r}") from exc
    if len(body) > MAX_BODY_BYTES:
        raise HandlerError(f"response body exceeds 20 MB from {url}")
    return body


def _error_snippet(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(4 * ERROR_SNIPPET_CHARS)
    except (OSError, HTTPException):
        return ""
    finally:
        exc.close()
    return raw.decode("utf-8", errors="replace")[:ERROR_SNIPPET_CHARS]


def _parse_output(url: str, body: bytes) -> StageOutput:
    try:
        data: Any = json.loads(body)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError on bad bytes
        raise HandlerError(f"invalid JSON from {url}: {exc}") from exc
    try:
        return StageOutput.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(part) for part in first["loc"]) or "(root)"
        raise HandlerError(f"invalid StageOutput from {url}: {loc}: {first['msg']}") from exc
