"""Seed the demo: reference assets and ~200 real pipeline runs over the last week."""

from django.core.management.base import BaseCommand

from inspector.models import Trace
from reference.demo import seed_demo_traces


class Command(BaseCommand):
    help = "Create the reference assets and run ~200 demo questions through the pipeline (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--count", type=int, default=200)

    def handle(self, *args, count: int, **options) -> None:
        created = seed_demo_traces(total=count)
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {created} new traces, {Trace.objects.count()} in all."))
