"""Beat's OTLP job: a task takes no data, it calls the service."""

from celery import shared_task

from otlp.services import otlp_sweep


@shared_task(name="otlp.tasks.sweep_buffered_spans")
def sweep_buffered_spans() -> dict[str, int]:
    outcome = otlp_sweep()
    return {"assembled": outcome.assembled, "deleted_spans": outcome.deleted_spans}
