"""Admin by subject: traces (and the trace page views) in ``traces``, assets in ``assets``."""

from inspector.admin import assets, traces  # noqa: F401 — registers the ModelAdmins
