"""CI gate: run golden queries now, print a table, write JUnit XML, exit non-zero on the chosen verdict.

    python manage.py regression_gate [--golden all|NAME ...] [--override type=name@version ...]
                                     [--junit FILE] [--fail-on FAIL|WARN]
"""

from __future__ import annotations

from xml.etree import ElementTree as ET

from django.core.management.base import BaseCommand, CommandError

from inspector.pipeline.resolution import overrides_from_args
from kernel.errors import ServiceError
from regression.models import GoldenQuery, RegressionRun
from regression.services import golden_query_run, regression_run_execute

RANK = {"PASS": 0, "WARN": 1, "FAIL": 2}


class Command(BaseCommand):
    help = "Run golden queries now and fail the build on regressions."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--golden", nargs="+", default=["all"], help="'all' or golden query names")
        parser.add_argument("--override", action="append", default=[], help="type=name@version (test mode)")
        parser.add_argument("--junit", default="", help="write JUnit XML to this file")
        parser.add_argument("--fail-on", choices=["FAIL", "WARN"], default="FAIL")

    def handle(self, *args, golden, override, junit, fail_on, **options) -> None:
        queries = self._queries(golden)
        try:
            overrides = overrides_from_args(override)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
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
        self._print(results)
        if junit:
            self._junit(results, junit, fail_on)
        failing = [r for r in results if RANK[r[2]] >= RANK[fail_on]]
        if failing:
            raise CommandError(f"{len(failing)} golden quer{'y' if len(failing) == 1 else 'ies'} at or above {fail_on}")

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
        failures = sum(1 for r in results if RANK[r[2]] >= RANK[fail_on])
        suite = ET.Element("testsuite", name="regression_gate", tests=str(len(results)), failures=str(failures))
        for query, run, verdict, score, detail in results:
            case = ET.SubElement(suite, "testcase", classname="golden_queries", name=query.name)
            ET.SubElement(case, "system-out").text = (
                f"verdict={verdict} score={score} candidate={_candidate(run)}")
            if RANK[verdict] >= RANK[fail_on]:
                ET.SubElement(case, "failure", message=f"{verdict} (score {score})").text = detail
        ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _candidate(run: RegressionRun | None) -> str:
    return run.candidate_trace.trace_id if run and run.candidate_trace_id else "-"
