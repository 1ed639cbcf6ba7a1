"""Answering an ask_user card: the answer runs the pipeline again, in the asked trace's session.

When the control loop decides ``ask_user``, the run halts and ``present``
shows an action card ``{"kind": "ask_user", "message", "trigger",
"reply_to": <trace id>}``. The user's answer comes back as ``POST /ops/ask``
with ``reply_to`` (or the trace page's "Send answer" form) and becomes a new
run whose question is the asked question and the answer together
(``reply_question``), so the router sees both: "What is it?" answered with
"checkout-api" is routed as "What is it? — checkout-api". The new trace joins
the asked trace's session; an asked trace without one starts a session named
after itself.
"""

from __future__ import annotations

from typing import Any

from access.tenancy import EVERY_TENANT, TenantScope
from inspector.contracts import QUESTION_MAX, ExecutionContext
from inspector.models import StageRun, Trace
from inspector.pipeline.runner import pipeline_run
from inspector.selectors import trace_pick
from kernel.errors import InvalidInput, NotFound

ASK_USER = "ask_user"
REPLY_SEPARATOR = " — "


def reply_question(question: str, answer: str) -> str:
    """The question a reply runs: the asked question, then the answer (a second answer appends again)."""
    return f"{question.rstrip()}{REPLY_SEPARATOR}{answer.strip()}"


def trace_ended_asking(trace: Trace) -> bool:
    """Whether ``trace``'s run ended on an approved ask_user decision, read from its metadata (no query).

    The runner records every control-loop decision in ``metadata["replans"]``;
    a decision that ends the run is the last one. The trace page reads the
    present payload (``ask_user_card``) only for such traces.
    """
    replans = trace.metadata.get("replans") if isinstance(trace.metadata, dict) else None
    if not isinstance(replans, list) or not replans or not isinstance(replans[-1], dict):
        return False
    return replans[-1].get("decision") == ASK_USER and replans[-1].get("approved") is True


def ask_user_card(trace: Trace) -> dict[str, Any]:
    """The ask_user action card of ``trace``'s final ``present`` output, or ``{}`` when it asked nothing.

    Reads the payload of the latest present attempt (one query).
    """
    run = (StageRun.objects.filter(trace=trace, stage="present").select_related("payload")
           .order_by("-attempt").first())
    if run is None or not hasattr(run, "payload"):
        return {}
    result = run.payload.output.get("result")
    ui_model = result.get("ui_model") if isinstance(result, dict) else None
    card = ui_model.get("action_card") if isinstance(ui_model, dict) else None
    if not isinstance(card, dict) or card.get("kind") != ASK_USER:
        return {}
    return card


def pipeline_reply(
    *,
    context: ExecutionContext,
    reply_to: str,
    session_id: str = "",
    scope: TenantScope = EVERY_TENANT,
    drafts: TenantScope = EVERY_TENANT,
) -> Trace:
    """Run the pipeline on the answer (``context.question``) to trace ``reply_to``'s ask_user card.

    ``reply_to`` names a trace of ``context.tenant_id`` in ``scope``. The new
    trace gets the asked trace's session (``session_id``, when given, must be
    it) and ``metadata["reply_to"]`` / ``metadata["reply"]``; an asked trace
    without a session gets one named after its trace id (a one-row update of
    ``session_id``: its ``content_hash`` stays, as ingest leaves an empty
    session out of it, so re-sending its body stays a no-op).

    Raises ``TenantForbidden`` (403) for a tenant outside ``scope``,
    ``NotFound`` (404) for an unknown ``reply_to``, ``InvalidInput`` (400)
    when that trace asked nothing, the sessions disagree, the answer is blank
    or the question grows too long, and whatever ``pipeline_run`` raises; in
    every such case nothing is run or written.
    """
    scope.require(context.tenant_id)
    answer = context.question.strip()
    if not answer:
        raise InvalidInput("the answer must not be blank", field="question")
    asked = trace_pick(scope.filter(Trace.objects.only("id", "trace_id", "tenant_id", "session_id", "question")),
                       trace_id=reply_to, tenant=context.tenant_id)
    if asked is None:
        raise NotFound(f"trace {reply_to!r} not found", field="reply_to")
    if not ask_user_card(asked):
        raise InvalidInput(f"trace {reply_to!r} did not ask the user anything", field="reply_to")
    session = asked.session_id or asked.trace_id
    if session_id and session_id != session:
        raise InvalidInput(f"session_id {session_id!r} is not the session of trace {reply_to!r} ({session!r})",
                           field="session_id")
    question = reply_question(asked.question, answer)
    if len(question) > QUESTION_MAX:
        raise InvalidInput(f"the asked question and the answer together exceed {QUESTION_MAX} characters",
                           field="question")
    trace = pipeline_run(context=context.model_copy(update={"question": question}), session_id=session,
                         metadata={"reply_to": asked.trace_id, "reply": answer}, scope=scope, drafts=drafts)
    if not asked.session_id:
        # Conditional: a concurrent answer to the same card names the same session.
        Trace.objects.filter(pk=asked.pk, session_id="").update(session_id=session)
    return trace
