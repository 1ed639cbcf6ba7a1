"""Signal receivers of the inspector app (its own signals are in ``inspector.signals``).

Traces are deleted in bulk by retention (raw deletes that mark their own days
dirty); any other delete (the admin's) goes through Django's collector and
lands here, so the trace's roll-up day is read live until rolled again.
"""

from __future__ import annotations

from datetime import UTC

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from inspector.models import Trace
from inspector.services.rollups import days_dirty


@receiver(post_delete, sender=Trace, dispatch_uid="inspector.trace_deleted_rollup_dirty")
def trace_deleted(sender, instance: Trace, **kwargs) -> None:
    if instance.started_at is not None:
        day = instance.started_at.astimezone(UTC).date()
        transaction.on_commit(lambda: days_dirty([day]))
