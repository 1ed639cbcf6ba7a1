from django.apps import AppConfig


class InspectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inspector"
    verbose_name = "Inspector: traces and assets"

    def ready(self) -> None:
        from inspector import receivers  # noqa: F401  (connects them)
