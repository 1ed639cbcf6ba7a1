from django.apps import AppConfig


class ControlLoopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "controlloop"

    def ready(self) -> None:
        from controlloop.retention import replan_rows_of
        from controlloop.selectors import replan_decisions_for_trace
        from inspector import retention_hooks, trace_panels

        trace_panels.register(trace_panels.REPLAN_DECISIONS, replan_decisions_for_trace)
        retention_hooks.register_dependents("controlloop", replan_rows_of)
