from django.apps import AppConfig


class ControlLoopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "controlloop"
    verbose_name = "Control loop"

    def ready(self) -> None:
        from controlloop.retention import replan_rows_of
        from controlloop.trace_panel import replan_panel_rows
        from inspector import retention_hooks, trace_panels

        trace_panels.register(trace_panels.REPLAN_DECISIONS, replan_panel_rows)
        retention_hooks.register_dependents("controlloop", replan_rows_of)
