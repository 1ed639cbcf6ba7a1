"""Per-stage verdicts of a suite item's analysis: the analysis's thresholds, critical issues, significant regressions."""

from regression.models import RegressionAnalysis
from regression.suite_selectors import stage_verdicts


def _analysis(stage_results, options=None, regressions=()) -> RegressionAnalysis:
    return RegressionAnalysis(stage_results=stage_results, options=options or {},
                              statistics={"regressions": list(regressions)} if regressions else {})


def test_each_stage_gets_the_verdict_its_score_earns_by_the_default_thresholds():
    analysis = _analysis([{"stage": "execute", "score": 50}, {"stage": "route_plan", "score": 0},
                          {"stage": "compose", "score": 20}, {"stage": "validate", "score": 19}])

    assert stage_verdicts(analysis) == [
        {"stage": "route_plan", "verdict": "PASS", "score": 0},
        {"stage": "validate", "verdict": "PASS", "score": 19},
        {"stage": "execute", "verdict": "FAIL", "score": 50},
        {"stage": "compose", "verdict": "WARN", "score": 20},
    ]


def test_the_analysis_options_set_the_thresholds():
    analysis = _analysis([{"stage": "execute", "score": 10}, {"stage": "compose", "score": 30}],
                         options={"warn_at": 5, "fail_at": 30})

    assert [row["verdict"] for row in stage_verdicts(analysis)] == ["WARN", "FAIL"]


def test_a_critical_issue_fails_its_stage_and_a_significant_regression_warns_it():
    analysis = _analysis([{"stage": "execute", "score": 0, "issues": [{"critical": True}]},
                          {"stage": "compose", "score": 0, "issues": [{"critical": False}]},
                          {"stage": "present", "score": 0}],
                         regressions=["compose duration_ms"])

    assert [row["verdict"] for row in stage_verdicts(analysis)] == ["FAIL", "WARN", "PASS"]


def test_a_whole_trace_row_comes_after_the_stages_and_nothing_without_results():
    analysis = _analysis([{"stage": "trace", "score": 25}, {"stage": "present", "score": 0}])

    assert [(row["stage"], row["verdict"]) for row in stage_verdicts(analysis)] == [("present", "PASS"),
                                                                                   ("trace", "WARN")]
    assert stage_verdicts(None) == [] and stage_verdicts(_analysis([])) == []
