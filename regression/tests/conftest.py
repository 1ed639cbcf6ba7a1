import pytest


@pytest.fixture
def run_on_commit_now(monkeypatch):
    """Run on-commit callbacks at once: the test transaction never commits, and work is enqueued after commit."""
    from django.db import transaction

    monkeypatch.setattr(transaction, "on_commit", lambda func, using=None, robust=False: func())
