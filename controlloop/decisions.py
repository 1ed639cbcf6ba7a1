"""Control-loop decisions (SPEC §4): may this trigger replan the run, and how?

Pure functions over the contracts in ``controlloop.contracts``: no Django, no
ORM and no clock reads, so the same ``DecisionInput`` always gives the same
``ReplanDecision`` and every path is testable without a database. The breaker
comes in as its state (``DecisionInput.breaker``); ``controlloop.breaker``
says what that state admits.
"""

from __future__ import annotations

import copy
from typing import Any

from controlloop import breaker
from controlloop.contracts import (
    SEVERITY_RANK,
    DecisionInput,
    PatchSpec,
    PolicySnapshot,
    ReplanDecision,
    ReplanPatchDiff,
    TriggerRule,
    VetoReason,
)

DEFAULT_RULES: dict[str, TriggerRule] = {
    "empty_result": TriggerRule(
        decision="auto_retry", scope="execute",
        patch=PatchSpec(multiply={"params.days": 4}, cap={"params.days": 30}, remove=["params.environment"]),
        guidance="widened the time range and dropped the environment filter",
    ),
    "error": TriggerRule(decision="auto_retry", scope="execute", guidance="retried the step after an error"),
    "timeout": TriggerRule(
        decision="auto_retry", scope="execute", patch=PatchSpec(multiply={"params.limit": 0.5}),
        guidance="halved the row limit so the query finishes in time",
    ),
    "tool_error_fatal": TriggerRule(
        decision="stop_with_guidance", scope="execute",
        guidance="the query asset failed in a way a retry cannot fix; check the asset",
    ),
    "policy_violation": TriggerRule(
        decision="stop_with_guidance", scope="validate",
        guidance="the plan breaks the policy; narrow the question (fewer rows or a shorter time range)",
    ),
    "slot_missing": TriggerRule(
        decision="ask_user", scope="route_plan", guidance="name the system you mean, e.g. checkout-api",
    ),
    "low_evidence": TriggerRule(
        decision="ask_user", scope="route_plan",
        guidance="the answer has little evidence; ask a more specific question",
    ),
    "present_limit": TriggerRule(
        decision="auto_retry", scope="present",
        patch=PatchSpec(set={"limits.max_blocks": 2, "limits.max_rows_per_block": 10}),
        guidance="showed fewer blocks and rows",
    ),
    "manual": TriggerRule(decision="auto_retry", scope="route_plan", guidance="planned again on request"),
    "unknown": TriggerRule(
        decision="stop_with_guidance", scope="execute",
        guidance="the failure was not recognised; read the trace and rerun by hand",
    ),
}

_DEFAULT_VETO_GUIDANCE = "no automatic replan was made; read the reason and rerun by hand if it still makes sense"


def default_policy(**overrides: Any) -> PolicySnapshot:
    """The default policy: ``DEFAULT_RULES`` and ``PolicySnapshot``'s defaults; keywords override.

    The one definition of it: ``services.ensure_default_policy`` stores this
    (2 replans, every trigger, from low severity, no interval or cooling).
    """
    # Deep copies, so a test that edits its policy's rules cannot leak into DEFAULT_RULES.
    rules = {name: rule.model_copy(deep=True) for name, rule in DEFAULT_RULES.items()}
    return PolicySnapshot(**{"rules": rules, **overrides})


# --- patches -----------------------------------------------------------------

def _is_number(value: Any) -> bool:
    # bool is an int subclass, but multiplying a flag makes no sense.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same_kind(original: Any, result: float) -> int | float:
    """Keep an int an int (``1 * 4`` → ``4``; ``25 * 0.5`` → ``12``): plan numbers such as
    row limits and days are counts, and a count of 12.5 means nothing to a query."""
    if isinstance(original, int):
        return int(result)
    return result


def _parent(plan: dict[str, Any], path: str, create: bool) -> tuple[dict[str, Any] | None, str]:
    """The dict holding the last key of a dotted ``path``, and that key; None when absent."""
    *heads, last = path.split(".")
    node: Any = plan
    for key in heads:
        child = node.get(key)
        if not isinstance(child, dict):
            if not create:
                return None, last
            # ``set`` wins over whatever non-dict stood in the way: the patch names the shape it wants.
            child = node[key] = {}
        node = child
    return node, last


