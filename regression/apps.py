from django.apps import AppConfig


class RegressionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "regression"

    def ready(self) -> None:
        from inspector.signals import asset_version_published
        from regression.receivers import create_golden_runs_on_publish

        asset_version_published.connect(create_golden_runs_on_publish, dispatch_uid="regression-golden-on-publish")
