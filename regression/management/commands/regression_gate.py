"""CI gate: run golden queries and suites now, print a table, write JUnit XML, exit non-zero on the chosen verdict.

    python manage.py regression_gate [--golden all|NAME ...] [--suite NAME ...] [--override type=name@version ...]
                                     [--junit FILE] [--fail-on FAIL|WARN]

Without ``--suite`` it runs golden queries (all enabled ones by default); with
``--suite`` only the suites, plus golden queries when ``--golden`` is given
too. JUnit XML: golden queries alone keep their one ``<testsuite>``; with
suites the root is ``<testsuites>``, one ``<testsuite>`` per suite holding one
testcase per item.
"""

from __future__ import annotations

import contextlib
from xml.etree import ElementTree as ET

from django.core.management.base import BaseCommand, CommandError

from inspector.pipeline.resolution import overrides_from_args
from kernel.errors import ServiceError
from regression.models import GoldenQuery, RegressionRun
from regression.services import golden_query_run, regression_run_execute
from regression.services.suites import ItemReport, suite_run_execute, suite_run_report, suite_run_request
from regression.suite_models import GoldenSuite, SuiteRun

RANK = {"PASS": 0, "WARN": 1, "FAIL": 2}


class Command(BaseCommand):
    help = "Run golden queries and suites now and fail the build on regressions."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--golden", nargs="+", default=None,
                            help="'all' (the default without --suite) or golden query names")
        parser.add_argument("--suite", nargs="+", default=[], help="golden suite names (each item × its repeats)")
        parser.add_argument("--override", action="append", default=[], help="type=name@version (test mode)")
        parser.add_argument("--junit", default="", help="write JUnit XML to this file")
        parser.add_argument("--fail-on", choices=["FAIL", "WARN"], default="FAIL")

    def handle(self, *args, golden, suite, override, junit, fail_on, **options) -> None:
        if golden is None and not suite:
            golden = ["all"]
        queries = self._queries(golden) if golden else []
        suites = self._suites(suite)
        try:
            overrides = overrides_from_args(override)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
        results = self._run_golden(queries, overrides)
        suite_results = [(item, self._run_suite(item, overrides)) for item in suites]
        if queries:
            self._print(results)
        for item, (run, reports) in suite_results:
            self._print_suite(item, run, reports)
        if junit:
            if suites:
                self._junit_with_suites(results if queries else None, suite_results, junit, fail_on)
            else:
                self._junit(results, junit, fail_on)
        failing = [r for r in results if RANK[r[2]] >= RANK[fail_on]]
        failing_items = [r for _, (_, reports) in suite_results for r in reports if RANK[r.verdict] >= RANK[fail_on]]
        if failing or failing_items:
            parts = []
            if failing:
                parts.append(f"{len(failing)} golden quer{'y' if len(failing) == 1 else 'ies'}")
            if failing_items:
                parts.append(f"{len(failing_items)} suite item{'' if len(failing_items) == 1 else 's'}")
            raise CommandError(f"{' and '.join(parts)} at or above {fail_on}")

    def _run_golden(self, queries: list[GoldenQuery], overrides: dict[str, str]) -> list[tuple]:
        results = []
        for query in queries:
            try:
                run = golden_query_run(golden_query=query, overrides=overrides, enqueue=False)
                run = regression_run_execute(run_id=run.pk) or run
            except ServiceError as exc:
                raise CommandError(f"{query.name}: {exc.message}") from exc
            except Exception as exc:  # noqa: BLE001 — a broken run is a failed gate, reported per query
                run = RegressionRun.objects.filter(golden_query=query).order_by("-created_at").first()
                results.append((query, run, "FAIL", None, f"run failed: {exc}"))
                continue
            analysis = run.analysis
            issues = "; ".join(i["message"] for i in (analysis.critical_issues or [])[:3]) if analysis else ""
            results.append((query, run, analysis.verdict if analysis else "FAIL", analysis.score if analysis else None,
                            issues or (run.error_message if not analysis else "")))
        return results

    def _run_suite(self, suite: GoldenSuite, overrides: dict[str, str]) -> tuple[SuiteRun | None, list[ItemReport]]:
        """Run the suite in-process; a broken run reports every item it did not finish as FAIL."""
        try:
            run = suite_run_request(suite=suite, trigger=SuiteRun.Trigger.GATE, overrides=overrides, enqueue=False)
        except ServiceError as exc:
            raise CommandError(f"suite {suite.name}: {exc.message}") from exc
        # A failure is recorded on the run (claim.fail) and reported per item below.
        with contextlib.suppress(Exception):
            suite_run_execute(run_id=run.pk)
        run.refresh_from_db()
        return run, suite_run_report(run)

    def _suites(self, names: list[str]) -> list[GoldenSuite]:
        if not names:
            return []
        suites = list(GoldenSuite.objects.filter(name__in=names).order_by("name"))
        missing = sorted(set(names) - {s.name for s in suites})
        if missing:
            raise CommandError(f"unknown suite{'' if len(missing) == 1 else 's'}: {', '.join(missing)}")
        ambiguous = sorted({s.name for s in suites if sum(1 for o in suites if o.name == s.name) > 1})
        if ambiguous:
            raise CommandError(f"suite name(s) used by more than one tenant: {', '.join(ambiguous)}")
        return suites

    def _print_suite(self, suite: GoldenSuite, run: SuiteRun, reports: list[ItemReport]) -> None:
        self.stdout.write(f"\nsuite {suite.name}: {run.verdict or 'FAIL'} (score {_shown(run.score)}, "
                          f"run {run.pk}, {run.status}){': ' + run.error_message if run.error_message else ''}")
        self.stdout.write(f"{'item':<28} {'verdict':<7} {'score':>5}  {'pass^k':<6} {'passes':>7}  issues")
        for report in reports:
            self.stdout.write(f"{report.name:<28} {report.verdict:<7} {_shown(report.score):>5}  "
                              f"{'yes' if report.pass_all else 'no':<6} {f'{report.passes}/{report.repeats}':>7}  "
                              f"{'; '.join(report.problems[:3])}")

    def _junit_with_suites(self, golden_results, suite_results, path: str, fail_on: str) -> None:
        root = ET.Element("testsuites", name="regression_gate")
        if golden_results is not None:
            root.append(self._golden_element(golden_results, fail_on))
        for suite, (_run, reports) in suite_results:
            failures = sum(1 for r in reports if RANK[r.verdict] >= RANK[fail_on])
            element = ET.SubElement(root, "testsuite", name=f"suite:{suite.name}", tests=str(len(reports)),
                                    failures=str(failures))
            for report in reports:
                case = ET.SubElement(element, "testcase", classname=f"suites.{suite.name}", name=report.name)
                # No run or trace ids here: the same input gives the same file (they are in the printed table).
                ET.SubElement(case, "system-out").text = (
                    f"verdict={report.verdict} score={_shown(report.score)} pass_all={str(report.pass_all).lower()} "
                    f"passes={report.passes}/{report.repeats}")
                if RANK[report.verdict] >= RANK[fail_on]:
                    ET.SubElement(case, "failure", message=f"{report.verdict} (score {_shown(report.score)}, "
                                  f"{report.passes}/{report.repeats} repeats passed)").text = "\n".join(report.problems)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)

    def _queries(self, names: list[str]) -> list[GoldenQuery]:
        enabled = GoldenQuery.objects.filter(enabled=True)
        if names == ["all"]:
            queries = list(enabled.order_by("name"))
        else:
            queries = list(GoldenQuery.objects.filter(name__in=names).order_by("name"))
            missing = sorted(set(names) - {q.name for q in queries})
            if missing:
                raise CommandError(f"unknown golden quer{'y' if len(missing) == 1 else 'ies'}: {', '.join(missing)}")
        if not queries:
            raise CommandError("no golden queries to run")
        return queries

    def _print(self, results) -> None:
        self.stdout.write(f"{'golden query':<28} {'verdict':<7} {'score':>5}  candidate trace / issues")
        for query, run, verdict, score, detail in results:
            candidate = _candidate(run)
            self.stdout.write(f"{query.name:<28} {verdict:<7} {'' if score is None else score:>5}  {candidate}  {detail}")

    def _junit(self, results, path: str, fail_on: str) -> None:
        ET.ElementTree(self._golden_element(results, fail_on)).write(path, encoding="utf-8", xml_declaration=True)

    def _golden_element(self, results, fail_on: str) -> ET.Element:
        failures = sum(1 for r in results if RANK[r[2]] >= RANK[fail_on])
        suite = ET.Element("testsuite", name="regression_gate", tests=str(len(results)), failures=str(failures))
        for query, _run, verdict, score, detail in results:
            case = ET.SubElement(suite, "testcase", classname="golden_queries", name=query.name)
            # No run or trace ids here: the same input gives the same file (they are in the printed table).
            ET.SubElement(case, "system-out").text = f"verdict={verdict} score={_shown(score)}"
            if RANK[verdict] >= RANK[fail_on]:
                ET.SubElement(case, "failure", message=f"{verdict} (score {score})").text = detail
        return suite


def _candidate(run: RegressionRun | None) -> str:
    return run.candidate_trace.trace_id if run and run.candidate_trace_id else "-"


def _shown(score: int | None) -> str:
    return "" if score is None else str(score)
