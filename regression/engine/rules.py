"""The penalty rules for a stage present on both sides, one function per row of the table.

Each rule appends to a ``Findings``: issues (with their penalty), improvements
(never penalised) and deltas skipped because they sit inside the baseline's
own run-to-run spread. docs/regression-scoring.md documents every rule.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jsonpointer import escape

from inspector.structural_diff import stage_output_diff
from inspector.trace_comparison import result_size
from inspector.usage import COST_DIGITS, cost_text
from regression.engine.contracts import CountDelta, DurationDelta, Issue, ScoringConfig, StageSnapshot

_ISSUE_KIND = {"add": "output_added", "remove": "output_removed", "replace": "output_changed"}
_STATUS_RANK = {"ok": 0, "warning": 1, "error": 2}
# Run-specific fragments (numbers, hex ids) are masked before messages are
# compared, so "timeout after 5012 ms" and "... 5020 ms" are the same warning.
_MESSAGE_NOISE = re.compile(r"\b[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b|\d+", re.IGNORECASE)
# A stage result's ``usage`` (model, tokens, cost) is scored by ``usage`` alone: the structural
# rule skips every pointer under it, so token jitter is not also charged as output_changed.
USAGE_POINTER = "/result/usage"


@dataclass
class Findings:
    stage: str
    noise: dict[str, float]
    issues: list[Issue] = field(default_factory=list)
    improvements: list[str] = field(default_factory=list)
    noise_ignored: list[str] = field(default_factory=list)

    def add(
        self, pointer: str, kind: str, baseline: Any, candidate: Any, message: str, penalty: int, critical: bool = False
    ) -> None:
        self.issues.append(
            Issue(stage=self.stage, pointer=pointer, kind=kind, baseline=baseline, candidate=candidate,
                  message=f"{self.stage}: {message}", penalty=penalty, critical=critical)
        )

    def within_noise(self, metric: str, delta: float, alias: str = "") -> bool:
        """True (and noted) when ``delta`` is no larger than the baseline's spread for ``metric`` (or ``alias``)."""
        spread = self.noise.get(metric, self.noise.get(alias) if alias else None)
        if spread is None or abs(delta) > spread:
            return False
        self.noise_ignored.append(f"{metric}: change of {delta:+g} is within the baseline spread of {spread:g}")
        return True


