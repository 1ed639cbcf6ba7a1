"""Every GET of the OpenAPI schema, on seeded data: no JSON null, only snake_case keys, as the schema says.

The API's rule (docs/api.md): an answer carries no null (a value that is not
there is left out, or is a typed empty value) and only snake_case keys, and
it matches the schema: its ``required`` keys are there, no key is left
undocumented, and the types are the documented ones.

The schema is generated in-process, the database holds real traces (pipeline
runs with replans, ingested traces with token usage and a session, a trace
without a stage), assets (a rollback, a draft-only asset), golden queries and
runs (pending and finished), analyses (pair and group, pending and finished),
suites and suite runs, and replan events. Every GET operation is called as a
superuser with its path parameters naming those objects: bare (the list
filters' defaults), with ``limit=1`` and its ``next`` page for lists (so both
page links appear), and with the variants listed in ``_calls``.

The walk follows the operation's 200 schema. Keys inside free-form data are
not ours to rename: a node whose schema is a free-form object or value
(``{}``, no ``properties``, free ``additionalProperties``: trace
``metadata``, stage payloads, asset ``spec``, ``params``…) is not descended
into, and the keys of a map (``additionalProperties`` with a schema: stage
names, count names) are data too, only its values are walked. An answer whose
whole schema is a free-form object is ours all the same: it is walked whole
for nulls (its keys cannot be told from data without a schema).

Each offence names its operation, URL and JSON pointer.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from rest_framework.test import APIClient

from controlloop.models import ReplanPolicy
from controlloop.services import ensure_default_policy
from inspector.contracts import ExecutionContext
from inspector.models import Asset
from inspector.pipeline.runner import pipeline_run
from inspector.services import asset_create, asset_version_rollback, trace_ingest
from inspector.services.price_tables import price_tables_clear
from inspector.services.registry_cache import registry_cache_clear
from reference.assets import reference_assets_install, reference_v2_install
from regression.models import GoldenQuery, RegressionRun
from regression.services import (
    analysis_execute,
    analysis_request,
    golden_query_run,
    golden_query_set_baseline,
    regression_run_execute,
    suite_record_baseline,
    suite_run_execute,
    suite_run_request,
)
from regression.suite_models import GoldenSuite, SuiteItem
from testkit.factories import UserFactory, stage_body, trace_body

# The module fixture's test database is set up only for a module whose tests ask for one.
pytestmark = pytest.mark.django_db

# Operations whose answers another change is still fixing, by operation id, with the reason. Each is
# expected to fail here (xfail, strict: once it passes, take it off). Empty: every answer passes.
FIXED_ELSEWHERE: dict[str, str] = {}

SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
QUESTION = "What is checkout-api?"
REPLAN_QUESTION = "Events on web-staging-03 today"  # an empty first execute: one approved replan
REFUSED_QUESTION = "Events on zz-nowhere-01 today"  # replans until refused (no_replans_left)
SESSION = "walk-session-1"
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,),
    "object": (dict,),
}


def _load_document() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))


DOCUMENT = _load_document()
# Only GETs are walked. Not the OTLP answer (POST /v1/traces, otlp_traces_export) in any case: it is an
# ExportTraceServiceResponse in OTLP/JSON, whose keys are the protocol's lowerCamelCase (partialSuccess),
# not this API's snake_case; it is kept so.
GET_OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    operation["operationId"]: (path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items() if method == "get"
}
ALL_OPERATIONS: dict[str, dict[str, Any]] = {
    operation["operationId"]: operation
    for methods in DOCUMENT["paths"].values() for method, operation in methods.items()
    if method in {"get", "post", "put", "patch", "delete"}
}


# --- the walk


def _resolve(schema: Any) -> dict[str, Any]:
    while isinstance(schema, dict) and "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**DOCUMENT["components"]["schemas"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema if isinstance(schema, dict) else {}


def _merged(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``allOf`` parts merged in (drf-spectacular's ``allOf: [$ref]`` with a description)."""
    schema = _resolve(schema)
    if "allOf" not in schema:
        return schema
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        part = _merged(part)
        merged["properties"] = {**merged.get("properties", {}), **part.get("properties", {})}
        merged["required"] = [*merged.get("required", []), *part.get("required", [])]
        for key, value in part.items():
            merged.setdefault(key, value)
    return merged


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _fits(value: Any, schema: dict[str, Any]) -> bool:
    """Cheap: the JSON type, the enum and (for an object) the required keys."""
    schema = _merged(schema)
    types = _types(schema)
    if types and not any(_is(value, kind) for kind in types):
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if isinstance(value, dict) and not set(schema.get("required", [])) <= set(value):
        return False
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    return not alternatives or any(_fits(value, alternative) for alternative in alternatives)


