from django.apps import AppConfig


class RegressionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "regression"
    verbose_name = "Regression testing"

    def ready(self) -> None:
        from inspector import retention_hooks, trace_panels
        from inspector.signals import asset_version_published
        from regression.receivers import create_golden_runs_on_publish
        from regression.retention import traces_referenced
        from regression.selectors import latest_pair_analysis

        trace_panels.register(trace_panels.LATEST_ANALYSIS, latest_pair_analysis)
        retention_hooks.register_keeper("regression", traces_referenced)
        asset_version_published.connect(create_golden_runs_on_publish, dispatch_uid="regression-golden-on-publish")
