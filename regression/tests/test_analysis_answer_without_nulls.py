"""An analysis answer carries no null: an issue's missing side is left out, in new and in stored analyses."""

import pytest

from regression.engine import Issue
from regression.models import RegressionAnalysis, WorkStatus
from testkit.factories import UserFactory
from testkit.plugin import client_for, grant

pytestmark = pytest.mark.django_db

# As analyses stored before issue 19 hold them: sides as null, no diff.truncated, no noise_ignored.
STORED_ISSUE = {"stage": "execute", "pointer": "/result/extra", "kind": "output_added", "baseline": None,
                "candidate": {"rows": 3}, "message": "execute: output gained /result/extra.", "penalty": 2,
                "critical": False}
STORED_MISSING = {"stage": "present", "pointer": "", "kind": "stage_missing", "baseline": "ok", "candidate": None,
                  "message": "present: stage ran in the baseline but is missing from the candidate.",
                  "penalty": 100, "critical": True}


@pytest.fixture
def reader(db):
    return client_for(grant(UserFactory(), "regression.view_regressionanalysis"))


def test_an_issue_without_a_side_dumps_without_it():
    added = Issue(stage="execute", pointer="/result/extra", kind="output_added", candidate=1, message="m")
    missing = Issue(stage="present", kind="stage_missing", baseline="ok", message="m")

    assert "baseline" not in added.model_dump(mode="json") and added.model_dump()["candidate"] == 1
    assert "candidate" not in missing.model_dump(mode="json") and missing.model_dump()["baseline"] == "ok"
    assert Issue.model_validate(STORED_ISSUE).model_dump(mode="json") == {
        key: value for key, value in STORED_ISSUE.items() if key != "baseline"}


def test_a_stored_analysis_from_before_reads_without_nulls(reader):
    # Given an analysis stored with null sides and without the keys added since
    stage = {"stage": "execute", "presence": "both", "score": 2, "issues": [STORED_ISSUE],
             "duration": {"baseline": 0, "candidate": 12, "delta_ms": 12, "delta_pct": None},
             "counts": {"rows": {"baseline": 1, "candidate": 1, "delta": 0}},
             "diff": {"added": ["/result/extra"], "removed": [], "changed": []}}
    analysis = RegressionAnalysis.objects.create(
        kind="pair", tenant_id="default", status=WorkStatus.COMPLETED, score=100, verdict="FAIL", baseline_trace_ids=["b"],
        candidate_trace_ids=["c"], stage_results=[stage], critical_issues=[STORED_MISSING])

    # when it is read
    response = reader.get(f"/inspector/regression/{analysis.pk}")

    # then the missing sides are left out and the new keys have their defaults
    assert response.status_code == 200, response.json()
    data = response.json()
    [result] = data["stage_results"]
    assert result["issues"] == [{key: value for key, value in STORED_ISSUE.items() if key != "baseline"}]
    assert data["critical_issues"] == [{key: value for key, value in STORED_MISSING.items() if key != "candidate"}]
    assert result["diff"]["truncated"] == [] and result["noise_ignored"] == [] and result["improvements"] == []
    assert "null" not in response.content.decode()


def test_a_pending_analysis_leaves_out_what_it_has_not_yet(reader):
    analysis = RegressionAnalysis.objects.create(kind="pair", tenant_id="default", baseline_trace_ids=["b"],
                                                 candidate_trace_ids=["c"])

    data = reader.get(f"/inspector/regression/{analysis.pk}").json()

    assert data["status"] == "pending" and data["stage_results"] == [] and data["statistics"] == {}
    assert not {"score", "started_at", "finished_at"} & set(data)