def apply_patch(plan: dict[str, Any], spec: PatchSpec) -> dict[str, Any]:
    """A deep copy of ``plan`` with ``spec`` applied: multiply, cap, set, remove, in that order."""
    result = copy.deepcopy(plan)
    for path, factor in spec.multiply.items():
        parent, key = _parent(result, path, create=False)
        if parent is not None and _is_number(parent.get(key)):
            parent[key] = _same_kind(parent[key], parent[key] * factor)
    for path, ceiling in spec.cap.items():
        parent, key = _parent(result, path, create=False)
        if parent is not None and _is_number(parent.get(key)):
            parent[key] = _same_kind(parent[key], min(parent[key], ceiling))
    for path, value in spec.set.items():
        parent, key = _parent(result, path, create=True)
        assert parent is not None  # create=True always yields a parent
        parent[key] = copy.deepcopy(value)
    for path in spec.remove:
        parent, key = _parent(result, path, create=False)
        if parent is not None:
            parent.pop(key, None)
    return result


# --- decision ----------------------------------------------------------------

def _seconds_since_last_replan(data: DecisionInput) -> float | None:
    if not data.trace_replans:
        return None
    newest = max(replan.timestamp for replan in data.trace_replans)
    # A replan stamped after ``now`` is clock skew; count it as "just now", not as negative time.
    return max(0.0, (data.now - newest).total_seconds())


def _breaker_reason(data: DecisionInput) -> str:
    """Names the breaker's scope, so a refused replan says whose failures refused it."""
    trigger = data.trigger
    where = f"{trigger.stage_name or 'any stage'}/{trigger.trigger_type} in tenant {data.tenant_id or '(none)'}"
    failed, seen = breaker.failures(data.breaker.outcomes, data.policy)
    if breaker.describe(data.breaker, data.policy, data.now) == "half_open":
        return f"breaker half-open for {where}: a trial replan is running ({failed} of the last {seen} replans failed)"
    return f"breaker open for {where}: {failed} of the last {seen} replans failed"


def _veto(data: DecisionInput) -> tuple[VetoReason, str] | None:
    """The first failing check as ``(veto, reason)``, in SPEC §4 order; None when all pass."""
    trigger, policy = data.trigger, data.policy
    used = len(data.trace_replans)
    if trigger.trigger_type not in policy.allowed_triggers:
        return "trigger_not_allowed", f"trigger {trigger.trigger_type} is not allowed by policy {policy.name}"
    if used >= policy.max_replans:
        return "no_replans_left", f"no replans left ({used} of {policy.max_replans} used)"
    # The breaker stops *automatic* replans; asking the user or stopping is never blocked by it.
    automatic = policy.rule_for(trigger.trigger_type).decision == "auto_retry"
    if automatic and not breaker.admits(data.breaker, policy, data.now):
        return "breaker_open", _breaker_reason(data)
    if SEVERITY_RANK[trigger.severity] < SEVERITY_RANK[policy.min_severity]:
        return "severity_too_low", (f"severity {trigger.severity} is below the minimum {policy.min_severity} "
                                    f"of policy {policy.name}")
    elapsed = _seconds_since_last_replan(data)
    if elapsed is None:
        return None
    # The interval guards against replan storms, so even critical triggers respect it.
    if elapsed < policy.min_interval_seconds:
        return "interval", (f"only {elapsed:g}s since the last replan; policy {policy.name} needs "
                            f"{policy.min_interval_seconds:g}s between replans")
    if trigger.severity != "critical" and elapsed < policy.cooling_period_seconds:
        return "cooling", (f"cooling: {elapsed:g}s since the last replan, policy {policy.name} cools down "
                           f"for {policy.cooling_period_seconds:g}s (only critical triggers skip it)")
    return None


def decide(data: DecisionInput) -> ReplanDecision:
    """Approve or veto a replan for ``data.trigger``; the first failing check is the veto."""
    policy, trigger_type = data.policy, data.trigger.trigger_type
    rule = policy.rule_for(trigger_type)
    attempt = len(data.trace_replans) + 1
    unchanged = ReplanPatchDiff(before=copy.deepcopy(data.plan), after=copy.deepcopy(data.plan))
    vetoed = _veto(data)
    if vetoed is not None:
        veto, reason = vetoed
        return ReplanDecision(
            approved=False, decision="stop_with_guidance", reason=reason, veto=veto, attempt=attempt,
            max_attempts=policy.max_replans, scope=rule.scope, patch=unchanged,
            guidance=rule.guidance or _DEFAULT_VETO_GUIDANCE,
        )
    if rule.decision == "auto_retry":
        reason = f"approved: auto_retry from {rule.scope} (replan {attempt} of {policy.max_replans})"
        patch = ReplanPatchDiff(before=copy.deepcopy(data.plan), after=apply_patch(data.plan, rule.patch))
    else:
        # ask_user / stop_with_guidance end the run, so the plan is not patched.
        reason = f"policy says {rule.decision} for {trigger_type}"
        patch = unchanged
    return ReplanDecision(
        approved=True, decision=rule.decision, reason=reason, attempt=attempt,
        max_attempts=policy.max_replans, scope=rule.scope, patch=patch, guidance=rule.guidance,
    )
