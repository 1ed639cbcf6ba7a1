from django.apps import AppConfig


class InspectorConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inspector"

    def ready(self) -> None:
        from inspector import receivers  # noqa: F401  (connects them)