def _is(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind in {"integer", "number"} and isinstance(value, bool):
        return False
    return isinstance(value, JSON_TYPES.get(kind, (object,)))


def _free_form(schema: dict[str, Any]) -> bool:
    """A free-form object or value: nothing in the schema names its keys or shapes its content."""
    if schema.get("properties") or schema.get("oneOf") or schema.get("anyOf") or "enum" in schema:
        return False
    additional = schema.get("additionalProperties")
    if isinstance(additional, dict) and additional:
        return False
    if "items" in schema:
        return False
    return not _types(schema) or _types(schema) == ["object"]


def walk(value: Any, schema: Any, pointer: str, offences: list[str], *, whole: bool = False) -> None:
    """Append an offence for each null, non-snake_case key, missing required key, undocumented key or wrong type.

    ``whole``: the node is ours although its schema is free-form (an answer documented only as an object).
    """
    where = pointer or "/"
    if value is None:
        offences.append(f"{where}: null")
        return
    schema = _merged(schema)
    if whole or not schema:
        if whole:
            _walk_whole(value, pointer, offences)
        return
    types = _types(schema)
    if types and not any(_is(value, kind) for kind in types):
        offences.append(f"{where}: {type(value).__name__} where the schema says {'/'.join(types)}")
        return
    if "enum" in schema and value not in schema["enum"]:
        offences.append(f"{where}: {value!r} is not one of {schema['enum']}")
    alternatives = schema.get("oneOf") or schema.get("anyOf")
    if alternatives:
        chosen = next((alternative for alternative in alternatives if _fits(value, alternative)), None)
        if chosen is None:
            offences.append(f"{where}: fits none of the schema's alternatives")
            return
        walk(value, chosen, pointer, offences)
        return
    if _free_form(schema):
        return
    if isinstance(value, dict):
        _walk_object(value, schema, pointer, offences)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            walk(item, schema.get("items", {}), f"{pointer}/{index}", offences)


def _walk_object(value: dict[str, Any], schema: dict[str, Any], pointer: str, offences: list[str]) -> None:
    properties = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    for key in schema.get("required", []):
        if key not in value:
            offences.append(f"{pointer}/{key}: required by the schema, absent")
    for key, item in value.items():
        here = f"{pointer}/{_escape(key)}"
        if key in properties:
            if not SNAKE_CASE.match(key):
                offences.append(f"{here}: key is not snake_case")
            walk(item, properties[key], here, offences)
        elif isinstance(additional, dict) and additional:
            walk(item, additional, here, offences)  # a map: its keys are data (stage names, count names…)
        elif properties and additional is not True:
            if not SNAKE_CASE.match(key):
                offences.append(f"{here}: key is not snake_case")
            offences.append(f"{here}: key not in the schema")
            walk(item, {}, here, offences)


def _walk_whole(value: Any, pointer: str, offences: list[str]) -> None:
    """Nulls only: without a schema, our keys cannot be told from map keys that are data (verdicts, stages)."""
    if value is None:
        offences.append(f"{pointer or '/'}: null")
    elif isinstance(value, dict):
        for key, item in value.items():
            _walk_whole(item, f"{pointer}/{_escape(key)}", offences)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _walk_whole(item, f"{pointer}/{index}", offences)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _answer_schema(operation: dict[str, Any]) -> dict[str, Any]:
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


def test_the_walk_reports_nulls_keys_and_required_but_not_inside_free_form_data():
    schema = {
        "type": "object", "required": ["id", "rows"],
        "properties": {
            "id": {"type": "integer"},
            "metadata": {"type": "object", "additionalProperties": {}},
            "spec": {},
            "rows": {"type": "array", "items": {"type": "object", "required": ["name"],
                                                "properties": {"name": {"type": "string"}}}},
            "by_stage": {"type": "object", "additionalProperties": {"type": "integer"}},
            "Bad_Key": {"type": "string"},
        },
    }
    answer = {"metadata": {"clientKey": None}, "spec": {"Free": [None]}, "rows": [{"name": None}, {}, {"name": 3}],
              "by_stage": {"Execute": None, "present": 1}, "Bad_Key": "x", "traceId": "t"}
    offences: list[str] = []

    walk(answer, schema, "", offences)

    assert offences == [
        "/id: required by the schema, absent",
        "/rows/0/name: null",
        "/rows/1/name: required by the schema, absent",
        "/rows/2/name: int where the schema says string",
        "/by_stage/Execute: null",
        "/Bad_Key: key is not snake_case",
        "/traceId: key is not snake_case",
        "/traceId: key not in the schema",
    ]


# --- the seeded data and the calls


@dataclass
class Seeded:
    """The ids the calls name."""

    trace_id: str = ""
    other_trace_id: str = ""
    replanned_trace_id: str = ""
    refused_trace_id: str = ""
    usage_trace_id: str = ""
    short_trace_id: str = ""
    asset_id: int = 0
    draft_asset_id: int = 0
    policy_id: int = 0
    analyses: list[str] = field(default_factory=list)
    golden_query_ids: list[int] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    suite_id: int = 0
    item_id: int = 0
    suite_run_ids: list[int] = field(default_factory=list)


def _usage_trace(trace_id: str, *, stages: tuple[str, ...], tokens: int, baseline_zero_ms: bool = False,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A trace whose route_plan and compose report token usage, in the walk's session."""
    body = trace_body(trace_id=trace_id, question=QUESTION, stages=stages, session_id=SESSION)
    for stage in body["stages"]:
        if stage["stage"] in {"route_plan", "compose"}:
            stage["output"]["result"]["usage"] = {"model": "gpt-4o", "input_tokens": tokens,
                                                  "output_tokens": tokens // 4}
        if baseline_zero_ms and stage["stage"] == "validate":
            stage["output"]["duration_ms"] = 0
        if extra and stage["stage"] == "execute":
            stage["output"]["result"].update(copy.deepcopy(extra))
    return body


def _seed() -> Seeded:
    reference_assets_install()
    ensure_default_policy()
    seeded = Seeded()
    seeded.trace_id = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    seeded.other_trace_id = pipeline_run(context=ExecutionContext(question=QUESTION)).trace_id
    seeded.replanned_trace_id = pipeline_run(context=ExecutionContext(question=REPLAN_QUESTION)).trace_id
    seeded.refused_trace_id = pipeline_run(context=ExecutionContext(question=REFUSED_QUESTION)).trace_id
    all_stages = ("route_plan", "validate", "execute", "compose", "present")
    full, _ = trace_ingest(payload=_usage_trace("walk-usage-full", stages=all_stages, tokens=800,
                                                baseline_zero_ms=True))
    # The candidate: no present stage, more tokens, new output keys (output_added; one of them null: the
    # client's value, which a diff operation or an issue then leaves out), validate 0 ms → >0.
    short, _ = trace_ingest(payload=_usage_trace("walk-usage-short", stages=all_stages[:-1], tokens=4000,
                                                 extra={"added_key": {"rows": 3}, "null_key": None}))
    seeded.usage_trace_id, seeded.short_trace_id = full.trace_id, short.trace_id
    # A retried stage, and an asset version the registry does not hold (no asset_version_id).
    unregistered = {"prompt": {"name": "walk_unregistered", "version": 9, "status": "published"}}
    trace_ingest(payload={**trace_body(trace_id="walk-retried", session_id=SESSION, applied_assets=unregistered),
                          "stages": [stage_body("route_plan"), stage_body("execute", attempt=1, status="warning"),
                                     stage_body("execute", attempt=2)]})

    # Assets: version 2 published (version 1 archived), then a rollback (copied_from); a draft-only asset.
    reference_v2_install(publish=True)
    asset = Asset.objects.get(name="event_history")
    asset_version_rollback(asset=asset, to_version=1)
    seeded.asset_id = asset.pk
    seeded.draft_asset_id = asset_create(tenant_id="default", asset_type="query", name="walk_draft",
                                         spec={"sql": "SELECT 1", "params": []}).pk

    # Analyses: a finished pair with output_added, stage_missing and a 0 ms baseline; a finished group; a pending one.
    pair = analysis_request(baseline_trace_ids=[full.trace_id], candidate_trace_ids=[short.trace_id])
    analysis_execute(analysis_id=pair.pk)
    group = analysis_request(baseline_trace_ids=[seeded.trace_id, seeded.other_trace_id, full.trace_id],
                             candidate_trace_ids=[seeded.replanned_trace_id, short.trace_id])
    analysis_execute(analysis_id=group.pk)
    pending = analysis_request(baseline_trace_ids=[seeded.trace_id], candidate_trace_ids=[seeded.other_trace_id])
    seeded.analyses = [str(pair.pk), str(group.pk), str(pending.pk)]

    # Golden queries: one with a baseline, a finished run and a pending run; one without a baseline.
    golden = GoldenQuery.objects.create(name="walk-golden", question=QUESTION)
    bare = GoldenQuery.objects.create(name="walk-no-baseline", question=QUESTION)
    golden_query_set_baseline(golden_query=golden, trace_id=seeded.trace_id)
    finished = golden_query_run(golden_query=golden, enqueue=False)
    regression_run_execute(run_id=finished.pk)
    waiting = golden_query_run(golden_query=golden, enqueue=False)
    seeded.golden_query_ids = [golden.pk, bare.pk]
    seeded.run_ids = [finished.pk, waiting.pk]
    assert RegressionRun.objects.get(pk=finished.pk).status == "completed"

    # A suite: its baseline recorded, a finished run against it and a pending one.
    suite = GoldenSuite.objects.create(name="walk-suite", repeats=1)
    item = SuiteItem.objects.create(suite=suite, name="walk-item", question=QUESTION)
    recorded = suite_record_baseline(suite=suite, enqueue=False)
    suite_run_execute(run_id=recorded.pk)
    compared = suite_run_request(suite=suite, enqueue=False)
    suite_run_execute(run_id=compared.pk)
    waiting_suite_run = suite_run_request(suite=suite, enqueue=False)
    seeded.suite_id, seeded.item_id = suite.pk, item.pk
    seeded.suite_run_ids = [recorded.pk, compared.pk, waiting_suite_run.pk]

    seeded.policy_id = ReplanPolicy.objects.get(is_default=True).pk
    return seeded


def _calls(s: Seeded) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
    """Per GET operation, the (path parameters, query) of its calls.

    An operation without path parameters is called bare as well; a list also
    with ``limit=1`` (its first call's) and then its ``next`` page.
    """
    traces = [s.trace_id, s.replanned_trace_id, s.refused_trace_id, s.usage_trace_id, s.short_trace_id]
    return {
        "asset_registry_assets_retrieve": [({"id": s.asset_id}, {}), ({"id": s.draft_asset_id}, {})],
        "asset_registry_assets_impact_retrieve": [({"id": s.asset_id}, {})],
        "asset_registry_assets_traces_list": [({"id": s.asset_id}, {})],
        "asset_registry_assets_versions_list": [({"id": s.asset_id}, {}), ({"id": s.draft_asset_id}, {})],
        "controlloop_policies_retrieve": [({"id": s.policy_id}, {})],
        "inspector_regression_retrieve": [({"analysis_id": analysis}, {}) for analysis in s.analyses],
        "inspector_regression_golden_queries_retrieve": [({"id": pk}, {}) for pk in s.golden_query_ids],
        "inspector_regression_golden_queries_baseline_list": [({"id": pk}, {}) for pk in s.golden_query_ids],
        "inspector_regression_runs_retrieve": [({"id": pk}, {}) for pk in s.run_ids],
        "inspector_regression_suite_runs_retrieve": [({"run_id": pk}, {}) for pk in s.suite_run_ids],
        "inspector_regression_suites_retrieve": [({"id": s.suite_id}, {})],
        "inspector_regression_suites_items_list": [({"id": s.suite_id}, {})],
        "inspector_regression_suites_items_retrieve": [({"id": s.suite_id, "item_id": s.item_id}, {})],
        "inspector_regression_suites_runs_list": [({"id": s.suite_id}, {})],
        "inspector_traces_list": [({}, {"session_id": SESSION})],
        "inspector_traces_retrieve": [({"trace_id": trace_id}, {}) for trace_id in traces]
        + [({"trace_id": s.usage_trace_id}, {"include": "payloads"}),
           ({"trace_id": "walk-retried"}, {"include": "payloads"})],
        "inspector_traces_diff_retrieve": [
            ({"trace_id": s.other_trace_id}, {"baseline": s.trace_id}),
            ({"trace_id": s.short_trace_id}, {"baseline": s.usage_trace_id}),  # a stage on one side only
            ({"trace_id": s.usage_trace_id}, {"baseline": s.short_trace_id}),
            ({"trace_id": s.replanned_trace_id}, {"baseline": s.trace_id}),  # a retried stage
        ],
        "inspector_traces_stages_retrieve": [({"trace_id": s.trace_id, "stage": "execute"}, {}),
                                             ({"trace_id": s.replanned_trace_id, "stage": "execute"},
                                              {"attempt": 1})],
        "controlloop_events_list": [({}, {"trace": s.refused_trace_id})],
    }


def _url(path: str, path_parameters: dict[str, Any], query: dict[str, Any]) -> str:
    for name, value in path_parameters.items():
        path = path.replace("{" + name + "}", str(value))
    return path + (f"?{urlencode(query)}" if query else "")


def _call(client: APIClient, operation_id: str, url: str, offences: list[str], *, follow_next: bool = False) -> None:
    response = client.get(url, HTTP_ACCEPT="application/json")
    if response.status_code != 200:
        offences.append(f"{url}: answered {response.status_code}, not 200: {response.content[:200]!r}")
        return
    body = response.json()
    _, operation = GET_OPERATIONS[operation_id]
    schema = _resolve(_answer_schema(operation))
    found: list[str] = []
    walk(body, schema, "", found, whole=_free_form(_merged(schema)))
    offences += [f"{url}: {offence}" for offence in found]
    if follow_next and isinstance(body, dict) and body.get("next"):
        parts = urlsplit(body["next"])
        _call(client, operation_id, f"{parts.path}?{parts.query}", offences)


@pytest.fixture(scope="module")
def offences_by_operation(django_db_setup, django_db_blocker) -> dict[str, list[str]]:
    """Seed, call every GET operation, walk the answers; roll the data back. Offences by operation id.

    Module-scoped, so the data is seeded once: the per-test cache reset of testkit/plugin.py
    (``_fresh_caches``) does not reach here, hence the same resets around it.
    """
    found: dict[str, list[str]] = {operation_id: [] for operation_id in GET_OPERATIONS}
    with django_db_blocker.unblock(), transaction.atomic():
        for clear in (registry_cache_clear, price_tables_clear, cache.clear):
            clear()
        seeded = _seed()
        client = APIClient()
        client.force_authenticate(UserFactory(is_superuser=True, is_staff=True))
        calls = _calls(seeded)
        for operation_id, (path, operation) in GET_OPERATIONS.items():
            path_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            listed = calls.get(operation_id, [])
            if path_names and not listed:
                found[operation_id].append(f"{path}: no seeded ids for its path parameters: add it to _calls")
                continue
            pages = "limit" in {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
            planned = [*listed] if path_names else [({}, {}), *listed]  # the first one with the filters' defaults
            if pages:
                planned.append((planned[0][0], {**planned[0][1], "limit": 1}))
            for path_parameters, query in planned:
                _call(client, operation_id, _url(path, path_parameters, query), found[operation_id],
                      follow_next="limit" in query)
        transaction.set_rollback(True)
        for clear in (registry_cache_clear, price_tables_clear, cache.clear):
            clear()
    return found


@pytest.mark.parametrize("operation_id", [
    pytest.param(operation_id, marks=pytest.mark.xfail(reason=FIXED_ELSEWHERE[operation_id], strict=True))
    if operation_id in FIXED_ELSEWHERE else operation_id
    for operation_id in sorted(GET_OPERATIONS)
])
def test_answer_has_no_null_and_only_snake_case_keys_and_fits_its_schema(operation_id, offences_by_operation):
    offences = offences_by_operation[operation_id]
    assert not offences, f"{operation_id}:\n" + "\n".join(offences[:50])


# --- the schema itself


def _nullable_places(schema: Any, pointer: str, seen: set[str], places: list[str]) -> None:
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            _nullable_places(item, f"{pointer}/{index}", seen, places)
        return
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            seen.add(name)
            _nullable_places(DOCUMENT["components"]["schemas"][name], f"#/components/schemas/{name}", seen, places)
    if schema.get("nullable") is True or "null" in _types(schema):
        places.append(pointer)
    for key in ("properties", "additionalProperties", "items", "allOf", "oneOf", "anyOf"):
        if key not in schema:
            continue
        if key == "properties":
            for name, sub in schema["properties"].items():
                _nullable_places(sub, f"{pointer}/properties/{name}", seen, places)
        else:
            _nullable_places(schema[key], f"{pointer}/{key}", seen, places)


@pytest.mark.parametrize("operation_id", sorted(ALL_OPERATIONS))
def test_no_answer_schema_allows_null(operation_id):
    places: list[str] = []
    for status_code, response in ALL_OPERATIONS[operation_id].get("responses", {}).items():
        for media_type, content in response.get("content", {}).items():
            _nullable_places(content.get("schema", {}), f"{status_code} {media_type}", set(), places)
    assert not places, f"{operation_id}: the answer schema allows null at\n" + "\n".join(places)
