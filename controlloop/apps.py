from django.apps import AppConfig


class ControlLoopConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "controlloop"
