"""seed_demo says in one line what the demo database holds, with figures counted from it."""

from io import StringIO

import pytest
from django.core.management import call_command

from inspector.models import Trace
from reference.demo import DemoData, demo_data_count
from reference.management.commands.seed_demo import demo_summary


def _seed(count: int) -> str:
    out = StringIO()
    call_command("seed_demo", count=count, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_on_an_empty_database_says_what_it_made_in_one_line():
    assert _seed(3) == "Demo data ready: 3 traces (3 pipeline runs).\n"


@pytest.mark.django_db
def test_seed_demo_again_says_nothing_was_added():
    _seed(3)

    assert _seed(3) == "Demo data already in place, nothing added: 3 traces (3 pipeline runs).\n"


@pytest.mark.django_db
def test_seed_demo_with_a_larger_count_says_how_many_it_added():
    _seed(2)

    assert _seed(3) == "Demo data ready: 3 traces (3 pipeline runs); 1 trace added now.\n"


@pytest.mark.django_db
def test_the_counted_kinds_add_up_to_every_trace_the_full_seed_makes():
    # 110 is the smallest count that also publishes version 2 and adds re-runs, golden queries and assistant traces.
    line = _seed(110)

    data = demo_data_count()
    assert data.traces == Trace.objects.count()
    assert (data.pipeline_runs, data.test_mode_reruns, data.golden_query_runs, data.golden_queries) == (110, 3, 3, 3)
    assert data.assistant_traces > 0
    assert line == (f"Demo data ready: {data.traces} traces (110 pipeline runs, 3 test-mode re-runs, "
                    f"3 golden-query runs, {data.assistant_traces} assistant traces), 3 golden queries.\n")


def test_the_summary_names_only_the_kinds_present_and_counts_one_in_the_singular():
    before = DemoData(pipeline_runs=0, test_mode_reruns=0, golden_query_runs=0, assistant_traces=0, golden_queries=0)
    after = DemoData(pipeline_runs=1, test_mode_reruns=0, golden_query_runs=1, assistant_traces=0, golden_queries=1)

    assert demo_summary(before=before, after=after) == (
        "Demo data ready: 2 traces (1 pipeline run, 1 golden-query run), 1 golden query.")
