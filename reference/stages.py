"""The reference ops pipeline's five stage handlers (deterministic).

Each reads the assets it needs through ``request.use`` so the executor records
exactly which versions the stage applied. See docs/reference-pipeline.md.
"""

from __future__ import annotations

from typing import Any

from inspector.contracts import Reference
from inspector.pipeline.base import HandlerError, HandlerResult, StageRequest
from reference.routing import plan_question, since_for
from reference.sql import check_read_only, connection_engine_of, param_names, run_query

MAX_REFERENCES = 200


def route_plan(request: StageRequest) -> HandlerResult:
    prompt = request.use("prompt")
    resolver = request.use("resolver")
    question = request.context.question or request.stage_input.params.get("question", "")
    result, warnings = plan_question(question, prompt.spec, resolver.spec)
    result["prompt"] = prompt.ref
    steps = len(result["plan"].get("steps", []))
    return HandlerResult(result=result, warnings=warnings, counts={"steps": steps},
                         empty_flags={"result_empty": result["kind"] == "plan" and steps == 0})


def validate(request: StageRequest) -> HandlerResult:
    policy = request.use("policy")
    spec = policy.spec
    plan = request.stage_input.params.get("plan", {})
    params = plan.get("params", {})
    steps = plan.get("steps", [])
    violations = []
    for step in steps:
        if step.get("tool") not in spec["allowed_tools"]:
            violations.append({"code": "tool_not_allowed", "message": f"tool {step.get('tool')!r} is not allowed"})
    if len(steps) > spec["max_steps"]:
        violations.append({"code": "too_many_steps", "message": f"{len(steps)} steps exceed max_steps {spec['max_steps']}"})
    if int(params.get("limit", 0)) > spec["max_rows"]:
        violations.append({"code": "row_limit", "message": f"limit {params['limit']} exceeds max_rows {spec['max_rows']}"})
    if int(params.get("days", 0)) > spec["max_time_range_days"]:
        violations.append({"code": "time_range",
                           "message": f"{params['days']} days exceed max_time_range_days {spec['max_time_range_days']}"})
    if not steps:
        violations.append({"code": "empty_plan", "message": "the plan has no steps"})
    return HandlerResult(
        result={"validation_passed": not violations, "violations": violations, "policy": policy.ref,
                "budget_ms": spec["budget_ms"]},
        errors=[f"policy violation: {v['message']}" for v in violations],
        counts={"violations": len(violations), "steps_checked": len(steps)},
    )


def execute(request: StageRequest) -> HandlerResult:
    plan = request.stage_input.params.get("plan", {})
    params = dict(plan.get("params", {}))
    if isinstance(params.get("days"), int | float):
        # A replan may have widened the window: the start follows the days.
        params["since"] = since_for(int(params["days"]))
    schema = request.use("schema")
    tool_results, references, warnings = [], [], []
    for step in plan.get("steps", []):
        query = request.use("query", step.get("query") or None)
        source = request.use("source", query.spec["source"])
        connection = source.spec["connection"]
        sql, tables = query.spec["sql"], set(schema.spec.get("tables", {}))
        # No table list means no table: the check is never switched off.
        check_read_only(sql, tables, connection_engine_of(connection))
        bound = _bind(sql, query.spec["params"], params, query.spec["row_limit"])
        outcome = run_query(connection=connection, sql=sql, params=bound, tables=tables,
                            row_limit=min(query.spec["row_limit"], int(params.get("limit") or query.spec["row_limit"])),
                            timeout_ms=query.spec["timeout_ms"])
        tool_results.append({"query": query.ref, "columns": outcome.columns, "rows": outcome.rows,
                             "row_count": len(outcome.rows), "truncated": outcome.truncated})
        references += _references(outcome.rows, query.spec, source.name)
        if outcome.truncated:
            warnings.append(f"query {query.name} hit its row limit; results truncated")
    rows = sum(result["row_count"] for result in tool_results)
    if tool_results and rows == 0:
        warnings.append("the query returned no rows")
    return HandlerResult(
        result={"tool_results": tool_results, "references": [r.model_dump(mode="json") for r in references]},
        references=references,
        warnings=warnings,
        counts={"rows": rows, "references": len(references), "queries": len(tool_results)},
        empty_flags={"result_empty": rows == 0},
    )


def _bind(sql: str, declared: list[str], params: dict[str, Any], row_limit: int) -> dict[str, Any]:
    values = {}
    for name in param_names(sql):
        if name == "limit":
            values[name] = min(int(params.get("limit") or row_limit), row_limit)
        elif name in declared or name in params:
            values[name] = params.get(name, "")
        else:
            raise HandlerError(f"query parameter :{name} is neither declared nor in the plan")
    return values


def _references(rows: list[dict[str, Any]], spec: dict[str, Any], source: str) -> list[Reference]:
    id_column, name_column = spec["entity_column"], spec["name_column"]
    references = []
    for row in rows[:MAX_REFERENCES]:
        if id_column not in row:
            continue
        snippet = ", ".join(f"{k}={v}" for k, v in row.items())[:200]
        references.append(Reference(type="db_row", source=source, entity_id=str(row[id_column]),
                                    entity_name=str(row.get(name_column, "")), snippet=snippet))
    return references


