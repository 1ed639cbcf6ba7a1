"""Seed the demo: reference assets, ~200 real pipeline runs over the last week, assistant traces, golden queries."""

from django.core.management.base import BaseCommand

from reference.demo import SWITCH_AT, TOTAL, DemoData, demo_data_count, seed_demo_traces


def _counted(number: int, singular: str, plural: str = "") -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def demo_summary(*, before: DemoData, after: DemoData) -> str:
    """One line: what the demo database holds now, and how much of it this run added."""
    kinds = [(after.pipeline_runs, "pipeline run"), (after.test_mode_reruns, "test-mode re-run"),
             (after.golden_query_runs, "golden-query run"), (after.assistant_traces, "assistant trace")]
    parts = ", ".join(_counted(number, name) for number, name in kinds if number)
    held = _counted(after.traces, "trace") + (f" ({parts})" if parts else "")
    if after.golden_queries:
        held += f", {_counted(after.golden_queries, 'golden query', 'golden queries')}"
    added = after.traces - before.traces
    if added == 0 and after.traces:
        return f"Demo data already in place, nothing added: {held}."
    if added == after.traces:
        return f"Demo data ready: {held}."
    return f"Demo data ready: {held}; {_counted(added, 'trace')} added now."


class Command(BaseCommand):
    help = ("Create the reference assets, run ~200 demo questions through the pipeline and add assistant traces "
            "and golden queries (idempotent: a second run adds only what is missing).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, default=TOTAL,
                            help=f"Pipeline runs (default {TOTAL}); below {SWITCH_AT} the version-2 assets, test-mode "
                                 "re-runs, golden queries and assistant traces are left out.")

    def handle(self, *args, count: int, **options) -> None:
        before = demo_data_count()
        seed_demo_traces(total=count)
        self.stdout.write(self.style.SUCCESS(demo_summary(before=before, after=demo_data_count())))