def status(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> None:
    before, after = _STATUS_RANK[b.status], _STATUS_RANK[c.status]
    if after < before:
        f.improvements.append(f"status improved from {b.status} to {c.status}")
    elif after > before and c.status == "error":
        f.add("/diagnostics/status", "newly_failing", b.status, c.status,
              f"status went from {b.status} to error (newly failing).", cfg.status_error_penalty, critical=True)
    elif after > before:
        f.add("/diagnostics/status", "status_worse", b.status, c.status,
              f"status went from {b.status} to {c.status}.", cfg.status_warning_penalty)


def messages(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig, which: str) -> None:
    """New errors or warnings (``which``), each penalised up to the cap; resolved ones are improvements."""
    if which == "errors":
        penalty, cap = cfg.new_error_penalty, cfg.new_error_cap
    else:
        penalty, cap = cfg.new_warning_penalty, cfg.new_warning_cap
    before_list, after_list = getattr(b, which), getattr(c, which)
    unmatched = Counter(_MESSAGE_NOISE.sub("#", m) for m in before_list)
    budget = cap
    for index, message in enumerate(after_list):
        masked = _MESSAGE_NOISE.sub("#", message)
        if unmatched[masked] > 0:
            unmatched[masked] -= 1
            continue
        charged, budget = _charge(penalty, budget)
        f.add(f"/diagnostics/{which}/{index}", f"new_{which[:-1]}", None, message,
              f"new {which[:-1]}: {message!r}.", charged)
    resolved = sum(unmatched.values())
    if resolved:
        f.improvements.append(f"{resolved} {which} from the baseline no longer occur")


def empty_flags(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> None:
    for flag in sorted(set(b.empty_flags) | set(c.empty_flags)):
        before, after = b.empty_flags.get(flag, False), c.empty_flags.get(flag, False)
        pointer = f"/diagnostics/empty_flags/{escape(flag)}"
        if before and not after:
            f.improvements.append(f"{flag} is no longer set")
        elif after and not before and flag == "result_empty":
            f.add(pointer, "result_newly_empty", before, after, "result is newly empty.",
                  cfg.result_empty_penalty, critical=True)
        elif after and not before:
            f.add(pointer, "empty_flag_set", before, after, f"{flag} is newly set.", cfg.empty_flag_penalty)


def result_emptiness(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> None:
    """What the stage found (lists/mappings under ``result_keys``) went from some to none, flagged or not.

    Runs after ``empty_flags``: when the stage set ``result_empty`` itself, that
    issue already says it, so the finding is not counted twice.
    """
    if any(issue.kind == "result_newly_empty" for issue in f.issues):
        return
    result_b, result_c = b.output.get("result"), c.output.get("result")
    before = result_size(result_b, cfg.result_keys)
    if not before:  # the baseline found nothing either, or its result has none of the keys
        return
    after = result_size(result_c, cfg.result_keys)
    if after:  # None (the keys are gone) counts as empty, as 0 does
        return
    keys = [k for k in cfg.result_keys if isinstance(result_b, dict) and isinstance(result_b.get(k), list | dict)]
    pointer = f"/result/{escape(keys[0])}"
    f.add(pointer, "result_newly_empty", before, after or 0,
          f"result is newly empty: {', '.join(keys)} held {before} item(s), now none "
          f"(the stage did not set empty_flags.result_empty).", cfg.result_empty_penalty, critical=True)


def counts(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> dict[str, CountDelta]:
    """Penalise counts that moved by ≥ count_change_pct (capped) or fell to zero; missing keys count as 0."""
    deltas: dict[str, CountDelta] = {}
    budget = cfg.count_change_cap
    for key in sorted(set(b.counts) | set(c.counts)):
        before, after = b.counts.get(key, 0), c.counts.get(key, 0)
        deltas[key] = CountDelta(baseline=before, candidate=after, delta=after - before)
        if not _relative_change(before, after, cfg.count_change_pct):
            continue
        if f.within_noise(f"counts.{key}", after - before, alias=key):
            continue
        pointer = f"/diagnostics/counts/{escape(key)}"
        if after == 0:
            f.add(pointer, "count_to_zero", before, after, f"count {key!r} fell from {before} to 0.",
                  cfg.count_to_zero_penalty)
            continue
        charged, budget = _charge(cfg.count_change_penalty, budget)
        f.add(pointer, "count_changed", before, after, f"count {key!r} changed from {before} to {after}.", charged)
    return deltas


def references(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> None:
    before, after = b.references_count, c.references_count
    if not _relative_change(before, after, cfg.references_change_pct):
        return
    if f.within_noise("references_count", after - before, alias="references"):
        return
    if after == 0:
        f.add("/references", "references_to_zero", before, after,
              f"references fell from {before} to 0.", cfg.references_to_zero_penalty)
    else:
        f.add("/references", "references_changed", before, after,
              f"references changed from {before} to {after}.", cfg.references_change_penalty)


def duration(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> DurationDelta:
    """Penalise a slowdown only when it is large both relatively and absolutely, so fast-stage jitter never counts."""
    return slowdown(f, b.duration_ms, c.duration_ms, cfg)


def slowdown(f: Findings, before: int, after: int, cfg: ScoringConfig, *, metric: str = "duration_ms",
             pointer: str = "/duration_ms", kind: str = "duration_slower", what: str = "took") -> DurationDelta:
    """The duration rule for any pair of millisecond totals (a stage's, or a trace's with retries)."""
    delta = after - before
    pct = None if before == 0 else round(100.0 * delta / before, 2)
    result = DurationDelta(baseline=before, candidate=after, delta_ms=delta, delta_pct=pct)
    significant = abs(delta) >= cfg.duration_min_ms and (pct is None or abs(pct) >= cfg.duration_min_pct)
    if not significant or delta == 0:
        return result
    if delta < 0:
        f.improvements.append(f"faster by {-delta} ms" if what == "took" else f"{what} faster by {-delta} ms")
        return result
    if f.within_noise(metric, delta):
        return result
    severe = pct is None or pct >= cfg.duration_severe_pct
    shown = "from 0 ms" if pct is None else f"{pct:+g}%"
    f.add(pointer, kind, before, after, f"{what} {after} ms instead of {before} ms (+{delta} ms, {shown}).",
          cfg.duration_severe_penalty if severe else cfg.duration_penalty)
    return result


def usage(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> None:
    """A changed model, and tokens or cost that rose past both their thresholds; falls are improvements.

    Tokens and cost usually rise together (same model, same price per token),
    so the stage is charged the larger of the two penalties, not their sum: the
    cost issue carries only what it adds to the token issue's. A cost is
    compared only when both sides know it (``StageSnapshot.cost_known``) and
    one of them is above 0.
    """
    if b.model and c.model and b.model != c.model:
        f.add(f"{USAGE_POINTER}/model", "model_changed", b.model, c.model,
              f"model changed from {b.model!r} to {c.model!r}.", cfg.model_change_penalty)
    tokens_charged = 0
    rise = _rise(f, "tokens", b.tokens, c.tokens, cfg.tokens_change_pct, cfg.tokens_min, _tokens_text)
    if rise is not None:
        tokens_charged = cfg.tokens_severe_penalty if rise.severe(cfg.tokens_severe_pct) else cfg.tokens_penalty
        f.add(USAGE_POINTER, "tokens_increased", b.tokens, c.tokens,
              f"used {c.tokens:,} tokens instead of {b.tokens:,} ({rise.text(_tokens_text)}; input "
              f"{b.input_tokens:,} → {c.input_tokens:,}, output {b.output_tokens:,} → {c.output_tokens:,}).",
              tokens_charged)
    if not (b.cost_known and c.cost_known and (b.cost or c.cost)):
        return
    rise = _rise(f, "cost", b.cost, c.cost, cfg.cost_change_pct, cfg.cost_min, _cost_text)
    if rise is not None:
        penalty = cfg.cost_severe_penalty if rise.severe(cfg.cost_severe_pct) else cfg.cost_penalty
        charged = max(0, penalty - tokens_charged)
        shared = f"; tokens_increased already charges {tokens_charged}, this adds {charged}" if tokens_charged else ""
        f.add(f"{USAGE_POINTER}/cost", "cost_increased", b.cost, c.cost,
              f"cost {_cost_text(c.cost)} instead of {_cost_text(b.cost)} ({rise.text(_cost_text)}{shared}).",
              charged)


@dataclass(frozen=True)
class _Rise:
    delta: float
    pct: float | None  # None from 0, where a relative change is undefined (treated as severe)

    def severe(self, severe_pct: float) -> bool:
        return self.pct is None or self.pct >= severe_pct

    def text(self, amount: Callable[[float], str]) -> str:
        return f"+{amount(self.delta)}, {'from 0' if self.pct is None else f'{self.pct:+g}%'}"


def _rise(f: Findings, metric: str, before: float, after: float, change_pct: float, minimum: float,
          amount: Callable[[float], str]) -> _Rise | None:
    """The rise to charge: ≥ ``change_pct`` % and ≥ ``minimum``, outside the baseline's noise; a fall past both is noted."""
    delta = round(after - before, COST_DIGITS)
    pct = None if before == 0 else round(100.0 * delta / before, 2)
    if delta == 0 or abs(delta) < minimum or (pct is not None and abs(pct) < change_pct):
        return None
    if delta < 0:
        f.improvements.append(f"{metric} fell from {amount(before)} to {amount(after)} ({pct:+g}%)")
        return None
    if f.within_noise(metric, delta):
        return None
    return _Rise(delta=delta, pct=pct)


def _tokens_text(tokens: float) -> str:
    return f"{int(tokens):,}"


def _cost_text(cost: float) -> str:
    return cost_text(cost) if cost else "0"


def plan(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> None:
    """route_plan only: a different plan kind or intent means a different answer path."""
    kind_b, kind_c = plan_kind(b.output), plan_kind(c.output)
    if kind_b != kind_c:
        f.add("/result/kind", "plan_kind_changed", kind_b, kind_c,
              f"plan kind changed from {kind_b!r} to {kind_c!r}.", cfg.plan_kind_penalty, critical=True)
    (ptr_b, intent_b), (ptr_c, intent_c) = plan_intent(b.output), plan_intent(c.output)
    if intent_b != intent_c:
        f.add(ptr_c or ptr_b, "plan_intent_changed", intent_b, intent_c,
              f"plan intent changed from {intent_b!r} to {intent_c!r}.", cfg.plan_intent_penalty, critical=True)


def structure(f: Findings, b: StageSnapshot, c: StageSnapshot, cfg: ScoringConfig) -> dict[str, list[Any]]:
    """One issue per added/removed/changed pointer, penalised up to the cap; pointers other rules own are skipped.

    Other rules own the pointers of their issues and everything under ``USAGE_POINTER``.
    """
    diff = stage_output_diff(b.output, c.output, cfg.diff_options(), max_operations=None)
    owned = {issue.pointer for issue in f.issues}
    entries = [(_ISSUE_KIND[op["op"]], op["path"], op.get("before"), op.get("after")) for op in diff["operations"]
               if op["path"] not in owned and not _under(op["path"], USAGE_POINTER)]
    budget = cfg.structural_change_cap
    for kind, pointer, old, new in entries[: cfg.max_structural_issues]:
        charged, budget = _charge(cfg.structural_change_penalty, budget)
        f.add(pointer, kind, old, new, _structure_sentence(kind, pointer, old, new), charged)
    hidden = entries[cfg.max_structural_issues :]
    if hidden:
        # One summary issue keeps the stage score equal to the sum of its issues.
        charged, budget = _charge(cfg.structural_change_penalty * len(hidden), budget)
        pointer = _common_pointer([entry[1] for entry in hidden])
        f.add(pointer, "output_changes_more", None, None,
              f"{len(hidden)} further output changes under {pointer or 'the root'} (see the diff).", charged)
    for cut in diff["truncated"]:
        # Each differing item the diff only counted is at least one change.
        unlisted = cut["differing_items"] - cut["listed_items"]
        charged, budget = _charge(cfg.structural_change_penalty * unlisted, budget)
        pointer = cut["pointer"]
        f.add(pointer, "output_diff_truncated", None, None,
              f"diff truncated: {cut['differing_items']} of the {cut['positions']} entries of {pointer or 'the root'} "
              f"differ; the first {cut['listed_items']} are itemised, the other {unlisted} only counted.", charged)
    paths = {op: [o["path"] for o in diff["operations"] if o["op"] == op] for op in _ISSUE_KIND}
    return {"added": paths["add"], "removed": paths["remove"], "changed": paths["replace"],
            "truncated": diff["truncated"]}


def _structure_sentence(kind: str, pointer: str, old: Any, new: Any) -> str:
    if kind == "output_added":
        return f"output gained {pointer} = {_short(new)}."
    if kind == "output_removed":
        return f"output lost {pointer} (was {_short(old)})."
    return f"output {pointer} changed from {_short(old)} to {_short(new)}."


def _under(pointer: str, prefix: str) -> bool:
    return pointer == prefix or pointer.startswith(prefix + "/")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _common_pointer(pointers: list[str]) -> str:
    split = [p.split("/")[1:] for p in pointers]
    common: list[str] = []
    for tokens in zip(*split):
        if len(set(tokens)) != 1:
            break
        common.append(tokens[0])
    return "".join(f"/{token}" for token in common)


def plan_kind(output: dict[str, Any]) -> str:
    return str((output.get("result") or {}).get("kind") or "")


def plan_intent(output: dict[str, Any]) -> tuple[str, str]:
    """(pointer, intent): ``result.intent`` first, else ``result.plan.intent``; ("", "") when absent."""
    result = output.get("result") or {}
    if result.get("intent"):
        return "/result/intent", str(result["intent"])
    nested = (result.get("plan") or {}).get("intent") if isinstance(result.get("plan"), dict) else None
    return ("/result/plan/intent", str(nested)) if nested else ("", "")


def _charge(penalty: int, budget: int) -> tuple[int, int]:
    """(what this issue costs, budget left): issues past a rule's cap are still listed, at 0."""
    charged = min(penalty, budget)
    return charged, budget - charged


def _relative_change(before: int, after: int, pct: float) -> bool:
    if before == after:
        return False
    if before == 0:
        return True
    return 100.0 * abs(after - before) / before >= pct
