"""Admin for traces, stage runs and assets (see ``registry``) and the trace page views."""

from inspector.admin import registry  # noqa: F401 — registers the ModelAdmins
