"""POST /ops/ask with reply_to: the answer to an ask_user card continues the asked trace's session."""

from __future__ import annotations

import pytest

from inspector.contracts import ExecutionContext
from inspector.models import Trace
from inspector.pipeline.replies import ask_user_card
from inspector.pipeline.runner import pipeline_run
from inspector.selectors import stage_run_with_payload, trace_compare
from inspector.services import trace_ingest
from testkit.factories import UserFactory, stage_body, trace_body
from testkit.plugin import client_for, grant

pytestmark = pytest.mark.usefixtures("reference_assets")
ASK = "/ops/ask"
VAGUE = "What is it?"  # slot_missing: the control loop asks the user to name the system


def ui_model(trace_id: str) -> dict:
    return stage_run_with_payload(trace_id=trace_id, stage="present").payload.output["result"]["ui_model"]


@pytest.fixture
def asked(runner_only_client) -> dict:
    response = runner_only_client.post(ASK, {"question": VAGUE}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def asked_body(trace_id: str = "ext-asked") -> dict:
    """An ingested trace (no session) whose present output asks the user, as an external pipeline sends it."""
    card = {"kind": "ask_user", "message": "which system?", "trigger": "slot_missing", "reply_to": trace_id}
    present = stage_body("present", ui_model={"title": VAGUE, "answer": "I need more information.",
                                              "action_card": card})
    body = trace_body(trace_id=trace_id, question=VAGUE, stages=("route_plan", "present"),
                      metadata={"replans": [{"decision": "ask_user", "approved": True}]})
    body["stages"][1] = present
    return body


def test_the_card_names_the_trace_to_reply_to(asked):
    card = ui_model(asked["trace_id"])["action_card"]
    assert card["kind"] == "ask_user" and card["reply_to"] == asked["trace_id"]


def test_the_cards_own_trace_id_is_no_change_between_two_runs(asked):
    again = pipeline_run(context=ExecutionContext(question=VAGUE))
    present = next(row for row in trace_compare(trace_id=again.trace_id, baseline_id=asked["trace_id"])["stages"]
                   if row["stage"] == "present")
    assert present["output_diff"]["operations"] == []


def test_the_answer_runs_in_the_asked_traces_session(runner_only_client, asked):
    response = runner_only_client.post(ASK, {"question": "checkout-api", "reply_to": asked["trace_id"]},
                                       format="json")

    assert response.status_code == 201, response.json()
    reply = response.json()
    assert reply["session_id"] == asked["trace_id"]  # the asked trace had none: the session is named after it
    assert Trace.objects.get(trace_id=asked["trace_id"]).session_id == asked["trace_id"]
    assert reply["question"] == "What is it? — checkout-api"
    assert reply["metadata"]["reply_to"] == asked["trace_id"] and reply["metadata"]["reply"] == "checkout-api"
    # The combined question names the system: routed as a plan, answered, nothing more to ask.
    assert reply["route"] == "plan" and "action_card" not in ui_model(reply["trace_id"])


def test_an_asked_trace_in_a_session_keeps_its_session(runner_only_client):
    first = runner_only_client.post(ASK, {"question": VAGUE, "session_id": "chat-7"}, format="json").json()
    assert first["session_id"] == "chat-7"

    reply = runner_only_client.post(ASK, {"question": "checkout-api", "reply_to": first["trace_id"],
                                          "session_id": "chat-7"}, format="json")

    assert reply.status_code == 201, reply.json()
    assert reply.json()["session_id"] == "chat-7"
    assert list(Trace.objects.filter(session_id="chat-7").order_by("started_at", "id")
                .values_list("trace_id", flat=True)) == [first["trace_id"], reply.json()["trace_id"]]


def test_a_session_id_alone_is_carried_by_the_new_trace(runner_only_client):
    response = runner_only_client.post(ASK, {"question": "What is checkout-api?", "session_id": "chat-9"},
                                       format="json")
    assert response.status_code == 201 and response.json()["session_id"] == "chat-9"
    assert "reply_to" not in response.json()["metadata"]


def test_setting_the_session_leaves_the_asked_traces_digest_so_a_resend_is_a_no_op(runner_only_client):
    body = asked_body()
    asked_trace, _ = trace_ingest(payload=body)
    digest = asked_trace.content_hash
    assert ask_user_card(asked_trace)["message"] == "which system?"

    response = runner_only_client.post(ASK, {"question": "checkout-api", "reply_to": "ext-asked"}, format="json")

    assert response.status_code == 201, response.json()
    stored = Trace.objects.get(trace_id="ext-asked")
    assert stored.session_id == "ext-asked" and stored.content_hash == digest
    again, created = trace_ingest(payload=body)
    assert not created and again.pk == stored.pk


@pytest.mark.parametrize(
    ("body", "status", "field", "message"),
    [
        ({"question": "checkout-api", "reply_to": "no-such-trace"}, 404, "reply_to", "not found"),
        ({"question": "checkout-api", "reply_to": "{plain}"}, 400, "reply_to", "did not ask the user anything"),
        ({"question": "checkout-api", "reply_to": "{asked}", "session_id": "other-chat"}, 400, "session_id",
         "is not the session of trace"),
        ({"question": "   ", "reply_to": "{asked}"}, 400, "question", "blank"),
        ({"question": "checkout-api", "reply_to": "{asked}", "session_id": "a b"}, 400, "session_id", "pattern"),
        ({"question": "checkout-api", "reply_to": "x" * 129}, 400, "reply_to", "128"),
        ({"question": "x" * 9_995, "reply_to": "{asked}"}, 400, "question", "exceed 10000"),
    ],
)
def test_a_bad_reply_is_refused_and_writes_nothing(runner_only_client, asked, body, status, field, message):
    plain = pipeline_run(context=ExecutionContext(question="What is checkout-api?"))
    body = {key: value.format(asked=asked["trace_id"], plain=plain.trace_id) if key == "reply_to" else value
            for key, value in body.items()}
    count = Trace.objects.count()

    response = runner_only_client.post(ASK, body, format="json")

    assert response.status_code == status, response.json()
    assert message in response.json()[field][0]
    assert Trace.objects.count() == count
    assert set(Trace.objects.values_list("session_id", flat=True)) == {""}


def test_replying_needs_the_run_pipeline_permission(viewer_client, asked):
    response = viewer_client.post(ASK, {"question": "checkout-api", "reply_to": asked["trace_id"]}, format="json")
    assert response.status_code == 403
    assert Trace.objects.count() == 1 and Trace.objects.get().session_id == ""


def test_another_tenants_trace_is_not_found(db):
    theirs = pipeline_run(context=ExecutionContext(question=VAGUE, tenant_id="globex"))
    acme = client_for(grant(UserFactory(tenants=["acme"]), "inspector.view_trace", "inspector.run_pipeline"))

    for tenant, status in (("acme", 404), ("globex", 403)):
        response = acme.post(ASK, {"question": "checkout-api", "reply_to": theirs.trace_id, "tenant_id": tenant},
                             format="json")
        assert response.status_code == status, (tenant, response.json())
    assert Trace.objects.count() == 1 and Trace.objects.get().session_id == ""