def compose(request: StageRequest) -> HandlerResult:
    mapping = request.use("mapping")
    intent = request.stage_input.params.get("plan", {}).get("intent", "")
    tool_results = request.stage_input.prev_output.get("tool_results", [])
    rows = [row for result in tool_results for row in result.get("rows", [])]
    blocks, warnings = [], []
    for block in mapping.spec["blocks"]:
        if block["intent"] not in ("*", intent):
            continue
        built = _block(block, rows, request.stage_input.params.get("question", ""))
        if built is None:
            warnings.append(f"block {block['block_type']} skipped: the rows do not have the columns it needs")
        else:
            blocks.append(built)
    return HandlerResult(
        result={"blocks": blocks, "references": request.stage_input.prev_output.get("references", []),
                "mapping": mapping.ref},
        warnings=warnings,
        counts={"blocks": len(blocks), "rows": len(rows)},
        empty_flags={"result_empty": not blocks or not rows},
    )


def _block(block: dict[str, Any], rows: list[dict[str, Any]], question: str) -> dict[str, Any] | None:
    kind, title = block["block_type"], block["title"]
    if kind == "table":
        columns = block["columns"] or (list(rows[0]) if rows else [])
        return {"type": "table", "title": title, "columns": columns,
                "rows": [{c: row.get(c) for c in columns} for row in rows]}
    if kind == "metric_summary":
        if rows and "metric" not in rows[0]:
            return None
        return {"type": "metric_summary", "title": title,
                "metrics": [{k: row.get(k) for k in ("metric", "samples", "avg", "min", "max", "last")} for row in rows]}
    if kind == "graph_edges":
        if rows and "source_id" not in rows[0]:
            return None
        return {"type": "graph_edges", "title": title,
                "edges": [{"source": r.get("source_name") or r.get("source_id"), "target": r.get("target_name")
                           or r.get("target_id"), "relation": r.get("relation_type", "")} for r in rows]}
    count = len(rows)
    return {"type": "text", "title": title,
            "text": f"{count} result{'s' if count != 1 else ''} for: {question}" if count else f"No results for: {question}"}


def present(request: StageRequest) -> HandlerResult:
    screen = request.use("screen").spec
    params = request.stage_input.params
    route, halted = params.get("route", ""), params.get("halted")
    blocks = request.stage_input.prev_output.get("blocks", []) if not halted and route == "plan" else []
    # A replan (present_limit) may tighten the screen's limits for this run.
    limits = params.get("limits") or params.get("plan", {}).get("limits") or {}
    max_blocks = min(screen["max_blocks"], int(limits.get("max_blocks", screen["max_blocks"])))
    max_rows = min(screen["max_rows_per_block"], int(limits.get("max_rows_per_block", screen["max_rows_per_block"])))
    order = {name: i for i, name in enumerate(screen["block_order"])}
    ordered = sorted(blocks, key=lambda b: order.get(b.get("type"), len(order)))[:max_blocks]
    final_blocks = [_cap_rows(block, max_rows) for block in ordered]
    answer = _answer(route, params, halted, final_blocks, screen["answer_template"])
    references = _dedupe(request.stage_input.prev_output.get("references", []))
    attributions = [{"type": "rule", "source_id": params.get("plan", {}).get("intent", route) or "none",
                     "description": f"routed as {route or 'unknown'}", "confidence": 1.0}]
    if halted:
        attributions.append({"type": "fallback", "source_id": halted.get("stage", ""),
                             "description": "pipeline halted; answer explains why", "confidence": 1.0})
    ui_model = {"title": params.get("question", ""), "answer": answer, "route": route,
                "block_count": len(final_blocks), "dropped_blocks": len(blocks) - len(ordered)}
    if halted and halted.get("action"):
        # The control loop ended the run: show what the user can do next.
        ui_model["action_card"] = {"kind": halted["action"], "message": halted.get("guidance") or answer,
                                   "trigger": halted.get("trigger", "")}
        if halted["action"] == "ask_user":
            # What a client sends back as /ops/ask's reply_to with the user's answer.
            ui_model["action_card"]["reply_to"] = request.stage_input.trace_id
    return HandlerResult(
        result={"ui_model": ui_model,
                "final_blocks": final_blocks, "final_references": references, "final_attributions": attributions},
        # The answer's evidence is also the stage's own reference list, so its count is a column.
        references=[Reference.model_validate(reference) for reference in references],
        counts={"blocks": len(final_blocks), "references": len(references)},
        empty_flags={"result_empty": route == "plan" and not final_blocks},
    )


def _answer(route: str, params: dict[str, Any], halted: dict[str, Any] | None, blocks: list[dict], template: str) -> str:
    if halted:
        if halted.get("action") == "ask_user":
            return f"I need more information: {halted.get('guidance') or 'please rephrase the question'}."
        reasons = "; ".join(halted.get("errors", [])) or "an earlier stage failed"
        guidance = f" {halted['guidance'][0].upper()}{halted['guidance'][1:]}." if halted.get("guidance") else ""
        return f"I could not answer this: {reasons}.{guidance}"
    if route in ("direct", "reject"):
        return params.get("direct_answer") or ("I can't help with that request." if route == "reject" else "")
    text = next((b["text"] for b in blocks if b.get("type") == "text"), "")
    rows = sum(len(b.get("rows", b.get("metrics", b.get("edges", [])))) for b in blocks if b.get("type") != "text")
    summary = text or (f"{rows} row{'s' if rows != 1 else ''} found." if rows else "Nothing matched.")
    return template.replace("{summary}", summary)


def _cap_rows(block: dict[str, Any], limit: int) -> dict[str, Any]:
    for key in ("rows", "metrics", "edges"):
        if key in block and len(block[key]) > limit:
            return {**block, key: block[key][:limit], "truncated": True}
    return block


def _dedupe(references: list[dict[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    seen, unique = set(), []
    for reference in references:
        key = (reference.get("source"), reference.get("entity_id"))
        if key not in seen:
            seen.add(key)
            unique.append(reference)
    return unique[:limit]
